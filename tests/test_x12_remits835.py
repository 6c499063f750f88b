"""835 remittances: every field lands in the records, the three balance rules hold to the cent
(refused, never forced, naming the place), generated files pass pyx12, random remittances
survive write -> read, and a 10,000-claim file parses fast."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
from decimal import Decimal

import pytest
import pyx12.params
import pyx12.x12n_document
from hypothesis import HealthCheck, given, settings, strategies as st

from claimdesk.core.money import Cents
from claimdesk.core.x12 import Delimiters, X12Error, read_interchange
from claimdesk.core.x12.remittance import (
    ADJUSTMENT_GROUPS, CLAIM_STATUSES, PAYMENT_METHODS, Address, Adjustment, ClaimPayment, Contact, Name, Payee,
    Payer, Place, Procedure, ProviderAdjustment, Remittance, ServicePayment,
)
from claimdesk.core.x12.remittance_reader import read_remittances

from tests.x12gen import hand_interchange
from tests.x12gen835 import STATUSES, generate_835, make_remittances, write_835

replace = dataclasses.replace


def read(text: str) -> list[Remittance]:
    """The remittances of an 835 text."""
    return read_remittances(read_interchange(text))


def line_of(text: str, start: str, occurrence: int = 1) -> int:
    """The line (1-based) of the ``occurrence``-th segment that starts with ``start`` (one segment a line)."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if line.startswith(start)]
    return found[occurrence - 1]


def hand_835(body: list[str]) -> str:
    """An interchange holding one 835 written by hand (``*`` and ``:``, one segment a line)."""
    return hand_interchange(body, st_code="835", functional_id="HP").replace("005010X222A1", "005010X221A1")


FULL = [
    "BPR*I*158.47*C*ACH*CCP*01*071000013*DA*123456789*1362222222**01*071000039*DA*987654321*20240326",
    "TRN*1*EFT0001*1362222222",
    "REF*EV*CLINIC01",
    "DTM*405*20240325",
    "N1*PR*BLUE SHIELD*XV*BS00000001",
    "N3*PO BOX 1000*SUITE 5",
    "N4*CHICAGO*IL*606010000",
    "REF*2U*BSIL1",
    "PER*CX*CLAIMS*TE*8005550100",
    "PER*BL*EDI SUPPORT*TE*8005550199*EM*EDI@PAYER.EXAMPLE",
    "N1*PE*VALLEY FAMILY CLINIC*XX*1123456786",
    "N3*100 MAIN ST",
    "N4*SPRINGFIELD*IL*627019876",
    "REF*TJ*123456789",
    "LX*1",
    "TS3*1123456786*11*20241231*2*425",
    "CLP*CD0001*19*300*190*70*12*PCN0001*11*1",
    "CAS*PR*3*20",
    "NM1*QC*1*DOE*JANE*Q**JR*MI*W123",
    "NM1*IL*1*DOE*JOHN****MI*W100",
    "NM1*82*1*WELBY*MARCUS****XX*1234567893",
    "NM1*TT*2*AARP MEDIGAP*****PI*MEDIGAP01",
    "MOA***MA18*N130",
    "REF*1L*GRP12345",
    "DTM*232*20240201",
    "DTM*233*20240203",
    "DTM*050*20240207",
    "AMT*AU*230",
    "QTY*CA*1",
    "SVC*HC:99214:25:59*200*150*0510*1.5*HC:99215*2",
    "DTM*150*20240201",
    "DTM*151*20240203",
    "CAS*CO*45*30*1*94*-10",
    "CAS*PR*2*30",
    "REF*6R*CD0001L1",
    "REF*LU*X1",
    "AMT*B6*170",
    "LQ*HE*N130",
    "LQ*HE*M15",
    "SVC*HC:36415*100*60",
    "DTM*472*20240201",
    "CAS*CO*45*20",
    "CAS*PR*1*20",
    "REF*6R*CD0001L2",
    "AMT*B6*80",
    "CLP*CD0002*4*125*0*0*12*PCN0002",
    "CAS*CO*29*125",
    "NM1*QC*1*ROE*RICHARD****MI*W200",
    "PLB*1123456786*20241231*WO:CD0009*25*L6:PCN0001*-3.47",
    "PLB*1123456786*20241231*FB*10",
]


