"""Each of the 19 advanced actions finds a real case in the demo clinic and does what a clerk expects.

For every action: find a demo encounter where ``actions.assess`` offers it, fill
its guided form from ``actions.form`` (choices included), apply it, check the
money / statement / queue / audit effect a clerk would notice, and check that
``verify`` is still clean. Every test runs on SQLite and on PostgreSQL: the demo is
built once per session and engine, and each test works on its own copy
(tests/demo_cache.py).
"""

from __future__ import annotations

import pytest
from peewee import fn

from claimdesk.core import demo
from claimdesk.core.context import as_user
from claimdesk.core.errors import PermissionDenied, Refused
from claimdesk.core.models import (
    AdminMessage, AuditEvent, Charge, ChargeSplit, Claim, Coverage, Encounter, EncounterPayer, Eob,
    JournalEntry, Patient, Payer, Posting, Statement, StatementLine, WorkQueue,
)
from claimdesk.core.money import fmt
from claimdesk.core.services import actions, balances, encounter_ops as ops, statements
from claimdesk.core.services.verify import verify

from tests import demo_cache

ALL_KEYS = {
    "primary_invalid", "secondary_invalid", "add_primary", "add_secondary", "self_pay",
    "primary_denied_bill_patient", "secondary_denied_bill_patient", "negotiate_balance",
    "regenerate_statement", "patient_writeoff_office", "patient_writeoff_bad_debt", "insurance_writeoff",
    "resend_secondary", "none_of_the_above", "update_secondary_info", "to_workers_comp", "to_medical",
    "non_billable", "billable",
}


@pytest.fixture
def demo_template(backend, request, tmp_path_factory):
    """The default demo clinic on this test's engine, built once per session."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    return demo_cache.template(tmp_path_factory, pg=pg)[0]


@pytest.fixture
def clinic(demo_template, tmp_path):
    """A private copy of the demo clinic, working as the clerk on the demo's today."""
    with demo_cache.opened_copy(demo_template, tmp_path):
        yield


# --- helpers -----------------------------------------------------------------------
def active() -> object:
    return Encounter.select(Encounter.id).where(Encounter.status == "active")


def find(key: str, candidates) -> int:
    """The first candidate encounter (by id) for which assess offers ``key``."""
    seen = 0
    for (enc_id,) in candidates.order_by(Encounter.id).distinct().tuples():
        seen += 1
        if key in {o["key"] for o in actions.assess(enc_id)["offers"]}:
            return enc_id
        if seen > 300:
            break
    pytest.fail(f"no demo encounter is offered {key!r}")


def fill(enc_id: int, key: str, **given) -> dict:
    """Valid guided input for ``key`` from the action's form description: what is given,
    else the first choice offered, else ticked confirmations."""
    data = {}
    for field in actions.form(enc_id, key):
        name = field["name"]
        if name in given:
            data[name] = given[name]
        elif field["kind"] == "bool" and field["required"]:
            data[name] = True
        elif field["kind"] == "rows":
            row = {f["name"]: f["choices"][0][0] for f in field["fields"] if f["choices"]}
            data[name] = [row]
        elif field["choices"] and field["required"]:
            data[name] = field["choices"][0][0]
    return data


def choice(enc_id: int, key: str, field: str, label: str) -> str:
    """The value of the choice labelled ``label`` in a form field (fails if not offered)."""
    for f in actions.form(enc_id, key):
        if f["name"] == field:
            for value, text in f["choices"]:
                if text == label:
                    return value
            pytest.fail(f"{label!r} is not among the {field} choices {f['choices']}")
    pytest.fail(f"{key!r} has no field {field!r}")


