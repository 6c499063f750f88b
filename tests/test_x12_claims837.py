"""The 837P claim parser: every field of a generated file lands in the records, bad claims are
refused with their segment and line while the others parse, envelope errors refuse the file."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import re
import string
from decimal import Decimal
from unittest.mock import ANY

import pytest
from hypothesis import given, settings, strategies as st

from claimdesk.core.x12 import Delimiters, X12Error
from claimdesk.core.x12.claims837 import (
    Address, Adjustment, LineAdjudication, Name, OtherPayer, Patient, Payer, Provider, ServiceLine, Subscriber,
)
from claimdesk.core.x12.claims837_reader import parse_837p

from tests import x12gen
from tests.test_x12_validation import pyx12_errors
from tests.x12gen import CLINICIANS, DIAGNOSES, MODIFIERS, Clinician, Parties, hand_interchange, make_claims, write_837p

CLINIC = Parties()
#: A clinic that bills as a person and is paid at another address.
DOCTOR = Parties(
    billing=x12gen.Provider("WELBY", x12gen.npi(777), "987654321", "207Q00000X",
                            x12gen.Address("1 OAK ST", "SALEM", "OR", "973011234"), first="MARCUS"),
    pay_to=x12gen.Address("PO BOX 9", "SALEM", "OR", "973019999"),
)
EVERYTHING = {"dependants": True, "secondary": True, "modifiers": True, "twelve_diagnoses": True,
              "replacement": True, "providers": True}


# --- what a generated claim must become -----------------------------------------------------------


def address(a: x12gen.Address | None) -> Address | None:
    return a and Address(a.line, "", a.city, a.state, a.zip)


def clinician(c: Clinician | None, *, taxonomy: bool) -> Provider | None:
    return c and Provider(Name(c.last, c.first), c.npi, c.taxonomy if taxonomy else "")


def person_name(p: x12gen.Person) -> Name:
    return Name(p.last, p.first)


def assert_claim(record, claim: x12gen.Claim, parties: Parties = CLINIC) -> None:
    """``record`` (a Claim837) holds every value the generator wrote for ``claim``."""
    billing, sub, dependant = parties.billing, claim.subscriber, claim.patient is not None
    assert (record.number, record.total, record.place_of_service, record.frequency) == (
        claim.number, claim.total, claim.place_of_service, claim.frequency)
    assert record.diagnoses == tuple(claim.diagnoses)
    assert record.payer_claim_number == claim.payer_claim_number
    assert record.billing == Provider(Name(billing.name, billing.first, organisation=not billing.first),
                                      billing.npi, billing.taxonomy, billing.tax_id, address(billing.address))
    assert record.pay_to == address(parties.pay_to)
    own = (None, "", None) if dependant else (sub.birth, sub.sex, address(sub.address))
    assert record.subscriber == Subscriber("S" if claim.prior else "P", "" if dependant else "18", claim.group,
                                           claim.payer.filing, person_name(sub), sub.member_id, *own)
    assert record.payer == Payer(claim.payer.name, claim.payer.payer_id)
    patient = claim.patient or sub
    assert record.patient == Patient(claim.relationship if dependant else "18", person_name(patient), patient.birth,
                                     patient.sex, address(patient.address))
    assert record.patient_is_subscriber is not dependant
    assert record.rendering == clinician(claim.rendering, taxonomy=True)
    assert record.referring == clinician(claim.referring, taxonomy=False)
    others = ()
    if claim.prior:
        prior, results = claim.prior, [line.adjudication() for line in claim.lines]
        others = (OtherPayer(
            Subscriber("P", claim.relationship if dependant else "18", prior.group, prior.payer.filing,
                       person_name(sub), prior.member_id),
            Payer(prior.payer.name, prior.payer.payer_id), sum(r[0] for r in results), sum(r[2] for r in results)),)
    assert record.other_payers == others
    assert record.lines == tuple(
        ServiceLine(number, "HC", line.code, line.modifiers, line.charge, "UN", Decimal(line.units),
                    line.place_of_service or claim.place_of_service, line.pointers, line.date, line.date,
                    line.control_number, clinician(line.rendering, taxonomy=True), ANY, ANY, line_result(claim, line))
        for number, line in enumerate(claim.lines, start=1)
    )


def line_result(claim: x12gen.Claim, line: x12gen.Line) -> tuple:
    """The primary's result on ``line`` of a secondary claim (loop 2430), () on other claims."""
    if not claim.prior:
        return ()
    paid, contractual, coinsurance = line.adjudication()
    adjustments = tuple(a for a in (Adjustment("CO", "45", contractual), Adjustment("PR", "2", coinsurance)) if a.amount)
    return (LineAdjudication(claim.prior.payer.payer_id, paid, line.code, line.modifiers, Decimal(line.units),
                             adjustments, claim.prior.paid_on),)


