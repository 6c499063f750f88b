"""One X12 segment as a small record, with value accessors that name their place on error.

``segment.elements[0]`` is the tag, so ``segment.elements[2]`` is element 2 as in the
X12 name ``CLM02``. Accessors (:meth:`Segment.amount`, :meth:`Segment.date`, ...) raise
:class:`~claimdesk.core.x12.errors.X12Error` naming the element, the segment and the line.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache, partial

from claimdesk.core.money import Cents
from claimdesk.core.x12 import values
from claimdesk.core.x12.delimiters import Delimiters
from claimdesk.core.x12.errors import X12Error, X12Warning, place

#: Characters real senders use as a component separator other than the declared one.
COMPONENT_CANDIDATES = ":>^<\\!|+&`"

#: The parsers behind the value accessors that read recurring texts, each text parsed once:
#: amounts, units, line numbers and days of service repeat from claim to claim (fee schedules,
#: service dates). The values are immutable, so sharing them is safe; a text that fails is not
#: cached and raises again each time.
_parse_amount = lru_cache(maxsize=4096)(values.parse_amount)
_parse_integer = lru_cache(maxsize=1024)(values.parse_integer)
_parse_quantity = lru_cache(maxsize=1024)(values.parse_quantity)
_parse_period = lru_cache(maxsize=1024)(values.parse_period)


def element_name(tag: str, index: int, component: int | None = None) -> str:
    """The X12 name of an element (``CLM02``) or of a component (``CLM05-3``)."""
    name = f"{tag}{index:02d}"
    return name if component is None else f"{name}-{component}"


def element_property(segment: str, index: int, doc: str) -> property:
    """A read-only property giving element ``index`` of the record's segment attribute
    ``segment`` (``element_property("st", 1, "ST01")`` is a transaction set's code)."""
    return property(lambda record: getattr(record, segment).get(index), doc=doc)


class ComponentRule:
    """How one interchange splits composite elements: by the declared separator (ISA16), or,
    forgivingly, by an undeclared one the element clearly uses.

    The forgiving rule: when a composite element does not contain the declared separator
    but starts with 1 to 3 letters or digits (a qualifier such as ``HC``, ``ABK``, a place
    of service ``11`` or a pointer ``1``) followed by one of
    :data:`COMPONENT_CANDIDATES` (never the element, segment or repetition separator),
    that character is taken as the separator for that element, and a warning is recorded
    once per (separator, element name), counting the elements it concerned.
    """

    def __init__(self, delimiters: Delimiters):
        self.declared = delimiters.component
        self.repetition = delimiters.repetition
        others = re.escape("".join(sorted(set(COMPONENT_CANDIDATES) - delimiters.as_set())))
        self.undeclared = re.compile(rf"[A-Za-z0-9]{{1,3}}([{others}])")
        self.warnings: dict[tuple[str, str], X12Warning] = {}

    def split(self, segment: Segment, index: int) -> list[str]:
        """The components of element ``index`` of ``segment`` ([] when the element is empty)."""
        elements = segment.elements
        value = elements[index] if 0 < index < len(elements) else ""
        if not value:
            return []
        if self.declared in value:
            return value.split(self.declared)
        match = self.undeclared.match(value)
        if match is None:
            return [value]
        separator = match[1]
        name = element_name(segment.tag, index)
        warning = self.warnings.get((separator, name))
        if warning is None:
            message = f"component separator {separator!r} used in {name}; ISA16 declares {self.declared!r}"
            self.warnings[separator, name] = X12Warning(message, segment.tag, segment.number, segment.line)
        else:
            warning.count += 1
        return value.split(separator)


class Segment:
    """A segment: ``tag``, ``elements`` (``elements[0]`` is the tag), its 1-based ``number``
    in the file (ISA is 1) and the 1-based ``line`` it starts on; ``rule`` is the
    interchange's :class:`ComponentRule`."""

    __slots__ = ("tag", "elements", "number", "line", "_rule")

    def __init__(self, elements: tuple[str, ...], number: int, line: int, rule: ComponentRule):
        self.tag = elements[0]
        self.elements = elements
        self.number = number
        self.line = line
        self._rule = rule

    def __repr__(self) -> str:
        return f"Segment({'*'.join(self.elements)!r}, number={self.number}, line={self.line})"

    @property
    def place(self) -> str:
        """``segment CLM (segment 27, line 27)``."""
        return place(self.tag, self.number, self.line)

    def error(self, message: str, index: int | None = None) -> X12Error:
        """An :class:`X12Error` about this segment (or its element ``index``), to raise: the
        message starts with the element's name (or the tag) and ends with the place."""
        element = element_name(self.tag, index) if index is not None else None
        message = f"{element or self.tag} {message}"
        return X12Error(message, tag=self.tag, segment_number=self.number, line=self.line, element=element)

    def __len__(self) -> int:
        """How many elements the segment has (not counting the tag)."""
        return len(self.elements) - 1

    def get(self, index: int, default: str = "") -> str:
        """Element ``index`` (1-based, as in ``CLM02``), or ``default`` when absent."""
        elements = self.elements
        return elements[index] if 0 < index < len(elements) else default

    def required(self, index: int) -> str:
        """Element ``index``, refused when absent or empty."""
        value = self.get(index)
        if not value:
            raise self.error("is required", index)
        return value

    def code(self, index: int, allowed, *, required: bool = True) -> str:
        """Element ``index``, refused unless one of ``allowed`` (or empty when not ``required``)."""
        value = self.required(index) if required else self.get(index)
        if value and value not in allowed:
            listed = ", ".join(sorted(allowed))
            raise self.error(f"{value!r} is not one of {listed}", index)
        return value

    def _parse(self, index: int, parser, required: bool):
        elements = self.elements
        value = elements[index] if 0 < index < len(elements) else ""
        if not value:
            if required:
                raise self.error("is required", index)
            return None
        try:
            return parser(value)
        except ValueError as exc:
            raise self.error(str(exc), index) from None

    def amount(self, index: int, *, required: bool = True) -> Cents | None:
        """Element ``index`` as integer cents (None when empty and not ``required``)."""
        return self._parse(index, _parse_amount, required)

    def integer(self, index: int, *, required: bool = True) -> int | None:
        """Element ``index`` as a whole number (None when empty and not ``required``)."""
        return self._parse(index, _parse_integer, required)

    def quantity(self, index: int, *, required: bool = True) -> tuple[int, int] | None:
        """Element ``index`` as a ``(numerator, denominator)`` decimal quantity (units)."""
        return self._parse(index, _parse_quantity, required)

    def date(self, index: int, *, required: bool = True) -> dt.date | None:
        """Element ``index`` as a date (CCYYMMDD, or YYMMDD where X12 uses it)."""
        return self._parse(index, values.parse_date, required)

    def period(self, qualifier_index: int, index: int, *, required: bool = True) -> tuple[dt.date, dt.date] | None:
        """A date or range whose format qualifier (D8/RD8) is element ``qualifier_index``:
        for ``DTP*472*RD8*20240101-20240105`` call ``period(2, 3)``."""
        qualifier = self.get(qualifier_index)
        return self._parse(index, partial(_parse_period, qualifier), required)

    def components(self, index: int) -> list[str]:
        """The components of composite element ``index`` (``SV101`` ``HC:99213:25`` gives
        ``["HC", "99213", "25"]``); an undeclared separator is accepted by the forgiving rule
        of :class:`ComponentRule` and reported as a warning."""
        return self._rule.split(self, index)

    def repeats(self, index: int) -> list[str]:
        """The repetitions of element ``index`` (split by ISA11; [] when empty)."""
        value = self.get(index)
        if not value:
            return []
        separator = self._rule.repetition
        return value.split(separator) if separator else [value]
