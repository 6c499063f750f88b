"""Importing the clinic's own 837P files (issue 15): every good claim becomes an encounter with
its charges, payer order, coverages and its claim marked sent on the file's date, one audit event
and one charge entry per claim; records on file are matched (payer id, NPI, member id + name +
birth date), ambiguity is refused and listed; bad claims are refused with segment and line while
the others import; the same file or claim again creates nothing; a dry run writes nothing;
``verify`` stays clean; then the money flows on the imported encounters. Both engines."""

from __future__ import annotations

import datetime as dt
import types

import pytest
from claimdesk.core.context import as_user
from claimdesk.core.errors import PermissionDenied
from claimdesk.core.models import (
    AuditEvent,
    Charge,
    ChargeSplit,
    Claim,
    Coverage,
    Encounter,
    EncounterPayer,
    JournalEntry,
    Patient,
    Payer,
    Posting,
    Provider,
    ServiceCode,
)
from claimdesk.core.models.imports import ImportedClaim, ImportedFile
from claimdesk.core.money import Cents, as_json
from claimdesk.core.services import (
    balances,
    claim_import,
    coverages,
    eobs,
    patients,
    payments,
    verify,
)
from claimdesk.core.services import reference_data as ref

from tests import builders as b
from tests.conftest import register
from tests.test_x12_validation import pyx12_errors
from tests.x12gen import make_claims, npi, write_837p

TABLES = (Patient, Coverage, Payer, Provider, ServiceCode, Encounter, EncounterPayer, Charge, ChargeSplit, Claim,
          JournalEntry, Posting, AuditEvent, ImportedFile, ImportedClaim)
FILE_DATE = dt.datetime(2024, 3, 4)  # the generator's ISA09
#: A file of every kind of claim: dependants, a secondary claim with the primary's result, a primary
#: claim naming the secondary to bill next, modifiers, 12 diagnoses, providers; claim 3 is bad.
EVERYTHING = dict(dependants=True, secondary=True, next_payer=True, modifiers=True, twelve_diagnoses=True,
                  providers=True)


def counts() -> dict:
    return {m.__name__: m.select().count() for m in TABLES}


def run(*files, dry_run=False, user="tester"):
    """Import (or preview) ``files`` (text of 837P files) as ``user``; the report."""
    with as_user(user):
        return claim_import.import_files([(f"file{i}.837", text) for i, text in enumerate(files, 1)],
                                         dry_run=dry_run)


def line_of(text: str, start: str) -> int:
    """The 1-based line of the first segment starting with ``start``."""
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(start))


def payer_ids(claim) -> list[str]:
    """The payer ids a generated claim bills, primary first."""
    if claim.prior:
        return [claim.prior.payer.payer_id, claim.payer.payer_id]
    return [claim.payer.payer_id] + ([claim.next_payer.payer.payer_id] if claim.next_payer else [])


@pytest.fixture
def boss(database):
    register("boss", role="supervisor")