def test_every_field_lands_in_the_records():
    text = hand_835(FULL)
    [remittance] = read(text)
    d = dt.date
    expected = Remittance(
        control_number="0001", handling="I", amount=Cents(15847), method="ACH", date=d(2024, 3, 26),
        trace_number="EFT0001",
        payer=Payer("BLUE SHIELD", "XV", "BS00000001", Address("PO BOX 1000", "SUITE 5", "CHICAGO", "IL", "606010000"),
                    (("2U", "BSIL1"),),
                    (Contact("CX", "CLAIMS", (("TE", "8005550100"),)),
                     Contact("BL", "EDI SUPPORT", (("TE", "8005550199"), ("EM", "EDI@PAYER.EXAMPLE"))))),
        payee=Payee("VALLEY FAMILY CLINIC", "XX", "1123456786",
                    Address("100 MAIN ST", "", "SPRINGFIELD", "IL", "627019876"), (("TJ", "123456789"),)),
        payment_format="CCP", trace_payer_id="1362222222", receiver_id="CLINIC01", production_date=d(2024, 3, 25),
        claims=(
            ClaimPayment(
                claim_number="CD0001", status="19", charge=Cents(30000), paid=Cents(19000),
                patient_responsibility=Cents(7000), filing_indicator="12", payer_claim_number="PCN0001",
                facility_type="11", frequency="1", patient=Name("DOE", "JANE", "Q", "JR", "MI", "W123"),
                insured=Name("DOE", "JOHN", id_qualifier="MI", id="W100"),
                crossover_carrier=Name("AARP MEDIGAP", id_qualifier="PI", id="MEDIGAP01"),
                adjustments=(Adjustment("PR", "3", Cents(2000)),), remarks=("MA18", "N130"),
                references=(("1L", "GRP12345"),), amounts=(("AU", Cents(23000)),), statement_from=d(2024, 2, 1),
                statement_to=d(2024, 2, 3), received=d(2024, 2, 7),
                lines=(
                    ServicePayment(
                        procedure=Procedure("HC", "99214", ("25", "59")), charge=Cents(20000), paid=Cents(15000),
                        units=Decimal("1.5"), revenue_code="0510", submitted_procedure=Procedure("HC", "99215"),
                        submitted_units=Decimal(2), service_from=d(2024, 2, 1), service_to=d(2024, 2, 3),
                        adjustments=(Adjustment("CO", "45", Cents(3000), Decimal(1)),
                                     Adjustment("CO", "94", Cents(-1000)), Adjustment("PR", "2", Cents(3000))),
                        references=(("6R", "CD0001L1"), ("LU", "X1")), amounts=(("B6", Cents(17000)),),
                        remarks=("N130", "M15"),
                    ),
                    ServicePayment(
                        procedure=Procedure("HC", "36415"), charge=Cents(10000), paid=Cents(6000),
                        service_from=d(2024, 2, 1), service_to=d(2024, 2, 1),
                        adjustments=(Adjustment("CO", "45", Cents(2000)), Adjustment("PR", "1", Cents(2000))),
                        references=(("6R", "CD0001L2"),), amounts=(("B6", Cents(8000)),),
                    ),
                ),
            ),
            ClaimPayment(
                claim_number="CD0002", status="4", charge=Cents(12500), paid=Cents(0), patient_responsibility=Cents(0),
                filing_indicator="12", payer_claim_number="PCN0002",
                patient=Name("ROE", "RICHARD", id_qualifier="MI", id="W200"),
                adjustments=(Adjustment("CO", "29", Cents(12500)),),
            ),
        ),
        provider_adjustments=(
            ProviderAdjustment("1123456786", d(2024, 12, 31), "WO", "CD0009", Cents(2500)),
            ProviderAdjustment("1123456786", d(2024, 12, 31), "L6", "PCN0001", Cents(-347)),
            ProviderAdjustment("1123456786", d(2024, 12, 31), "FB", "", Cents(1000)),
        ),
    )
    assert remittance == expected
    assert remittance.refusal is None and remittance.refused_claims == []
    assert remittance.place == Place("BPR", 4, 4)
    first, denied = remittance.claims
    assert first.place == Place("CLP", line_of(text, "CLP*CD0001"), line_of(text, "CLP*CD0001"))
    assert first.lines[1].place.line == line_of(text, "SVC*HC:36415")
    assert remittance.provider_adjustments[2].place.line == line_of(text, "PLB", 2)
    # derived values
    assert remittance.payer.payer_id == "BSIL1" and remittance.payee.npi == "1123456786"
    assert remittance.payee.tax_id == "123456789"
    assert first.forwarded and not first.is_reversal and first.member_id == "W100" and denied.member_id == "W200"
    assert first.lines[0].control_number == "CD0001L1" and first.lines[0].allowed == 17000
    assert first.lines[1].units == 1 and first.lines[1].submitted_units is None
    assert type(first.charge) is Cents and type(first.lines[0].adjustments[1].amount) is Cents
    assert first.patient_responsibility == sum(a.amount for a in (*first.adjustments, *first.lines[0].adjustments,
                                                                    *first.lines[1].adjustments) if a.group == "PR")
    assert CLAIM_STATUSES[first.status].endswith("forwarded to additional payer(s)")