def by_rank(enc_id: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for rank, bal in (ChargeSplit.select(ChargeSplit.rank, ChargeSplit.balance).join(Charge)
                      .where(Charge.encounter == enc_id).tuples()):
        out[rank] = out.get(rank, 0) + bal
    return out


def patient_due(enc_id: int) -> int:
    return balances.patient_balance(Encounter.get_by_id(enc_id).patient_id).patient_due


def slot(enc_id: int, rank: str) -> EncounterPayer | None:
    return EncounterPayer.get_or_none((EncounterPayer.encounter == enc_id) & (EncounterPayer.rank == rank))


def audited(res: dict, key: str, enc_id: int, user: str = demo.CLERK) -> AuditEvent:
    """The action's audit event: who, which action and encounter, the entries it made."""
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert (ev.action, ev.encounter_id, ev.user) == (f"action.{key}", enc_id, user)
    assert sorted(ev.entries) == sorted(res["entries"])
    return ev


def on_next_statement(enc_id: int) -> int:
    """What the patient's next statement bills for this encounter (its charge lines)."""
    pid = Encounter.get_by_id(enc_id).patient_id
    return sum(sp.balance for sp in statements.patient_lines(pid) if sp.charge.encounter_id == enc_id)


def issued_statement_for(enc_id: int) -> int:
    """Issue the patient's statement now; what it bills for this encounter."""
    pid = Encounter.get_by_id(enc_id).patient_id
    res = statements.generate_for(pid)
    stmt = Statement.get_by_id(res["statement_id"])
    assert stmt.amount_due == max(balances.patient_balance(pid).net_due, 0)
    return sum(ln.amount for ln in StatementLine.select().where(
        (StatementLine.statement == stmt.id) & (StatementLine.encounter == enc_id)
        & (StatementLine.kind == "charge")))


def queue_of(enc_id: int) -> str | None:
    enc = Encounter.get_by_id(enc_id)
    return enc.queue.key if enc.queue_id else None


def no_statement_or_queue_change(res: dict, queue_before: str | None) -> None:
    """The action neither made nor voided a statement, and left the encounter on its queue."""
    assert (res["statements_made"], res["statements_voided"]) == ([], [])
    assert res["queue_change"] is None and res["after"]["queue"] == queue_before


def writeoffs(enc_id: int, code: str) -> int:
    return int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).join(Charge, on=(Posting.charge == Charge.id))
               .where((Posting.account == "WRITEOFF") & (Posting.reason_code == code)
                      & (Charge.encounter == enc_id)).scalar())


def queued_claims(enc_id: int, rank: str | None = None) -> list[Claim]:
    q = Claim.select().where((Claim.encounter == enc_id) & (Claim.status == "queued"))
    return list(q.where(Claim.rank == rank) if rank else q)


def with_open(rank: str, **extra):
    """Active encounters with an open balance at ``rank`` (optionally denied)."""
    q = (Encounter.select(Encounter.id).join(Charge).join(ChargeSplit)
         .where((Encounter.status == "active") & (ChargeSplit.rank == rank) & (ChargeSplit.balance > 0)))
    if "denied" in extra:
        q = q.where(ChargeSplit.denied == extra["denied"])
    return q


# --- the tests ---------------------------------------------------------------------
def test_the_demo_offers_every_one_of_the_nineteen_actions(clinic):
    keys = {a.key for a in actions.get_host().actions()}
    assert ALL_KEYS <= keys


