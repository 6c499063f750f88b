"""marshmallow at every service boundary: money fields and the one ``load`` helper.

Money comes in as a string (or int) and leaves as integer cents; floats, NaN,
infinity, more than two decimals, negatives where not allowed and absurd sizes
are refused with a message naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate

from claimdesk.core.errors import InputError
from claimdesk.core.money import Cents, MoneyError, to_cents


def _kind(value) -> str:
    """What a value that is not an amount is, in words: "a list", "nothing", "true"."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {list: "a list", dict: "an object", float: "a float"}.get(type(value), f"a {type(value).__name__}")


#: The longest text a money field reads ("-$10,000,000.00" is 15): anything longer is refused
#: before it is parsed (a 5,000-digit "amount" would overflow the decimal context).
MONEY_TEXT_LIMIT = 40


class Money(fields.Field):
    """A money amount: ``"12.50"`` in, ``Cents(1250)`` out; floats refused.

    ``minimum``/``maximum`` are in cents; ``positive=True`` refuses zero.
    """

    default_error_messages = {
        "invalid": "{detail}",  # MoneyError says it whole: "must be an amount like 12.50, not 'abc'"
        "min": "must be at least {limit}",
        "max": "must be at most {limit}",
        "positive": "must be more than 0.00",
    }

    def __init__(self, *, minimum: int | None = 0, maximum: int | None = None,
                 positive: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.positive = positive

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, str) and len(value.strip()) > MONEY_TEXT_LIMIT:  # ("1" * 5000: no amount)
            raise self.make_error("invalid", detail=f"must be an amount like 12.50 (at most 10,000,000.00), "
                                                    f"not {len(value.strip()):,} characters of text")
        if isinstance(value, (Decimal, str, int)) and not isinstance(value, bool):
            try:
                cents = to_cents(value)
            except MoneyError as exc:  # (too many digits included: to_cents refuses them as too large)
                raise self.make_error("invalid", detail=str(exc)) from None
        else:
            raise self.make_error("invalid", detail=f"must be an amount in quotes like \"12.50\", not {_kind(value)}")
        if self.positive and cents <= 0:
            raise self.make_error("positive")
        if self.minimum is not None and cents < self.minimum:
            raise self.make_error("min", limit=f"{Decimal(self.minimum) / 100:.2f}")
        if self.maximum is not None and cents > self.maximum:
            raise self.make_error("max", limit=f"{Decimal(self.maximum) / 100:.2f}")
        return Cents(cents)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return f"{Decimal(int(value)) / 100:.2f}"


#: The largest record id accepted anywhere, and the largest number a search tries as an id:
#: a bigger one would overflow the SQLite driver before any lookup (SQLite's ids are 64-bit;
#: PostgreSQL's 32-bit ids compare with a 64-bit parameter without overflowing: no such row).
MAX_ID = 2**62


def typed_id(text) -> int | None:
    """The record id a clerk typed ("42", " 42 "), or None when the text is not one: digits 0-9
    only ("²" is a digit to Python, not a number), at most :data:`MAX_ID` (thousands of nines are
    no id, and too long a text for ``int()``). Every place that tries typed text as an id uses it."""
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
        return None
    number = int(text)
    return number if number <= MAX_ID else None


_MAX_ID_DIGITS = len(str(MAX_ID))


