"""The four X12 delimiters, and how they are read from the fixed-width ISA segment."""

from __future__ import annotations

from dataclasses import dataclass

from claimdesk.core.x12.errors import NotX12Error

#: Widths of ISA01..ISA16: ISA is fixed-width, so the delimiters sit at known places.
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
#: "ISA", 16 element separators, the 16 fields and the segment terminator.
ISA_LENGTH = 3 + len(ISA_WIDTHS) + sum(ISA_WIDTHS) + 1  # 106

#: Names used in messages for the delimiters.
DELIMITER_NAMES = {
    "element": "element separator",
    "component": "component separator",
    "repetition": "repetition separator",
    "segment": "segment terminator",
}


@dataclass(frozen=True)
class Delimiters:
    """Element separator, component separator (ISA16), repetition separator (ISA11; None in
    4010 files, where ISA11 is a code) and segment terminator."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"

    def check(self) -> None:
        """Refuse delimiters that are not single, distinct, non-alphanumeric characters
        (the segment terminator may be a line break)."""
        seen: dict[str, str] = {}
        for name in ("element", "component", "repetition", "segment"):
            char = getattr(self, name)
            if char is None and name == "repetition":
                continue
            label = DELIMITER_NAMES[name]
            if not isinstance(char, str) or len(char) != 1:
                raise ValueError(f"the {label} must be one character, not {char!r}")
            if char.isalnum() or char == " " or (char in "\r\n" and name != "segment"):
                raise ValueError(f"the {label} {char!r} cannot be a letter, digit, space or line break")
            if char in seen:
                raise ValueError(f"the {label} {char!r} is also the {seen[char]}")
            seen[char] = label

    def as_set(self) -> frozenset[str]:
        """The delimiter characters in use."""
        return frozenset(c for c in (self.element, self.component, self.repetition, self.segment) if c)


def read_isa_delimiters(text: str) -> Delimiters:
    """The delimiters an interchange declares in its ISA segment (``text`` starts with ``ISA``).

    Refuses with :class:`NotX12Error` a text that does not start with ISA, an ISA that is
    truncated, or one whose fields are not at their fixed widths (naming the field).
    """
    if not text.startswith("ISA"):
        start = text[:30].splitlines()[0] if text.strip() else "nothing"
        raise NotX12Error(f"not an X12 file: it must start with an ISA segment, it starts with {start!r}")
    if len(text) < ISA_LENGTH:
        raise NotX12Error(
            f"not an X12 file: truncated ISA segment (an ISA is {ISA_LENGTH} characters, the file has {len(text)})"
        )
    element = text[3]
    if element.isalnum() or element in " \t\r\n":
        raise NotX12Error(f"not an X12 file: the character after 'ISA' ({element!r}) cannot be an element separator")
    fields = text[4:ISA_LENGTH + 20].split(element, len(ISA_WIDTHS) - 1)
    for number, width in enumerate(ISA_WIDTHS[:-1], start=1):
        if number > len(fields) - 1:
            raise NotX12Error(f"not an X12 file: the ISA segment has only {number} elements, X12 requires 16")
        if len(fields[number - 1]) != width:
            raise NotX12Error(
                f"not an X12 file: ISA{number:02d} is {len(fields[number - 1])} characters wide, X12 fixes it "
                f"at {width} (ISA is a fixed-width segment of {ISA_LENGTH} characters)"
            )
    component, segment = text[ISA_LENGTH - 2], text[ISA_LENGTH - 1]
    inside = text.find(segment, 0, ISA_LENGTH - 1)
    if inside >= 0:
        raise NotX12Error(
            f"not an X12 file: the segment terminator {segment!r} (after ISA16) also stands inside the ISA "
            f"segment, at character {inside + 1}"
        )
    repetition = fields[10]  # ISA11: a separator in 5010, the code "U" in 4010
    delimiters = Delimiters(
        element=element,
        component=component,
        repetition=None if repetition.isalnum() else repetition,
        segment=segment,
    )
    try:
        delimiters.check()
    except ValueError as exc:
        raise NotX12Error(f"not an X12 file: the ISA segment declares unusable delimiters: {exc}") from None
    return delimiters