def test_primary_invalid_sends_the_terminated_plans_balance_to_the_patient(clinic):
    denied = with_open("primary", denied=True).where(ChargeSplit.denial_code.in_(["PR-27", "CO-109"]))
    enc_id = find("primary_invalid", denied.where(
        ~fn.EXISTS(EncounterPayer.select().where((EncounterPayer.encounter == Encounter.id)
                                                 & (EncounterPayer.rank == "secondary")))))
    old = slot(enc_id, "primary").payer
    owed, due = by_rank(enc_id).get("primary", 0), patient_due(enc_id)
    payer_owed = balances.payer_balance(old.id)
    eobs_before = Eob.select().where((Eob.encounter == enc_id) & (Eob.payer == old.id)).count()
    assert owed > 0 and eobs_before > 0
    claims_before = {c.id: c.status for c in Claim.select().where((Claim.encounter == enc_id) & (Claim.payer == old.id))}
    queue_before, billed_before = queue_of(enc_id), on_next_statement(enc_id)

    res = actions.apply(enc_id, "primary_invalid", fill(enc_id, "primary_invalid", reason="plan ended"))

    new = slot(enc_id, "primary")
    assert (new.payer.name, new.placeholder, new.replaced_payer_id) == ("Patient", True, old.id)
    assert Eob.select().where((Eob.encounter == enc_id) & (Eob.payer == old.id)).count() == 0
    assert Eob.select().where((Eob.encounter == enc_id) & (Eob.moved_from == old.id)).count() == eobs_before
    assert Eob.select().where((Eob.encounter == enc_id) & Eob.dummy).count() == 1
    assert balances.payer_balance(old.id) == payer_owed - owed and by_rank(enc_id).get("primary", 0) == 0
    assert patient_due(enc_id) == due + owed
    assert res["after"]["patient_due"] - res["before"]["patient_due"] == owed
    # the old payer's claims: a queued one is voided, the ones already sent stay on file as sent
    claims_after = {c.id: c.status for c in Claim.select().where((Claim.encounter == enc_id) & (Claim.payer == old.id))}
    assert claims_after == {cid: ("void" if st == "queued" else st) for cid, st in claims_before.items()}
    assert queued_claims(enc_id) == []  # no secondary: nobody else to bill
    assert on_next_statement(enc_id) == billed_before + owed  # the patient is billed what the plan owed
    assert res["queue_change"] is None and res["after"]["queue"] == queue_before == "denied"
    assert res["offers_queue_removal"] is True
    audited(res, "primary_invalid", enc_id)
    assert "add_primary" in {o["key"] for o in actions.assess(enc_id)["offers"]}
    assert verify() == []


def test_add_primary_puts_the_new_card_on_and_moves_the_balance_back(clinic):
    placeholders = (active().join(EncounterPayer).where(EncounterPayer.placeholder
                                                        & (EncounterPayer.rank == "primary"))
                    .switch(Encounter).join(Charge).join(ChargeSplit).where(ChargeSplit.balance > 0))
    enc_id = find("add_primary", placeholders)
    total = sum(by_rank(enc_id).values())
    due = patient_due(enc_id)
    assert total > 0
    payer_id = choice(enc_id, "add_primary", "payer_id", "Cedar Care HMO")
    data = fill(enc_id, "add_primary", payer_id=payer_id, member_id="CCH778812345", group_no="GRP-20511",
                subscriber="self")

    res = actions.apply(enc_id, "add_primary", data)

    s = slot(enc_id, "primary")
    assert (s.payer.name, s.placeholder) == ("Cedar Care HMO", False)
    assert Coverage.get_by_id(s.coverage_id).member_id == "CCH778812345"
    open_ranks = by_rank(enc_id)
    assert open_ranks.get("primary", 0) == total and open_ranks.get("patient", 0) == 0
    assert patient_due(enc_id) == due - res["before"]["encounter_by_rank"].get("patient", 0)
    assert [(c.payer.name, c.rank) for c in queued_claims(enc_id)] == [("Cedar Care HMO", "primary")]
    audited(res, "add_primary", enc_id)
    assert verify() == []


def test_secondary_invalid_moves_the_secondary_balance_to_the_patient(clinic):
    no_tertiary = ~fn.EXISTS(EncounterPayer.select().where((EncounterPayer.encounter == Encounter.id)
                                                           & (EncounterPayer.rank == "tertiary")))
    enc_id = find("secondary_invalid", with_open("secondary").where(no_tertiary))
    owed, due = by_rank(enc_id)["secondary"], patient_due(enc_id)

    res = actions.apply(enc_id, "secondary_invalid", fill(enc_id, "secondary_invalid"))

    assert slot(enc_id, "secondary") is None
    assert by_rank(enc_id).get("secondary", 0) == 0
    assert patient_due(enc_id) == due + owed
    assert res["report"]["balance_moved"] == owed and queued_claims(enc_id, "secondary") == []
    audited(res, "secondary_invalid", enc_id)
    assert verify() == []


