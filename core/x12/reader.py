"""Read an X12 interchange from text or bytes: delimiters from ISA, segments with their
place in the file, the envelope checked.

The file is cut with ``str.split`` on the segment terminator and each segment on the
element separator (no per-character loop). Line breaks (CR, LF, CRLF) after segment
terminators are tolerated, as are a UTF-8 BOM, blank lines before ISA and whitespace, NUL
and Ctrl-Z padding after the last terminator. A file delivered *wrapped* (in lines of one
width, 80 characters most often, cut wherever the width falls, the ISA too) is read with its
line breaks taken out, said in a warning (:func:`unwrap`). A line break inside a segment of any
other file, an empty segment and text after the last terminator are refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import accumulate, count, repeat
from operator import attrgetter

from claimdesk.core.x12.delimiters import ISA_LENGTH, Delimiters, read_isa_delimiters
from claimdesk.core.x12.envelope import Interchange, build_envelope
from claimdesk.core.x12.errors import X12Error, X12Warning
from claimdesk.core.x12.segment import ComponentRule, Segment

SEGMENT_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}", re.ASCII)
BOM = "\ufeff"
#: What may follow the last segment terminator: whitespace, and the NUL and Ctrl-Z (DOS end of
#: file) some systems pad a file with.
PADDING = frozenset(" \t\r\n\x0b\x0c\x00\x1a")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEXT = re.compile(r"[^\r\n]")


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


def padding_start(text: str) -> int:
    """Where the :data:`PADDING` at the end of ``text`` begins (``len(text)`` when there is none)."""
    end = len(text)
    while end and text[end - 1] in PADDING:
        end -= 1
    return end


def unwrap(text: str) -> tuple[str, int]:
    """``text`` (starting at ISA) with its line breaks taken out when it is a wrapped file, and
    the width of its lines (0, and ``text`` as it is, when it is not). Some payers and
    clearinghouses deliver X12 in lines of one width (80 characters most often), cutting segments
    wherever the width falls: a file is taken as wrapped when every line but the last is exactly
    as long as the first, the last no longer, and the lines do not all end with a segment
    terminator (its first line shorter than an ISA segment, or a line ending inside a segment)."""
    end = padding_start(text)  # (what follows the last line is no line)
    first = _LINE_BREAK.search(text, 0, end)
    if first is None or not text.startswith("ISA"):
        return text, 0
    width = first.start()
    second = _LINE_BREAK.search(text, first.end(), end)
    if second is not None and second.start() - first.end() != width and _TEXT.search(text, second.end(), end):
        return text, 0  # (most files: the second line is not as long as the first; no need to cut them all)
    lines = _LINE_BREAK.split(text[:end])
    if len(lines) < 2 or width == 0 or any(len(line) != width for line in lines[:-1]) or len(lines[-1]) > width:
        return text, 0
    if width >= ISA_LENGTH - 1 and all(line.endswith(text[ISA_LENGTH - 1]) for line in lines[:-1]):
        return text, 0  # (a segment a line, each as long as the others: not cut)
    return "".join(lines), width


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


def split_segments(text: str, delimiters: Delimiters, rule: ComponentRule, first_line: int = 1,
                   width: int = 0, offset: int = 0) -> list[Segment]:
    """Cut ``text`` (starting at ISA, on line ``first_line``) into :class:`Segment` records
    numbered from 1, each with the line it starts on (in a file unwrapped from lines of ``width``
    characters, where ``text`` begins at character ``offset``: the line it started on before)."""
    terminator = delimiters.segment
    if terminator in "\r\n":  # a line-break terminator: the last one may be missing or doubled
        core, tail = text[:padding_start(text)], ""
    else:
        last = text.rfind(terminator)
        core, tail = text[:last], text[last + 1:]
    if padding_start(tail):
        line = first_line + core.count("\n") + (terminator == "\n") + tail.count("\n", 0, len(tail) - len(tail.lstrip()))
        raise X12Error(
            f"the file ends without a segment terminator {terminator!r} after {tail.strip()[:30]!r} (truncated file?)",
            tag=tail.strip()[:3], segment_number=core.count(terminator) + 2, line=line,
        )
    pieces, lines = _cut_uniform(core, terminator, first_line) or _cut_any(core, terminator, first_line)
    if width:
        starts = accumulate((len(piece) + 1 for piece in pieces), initial=offset)
        lines = [first_line + start // width for start in starts][:len(pieces)]
    # (map instead of a loop in Python: a file has some 100,000 segments)
    elements = map(tuple, map(str.split, pieces, repeat(delimiters.element)))
    segments = list(map(Segment, elements, count(1), lines, repeat(rule)))
    _check_tags(segments)
    return segments


def read_interchange(data: bytes | str) -> Interchange:
    """Read one X12 interchange (ISA..IEA) from ``data`` and check its envelope.

    Raises :class:`~claimdesk.core.x12.errors.NotX12Error` for a file that is not X12
    and :class:`~claimdesk.core.x12.errors.X12Error` naming the segment and line for one
    that breaks a rule (a second interchange after the IEA too: :func:`read_interchanges`
    reads those). The returned :class:`~claimdesk.core.x12.envelope.Interchange` holds its
    segments, groups, transaction sets and warnings.
    """
    return read_interchanges(data, several=False)[0]


def read_interchanges(data: bytes | str, *, several: bool = True) -> list[Interchange]:
    """Every interchange of ``data``, as :func:`read_interchange` reads one: a file may hold
    several one after the other (a clearinghouse's download joining the 835s of many payers),
    each with the delimiters its own ISA declares and its envelope checked, its segments on the
    lines they stand on in the file. Whitespace and padding may stand between them."""
    text = decode(data)
    body = text.lstrip()
    first_line = 1 + text.count("\n", 0, len(text) - len(body))
    body, width = unwrap(body)
    interchanges: list[Interchange] = []
    offset, line = 0, first_line
    while True:
        delimiters = read_isa_delimiters(body[offset:offset + ISA_LENGTH + 20])
        end = _next_interchange(body, offset, delimiters)
        part = body[offset:end]
        rule = ComponentRule(delimiters)
        if width and not interchanges:
            rule.warnings["wrapped", ""] = X12Warning(
                f"the file comes in lines of {width} characters that cut its segments (a wrapped file): read with its "
                "line breaks taken out", "ISA", 1, first_line)
        segments = split_segments(part, delimiters, rule, line if not width else first_line, width, offset)
        interchanges.append(build_envelope(segments, delimiters, rule))
        if end is None:
            return interchanges
        if not several:
            raise X12Error("ISA a second interchange starts after IEA; read one interchange per file", tag="ISA",
                           segment_number=len(segments) + 1,
                           line=line + part.count("\n") if not width else first_line + end // width)
        line += part.count("\n")
        offset = end


def _next_interchange(body: str, offset: int, delimiters: Delimiters) -> int | None:
    """Where the interchange after the one starting at ``offset`` begins (its ISA), or None when
    nothing but padding follows that one's IEA (or it has none: the envelope check says so)."""
    terminator, element = delimiters.segment, delimiters.element
    found = [i for i in (body.find(terminator + brk + "IEA" + element, offset) for brk in ("", "\n", "\r\n", "\r"))
             if i >= 0]
    if not found:
        return None
    close = body.find(terminator, min(found) + 1 + len("IEA"))
    if close < 0:
        return None
    after = close + 1
    while after < len(body) and body[after] in PADDING:
        after += 1
    return after if body.startswith("ISA", after) else None
