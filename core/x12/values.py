"""X12 element values to Python and back: amounts in integer cents, dates, integers.

The parsers raise ``ValueError`` with a short reason; :class:`~claimdesk.core.x12.segment.Segment`
adds the element name and the place. No float is ever made: an amount is read digit by
digit into an ``int`` of cents.
"""

from __future__ import annotations

import datetime as dt
import re

from claimdesk.core.money import Cents

#: X12 "R" (decimal) as money: optional minus, digits, optional point, at most two
#: decimals (".5" and "12." are allowed, as the standard allows them). No plus sign,
#: exponent, thousands separator or spaces. At most 18 digits (the longest R element).
AMOUNT = re.compile(r"(-?)(\d{0,18})(?:\.(\d{0,2}))?", re.ASCII)
#: X12 "N0": optional minus and digits only.
INTEGER = re.compile(r"-?\d{1,18}", re.ASCII)
DIGITS = re.compile(r"\d+", re.ASCII)
QUANTITY = re.compile(r"(-?)(\d{0,15})(?:\.(\d{0,4}))?", re.ASCII)


def parse_amount(text: str) -> Cents:
    """An X12 decimal amount (``"125"``, ``"125.5"``, ``"-0.75"``) as integer :class:`Cents`."""
    match = AMOUNT.fullmatch(text)
    if match is None or not (match[2] or match[3]):
        if re.fullmatch(r"-?[0-9]*\.[0-9]{3,}", text):
            raise ValueError(f"{text!r} has more than 2 decimals")
        raise ValueError(f"{text!r} is not an amount (digits, optional '-' and up to 2 decimals)")
    sign, whole, frac = match.groups()
    value = int(whole or "0") * 100 + int((frac or "").ljust(2, "0"))
    return Cents(-value if sign else value)


def parse_integer(text: str) -> int:
    """An X12 whole number (``"3"``, ``"-2"``) as ``int``."""
    if INTEGER.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def parse_quantity(text: str) -> tuple[int, int]:
    """An X12 decimal quantity (units may be ``"1.5"``) as ``(numerator, denominator)`` ints,
    e.g. ``"1.5"`` -> ``(15, 10)``; no float. At most 4 decimals."""
    match = QUANTITY.fullmatch(text)
    if match is None or not (match[2] or match[3]):
        raise ValueError(f"{text!r} is not a quantity")
    sign, whole, frac = match.groups()
    frac = frac or ""
    value = int((whole or "0") + frac)
    return (-value if sign else value, 10 ** len(frac))


def parse_date(text: str) -> dt.date:
    """An X12 date: ``CCYYMMDD`` (8 digits) or ``YYMMDD`` (6 digits, as in ISA09, read as
    20YY when YY < 70 and 19YY otherwise)."""
    if DIGITS.fullmatch(text) is None or len(text) not in (6, 8):
        raise ValueError(f"{text!r} is not a date (CCYYMMDD)")
    if len(text) == 6:
        yy = int(text[:2])
        text = ("20" if yy < 70 else "19") + text
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None


def parse_period(qualifier: str, text: str) -> tuple[dt.date, dt.date]:
    """A DTP-style date or range by its format qualifier: ``D8`` ``CCYYMMDD`` gives
    ``(day, day)``, ``RD8`` ``CCYYMMDD-CCYYMMDD`` gives ``(first, last)``."""
    if qualifier == "D8":
        if len(text) != 8:
            raise ValueError(f"{text!r} is not a date (CCYYMMDD) as D8 says")
        day = parse_date(text)
        return day, day
    if qualifier == "RD8":
        first, sep, last = text.partition("-")
        if not sep or len(first) != 8 or len(last) != 8:
            raise ValueError(f"{text!r} is not a date range (CCYYMMDD-CCYYMMDD) as RD8 says")
        start, end = parse_date(first), parse_date(last)
        if end < start:
            raise ValueError(f"{text!r} ends before it starts")
        return start, end
    raise ValueError(f"date format qualifier {qualifier!r} is not D8 or RD8")


def format_amount(cents: int) -> str:
    """Integer cents as an X12 decimal with trailing zeros suppressed: 12500 -> ``"125"``,
    12550 -> ``"125.5"``, -75 -> ``"-0.75"``."""
    if not isinstance(cents, int) or isinstance(cents, bool):
        raise TypeError(f"an amount must be integer cents, not {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:02d}".rstrip("0")


def format_date(day: dt.date) -> str:
    """A date as X12 ``CCYYMMDD``."""
    return day.strftime("%Y%m%d")