def test_add_secondary_bills_the_plan_whose_eob_came_in_without_a_secondary_on_file(clinic):
    waiting = active().join(WorkQueue).where(WorkQueue.key == "needs_secondary")
    enc_id = find("add_secondary", waiting.switch(Encounter).join(Charge).join(ChargeSplit).where(
        (ChargeSplit.rank == "patient") & (ChargeSplit.balance > 0)))
    left_to_patient, due = by_rank(enc_id)["patient"], patient_due(enc_id)
    primary = slot(enc_id, "primary").payer.name
    other = next(name for name in ("Apex Health Plan", "Evergreen Blue PPO") if name != primary)
    data = fill(enc_id, "add_secondary", payer_id=choice(enc_id, "add_secondary", "payer_id", other),
                member_id="SEC445566778", relationship="spouse", subscriber="Spouse, Pat")

    res = actions.apply(enc_id, "add_secondary", data)

    assert slot(enc_id, "secondary").payer.name == other
    assert by_rank(enc_id).get("patient", 0) == 0 and by_rank(enc_id)["secondary"] == left_to_patient
    assert patient_due(enc_id) == due - left_to_patient
    assert [(c.payer.name, c.rank) for c in queued_claims(enc_id, "secondary")] == [(other, "secondary")]
    audited(res, "add_secondary", enc_id)
    assert verify() == []


def test_self_pay_puts_the_patient_placeholder_in_the_primary_slot(clinic):
    no_payers = active().where(~fn.EXISTS(EncounterPayer.select().where(EncounterPayer.encounter == Encounter.id)))
    enc_id = find("self_pay", no_payers.join(Charge).join(ChargeSplit).where(ChargeSplit.balance > 0))
    due, ranks, queue_before = patient_due(enc_id), by_rank(enc_id), queue_of(enc_id)
    assert ranks.get("patient", 0) > 0

    res = actions.apply(enc_id, "self_pay", fill(enc_id, "self_pay"))

    s = slot(enc_id, "primary")
    assert (s.payer.name, s.placeholder) == ("Patient", True)
    assert patient_due(enc_id) == due and by_rank(enc_id) == ranks  # the balance stays the patient's
    assert res["report"]["patient_balance"] == ranks["patient"]
    assert res["entries"] == [] and queued_claims(enc_id) == []  # no money moves, no claim to anyone
    no_statement_or_queue_change(res, queue_before)
    assert issued_statement_for(enc_id) == ranks["patient"]  # and the patient's statement bills it
    assert "add_primary" in {o["key"] for o in actions.assess(enc_id)["offers"]}
    audited(res, "self_pay", enc_id)
    assert verify() == []


@pytest.mark.parametrize("rank", ["primary", "secondary"])
def test_denied_codes_are_billed_to_the_patient_with_a_new_statement(clinic, rank):
    key = f"{rank}_denied_bill_patient"
    enc_id = find(key, with_open(rank, denied=True))
    denied = sum(s.balance for s in ops.open_splits(Encounter.get_by_id(enc_id), rank, denied=True))
    pid = Encounter.get_by_id(enc_id).patient_id
    due = patient_due(enc_id)
    old = Statement.get_or_none((Statement.patient == pid) & (Statement.status == "active"))

    res = actions.apply(enc_id, key, fill(enc_id, key))

    assert res["report"]["billed_to_patient"] == denied > 0
    assert patient_due(enc_id) == due + denied
    assert ops.open_splits(Encounter.get_by_id(enc_id), rank, denied=True) == []
    (made,) = res["statements_made"]
    stmt = Statement.get_by_id(made)
    assert stmt.status == "active" and stmt.amount_due == max(balances.patient_balance(pid).net_due, 0)
    lines = StatementLine.select().where((StatementLine.statement == made) & (StatementLine.encounter == enc_id))
    assert sum(ln.amount for ln in lines) == by_rank(enc_id)["patient"]
    if old is not None:
        assert Statement.get_by_id(old.id).status == "void" and res["statements_voided"] == [old.id]
    assert queued_claims(enc_id, rank) == []
    audited(res, key, enc_id)
    assert verify() == []


