"""The X12 writer: fixed-width ISA, computed counts, refused delimiters; write -> read round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from claimdesk.core.money import Cents
from claimdesk.core.x12 import (
    Delimiters, InterchangeWriter, SegmentFormatter, X12WriteError, format_amount, format_date, read_interchange,
)

WHEN = dt.datetime(2024, 3, 4, 9, 30)


def writer(**options) -> InterchangeWriter:
    options = {"sender_id": "CLINIC01", "receiver_id": "ACMECH", "control_number": 42, "when": WHEN, **options}
    return InterchangeWriter(**options)


def small(w: InterchangeWriter, sets: int = 1) -> str:
    w.gs("HC", "CLINIC01", "ACMECH", 7, "005010X222A1")
    for number in range(1, sets + 1):
        w.st("837", number, "005010X222A1")
        w.segment("BHT", "0019", "00", "B1", "20240304", "0930", "CH")
        w.segment("SV1", ("HC", "99213", "25"), format_amount(12550), "UN", 1, None, None, (1, 2))
        w.se()
    w.ge()
    w.iea()
    return w.text()


def test_a_small_interchange_text():
    assert small(writer(line_break="\n")) == (
        "ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*ACMECH         *240304*0930*^*00501*000000042*0*P*:~\n"
        "GS*HC*CLINIC01*ACMECH*20240304*0930*7*X*005010X222A1~\n"
        "ST*837*0001*005010X222A1~\n"
        "BHT*0019*00*B1*20240304*0930*CH~\n"
        "SV1*HC:99213:25*125.5*UN*1***1:2~\n"
        "SE*4*0001~\n"
        "GE*1*7~\n"
        "IEA*1*000000042~\n"
    )


def test_counts_are_computed_and_the_reader_agrees():
    ic = read_interchange(small(writer(), sets=3))
    assert [t.control_number for t in ic.transactions()] == ["0001", "0002", "0003"]
    assert ic.groups[0].ge.get(1) == "3" and ic.iea.get(1) == "1"
    assert len(ic.isa.elements) == 17 and len("~".join(s.elements[0] for s in ic.segments)) > 0


def test_other_delimiters_and_usage():
    text = small(writer(delimiters=Delimiters("|", ">", "!", "\n"), usage="T"))
    assert text.startswith("ISA|00|          |00|")
    assert "SV1|HC>99213>25|125.5|UN|1|||1>2\n" in text
    ic = read_interchange(text)
    assert ic.delimiters == Delimiters("|", ">", "!", "\n") and ic.is_test


def test_trailing_empty_elements_and_components_are_dropped():
    f = SegmentFormatter()
    assert f.format("NM1", "QC", "1", "DOE", "ANN", None, "", None) == "NM1*QC*1*DOE*ANN"
    assert f.format("SV1", ("HC", "99213", "", None), "10") == "SV1*HC:99213*10"
    assert f.format("REF", "6R", ("", "")) == "REF*6R"


@pytest.mark.parametrize(
    "elements, message",
    [
        (("O*BRIEN",), "NM103 'O*BRIEN' contains the element separator '*'"),
        (("DOE~",), "NM103 'DOE~' contains the segment terminator '~'"),
        (("A:B",), "NM103 'A:B' contains the component separator ':'"),
        (("A^B",), "NM103 'A^B' contains the repetition separator '^'"),
        (("A\nB",), "NM103 'A\\nB' contains the line break '\\n'"),
        ((("HC", "99:13"),), "NM103-2 '99:13' contains the component separator ':'"),
    ],
)
def test_a_value_with_a_delimiter_is_refused_by_name(elements, message):
    with pytest.raises(X12WriteError) as caught:
        SegmentFormatter().format("NM1", "QC", "1", *elements)
    assert str(caught.value) == message + "; X12 has no escape"


def test_values_that_are_not_text_are_refused():
    f = SegmentFormatter()
    with pytest.raises(X12WriteError, match="SV102: write money with format_amount, not raw cents"):
        f.format("SV1", "HC", Cents(100))
    with pytest.raises(X12WriteError, match="cannot write a float"):
        f.format("SV1", "HC", 1.5)
    with pytest.raises(X12WriteError, match="is not a segment tag"):
        f.format("sv1", "HC")


def test_isa_fields_are_padded_and_checked():
    w = writer(sender_id="ABC", receiver_id="X" * 15)
    assert w._segments[0].split("*")[6] == "ABC" + " " * 12
    with pytest.raises(X12WriteError, match="ISA06 'SIXTEEN-CHARS-XX' is longer than its 15 characters"):
        writer(sender_id="SIXTEEN-CHARS-XX")
    with pytest.raises(X12WriteError, match="ISA06 'A\\*B' contains the element separator"):
        writer(sender_id="A*B")
    with pytest.raises(X12WriteError, match="ISA13"):
        writer(control_number=10**9)
    with pytest.raises(X12WriteError, match="ISA15"):
        writer(usage="X")
    with pytest.raises(ValueError, match="is also the element separator"):
        writer(delimiters=Delimiters("*", "*", "^", "~"))


def test_wrong_nesting_is_refused():
    w = writer()
    with pytest.raises(X12WriteError, match="outside a functional group"):
        w.st("837", 1)
    with pytest.raises(X12WriteError, match="outside a transaction set"):
        w.segment("BHT", "0019")
    with pytest.raises(X12WriteError, match="no transaction set is open"):
        w.se()
    with pytest.raises(X12WriteError, match="no functional group is open"):
        w.ge()
    with pytest.raises(X12WriteError, match="not closed"):
        w.text()
    w.gs("HC", "A", "B", 1, "005010X222A1")
    with pytest.raises(X12WriteError, match="already open"):
        w.gs("HC", "A", "B", 2, "005010X222A1")
    w.st("837", "0001")
    with pytest.raises(X12WriteError, match="already open"):
        w.st("837", "0002")
    with pytest.raises(X12WriteError, match="still open"):
        w.ge()
    w.se()
    with pytest.raises(X12WriteError, match="still open"):
        w.iea()
    with pytest.raises(X12WriteError, match="4 to 9 characters"):
        w.st("837", "001")
    w.ge()
    w.iea()
    with pytest.raises(X12WriteError, match="already closed"):
        w.iea()
    with pytest.raises(X12WriteError, match="interchange is closed"):
        w.gs("HC", "A", "B", 2, "005010X222A1")


# Text a clinic might put in an element: printable ASCII minus the delimiters in use.
SAFE = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="*:^~|>!"), max_size=12)
DELIMITER_SETS = st.sampled_from([Delimiters(), Delimiters("|", ">", "!", "~"), Delimiters("*", ":", "^", "\n"),
                                  Delimiters("!", "^", "|", "\n")])


@settings(max_examples=150, deadline=None)
@given(
    delimiters=DELIMITER_SETS,
    names=st.lists(SAFE, min_size=1, max_size=6),
    amounts=st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=4),
    days=st.lists(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)), min_size=1, max_size=3),
    codes=st.lists(st.from_regex(r"[A-Z0-9]{1,5}", fullmatch=True), min_size=2, max_size=5),
    line_break=st.sampled_from(["", "\n", "\r\n"]),
    control=st.integers(min_value=1, max_value=10**9 - 1),
)
def test_write_then_read_round_trip(delimiters, names, amounts, days, codes, line_break, control):
    if delimiters.segment == "\n":
        line_break = ""
    w = InterchangeWriter(sender_id="S", receiver_id="R", control_number=control, when=WHEN, delimiters=delimiters,
                          line_break=line_break)
    w.gs("HC", "S", "R", control, "005010X222A1")
    w.st("837", control % 10000)
    w.segment("NM1", "QC", "1", *names, "END")
    w.segment("AMT", *[format_amount(a) for a in amounts])
    w.segment("DTP", *[format_date(d) for d in days])
    w.segment("SV1", tuple(["HC", *codes]))
    w.se()
    w.ge()
    w.iea()
    ic = read_interchange(w.text())
    nm1, amt, dtp, sv1 = ic.transactions()[0].body
    assert nm1.elements[3:] == (*names, "END")
    assert [amt.amount(i) for i in range(1, len(amounts) + 1)] == amounts
    assert [dtp.date(i) for i in range(1, len(days) + 1)] == days
    assert sv1.components(1) == ["HC", *codes]
    assert ic.control_number == f"{control:09d}" and ic.warnings == []
    lines = [s.line for s in ic.segments]
    assert lines == (list(range(1, len(lines) + 1)) if line_break or delimiters.segment == "\n" else [1] * len(lines))
