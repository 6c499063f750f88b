"""The monthly statement run, set-based: the statements ``statements.generate`` would make.

Used by the demo's fast path (``fast=True``); ``fast=False`` calls the service once per
patient and tests compare the two.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from peewee import fn

from claimdesk.core import clock
from claimdesk.core.context import current_user
from claimdesk.core.demo.bulk import insert, insert_ids
from claimdesk.core.models import (
    Charge, ChargeSplit, Credit, Encounter, Posting, ServiceCode, Statement, StatementLine,
)
from claimdesk.core.services import aging, statements


def write_statements(run: list[tuple[int, bool, str]], *, patient_payer_id: int) -> None:
    """``statements.generate`` for many patients at once: the same statements and lines.

    ``run``: ``(patient id, final notice?, message)`` per statement; ``patient_payer_id``:
    the "Patient" payer (whose splits the patient owes).

    Per patient: the active statement is voided ("regenerated"); the new one lists the
    patient-responsibility balances on billable active encounters (oldest first), the
    payments received since the last statement, the aging buckets, and the amount due
    (patient balance less unapplied money, not below zero).
    """
    today, now, user, pseudo = clock.today(), clock.now(), current_user(), patient_payer_id
    labels: dict[tuple, str] = {}  # (payer id, method) -> the statement service's wording
    for i in range(0, len(run), 400):
        part = run[i:i + 400]
        pids = [p[0] for p in part]
        old: dict[int, tuple[int, dt.date]] = {}
        for sid, pid, gen in (Statement.select(Statement.id, Statement.patient, Statement.generated_on)
                              .where(Statement.patient.in_(pids) & (Statement.status == "active"))
                              .order_by(Statement.id).tuples()):
            old[pid] = (sid, gen)
        if old:
            Statement.update(status="void", voided_at=now, void_reason="regenerated").where(
                Statement.id.in_([v[0] for v in old.values()])).execute()
        charges: dict[int, list] = defaultdict(list)
        for row in (ChargeSplit.select(ChargeSplit.patient, Charge.encounter, Charge.id, Charge.dos,
                                       ServiceCode.code, ServiceCode.description, ChargeSplit.balance)
                    .join(Charge).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                    .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
                    .where(ChargeSplit.patient.in_(pids) & (ChargeSplit.payer == pseudo)
                           & (ChargeSplit.balance > 0) & Encounter.billable & (Encounter.status == "active"))
                    .order_by(Charge.dos, Charge.id).tuples()):
            charges[row[0]].append(row[1:])
        applied = dict(Posting.select(Posting.credit, fn.SUM(Posting.amount)).join(
            Credit, on=(Posting.credit == Credit.id)).where(
            Credit.patient.in_(pids) & (Posting.account == "UNAPPLIED")
            & Posting.credit_split.is_null(False)).group_by(Posting.credit).tuples())
        paid: dict[int, list] = defaultdict(list)
        for cid, pid, posted_on, payer_id, method in (
                Credit.select(Credit.id, Credit.patient, Credit.posted_on, Credit.payer, Credit.method)
                .where(Credit.patient.in_(pids)).order_by(Credit.posted_on, Credit.id).tuples()):
            since = old.get(pid, (None, None))[1]
            if (since is None or posted_on >= since) and applied.get(cid):
                if (payer_id, method) not in labels:
                    labels[payer_id, method] = statements._payment_label(Credit(payer=payer_id, method=method))[:120]
                paid[pid].append((posted_on, labels[payer_id, method], int(applied[cid])))
        due: dict[int, int] = defaultdict(int)
        for pid, account, payer_id, total in (
                Posting.select(Posting.patient, Posting.account, Posting.payer, fn.SUM(Posting.amount))
                .where(Posting.patient.in_(pids) & Posting.account.in_(["AR", "UNAPPLIED"]))
                .group_by(Posting.patient, Posting.account, Posting.payer).tuples()):
            if account == "UNAPPLIED" or payer_id == pseudo:
                due[pid] += int(total)  # patient AR, less unapplied money (a credit balance)
        ids = insert_ids(Statement, [{
            "patient": pid, "generated_on": today, "generated_at": now, "generated_by": user,
            "message": message, "final_notice": final, "amount_due": max(due[pid], 0)}
            for pid, final, message in part])
        lines = []
        for sid, (pid, _f, _m) in zip(ids, part):
            dated = []
            for enc_id, charge_id, dos, code, desc, bal in charges[pid]:
                lines.append({"statement": sid, "encounter": enc_id, "charge": charge_id, "line_date": dos,
                              "description": f"{code} {desc}"[:120], "amount": bal, "kind": "charge"})
                dated.append((dos, bal))
            for posted_on, label, amount in paid[pid]:
                lines.append({"statement": sid, "encounter": None, "charge": None, "line_date": posted_on,
                              "description": label, "amount": -amount, "kind": "payment"})
            buckets = aging.bucketize(dated, today)
            lines += [{"statement": sid, "encounter": None, "charge": None, "line_date": today,
                       "description": f"Aging {aging.BUCKET_LABELS[key]}", "amount": buckets[key],
                       "kind": "aging"} for key in aging.BUCKETS]
        insert(StatementLine, lines)