def test_optional_segments_may_be_missing():
    body = [s for s in FULL if not s.startswith(("PER", "N3", "N4", "REF", "DTM", "AMT", "LQ", "MOA", "TS3", "LX",
                                                  "NM1*IL", "NM1*TT", "NM1*82", "QTY"))]
    [remittance] = read(hand_835(body))
    assert remittance.payer.contacts == () and remittance.payer.address is None and remittance.payee.address is None
    assert remittance.payer.payer_id == "BS00000001" and remittance.payee.tax_id == ""
    first = remittance.claims[0]
    assert first.insured is None and first.statement_from is None and first.lines[0].service_from is None
    assert first.lines[0].control_number == "" and first.lines[0].allowed is None and first.member_id == "W123"
    assert remittance.refusal is None and not first.refused


def test_a_debit_payment_is_negative():
    body = [s.replace("BPR*I*158.47*C*", "BPR*I*158.47*D*") for s in FULL]
    [remittance] = read(hand_835(body))
    assert remittance.amount == -15847
    assert remittance.refusal.rule == "payment"


# --- the balance rules -------------------------------------------------------------------------------------


def reread(remittance: Remittance) -> tuple[str, Remittance]:
    """``remittance`` written and read back (the text too)."""
    text = write_835([remittance])
    [back] = read(text)
    return text, back


def with_claim(remittance: Remittance, index: int, claim: ClaimPayment, payment_change: int = 0) -> Remittance:
    """``remittance`` with claim ``index`` replaced and BPR02 moved by ``payment_change`` cents."""
    claims = list(remittance.claims)
    claims[index] = claim
    return replace(remittance, claims=tuple(claims), amount=remittance.amount + payment_change)


@pytest.mark.parametrize("cent", [1, -1])
def test_the_line_rule(cent):
    [r] = make_remittances(3, seed=4)
    claim = r.claims[0]
    line = claim.lines[1]
    assert line.charge - line.paid == sum(a.amount for a in line.adjustments) and line.refusal is None
    bad_line = replace(line, paid=line.paid + cent)
    lines = (claim.lines[0], bad_line, *claim.lines[2:])
    # the claim's own sums still hold (CLP04 moves with SVC03): only the line is wrong
    text, back = reread(with_claim(r, 0, replace(claim, paid=claim.paid + cent, lines=lines), cent))
    assert back.refusal is None
    refused = back.claims[0]
    assert refused.refusal.rule == "line" and back.refused_claims == [refused]
    assert refused.lines[1].refusal.rule == "line" and refused.lines[0].refusal is None
    svc_line = line_of(text, "SVC", 2)
    assert refused.refusal.place.line == svc_line and refused.refusal.place.tag == "SVC"
    assert f"off by {'-' if cent > 0 else ''}0.01" in refused.refusal.message
    assert str(refused.refusal).startswith(f"claim {claim.claim_number}: service line {line.procedure.code}")
    assert str(refused.refusal).endswith(f"segment SVC (segment {svc_line}, line {svc_line})")
    assert [c.refused for c in back.claims] == [True, False, False]


