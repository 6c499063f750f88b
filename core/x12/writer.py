"""Write X12: segments joined with chosen delimiters, an ISA padded to its fixed widths,
and SE/GE/IEA counts computed. Nothing is escaped: a value that contains a delimiter is
refused, naming the element and the delimiter.

::

    w = InterchangeWriter(sender_id="CLINIC", receiver_id="PAYER", control_number=1,
                          when=dt.datetime(2024, 1, 15, 12, 0))
    w.gs("HC", "CLINIC", "PAYER", 1, "005010X222A1")
    w.st("837", "0001", "005010X222A1")
    w.segment("BHT", "0019", "00", "BATCH1", "20240115", "1200", "CH")
    w.segment("SV1", ("HC", "99213", "25"), format_amount(12500), "UN", 1)
    w.se(); w.ge(); w.iea()
    text = w.text()
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from claimdesk.core.money import Cents
from claimdesk.core.x12.delimiters import DELIMITER_NAMES, ISA_WIDTHS, Delimiters
from claimdesk.core.x12.segment import element_name

Value = str | int | None


class X12WriteError(ValueError):
    """A segment or envelope the writer refuses to write (the message says which)."""


def _text(tag: str, index: int, value, component: int | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)
    if isinstance(value, Cents):
        raise X12WriteError(f"{element_name(tag, index, component)}: write money with format_amount, not raw cents")
    raise X12WriteError(f"{element_name(tag, index, component)}: cannot write a {type(value).__name__} ({value!r})")


class SegmentFormatter:
    """Turns a tag and element values into segment text with given delimiters.

    A value is a ``str``, an ``int`` or None (empty); a ``tuple`` or ``list`` is a
    composite, joined with the component separator. Trailing empty elements and
    components are dropped, as X12 requires.
    """

    def __init__(self, delimiters: Delimiters = Delimiters()):
        delimiters.check()
        self.delimiters = delimiters
        self._element = delimiters.element
        self._component = delimiters.component
        # what no value may hold besides the element separator (composites: and the component separator,
        # those are counted)
        rest = "".join(c for c in (delimiters.repetition, delimiters.segment) if c)
        self._rest = re.compile("[" + re.escape(rest) + "\r\n]")
        self._others = re.compile("[" + re.escape(delimiters.component + rest) + "\r\n]")
        self._tag = re.compile(r"[A-Z][A-Z0-9]{1,2}", re.ASCII)
        self._tags: set[str] = set()  # tags already found well-formed

    def format(self, tag: str, *elements: Value | tuple | list) -> str:
        """The text of one segment, without its terminator."""
        if tag not in self._tags:
            if not isinstance(tag, str) or self._tag.fullmatch(tag) is None:
                raise X12WriteError(f"{tag!r} is not a segment tag")
            self._tags.add(tag)
        element = self._element
        try:  # every value text (the common case): one join, then the separators counted
            text = element.join(elements)
        except TypeError:  # None, a number or a composite among them
            return self._format_values(tag, elements)
        if not text:
            return tag
        if text.count(element) != len(elements) - 1 or self._others.search(text) is not None:
            self._name_bad_value(tag, elements)
        text = text.rstrip(element)  # trailing empty elements (no value holds the separator)
        return f"{tag}{element}{text}" if text else tag

    def format_all(self, rows: Iterable[tuple]) -> list[str]:
        """:meth:`format` of each row, a tuple ``(tag, *elements)``, in order: the same text and
        the same refusals, with a row of text values (and a tag seen before) formatted inline."""
        element, tags, others = self._element, self._tags, self._others
        out: list[str] = []
        append = out.append
        for row in rows:
            try:
                text = element.join(row)
            except TypeError:  # None, a number or a composite among the values
                append(self._format_values(row[0], row[1:]) if row[0] in tags else self.format(*row))
                continue
            if row[0] not in tags or text.count(element) != len(row) - 1 or others.search(text) is not None:
                append(self.format(*row))  # a tag not checked yet, or a value to name (refused)
                continue
            append(text.rstrip(element))  # trailing empty elements (no value holds the separator)
        return out

    def _format_values(self, tag: str, elements: tuple) -> str:
        """:meth:`format` of values that are not all text: ``None`` (empty), ``int``, composites."""
        element, component = self._element, self._component
        parts = [tag]
        append = parts.append
        joins = 0  # component separators the composites put in (their trailing empty components dropped)
        bad = False  # a component holds the component separator (named once every value is known to be writable)
        for value in elements:
            if type(value) is str:
                append(value)
            elif value is None:
                append("")
            elif isinstance(value, (tuple, list)):
                if not value:
                    append("")
                    continue
                try:
                    text = component.join(value)
                except TypeError:
                    index = len(parts)
                    text = component.join([v if type(v) is str else _text(tag, index, v, j)
                                           for j, v in enumerate(value, start=1)])
                put = len(value) - 1
                if text.count(component) != put:
                    bad = True
                kept = text.rstrip(component)  # trailing empty components (no component holds the separator)
                joins += put - (len(text) - len(kept))
                append(kept)
            else:
                append(_text(tag, len(parts), value))
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()
        text = element.join(parts)
        # a value holding a separator shows as one separator too many; any other delimiter at all
        if (bad or text.count(element) != len(parts) - 1 or text.count(component) != joins
                or self._rest.search(text) is not None):
            self._name_bad_value(tag, elements)
        return text

    def _name_bad_value(self, tag: str, elements) -> None:
        names = {getattr(self.delimiters, key): label for key, label in DELIMITER_NAMES.items()
                 if getattr(self.delimiters, key)}
        names.setdefault("\n", "line break")
        names.setdefault("\r", "line break")
        for index, value in enumerate(elements, start=1):
            composite = isinstance(value, (tuple, list))
            for j, part in enumerate(value if composite else [value], start=1):
                text = _text(tag, index, part)
                for char, label in names.items():
                    if char in text:
                        name = element_name(tag, index, j if composite else None)
                        raise X12WriteError(f"{name} {text!r} contains the {label} {char!r}; X12 has no escape")
        raise AssertionError("a delimiter was found but no value holds it")  # pragma: no cover


def pad(value: str, width: int, name: str) -> str:
    """``value`` left-justified in ``width`` characters (ISA fields are fixed-width)."""
    if len(value) > width:
        raise X12WriteError(f"{name} {value!r} is longer than its {width} characters")
    return value.ljust(width)


class InterchangeWriter:
    """Builds one interchange segment by segment: :meth:`gs`, :meth:`st`, :meth:`segment`...,
    :meth:`se`, :meth:`ge`, :meth:`iea`; counts and closing control numbers are computed
    and wrong nesting is refused. ``line_break`` (e.g. ``"\\n"``) is written after every
    segment terminator."""

    def __init__(
        self,
        *,
        sender_id: str,
        receiver_id: str,
        control_number: int,
        when: dt.datetime,
        sender_qualifier: str = "ZZ",
        receiver_qualifier: str = "ZZ",
        usage: str = "P",
        acknowledgment_requested: str = "0",
        version: str = "00501",
        delimiters: Delimiters = Delimiters(),
        line_break: str = "",
    ):
        self.formatter = SegmentFormatter(delimiters)
        self.delimiters = delimiters
        self.line_break = line_break
        if not 0 < control_number < 10**9:
            raise X12WriteError(f"ISA13 {control_number!r} is not a 9-digit control number")
        if usage not in ("P", "T"):
            raise X12WriteError(f"ISA15 {usage!r} is not P (production) or T (test)")
        self.control_number = f"{control_number:09d}"
        self._segments: list[str] = []
        self._groups = 0
        self._group: tuple[str, int] | None = None  # (GS06, transaction sets so far)
        self._st: tuple[str, int] | None = None  # (ST02, index of ST)
        fields = [
            "00", "", "00", "", sender_qualifier, sender_id, receiver_qualifier, receiver_id,
            when.strftime("%y%m%d"), when.strftime("%H%M"), delimiters.repetition or "U", version,
            self.control_number, acknowledgment_requested, usage, delimiters.component,
        ]
        # refuse a delimiter inside a field (ISA11 and ISA16 hold delimiters themselves)
        self.formatter.format("ISA", *fields[:10], "U", *fields[11:15])
        padded = [pad(v, w, f"ISA{i:02d}") for i, (v, w) in enumerate(zip(fields, ISA_WIDTHS), start=1)]
        self._segments.append(delimiters.element.join(["ISA", *padded]))
        self.when = when
        self._closed = False

    def segment(self, tag: str, *elements: Value | tuple | list) -> None:
        """Add a segment inside the open transaction set."""
        if self._st is None:
            raise X12WriteError(f"{tag} written outside a transaction set (call st first)")
        self._segments.append(self.formatter.format(tag, *elements))

    def segments(self, rows: Sequence[tuple]) -> None:
        """Add segments inside the open transaction set, each row a tuple ``(tag, *elements)``:
        the same as :meth:`segment` for each, in one call."""
        if self._st is None:
            tag = rows[0][0] if rows else "a segment"
            raise X12WriteError(f"{tag} written outside a transaction set (call st first)")
        self._segments += self.formatter.format_all(rows)

    def gs(self, functional_id: str, sender: str, receiver: str, control_number: int, version: str,
           when: dt.datetime | None = None) -> None:
        """Open a functional group (GS01 ``HC`` for 837, ``HP`` for 835); dated like the ISA
        unless ``when`` is given."""
        if self._closed or self._group is not None:
            raise X12WriteError("GS: a functional group is already open (call ge first)" if self._group
                                else "GS: the interchange is closed")
        if not 0 < control_number < 10**9:
            raise X12WriteError(f"GS06 {control_number!r} is not a control number of 1 to 9 digits")
        when = when or self.when
        self._segments.append(self.formatter.format(
            "GS", functional_id, sender, receiver, when.strftime("%Y%m%d"), when.strftime("%H%M"),
            control_number, "X", version,
        ))
        self._group = (str(control_number), 0)

    def st(self, code: str, control_number: str | int, implementation: str | None = None) -> None:
        """Open a transaction set; an int control number is zero-padded to 4 digits."""
        if self._group is None:
            raise X12WriteError("ST written outside a functional group (call gs first)")
        if self._st is not None:
            raise X12WriteError("ST: a transaction set is already open (call se first)")
        control = f"{control_number:04d}" if type(control_number) is int else control_number
        if not 4 <= len(control) <= 9:
            raise X12WriteError(f"ST02 {control!r} is not a control number of 4 to 9 characters")
        self._segments.append(self.formatter.format("ST", code, control, implementation))
        self._st = (control, len(self._segments) - 1)

    def se(self) -> None:
        """Close the transaction set: SE01 counts ST to SE inclusive, SE02 repeats ST02."""
        if self._st is None:
            raise X12WriteError("SE: no transaction set is open")
        control, start = self._st
        self._segments.append(self.formatter.format("SE", len(self._segments) - start + 1, control))
        self._st = None
        group_control, count = self._group
        self._group = (group_control, count + 1)

    def ge(self) -> None:
        """Close the functional group: GE01 counts its transaction sets, GE02 repeats GS06."""
        if self._st is not None:
            raise X12WriteError("GE: a transaction set is still open (call se first)")
        if self._group is None:
            raise X12WriteError("GE: no functional group is open")
        control, count = self._group
        self._segments.append(self.formatter.format("GE", count, control))
        self._group = None
        self._groups += 1

    def iea(self) -> None:
        """Close the interchange: IEA01 counts its groups, IEA02 repeats ISA13."""
        if self._group is not None:
            raise X12WriteError("IEA: a functional group is still open (call ge first)")
        if self._closed:
            raise X12WriteError("IEA: the interchange is already closed")
        self._segments.append(self.formatter.format("IEA", self._groups, self.control_number))
        self._closed = True

    def text(self) -> str:
        """The interchange as text (IEA must have been written)."""
        if not self._closed:
            raise X12WriteError("the interchange is not closed (call iea first)")
        end = self.delimiters.segment + self.line_break
        return end.join(self._segments) + end
