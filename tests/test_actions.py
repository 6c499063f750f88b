"""Advanced Actions: assessment offers only what applies; each action's money,
statement, queue and audit effects; refusals write nothing."""

from __future__ import annotations

import pytest

from claimdesk.core import db, users
from claimdesk.core.context import as_user
from claimdesk.core.errors import InputError, NotFound, PermissionDenied, Refused
from claimdesk.core.models import (
    AdminMessage, AuditEvent, Claim, Encounter, EncounterPayer, Eob, JournalEntry, Patient, Statement,
)
from claimdesk.core.services import actions, balances, eobs
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register


def offered(enc) -> list[str]:
    return [o["key"] for o in actions.assess(enc.id)["offers"]]


def _users():
    users.bootstrap("tester", "clerk")
    users.bootstrap("boss", "supervisor")


def test_lookup_refuses_malformed_and_unknown_ids(database):
    with pytest.raises(NotFound, match="not an encounter ID"):
        actions.assess("12abc")
    with pytest.raises(NotFound, match="no encounter with ID 999"):
        actions.assess("999")
    for typed in ("²", "E١٢", "9" * 5000):  # (digits to Python, or too long a number for int())
        with pytest.raises(NotFound, match="not an encounter ID"):
            actions.assess(typed)
    with pytest.raises(NotFound, match="no encounter with ID 99999999999$"):
        actions.assess("E99999999999")


def test_none_of_the_above_is_always_offered_and_sends_a_message(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [10_00])
    assert "none_of_the_above" in offered(enc)
    res = actions.apply(enc.id, "none_of_the_above", {"subject": "Which payer?", "note": "Card shows two plans"})
    msg = AdminMessage.get_by_id(res["report"]["message_id"])
    assert (msg.encounter_id, msg.status, msg.author) == (enc.id, "open", "tester")


def test_primary_invalid_moves_eobs_and_balance_and_add_primary_brings_it_back(database):
    medicare, aetna = b.payer("Medicare", "medicare"), b.payer("Aetna")
    pat, enc, charges = b.denied([medicare, aetna])
    assert "primary_invalid" in offered(enc) and "add_primary" not in offered(enc)
    res = actions.apply(enc.id, "primary_invalid", {"confirm": True, "reason": "coverage terminated"})
    assert res["after"]["payers"] == {"primary": "Patient", "secondary": "Aetna"}
    assert res["after"]["encounter_by_rank"]["secondary"] == 150_00
    assert Eob.select().where((Eob.encounter == enc.id) & (Eob.moved_from == medicare.id)).count() == 1
    assert Eob.select().where((Eob.encounter == enc.id) & Eob.dummy).count() == 1
    assert Claim.select().where((Claim.encounter == enc.id) & (Claim.payer == aetna.id)
                                & (Claim.status == "queued")).count() == 1
    assert "add_primary" in offered(enc) and "primary_invalid" not in offered(enc)
    res = actions.apply(enc.id, "add_primary", {"payer_id": medicare.id, "member_id": "1EG4-TE5-MK72"})
    assert res["after"]["payers"]["primary"] == "Medicare"
    assert res["after"]["encounter_by_rank"].get("primary") == 150_00
    assert verify() == []


def test_primary_invalid_without_secondary_bills_the_patient(database):
    pat, enc, _ = b.denied([b.payer("Cigna")])
    actions.apply(enc.id, "primary_invalid", {"confirm": True})
    assert balances.patient_balance(pat.id).patient_due == 150_00
    assert balances.patient_balance(pat.id).insurance_pending == 0


def test_primary_denied_bill_patient_moves_denied_codes_and_makes_statement(database):
    pat, enc, charges = b.denied([b.payer("Aetna")])
    assert "primary_denied_bill_patient" in offered(enc)
    res = actions.apply(enc.id, "primary_denied_bill_patient", {"confirm": True, "charge_ids": [charges[0].id]})
    assert res["report"]["billed_to_patient"] == 100_00
    assert balances.patient_balance(pat.id).patient_due == 100_00
    stmt = Statement.get_by_id(res["report"]["statement_id"])
    assert stmt.amount_due == 100_00 and res["statements_made"] == [stmt.id]
    assert res["offers_queue_removal"] and res["after"]["queue"] == "denied"
    actions.remove_from_queue(enc.id)
    assert Encounter.get_by_id(enc.id).queue_id is None
    assert verify() == []


