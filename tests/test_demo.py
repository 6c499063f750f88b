"""The demo clinic: every case the workflows need, clean books, deterministic rows."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from peewee import fn

from claimdesk.core import db, demo, migrations
from claimdesk.core.context import as_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    AdminMessage, AuditEvent, Charge, ChargeSplit, Claim, Coverage, Credit, Encounter, EncounterPayer,
    Eob, EobAdjustment, EobLine, JournalEntry, Patient, Payer, Posting, Provider, ServiceCode, Statement,
    StatementLine, Voucher, WorkQueue,
)
from claimdesk.core.services import verify
from claimdesk.core.services.actions import ActionContext

from tests import demo_cache

#: a short history keeps the determinism and path tests quick
SMALL = {"scale": 0.05, "months": 6}


def _queue_count(key: str) -> int:
    return Encounter.select().join(WorkQueue).where(WorkQueue.key == key).count()


def _candidates(key: str):
    """Encounters most likely to fit an advanced action, so the scan stays short."""
    enc = Encounter.select().where(Encounter.status == "active")
    denied = enc.join(Charge).join(ChargeSplit).where(ChargeSplit.denied & (ChargeSplit.balance > 0))
    if key == "add_primary":
        return enc.join(EncounterPayer).where(EncounterPayer.placeholder == True)  # noqa: E712
    if key in ("primary_denied_bill_patient",):
        return denied.where(ChargeSplit.rank == "primary")
    if key in ("secondary_denied_bill_patient",):
        return denied.where(ChargeSplit.rank == "secondary")
    if key == "resend_secondary":
        return enc.join(Claim).where((Claim.rank == "secondary") & (Claim.status == "sent"))
    if key in ("to_medical",):
        return enc.where(Encounter.claim_type == "workers_comp")
    if key == "billable":
        return enc.where(Encounter.billable == False)  # noqa: E712
    if key == "self_pay":
        return enc.where(~fn.EXISTS(EncounterPayer.select().where(EncounterPayer.encounter == Encounter.id)))
    if key == "regenerate_statement":
        return enc.join(StatementLine, on=(StatementLine.encounter == Encounter.id)).join(Statement).where(
            Statement.status == "active")
    return enc.order_by(Encounter.dos.desc())


def _action_plugins():
    from claimdesk.core.plugins.host import PluginHost

    return PluginHost().load_entrypoints().actions()


@pytest.fixture(scope="session")
def default_demo(tmp_path_factory):
    """The default demo clinic (seed 1, scale 1), built once per session; its summary."""
    return demo_cache.template(tmp_path_factory)


def test_default_demo_has_every_case_and_clean_books(default_demo, tmp_path):
    path, summary = default_demo
    with demo_cache.opened_copy(path, tmp_path):
        _check_default_demo(summary)


def _check_default_demo(summary: dict) -> None:

    assert Patient.select().count() == summary["patients"] >= 200
    kinds = dict(Payer.select(Payer.kind, fn.COUNT(Payer.id)).group_by(Payer.kind).tuples())
    assert kinds["medicare"] >= 1 and kinds["medicaid"] >= 1 and kinds["workers_comp"] >= 1
    assert kinds["commercial"] >= 3
    office = Provider.get(Provider.kind == "administrative")
    assert office.name == "Office"
    fees = dict(ServiceCode.select(ServiceCode.code, ServiceCode.default_fee).tuples())
    assert fees["99213"] == 110_00 and fees["99214"] == 165_00 and fees["36415"] == 12_00
    assert fees["RCFEE"] > 0 and fees["G8553"] == 0 and fees["99211-NC"] == 0

    # charges across ~18 months, zero-fee lines, several encounters per patient
    first, last = Charge.select(fn.MIN(Charge.dos), fn.MAX(Charge.dos)).scalar(as_tuple=True)
    first, last = dt.date.fromisoformat(str(first)), dt.date.fromisoformat(str(last))
    assert (last - first).days > 500
    assert Charge.select().where(Charge.fee == 0).count() > 0
    assert summary["zero_fee_charges"] > 0
    busy = (Encounter.select(Encounter.patient).group_by(Encounter.patient)
            .having(fn.COUNT(Encounter.id) >= 3).count())
    assert busy > 50

    # EOBs: payments, CO-45, PR-1/2/3, OA-23, denials kept on the split
    adj = set(EobAdjustment.select(EobAdjustment.group_code, EobAdjustment.reason_code).tuples())
    for code in (("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3"), ("OA", "23")):
        assert code in adj
    assert EobLine.select().where(EobLine.paid > 0).count() > 100
    denial_codes = {c for (c,) in ChargeSplit.select(ChargeSplit.denial_code).where(
        ChargeSplit.denied & (ChargeSplit.balance > 0)).distinct().tuples()}
    assert denial_codes & {"PR-27", "CO-109"} and "CO-19" in denial_codes
    assert summary["denied_open_splits"] > 0

    # money: undistributed checks, unapplied credits, secondary/tertiary, a returned check
    assert Voucher.select().where((Voucher.undistributed > 0) & (Voucher.status == "active")).count() > 0
    assert Credit.select().where(Credit.unapplied > 0).count() > 0
    assert ChargeSplit.select().where(ChargeSplit.rank == "secondary").count() > 0
    assert ChargeSplit.select().where(ChargeSplit.rank == "tertiary").count() > 0
    assert Voucher.select().where(Voucher.status == "returned").count() == 1
    assert Charge.select().where(Charge.kind == "returned_check_fee", Charge.provider == office.id).count() == 1
    assert Voucher.select().where((Voucher.method == "check") & (Voucher.status == "active")).count() > 10
    assert Eob.select().join(Payer, on=(Eob.payer == Payer.id)).where(Payer.kind == "inactive").count() > 0

    # coverage: a terminated plan; workers' comp claims; self-pay patients
    assert Coverage.select().where(Coverage.effective_to.is_null(False)).count() > 0
    assert Encounter.select().where(Encounter.claim_type == "workers_comp").count() >= 2
    assert Patient.select().where(~fn.EXISTS(Coverage.select().where(Coverage.patient == Patient.id))).count() > 0

    # work queues and admin messages
    for key in ("denied", "needs_secondary", "patient_balance", "admin", "review", "workers_comp"):
        assert _queue_count(key) > 0, key
        assert summary["queues"][key] == _queue_count(key)
    statuses = {s for (s,) in AdminMessage.select(AdminMessage.status).distinct().tuples()}
    assert "open" in statuses and statuses & {"answered", "closed"}
    assert Statement.select().count() > 0 and summary["statements"] == Statement.select().count()
    assert Claim.select().where(Claim.status == "queued").count() > 0  # today's batch is still to run

    # outstanding zero splits and aged balances for aging reports
    assert Charge.select().where((Charge.fee == 0) & (Charge.primary_marked_paid == False)).count() > 0  # noqa: E712
    old = (ChargeSplit.select().join(Charge).where((ChargeSplit.balance > 0)
                                                   & (Charge.dos < demo.DEFAULT_TODAY - dt.timedelta(days=120))))
    assert old.count() > 0

    # every advanced action finds an encounter it applies to
    for action in _action_plugins():
        if action.always_offered:
            continue
        hits = 0
        for enc in _candidates(action.key).limit(400):
            if action.applies(ActionContext(Encounter.get_by_id(enc.id))):
                hits += 1
                break
        assert hits, f"no demo encounter for the action {action.key!r}"

    # the summary agrees with the tables; the books are clean
    assert summary["charges"] == Charge.select().count()
    ar = Posting.select(fn.SUM(Posting.amount)).where(Posting.account == "AR").scalar()
    assert summary["total_ar"] == ar > 0
    assert verify.verify() == []


def test_small_demo_builds_clean_on_this_backend_and_refuses_a_second_build(database):
    summary = demo.build(seed=3, **SMALL)
    assert summary["patients"] == Patient.select().count() >= 12
    assert summary["charges"] == Charge.select().count() > 0
    assert verify.verify() == []
    with pytest.raises(Refused, match="empty database"):
        demo.build(seed=3, **SMALL)
    with pytest.raises(Refused):
        demo.build(scale=0)
    with pytest.raises(Refused):
        demo.build(months=2)
    assert Patient.select().count() == summary["patients"]  # the refused builds wrote nothing


def _snapshot() -> dict:
    """Key rows with their ids, and the audit chain's last hash."""
    return {
        "patients": list(Patient.select(Patient.id, Patient.account_no, Patient.last_name, Patient.first_name,
                                        Patient.dob).order_by(Patient.id).tuples()),
        "postings": list(Posting.select(Posting.entry, Posting.account, Posting.amount, Posting.split,
                                        Posting.voucher, Posting.credit, Posting.reason_code)
                         .order_by(Posting.id).tuples()),
        "entries": list(JournalEntry.select(JournalEntry.id, JournalEntry.kind, JournalEntry.posted_at)
                        .order_by(JournalEntry.id).tuples()),
        "splits": list(ChargeSplit.select(ChargeSplit.id, ChargeSplit.charge, ChargeSplit.rank, ChargeSplit.payer,
                                          ChargeSplit.balance, ChargeSplit.denied).order_by(ChargeSplit.id).tuples()),
        "queues": list(Encounter.select(Encounter.id, Encounter.queue).order_by(Encounter.id).tuples()),
        "audit": AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).scalar(),
    }


