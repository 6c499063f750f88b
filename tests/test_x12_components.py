"""Composite elements: the declared component separator, and the forgiving rule for an undeclared one."""

from __future__ import annotations

import pytest

from claimdesk.core.x12 import read_interchange

from tests.x12gen import hand_interchange

HEAD = "BHT*0019*00*B1*20240304*0930*CH"


def body(*segments: str, **delimiters):
    ic = read_interchange(hand_interchange([HEAD, *segments], **delimiters))
    return ic, ic.transactions()[0].body[1:]


def test_declared_separator_splits_without_warning():
    ic, [sv1, hi] = body("SV1*HC:99213:25:59*125*UN*1***1:2", "HI*ABK:J449*ABF:E119")
    assert sv1.components(1) == ["HC", "99213", "25", "59"]
    assert sv1.components(7) == ["1", "2"]
    assert hi.components(2) == ["ABF", "E119"]
    assert sv1.components(5) == [] and sv1.components(2) == ["125"]
    assert ic.warnings == []


def test_an_undeclared_separator_is_accepted_and_reported_once_per_element():
    ic, segments = body("SV1*HC>99213>25*125*UN*1", "SV1*HC>99214*90*UN*1", "HI*ABK>J449*ABF>E119",
                        "CLM*CD1*215***11>B>1*Y*A*Y*Y")
    sv1a, sv1b, hi, clm = segments
    assert sv1a.components(1) == ["HC", "99213", "25"]
    assert sv1b.components(1) == ["HC", "99214"]
    assert hi.components(1) == ["ABK", "J449"] and hi.components(2) == ["ABF", "E119"]
    assert clm.components(5) == ["11", "B", "1"]
    messages = [str(w) for w in ic.warnings]
    assert messages == [
        "component separator '>' used in SV101; ISA16 declares ':' (first at segment SV1 (segment 5, line 5); 2 elements)",
        "component separator '>' used in HI01; ISA16 declares ':' (first at segment HI (segment 7, line 7))",
        "component separator '>' used in HI02; ISA16 declares ':' (first at segment HI (segment 7, line 7))",
        "component separator '>' used in CLM05; ISA16 declares ':' (first at segment CLM (segment 8, line 8))",
    ]
    assert ic.warnings[0].count == 2 and ic.warnings[0].line == 5


@pytest.mark.parametrize("separator", list(":>^<\\!|+&`".replace(":", "").replace("^", "")))
def test_each_candidate_separator(separator):
    ic, [sv1] = body(f"SV1*HC{separator}99213{separator}25*125*UN*1")
    assert sv1.components(1) == ["HC", "99213", "25"]
    assert f"component separator {separator!r} used in SV101" in str(ic.warnings[0])


def test_the_declared_separator_wins_when_both_appear():
    ic, [sv1] = body("SV1*HC:99213>X*125*UN*1")
    assert sv1.components(1) == ["HC", "99213>X"] and ic.warnings == []


def test_a_value_that_is_not_clearly_composite_stays_whole():
    # the rule needs a 1-3 character alphanumeric first component right before the separator
    ic, [nm1, sv1] = body("NM1*QC*1*O'>BRIEN*ANN", "SV1*HCPC>99213*1*UN*1")
    assert nm1.components(3) == ["O'>BRIEN"]
    assert sv1.components(1) == ["HCPC>99213"]
    ic, [ref] = body("REF*6R*ABCD>1")
    assert ref.components(2) == ["ABCD>1"]
    assert ic.warnings == []


def test_real_delimiters_are_never_taken_as_component_separators():
    # "^" is the repetition separator here: an element "HC^99213" is two repetitions, not components
    ic, [sv1] = body("SV1*HC^99213*125*UN*1")
    assert sv1.components(1) == ["HC^99213"] and sv1.repeats(1) == ["HC", "99213"]
    assert ic.warnings == []
    # with "|" as element separator and ">" declared, a ":" composite is forgiven; "|" never is
    text = hand_interchange([HEAD, "SV1*HC>99213*125*UN*1"], element="|", component=">")
    ic = read_interchange(text.replace("HC>99213", "HC:99213"))
    sv1 = ic.transactions()[0].body[1]
    assert sv1.components(1) == ["HC", "99213"]
    assert "component separator ':' used in SV101; ISA16 declares '>'" in str(ic.warnings[0])


def test_diagnosis_pointers_with_an_undeclared_separator():
    ic, [sv1] = body("SV1*HC>99213*1*UN*1***1>2>4")
    assert sv1.components(7) == ["1", "2", "4"] and sv1.components(1) == ["HC", "99213"]
    assert len(ic.warnings) == 2


def test_composite_with_a_three_character_qualifier():
    ic, [hi] = body("HI*ABK<J449")
    assert hi.components(1) == ["ABK", "J449"]
    assert len(ic.warnings) == 1
