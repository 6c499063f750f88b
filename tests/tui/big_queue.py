"""A long work queue made fast: encounters inserted in bulk straight into the Review queue
(no charges, so nothing to balance), a few of them with charges through the builders.

Dates of service repeat (ten encounters a day), so the queue order leans on the encounter
id for ties; the oldest date comes first. Returns the encounter ids in queue order.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core import clock, db
from claimdesk.core.models import Encounter, Patient, WorkQueue

from tests import builders as b

FIRST_DOS = dt.date(2025, 1, 1)


def fill_review(n: int, *, charged: int = 3) -> list[int]:
    """Put ``n`` active encounters on the Review queue (the last ``charged`` with a charge each)."""
    review = WorkQueue.get(WorkQueue.key == "review")
    prov = b.provider()
    with db.write_transaction():
        pats = [Patient.create(account_no=f"Q{i:04d}", last_name=f"Queue{i:04d}", first_name="Pat",
                               dob=dt.date(1980, 1, 1)) for i in range(10)]
    rows = [{"patient": pats[i % 10].id, "provider": prov.id, "dos": FIRST_DOS + dt.timedelta(days=(n - 1 - i) // 10),
             "claim_type": "medical", "queue": review.id, "created_at": clock.now()}
            for i in range(n - charged)]
    with db.write_transaction():
        for start in range(0, len(rows), 500):
            Encounter.insert_many(rows[start:start + 500]).execute()
    last_day = FIRST_DOS + dt.timedelta(days=n // 10 + 1)
    for i in range(charged):
        enc, _ = b.encounter(pats[i], [10_00 * (i + 1)], dos=last_day)
        Encounter.update(queue=review.id).where(Encounter.id == enc.id).execute()
    return [e.id for e in Encounter.select(Encounter.id).where(Encounter.queue == review.id)
            .order_by(Encounter.dos, Encounter.id)]