def parse(claims, **write_options):
    return parse_837p(write_837p(claims, **write_options))


# --- every field, the shapes real files take ------------------------------------------------------


def test_every_field_of_every_claim_lands_in_the_records():
    claims = make_claims(40, seed=6, **EVERYTHING)
    claim_file = parse(claims, parties=DOCTOR, claims_per_transaction=15)
    assert claim_file.refused == () and claim_file.warnings == ()
    assert len(claim_file.claims) == 40
    for record, claim in zip(claim_file.claims, claims, strict=True):
        assert_claim(record, claim, DOCTOR)
    assert [c.transaction for c in claim_file.claims] == ["0001"] * 15 + ["0002"] * 15 + ["0003"] * 10
    assert claim_file.claims[0].billing.name == Name("WELBY", "MARCUS")
    assert claim_file.claims[0].pay_to == Address("PO BOX 9", "", "SALEM", "OR", "973019999")


def test_the_generator_s_provider_options_are_valid_837p():
    text = write_837p(make_claims(9, seed=11, **EVERYTHING), parties=DOCTOR)
    assert pyx12_errors(text) == []


def test_envelope_facts_digest_and_places():
    text = write_837p(make_claims(3), control_number=4321, usage="T")
    claim_file = parse_837p(text.encode())
    assert (claim_file.sender_id, claim_file.receiver_id, claim_file.control_number, claim_file.date,
            claim_file.test) == ("CLINIC01", "ACMECH", "000004321", dt.date(2024, 3, 4), True)
    assert claim_file.digest == hashlib.sha256(text.encode()).hexdigest() == parse_837p(text).digest
    assert gc.isenabled()
    lines = text.splitlines()
    for record in claim_file.claims:
        assert lines[record.line - 1].startswith(f"CLM*{record.number}*")
        assert all(lines[line.line - 1] == f"LX*{line.number}~" for line in record.lines)


def test_a_patient_who_is_not_the_subscriber():
    claims = make_claims(4, dependants=True, seed=3)
    self_, child, *_ = parse(claims).claims
    assert not child.patient_is_subscriber and child.patient.relationship == claims[1].relationship
    assert child.patient.name != child.subscriber.name or child.patient.birth != child.subscriber.birth
    assert child.subscriber.member_id == claims[1].subscriber.member_id and child.subscriber.birth is None
    assert self_.patient_is_subscriber and self_.patient.name == self_.subscriber.name
    assert self_.patient.birth == self_.subscriber.birth == claims[0].subscriber.birth


def test_a_secondary_claim_carries_what_the_primary_paid():
    claims = make_claims(3, secondary=True, seed=5)
    record = parse(claims).claims[2]
    assert record.subscriber.sequence == "S" and record.payer.payer_id == claims[2].payer.payer_id
    [other] = record.other_payers
    assert other.subscriber.sequence == "P" and other.subscriber.member_id == claims[2].prior.member_id
    assert (other.payer.payer_id, other.payer.name) == (claims[2].prior.payer.payer_id, claims[2].prior.payer.name)
    assert other.paid == sum(line.adjudication()[0] for line in claims[2].lines) and other.paid > 0
    assert parse(claims).claims[0].other_payers == ()