# --- a file imports ---------------------------------------------------------------------------------
def test_every_good_claim_becomes_an_encounter_with_its_charges_payers_and_sent_claim(database):
    claims = make_claims(8, seed=11, bad=(3,), **EVERYTHING)
    text = write_837p(claims)
    assert pyx12_errors(write_837p([c for i, c in enumerate(claims) if i != 3])) == []  # real 837P
    report = run(text)
    (f,) = report.files
    good = [c for i, c in enumerate(claims) if i != 3]
    assert (f.claims_found, len(f.imported), len(f.skipped), len(f.refused)) == (8, 7, 0, 1)
    assert f.total_charges == Cents(sum(c.total for c in good)) and isinstance(f.total_charges, Cents)
    assert [r.claim_no for r in f.imported] == [c.number for c in good]

    (bad,) = f.refused
    assert (bad.claim_no, bad.segment, bad.element, bad.line) == (claims[3].number, "CLM", "CLM02",
                                                                  line_of(text, f"CLM*{claims[3].number}*"))
    assert "does not balance" in bad.reason and f"line {bad.line})" in bad.reason

    for claim, row in zip(good, f.imported):
        enc = Encounter.get(Encounter.claim_no == claim.number)
        assert row.encounter_id == enc.id
        who = claim.patient or claim.subscriber
        pat = Patient.get_by_id(enc.patient_id)
        assert (pat.last_name, pat.first_name, pat.dob, pat.sex) == (who.last, who.first, who.birth, who.sex)
        assert (enc.dos, enc.place_of_service, enc.frequency) == (min(ln.date for ln in claim.lines), "11", "1")
        assert enc.diagnosis_list() == claim.diagnoses
        lines = list(Charge.select().where(Charge.encounter == enc.id).order_by(Charge.line_no))
        assert [(c.fee, c.units, c.modifiers, c.diagnosis_pointers, c.control_no) for c in lines] == [
            (ln.charge, ln.units, ",".join(ln.modifiers), ",".join(map(str, ln.pointers)), ln.control_number)
            for ln in claim.lines]
        assert [ServiceCode.get_by_id(c.service_code_id).code for c in lines] == [ln.code for ln in claim.lines]
        # the payer order of the claim, each with its coverage; the fee owed by the primary
        slots = list(EncounterPayer.select().where(EncounterPayer.encounter == enc.id).order_by(EncounterPayer.id))
        assert [(s.rank, Payer.get_by_id(s.payer_id).payer_code) for s in slots] == list(
            zip(("primary", "secondary"), payer_ids(claim)))
        assert all(Coverage.get_by_id(s.coverage_id).patient_id == pat.id for s in slots)
        splits = [ChargeSplit.get(ChargeSplit.charge == c.id) for c in lines]
        assert [(s.rank, s.payer_id, s.balance) for s in splits] == [("primary", slots[0].payer_id, c.fee)
                                                                     for c in lines]
        assert balances.encounter_balance(enc.id) == claim.total
        # the claim the file sent is sent on the file's date (and the primary's before it)
        sent = [(c.rank, c.status, c.sent_at) for c in Claim.select().where(Claim.encounter == enc.id).order_by(Claim.id)]
        ranks = ["primary", "secondary"] if claim.prior else ["primary"]
        assert sent == [(rank, "sent", FILE_DATE) for rank in ranks]

    # 12 diagnoses; a child's coverage names the subscriber; a secondary payer's coverage its member id
    first = Encounter.get(Encounter.claim_no == claims[0].number)
    assert len(first.diagnosis_list()) == 12 and len(claims[0].lines[0].modifiers) == 4
    dependant = next(c for c in good if c.patient is not None)
    cov = Coverage.get(Coverage.member_id == dependant.subscriber.member_id)
    assert (cov.relationship, cov.subscriber_last_name, cov.subscriber_first_name) == (
        {"19": "child", "01": "spouse"}[dependant.relationship], dependant.subscriber.last, dependant.subscriber.first)
    named = next(c for c in good if c.next_payer)
    assert Coverage.get(Coverage.member_id == named.next_payer.member_id).relationship in ("self", "child", "spouse")