def _natural() -> dict:
    """What both posting paths must agree on (ids of rows, not of journal entries)."""
    def rows(q):
        return sorted(q.tuples(), key=repr)

    return {
        "splits": rows(ChargeSplit.select(ChargeSplit.charge, ChargeSplit.rank, ChargeSplit.payer,
                                          ChargeSplit.balance, ChargeSplit.denied, ChargeSplit.denial_code)),
        "vouchers": rows(Voucher.select(Voucher.id, Voucher.payer, Voucher.amount, Voucher.undistributed,
                                        Voucher.status)),
        "credits": rows(Credit.select(Credit.id, Credit.patient, Credit.voucher, Credit.unapplied)),
        "eob_lines": rows(EobLine.select(EobLine.eob, EobLine.charge, EobLine.allowed, EobLine.paid,
                                         EobLine.denied)),
        "encounters": rows(Encounter.select(Encounter.id, Encounter.queue, Encounter.billable)),
        "claims": rows(Claim.select(Claim.encounter, Claim.payer, Claim.rank, Claim.status)),
        "sums": rows(Posting.select(Posting.account, Posting.split, Posting.voucher, Posting.credit,
                                    fn.SUM(Posting.amount)).group_by(Posting.account, Posting.split,
                                                                     Posting.voucher, Posting.credit)),
        "statements": rows(Statement.select(Statement.patient, Statement.amount_due, Statement.status,
                                            Statement.final_notice, Statement.message)),
        "statement_lines": rows(StatementLine.select(Statement.patient, Statement.status, StatementLine.kind,
                                                     StatementLine.encounter, StatementLine.line_date,
                                                     StatementLine.description, StatementLine.amount)
                                .join(Statement)),
    }


