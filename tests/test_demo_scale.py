"""``demo --scale N`` above 1: the base clinic copied set-based in SQL, on SQLite and PostgreSQL.

A copied clinic must look to a clerk exactly like N clinics side by side: every
count multiplied, every copied patient owing what its original owes to the cent,
clean books, one audit event for the bulk copy, and fresh ids for the work done
afterwards (sequences moved past the copies on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from peewee import fn

from claimdesk.core import clock, demo
from claimdesk.core.demo import scale_up as demo_scale
from claimdesk.core.context import as_user
from claimdesk.core.models import (
    AuditEvent, Charge, ChargeSplit, Credit, CreditSplit, Encounter, JournalEntry, Patient, Posting, Voucher,
    WorkQueue,
)
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import actions, balances, payments
from claimdesk.core.services.verify import verify

#: 2.2 -> three blocks of a 0.733 clinic over six months (quick, and still every profile).
SCALE = {"seed": 2, "scale": 2.2, "months": 6}
BLOCKS = 3
#: after the demo's last simulated day (the replication is audited at 19:00)
EVENING = dt.datetime.combine(demo.DEFAULT_TODAY, dt.time(19, 30))


def test_every_model_is_copied_shared_or_left_out_and_unique_columns_stay_unique(monkeypatch):
    demo_scale.check_models()  # the shipped classification is complete and safe
    sql = demo_scale.copy_sql(Patient, 2, {m: 100 for m in demo_scale.REPLICATED})
    assert "\"id\" + 200" in sql and "\"account_no\" || '-3'" in sql and "WHERE \"id\" <= 100" in sql

    monkeypatch.setattr(demo_scale, "REWRITES", {})
    with pytest.raises(AssertionError, match=r"Patient would repeat the unique \('account_no',\)"):
        demo_scale.check_models()
    monkeypatch.undo()
    monkeypatch.setattr(demo_scale, "NOT_COPIED", (AuditEvent,))
    with pytest.raises(AssertionError, match="AgingRow must be exactly one of"):
        demo_scale.check_models()


def _base_id(pid: int, top: int) -> tuple[int, int]:
    """(base block id, block number 1..) of a copied row id."""
    k = (pid - 1) // top
    return pid - k * top, k + 1


def _money_by_patient() -> dict[int, tuple]:
    """Per patient: AR owed by the patient, AR with insurers, unapplied money (cents)."""
    pseudo = patient_payer().id
    out: dict[int, list] = defaultdict(lambda: [0, 0, 0])
    for pid, account, payer, total in (
            Posting.select(Posting.patient, Posting.account, Posting.payer, fn.SUM(Posting.amount))
            .where(Posting.patient.is_null(False) & Posting.account.in_(["AR", "UNAPPLIED"]))
            .group_by(Posting.patient, Posting.account, Posting.payer).tuples()):
        slot = 2 if account == "UNAPPLIED" else 0 if payer == pseudo else 1
        out[pid][slot] += int(total)
    return {pid: tuple(v) for pid, v in out.items()}


def test_scale_above_one_is_identical_blocks_with_clean_books_and_live_ids(database):
    summary = demo.build(**SCALE)

    # -- the summary and the audit trail say what happened ---------------------------------------
    assert summary["copies"] == BLOCKS - 1 and summary["scale"] == 2.2
    assert summary["base_scale"] == pytest.approx(2.2 / BLOCKS)
    events = list(AuditEvent.select().where(AuditEvent.action == "demo.replicate"))
    assert len(events) == 1
    event = events[0]
    assert (event.user, event.inputs["copies"]) == (demo.DEMO_USER, BLOCKS - 1)
    top = event.result["base_max_ids"]
    per_copy = event.result["rows_per_copy"]

    # -- counts multiply, table by table ----------------------------------------------------------
    for model in demo_scale.REPLICATED:
        table = model._meta.table_name
        assert model.select().count() == BLOCKS * per_copy[table], table
        assert model.select().where(model.id <= top[table]).count() == per_copy[table], table
    assert summary["patients"] == Patient.select().count() == BLOCKS * per_copy["patient"]
    assert summary["charges"] == Charge.select().count() == BLOCKS * per_copy["charge"] > 1000
    for key, n in summary["queues"].items():
        assert n % BLOCKS == 0 and n == Encounter.select().join(WorkQueue).where(WorkQueue.key == key).count()

    # -- account numbers: block number suffix, all unique ------------------------------------------
    accounts = dict(Patient.select(Patient.id, Patient.account_no).tuples())
    assert len(set(accounts.values())) == len(accounts)
    for pid, acct in accounts.items():
        base, block = _base_id(pid, top["patient"])
        assert acct == (accounts[base] if block == 1 else f"{accounts[base]}-{block}")

    # -- every copied patient owes exactly what its original owes ----------------------------------
    money = _money_by_patient()
    assert any(m[0] > 0 for m in money.values()) and any(m[1] > 0 for m in money.values())
    for pid, owed in money.items():
        base, _block = _base_id(pid, top["patient"])
        assert owed == money[base], pid
    assert len(money) == BLOCKS * sum(1 for pid in money if pid <= top["patient"])
    splits = dict(ChargeSplit.select(ChargeSplit.id, ChargeSplit.balance).tuples())
    assert all(bal == splits[_base_id(sid, top["charge_split"])[0]] for sid, bal in splits.items())
    last = max(accounts)
    orig = _base_id(last, top["patient"])[0]
    assert balances.patient_balance(last) == balances.patient_balance(orig)
    total_ar = Posting.select(fn.SUM(Posting.amount)).where(Posting.account == "AR").scalar()
    base_ar = Posting.select(fn.SUM(Posting.amount)).where(
        (Posting.account == "AR") & (Posting.id <= top["posting"])).scalar()
    assert summary["total_ar"] == total_ar == BLOCKS * base_ar > 0

    # -- the books are clean (balanced entries, caches, reversals, audit chain) --------------------
    assert verify() == []

    # -- later work on a copied patient gets fresh ids and moves only that patient's money -----------
    with as_user(demo.CLERK), clock.frozen(EVENING):
        _later_work_on_the_last_block(top)
    assert verify() == []


def _later_work_on_the_last_block(top: dict) -> None:
    copied_max = {t: BLOCKS * m for t, m in top.items()}  # the largest id any copy can have
    offset = (BLOCKS - 1) * top["patient"]
    # an encounter of the last block with a patient balance the clerk can negotiate
    enc_id = next(eid for (eid,) in (
        Encounter.select(Encounter.id).join(Charge).join(ChargeSplit)
        .where((Encounter.patient > offset) & (Encounter.status == "active") & (ChargeSplit.rank == "patient")
               & (ChargeSplit.balance > 40_00)).order_by(Encounter.id).distinct().tuples())
        if "negotiate_balance" in {o["key"] for o in actions.assess(eid)["offers"]})
    pid = Encounter.get_by_id(enc_id).patient_id
    orig = pid - offset
    before, orig_before = balances.patient_balance(pid), balances.patient_balance(orig)
    assert before == orig_before and before.patient_due > 40_00

    # a patient check of $10.00 applied automatically
    voucher = payments.create_voucher({"payer_id": patient_payer().id, "method": "check", "amount": "10.00",
                                       "details": {"check_number": "88001"}})
    credit = payments.post_credit({"patient_id": pid, "voucher_id": voucher["voucher_id"], "apply": "auto"})
    assert voucher["voucher_id"] > copied_max["voucher"]
    assert credit["credit_id"] > copied_max["credit"] and credit["applied_total"] == 10_00
    assert min(credit["entries"]) > copied_max["journal_entry"]
    assert CreditSplit.select(fn.MIN(CreditSplit.id)).where(
        CreditSplit.credit == credit["credit_id"]).scalar() > copied_max["credit_split"]
    assert Posting.select(fn.MIN(Posting.id)).where(
        Posting.entry.in_(credit["entries"])).scalar() > copied_max["posting"]
    after = balances.patient_balance(pid)
    assert after.patient_due == before.patient_due - 10_00

    # the advanced action "negotiate" on the copied encounter
    open_before = sum(bal for rank, bal in ChargeSplit.select(ChargeSplit.rank, ChargeSplit.balance)
                      .join(Charge).where(Charge.encounter == enc_id).tuples() if rank == "patient")
    final = open_before // 2
    res = actions.apply(enc_id, "negotiate_balance",
                        {"final_balance": f"{final // 100}.{final % 100:02d}", "note": "agreed by phone"})
    assert res["report"]["adjusted"] == open_before - final
    assert min(res["entries"]) > copied_max["journal_entry"]
    assert balances.patient_balance(pid).patient_due == after.patient_due - (open_before - final)
    assert JournalEntry.get_by_id(min(res["entries"])).patient_id in (pid, None)

    # the original and the other copies did not move
    assert balances.patient_balance(orig) == orig_before
    assert balances.patient_balance(orig + top["patient"]) == orig_before
    assert Credit.select().where(Credit.voucher == voucher["voucher_id"]).count() == 1
    assert Voucher.get_by_id(voucher["voucher_id"]).undistributed == 0
