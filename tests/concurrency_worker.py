"""Run in child processes by test_concurrency: one clerk drawing on a shared voucher."""

from __future__ import annotations


def draw_many(url: str, patient_id: int, voucher_id: int, attempts: int, clerk: str) -> dict:
    """Try ``attempts`` $1.00 credits on the voucher; count what posted and what was refused."""
    from claimdesk.core import db
    from claimdesk.core.context import as_user
    from claimdesk.core.errors import Refused
    from claimdesk.core.services import payments

    db.connect(url)
    posted = refused = 0
    with as_user(clerk):
        for _ in range(attempts):
            try:
                payments.post_credit({"patient_id": patient_id, "voucher_id": voucher_id, "amount": "1.00",
                                      "keep_unapplied": True})
                posted += 1
            except Refused:
                refused += 1
    db.close()
    return {"posted": posted, "refused": refused}
