"""Envelope checks: control numbers, counts and nesting, each refusal naming segment and line."""

from __future__ import annotations

import pytest

from claimdesk.core.x12 import X12Error, read_interchange

from tests.x12gen import hand_interchange

BODY = ["BHT*0019*00*B1*20240304*0930*CH", "NM1*41*2*VALLEY CLINIC*****46*CLINIC01"]
# Lines of hand_interchange(BODY): 1 ISA, 2 GS, 3 ST, 4 BHT, 5 NM1, 6 SE, 7 GE, 8 IEA
GOOD = hand_interchange(BODY)


def refused(text: str) -> X12Error:
    with pytest.raises(X12Error) as caught:
        read_interchange(text)
    return caught.value


def test_the_good_file_reads():
    assert [s.tag for s in read_interchange(GOOD).segments][-3:] == ["SE", "GE", "IEA"]


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("SE*4*0001", "SE*5*0001", "SE01 says 5 segments from ST to SE, there are 4: segment SE (segment 6, line 6)"),
        ("SE*4*0001", "SE*4*0002",
         "SE02 '0002' does not match ST02 '0001' of the ST at segment 3 (line 3): segment SE (segment 6, line 6)"),
        ("SE*4*0001", "SE**0001", "SE01 is required: segment SE (segment 6, line 6)"),
        ("SE*4*0001", "SE*four*0001", "SE01 'four' is not a whole number: segment SE (segment 6, line 6)"),
        ("GE*1*1", "GE*2*1", "GE01 says 2 transaction sets in the group, there are 1: segment GE (segment 7, line 7)"),
        ("GE*1*1", "GE*1*7", "GE02 '7' does not match GS06 '1' of the GS at segment 2 (line 2): segment GE (segment 7, line 7)"),
        ("IEA*1*000000001", "IEA*2*000000001",
         "IEA01 says 2 functional groups, there are 1: segment IEA (segment 8, line 8)"),
        ("IEA*1*000000001", "IEA*1*000000002",
         "IEA02 '000000002' does not match ISA13 '000000001' of the ISA at segment 1 (line 1): segment IEA (segment 8, line 8)"),
        ("*00501*000000001*", "*00501*00000000A*", "ISA13 '00000000A' is not a control number (9 digits)"),
        ("*X*005010X222A1~\nST", "*X*005010X222A1~\nST", None),
        ("0930*1*X", "0930*1A*X", "GS06 '1A' is not a control number (1 to 9 digits): segment GS (segment 2, line 2)"),
        ("ST*837*0001", "ST*837*001", "ST02 '001' is not a control number (4 to 9 characters): segment ST (segment 3, line 3)"),
        ("ST*837*0001", "ST**0001", "ST01 is required: segment ST (segment 3, line 3)"),
        ("GS*HC*", "GS*HP*", "ST01 '837' travels in a GS01 'HC' group, not 'HP': segment ST (segment 3, line 3)"),
        ("GS*HC*CLINIC01*", "GS*HC*" + "C" * 16 + "*",
         "GS02 is 16 characters long; X12 allows at most 15: segment GS (segment 2, line 2)"),
        ("GS*HC*CLINIC01*", "GS*HC*" + "C" * 15 + "*", None),
    ],
)
def test_control_numbers_and_counts(old, new, message):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if message is None:
        read_interchange(text)
        return
    error = refused(text)
    assert message in str(error)


def test_an_error_carries_its_place_as_attributes():
    error = refused(GOOD.replace("SE*4*0001", "SE*5*0001"))
    assert (error.tag, error.segment_number, error.line, error.element) == ("SE", 6, 6, "SE01")


def test_missing_se():
    error = refused(GOOD.replace("SE*4*0001~\n", ""))
    assert str(error) == ("GE closes the group while the ST at segment 3 (line 3) is not closed (missing SE): "
                          "segment GE (segment 6, line 6)")


def test_missing_ge():
    error = refused(GOOD.replace("GE*1*1~\n", ""))
    assert str(error) == ("IEA ends the interchange while the GS at segment 2 (line 2) is not closed (missing GE): "
                          "segment IEA (segment 7, line 7)")


def test_missing_iea():
    error = refused(GOOD.replace("IEA*1*000000001~\n", ""))
    assert str(error) == ("GE is the last segment but the ISA at segment 1 (line 1) is not closed (missing IEA): "
                          "segment GE (segment 7, line 7)")


def test_file_cut_inside_a_transaction_set():
    text = GOOD.split("SE*")[0]
    error = refused(text)
    assert str(error) == ("NM1 is the last segment but the ST at segment 3 (line 3) is not closed (missing SE): "
                          "segment NM1 (segment 5, line 5)")


def test_file_cut_after_se():
    error = refused(GOOD.split("GE*")[0])
    assert "is not closed (missing GE): segment SE (segment 6, line 6)" in str(error)


def test_missing_gs():
    error = refused(GOOD.replace("GS*HC*CLINIC01*ACMECH*20240304*0930*1*X*005010X222A1~\n", ""))
    assert str(error) == "ST is outside a functional group (no GS before it): segment ST (segment 2, line 2)"