@pytest.mark.parametrize("cent", [1, -1])
def test_the_claim_rule_with_lines_and_claim_level_cas(cent):
    [r] = make_remittances(6, seed=5)
    index = next(i for i, c in enumerate(r.claims) if c.adjustments and c.lines)  # a claim-level PR-3 copay
    claim = r.claims[index]
    line_cas = sum(a.amount for line in claim.lines for a in line.adjustments)
    assert claim.charge - claim.paid == sum(a.amount for a in claim.adjustments) + line_cas and not claim.refused
    assert claim.paid == sum(line.paid for line in claim.lines) - sum(a.amount for a in claim.adjustments)
    text, back = reread(with_claim(r, index, replace(claim, paid=claim.paid + cent), cent))
    refusal = back.claims[index].refusal
    assert back.refusal is None and refusal.rule == "claim"
    assert refusal.place.line == line_of(text, f"CLP*{claim.claim_number}")
    assert "claim CAS" in refusal.message and "line CAS" in refusal.message and "off by" in refusal.message
    assert [c.refused for c in back.claims] == [i == index for i in range(len(r.claims))]


def test_the_claim_rule_without_lines():
    [r] = make_remittances(4, seed=6, statuses=True)
    index = next(i for i, c in enumerate(r.claims) if c.status == "4")
    claim = r.claims[index]
    assert claim.lines == () and claim.adjustments[0].amount == claim.charge and not claim.refused
    text, back = reread(with_claim(r, index, replace(claim, charge=claim.charge + 1)))
    refusal = back.claims[index].refusal
    assert refusal.rule == "claim" and "line CAS" not in refusal.message and "off by 0.01" in refusal.message
    assert back.refusal is None


@pytest.mark.parametrize("plb", [False, True])
def test_the_payment_rule(plb):
    [r] = make_remittances(5, seed=7, plb=plb)
    provider = sum(a.amount for a in r.provider_adjustments)
    assert r.amount == sum(c.paid for c in r.claims) - provider and r.refusal is None
    if plb:  # WO 25.00 and FB 10.00 reduce the payment, L6 interest 3.47 adds to it
        assert provider == 2500 - 347 + 1000
    for cent in (1, -1):
        text, back = reread(replace(r, amount=r.amount + cent))
        assert back.refusal.rule == "payment" and back.refused_claims == []
        assert back.refusal.place == Place("BPR", 4, line_of(text, "BPR"))
        assert f"off by {'-' if cent < 0 else ''}0.01" in back.refusal.message
    _, same = reread(r)
    assert same == r and same.refusal is None


def test_a_negative_adjustment_balances():
    [r] = make_remittances(3, seed=8, negative=True)
    [(index, claim, line)] = [(i, c, s) for i, c in enumerate(r.claims) for s in c.lines
                              if any(a.amount < 0 for a in s.adjustments)]
    assert line.allowed > line.charge and line.refusal is None and not claim.refused
    bad = replace(line, adjustments=tuple(replace(a, amount=a.amount + 1) if a.amount < 0 else a
                                          for a in line.adjustments))
    _, back = reread(with_claim(r, index, replace(claim, lines=tuple(bad if s is line else s for s in claim.lines))))
    assert back.claims[index].refusal.rule == "line"


def test_a_reversal_balances_with_its_negative_numbers():
    [r] = make_remittances(3, seed=9, reversal=True)
    reversal, correction = r.claims[:2]
    assert reversal.is_reversal and reversal.claim_number == correction.claim_number and correction.status == "1"
    assert reversal.charge < 0 and reversal.paid < 0
    assert all(a.amount <= 0 for s in reversal.lines for a in s.adjustments)
    assert not reversal.refused and r.refusal is None
    _, back = reread(with_claim(r, 0, replace(reversal, paid=reversal.paid - 1), -1))
    assert back.claims[0].refusal.rule == "claim" and back.refusal is None
    assert "CLP03 − CLP04 = " in back.claims[0].refusal.message