def test_negotiated_balance_adjusts_the_difference_off(clinic):
    enc_id = find("negotiate_balance", with_open("patient").where(ChargeSplit.balance > 20_00))
    current, queue_before = by_rank(enc_id)["patient"], queue_of(enc_id)
    final = current // 2

    res = actions.apply(enc_id, "negotiate_balance",
                        fill(enc_id, "negotiate_balance", final_balance=fmt(final).replace("$", "").replace(",", ""),
                             note="agreed by phone with the office manager"))

    assert by_rank(enc_id)["patient"] == final
    assert writeoffs(enc_id, "NEGOTIATED") == current - final
    assert res["report"]["adjusted"] == current - final
    no_statement_or_queue_change(res, queue_before)
    assert issued_statement_for(enc_id) == final  # the next statement bills the agreed balance
    audited(res, "negotiate_balance", enc_id)
    assert verify() == []


def test_regenerate_statement_voids_the_old_one_and_makes_a_new_one(clinic):
    on_statement = (active().join(StatementLine, on=(StatementLine.encounter == Encounter.id))
                    .join(Statement).where(Statement.status == "active"))
    enc_id = find("regenerate_statement", on_statement)
    pid = Encounter.get_by_id(enc_id).patient_id
    old = Statement.get((Statement.patient == pid) & (Statement.status == "active"))

    res = actions.apply(enc_id, "regenerate_statement",
                        fill(enc_id, "regenerate_statement", reason="EOB corrected"))

    voided = Statement.get_by_id(old.id)
    assert (voided.status, voided.void_reason) == ("void", "EOB corrected")
    new = Statement.get((Statement.patient == pid) & (Statement.status == "active"))
    assert res["statements_voided"] == [old.id] and res["statements_made"] == [new.id]
    assert new.amount_due == max(balances.patient_balance(pid).net_due, 0)
    charge_lines = StatementLine.select().where((StatementLine.statement == new.id) & (StatementLine.kind == "charge"))
    assert sum(ln.amount for ln in charge_lines) == balances.patient_balance(pid).patient_due
    audited(res, "regenerate_statement", enc_id)
    assert verify() == []


def test_office_write_off_lowers_the_patient_balance_by_the_amount(clinic):
    enc_id = find("patient_writeoff_office", with_open("patient").where(ChargeSplit.balance > 10_00))
    before, due, queue_before = by_rank(enc_id)["patient"], patient_due(enc_id), queue_of(enc_id)
    reason = choice(enc_id, "patient_writeoff_office", "reason", "Financial hardship")

    res = actions.apply(enc_id, "patient_writeoff_office",
                        fill(enc_id, "patient_writeoff_office", amount="10.00", reason=reason, note="hardship form on file"))

    assert by_rank(enc_id)["patient"] == before - 10_00
    assert patient_due(enc_id) == due - 10_00 and writeoffs(enc_id, reason) == 10_00
    no_statement_or_queue_change(res, queue_before)
    assert issued_statement_for(enc_id) == before - 10_00
    audited(res, "patient_writeoff_office", enc_id)
    assert verify() == []


def test_bad_debt_needs_a_supervisor_and_flags_the_account(clinic):
    enc_id = find("patient_writeoff_bad_debt", with_open("patient"))
    pid = Encounter.get_by_id(enc_id).patient_id
    owed, due, queue_before = by_rank(enc_id)["patient"], patient_due(enc_id), queue_of(enc_id)
    bad_debt_before = writeoffs(enc_id, "BAD_DEBT")
    assert on_next_statement(enc_id) == owed
    amount = f"{owed // 100}.{owed % 100:02d}"
    data = fill(enc_id, "patient_writeoff_bad_debt", amount=amount, note="sent to Cascade Collections")
    entries = JournalEntry.select().count()
    with pytest.raises(PermissionDenied):
        actions.apply(enc_id, "patient_writeoff_bad_debt", data)
    assert JournalEntry.select().count() == entries and patient_due(enc_id) == due

    with as_user(demo.SUPERVISOR):
        res = actions.apply(enc_id, "patient_writeoff_bad_debt", data)

    assert by_rank(enc_id)["patient"] == 0 and patient_due(enc_id) == due - owed
    assert writeoffs(enc_id, "BAD_DEBT") == bad_debt_before + owed and Patient.get_by_id(pid).bad_debt
    no_statement_or_queue_change(res, queue_before)
    assert on_next_statement(enc_id) == 0  # off the patient's next statement
    audited(res, "patient_writeoff_bad_debt", enc_id, user=demo.SUPERVISOR)
    assert verify() == []