def test_four_modifiers_and_twelve_diagnoses():
    claims = make_claims(2, modifiers=True, twelve_diagnoses=True)
    record = parse(claims).claims[0]
    assert len(record.lines[0].modifiers) == 4 and record.lines[0].modifiers == claims[0].lines[0].modifiers
    assert len(record.diagnoses) == 12 and record.diagnoses == tuple(claims[0].diagnoses)


def test_the_component_separator_a_sender_really_used_is_read_with_a_warning():
    claims = make_claims(6, seed=8, **EVERYTHING)
    claim_file = parse(claims, component_used=">")
    for record, claim in zip(claim_file.claims, claims, strict=True):
        assert_claim(record, claim)
    messages = [str(w) for w in claim_file.warnings]
    assert any(m.startswith("component separator '>' used in SV101; ISA16 declares ':'") for m in messages)
    assert {w.tag for w in claim_file.warnings} >= {"CLM", "HI", "SV1"}


@pytest.mark.parametrize("options", [
    {"line_break": "\r\n"},
    {"line_break": ""},
    {"delimiters": Delimiters("|", ">", "!", "\n"), "line_break": ""},
], ids=["CRLF", "no line breaks", "newline terminator"])
def test_line_breaks_and_delimiters(options):
    claims = make_claims(7, seed=9, **EVERYTHING)
    claim_file = parse(claims, **options)
    for record, claim in zip(claim_file.claims, claims, strict=True):
        assert_claim(record, claim)
    one_line = options == {"line_break": ""}
    expected = [1] * 7 if one_line else [c.line for c in parse(claims).claims]  # else one segment a line
    assert [c.line for c in claim_file.claims] == expected


def test_a_date_range_and_fractional_units():
    text = write_837p(make_claims(1))
    text = text.replace("DTP*472*D8*20240201", "DTP*472*RD8*20240201-20240203", 1)
    text = re.sub(r"^(SV1\*[^*]+\*[^*]+)\*UN\*\d+", r"\1*MJ*1.5", text, count=1, flags=re.MULTILINE)
    [line, *_] = parse_837p(text).claims[0].lines
    assert (line.service_from, line.service_to) == (dt.date(2024, 2, 1), dt.date(2024, 2, 3))
    assert (line.unit_basis, line.units) == ("MJ", Decimal("1.5"))


# --- refusals: one bad claim never stops the others -----------------------------------------------


def refusal_of(claims, index):
    """Parse ``claims``: the claim at ``index`` is refused, every other one parses; its refusal."""
    claim_file = parse(claims)
    assert [c.number for c in claim_file.claims] == [c.number for i, c in enumerate(claims) if i != index]
    [refusal] = claim_file.refused
    assert refusal.number == claims[index].number
    assert refusal.reason.endswith(f"segment {refusal.tag} (segment {refusal.segment_number}, line {refusal.line})")
    return refusal


def test_a_claim_that_does_not_balance_is_refused_at_its_clm():
    claims = make_claims(5, bad=(2,), seed=7)
    refusal = refusal_of(claims, 2)
    lines = write_837p(claims).splitlines()
    assert lines[refusal.line - 1].startswith(f"CLM*{claims[2].number}*") and refusal.claim_line == refusal.line
    assert (refusal.tag, refusal.element) == ("CLM", "CLM02")
    charged = sum(line.charge for line in claims[2].lines)
    assert f"CLM02 is {(charged + 1000) / 100:,.2f} but the service lines (SV102) add up to {charged / 100:,.2f}" in (
        refusal.reason)


def wrong_npi(npi: str) -> str:
    return npi[:-1] + str((int(npi[-1]) + 1) % 10)


def test_a_wrong_npi_refuses_its_claim():
    claims = make_claims(4, seed=2, providers=True)
    claims[1].rendering = Clinician("DOE", "JANE", wrong_npi(CLINICIANS[0].npi))
    refusal = refusal_of(claims, 1)
    assert (refusal.tag, refusal.element) == ("NM1", "NM109") and "not a valid NPI" in refusal.reason
    assert write_837p(claims).splitlines()[refusal.line - 1].startswith("NM1*82*1*DOE*JANE")


