"""What the X12 reader and writer refuse (errors) and what they accept but report (warnings)."""

from __future__ import annotations

from claimdesk.core.errors import ClaimdeskError


def place(tag: str, number: int, line: int) -> str:
    """Where a segment stands, as every message says it: ``segment CLM (segment 27, line 27)``."""
    return f"segment {tag} (segment {number}, line {line})"


class X12Error(ClaimdeskError):
    """A file that breaks an X12 rule; the message ends with the segment and line at fault.

    ``tag``, ``segment_number`` and ``line`` are set when a segment is at fault (None
    for a file that is refused before any segment is read); ``element`` names the
    element (``CLM02``) when one is.
    """

    def __init__(
        self,
        message: str,
        *,
        tag: str | None = None,
        segment_number: int | None = None,
        line: int | None = None,
        element: str | None = None,
    ):
        if tag is not None:
            message = f"{message}: {place(tag, segment_number, line)}"
        super().__init__(message, field=None)
        self.tag = tag
        self.segment_number = segment_number
        self.line = line
        self.element = element


class NotX12Error(X12Error):
    """The input is not an X12 interchange at all (no ISA, or an ISA that is not 106 characters)."""


class X12Warning:
    """Something the reader accepted but a person should know (e.g. an undeclared component
    separator). ``count`` says how many elements it concerned; the place is the first one."""

    __slots__ = ("message", "tag", "segment_number", "line", "count")

    def __init__(self, message: str, tag: str, segment_number: int, line: int):
        self.message = message
        self.tag = tag
        self.segment_number = segment_number
        self.line = line
        self.count = 1

    def __str__(self) -> str:
        times = f"; {self.count} elements" if self.count > 1 else ""
        return f"{self.message} (first at {place(self.tag, self.segment_number, self.line)}{times})"

    def __repr__(self) -> str:
        return f"X12Warning({str(self)!r})"