def test_the_unbalanced_claim_is_refused_while_the_others_parse():
    [r] = read(generate_835(6, seed=10, unbalanced=(2,), unbalanced_lines=(4,)))
    assert [c.refusal.rule if c.refused else None for c in r.claims] == [None, None, "claim", None, "line", None]
    assert r.refusal is None  # BPR02 is the sum of the CLP04 as written: the payment itself balances
    [off] = read(generate_835(6, seed=10, payment_error=1))
    assert off.refusal.rule == "payment" and off.refused_claims == []


# --- what the generator writes -----------------------------------------------------------------------------


def test_every_status_and_the_reversal_pair():
    [r] = read(generate_835(10, seed=11, statuses=True))
    assert [c.status for c in r.claims] == ["1", "2", "3", "4", "19", "20", "21", "22", "1", "23", "25"]
    assert set(STATUSES) == {c.status for c in r.claims} == set(CLAIM_STATUSES)
    reversal, correction = r.claims[7:9]
    assert reversal.claim_number == correction.claim_number
    assert reversal.payer_claim_number != correction.payer_claim_number
    by_status = {c.status: c for c in r.claims if c is not correction}
    assert all(by_status[s].crossover_carrier for s in ("19", "20", "21", "23"))
    assert by_status["19"].remarks == ("MA18",)
    assert by_status["4"].paid == by_status["23"].paid == by_status["25"].paid == 0
    assert {a.group + "-" + a.reason for s in by_status["2"].lines for a in s.adjustments} >= {"CO-45", "OA-23"}
    assert r.refusal is None and r.refused_claims == []


def test_the_claims_echo_the_837p():
    from tests.x12gen import make_claims

    claims = make_claims(5, seed=12, dependants=True)
    [r] = read(generate_835(claims=claims))
    for sent, paid in zip(claims, r.claims, strict=True):
        assert paid.claim_number == sent.number and paid.member_id == sent.subscriber.member_id
        assert [s.control_number for s in paid.lines] == [line.control_number for line in sent.lines]
        assert [s.procedure.code for s in paid.lines] == [line.code for line in sent.lines]
        assert paid.charge == sum(s.charge for s in paid.lines) == sum(line.charge for line in sent.lines)
        assert (paid.insured is not None) == (sent.patient is not None)


@pytest.mark.parametrize("method", ["CHK", "ACH", "NON"])
def test_payment_methods(method):
    [r] = read(generate_835(4, seed=13, method=method, plb=True))
    assert r.method == method and r.refusal is None
    assert r.handling == {"CHK": "C", "ACH": "I", "NON": "H"}[method]
    assert (r.amount == 0) == (method == "NON") and r.payment_format == ("CCP" if method == "ACH" else "")
    assert {a.reason for a in r.provider_adjustments} >= {"WO", "L6", "FB"}
    wo = r.provider_adjustments[0]
    assert wo.reason == "WO" and wo.reference == r.claims[0].claim_number and wo.amount == 2500


def test_several_payments_in_one_file():
    remittances = read(generate_835(12, seed=14, statuses=True, payments=3, plb=True))
    assert [len(r.claims) for r in remittances] == [5, 5, 3]
    assert [r.control_number for r in remittances] == ["0001", "0002", "0003"]
    assert len({r.trace_number for r in remittances}) == 3 and all(r.refusal is None for r in remittances)
    assert [bool(r.provider_adjustments) for r in remittances] == [True, False, False]


def test_an_undeclared_component_separator_reads_like_the_declared_one():
    options = dict(count=8, seed=15, statuses=True, plb=True)
    declared, forgiven = generate_835(**options), generate_835(**options, write_options={"component_used": ">"})
    assert "SVC*HC>" in forgiven and "PLB*" in forgiven and forgiven.split("~")[0].endswith(":")
    ic = read_interchange(forgiven)
    assert read_remittances(ic) == read(declared)
    names = sorted(str(w).split(" used in ")[1].split(";")[0] for w in ic.warnings)
    assert names == ["PLB03", "PLB05", "PLB07", "SVC01"]


