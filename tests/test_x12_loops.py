"""Walking loops: the 837 HL hierarchy, claims at CLM, lines at LX, 835-style cutting with an end tag."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from claimdesk.core.x12 import (
    BILLING_PROVIDER, PATIENT, SUBSCRIBER, X12Error, find, find_all, read_interchange, split_loops,
)

from tests.x12gen import Parties, generate_837p, hand_interchange, make_claims, write_837p


def claims_of(transaction):
    """(claim segments, the HL node holding it) for every claim of an 837, as importers will walk it."""
    for node in transaction.hierarchy():
        if node.level in (SUBSCRIBER, PATIENT):
            _, claims, _ = split_loops(node.segments, "CLM")
            for claim in claims:
                yield claim, node


def test_the_hl_hierarchy_of_a_generated_837():
    claims = make_claims(6, dependants=True)
    ic = read_interchange(write_837p(claims))
    [transaction] = ic.transactions("837")
    nodes = transaction.hierarchy()
    assert [n.level for n in nodes] == ["20", "22", "22", "23", "22", "22", "23", "22", "22", "23"]
    provider = nodes[0]
    assert provider.level == BILLING_PROVIDER and provider.parent is None and provider.has_children
    billing = find(provider.segments, "NM1", "85")
    assert (billing.get(8), billing.get(9)) == ("XX", Parties().billing.npi)
    patient = nodes[3]
    assert patient.parent is nodes[2] and patient.ancestor(BILLING_PROVIDER) is provider
    assert patient.ancestor(SUBSCRIBER) is nodes[2] and patient.ancestor("99") is None
    assert list(provider.descendants())[:3] == [nodes[1], nodes[2], nodes[3]]
    assert nodes[2].has_children and not nodes[1].has_children
    assert find(patient.segments, "PAT").get(1) == claims[1].relationship
    assert "level='23'" in repr(patient)


def test_claims_and_lines_are_easy_to_walk():
    claims = make_claims(8, dependants=True, secondary=True, modifiers=True)
    ic = read_interchange(write_837p(claims, claims_per_transaction=3))
    assert len(ic.transactions()) == 3
    walked = [pair for t in ic.transactions() for pair in claims_of(t)]
    assert [c[0].get(1) for c, _ in walked] == [c.number for c in claims]
    for (segments, node), claim in zip(walked, claims):
        head, lines, tail = split_loops(segments, "LX")
        assert tail == [] and head[0].tag == "CLM"
        assert head[0].amount(2) == sum(line.charge for line in claim.lines)
        assert [find(line, "SV1").components(1)[1] for line in lines] == [line.code for line in claim.lines]
        assert [find(line, "REF", "6R").get(2) for line in lines] == [line.control_number for line in claim.lines]
        assert node.level == (PATIENT if claim.patient else SUBSCRIBER)
        other = find(head, "SBR")
        assert (other is not None) == (claim.prior is not None)
        if claim.prior:
            assert find(head, "AMT", "D").amount(2) == sum(line.adjudication()[0] for line in claim.lines)
            assert [s.get(1) for s in find_all(head, "NM1")] == ["IL", "PR"]
            for line_segments, line in zip(lines, claim.lines):
                svd = find(line_segments, "SVD")
                cas = find_all(line_segments, "CAS")
                charge = find(line_segments, "SV1").amount(2)
                assert charge - sum(c.amount(3) for c in cas) == svd.amount(2)


def test_split_loops_with_an_end_tag():
    body = ["BPR*I*150*C*CHK", "TRN*1*12345*1512345678", "N1*PR*ACME", "LX*1", "CLP*A*1*100*90", "SVC*HC:99213*100*90",
            "CLP*B*1*60*60", "LX*2", "CLP*C*1*10*0", "PLB*123*20241231*WO:X*-10", "PLB*123*20241231*L6*-5"]
    ic = read_interchange(hand_interchange(body, st_code="835", functional_id="HP"))
    segments = ic.transactions()[0].body
    head, groups, tail = split_loops(segments, "LX", end={"PLB"})
    assert [s.tag for s in head] == ["BPR", "TRN", "N1"]
    assert [[s.tag for s in g] for g in groups] == [["LX", "CLP", "SVC", "CLP"], ["LX", "CLP"]]
    assert [s.tag for s in tail] == ["PLB", "PLB"]
    lx_head, claims, _ = split_loops(groups[0], "CLP")
    assert [s.tag for s in lx_head] == ["LX"] and [c[0].get(1) for c in claims] == ["A", "B"]
    assert split_loops(segments, {"CLP", "PLB"})[1][-1][0].tag == "PLB"
    assert split_loops([], "LX") == ([], [], [])
    assert find(segments, "XYZ") is None and find_all(segments, "CLP", "B")[0].get(3) == "60"


def hl_body(*hls: str):
    return read_interchange(hand_interchange(["BHT*0019*00*B1*20240304*0930*CH", *hls])).transactions()[0]


def test_hl_errors_name_the_segment():
    with pytest.raises(X12Error, match=r"HL02 '7' names no earlier HL: segment HL \(segment 6, line 6\)"):
        hl_body("HL*1**20*1", "HL*2*7*22*0").hierarchy()
    with pytest.raises(X12Error, match=r"HL01 '1' is already the id of the HL at line 5: segment HL \(segment 6"):
        hl_body("HL*1**20*1", "HL*1*1*22*0").hierarchy()
    with pytest.raises(X12Error, match=r"HL03 is required"):
        hl_body("HL*1**20*1", "HL*2*1**0").hierarchy()
    with pytest.raises(X12Error, match=r"HL01 is required"):
        hl_body("HL**").hierarchy()


def test_generated_file_reads_without_warnings_and_with_a_warning_per_element_for_gt():
    text = generate_837p(4, modifiers=True, write_options={"component_used": ">"})
    ic = read_interchange(text)
    for transaction in ic.transactions():
        for claim, _ in claims_of(transaction):
            clm = claim[0]
            assert clm.components(5)[2] == "1"
            for line in split_loops(claim, "LX")[1]:
                find(line, "SV1").components(1)
    assert {str(w).split(";")[0] for w in ic.warnings} == {
        "component separator '>' used in CLM05", "component separator '>' used in SV101"}


@settings(max_examples=25, deadline=None)
@given(count=st.integers(min_value=1, max_value=12), seed=st.integers(min_value=0, max_value=99),
       flags=st.lists(st.booleans(), min_size=5, max_size=5), per_set=st.integers(min_value=1, max_value=5),
       line_break=st.sampled_from(["", "\n", "\r\n"]))
def test_generated_files_read_back_to_their_claims(count, seed, flags, per_set, line_break):
    dependants, secondary, modifiers, twelve, replacement = flags
    claims = make_claims(count, seed=seed, dependants=dependants, secondary=secondary, modifiers=modifiers,
                         twelve_diagnoses=twelve, replacement=replacement)
    ic = read_interchange(write_837p(claims, claims_per_transaction=per_set, line_break=line_break))
    walked = [claim for t in ic.transactions() for claim, _ in claims_of(t)]
    assert len(ic.transactions()) == -(-count // per_set)
    for segments, claim in zip(walked, claims, strict=True):
        clm = segments[0]
        assert (clm.get(1), clm.amount(2), clm.components(5)) == (
            claim.number, claim.total, [claim.place_of_service, "B", claim.frequency])
        hi = find(segments, "HI")
        assert [hi.components(i)[1] for i in range(1, len(hi) + 1)] == claim.diagnoses
        lines = split_loops(segments, "LX")[1]
        assert [(find(x, "SV1").components(1)[2:], find(x, "DTP", "472").period(2, 3)[0]) for x in lines] == [
            (list(line.modifiers), line.date) for line in claim.lines]
    assert ic.warnings == []