def _denied_co16_and_pr27():
    """A patient's two charges denied by Aetna: 100.00 as CO-16 (contractual), 50.00 as PR-27."""
    aetna = b.payer("Aetna")
    pat = b.patient()
    enc, (co, pr) = b.encounter(pat, [100_00, 50_00], payers=[aetna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id,
                   "lines": [{"charge_id": co.id, "denied": True, "denial_code": "CO-16"},
                             {"charge_id": pr.id, "denied": True, "denial_code": "PR-27"}]})
    return pat, enc, co, pr


def test_a_clerk_bills_the_patient_only_for_denials_that_are_not_contractual(database):
    pat, enc, co, pr = _denied_co16_and_pr27()
    assert "primary_denied_bill_patient" in offered(enc)
    with pytest.raises(Refused) as err:
        actions.apply(enc.id, "primary_denied_bill_patient", {"confirm": True, "charge_ids": [co.id]})
    assert err.value.field == "override_reason" and "CO-16" in str(err.value)
    res = actions.apply(enc.id, "primary_denied_bill_patient", {"confirm": True})
    assert res["report"]["billed_to_patient"] == 50_00  # PR-27 only: CO-16 is not the patient's to pay
    assert balances.patient_balance(pat.id).patient_due == 50_00
    assert "primary_denied_bill_patient" not in offered(enc)  # what is left is CO-16
    assert verify() == []


def test_a_co_denial_alone_is_not_offered_to_a_clerk_and_a_supervisor_overrides_with_a_reason(database):
    from claimdesk.core.models import AuditEvent

    aetna = b.payer("Aetna")
    pat = b.patient()
    enc, (ch,) = b.encounter(pat, [100_00], payers=[aetna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id,
                   "lines": [{"charge_id": ch.id, "denied": True, "denial_code": "CO-50"}]})
    assert "primary_denied_bill_patient" not in offered(enc)
    with pytest.raises(Refused):
        actions.apply(enc.id, "primary_denied_bill_patient", {"confirm": True, "override_reason": "ABN signed"})
    register("boss", role="supervisor")
    with as_user("boss"):
        assert "primary_denied_bill_patient" in offered(enc)
        res = actions.apply(enc.id, "primary_denied_bill_patient",
                            {"confirm": True, "override_reason": "patient signed an ABN"})
    assert res["report"]["billed_to_patient"] == 100_00
    assert balances.patient_balance(pat.id).patient_due == 100_00
    event = AuditEvent.get_by_id(res["audit_id"])
    assert event.user == "boss" and event.inputs["override_reason"] == "patient signed an ABN"
    assert verify() == []


def test_secondary_denied_bill_patient(database):
    aetna, cigna = b.payer("Aetna"), b.payer("Cigna")
    pat = b.patient()
    enc, (ch,) = b.encounter(pat, [100_00], payers=[aetna, cigna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": b.voucher(aetna, 60_00),
                   "lines": [{"charge_id": ch.id, "paid": "60.00",
                              "adjustments": [{"group_code": "PR", "reason_code": "2", "amount": "40.00"}]}]})
    assert "secondary_denied_bill_patient" not in offered(enc)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": cigna.id,
                   "lines": [{"charge_id": ch.id, "denied": True, "denial_code": "22"}]})
    res = actions.apply(enc.id, "secondary_denied_bill_patient", {"confirm": True})
    assert res["report"]["billed_to_patient"] == 40_00
    assert balances.patient_balance(pat.id).patient_due == 40_00
    assert verify() == []


def test_negotiate_balance_adjusts_the_difference(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [120_00, 80_00])
    res = actions.apply(enc.id, "negotiate_balance", {"final_balance": "150.00", "note": "agreed by phone"})
    assert res["report"]["adjusted"] == 50_00
    assert balances.encounter_balance(enc.id) == 150_00
    with pytest.raises(Refused) as err:
        actions.apply(enc.id, "negotiate_balance", {"final_balance": "150.00"})
    assert err.value.field == "final_balance"


def test_patient_writeoffs_and_bad_debt_needs_supervisor(database):
    _users()
    pat = b.patient()
    enc, _ = b.encounter(pat, [90_00])
    res = actions.apply(enc.id, "patient_writeoff_office", {"amount": "15.00", "reason": "COURTESY"})
    assert res["report"]["written_off"] == 15_00 and balances.encounter_balance(enc.id) == 75_00
    with pytest.raises(InputError) as err:
        actions.apply(enc.id, "patient_writeoff_office", {"amount": "5.00", "reason": "NOPE"})
    assert err.value.field == "reason"
    with pytest.raises(PermissionDenied, match="supervisor"):
        actions.apply(enc.id, "patient_writeoff_bad_debt", {"amount": "75.00"})
    with as_user("boss"):
        actions.apply(enc.id, "patient_writeoff_bad_debt", {"amount": "75.00"})
    assert balances.encounter_balance(enc.id) == 0
    assert Patient.get_by_id(pat.id).bad_debt
    assert verify() == []