def test_missing_per_is_tolerated():
    [r] = read(generate_835(3, seed=16, missing_per=True))
    assert r.payer.contacts == () and r.refusal is None


# --- errors name the segment and the line ------------------------------------------------------------------


@pytest.mark.parametrize("old, new, words", [
    ("DTM*472*20240201", "DTM*472*20240231", "DTM02 '20240231' is not a calendar date: segment DTM"),
    ("SVC*HC:36415*100*60", "SVC*HC:36415*100*60.001", "SVC03 '60.001' has more than 2 decimals: segment SVC"),
    ("CAS*CO*45*20", "CAS*CO*45*1e3", "CAS03 '1e3' is not an amount"),
    ("CAS*CO*45*20", "CAS*XX*45*20", "CAS01 'XX' is not one of CO, CR, OA, PI, PR"),
    ("CAS*CO*45*20", "CAS*CO*45*20*1**5", "CAS05 is required with the amount after it"),
    ("CAS*CO*45*20", "CAS*CO**20", "CAS02 is required"),
    ("CLP*CD0002*4*", "CLP*CD0002*9*", "CLP02 '9' is not one of"),
    ("CLP*CD0002*4*125*0", "CLP*CD0002*4*125*", "CLP04 is required"),
    ("BPR*I*158.47*C*ACH", "BPR*I*158.47*C*EFT", "BPR04 'EFT' is not one of ACH, BOP, CHK, FWT, NON"),
    ("20240326", "2024032", "BPR16 '2024032' is not a date"),
    ("SVC*HC:36415*100*60", "SVC*36415*100*60", "SVC01 '36415' is not a qualifier and a procedure code"),
    ("PLB*1123456786*20241231*FB*10", "PLB*1123456786*20241231*FB*ten", "PLB04 'ten' is not an amount"),
    ("PLB*1123456786*20241231*FB*10", "PLB*1123456786*2024*FB*10", "PLB02 '2024' is not a date"),
    ("N1*PE*VALLEY FAMILY CLINIC*XX*1123456786", "NX1*PE", "ST has no N1*PE (payee) segment"),
    ("TRN*1*EFT0001*1362222222", "REF*ZZ*1", "ST has no TRN (trace number) segment"),
])
def test_bad_values_raise_the_readers_error_naming_segment_and_line(old, new, words):
    body = [s.replace(old, new, 1) for s in FULL]
    text = hand_835(body)
    with pytest.raises(X12Error) as caught:
        read(text)
    message = str(caught.value)
    assert words in message
    changed = next(s for s in body if new in s)
    line = 3 if words.startswith("ST ") else 3 + body.index(changed) + 1
    assert message.endswith(f"(segment {line}, line {line})")