def test_a_wrong_billing_npi_refuses_every_claim_below_it():
    billing = x12gen.Provider("CLINIC", wrong_npi(x12gen.npi(5)), "123456789", "207Q00000X", CLINIC.billing.address)
    claim_file = parse(make_claims(3), parties=Parties(billing=billing))
    assert claim_file.claims == () and len(claim_file.refused) == 3
    assert {(r.tag, r.line, r.element) for r in claim_file.refused} == {("NM1", 10, "NM109")}
    assert len({r.claim_line for r in claim_file.refused}) == 3


def _no_number(claims):
    claims[1].number = ""


def _no_member_id(claims):
    claims[1].subscriber.member_id = ""


def _no_procedure_code(claims):
    claims[1].lines[0].code = ""


def _pointer_to_nothing(claims):
    claims[1].lines[-1].pointers = (len(claims[1].diagnoses) + 1,)


def _thirteen_diagnoses(claims):
    claims[1].diagnoses = DIAGNOSES[:13]


@pytest.mark.parametrize("change, tag, element, words", [
    (_no_number, "CLM", "CLM01", "the clinic's claim number"),
    (_no_member_id, "NM1", "NM109", "member id"),
    (_no_procedure_code, "SV1", "SV101", "no procedure code"),
    (_pointer_to_nothing, "SV1", "SV107", "points at diagnosis"),
    (_thirteen_diagnoses, "HI", "HI13", "is diagnosis 13; a claim carries 12 at most"),
], ids=["CLM01", "member id", "procedure code", "diagnosis pointer", "13 diagnoses"])
def test_a_claim_missing_what_it_needs_is_refused_naming_the_place(change, tag, element, words):
    claims = make_claims(3, seed=4)
    change(claims)
    refusal = refusal_of(claims, 1)
    assert (refusal.tag, refusal.element) == (tag, element) and words in refusal.reason
    assert write_837p(claims).splitlines()[refusal.line - 1].startswith(tag)


def test_a_bad_value_in_a_claim_refuses_that_claim_only():
    text = write_837p(make_claims(3, seed=4))
    second = re.findall(r"^SV1\*[^*]+\*([^*]+)\*", text, re.MULTILINE)[3]
    broken = text.replace(f"*{second}*UN*", "*12.345*UN*", 1)
    claim_file = parse_837p(broken)
    assert len(claim_file.claims) + len(claim_file.refused) == 3 and len(claim_file.refused) == 1
    assert "SV102 '12.345' has more than 2 decimals" in claim_file.refused[0].reason


def test_a_claim_whose_levels_do_not_hold_together_is_refused():
    body = ["BHT*0019*00*B1*20240304*0930*CH", "HL*1**20*1", "NM1*85*2*CLINIC*****XX*" + x12gen.npi(1),
            "HL*2*1*23*0", "PAT*19", "NM1*QC*1*DOE*JANE", "CLM*C1*10***11:B:1", "HI*ABK:I10",
            "LX*1", "SV1*HC:99213*10*UN*1***1", "DTP*472*D8*20240201"]
    [refusal] = parse_837p(hand_interchange(body)).refused
    assert refusal.number == "C1" and "a patient level (23) stands under a subscriber level (22)" in refusal.reason
    assert (refusal.tag, refusal.line) == ("HL", 7)


@pytest.mark.parametrize("pointer", ["²", "9" * 5000, "1²"], ids=["superscript", "5000 nines", "1 superscript"])
def test_a_diagnosis_pointer_that_is_no_number_refuses_the_claim_naming_it(pointer):
    text = write_837p(make_claims(3, seed=4))
    lines = [m.start(2) for m in re.finditer(r"^(SV1\*(?:[^*~\n]*\*){6})([^*~\n]*)", text, re.MULTILINE)]
    end = lines[0] + re.match(r"[^*~\n]*", text[lines[0]:]).end()
    claim_file = parse_837p(text[:lines[0]] + pointer + text[end:])
    [refusal] = claim_file.refused
    assert len(claim_file.claims) == 2 and refusal.element == "SV107"
    assert f"points at diagnosis {pointer!r}" in refusal.reason


