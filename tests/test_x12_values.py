"""X12 values: amounts in integer cents (never float), dates, integers; errors name the place."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, strategies as st

from claimdesk.core.money import Cents
from claimdesk.core.x12 import X12Error, format_amount, format_date, parse_amount, parse_date, read_interchange
from claimdesk.core.x12.values import parse_integer, parse_period, parse_quantity

from tests.x12gen import hand_interchange


@pytest.mark.parametrize(
    "text, cents",
    [("125", 12500), ("125.5", 12550), ("125.55", 12555), ("0", 0), ("-0.75", -75), (".5", 50), ("12.", 1200),
     ("-12", -1200), ("007.10", 710), ("999999999999999999", 99999999999999999900)],
)
def test_amounts_are_integer_cents(text, cents):
    value = parse_amount(text)
    assert value == cents and type(value) is Cents


@pytest.mark.parametrize(
    "text, words",
    [("1.234", "more than 2 decimals"), ("-0.001", "more than 2 decimals"), ("1e3", "is not an amount"),
     ("1,250.00", "is not an amount"), ("+5", "is not an amount"), ("", "is not an amount"), (".", "is not an amount"),
     ("-", "is not an amount"), (" 5", "is not an amount"), ("5 ", "is not an amount"), ("NaN", "is not an amount"),
     ("inf", "is not an amount"), ("1_000", "is not an amount"), ("\u0661\u0662", "is not an amount"),
     ("1" * 19, "is not an amount"), ("--5", "is not an amount")],
)
def test_bad_amounts_are_refused(text, words):
    with pytest.raises(ValueError, match=words):
        parse_amount(text)


@given(st.integers(min_value=-(10**17), max_value=10**17))
def test_amount_round_trip(cents):
    text = format_amount(cents)
    assert parse_amount(text) == cents
    assert not text.endswith(".") and "e" not in text and ("." not in text or not text.endswith("0"))


def test_format_amount_refuses_what_is_not_integer_cents():
    from decimal import Decimal

    for value in (1.5, Decimal("1.50"), "150", True):
        with pytest.raises(TypeError):
            format_amount(value)
    assert format_amount(Cents(12550)) == "125.5"


@pytest.mark.parametrize("text, day", [("20240229", dt.date(2024, 2, 29)), ("240304", dt.date(2024, 3, 4)),
                                       ("991231", dt.date(1999, 12, 31)), ("19500101", dt.date(1950, 1, 1))])
def test_dates(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text, words", [("20230229", "not a calendar date"), ("2024-03-04", "not a date"),
                                         ("2024030", "not a date"), ("202403041", "not a date"),
                                         ("20241301", "not a calendar date"), ("", "not a date")])
def test_bad_dates(text, words):
    with pytest.raises(ValueError, match=words):
        parse_date(text)


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_date_round_trip(day):
    assert parse_date(format_date(day)) == day


def test_periods():
    assert parse_period("D8", "20240304") == (dt.date(2024, 3, 4),) * 2
    assert parse_period("RD8", "20240301-20240304") == (dt.date(2024, 3, 1), dt.date(2024, 3, 4))
    for qualifier, text, words in [("RD8", "20240304-20240301", "ends before it starts"), ("RD8", "20240304", "range"),
                                   ("D8", "240304", "as D8 says"), ("DT", "20240304", "not D8 or RD8")]:
        with pytest.raises(ValueError, match=words):
            parse_period(qualifier, text)


def test_integers_and_quantities():
    assert parse_integer("12") == 12 and parse_integer("-3") == -3
    for bad in ("1.0", "+1", "", " 1", "1e2"):
        with pytest.raises(ValueError, match="not a whole number"):
            parse_integer(bad)
    assert parse_quantity("1.5") == (15, 10) and parse_quantity("2") == (2, 1) and parse_quantity(".25") == (25, 100)
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity("1.23456")


BODY = [
    "BHT*0019*00*B1*20240304*0930*CH",
    "CLM*CD0001*125.555***11:B:1*Y*A*Y*Y",
    "DTP*472*D8*20240231",
    "SV1*HC:99213*1e2*UN*one",
    "DTP*472*RD8*20240301-20240304",
    "SV1*HC:99213*-12.5*UN*1.5",
]


@pytest.fixture(scope="module")
def body():
    return read_interchange(hand_interchange(BODY)).transactions()[0].body


def test_bad_values_name_element_segment_and_line(body):
    clm, dtp, sv1, period, good = body[1], body[2], body[3], body[4], body[5]
    with pytest.raises(X12Error) as caught:
        clm.amount(2)
    assert str(caught.value) == "CLM02 '125.555' has more than 2 decimals: segment CLM (segment 5, line 5)"
    assert caught.value.element == "CLM02"
    with pytest.raises(X12Error, match=r"^DTP03 '20240231' is not a calendar date: segment DTP \(segment 6, line 6\)$"):
        dtp.date(3)
    with pytest.raises(X12Error, match=r"^DTP03 '20240231' is not a calendar date: segment DTP \(segment 6, line 6\)$"):
        dtp.period(2, 3)
    with pytest.raises(X12Error, match=r"^SV102 '1e2' is not an amount .*: segment SV1 \(segment 7, line 7\)$"):
        sv1.amount(2)
    with pytest.raises(X12Error, match=r"^SV104 'one' is not a whole number: segment SV1 \(segment 7, line 7\)$"):
        sv1.integer(4)
    with pytest.raises(X12Error, match=r"^SV105 is required: segment SV1 \(segment 7, line 7\)$"):
        sv1.required(5)
    assert sv1.amount(5, required=False) is None and sv1.date(5, required=False) is None
    assert period.period(2, 3) == (dt.date(2024, 3, 1), dt.date(2024, 3, 4))
    assert good.amount(2) == -1250 and good.quantity(4) == (15, 10)
    assert clm.code(6, {"Y", "N"}) == "Y"
    with pytest.raises(X12Error, match=r"^CLM07 'A' is not one of B, C: segment CLM"):
        clm.code(7, {"B", "C"})
    assert clm.code(3, {"X"}, required=False) == ""
    assert clm.place == "segment CLM (segment 5, line 5)"


def test_no_float_anywhere_in_the_package():
    import pathlib
    import re

    import claimdesk.core.x12 as package

    for path in pathlib.Path(package.__file__).parent.glob("*.py"):
        assert not re.search(r"\bfloat\(", path.read_text()), path
