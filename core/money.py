"""Money: integer cents in storage, ``Decimal`` at the edges, never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
#: Largest amount accepted anywhere (ten million dollars): beyond it is a typo.
MAX_CENTS = 10_000_000_00
_MAX_AMOUNT = Decimal(MAX_CENTS).scaleb(-2)  # (dollars)


#: What a clerk may type: optional sign and "$", ASCII digits with optional US thousands
#: commas ("1,250.00"), at most two decimals. "12,50", "1e3", "1_000" are refused:
#: each could silently mean the wrong amount; so are other scripts' digits ("١٢٣", the
#: full-width "１２３"), which Python's ``Decimal`` would otherwise read as 123.
AMOUNT_TEXT = re.compile(r"^[+-]?\$?([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]{1,2})?$|^[+-]?\$?\.[0-9]{1,2}$")


class JSONNumber:
    """Marks a value that came as a JSON number (``1.5``, ``12``), not a string: money read from
    JSON must be a string in quotes (``"1.50"``). A JSON number may have gone through a float in
    whatever wrote the file, and ``12`` could be meant as dollars or as cents."""


class JSONFloat(str, JSONNumber):
    """A JSON number with a fraction or exponent, kept as its exact text (never a float)."""


class JSONInt(int, JSONNumber):
    """A JSON whole number: still an ``int`` for ids and counts; refused as money."""


#: The most digits a JSON number may have (no id, count or amount needs more; Python itself
#: refuses to read an int of more than 4,300, and reading one costs time that grows with its square).
JSON_NUMBER_DIGITS = 100


class _NumberTooLong(ValueError):
    pass


def _json_int(text: str) -> JSONInt:
    if len(text) > JSON_NUMBER_DIGITS:
        raise _NumberTooLong(text)
    return JSONInt(text)


def _json_float(text: str) -> JSONFloat:
    if len(text) > JSON_NUMBER_DIGITS:
        raise _NumberTooLong(text)
    return JSONFloat(text)


def json_loads(text: str | bytes):
    """``json.loads`` for what a person gives (``--data``, a batch file): numbers are never floats
    (:class:`JSONFloat` keeps the text) and stay marked as JSON numbers (:class:`JSONNumber`),
    so a money field refuses them while an id or a count still reads them.

    Hostile documents fail as any malformed JSON does, with :class:`json.JSONDecodeError` (its
    message, line and column): a number of more than :data:`JSON_NUMBER_DIGITS` digits, and
    nesting deeper than Python's JSON reader goes (``[[[[...`` a hundred thousand deep)."""
    import json
    import re

    try:
        return json.loads(text, parse_float=_json_float, parse_int=_json_int)
    except _NumberTooLong as exc:
        doc = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
        where = doc.find(str(exc)[:JSON_NUMBER_DIGITS + 1])
        raise json.JSONDecodeError(f"a number of more than {JSON_NUMBER_DIGITS} digits", doc, max(where, 0)) \
            from None
    except RecursionError:
        doc = text.decode("utf-8", "replace") if isinstance(text, (bytes, bytearray)) else text
        deep = re.match(r"\s*(?:[\[{][^\[{]{0,200}){500}", doc)
        raise json.JSONDecodeError("nested too deeply", doc, deep.end() if deep else 0) from None


class Cents(int):
    """An amount of money in integer cents: an ``int`` that knows it is money.

    Services and plugins hand amounts back as ``Cents`` so every front end can show
    them as money by their type (the CLI's ``--json`` prints ``"12.50"``, the app
    ``12.50``) instead of guessing from a key's name. Adding, subtracting, negating
    or summing ``Cents`` gives ``Cents``; multiplying or dividing gives a plain ``int``
    (a count or a rate is not money). Stored and serialised as a plain integer.
    """

    __slots__ = ()

    def __add__(self, other):
        out = int.__add__(self, other)
        return Cents(out) if out is not NotImplemented else out

    __radd__ = __add__

    def __sub__(self, other):
        out = int.__sub__(self, other)
        return Cents(out) if out is not NotImplemented else out

    def __rsub__(self, other):
        out = int.__rsub__(self, other)
        return Cents(out) if out is not NotImplemented else out

    def __neg__(self):
        return Cents(-int(self))

    def __abs__(self):
        return Cents(abs(int(self)))

    def __repr__(self) -> str:
        return f"Cents({int(self)})"


def cents(value) -> Cents:
    """``value`` (cents as an ``int``, or money text/``Decimal`` like ``"12.50"``) as :class:`Cents`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Cents(value)
    return Cents(to_cents(value))


class MoneyError(ValueError):
    """An amount that is not a valid money value."""


def to_cents(value: Decimal | str | int) -> int:
    """Parse a money value (Decimal, string or int of dollars) into cents.

    Refuses floats, NaN/infinity, more than two decimals and absurd sizes.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError("must be an amount in quotes like \"12.50\", not a float")
    if isinstance(value, JSONNumber):
        raise MoneyError(f"must be an amount in quotes like \"{value}\", not a JSON number")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        text = value.strip(" ")  # spaces around are harmless; a newline or tab is not an amount
        if not AMOUNT_TEXT.fullmatch(text):  # (fullmatch: "$" alone lets a trailing newline in)
            if re.match(r"^[+-]?\$?[0-9,]*\.[0-9]{3,}$", text):
                raise MoneyError("has more than 2 decimals")
            raise MoneyError(f"must be an amount like 12.50 or 1,250.00, not {value[:40]!r}")
        try:
            value = Decimal(text.replace(",", "").replace("$", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise MoneyError(f"must be an amount like 12.50, not {value[:40]!r}") from None
    if not isinstance(value, Decimal):
        raise MoneyError(f"must be an amount like 12.50, not {value!r}")
    if not value.is_finite():
        raise MoneyError("must be a finite amount")
    if abs(value) > _MAX_AMOUNT:  # (first: rounding 27 digits or more to cents overflows Decimal)
        raise MoneyError("is larger than the largest amount allowed (10,000,000.00)")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        raise MoneyError("has more than 2 decimals")
    return int(value * 100)


def to_decimal(cents: int) -> Decimal:
    """Cents as a two-place ``Decimal``."""
    return (Decimal(int(cents)) / 100).quantize(CENT)


def fmt(cents: int, *, sign: bool = False) -> str:
    """Cents as ``1,234.56`` (``-12.00`` when negative; ``+`` when ``sign``)."""
    d = to_decimal(cents)
    text = f"{abs(d):,.2f}"
    if cents < 0:
        return "-" + text
    return ("+" + text) if sign and cents > 0 else text


def as_json(cents: int) -> str:
    """Cents as the string form used in ``--json`` output (``"12.50"``)."""
    return str(to_decimal(cents))