def test_insurance_writeoff_with_reasons_and_supervisor_limit(database):
    _users()
    pat, enc, charges = b.denied([b.payer("Aetna")], fees=(100_00, 600_00))
    res = actions.apply(enc.id, "insurance_writeoff",
                        {"lines": [{"charge_id": charges[0].id, "reason": "CO29"}]})
    assert res["report"]["written_off"] == 100_00
    with pytest.raises(PermissionDenied):
        actions.apply(enc.id, "insurance_writeoff", {"lines": [{"charge_id": charges[1].id, "reason": "CO50"}]})
    assert balances.charge_balance(charges[1].id) == 600_00
    with as_user("boss"):
        actions.apply(enc.id, "insurance_writeoff", {"lines": [{"charge_id": charges[1].id, "reason": "CO50"}]})
    assert balances.encounter_balance(enc.id) == 0
    assert verify() == []


def test_add_secondary_moves_patient_balance_and_queues_claim(database):
    aetna, cigna = b.payer("Aetna"), b.payer("Cigna")
    pat = b.patient()
    enc, (ch,) = b.encounter(pat, [100_00], payers=[aetna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": b.voucher(aetna, 70_00),
                   "lines": [{"charge_id": ch.id, "paid": "70.00",
                              "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "30.00"}]}]})
    assert balances.patient_balance(pat.id).patient_due == 30_00
    actions.apply(enc.id, "add_secondary", {"payer_id": cigna.id, "member_id": "C-7"})
    assert balances.patient_balance(pat.id).patient_due == 0
    assert balances.payer_balance(cigna.id) == 30_00
    assert Claim.select().where((Claim.payer == cigna.id) & (Claim.rank == "secondary")).count() == 1
    assert "add_secondary" not in offered(enc)
    actions.apply(enc.id, "update_secondary_info", {"member_id": "C-8", "group_no": "G1"})
    slot = EncounterPayer.get((EncounterPayer.encounter == enc.id) & (EncounterPayer.rank == "secondary"))
    assert (slot.coverage.member_id, slot.coverage.group_no) == ("C-8", "G1")
    res = actions.apply(enc.id, "secondary_invalid", {"confirm": True})
    assert res["report"]["balance_moved"] == 30_00
    assert balances.patient_balance(pat.id).patient_due == 30_00
    assert verify() == []


def test_self_pay_adds_patient_placeholder(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [40_00])
    assert "self_pay" in offered(enc) and "add_primary" not in offered(enc)
    actions.apply(enc.id, "self_pay", {"confirm": True})
    slot = EncounterPayer.get((EncounterPayer.encounter == enc.id) & (EncounterPayer.rank == "primary"))
    assert slot.placeholder and slot.payer.name == "Patient"
    assert "add_primary" in offered(enc)
    assert balances.patient_balance(pat.id).patient_due == 40_00


def test_resend_secondary_only_after_sent(database):
    aetna, cigna = b.payer("Aetna"), b.payer("Cigna")
    pat = b.patient()
    enc, _ = b.encounter(pat, [100_00], payers=[aetna, cigna])
    assert "resend_secondary" not in offered(enc)
    with db.write_transaction():
        Claim.create(encounter=enc, payer=cigna, rank="secondary", status="sent",
                     queued_at="2026-01-01 09:00:00", sent_at="2026-01-02 09:00:00")
    assert "resend_secondary" in offered(enc)
    actions.apply(enc.id, "resend_secondary", {"confirm": True})
    assert Claim.select().where((Claim.encounter == enc.id) & (Claim.status == "queued") & Claim.resend).count() == 1
    assert "resend_secondary" not in offered(enc)


def test_non_billable_then_billable_round_trip(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [70_00])
    actions.apply(enc.id, "non_billable", {"confirm": True})
    e = Encounter.get_by_id(enc.id)
    assert not e.billable and "Non-Billable" in e.tag_list()
    assert balances.patient_balance(pat.id).patient_due == 0
    assert "billable" in offered(enc) and "non_billable" not in offered(enc)
    actions.apply(enc.id, "billable", {"confirm": True})
    assert balances.patient_balance(pat.id).patient_due == 70_00
    assert Encounter.get_by_id(enc.id).tag_list() == []
    assert verify() == []


def test_workers_comp_and_back_to_medical(database):
    aetna, wc = b.payer("Aetna"), b.payer("State Fund WC", "workers_comp")
    pat = b.patient()
    enc, _ = b.encounter(pat, [100_00, 20_00], payers=[aetna])
    res = actions.apply(enc.id, "to_workers_comp", {"confirm": True, "carrier_id": wc.id, "claim_number": "WC-1"})
    new = Encounter.get_by_id(res["report"]["new_encounter"])
    assert Encounter.get_by_id(enc.id).status == "removed"
    assert (new.claim_type, new.replaces_id) == ("workers_comp", enc.id)
    assert balances.encounter_balance(new.id) == 120_00 and balances.encounter_balance(enc.id) == 0
    assert balances.payer_balance(wc.id) == 120_00
    assert actions.assess(enc.id)["offers"][-1]["key"] == "none_of_the_above"
    with pytest.raises(Refused, match="does not apply"):
        actions.apply(enc.id, "to_workers_comp", {"confirm": True, "carrier_id": wc.id})
    actions.apply(new.id, "to_medical", {"confirm": True, "payer_id": aetna.id})
    assert balances.payer_balance(aetna.id) == 120_00 and balances.payer_balance(wc.id) == 0
    assert verify() == []


def test_every_action_is_audited_with_inputs_and_entries(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [90_00])
    res = actions.apply(enc.id, "negotiate_balance", {"final_balance": "60.00"})
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert (ev.action, ev.user, ev.encounter_id) == ("action.negotiate_balance", "tester", enc.id)
    assert ev.inputs["final_balance"] == 60_00 and ev.entries == res["entries"] and ev.entries


def test_same_action_offered_on_patients_other_encounters(database):
    pat = b.patient()
    encs = [b.encounter(pat, [fee])[0] for fee in (30_00, 40_00, 50_00)]
    actions.apply(encs[0].id, "non_billable", {"confirm": True})
    others = actions.other_encounters(encs[0].id, "non_billable")
    assert [o["encounter_id"] for o in others] == [encs[1].id, encs[2].id]
    results = actions.apply_to_others("non_billable", [encs[1].id, encs[2].id], {"confirm": True},
                                      first=encs[0].id)
    assert [(r["encounter_id"], r["ok"]) for r in results] == [(encs[1].id, True), (encs[2].id, True)]
    assert balances.patient_balance(pat.id).patient_due == 0


def test_a_plugin_that_raises_in_apply_writes_nothing(database):
    from claimdesk.api import Action, hookimpl
    from claimdesk.core.plugins.host import get_host

    def boom(ctx, data):
        ctx.ops.write_off(ctx.open_splits(), 10_00, ctx.writeoff_reason("COURTESY", "patient"))
        raise RuntimeError("plugin bug")

    class Broken:
        @staticmethod
        @hookimpl
        def claimdesk_advanced_actions():
            return [Action(key="broken", title="Broken", when="", steps=(), applies=lambda c: True, apply=boom)]

    pat = b.patient()
    enc, _ = b.encounter(pat, [90_00])
    host = get_host()
    host.register(Broken, "broken_plugin")
    try:
        entries = JournalEntry.select().count()
        with pytest.raises(actions.ActionFailed, match="nothing was written"):
            actions.apply(enc.id, "broken", {})
        assert JournalEntry.select().count() == entries
        assert balances.encounter_balance(enc.id) == 90_00
    finally:
        host.unregister("broken_plugin")


# --- preview: what applying would do, nothing written ---------------------------------------------
def _written() -> dict:
    """How many of each record there are (a preview must leave every count as it was)."""
    from claimdesk.core.models import Posting
    from claimdesk.core.models.audit import AuditEntry

    return {m.__name__: m.select().count() for m in (JournalEntry, Posting, AuditEvent, AuditEntry, Statement,
                                                    Claim)} | {"queue": [e.queue_id for e in Encounter.select()]}


def _numbers(res: dict) -> dict:
    """What a result says happened, less the numbers of the records it made (a rolled-back
    statement's id may be given again on SQLite, never by a PostgreSQL sequence)."""
    after = {k: v for k, v in res["after"].items() if k != "statements"}
    return {"before": res["before"], "after": after, "queue_change": res["queue_change"],
            "made": len(res["statements_made"]), "voided": res["statements_voided"],
            "entries": len(res["entries"]), "billed": res["report"].get("billed_to_patient")}


def _denied_twice():
    """A patient with two encounters whose primary (Aetna) denied everything: (patient, first, second)."""
    aetna = b.payer("Aetna")
    pat, first, _ = b.denied([aetna])
    second, charges = b.encounter(pat, [80_00], payers=[aetna])
    eobs.post_eob({"encounter_id": second.id, "payer_id": aetna.id,
                   "lines": [{"charge_id": c.id, "denied": True, "denial_code": "27"} for c in charges]})
    return pat, first, Encounter.get_by_id(second.id)


def test_preview_writes_nothing_and_reports_what_apply_then_does(database):
    pat, first, _second = _denied_twice()
    before = _written()
    seen = actions.preview(first.id, "primary_denied_bill_patient", {"confirm": True})
    assert _written() == before and balances.patient_balance(pat.id).patient_due == 0
    assert seen["dry_run"] is True and seen["audit_id"] is None
    assert seen["after"]["patient_due"] == 150_00 and seen["queue_change"] is None
    assert len(seen["statements_made"]) == 1 and seen["entries"]
    done = actions.apply(first.id, "primary_denied_bill_patient", {"confirm": True})
    assert _numbers(seen) == _numbers(done) and "dry_run" not in done
    assert AuditEvent.select().count() == before["AuditEvent"] + 1


def test_preview_of_another_encounter_sees_the_first_and_refuses_as_apply_does(database):
    _pat, first, second = _denied_twice()
    actions.apply(first.id, "primary_denied_bill_patient", {"confirm": True})
    other, _ = b.encounter(b.patient(), [10_00])
    before = _written()
    seen = actions.preview(second.id, "primary_denied_bill_patient", {"confirm": True}, same_as=first.id)
    assert (seen["before"]["patient_due"], seen["after"]["patient_due"]) == (150_00, 230_00)
    assert seen["same_as"] == first.id and len(seen["statements_voided"]) == 1
    with pytest.raises(InputError) as refused:
        actions.preview(second.id, "primary_denied_bill_patient", {})
    assert "confirm" in refused.value.messages
    with pytest.raises(Refused, match="another patient"):
        actions.preview(other.id, "primary_denied_bill_patient", {"confirm": True}, same_as=first.id)
    assert _written() == before
    done = actions.apply(second.id, "primary_denied_bill_patient", {"confirm": True}, same_as=first.id)
    assert _numbers(seen) == _numbers(done)


def test_a_dry_run_uses_no_idempotency_key_and_tells_no_plugin(database, caplog):
    import logging

    pat, first, _ = _denied_twice()
    data = {"confirm": True}
    events = AuditEvent.select().count()
    with caplog.at_level(logging.INFO, logger="claimdesk.events"):
        actions.preview(first.id, "primary_denied_bill_patient", data)
        actions.dry_run(actions.apply, first.id, "primary_denied_bill_patient", data, idempotency_key="submit-1")
        assert not [r for r in caplog.records if r.name == "claimdesk.events"]
        assert not AuditEvent.select().where(AuditEvent.idempotency_key == "submit-1").exists()
        res = actions.apply(first.id, "primary_denied_bill_patient", data, idempotency_key="submit-1")
    # the key was free: this submit applied (a consumed key would have handed back the first result)
    assert AuditEvent.get(AuditEvent.idempotency_key == "submit-1").id == res["audit_id"]
    assert AuditEvent.select().count() == events + 1 and balances.patient_balance(pat.id).patient_due == 150_00
    assert [r.name for r in caplog.records].count("claimdesk.events") == 1


def test_session_previews_the_others_in_turn_with_the_queue_answer_before_anything_posts(database):
    from claimdesk.core.usecases.advanced_actions import ActionSession

    pat, first, second = _denied_twice()
    session = ActionSession(first.id, "primary_denied_bill_patient", {"confirm": True})
    first_look = session.preview()
    assert first_look.dry_run and first_look.audit_id is None and session.applied is None
    session.apply()
    session.remove_from_queue()
    stranger, _ = b.encounter(b.patient(), [10_00])
    before = _written()
    seen = session.preview_others([second.id, stranger.id])
    assert _written() == before and balances.patient_balance(pat.id).patient_due == 150_00
    ok, refused = seen
    assert ok.applied.dry_run and ok.applied.audit_id is None and ok.removed_from == "denied"
    assert (ok.applied.before.patient_due, ok.applied.after.patient_due) == (150_00, 230_00)
    assert not refused.ok and "another patient" in refused.error
    done = session.apply_to_others([second.id])
    assert _numbers(done[0].applied.stored) == _numbers(ok.applied.stored) and done[0].removed_from == "denied"
