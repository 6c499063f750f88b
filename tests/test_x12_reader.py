"""The X12 reader: delimiters from ISA, segments and their places, what is not X12."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core.x12 import Delimiters, NotX12Error, X12Error, read_interchange, read_interchanges

from tests.x12gen import hand_interchange

BODY = ["BHT*0019*00*B1*20240304*0930*CH", "NM1*41*2*VALLEY CLINIC*****46*CLINIC01", "SV1*HC:99213:25*125*UN*1"]


def tags(interchange) -> list[str]:
    return [segment.tag for segment in interchange.segments]


def test_a_plain_file_reads_with_default_delimiters():
    ic = read_interchange(hand_interchange(BODY))
    assert ic.delimiters == Delimiters("*", ":", "^", "~")
    assert tags(ic) == ["ISA", "GS", "ST", "BHT", "NM1", "SV1", "SE", "GE", "IEA"]
    assert ic.control_number == "000000001"
    assert (ic.sender_id, ic.receiver_id, ic.is_test) == ("CLINIC01", "ACMECH", True)
    assert ic.date == dt.date(2024, 3, 4)
    [transaction] = ic.transactions()
    assert (transaction.code, transaction.control_number, transaction.implementation) == ("837", "0001", "005010X222A1")
    assert [s.tag for s in transaction.body] == ["BHT", "NM1", "SV1"]
    assert ic.groups[0].functional_id == "HC" and ic.groups[0].version == "005010X222A1"
    nm1 = transaction.body[1]
    assert nm1.get(3) == "VALLEY CLINIC" and nm1.get(9) == "CLINIC01" and nm1.get(4) == "" and nm1.get(99) == ""
    assert len(nm1) == 9


@pytest.mark.parametrize(
    "element, component, repetition, segment",
    [
        ("|", ">", "^", "~"),
        ("^", ":", "{", "~"),
        ("*", ":", "^", "\n"),
        ("~", "<", "!", "\n"),
        ("\x1d", "\x1f", "\x1e", "\x1c"),  # the ASCII group/unit separators some systems use
        ("!", "\\", "`", "'"),
    ],
)
def test_unusual_delimiters_are_read_from_isa(element, component, repetition, segment):
    text = hand_interchange(BODY, element=element, component=component, repetition=repetition, segment=segment,
                            line_break="" if segment == "\n" else "\n")
    ic = read_interchange(text)
    assert ic.delimiters == Delimiters(element, component, repetition, segment)
    sv1 = ic.transactions()[0].body[2]
    assert sv1.components(1) == ["HC", "99213", "25"] and sv1.amount(2) == 12500
    assert ic.warnings == []


def test_4010_style_isa11_code_means_no_repetition_separator():
    text = hand_interchange(BODY).replace("*0930*^*00501*", "*0930*U*00501*")
    ic = read_interchange(text)
    assert ic.delimiters.repetition is None
    assert ic.segments[5].repeats(1) == ["HC:99213:25"]


def test_repetitions_split_on_isa11():
    ic = read_interchange(hand_interchange(["BHT*0019*00*B1*20240304*0930*CH", "EB*1**30^1^33"]))
    assert ic.segments[4].repeats(3) == ["30", "1", "33"]
    assert ic.segments[4].repeats(2) == []


@pytest.mark.parametrize("line_break, lines", [("", [1] * 9), ("\n", list(range(1, 10))), ("\r\n", list(range(1, 10))),
                                               ("\n\n", list(range(1, 18, 2)))])
def test_line_numbers_with_and_without_line_breaks(line_break, lines):
    ic = read_interchange(hand_interchange(BODY, line_break=line_break))
    assert [s.line for s in ic.segments] == lines
    assert [s.number for s in ic.segments] == list(range(1, 10))


def test_line_breaks_after_some_terminators_only():
    text = hand_interchange(BODY, line_break="").replace("CH~", "CH~\r\n\n").replace("GE*", "\nGE*")
    ic = read_interchange(text)
    assert [s.line for s in ic.segments] == [1, 1, 1, 1, 3, 3, 3, 4, 4]


def test_cr_alone_as_terminator_keeps_everything_on_line_one():
    ic = read_interchange(hand_interchange(BODY, segment="\r", line_break=""))
    assert [s.line for s in ic.segments] == [1] * 9


def test_newline_as_segment_terminator_counts_lines():
    ic = read_interchange(hand_interchange(BODY, segment="\n", line_break=""))
    assert [s.line for s in ic.segments] == list(range(1, 10))


@pytest.mark.parametrize("ending", ["", "\n\n", "\n \n", "\r\n"])
def test_newline_terminated_files_may_end_loosely(ending):
    text = hand_interchange(BODY, segment="\n", line_break="").rstrip("\n") + ending
    assert read_interchange(text).segments[-1].get(2) == "000000001"


def test_crlf_when_the_terminator_is_cr():
    # "segment terminator = the character after ISA16": with CRLF line ends that is CR.
    text = hand_interchange(BODY, segment="\r", line_break="\n")
    ic = read_interchange(text)
    assert ic.delimiters.segment == "\r"
    assert [s.line for s in ic.segments] == list(range(1, 10))


def test_bom_blank_lines_and_trailing_whitespace_are_tolerated():
    text = hand_interchange(BODY)
    ic = read_interchange(b"\xef\xbb\xbf" + ("\n\n" + text + "\n  \r\n\t").encode())
    assert tags(ic)[-1] == "IEA"
    assert ic.segments[0].line == 3 and ic.segments[3].line == 6
    assert read_interchange("\ufeff" + text).segments[0].line == 1


@pytest.mark.parametrize("padding", ["\x1a", "\x00" * 512, "\r\n\x00 \x00\x1a"])
def test_nul_and_ctrl_z_padding_after_the_last_terminator_is_tolerated(padding):
    """Some systems pad a file to a block with NULs, or end it with Ctrl-Z (DOS end of file)."""
    for text in (hand_interchange(BODY), hand_interchange(BODY, segment="\n", line_break="")):
        ic = read_interchange((text + padding).encode())
        assert tags(ic)[-1] == "IEA" and ic.segments[-1].get(1) == "1" and ic.warnings == []
    with pytest.raises(X12Error, match="ends without a segment terminator"):
        read_interchange(hand_interchange(BODY) + "\x00IEA")


def wrapped(text: str, width: int, line_break: str = "\n") -> str:
    """``text`` as a payer delivering fixed-width lines writes it: cut every ``width`` characters."""
    return line_break.join(text[i:i + width] for i in range(0, len(text), width)) + line_break


@pytest.mark.parametrize("width", [40, 80, 105, 106, 132])
@pytest.mark.parametrize("line_break", ["\n", "\r\n"])
def test_a_wrapped_file_is_read_as_the_same_segments_with_a_warning(width, line_break):
    """Lines of one width that cut segments (the ISA too, below 106 characters) are the
    delivery's, not the data's: the same segments, each placed on the line it starts on."""
    flat = hand_interchange(BODY, line_break="")
    ic = read_interchange(wrapped(flat, width, line_break))
    assert [s.elements for s in ic.segments] == [s.elements for s in read_interchange(flat).segments]
    starts = [flat.index(s.tag + "*", sum(len(t.tag) for t in ic.segments[:i])) for i, s in enumerate(ic.segments)]
    assert [s.line for s in ic.segments][1:] == [1 + offset // width for offset in starts][1:]
    (warning,) = ic.warnings
    assert f"lines of {width} characters that cut its segments (a wrapped file)" in str(warning)


def test_a_file_with_a_segment_a_line_is_not_taken_for_wrapped():
    """Lines that all end with the terminator are a segment a line, even when as long as each other."""
    body = ["BHT*0019*00*B1*20240304*0930*CH", "REF*EI*123456789999999999999999"]
    text = hand_interchange(body)
    assert read_interchange(text).warnings == []
    with pytest.raises(X12Error, match="line break inside a segment"):  # one line cut short: damaged, not wrapped
        read_interchange(wrapped(hand_interchange(BODY, line_break=""), 80).replace("\n", "", 1))


def test_bytes_that_are_not_utf8_are_read_as_latin1():
    text = hand_interchange(["BHT*0019*00*B1*20240304*0930*CH", "NM1*QC*1*MU\xd1OZ*JOS\xc9"])
    ic = read_interchange(text.encode("latin-1"))
    assert ic.segments[4].get(3) == "MU\xd1OZ"


@pytest.mark.parametrize(
    "data, words",
    [
        ("patient_id,amount\n1,12.50\n", "must start with an ISA segment, it starts with 'patient_id,amount'"),
        ("", "it starts with 'nothing'"),
        ("ISA*00*          *00*    ", "truncated ISA segment (an ISA is 106 characters, the file has 25)"),
        ("ISA0000", "truncated ISA"),
    ],
)
def test_what_is_not_x12_is_said_clearly(data, words):
    with pytest.raises(NotX12Error) as caught:
        read_interchange(data)
    assert words in str(caught.value)


def test_an_isa_that_is_not_fixed_width_names_the_field():
    text = hand_interchange(BODY).replace("*CLINIC01       *", "*CLINIC01*", 1)
    with pytest.raises(NotX12Error, match=r"ISA06 is 8 characters wide, X12 fixes it at 15"):
        read_interchange(text)


def test_an_isa_with_too_few_elements():
    text = "ISA*00*          *00*          *ZZ*CLINIC01       " + "x" * 80
    with pytest.raises(NotX12Error, match="only 6 elements"):
        read_interchange(text)


def test_a_letter_where_the_element_separator_should_be():
    with pytest.raises(NotX12Error, match="cannot be an element separator"):
        read_interchange("ISAX00" + "x" * 120)


def test_delimiters_that_clash_are_refused():
    text = hand_interchange(BODY, component="*")
    with pytest.raises(NotX12Error, match=r"component separator '\*' is also the element separator"):
        read_interchange(text)
    text = hand_interchange(BODY).replace("*T*:~", "*T*:G", 1)
    with pytest.raises(NotX12Error, match="segment terminator 'G' cannot be a letter"):
        read_interchange(text)


def test_an_empty_segment_is_refused_with_its_place():
    text = hand_interchange(BODY).replace("CH~\n", "CH~\n~\n", 1)
    with pytest.raises(X12Error, match=r"empty segment .*: segment \(empty\) \(segment 5, line 5\)"):
        read_interchange(text)


def test_a_bad_segment_tag_is_refused_with_its_place():
    text = hand_interchange(BODY).replace("NM1*41", "nm1*41", 1)
    with pytest.raises(X12Error, match=r"'nm1' is not a segment tag.*\(segment 5, line 5\)"):
        read_interchange(text)


def test_a_line_break_inside_a_segment_is_refused():
    text = hand_interchange(BODY).replace("VALLEY CLINIC", "VALLEY\nCLINIC", 1)
    with pytest.raises(X12Error, match=r"line break inside a segment.*\(segment 5, line 5\)"):
        read_interchange(text)


def test_text_after_the_last_terminator_is_a_truncated_file():
    text = hand_interchange(BODY)
    with pytest.raises(X12Error, match=r"ends without a segment terminator '~' after 'IEA\*1\*0000' .*line 9"):
        read_interchange(text.rstrip("~\n")[:-5])


def test_a_tag_that_is_refused_once_is_refused_at_its_first_place():
    # known tags are cached: a later bad one still fails, at its own place
    text = hand_interchange(BODY + ["SV1*HC:99214*90*UN*1", "S V*1"])
    with pytest.raises(X12Error, match=r"'S V' is not a segment tag.*\(segment 8, line 8\)"):
        read_interchange(text)


def test_reading_refuses_other_types():
    with pytest.raises(TypeError):
        read_interchange(12)  # type: ignore[arg-type]


def test_several_interchanges_in_a_file_are_read_each_with_its_own_delimiters():
    """A clearinghouse's download may join interchanges, padded between, each declaring its own
    delimiters; every one is read and checked, its segments on the lines they stand on."""
    first = hand_interchange(BODY)
    second = hand_interchange(BODY, element="|", component=">", segment="'")
    text = first + "\r\n\x00" + second
    a, b = read_interchanges(text)
    assert (a.delimiters.element, b.delimiters.element, b.delimiters.segment) == ("*", "|", "'")
    assert [s.elements for s in b.segments] == [s.elements for s in read_interchange(second).segments]
    assert b.segments[0].line == first.count("\n") + 2
    assert b.segments[-1].line == text.count("\n", 0, text.rindex("IEA")) + 1
    with pytest.raises(X12Error, match=r"ISA a second interchange starts after IEA; read one interchange per file: "
                                       r"segment ISA \(segment 10, line 11\)"):
        read_interchange(text)  # (what reads one interchange says where the next begins)
    # the second one's envelope is checked too
    with pytest.raises(X12Error, match=r"IEA02 .* \(line 10\): segment IEA \(segment 9, line 18\)"):
        read_interchanges(first + second.replace("IEA|1|000000001", "IEA|1|000000009"))
