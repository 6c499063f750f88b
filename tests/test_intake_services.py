"""Entering a clinic's own work through the services: patients, coverages, payers, providers,
codes, encounters with charges, charges added and voided. Every refusal names the field and
writes nothing; every change is one audited workflow; the books stay clean (both engines)."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from claimdesk.core import clock, db
from claimdesk.core.context import as_user
from claimdesk.core.errors import InputError, NotFound, PermissionDenied, Refused
from claimdesk.core.money import Cents
from claimdesk.core.models import (
    AuditEvent, Charge, ChargeSplit, Claim, Coverage, Encounter, JournalEntry, Patient, Payer, Provider, ServiceCode,
)
from claimdesk.core.services import (
    balances, charge_entry, coverages, daysheets, encounters, patient_views, patients, payments, verify, zero_splits,
)
from claimdesk.core.services import reference_data as ref

from tests import builders as b
from tests.conftest import register

TABLES = (AuditEvent, Patient, Coverage, Payer, Provider, ServiceCode, Encounter, Charge, ChargeSplit, JournalEntry)
DOS = "2026-01-05"


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


def refused(call, kind=Refused, field: str | None = None, says: str = ""):
    """``call()`` is refused with ``kind`` naming ``field`` (saying ``says``) and writes nothing."""
    before = counts()
    with pytest.raises(kind) as exc:
        call()
    assert counts() == before, "a refusal wrote something"
    if field is not None:
        assert exc.value.field == field, str(exc.value)
    assert says in str(exc.value)
    return exc.value


@pytest.fixture
def desk(database):
    """A payer, a doctor, three codes (one an office fee code), a patient with one coverage; the
    supervisor "boss" set them up, "tester" (a clerk) works."""
    register("boss", role="supervisor")
    with as_user("boss"):
        acme = ref.add_payer({"name": "Acme Health", "payer_code": "acme1", "state": "or", "zip": "97401"})
        care = ref.add_payer({"name": "Medicare Part B", "kind": "medicare", "payer_code": "MCR01"})
        doc = ref.add_provider({"last_name": "Marsh", "first_name": "Elena", "npi": "1234567893",
                                "taxonomy": "207Q00000X"})
        for code, fee, kind in (("99213", "110.00", None), ("36415", "12.00", None), ("RCFEE", "35.00", "office"),
                                ("G8553", "0.00", None)):
            ref.add_code({"code": code, "default_fee": fee, "kind": kind})
    pat = patients.add_patient({"last_name": "Doe", "first_name": "Jan", "dob": "1970-01-02", "sex": "f"})
    cov = coverages.add_coverage({"patient_id": pat["patient_id"], "payer_id": acme["payer_id"], "member_id": "XYZ1"})
    return types.SimpleNamespace(acme=acme["payer_id"], care=care["payer_id"], doc=doc["provider_id"],
                                 pat=pat["patient_id"], cov=cov["coverage_id"])


def visit(desk, idempotency_key: str | None = None, **over) -> dict:
    data = {"patient_id": desk.pat, "provider_id": desk.doc, "dos": DOS, "diagnoses": ["E11.9", "I10"],
            "charges": [{"code": "99213", "modifiers": ["25"]}, {"code": "36415", "pointers": [1]}]}
    return charge_entry.add_encounter({**data, **over}, idempotency_key=idempotency_key)


# --- patients --------------------------------------------------------------------------------------
def test_patients_get_the_next_account_number_and_edits_say_what_changed(desk):
    second = patients.add_patient({"last_name": "Roe", "first_name": "Ann", "dob": "1980-05-06", "state": "or"})
    assert (Patient.get_by_id(desk.pat).account_no, second["account_no"]) == ("A000001", "A000002")
    assert (second["sex"], second["state"]) == ("U", "OR")
    res = patients.edit_patient(second["patient_id"], {"phone": "(541) 555-0101", "zip": "97401-1234"})
    assert res["changed"] == {"phone": ["", "(541) 555-0101"], "zip": ["", "974011234"]}
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert (ev.action, ev.user, ev.patient_id) == ("patient.edit", "tester", second["patient_id"])
    assert patients.edit_patient(second["patient_id"], {"phone": "(541) 555-0101"})["changed"] == {}


def test_patient_refusals_name_the_field_and_write_nothing(desk):
    refused(lambda: patients.add_patient({"last_name": "Doe", "first_name": "jan", "dob": "1970-01-02"}),
            field="dob", says="same name and date of birth")
    twin = patients.add_patient({"last_name": "Doe", "first_name": "Jan", "dob": "1970-01-02", "duplicate_ok": True})
    assert twin["account_no"] == "A000002"
    refused(lambda: patients.add_patient({"last_name": "Roe", "first_name": "Al", "dob": "2099-01-01"}),
            field="dob", says="in the future")
    refused(lambda: patients.add_patient({"last_name": "Roe", "first_name": "Al", "dob": "1990-01-01",
                                          "account_no": "a000001"}), field="account_no", says="belongs to patient")
    refused(lambda: patients.add_patient({"last_name": "Roe", "first_name": "Al", "dob": "1990-01-01",
                                          "state": "Oregon"}), InputError, field="state", says="postal code")
    refused(lambda: patients.add_patient({"first_name": "Al", "dob": "1990-01-01"}), InputError, field="last_name")
    refused(lambda: patients.edit_patient(twin["patient_id"], {}), InputError, says="at least one field")
    refused(lambda: patients.edit_patient(999, {"phone": "1"}), NotFound, field="patient_id")


def test_find_patients_by_name_account_member_id_and_birth_date(desk):
    patients.add_patient({"last_name": "Roe", "first_name": "Ann", "dob": "1980-05-06"})
    assert [p["name"] for p in patient_views.find_patients("xyz1")] == ["Doe, Jan"]  # a member id, any case
    assert [p["name"] for p in patient_views.find_patients("1980-05-06")] == ["Roe, Ann"]
    assert [p["name"] for p in patient_views.find_patients("05/06/1980")] == ["Roe, Ann"]
    assert [p["name"] for p in patient_views.find_patients("A000002")] == ["Roe, Ann"]
    assert [p["name"] for p in patient_views.find_patients(dob=dt.date(1970, 1, 2))] == ["Doe, Jan"]
    assert [p["name"] for p in patient_views.find_patients("o", member_id="XYZ1")] == ["Doe, Jan"]
    assert patient_views.find_patients("roe", dob=dt.date(1970, 1, 2)) == []


# --- coverages --------------------------------------------------------------------------------------
def test_a_coverage_gets_its_plan_type_from_the_payer_and_a_subscriber_when_not_the_patient(desk):
    own = Coverage.get_by_id(desk.cov)
    assert (own.plan_type, own.relationship, own.subscriber) == ("CI", "self", "Doe, Jan")
    res = coverages.add_coverage({"patient_id": desk.pat, "payer_id": desk.care, "member_id": "1EG4TE5MK73",
                                  "relationship": "spouse", "subscriber_last_name": "Doe",
                                  "subscriber_first_name": "John", "subscriber_dob": "1968-03-04",
                                  "subscriber_sex": "m"})
    assert (res["plan_type"], res["subscriber"], res["relationship_code"], res["subscriber_sex"]) == (
        "MB", "Doe, John", "01", "M")
    back = coverages.edit_coverage(res["coverage_id"], {"relationship": "self"})
    assert (back["subscriber_last_name"], back["subscriber_dob"], back["subscriber"]) == ("", None, "Doe, Jan")
    moved = coverages.edit_coverage(res["coverage_id"], {"payer_id": desk.acme, "member_id": "XYZ2"})
    assert moved["plan_type"] == "CI"  # the new payer's default


def test_coverage_refusals_name_the_field_and_write_nothing(desk):
    base = {"patient_id": desk.pat, "payer_id": desk.care, "member_id": "M1"}
    refused(lambda: coverages.add_coverage({**base, "relationship": "child"}), field="subscriber_last_name")
    refused(lambda: coverages.add_coverage({**base, "subscriber_first_name": "Al"}), field="subscriber_first_name",
            says="relationship self")
    pseudo = Payer.get(Payer.name == "Patient").id
    refused(lambda: coverages.add_coverage({**base, "payer_id": pseudo}), field="payer_id", says="not an insurance")
    refused(lambda: coverages.add_coverage({**base, "effective_from": "2026-02-01", "effective_to": "2026-01-01"}),
            field="effective_to")
    refused(lambda: coverages.add_coverage({**base, "payer_id": desk.acme, "member_id": "XYZ1"}), field="member_id")
    refused(lambda: coverages.add_coverage({**base, "plan_type": "XX"}), InputError, field="plan_type")
    refused(lambda: coverages.add_coverage({**base, "relationship": "cousin"}), InputError, field="relationship")
    other = b.patient("Roe", "Al")
    refused(lambda: coverages.edit_coverage(desk.cov, {"patient_id": other.id}), field="patient_id")


# --- reference data ----------------------------------------------------------------------------------
def test_reference_data_needs_a_supervisor_and_unique_identifiers(desk):
    refused(lambda: ref.add_payer({"name": "Beta", "payer_code": "B1"}), PermissionDenied, says="needs a supervisor")
    refused(lambda: ref.add_code({"code": "99214"}), PermissionDenied)
    with as_user("boss"):
        refused(lambda: ref.add_payer({"name": "Beta", "payer_code": "ACME1"}), field="payer_code",
                says="taken by payer")
        refused(lambda: ref.add_payer({"name": "Beta", "payer_code": "B1", "kind": "patient"}), InputError,
                field="kind")
        refused(lambda: ref.edit_payer(Payer.get(Payer.name == "Patient").id, {"phone": "1"}), field="payer_id",
                says="built in")
        refused(lambda: ref.add_provider({"last_name": "Ortiz", "first_name": "Sam", "npi": "1234567890"}),
                InputError, field="npi", says="not a valid NPI")
        refused(lambda: ref.add_provider({"last_name": "Ortiz", "first_name": "Sam", "npi": "1234567893"}),
                field="npi", says="taken by provider")
        refused(lambda: ref.add_provider({"last_name": "Ortiz", "first_name": "Sam"}), field="npi")
        refused(lambda: ref.add_provider({"last_name": "Ortiz", "npi": "1245319599"}), field="first_name")
        office = ref.add_provider({"last_name": "Riverbend Family Medicine", "entity": "organization",
                                   "kind": "administrative", "name": "Office"})
        assert (office["name"], office["npi"]) == ("Office", "")
        refused(lambda: ref.add_code({"code": "NOSHOW"}), field="code", says="needs kind office")
        refused(lambda: ref.add_code({"code": "99213"}), field="code", says="taken")
        code = ref.add_code({"code": "j1030", "default_fee": "18.00"})
        assert (code["code"], code["kind"], code["default_fee"]) == ("J1030", "hcpcs", 18_00)
        edited = ref.edit_payer(desk.acme, {"phone": "(800) 555-0110"})
        assert edited["changed"] == {"phone": ["", "(800) 555-0110"]}
    assert AuditEvent.get_by_id(edited["audit_id"]).user == "boss"


def test_a_payers_era_ids_are_kept_upper_case_once_and_held_by_no_other_payer(desk):
    """The other ids a payer's 835s carry (``remit_ids``): upper case, each once, its own payer id
    left out; one another payer holds (as its payer id or as an ERA id) is refused by field."""
    with as_user("boss"):
        edited = ref.edit_payer(desk.acme, {"remit_ids": " 1362222222, acmeera , 1362222222,acme1"})
        assert edited["changed"] == {"remit_ids": ["", "1362222222,ACMEERA"]}
        assert Payer.get_by_id(desk.acme).remit_ids == "1362222222,ACMEERA"
        refused(lambda: ref.edit_payer(desk.care, {"remit_ids": "MCRERA, acmeera"}), field="remit_ids",
                says="payer id ACMEERA is taken by payer")
        refused(lambda: ref.edit_payer(desk.care, {"remit_ids": "acme1"}), field="remit_ids", says="ACME1 is taken")
        refused(lambda: ref.add_payer({"name": "Beta", "payer_code": "1362222222"}), field="payer_code",
                says="payer id 1362222222 is taken by payer")
        refused(lambda: ref.edit_payer(desk.care, {"remit_ids": "MCR-ERA"}), InputError, field="remit_ids",
                says="separated by commas")


# --- encounters ------------------------------------------------------------------------------------------
def test_an_encounter_is_entered_with_its_charges_posted_and_its_primary_claim_queued(desk):
    res = visit(desk)
    enc = Encounter.get_by_id(res["encounter_id"])
    assert res["claim_no"] == enc.claim_no == f"CD{enc.id}"
    assert res["diagnoses"] == ["E11.9", "I10"] and enc.diagnoses == "E119,I10"
    assert [(c["code"], c["modifiers"], c["pointers"], c["control_no"], c["fee"]) for c in res["charges"]] == [
        ("99213", ["25"], [1], "1", 110_00), ("36415", [], [1], "2", 12_00)]
    assert res["total"] == 122_00 and res["claim_queued"]
    assert balances.patient_balance(desk.pat).insurance_pending == 122_00
    (claim,) = Claim.select().where(Claim.encounter == enc.id)
    assert (claim.payer_id, claim.rank, claim.status) == (desk.acme, "primary", "queued")
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert (ev.action, ev.patient_id, len(ev.entries)) == ("encounter.add", desk.pat, 1)
    assert verify.verify() == []


def test_a_retried_submit_enters_the_encounter_once(desk):
    first = visit(desk, idempotency_key="screen-1")
    again = visit(desk, idempotency_key="screen-1")
    assert again["encounter_id"] == first["encounter_id"] and again["total"] == 122_00
    assert isinstance(again["total"], Cents) and Encounter.select().count() == 1
    refused(lambda: visit(desk, diagnoses=["I10"], idempotency_key="screen-1"), field="idempotency_key")


def test_encounter_refusals_name_the_field_and_write_nothing(desk):
    refused(lambda: visit(desk, diagnoses=["E11.9"], charges=[{"code": "99213", "pointers": [2]}]),
            field="charges.0.pointers", says="only 1")
    refused(lambda: visit(desk, diagnoses=[], charges=[{"code": "99213"}]), field="diagnoses",
            says="needs at least one diagnosis")
    refused(lambda: visit(desk, charges=[{"code": "99999"}]), field="charges.0.code", says="code add")
    refused(lambda: visit(desk, charges=[{"code": "RCFEE", "modifiers": ["25"]}]), field="charges.0.modifiers",
            says="office fee code")
    refused(lambda: visit(desk, charges=[{"code": "99213", "control_no": "A"}, {"code": "36415", "control_no": "A"}]),
            field="charges.1.control_no")
    refused(lambda: visit(desk, diagnoses=["E11.9", "E119"]), field="diagnoses", says="twice")
    refused(lambda: visit(desk, diagnoses=["E11"] * 13), InputError, field="diagnoses", says="at most 12")
    refused(lambda: visit(desk, diagnoses=["11.9"]), InputError, field="diagnoses.0")
    refused(lambda: visit(desk, charges=[]), InputError, field="charges")
    refused(lambda: visit(desk, dos="2099-01-01"), field="dos", says="future")
    refused(lambda: visit(desk, referring_provider_id=desk.doc + 99), NotFound, field="referring_provider_id")
    refused(lambda: visit(desk, coverage_ids=[desk.cov, desk.cov]), field="coverage_ids")
    refused(lambda: visit(desk, place_of_service="1"), InputError, field="place_of_service")
    refused(lambda: visit(desk, charges=[{"code": "99213", "units": 0}]), InputError, field="charges.0.units")
    refused(lambda: visit(desk, charges=[{"code": "99213", "fee": 1.5}]), InputError, field="charges.0.fee")
    first = visit(desk, claim_no="EHR-1")
    assert first["claim_no"] == "EHR-1"
    refused(lambda: visit(desk, claim_no="EHR-1"), field="claim_no", says="already used")
    coverages.add_coverage({"patient_id": desk.pat, "payer_id": desk.care, "member_id": "M1"})
    refused(lambda: visit(desk), field="coverage_ids", says="2 coverages in effect")
    assert verify.verify() == []


def test_coverages_in_order_self_pay_and_office_codes(desk):
    care = coverages.add_coverage({"patient_id": desk.pat, "payer_id": desk.care, "member_id": "M1"})["coverage_id"]
    two = visit(desk, coverage_ids=[care, desk.cov])
    slots = {s.rank: s.payer_id for s in Encounter.get_by_id(two["encounter_id"]).payers}
    assert slots == {"primary": desk.care, "secondary": desk.acme}
    self_pay = visit(desk, coverage_ids=[], diagnoses=[],
                     charges=[{"code": "RCFEE"}, {"code": "99213", "fee": "80.00"}])
    assert not self_pay["claim_queued"] and self_pay["total"] == 115_00
    assert balances.patient_balance(desk.pat).patient_due == 115_00
    assert [c["pointers"] for c in self_pay["charges"]] == [[], []]
    assert verify.verify() == []


def test_a_medigap_plan_behind_a_primary_that_is_not_medicare_is_saved_with_a_warning(desk):
    with as_user("boss"):
        gap = ref.add_payer({"name": "Liberty Medigap", "kind": "medigap", "payer_code": "LMS50"})["payer_id"]
        care = coverages.add_coverage({"patient_id": desk.pat, "payer_id": desk.care, "member_id": "M1"})
    gap_cov = coverages.add_coverage({"patient_id": desk.pat, "payer_id": gap, "member_id": "G1"})["coverage_id"]
    behind_acme = charge_entry.preview_encounter({"patient_id": desk.pat, "provider_id": desk.doc, "dos": DOS,
                                                  "diagnoses": ["I10"], "charges": [{"code": "99213"}],
                                                  "coverage_ids": [desk.cov, gap_cov]})
    assert behind_acme["warnings"] == ["Liberty Medigap is a Medigap plan: it pays after Medicare, but the primary "
                                       "here is Acme Health (commercial)"]
    saved = visit(desk, coverage_ids=[desk.cov, gap_cov])
    assert saved["warnings"] == behind_acme["warnings"]  # saved all the same: the clerk may know better
    assert visit(desk, coverage_ids=[care["coverage_id"], gap_cov])["warnings"] == []  # behind Medicare: right
    assert visit(desk, coverage_ids=[gap_cov])["warnings"] == [
        "Liberty Medigap is a Medigap plan billed as primary: a Medigap plan pays only after Medicare"]


def test_a_charge_is_added_to_an_existing_encounter(desk):
    res = visit(desk)
    line = charge_entry.add_charge({"encounter_id": res["encounter_id"], "code": "36415", "pointers": [2],
                                    "control_no": "X-9", "units": 2})
    assert (line["line_no"], line["control_no"], line["fee"], line["pointers"]) == (3, "X-9", 24_00, [2])
    assert AuditEvent.get_by_id(line["audit_id"]).encounter_id == res["encounter_id"]
    refused(lambda: charge_entry.add_charge({"encounter_id": res["encounter_id"], "code": "36415", "control_no": "2"}),
            field="control_no", says="already on this encounter")
    refused(lambda: charge_entry.add_charge({"encounter_id": res["encounter_id"], "code": "36415", "pointers": [3]}),
            field="pointers")
    with db.write_transaction():
        Encounter.update(status="removed").where(Encounter.id == res["encounter_id"]).execute()
    refused(lambda: charge_entry.add_charge({"encounter_id": res["encounter_id"], "code": "36415"}),
            field="encounter_id", says="removed")
    assert verify.verify() == []


# --- voiding ---------------------------------------------------------------------------------------------
def test_voiding_a_line_reverses_its_charge_entry_and_keeps_the_other_line(desk):
    res = visit(desk)
    keep, gone = res["charges"]
    (entry,) = AuditEvent.get_by_id(res["audit_id"]).entries  # both lines in one charge entry
    refused(lambda: charge_entry.void_charge({"charge_id": gone["charge_id"], "reason": "twice"}), PermissionDenied)
    with as_user("boss"):
        out = charge_entry.void_charge({"charge_id": gone["charge_id"], "reason": "entered twice"})
    (reversal,) = out["reversing_entries"]
    assert JournalEntry.get_by_id(reversal).reverses_id == entry
    assert out["voided_fee"] == 12_00 and Charge.get_by_id(gone["charge_id"]).status == "void"
    assert balances.charge_balance(gone["charge_id"]) == 0 and balances.charge_balance(keep["charge_id"]) == 110_00
    assert balances.patient_balance(desk.pat).insurance_pending == 110_00
    ev = AuditEvent.get_by_id(out["audit_id"])
    assert (ev.action, ev.user, ev.reason, ev.encounter_id) == ("charge.void", "boss", "entered twice",
                                                                res["encounter_id"])
    assert len(ev.entries) == 2  # the other line charged again, then the reversal
    (doc,) = daysheets.provider_activity(clock.today(), clock.today())  # the payroll view sees the 12.00 only
    assert (doc["charges"], doc["reversals"]) == (122_00, -12_00)
    assert verify.verify() == []
    with as_user("boss"):
        refused(lambda: charge_entry.void_charge({"charge_id": gone["charge_id"], "reason": "again"}),
                field="charge_id", says="already void")
        charge_entry.void_charge({"charge_id": keep["charge_id"], "reason": "no visit"})  # its entry is the re-post
    assert balances.patient_balance(desk.pat).insurance_pending == 0
    assert charge_entry.encounter_summary(res["encounter_id"])["total"] == 0
    assert verify.verify() == []


def test_a_paid_charge_is_not_voided_until_the_payment_is_undone(desk):
    res = visit(desk)
    paid = res["charges"][0]["charge_id"]
    voucher = b.voucher(Payer.get_by_id(desk.acme), 50_00)
    payments.post_credit({"patient_id": desk.pat, "voucher_id": voucher, "apply": "manual",
                          "applications": [{"charge_id": paid, "amount": "50.00"}]})
    with as_user("boss"):
        refused(lambda: charge_entry.void_charge({"charge_id": paid, "reason": "x"}), field="charge_id",
                says="money was paid, adjusted or moved on it (payment")
        charge_entry.void_charge({"charge_id": res["charges"][1]["charge_id"], "reason": "x"})  # the unpaid one
    assert balances.charge_balance(paid) == 60_00
    assert verify.verify() == []


def test_a_zero_fee_line_is_voided_without_an_entry_and_leaves_the_zero_splits_list(desk):
    res = visit(desk, charges=[{"code": "99213"}, {"code": "G8553"}])
    zero = res["charges"][1]["charge_id"]
    assert [r["charge_id"] for r in zero_splits.outstanding()] == [zero]
    with as_user("boss"):
        out = charge_entry.void_charge({"charge_id": zero, "reason": "sent by mistake"})
    assert out["reversing_entries"] == [] and AuditEvent.get_by_id(out["audit_id"]).entries == []
    assert zero_splits.outstanding() == []
    assert verify.verify() == []


# --- the set-based writer --------------------------------------------------------------------------------------
def test_many_encounters_are_written_in_one_call_with_one_charge_entry_and_unique_numbers(desk):
    code = ServiceCode.get(ServiceCode.code == "99213")
    n = 300
    next_id = (Encounter.select(Encounter.id).order_by(Encounter.id.desc()).scalar() or 0) + 1
    items = [encounters.NewEncounter(desk.pat, desk.doc, dt.date(2026, 1, 5),
                                     (encounters.NewLine(code.id, 1, 110_00, pointers=(1,)),
                                      encounters.NewLine(code.id, 1, 10_00, control_no="1")),
                                     ((desk.acme, desk.cov),), diagnoses=("E119",),
                                     claim_no=f"CD{next_id + 1}" if i == 0 else None)  # an imported number
             for i in range(n)]
    entries_before = JournalEntry.select().count()
    written = b.audited(lambda: encounters.write(items, memo="import"))
    assert JournalEntry.select().count() == entries_before + 1
    numbers = [Encounter.get_by_id(w.encounter_id).claim_no for w in written]
    assert written[1].encounter_id == next_id + 1
    assert len(set(numbers)) == n and numbers[:3] == [f"CD{next_id + 1}", f"CD{next_id + 1}-2", f"CD{next_id + 2}"]
    controls = [Charge.get_by_id(i).control_no for i in written[0].charge_ids]
    assert controls == ["1-2", "1"]  # the given number kept; the automatic one steps around it
    assert balances.patient_balance(desk.pat).insurance_pending == n * 120_00
    assert verify.verify() == []