# --- pyx12 --------------------------------------------------------------------------------------------------


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for ``text`` ([] for a valid file). No 999 is asked for: pyx12 builds
    it from ST03, which the 835 does not use."""
    out = io.StringIO()
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    valid = pyx12.x12n_document.x12n_document(param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None,
                                              fd_html=None, fd_json=out)
    report = json.loads(out.getvalue())
    errors: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "errors":
                    errors.extend(e["err_str"] for e in value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(report)
    if not valid and not errors:
        errors.append("pyx12 found the file invalid")
    assert report["interchanges"][0]["groups"][0]["vriic"] == "005010X221A1"
    return errors


VARIANTS = {
    "plain": dict(count=3),
    "every status, reversal, PLB, negative CAS, 40 claims": dict(count=40, seed=20, statuses=True, reversal=True,
                                                                 plb=True, negative=True),
    "check": dict(count=6, seed=21, method="CHK", reversal=True),
    "no payment": dict(count=5, seed=22, method="NON", statuses=True, plb=True),
    "unbalanced claim, line and payment (valid X12)": dict(count=6, seed=23, unbalanced=(1,), unbalanced_lines=(3,),
                                                            payment_error=1),
    "several payments": dict(count=12, seed=24, statuses=True, payments=3, plb=True),
    "pipe, >, ! and newline delimiters": dict(
        count=5, seed=25, plb=True, write_options={"delimiters": Delimiters("|", ">", "!", "\n"), "line_break": ""}),
    "one line, no line breaks": dict(count=5, seed=26, statuses=True, write_options={"line_break": ""}),
    "CRLF line breaks": dict(count=5, seed=27, plb=True, write_options={"line_break": "\r\n"}),
}


@pytest.mark.parametrize("options", list(VARIANTS.values()), ids=list(VARIANTS))
def test_generated_835_passes_pyx12_with_zero_errors(options):
    text = generate_835(**options)
    assert pyx12_errors(text) == []
    ic = read_interchange(text)
    assert ic.warnings == [] and read_remittances(ic)


def test_pyx12_does_check_the_generated_835():
    text = generate_835(4, seed=28, plb=True)
    bad_status = text.replace("CLP*CD280000001*1*", "CLP*CD280000001*9*")
    assert bad_status != text and any("CLP02" in e for e in pyx12_errors(bad_status))
    assert any("Payer Technical Contact" in e for e in pyx12_errors(generate_835(4, seed=28, missing_per=True)))
    assert pyx12_errors(generate_835(4, seed=28, plb=True, write_options={"component_used": ">"})) != []


# --- round trip ---------------------------------------------------------------------------------------------

ALNUM = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
CODE = st.text(ALNUM, min_size=1, max_size=6)
TWO = st.text(ALNUM, min_size=2, max_size=2)  # modifiers, PLB reasons
REASON = st.text(ALNUM, min_size=1, max_size=5)  # CAS reason codes (X12 allows at most 5 characters)
TEXT = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-", min_size=1, max_size=12)
OPTIONAL = st.just("") | TEXT
CENTS = st.integers(-(10**9), 10**9).map(Cents)
DAY = st.dates(dt.date(1990, 1, 1), dt.date(2069, 12, 31))
QUANTITY = st.integers(0, 10**7).map(lambda n: Decimal(n).scaleb(-2))
PAIRS = st.lists(st.tuples(CODE, TEXT), max_size=3).map(tuple)
AMOUNTS = st.lists(st.tuples(CODE, CENTS), max_size=3).map(tuple)
ERROR = st.sampled_from([0, 0, 0, 1, -1])
NAME = st.builds(Name, TEXT, OPTIONAL, OPTIONAL, OPTIONAL, st.sampled_from(["", "MI", "PI"]), OPTIONAL)
ADDRESS = st.builds(Address, TEXT, OPTIONAL, TEXT, OPTIONAL, OPTIONAL)
ADJUSTMENTS = st.lists(st.builds(Adjustment, st.sampled_from(sorted(ADJUSTMENT_GROUPS)), REASON, CENTS,
                                 st.none() | QUANTITY), max_size=8).map(tuple)
PROCEDURE = st.builds(Procedure, st.sampled_from(["HC", "AD", "NU", "ER", "N4"]), CODE,
                      st.lists(TWO, max_size=4).map(tuple),
                      st.just("") | TEXT)


@st.composite
def service_lines(draw) -> ServicePayment:
    """A line that balances, or misses by a cent."""
    adjustments = draw(ADJUSTMENTS)
    charge = draw(CENTS)
    dates = draw(st.sampled_from(["none", "one", "range", "from", "to"]))
    days = sorted([draw(DAY), draw(DAY)])
    service = {"none": (None, None), "one": (days[0], days[0]), "range": tuple(days), "from": (days[0], None),
               "to": (None, days[1])}[dates]
    return ServicePayment(
        procedure=draw(PROCEDURE), charge=charge, paid=charge - sum(a.amount for a in adjustments) + draw(ERROR),
        units=draw(QUANTITY), revenue_code=draw(st.just("") | CODE), submitted_procedure=draw(st.none() | PROCEDURE),
        submitted_units=draw(st.none() | QUANTITY), service_from=service[0], service_to=service[1],
        adjustments=adjustments, references=draw(PAIRS), amounts=draw(AMOUNTS),
        remarks=tuple(draw(st.lists(CODE, max_size=3))),
    )


@st.composite
def claims(draw, number: int) -> ClaimPayment:
    """A claim whose CLP03 − CLP04 matches its CAS, or misses by a cent."""
    lines = tuple(draw(st.lists(service_lines(), max_size=3)))
    adjustments = draw(ADJUSTMENTS)
    charge = draw(CENTS)
    cas = sum(a.amount for a in adjustments) + sum(a.amount for line in lines for a in line.adjustments)
    return ClaimPayment(
        claim_number=f"C{number}{draw(CODE)}", status=draw(st.sampled_from(sorted(CLAIM_STATUSES))), charge=charge,
        paid=charge - cas + draw(ERROR), patient_responsibility=draw(st.none() | CENTS),
        filing_indicator=draw(st.sampled_from(["12", "MB", "HM", "MC"])), payer_claim_number=draw(CODE),
        facility_type=draw(st.just("") | CODE), frequency=draw(st.sampled_from(["", "1", "7", "8"])),
        patient=draw(st.none() | NAME), insured=draw(st.none() | NAME), crossover_carrier=draw(st.none() | NAME),
        adjustments=adjustments, remarks=tuple(draw(st.lists(CODE, max_size=5))), references=draw(PAIRS),
        amounts=draw(AMOUNTS), statement_from=draw(st.none() | DAY), statement_to=draw(st.none() | DAY),
        received=draw(st.none() | DAY), lines=lines,
    )


@st.composite
def remittances(draw, number: int) -> Remittance:
    """A payment whose BPR02 is Σ CLP04 − Σ PLB, or misses by a cent."""
    claim_list = tuple(draw(claims(i)) for i in range(draw(st.integers(0, 4))))
    provider, fiscal = draw(CODE), draw(DAY)
    plbs = tuple(ProviderAdjustment(provider, fiscal, draw(TWO), draw(st.just("") | CODE), draw(CENTS))
                 for _ in range(draw(st.integers(0, 8))))
    contacts = st.builds(Contact, st.sampled_from(["BL", "CX", "IC"]), OPTIONAL,
                         st.lists(st.tuples(st.sampled_from(["TE", "EM", "UR", "FX"]), TEXT), max_size=3).map(tuple))
    return Remittance(
        control_number=f"{number:04d}", handling=draw(st.sampled_from("CDHIPUX")),
        amount=Cents(sum(c.paid for c in claim_list) - sum(a.amount for a in plbs) + draw(ERROR)),
        method=draw(st.sampled_from(sorted(PAYMENT_METHODS))), date=draw(DAY), trace_number=draw(CODE),
        payer=Payer(draw(TEXT), draw(st.sampled_from(["", "XV"])), draw(st.just("") | CODE), draw(st.none() | ADDRESS),
                    draw(PAIRS), tuple(draw(st.lists(contacts, max_size=3)))),
        payee=Payee(draw(TEXT), draw(st.sampled_from(["XX", "FI", "XV"])), draw(CODE), draw(st.none() | ADDRESS),
                    draw(PAIRS)),
        payment_format=draw(st.sampled_from(["", "CCP", "CTX"])), trace_payer_id=draw(st.just("") | CODE),
        receiver_id=draw(st.just("") | CODE), production_date=draw(st.none() | DAY), claims=claim_list,
        provider_adjustments=plbs,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), count=st.integers(1, 3), component_used=st.sampled_from([None, ">"]))
def test_random_remittances_survive_write_and_read(data, count, component_used):
    written = [data.draw(remittances(number)) for number in range(1, count + 1)]
    back = read_remittances(read_interchange(write_835(written, component_used=component_used)))
    assert back == written
    for before, after in zip(written, back, strict=True):
        assert (before.refusal is None) == (after.refusal is None)
        assert [c.refusal for c in before.claims] == [c.refusal for c in after.claims]
        for claim in after.claims:  # the verdicts are the rules, recomputed here from the numbers read
            lines_ok = all(s.charge - s.paid == sum(a.amount for a in s.adjustments) for s in claim.lines)
            cas = sum(a.amount for a in claim.adjustments) + sum(a.amount for s in claim.lines for a in s.adjustments)
            assert claim.refused == (not lines_ok or claim.charge - claim.paid != cas)
            assert all(s.place is not None for s in claim.lines) and claim.place.tag == "CLP"