def test_insurance_write_off_clears_the_chosen_code(clinic):
    enc_id = find("insurance_writeoff", with_open("primary", denied=True).where(ChargeSplit.balance < 500_00))
    split = ops.open_splits(Encounter.get_by_id(enc_id), "primary", denied=True)[0]
    payer_owes = balances.payer_balance(split.payer_id)
    charge_ins = sum(s.balance for s in ops.insurance_splits(Encounter.get_by_id(enc_id)) if s.charge_id == split.charge_id)
    due, billed, queue_before = patient_due(enc_id), on_next_statement(enc_id), queue_of(enc_id)
    (rows,) = [f for f in actions.form(enc_id, "insurance_writeoff") if f["name"] == "lines"]
    reasons = {f["name"]: [c[0] for c in f["choices"]] for f in rows["fields"]}
    assert str(split.charge_id) in reasons["charge_id"] and "CO50" in reasons["reason"]
    reason = "CO50"
    data = fill(enc_id, "insurance_writeoff", lines=[{"charge_id": split.charge_id, "reason": reason}],
                note="not medically necessary, appeal declined")

    res = actions.apply(enc_id, "insurance_writeoff", data)

    assert ChargeSplit.get_by_id(split.id).balance == 0
    assert balances.payer_balance(split.payer_id) == payer_owes - split.balance
    assert res["report"]["written_off"] == charge_ins == split.balance
    assert writeoffs(enc_id, "CO-50") == split.balance
    # never billed to the patient: the patient's balance and next statement are as before
    assert patient_due(enc_id) == due and on_next_statement(enc_id) == billed
    no_statement_or_queue_change(res, queue_before)
    if not ops.insurance_splits(Encounter.get_by_id(enc_id)):
        assert queued_claims(enc_id) == []  # nothing left for any insurer: no claim goes out
    audited(res, "insurance_writeoff", enc_id)
    assert verify() == []


def test_resend_secondary_queues_the_claim_again(clinic):
    sent = active().join(Claim).where((Claim.rank == "secondary") & (Claim.status == "sent"))
    enc_id = find("resend_secondary", sent)
    payer = slot(enc_id, "secondary").payer

    res = actions.apply(enc_id, "resend_secondary", fill(enc_id, "resend_secondary"))

    (claim,) = queued_claims(enc_id, "secondary")
    assert (claim.payer_id, claim.resend) == (payer.id, True)
    assert res["entries"] == []  # no money moves
    assert "resend_secondary" not in {o["key"] for o in actions.assess(enc_id)["offers"]}
    audited(res, "resend_secondary", enc_id)
    assert verify() == []


def test_none_of_the_above_sends_the_administrator_a_message(clinic):
    enc_id = find("none_of_the_above", active().join(WorkQueue).where(WorkQueue.key == "denied"))
    open_before = AdminMessage.select().where(AdminMessage.status == "open").count()
    res = actions.apply(enc_id, "none_of_the_above", fill(
        enc_id, "none_of_the_above", subject="Appeal?", note="The payer denied this; should we appeal?"))
    msg = AdminMessage.get_by_id(res["report"]["message_id"])
    assert (msg.encounter_id, msg.status, msg.subject, msg.author) == (enc_id, "open", "Appeal?", demo.CLERK)
    assert AdminMessage.select().where(AdminMessage.status == "open").count() == open_before + 1
    assert (res["entries"], res["queue_change"], res["offers_queue_removal"]) == ([], None, False)
    assert actions.other_encounters(enc_id, "none_of_the_above") == []  # one encounter at a time
    audited(res, "none_of_the_above", enc_id)
    assert verify() == []


