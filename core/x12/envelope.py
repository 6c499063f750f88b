"""The X12 envelope: interchange (ISA/IEA), functional groups (GS/GE), transaction sets (ST/SE).

:func:`build_envelope` checks nesting, control numbers and counts while it cuts the
segments of a file into that structure; every refusal names the segment and the line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from claimdesk.core.x12 import limits
from claimdesk.core.x12.delimiters import Delimiters
from claimdesk.core.x12.errors import X12Warning
from claimdesk.core.x12.loops import HLNode, hierarchy
from claimdesk.core.x12.segment import ComponentRule, Segment, element_property

#: ST01 transaction set code -> the GS01 functional identifier it must travel under.
FUNCTIONAL_IDS = {
    "837": "HC", "835": "HP", "999": "FA", "997": "FA", "270": "HS", "271": "HB",
    "276": "HR", "277": "HN", "278": "HI", "834": "BE", "820": "RA",
}
ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
CONTROL_NUMBER = re.compile(r"[0-9]{1,9}", re.ASCII)


@dataclass
class TransactionSet:
    """One ST..SE transaction set (e.g. one 837 or one 835 payment); ``segments`` holds
    ST and SE too, ``body`` the segments between them."""

    segments: list[Segment]

    @property
    def st(self) -> Segment:
        """The ST segment."""
        return self.segments[0]

    @property
    def se(self) -> Segment:
        """The SE segment."""
        return self.segments[-1]

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return self.segments[1:-1]

    code = element_property("st", 1, "ST01: ``837``, ``835``...")
    control_number = element_property("st", 2, "ST02.")
    implementation = element_property("st", 3, "ST03, the implementation guide (``005010X222A1``); may be empty.")

    def hierarchy(self) -> list[HLNode]:
        """The HL segments of this transaction set as linked :class:`~claimdesk.core.x12.loops.HLNode`s."""
        return hierarchy(self.body)


@dataclass
class FunctionalGroup:
    """One GS..GE functional group and its transaction sets."""

    gs: Segment
    ge: Segment | None = None
    transactions: list[TransactionSet] = field(default_factory=list)

    functional_id = element_property("gs", 1, "GS01: ``HC`` for claims, ``HP`` for remittances.")
    control_number = element_property("gs", 6, "GS06.")
    version = element_property("gs", 8, "GS08: ``005010X222A1``...")


@dataclass
class Interchange:
    """A read interchange: its delimiters, every segment in file order, its groups, and the
    warnings the forgiving rules recorded (grows as composite elements are split)."""

    delimiters: Delimiters
    segments: list[Segment]
    groups: list[FunctionalGroup]
    rule: ComponentRule

    @property
    def isa(self) -> Segment:
        """The ISA segment."""
        return self.segments[0]

    @property
    def iea(self) -> Segment:
        """The IEA segment."""
        return self.segments[-1]

    control_number = element_property("isa", 13, "ISA13.")

    @property
    def sender_id(self) -> str:
        """ISA06 without its padding."""
        return self.isa.get(6).strip()

    @property
    def receiver_id(self) -> str:
        """ISA08 without its padding."""
        return self.isa.get(8).strip()

    @property
    def date(self) -> dt.date:
        """ISA09 (YYMMDD)."""
        return self.isa.date(9)

    @property
    def is_test(self) -> bool:
        """ISA15 is ``T`` (test data)."""
        return self.isa.get(15) == "T"

    @property
    def warnings(self) -> list[X12Warning]:
        """What the reader accepted but reports (e.g. an undeclared component separator)."""
        return list(self.rule.warnings.values())

    def transactions(self, code: str | None = None) -> list[TransactionSet]:
        """Every transaction set in file order, or only those whose ST01 is ``code``."""
        return [t for g in self.groups for t in g.transactions if code is None or t.code == code]

    def contents(self) -> str:
        """What the interchange holds, for a clerk who gave it to the wrong import ("it holds 835
        remittances (post them with Post ERA: claimdesk era import)")."""
        codes = list(dict.fromkeys(t.code for t in self.transactions()))
        if not codes:
            return "it holds no transaction set"
        return "it holds " + " and ".join(TRANSACTION_NAMES.get(code, f"{code} transaction sets") for code in codes)


#: What an ST01 code is, named for a clerk (:meth:`Interchange.contents`).
TRANSACTION_NAMES = {
    "835": "835 remittances (post them with Post ERA: claimdesk era import)",
    "837": "837 claims (import them with Import 837: claimdesk import 837)",
    "999": "999 acknowledgments of files sent", "997": "997 acknowledgments of files sent",
    "277": "277 claim status reports", "276": "276 claim status requests",
    "270": "270 eligibility requests", "271": "271 eligibility answers",
}


def _opened(segment: Segment) -> str:
    return f"the {segment.tag} at segment {segment.number} (line {segment.line})"


def _check_control_number(segment: Segment, index: int, *, exact: int | None = None) -> str:
    value = segment.required(index)
    if CONTROL_NUMBER.fullmatch(value) is None or (exact and len(value) != exact):
        width = f"{exact} digits" if exact else "1 to 9 digits"
        raise segment.error(f"{value!r} is not a control number ({width})", index)
    return value


def _check_count(segment: Segment, index: int, actual: int, what: str) -> None:
    declared = segment.integer(index)
    if declared != actual:
        raise segment.error(f"says {declared} {what}, there are {actual}", index)


def _check_same(closing: Segment, index: int, opening: Segment, opening_index: int) -> None:
    if closing.get(index) != opening.get(opening_index):
        raise closing.error(
            f"{closing.get(index)!r} does not match {opening.tag}{opening_index:02d} "
            f"{opening.get(opening_index)!r} of {_opened(opening)}",
            index,
        )


def build_envelope(segments: list[Segment], delimiters: Delimiters, rule: ComponentRule) -> Interchange:
    """Check the envelope of one interchange's ``segments`` (ISA first) and cut it into
    groups and transaction sets. Refuses wrong nesting, a missing SE/GE/IEA, control
    numbers that do not match and wrong counts, naming the segment and line."""
    isa = segments[0]
    _check_control_number(isa, 13, exact=9)
    groups: list[FunctionalGroup] = []
    group: FunctionalGroup | None = None
    st_index: int | None = None
    iea: Segment | None = None
    for index in range(1, len(segments)):
        segment = segments[index]
        tag = segment.tag
        if iea is not None:
            if tag == "ISA":
                raise segment.error("a second interchange starts after IEA; read one interchange per file")
            raise segment.error("comes after IEA, which ends the interchange")
        if tag not in ENVELOPE_TAGS:
            if st_index is None:
                raise segment.error("is outside a transaction set (not between ST and SE)")
            continue
        limits.check((segment,))
        if tag == "ST":
            if group is None:
                raise segment.error("is outside a functional group (no GS before it)")
            if st_index is not None:
                raise segment.error(f"opens a transaction set while {_opened(segments[st_index])} is not closed (missing SE)")
            segment.required(1)
            control = segment.required(2)
            if not 4 <= len(control) <= 9:
                raise segment.error(f"{control!r} is not a control number (4 to 9 characters)", 2)
            if any(t.control_number == control for t in group.transactions):
                raise segment.error(f"{control!r} is used twice in one functional group", 2)
            wanted = FUNCTIONAL_IDS.get(segment.get(1))
            if wanted and group.functional_id != wanted:
                raise segment.error(
                    f"{segment.get(1)!r} travels in a GS01 {wanted!r} group, not {group.functional_id!r}", 1
                )
            st_index = index
        elif tag == "SE":
            if st_index is None:
                raise segment.error("closes no transaction set (no ST before it)")
            _check_count(segment, 1, index - st_index + 1, "segments from ST to SE")
            _check_same(segment, 2, segments[st_index], 2)
            group.transactions.append(TransactionSet(segments[st_index:index + 1]))
            st_index = None
        elif tag == "GS":
            if st_index is not None:
                raise segment.error(f"opens a group while {_opened(segments[st_index])} is not closed (missing SE)")
            if group is not None:
                raise segment.error(f"opens a group while {_opened(group.gs)} is not closed (missing GE)")
            segment.required(1)
            _check_control_number(segment, 6)
            group = FunctionalGroup(segment)
        elif tag == "GE":
            if st_index is not None:
                raise segment.error(f"closes the group while {_opened(segments[st_index])} is not closed (missing SE)")
            if group is None:
                raise segment.error("closes no functional group (no GS before it)")
            _check_count(segment, 1, len(group.transactions), "transaction sets in the group")
            _check_same(segment, 2, group.gs, 6)
            group.ge = segment
            groups.append(group)
            group = None
        elif tag == "IEA":
            if st_index is not None:
                raise segment.error(f"ends the interchange while {_opened(segments[st_index])} is not closed (missing SE)")
            if group is not None:
                raise segment.error(f"ends the interchange while {_opened(group.gs)} is not closed (missing GE)")
            _check_count(segment, 1, len(groups), "functional groups")
            _check_same(segment, 2, isa, 13)
            iea = segment
        else:  # a second ISA before IEA
            raise segment.error(f"opens an interchange while {_opened(isa)} is not closed (missing IEA)")
    if iea is None:
        last = segments[-1]
        if st_index is not None:
            missing, opener = "SE", segments[st_index]
        elif group is not None:
            missing, opener = "GE", group.gs
        else:
            missing, opener = "IEA", isa
        raise last.error(f"is the last segment but {_opened(opener)} is not closed (missing {missing})")
    return Interchange(delimiters=delimiters, segments=segments, groups=groups, rule=rule)
