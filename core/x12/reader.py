"""Read an X12 interchange from text or bytes: delimiters from ISA, segments with their
place in the file, the envelope checked.

The file is cut with ``str.split`` on the segment terminator and each segment on the
element separator (no per-character loop). Line breaks (CR, LF, CRLF) after segment
terminators are tolerated, as are a UTF-8 BOM, blank lines before ISA and whitespace
after the last terminator. A line break inside a segment, an empty segment and text
after the last terminator are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import count, repeat
from operator import attrgetter

from claimdesk.core.x12.delimiters import Delimiters, read_isa_delimiters
from claimdesk.core.x12.envelope import Interchange, build_envelope
from claimdesk.core.x12.errors import X12Error
from claimdesk.core.x12.segment import ComponentRule, Segment

SEGMENT_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}", re.ASCII)
BOM = "\ufeff"


def decode(data: bytes | str) -> str:
    """The text of an X12 file: UTF-8 (BOM dropped), or Latin-1 when it is not UTF-8."""
    if isinstance(data, str):
        return data[1:] if data.startswith(BOM) else data
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read an X12 file from str or bytes, not {type(data).__name__}")
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        return bytes(data).decode("latin-1")


def _cut_uniform(core: str, terminator: str, first_line: int) -> tuple[list[str], Iterable[int]] | None:
    """The fast cut, when line breaks stand only right after terminators, after every one
    or none: one ``str.split`` and the lines by arithmetic. None for any other layout."""
    lf, cr = core.count("\n"), core.count("\r")
    if terminator == "\n":
        separator, step = ("\n", 1) if cr == 0 else (None, 0)
    elif terminator == "\r":
        separator, step = ("\r", 0) if lf == 0 else ("\r\n", 1) if core.count("\r\n") == lf == cr else (None, 0)
    elif lf == cr == 0:
        separator, step = terminator, 0
    elif cr == 0 and core.count(terminator + "\n") == lf:
        separator, step = terminator + "\n", 1
    elif core.count(terminator + "\r\n") == lf == cr:
        separator, step = terminator + "\r\n", 1
    else:
        return None
    if separator is None:
        return None
    pieces = core.split(separator)
    lines = range(first_line, first_line + len(pieces)) if step else repeat(first_line, len(pieces))
    return pieces, lines


def _cut_any(core: str, terminator: str, first_line: int) -> tuple[list[str], list[int]]:
    """The general cut: any run of CR/LF after a terminator, each piece's line counted."""
    pieces: list[str] = []
    lines: list[int] = []
    line = first_line
    newline_ends_segment = terminator == "\n"
    for number, piece in enumerate(core.split(terminator), start=1):
        body = piece.lstrip("\r\n")
        line += piece.count("\n", 0, len(piece) - len(body))
        if "\n" in body or "\r" in body:
            raise X12Error(f"a line break inside a segment ({body[:20]!r}...)", tag=body[:3],
                           segment_number=number, line=line)
        pieces.append(body)
        lines.append(line)
        line += newline_ends_segment
    return pieces, lines


def _check_tags(segments: list[Segment]) -> None:
    """Refuse the first segment whose tag is empty or not 2-3 capitals and digits."""
    bad = {tag for tag in set(map(attrgetter("tag"), segments)) if SEGMENT_TAG.fullmatch(tag) is None}
    if bad:
        first = next(s for s in segments if s.tag in bad)
        if not first.tag:
            raise X12Error("an empty segment (two segment terminators in a row)", tag="(empty)",
                           segment_number=first.number, line=first.line)
        raise X12Error(f"{first.tag[:20]!r} is not a segment tag (2 or 3 capital letters and digits)",
                       tag=first.tag[:20], segment_number=first.number, line=first.line)


def split_segments(text: str, delimiters: Delimiters, rule: ComponentRule, first_line: int = 1) -> list[Segment]:
    """Cut ``text`` (starting at ISA, on line ``first_line``) into :class:`Segment` records
    numbered from 1, each with the line it starts on."""
    terminator = delimiters.segment
    if terminator in "\r\n":  # a line-break terminator: the last one may be missing or doubled
        core, tail = text.rstrip(), ""
    else:
        last = text.rfind(terminator)
        core, tail = text[:last], text[last + 1:]
    if tail.strip():
        line = first_line + core.count("\n") + (terminator == "\n") + tail.count("\n", 0, len(tail) - len(tail.lstrip()))
        raise X12Error(
            f"the file ends without a segment terminator {terminator!r} after {tail.strip()[:30]!r} (truncated file?)",
            tag=tail.strip()[:3], segment_number=core.count(terminator) + 2, line=line,
        )
    pieces, lines = _cut_uniform(core, terminator, first_line) or _cut_any(core, terminator, first_line)
    # (map instead of a loop in Python: a file has some 100,000 segments)
    elements = map(tuple, map(str.split, pieces, repeat(delimiters.element)))
    segments = list(map(Segment, elements, count(1), lines, repeat(rule)))
    _check_tags(segments)
    return segments


def read_interchange(data: bytes | str) -> Interchange:
    """Read one X12 interchange (ISA..IEA) from ``data`` and check its envelope.

    Raises :class:`~claimdesk.core.x12.errors.NotX12Error` for a file that is not X12
    and :class:`~claimdesk.core.x12.errors.X12Error` naming the segment and line for one
    that breaks a rule. The returned :class:`~claimdesk.core.x12.envelope.Interchange`
    holds its segments, groups, transaction sets and warnings.
    """
    text = decode(data)
    start = text.lstrip()
    first_line = 1 + text.count("\n", 0, len(text) - len(start))
    delimiters = read_isa_delimiters(start)
    rule = ComponentRule(delimiters)
    segments = split_segments(start, delimiters, rule, first_line)
    return build_envelope(segments, delimiters, rule)