def test_update_secondary_info_edits_the_coverage_and_keeps_the_old_values(clinic):
    with_cov = active().join(EncounterPayer).where((EncounterPayer.rank == "secondary")
                                                   & EncounterPayer.coverage.is_null(False))
    enc_id = find("update_secondary_info", with_cov)
    cov_id = slot(enc_id, "secondary").coverage_id
    old_member = Coverage.get_by_id(cov_id).member_id
    ranks, queue_before = by_rank(enc_id), queue_of(enc_id)
    claims_before = [(c.id, c.status) for c in Claim.select().where(Claim.encounter == enc_id).order_by(Claim.id)]

    res = actions.apply(enc_id, "update_secondary_info", fill(
        enc_id, "update_secondary_info", member_id="NEW123456789", group_no="GRP-77001",
        subscriber="Spouse, Pat", relationship="spouse", effective_from="2026-01-01"))

    cov = Coverage.get_by_id(cov_id)
    assert (cov.member_id, cov.group_no, cov.relationship) == ("NEW123456789", "GRP-77001", "spouse")
    ev = audited(res, "update_secondary_info", enc_id)
    assert ev.result["report"]["before"]["member_id"] == old_member
    assert ev.result["report"]["after"]["member_id"] == "NEW123456789"
    assert res["entries"] == [] and by_rank(enc_id) == ranks  # a document edit: no money moves
    no_statement_or_queue_change(res, queue_before)
    assert [(c.id, c.status) for c in Claim.select().where(Claim.encounter == enc_id).order_by(Claim.id)] \
        == claims_before
    assert verify() == []


def test_update_secondary_info_starts_with_what_is_on_file_and_keeps_what_is_left_out(clinic):
    with_cov = active().join(EncounterPayer).where((EncounterPayer.rank == "secondary")
                                                   & EncounterPayer.coverage.is_null(False))
    enc_id = find("update_secondary_info", with_cov)
    cov = Coverage.get_by_id(slot(enc_id, "secondary").coverage_id)
    on_file = {"member_id": cov.member_id, "group_no": cov.group_no, "subscriber": cov.subscriber,
               "relationship": cov.relationship}
    shown = {f["name"]: f.get("default") for f in actions.form(enc_id, "update_secondary_info")}
    assert {k: shown[k] for k in on_file} == on_file
    assert shown["effective_from"] == (cov.effective_from.isoformat() if cov.effective_from else None)

    res = actions.apply(enc_id, "update_secondary_info", {"member_id": "ONLY-THIS-1"})
    after = Coverage.get_by_id(cov.id)
    assert after.member_id == "ONLY-THIS-1"
    assert (after.group_no, after.subscriber, after.relationship, after.effective_from) == (
        cov.group_no, cov.subscriber, cov.relationship, cov.effective_from)
    assert res["report"]["changed"] == ["member_id"]
    with pytest.raises(Refused) as nothing:
        actions.apply(enc_id, "update_secondary_info", {})
    assert nothing.value.field == "member_id"
    assert verify() == []


def test_work_injury_is_re_created_as_a_workers_comp_claim(clinic):
    co19 = with_open("primary", denied=True).where(ChargeSplit.denial_code == "CO-19")
    enc_id = find("to_workers_comp", co19)
    open_total = sum(by_rank(enc_id).values())
    pid = Encounter.get_by_id(enc_id).patient_id
    ar_before = balances.patient_balance(pid).total_ar
    carrier = choice(enc_id, "to_workers_comp", "carrier_id", "Keystone Workers' Comp Insurance")

    res = actions.apply(enc_id, "to_workers_comp", fill(enc_id, "to_workers_comp", carrier_id=carrier,
                                                          claim_number="WC26-40417"))

    new_id = res["report"]["new_encounter"]
    old, new = Encounter.get_by_id(enc_id), Encounter.get_by_id(new_id)
    assert (old.status, old.queue_id) == ("removed", None)
    assert (new.claim_type, new.replaces_id) == ("workers_comp", enc_id)
    assert balances.encounter_balance(enc_id) == 0 and balances.encounter_balance(new_id) == open_total
    assert by_rank(new_id) == {"primary": open_total}
    assert balances.patient_balance(pid).total_ar == ar_before  # nothing lost, nothing billed twice
    assert [(c.payer.name, c.rank) for c in queued_claims(new_id)] == [("Keystone Workers' Comp Insurance", "primary")]
    assert writeoffs(enc_id, "RECLASS-WC") == open_total
    audited(res, "to_workers_comp", enc_id)
    assert verify() == []


