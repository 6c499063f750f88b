"""What the demo clinic's claims carry besides money: diagnoses, pointers, modifiers, claim and
line control numbers, the providers' NPIs and taxonomy, subscribers who are not the patient,
plan types; the demo's ``[clinic]`` values; and hand entry on the demo's books."""

from __future__ import annotations

import pytest
from peewee import fn

from claimdesk.core import claim_rules, config, db, demo, migrations
from claimdesk.core.context import as_user
from claimdesk.core.demo.reference import CLINIC
from claimdesk.core.models import (
    Charge, ChargeSplit, Coverage, Encounter, EncounterPayer, JournalEntry, Patient, Payer, Posting, Provider,
    ServiceCode,
)
from claimdesk.core.services import balances, charge_entry, verify

from tests import demo_cache


@pytest.fixture
def clinic(backend, request, tmp_path_factory, tmp_path):
    """A private copy of the default demo clinic on this test's engine."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    with demo_cache.opened_copy(demo_cache.template(tmp_path_factory, pg=pg)[0], tmp_path):
        yield


def test_every_claim_carries_what_an_837p_needs(clinic):
    numbers = [n for (n,) in Encounter.select(Encounter.claim_no).tuples()]
    assert len(numbers) == len(set(numbers)) and all(numbers)
    office = {i for (i,) in ServiceCode.select(ServiceCode.id).where(ServiceCode.kind == "office").tuples()}
    insured = {e for (e,) in EncounterPayer.select(EncounterPayer.encounter).tuples()}
    dx_of = {e.id: e.diagnosis_list() for e in Encounter.select(Encounter.id, Encounter.diagnoses)}
    for dx in dx_of.values():
        assert len(dx) <= 12 and all(claim_rules.check_diagnosis(d) == d for d in dx)
    lines = list(Charge.select(Charge.encounter, Charge.service_code, Charge.modifiers, Charge.diagnosis_pointers,
                               Charge.control_no, Charge.line_no).tuples())
    for enc, code, mods, pointers, control, line_no in lines:
        assert control == str(line_no)
        if code in office:
            assert (mods, pointers) == ("", "")
            continue
        assert claim_rules.check_pointers(claim_rules.split_pointers(pointers), len(dx_of[enc]))
        if enc in insured:
            assert dx_of[enc], f"encounter {enc} goes to an insurer without a diagnosis"
    mods = {m for _e, _c, ms, *_ in lines for m in claim_rules.split_codes(ms)}
    assert mods == {"25", "GP"}
    assert Encounter.select().where(Encounter.referring_provider.is_null(False)).count() > 0
    assert {s for (s,) in Patient.select(Patient.sex).distinct().tuples()} == {"F", "M"}


def test_providers_payers_and_coverages_are_complete(clinic):
    for p in Provider.select():
        assert claim_rules.check_npi(p.npi) and claim_rules.check_taxonomy(p.taxonomy) and p.last_name
        assert (p.entity == "organization") == (p.kind == "administrative")
    assert all(p.city and p.state and p.zip for p in Payer.select().where(Payer.kind.not_in(["patient", "inactive"])))
    held = []
    for c in Coverage.select(Coverage, Payer).join(Payer):
        assert c.plan_type == claim_rules.plan_type_for(c.payer.kind)
        if c.relationship in ("spouse", "child"):
            assert c.subscriber_last_name and c.subscriber_first_name
            held.append(bool(c.subscriber_dob and c.subscriber_address))
    assert sum(held) >= 0.9 * len(held)  # (a card entered by an advanced action has the name only)
    children = Coverage.select().where(Coverage.relationship == "child")
    assert children.count() > 0 and all(c.subscriber_dob < c.patient.dob for c in children if c.subscriber_dob)
    assert Coverage.select().where(Coverage.relationship == "spouse").count() > 0


def test_the_demo_clinic_is_a_valid_clinic_section(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text(config.clinic_section(config.Clinic(**CLINIC)))
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    clinic = config.load(db=str(tmp_path / "x.db"), user="x").clinic
    assert (clinic.name, clinic.npi) == ("Riverbend Family Medicine", CLINIC["npi"])


def test_voiding_one_line_of_a_days_charge_entry_on_the_demo_keeps_the_rest(clinic):
    """The demo charges a whole day in one entry: a void re-posts the day's other lines."""
    today = Charge.select(fn.MAX(Charge.dos)).scalar()
    (charge,) = (Charge.select().join(ChargeSplit).where((Charge.dos == today) & (Charge.fee > 0)
                                                         & (ChargeSplit.balance == Charge.fee)).limit(1))
    (entry,) = {p.entry_id for p in Posting.select().where((Posting.charge == charge.id)
                                                           & (Posting.account == "REVENUE"))}
    others = {p.charge_id: p.amount for p in Posting.select().where((Posting.entry == entry)
                                                                      & (Posting.account == "AR")
                                                                      & (Posting.charge != charge.id))}
    assert len(others) > 1
    before = {cid: balances.charge_balance(cid) for cid in others}
    due = balances.patient_balance(charge.patient_id)
    with as_user(demo.SUPERVISOR):
        res = charge_entry.void_charge({"charge_id": charge.id, "reason": "billed in error"})
    assert JournalEntry.get_by_id(res["reversing_entries"][0]).reverses_id == entry
    assert {cid: balances.charge_balance(cid) for cid in others} == before
    after = balances.patient_balance(charge.patient_id)
    assert after.insurance_pending + after.patient_due == due.insurance_pending + due.patient_due - charge.fee
    assert verify.verify() == []


def test_a_clerk_enters_a_visit_for_a_demo_patient(clinic):
    cov = (Coverage.select().where(Coverage.active & (Coverage.relationship == "self")
                                   & (Coverage.effective_to.is_null())).order_by(Coverage.id).first())
    doc = Provider.get(Provider.kind == "clinical")
    res = charge_entry.add_encounter({
        "patient_id": cov.patient_id, "provider_id": doc.id, "dos": demo.DEFAULT_TODAY.isoformat(),
        "coverage_ids": [cov.id], "diagnoses": ["I10"], "charges": [{"code": "99214"}, {"code": "93000"}]})
    assert res["claim_no"] == f"CD{res['encounter_id']}" and res["claim_queued"]
    assert res["total"] == 165_00 + 60_00
    assert verify.verify() == []


def test_a_scaled_up_demo_gives_each_copy_its_own_claim_numbers(tmp_path):
    db.connect(str(tmp_path / "scaled.db"))
    try:
        migrations.upgrade()
        demo.build(scale=1.2, months=6)
        numbers = [n for (n,) in Encounter.select(Encounter.claim_no).order_by(Encounter.id).tuples()]
        assert len(numbers) == len(set(numbers))
        half = len(numbers) // 2
        assert numbers[half] == f"{numbers[0]}-2"
        assert verify.verify() == []
    finally:
        db.close()