class Id(fields.Integer):
    """A record id: a positive integer up to :data:`MAX_ID` (strings of digits accepted)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("strict", True)
        kwargs.setdefault("validate", validate.Range(
            min=1, max=MAX_ID, error=f"must be a positive id (1 to {MAX_ID})"))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        # "12" from a form or the CLI is fine; 1.5, True or "1e3" is not an id.
        if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
            if len(value.strip()) > len(str(MAX_ID)):  # (not read: 5,000 digits would not even convert)
                raise ValidationError(f"must be a positive id (1 to {MAX_ID})")
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError("must be a whole-number id")
        return super()._deserialize(value, attr, data, **kwargs)


_length = validate.Length


#: Characters that reorder how text is displayed (Unicode bidirectional controls: embeddings,
#: overrides, isolates, marks). In a name, memo or reference they make a screen, a statement or
#: an export show something other than what is stored ("\u202e" shows "gnp.exe" as "exe.png").
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


#: The first character free text must not hold: a control character (tab and line feed aside,
#: C1 included) or a bidirectional control.
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]")


def text_problem(text: str) -> str | None:
    """Why ``text`` is not acceptable free text (control or bidirectional control characters), or None."""
    found = _NOT_TEXT.search(text)
    if found is None:
        return None
    c = found.group()
    if c in BIDI_CONTROLS:
        return f"must not contain the bidirectional control character U+{ord(c):04X} (it changes how the text is shown)"
    return "must not contain control characters"


class Text(fields.String):
    """Free text with a length limit and no control characters (nor bidirectional controls)."""

    def __init__(self, *, max_length: int = 500, min_length: int = 0, validate=None, **kwargs):
        validators = [_length(min=min_length, max=max_length)]
        if validate is not None:
            validators += list(validate) if isinstance(validate, (list, tuple)) else [validate]
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ValidationError(problem)
        return text.strip()


class Coded(Text):
    """Text checked and cleaned by one rule of :mod:`claimdesk.core.claim_rules` (an NPI, a
    diagnosis, a state...): ``rule(text)`` returns the clean value or raises ``ValueError``
    with the message. An empty value stays ``""`` (a field nobody filled in)."""

    def __init__(self, rule, **kwargs):
        kwargs.setdefault("max_length", 80)
        super().__init__(**kwargs)
        self.rule = rule

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text:
            return ""
        try:
            return self.rule(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def date_field(**kwargs) -> fields.Date:
    """An ISO date (YYYY-MM-DD) within a sane range (a birth date, a coverage's dates: a
    business date is :func:`business_date_field`)."""
    kwargs.setdefault("validate", validate.Range(
        min=dt.date(1900, 1, 1), max=dt.date(2100, 12, 31), error="must be between 1900 and 2100"))
    kwargs.setdefault("error_messages", {"invalid": "must be a date like 2026-03-02 (YYYY-MM-DD)"})
    return fields.Date(**kwargs)


#: The window of a business date (the day money was received, an EOB's date, a daysheet, the
#: date aging is computed as of, a report's range): from this day...
EARLIEST_BUSINESS_DATE = dt.date(1900, 1, 1)
#: ... to this many days after today (:func:`claimdesk.core.clock.today`, so ``CLAIMDESK_NOW``
#: and the demo's frozen clock move it too): a post-dated check is fine, ``2099-01-01`` is a typo.
BUSINESS_DAYS_AHEAD = 366


def business_date_problem(day: dt.date) -> str | None:
    """Why ``day`` cannot be a business date, or None. The one rule for every business date:
    the services' schemas (:func:`business_date_field`), the daysheets and the command line."""
    from claimdesk.core import clock

    if day < EARLIEST_BUSINESS_DATE:
        return f"must be on or after {EARLIEST_BUSINESS_DATE}, got {day}"
    latest = clock.today() + dt.timedelta(days=BUSINESS_DAYS_AHEAD)
    if day > latest:
        return f"must be at most a year after today ({latest} at the latest), got {day}"
    return None


def check_business_date(day: dt.date | None, field: str) -> dt.date | None:
    """``day`` (None passes), or :class:`InputError` naming ``field`` when it is outside the
    business window (:func:`business_date_problem`)."""
    if day is not None:
        problem = business_date_problem(day)
        if problem:
            raise InputError({field: [problem]})
    return day


class BusinessDate(fields.Date):
    """An ISO date (YYYY-MM-DD) within the business window (:func:`business_date_problem`)."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        problem = business_date_problem(day)
        if problem:
            raise ValidationError(problem)
        return day


def business_date_field(**kwargs) -> fields.Date:
    """A business date: a voucher's or an EOB's date received, the date aging is computed as of
    (refused outside :func:`business_date_problem`'s window, naming the field)."""
    kwargs.setdefault("error_messages", {"invalid": "must be a date like 2026-03-02 (YYYY-MM-DD)"})
    return BusinessDate(**kwargs)


#: schema class -> its one instance (see :func:`schema_instance`).
_INSTANCES: dict[type, Schema] = {}


def schema_instance(schema: type[Schema] | Schema) -> Schema:
    """``schema`` itself, or one instance of a schema class made once and reused.

    Making a marshmallow schema deep-copies every field it declares (about a twentieth of a
    clerk's CPU went there, a form or two per workflow); loading with it changes nothing in it
    (marshmallow 4 keeps no state of a load on the schema), so one instance serves every load,
    from any thread. A class with an ``__init__`` of its own is made afresh each time (it may
    set itself up from what is true now)."""
    if not isinstance(schema, type):
        return schema
    inst = _INSTANCES.get(schema)
    if inst is None:
        inst = schema()
        if type(inst).__init__ is Schema.__init__:
            _INSTANCES[schema] = inst
    return inst


def load(schema: type[Schema] | Schema, data) -> dict:
    """Validate ``data`` with ``schema``; raise :class:`InputError` naming the field."""
    inst = schema_instance(schema)
    if not isinstance(data, dict):
        raise InputError({"_schema": ["input must be an object of named fields"]})
    try:
        return inst.load(data)
    except ValidationError as exc:
        raise InputError(exc.messages) from None


class _OneId(Schema):
    value = Id(required=True)


def parse_id(value, field: str) -> int:
    """One record id typed by a person (CLI argument, form field): ``int`` or
    :class:`InputError` naming ``field`` (not a number, zero, negative, too large)."""
    try:
        return schema_instance(_OneId).load({"value": value})["value"]
    except ValidationError as exc:
        raise InputError({field: exc.messages["value"]}) from None