def test_one_audit_event_and_one_charge_entry_per_claim_and_verify_is_clean(database):
    claims = make_claims(6, seed=12, **EVERYTHING)
    report = run(write_837p(claims))
    (f,) = report.files
    events = list(AuditEvent.select().where(AuditEvent.action == "claim.import").order_by(AuditEvent.id))
    assert len(events) == 6
    for ev, row in zip(events, f.imported):
        (entry,) = JournalEntry.select().where(JournalEntry.encounter == row.encounter_id)
        assert (ev.encounter_id, ev.user, ev.entries, entry.kind) == (row.encounter_id, "tester", [entry.id], "charge")
        assert ev.inputs["claim_no"] == row.claim_no and ev.result["total"] == row.total
        assert -sum(p.amount for p in Posting.select().where((Posting.entry == entry.id)
                                                             & (Posting.account == "REVENUE"))) == row.total
    (file_event,) = AuditEvent.select().where(AuditEvent.action == "claims.import")
    assert file_event.id == f.audit_id and file_event.entries == []
    assert (file_event.result["imported"], file_event.result["encounters"]) == (6, [r.encounter_id for r in f.imported])
    assert verify.verify() == []

    # verify knows the import's rows: an imported claim pointed at another encounter is caught
    other, _charges = b.encounter(b.patient(), [10_00])
    first = f.imported[0]
    ImportedClaim.update(encounter=other.id).where(ImportedClaim.claim_no == first.claim_no).execute()
    assert [(v.check, v.message) for v in verify.verify()] == [
        ("import", f"imported claim {first.claim_no}: encounter {other.id} holds claim number "
                   f"'{Encounter.get_by_id(other.id).claim_no}'")]


def test_importing_the_same_file_again_creates_nothing_and_says_when_and_by_whom(database):
    text = write_837p(make_claims(5, seed=13, bad=(2,), **EVERYTHING))
    first = run(text).files[0]
    before = counts()
    again = run(text).files[0]
    assert counts() == before
    imported = ImportedFile.get()
    assert again.already_text == f"already imported on {imported.imported_at:%Y-%m-%d %H:%M} by tester"
    assert (len(again.imported), len(again.skipped), len(again.refused)) == (0, 4, 1)
    assert [s.encounter_id for s in again.skipped] == [r.encounter_id for r in first.imported]
    assert "was imported on" in again.skipped[0].reason and "from file1.837" in again.skipped[0].reason
    assert verify.verify() == []


def test_a_claim_already_imported_from_another_file_is_skipped_and_the_others_import(database):
    claims = make_claims(4, seed=14)
    run(write_837p(claims[:2]))
    report = run(write_837p(claims[1:], control_number=2))
    (f,) = report.files
    assert f.already_imported is None
    assert [s.claim_no for s in f.skipped] == [claims[1].number]
    assert "from file1.837" in f.skipped[0].reason
    assert [r.claim_no for r in f.imported] == [c.number for c in claims[2:]]
    assert Encounter.select().count() == 4 and ImportedFile.select().count() == 2
    assert verify.verify() == []


# --- matching ---------------------------------------------------------------------------------------
def clinic_on_file(claim) -> types.SimpleNamespace:
    """The claim's payer, billing provider, first code and patient (with a coverage holding its member
    id in lower case) already on file, entered by hand."""
    with as_user("boss"):
        payer = ref.add_payer({"name": "Our Name For Them", "payer_code": claim.payer.payer_id.lower()})
        doc = ref.add_provider({"last_name": "Clinic", "entity": "organization", "npi": npi(12345678)})
        code = ref.add_code({"code": claim.lines[0].code, "default_fee": "99.00"})
    sub = claim.subscriber
    pat = patients.add_patient({"last_name": sub.last.title(), "first_name": sub.first.lower(),
                                "dob": sub.birth.isoformat()})
    cov = coverages.add_coverage({"patient_id": pat["patient_id"], "payer_id": payer["payer_id"],
                                  "member_id": sub.member_id.lower()})
    return types.SimpleNamespace(payer=payer["payer_id"], doc=doc["provider_id"], code=code["service_code_id"],
                                 pat=pat["patient_id"], cov=cov["coverage_id"])