# --- the whole file refused -----------------------------------------------------------------------


@pytest.mark.parametrize("change, words", [
    (lambda t: re.sub(r"^SE\*\d+\*", "SE*999*", t, flags=re.MULTILINE), "SE01 says 999 segments"),
    (lambda t: t.replace("IEA*1*000000001", "IEA*1*000000002"), "IEA02 '000000002' does not match"),
    (lambda t: t.replace("005010X222A1", "005010X223A2"), "'005010X223A2' is not an 837P"),
    (lambda t: t[:50] + t[60:], "ISA"),
    (lambda t: t.replace("HL*3*1*22", "HL*2*1*22"), "HL01 '2' is already the id of the HL at line 14"),
])
def test_an_envelope_error_refuses_the_whole_file(change, words):
    text = change(write_837p(make_claims(3)))
    with pytest.raises(X12Error, match=re.escape(words)):
        parse_837p(text)
    assert gc.isenabled()


def test_a_file_without_an_837_is_refused():
    with pytest.raises(X12Error, match="holds no 837 transaction set"):
        parse_837p(hand_interchange(["BPR*I*0*C*NON************20240304", "TRN*1*1*1"], st_code="835",
                                    functional_id="HP"))


# --- round trip -----------------------------------------------------------------------------------

WORDS = st.text(string.ascii_uppercase, min_size=1, max_size=12)
IDS = st.from_regex(r"[A-Z0-9]{1,15}", fullmatch=True)
DATES = st.dates(dt.date(1930, 1, 1), dt.date(2024, 12, 31))
ADDRESSES = st.builds(x12gen.Address, WORDS, WORDS, st.sampled_from(["IL", "OR", "TX"]),
                      st.from_regex(r"[0-9]{9}", fullmatch=True))
PAYERS = st.builds(x12gen.Payer, WORDS, IDS, st.sampled_from(["CI", "MB", "BL", "MC"]))
CLINICIAN = st.none() | st.sampled_from(CLINICIANS)


def people(member: bool):
    return st.builds(x12gen.Person, WORDS, WORDS, DATES, st.sampled_from("FMU"), ADDRESSES,
                     IDS if member else st.just(""))


@st.composite
def claims(draw, number: int):
    diagnoses = draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=12, unique=True))
    pointer = st.integers(1, min(len(diagnoses), 12))
    lines = draw(st.lists(st.builds(
        x12gen.Line, st.from_regex(r"[0-9]{4}[0-9A-Z]", fullmatch=True), st.integers(1, 10**7), DATES,
        IDS, st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True).map(tuple), st.integers(1, 99),
        st.lists(pointer, min_size=1, max_size=4, unique=True).map(tuple), st.sampled_from(["", "02", "12"]),
        CLINICIAN,
    ), min_size=1, max_size=5))
    claim = x12gen.Claim(f"C{number}{draw(IDS)}"[:20], draw(people(True)), draw(PAYERS), draw(IDS), diagnoses, lines,
                         draw(st.none() | people(False)), draw(st.sampled_from(["01", "19", "G8"])),
                         draw(st.sampled_from(["11", "22", "02"])), referring=draw(CLINICIAN),
                         rendering=draw(CLINICIAN))
    if draw(st.booleans()):
        claim.frequency, claim.payer_claim_number = "7", draw(IDS)
    if draw(st.booleans()):
        claim.prior = x12gen.PriorPayer(draw(PAYERS), draw(IDS), draw(IDS), draw(DATES))
    return claim


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5).flatmap(lambda n: st.tuples(*(claims(i) for i in range(n)))),
       st.sampled_from([{}, {"line_break": "\r\n"}, {"line_break": ""}, {"component_used": ">"},
                        {"delimiters": Delimiters("|", ">", "!", "\n"), "line_break": ""}]))
def test_round_trip_generated_claims_parse_to_the_same_values(drawn, options):
    claim_file = parse(list(drawn), **options)
    assert claim_file.refused == ()
    for record, claim in zip(claim_file.claims, drawn, strict=True):
        assert_claim(record, claim)