def _digest() -> str:
    """A digest of the key tables' rows (ids included), in id order."""
    h = hashlib.sha256()
    for model in (Patient, Coverage, Encounter, EncounterPayer, Charge, ChargeSplit, Claim, Eob, EobLine,
                  EobAdjustment, Voucher, Credit, JournalEntry, Posting, Statement, StatementLine, AdminMessage,
                  AuditEvent):
        for row in model.select().order_by(model.id).tuples():
            h.update(repr(row).encode())
    return h.hexdigest()


def _build_into(path, **kwargs) -> tuple[dict, dict]:
    """Build a demo into a new SQLite file; its summary and what the tests compare."""
    db.connect(str(path))
    try:
        migrations.upgrade()
        summary = demo.build(**kwargs)
        assert verify.verify() == []
        return summary, {"snapshot": _snapshot(), "natural": _natural(), "digest": _digest()}
    finally:
        db.close()


_small_builds: dict = {}


def _small(tmp_path_factory, seed: int, fast: bool = True) -> tuple[dict, dict]:
    """A small demo (seed, fast), built once per session."""
    if (seed, fast) not in _small_builds:
        path = tmp_path_factory.mktemp("small-demo") / "demo.db"
        _small_builds[seed, fast] = _build_into(path, seed=seed, fast=fast, **SMALL)
    return _small_builds[seed, fast]


def _without_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("seconds", "charges_per_second")}


def _patients_of_seed(path, seed: int) -> list:
    """The patients another seed makes (the setup day only: patients come first)."""
    db.connect(str(path))
    try:
        migrations.upgrade()
        builder = demo._Builder(seed, SMALL["scale"], demo.DEFAULT_TODAY, SMALL["months"], True, None)
        with as_user(demo.DEMO_USER):
            builder.setup()
        return _snapshot()["patients"]
    finally:
        db.close()


def test_same_seed_same_rows_other_seed_other_rows(tmp_path, tmp_path_factory):
    s1, a = _small(tmp_path_factory, seed=5)
    s2, b = _build_into(tmp_path / "again.db", seed=5, **SMALL)
    assert a["digest"] == b["digest"]
    assert a["snapshot"] == b["snapshot"]
    assert _without_timing(s1) == _without_timing(s2)
    assert _patients_of_seed(tmp_path / "other.db", 8) != a["snapshot"]["patients"]


def test_fast_path_posts_the_same_books_as_the_services_one_call_at_a_time(tmp_path_factory):
    s_fast, fast = _small(tmp_path_factory, seed=5, fast=True)
    s_exact, exact = _small(tmp_path_factory, seed=5, fast=False)
    for key in fast["natural"]:
        assert fast["natural"][key] == exact["natural"][key], key
    assert s_fast["total_ar"] == s_exact["total_ar"] and s_fast["patient_ar"] == s_exact["patient_ar"]