def test_payer_provider_code_patient_and_coverage_on_file_are_matched_not_duplicated(boss):
    (claim,) = make_claims(1, seed=15)
    claim.lines[1].code = claim.lines[0].code  # (a code met twice is one code)
    on_file = clinic_on_file(claim)
    before = counts()
    (f,) = run(write_837p([claim])).files
    assert {k: (t.new, t.matched) for k, t in f.tallies.items()} == {
        "patients": (0, 1), "payers": (0, 1), "providers": (0, 1), "codes": (len({ln.code for ln in claim.lines}) - 1, 1)}
    enc = Encounter.get_by_id(f.imported[0].encounter_id)
    assert (enc.patient_id, enc.provider_id) == (on_file.pat, on_file.doc)
    slot = EncounterPayer.get(EncounterPayer.encounter == enc.id)
    assert (slot.payer_id, slot.coverage_id) == (on_file.payer, on_file.cov)
    after = counts()
    assert (after["Patient"], after["Payer"], after["Provider"], after["Coverage"]) == (
        before["Patient"], before["Payer"], before["Provider"], before["Coverage"])
    assert f.imported[0].payers == ("primary: Our Name For Them",) and f.imported[0].patient_new is False


def test_a_patient_registered_with_accents_is_the_one_an_ehr_file_names_in_capitals(boss):
    """An EHR's 837P writes NUNEZ, JOSE; the clinic registered Núñez, José with that member id:
    the same person, not a second patient (two ledgers, two statements)."""
    (claim,) = make_claims(1, seed=15)
    claim.subscriber.last, claim.subscriber.first = "NUNEZ", "JOSE"
    on_file = clinic_on_file(claim)
    patients.edit_patient(on_file.pat, {"last_name": "Núñez", "first_name": "José"})
    before = counts()["Patient"]
    (f,) = run(write_837p([claim])).files
    assert (f.tallies["patients"].new, f.tallies["patients"].matched) == (0, 1)
    assert Encounter.get_by_id(f.imported[0].encounter_id).patient_id == on_file.pat
    assert counts()["Patient"] == before


def test_a_patient_registered_with_accents_but_not_the_member_id_is_refused_not_made_twice(boss):
    (claim,) = make_claims(1, seed=18)
    claim.subscriber.last, claim.subscriber.first = "NUNEZ", "JOSE"
    pat = patients.add_patient({"last_name": "Núñez", "first_name": "José", "dob": claim.subscriber.birth.isoformat()})
    before = counts()["Patient"]
    (f,) = run(write_837p([claim])).files
    (refused,) = f.refused
    assert f"patient {pat['patient_id']}," in refused.reason and "no coverage with member id" in refused.reason
    assert counts()["Patient"] == before


def test_new_records_are_made_once_and_counted_as_new(database):
    claims = make_claims(3, seed=16, dependants=True)
    claims[2].subscriber, claims[2].patient = claims[0].subscriber, None  # the first patient again
    (f,) = run(write_837p(claims)).files
    assert (f.tallies["patients"].new, f.tallies["patients"].matched) == (2, 0)
    assert Patient.select().count() == 2 and f.imported[2].patient_new is True
    assert [p.account_no for p in Patient.select().order_by(Patient.id)] == ["A000001", "A000002"]
    payer = Payer.get(Payer.payer_code == claims[0].payer.payer_id)
    assert (payer.name, payer.kind) == (claims[0].payer.name, {"MB": "medicare"}.get(claims[0].payer.filing,
                                                                                      "commercial"))
    billing = Provider.get(Provider.npi == npi(12345678))
    assert (billing.entity, billing.last_name, billing.kind, billing.tax_id) == (
        "organization", "VALLEY FAMILY CLINIC", "clinical", "123456789")