def test_missing_st():
    error = refused(GOOD.replace("ST*837*0001*005010X222A1~\n", ""))
    assert str(error) == "BHT is outside a transaction set (not between ST and SE): segment BHT (segment 3, line 3)"


def test_se_without_st_after_a_closed_set():
    text = GOOD.replace("SE*4*0001~\n", "SE*4*0001~\nSE*4*0001~\n")
    assert str(refused(text)) == "SE closes no transaction set (no ST before it): segment SE (segment 7, line 7)"


def test_ge_without_gs():
    text = GOOD.replace("GE*1*1~\n", "GE*1*1~\nGE*1*1~\n")
    assert str(refused(text)) == "GE closes no functional group (no GS before it): segment GE (segment 8, line 8)"


def test_st_inside_an_open_st():
    text = GOOD.replace("NM1*41", "ST*837*0002*005010X222A1~\nNM1*41")
    assert str(refused(text)) == ("ST opens a transaction set while the ST at segment 3 (line 3) is not closed "
                                  "(missing SE): segment ST (segment 5, line 5)")


def test_gs_inside_an_open_group_or_set():
    text = GOOD.replace("GE*1*1~\n", "")
    text = text.replace("IEA*", "GS*HC*A*B*20240304*0930*2*X*005010X222A1~\nIEA*")
    assert "GS opens a group while the GS at segment 2 (line 2) is not closed (missing GE)" in str(refused(text))
    text = GOOD.replace("NM1*41", "GS*HC*A*B*20240304*0930*2*X*005010X222A1~\nNM1*41")
    assert "GS opens a group while the ST at segment 3 (line 3) is not closed (missing SE)" in str(refused(text))


def test_iea_with_an_open_transaction_set():
    text = GOOD.replace("SE*4*0001~\nGE*1*1~\n", "")
    assert "IEA ends the interchange while the ST at segment 3 (line 3) is not closed (missing SE)" in str(refused(text))


def test_ge_with_an_open_transaction_set_names_it():
    text = GOOD.replace("SE*4*0001~\n", "")
    assert "(missing SE)" in str(refused(text))


def test_data_between_groups_is_outside_a_transaction_set():
    text = GOOD.replace("GE*1*1~\n", "GE*1*1~\nNM1*41*2*X~\n")
    assert str(refused(text)) == ("NM1 is outside a transaction set (not between ST and SE): "
                                  "segment NM1 (segment 8, line 8)")


def test_anything_after_iea_is_refused():
    assert "comes after IEA" in str(refused(GOOD + "GS*HC*A*B*20240304*0930*2*X*005010X222A1~\n"))
    second = GOOD + GOOD
    assert str(refused(second)) == ("ISA a second interchange starts after IEA; read one interchange per file: "
                                    "segment ISA (segment 9, line 9)")


def test_a_second_isa_before_iea():
    isa = GOOD.split("~")[0]
    text = GOOD.replace("IEA*", isa + "~\nIEA*")
    assert "ISA opens an interchange while the ISA at segment 1 (line 1) is not closed (missing IEA)" in str(refused(text))


def test_duplicate_st_control_number_in_a_group():
    st = "ST*837*0001*005010X222A1~\nBHT*0019*00*B1*20240304*0930*CH~\nSE*3*0001~\n"
    text = GOOD.replace("GE*1*1", st + "GE*2*1")
    assert "ST02 '0001' is used twice in one functional group: segment ST (segment 7, line 7)" in str(refused(text))


def test_several_groups_and_transaction_sets():
    set2 = "ST*837*0002*005010X222A1~\nBHT*0019*00*B2*20240304*0930*CH~\nSE*3*0002~\n"
    group2 = ("GS*HP*CLINIC01*ACMECH*20240304*0930*2*X*005010X221A1~\n"
              "ST*835*0001*005010X221A1~\nBPR*I*100*C*CHK************20240304~\nSE*3*0001~\n"
              "ST*835*0002*005010X221A1~\nBPR*I*50*C*CHK************20240304~\nSE*3*0002~\nGE*2*2~\n")
    text = GOOD.replace("GE*1*1~\n", set2 + "GE*2*1~\n" + group2).replace("IEA*1*", "IEA*2*")
    ic = read_interchange(text)
    assert [len(g.transactions) for g in ic.groups] == [2, 2]
    assert [t.code for t in ic.transactions()] == ["837", "837", "835", "835"]
    assert [t.control_number for t in ic.transactions("835")] == ["0001", "0002"]
    assert ic.transactions("835")[1].body[0].amount(2) == 5000
    assert ic.groups[1].control_number == "2"
    assert str(refused(text.replace("IEA*2*", "IEA*1*"))).startswith("IEA01 says 1 functional groups, there are 2")


def test_empty_transaction_set_and_group_are_well_formed():
    text = GOOD.replace("BHT*0019*00*B1*20240304*0930*CH~\nNM1*41*2*VALLEY CLINIC*****46*CLINIC01~\n", "")
    text = text.replace("SE*4*0001", "SE*2*0001")
    assert read_interchange(text).transactions()[0].body == []


def test_isa_with_a_terminator_inside_a_field():
    text = GOOD.replace("CLINIC01       ", "CLINIC01~      ", 1)
    assert "segment terminator '~' (after ISA16) also stands inside the ISA segment, at character 44" in str(
        refused(text))