def test_workers_comp_claim_becomes_medical_with_a_medical_primary(clinic):
    wc = active().where(Encounter.claim_type == "workers_comp").join(Charge).join(ChargeSplit).where(
        ChargeSplit.balance > 0)
    enc_id = find("to_medical", wc)
    open_total = sum(by_rank(enc_id).values())
    payer_id = choice(enc_id, "to_medical", "payer_id", "Medicare Part B")

    res = actions.apply(enc_id, "to_medical", fill(enc_id, "to_medical", payer_id=payer_id))

    enc = Encounter.get_by_id(enc_id)
    assert enc.claim_type == "medical" and slot(enc_id, "primary").payer.name == "Medicare Part B"
    assert by_rank(enc_id).get("primary", 0) == open_total - by_rank(enc_id).get("patient", 0)
    medicare = Payer.get(Payer.name == "Medicare Part B")
    assert ChargeSplit.select(fn.SUM(ChargeSplit.balance)).join(Charge).where(
        (Charge.encounter == enc_id) & (ChargeSplit.payer == medicare.id)).scalar() == open_total
    assert [(c.payer.name, c.rank) for c in queued_claims(enc_id)] == [("Medicare Part B", "primary")]
    audited(res, "to_medical", enc_id)
    assert verify() == []


def test_non_billable_writes_off_the_balance_and_leaves_the_statements(clinic):
    enc_id = find("non_billable", with_open("patient").where(Encounter.billable))
    pid = Encounter.get_by_id(enc_id).patient_id
    open_total, due = sum(by_rank(enc_id).values()), patient_due(enc_id)

    res = actions.apply(enc_id, "non_billable", fill(enc_id, "non_billable", reason="courtesy"))

    enc = Encounter.get_by_id(enc_id)
    assert not enc.billable and "Non-Billable" in enc.tag_list()
    assert balances.encounter_balance(enc_id) == 0 and writeoffs(enc_id, "NONBILLABLE") == open_total
    assert patient_due(enc_id) == due - res["before"]["encounter_by_rank"].get("patient", 0)
    assert enc_id not in {sp.charge.encounter_id for sp in statements.patient_lines(pid)}  # off the next statement
    assert queued_claims(enc_id) == []
    audited(res, "non_billable", enc_id)
    assert verify() == []


def test_billable_again_restores_the_balances_exactly(clinic):
    enc_id = find("billable", active().where(Encounter.billable == False))  # noqa: E712
    written = writeoffs(enc_id, "NONBILLABLE")
    due = patient_due(enc_id)
    assert written > 0

    res = actions.apply(enc_id, "billable", fill(enc_id, "billable", reason="fee reinstated"))

    enc = Encounter.get_by_id(enc_id)
    assert enc.billable and "Non-Billable" not in enc.tag_list()
    assert writeoffs(enc_id, "NONBILLABLE") == 0 and balances.encounter_balance(enc_id) == written
    assert res["report"]["balance_restored"] == written
    assert patient_due(enc_id) == due + res["after"]["encounter_by_rank"].get("patient", 0)
    reversals = JournalEntry.select().where(JournalEntry.id.in_(res["entries"]))
    assert all(e.reverses_id is not None for e in reversals)
    audited(res, "billable", enc_id)
    assert verify() == []