def test_an_ambiguous_patient_is_refused_and_listed_never_guessed(boss):
    claims = make_claims(2, seed=17)
    twin_of = claims[0].subscriber
    with as_user("boss"):
        payer = ref.add_payer({"name": "Acme", "payer_code": claims[0].payer.payer_id})["payer_id"]
    ids = []
    for _ in range(2):  # two patients with that name, birth date and member id
        pat = patients.add_patient({"last_name": twin_of.last, "first_name": twin_of.first,
                                    "dob": twin_of.birth.isoformat(), "duplicate_ok": True})
        coverages.add_coverage({"patient_id": pat["patient_id"], "payer_id": payer, "member_id": twin_of.member_id})
        ids.append(pat["patient_id"])
    text = write_837p(claims)
    (f,) = run(text).files
    (refused,) = f.refused
    assert refused.claim_no == claims[0].number and refused.segment == "NM1"
    assert refused.line == line_of(text, f"NM1*IL*1*{twin_of.last}*{twin_of.first}")
    assert "ambiguous patient" in refused.reason
    assert all(f"patient {i}," in refused.reason for i in ids)
    assert [r.claim_no for r in f.imported] == [claims[1].number]  # the other claim imports
    assert verify.verify() == []


def test_a_patient_with_the_name_and_birth_date_but_not_the_member_id_is_refused_until_the_coverage_is_added(boss):
    claims = make_claims(1, seed=18)
    sub = claims[0].subscriber
    pat = patients.add_patient({"last_name": sub.last, "first_name": sub.first, "dob": sub.birth.isoformat()})
    text = write_837p(claims)
    before = counts()
    (f,) = run(text).files
    (refused,) = f.refused
    assert f"patient {pat['patient_id']}," in refused.reason and f"no coverage with member id {sub.member_id}" in refused.reason
    assert counts()["Encounter"] == before["Encounter"]
    assert not Payer.select().where(Payer.payer_code == claims[0].payer.payer_id).exists()  # (not made either)
    with as_user("boss"):
        payer_id = ref.add_payer({"name": "Acme", "payer_code": claims[0].payer.payer_id})["payer_id"]
    coverages.add_coverage({"patient_id": pat["patient_id"], "payer_id": payer_id, "member_id": sub.member_id})
    (again,) = run(text).files  # the same file: the claim refused then imports now
    assert again.already_imported is not None and [r.claim_no for r in again.imported] == [claims[0].number]
    assert Encounter.get_by_id(again.imported[0].encounter_id).patient_id == pat["patient_id"]
    assert verify.verify() == []


# --- refusals -----------------------------------------------------------------------------------------
def test_claims_breaking_the_import_rules_are_refused_with_segment_and_line_and_the_others_import(database):
    claims = make_claims(5, seed=19)
    claims[1].lines[0].code = "ZZ9Z9"  # neither CPT nor HCPCS
    claims[2].lines[-1].date = dt.date(2099, 1, 4)  # a date of service in the future
    claims[3].diagnoses[0] = "11X"  # not ICD-10-CM
    text = write_837p(claims)
    before = counts()
    (f,) = run(text).files
    code, future, dx = f.refused
    assert (code.claim_no, code.segment, code.element, code.line) == (
        claims[1].number, "SV1", "SV101-2", line_of(text, "SV1*HC:ZZ9Z9"))
    assert "'ZZ9Z9' is not a CPT code" in code.reason and "segment SV1 (segment " in code.reason
    assert (future.claim_no, future.segment, future.element, future.line) == (
        claims[2].number, "DTP", "DTP03", line_of(text, "DTP*472*D8*20990104"))
    assert "2099-01-04 is in the future" in future.reason
    assert (dx.segment, dx.line) == ("HI", line_of(text, "HI*ABK:11X")) and "not an ICD-10-CM code" in dx.reason
    assert [r.claim_no for r in f.imported] == [claims[0].number, claims[4].number]
    assert counts()["Encounter"] == before["Encounter"] + 2
    assert ServiceCode.select().where(ServiceCode.code == "ZZ9Z9").count() == 0
    assert verify.verify() == []


def test_a_value_longer_than_x12_allows_refuses_its_claim_by_element_on_either_engine(database):
    # (on PostgreSQL such a name once reached the database, which refused the whole file with an
    # error of its own, "value too long"; SQLite stored it)
    claims = make_claims(3, seed=19)
    claims[0].subscriber.last = "L" * 60  # the most NM103 holds: imported as it is
    claims[1].subscriber.last = "M" * 61
    claims[2].subscriber.member_id = "9" * 81
    text = write_837p(claims)
    (f,) = run(text).files
    name, member = f.refused
    assert (name.claim_no, name.segment, name.element) == (claims[1].number, "NM1", "NM103")
    assert name.reason.startswith("NM103 is 61 characters long; X12 allows at most 60: segment NM1 (segment ")
    assert name.line == line_of(text, "NM1*IL*1*" + "M" * 61)
    assert (member.claim_no, member.element) == (claims[2].number, "NM109")
    assert "NM109 is 81 characters long; X12 allows at most 80" in member.reason
    assert [r.claim_no for r in f.imported] == [claims[0].number]
    assert Patient.select().where(Patient.last_name == "L" * 60).count() == 1
    assert verify.verify() == []


def test_a_name_with_a_control_or_bidirectional_character_is_refused_as_a_clerk_typing_it_would_be(database):
    claims = make_claims(3, seed=19)
    claims[0].subscriber.last = "SMITH\u202eFDP.EXE"  # (would show as "SMITHEXE.PDF")
    claims[1].subscriber.first = "JO\x07N"
    text = write_837p(claims)
    (f,) = run(text).files
    bidi, control = f.refused
    assert (bidi.claim_no, bidi.element) == (claims[0].number, "NM103")
    assert bidi.reason.startswith("NM103 must not contain the bidirectional control character U+202E "
                                  "(it changes how the text is shown): segment NM1 (segment ")
    assert (control.claim_no, control.element) == (claims[1].number, "NM104")
    assert "NM104 must not contain control characters" in control.reason
    assert [r.claim_no for r in f.imported] == [claims[2].number]


def test_a_void_and_a_claim_number_entered_by_hand_are_refused(database):
    claims = make_claims(2, seed=20)
    claims[0].frequency, claims[0].payer_claim_number = "8", "PCN1"
    enc, _charges = b.encounter(b.patient(), [50_00])
    claims[1].number = Encounter.get_by_id(enc.id).claim_no
    (f,) = run(write_837p(claims)).files
    void, held = f.refused
    assert void.element == "CLM05-3" and "a void is not imported" in void.reason
    assert held.element == "CLM01" and f"belongs to encounter {enc.id}, entered here" in held.reason
    assert f.imported == []


def test_a_file_that_cannot_be_read_names_the_segment_and_line_and_writes_nothing(database):
    text = write_837p(make_claims(2, seed=21))
    broken = text.replace("GE*1*1", "GE*9*1")
    before = counts()
    report = run(broken, "not an X12 file at all")
    assert counts() == before
    first, second = report.files
    assert (first.error_segment, first.error_line) == ("GE", line_of(broken, "GE*"))
    assert f"line {first.error_line}" in first.error and second.error and len(report.unreadable) == 2
    assert first.as_dict() == {"file": "file1.837", "read": False, "error": first.error, "segment": "GE",
                               "line": first.error_line}


def test_a_file_dated_outside_the_business_window_imports_nothing(database):
    """ISA09 is the date its claims are marked sent: a file dated more than a year ahead is a
    damaged or mistyped file, refused as a clerk typing that date would be."""
    text = write_837p(make_claims(2, seed=21)).replace("*240304*", "*291231*", 1)  # ISA09
    before = counts()
    (f,) = run(text).files
    assert f.error.startswith("ISA09, the file's date (its claims' date sent), must be at most a year after today")
    assert "got 2029-12-31" in f.error and (f.error_segment, f.error_line, f.imported) == ("ISA", 1, [])
    assert counts() == before


def test_a_claim_for_a_visit_after_the_files_date_is_refused(database):
    """A claim is sent after the visit: one whose date of service is after the file's date (ISA09)
    would be on the books as sent before it happened."""
    claims = make_claims(3, seed=21)
    claims[1].lines[0].date = FILE_DATE.date() + dt.timedelta(days=1)
    text = write_837p(claims)
    (f,) = run(text).files
    (late,) = f.refused
    assert (late.claim_no, late.segment, late.element) == (claims[1].number, "DTP", "DTP03")
    assert "the date of service 2024-03-05 is after the file's date 2024-03-04 (ISA09" in late.reason
    assert [r.claim_no for r in f.imported] == [claims[0].number, claims[2].number]


def test_a_file_joining_interchanges_imports_each_with_its_own_date_sent(database):
    """An EHR or clearinghouse file joining two interchanges (the second with delimiters and a
    date of its own): each imports as a file of its own, its claims sent on its own ISA09; the
    same file again changes nothing."""
    from claimdesk.core.x12 import Delimiters

    first, second = make_claims(3, seed=31), make_claims(2, seed=32)
    later = write_837p(second, control_number=2, delimiters=Delimiters("|", ">", "^", "'")).replace("|240304|", "|240311|")
    text = write_837p(first) + later
    preview = run(text, dry_run=True)
    (a, b) = run(text).files
    assert [f.file for f in preview.files] == [a.file, b.file] == ["file1.837 (interchange 1 of 2)",
                                                                    "file1.837 (interchange 2 of 2)"]
    assert [len(f.imported) for f in (a, b)] == [3, 2] and (a.date, b.date) == (dt.date(2024, 3, 4), dt.date(2024, 3, 11))
    sent = {c.number: {cl.sent_at.date() for cl in Claim.select().join(Encounter).where(Encounter.claim_no == c.number)}
            for c in first + second}
    assert sent == {**{c.number: {dt.date(2024, 3, 4)} for c in first}, **{c.number: {dt.date(2024, 3, 11)} for c in second}}
    before = counts()
    again = run(text).files
    assert counts() == before and all(f.already_imported and not f.imported for f in again)
    assert verify.verify() == []


def test_only_a_claimdesk_user_imports(database):
    before = counts()
    with pytest.raises(PermissionDenied):
        run(write_837p(make_claims(1, seed=22)), user="stranger")
    assert counts() == before


# --- the dry run ----------------------------------------------------------------------------------------
def test_a_dry_run_reports_what_the_import_does_and_writes_nothing(database):
    claims = make_claims(6, seed=23, bad=(4,), **EVERYTHING)
    text = write_837p(claims)
    before = counts()
    preview = run(text, text, dry_run=True)
    assert counts() == before
    one, twice = preview.files
    assert twice.already_text == "the same file as file1.837, earlier in this preview"
    assert len(twice.skipped) == len(one.imported) and twice.imported == []
    (done,) = run(text).files

    def shown(f):
        d = f.as_dict()
        d["imported_claims"] = [{**r, "encounter_id": None} for r in d["imported_claims"]]
        return {k: v for k, v in d.items() if k not in ("dry_run", "audit_id")}

    assert shown(one) == shown(done)
    assert one.dry_run is True and all(r.encounter_id is None for r in one.imported)


# --- the money afterwards ---------------------------------------------------------------------------------
def test_payments_and_claims_flow_on_imported_encounters(database):
    claims = make_claims(3, seed=24, secondary=True, next_payer=True)
    plain, named, secondary = claims  # index 1 names its next payer, index 2 went to the secondary
    run(write_837p(claims))
    enc = {c.number: Encounter.get(Encounter.claim_no == c.number) for c in claims}

    # the payer's check pays the plain claim's first line in part, applied by hand
    charge = Charge.select().where(Charge.encounter == enc[plain.number].id).order_by(Charge.line_no).first()
    half = charge.fee // 2
    voucher = b.voucher(Payer.get(Payer.payer_code == plain.payer.payer_id), half)
    payments.post_credit({"patient_id": charge.patient_id, "voucher_id": voucher, "apply": "manual",
                          "applications": [{"charge_id": charge.id, "amount": as_json(half)}]})
    assert balances.charge_balance(charge.id) == charge.fee - half

    def eob_with_coinsurance(encounter, payer_code):
        """The primary pays 70%, writes off 20%, leaves 10% (PR-2) to the next rank."""
        payer = Payer.get(Payer.payer_code == payer_code)
        lines = list(Charge.select().where(Charge.encounter == encounter.id))
        voucher = b.voucher(payer, sum(c.fee * 70 // 100 for c in lines))
        parts = [(c, c.fee * 70 // 100, c.fee * 20 // 100) for c in lines]
        eobs.post_eob({"encounter_id": encounter.id, "payer_id": payer.id, "voucher_id": voucher, "lines": [
            {"charge_id": c.id, "allowed": as_json(c.fee - co), "paid": as_json(paid),
             "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": as_json(co)},
                             {"group_code": "PR", "reason_code": "2", "amount": as_json(c.fee - paid - co)}]}
            for c, paid, co in parts]})

    # the claim that names its next payer: the primary's coinsurance queues the secondary's claim
    eob_with_coinsurance(enc[named.number], named.payer.payer_id)
    waiting = [(c.rank, c.status) for c in Claim.select().where(Claim.encounter == enc[named.number].id).order_by(Claim.id)]
    assert waiting == [("primary", "sent"), ("secondary", "queued")]
    # the claim the file already sent to the secondary: nothing is queued again
    eob_with_coinsurance(enc[secondary.number], secondary.prior.payer.payer_id)
    assert [(c.rank, c.status) for c in Claim.select().where(Claim.encounter == enc[secondary.number].id)
            .order_by(Claim.id)] == [("primary", "sent"), ("secondary", "sent")]
    assert balances.encounter_balance(enc[secondary.number].id) == sum(
        ln.charge - ln.charge * 70 // 100 - ln.charge * 20 // 100 for ln in secondary.lines)
    assert verify.verify() == []


# --- the command line -----------------------------------------------------------------------------------------
def test_cli_import_837_json_and_text(cli, tmp_path):
    claims = make_claims(4, seed=25, bad=(1,), dependants=True)
    good, bad = tmp_path / "claims.837", tmp_path / "bad.837"
    good.write_text(write_837p(claims))
    bad.write_text(write_837p(claims).replace("SE*", "SE*9"))

    preview = cli.json("import", "837", str(good), "--dry-run")
    assert (preview["dry_run"], preview["imported"], preview["refused"], preview["files"][0]["patients"]) == (
        True, 3, 1, {"new": 3, "matched": 0})
    assert Encounter.select().count() == 0
    text = cli.ok("import", "837", str(good), "--dry-run")
    assert "would import 3, skipped 0 (imported before), refused 1" in text
    assert "patients 3 new, 0 matched" in text and text.rstrip().endswith("dry run: nothing was written")
    data = cli.json("import", "837", str(good))
    (f,) = data["files"]
    assert (f["claims_found"], f["imported"], f["skipped"], f["refused"]) == (4, 3, 0, 1)
    assert f["total_charges"] == as_json(sum(c.total for i, c in enumerate(claims) if i != 1))
    refused = f["refused_claims"][0]
    assert (refused["claim_no"], refused["segment"], refused["element"]) == (claims[1].number, "CLM", "CLM02")
    assert [r["claim_no"] for r in f["imported_claims"]] == [claims[0].number, *(c.number for c in claims[2:])]
    assert isinstance(f["imported_claims"][0]["total"], str)  # money as "12.50"

    out = cli.ok("import", "837", str(good))
    assert "already imported on" in out and "imported 0, skipped 3 (imported before), refused 1" in out
    assert f"{claims[1].number}: CLM02 is" in out

    code, out, _err = cli("import", "837", str(bad))
    assert code == 1 and "bad.837: not read:" in out and "segment SE (segment" in out
    assert "verify: the books are clean" in cli.ok("verify")
