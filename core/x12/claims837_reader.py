"""Read 837P files (005010X222A1) into :mod:`~claimdesk.core.x12.claims837` records.

::

    claim_file = parse_837p(open("claims.837", "rb").read())
    for claim in claim_file.claims:        # Claim837: billing provider, subscriber, payer, patient, lines...
        ...
    for refusal in claim_file.refused:     # RefusedClaim: CLM01, the reason ending with the place
        ...
    claim_file.warnings, claim_file.digest, claim_file.control_number

Pure (no database). An envelope error refuses the whole file (the reader's
:class:`~claimdesk.core.x12.errors.X12Error`). Anything wrong in one claim, or in the
billing provider, subscriber or patient level above it, refuses that claim only, never
corrected: CLM02 must equal the sum of SV102; CLM01, the member id, the payer id, the
billing NPI, each line's procedure code, diagnosis pointer and date of service must be
there; a pointer must point at a diagnosis; 12 diagnoses at most; every NPI's check digit
must be right. The HL tree of each transaction set is walked once, each level read once
and shared by the claims below it, and each distinct provider or payer loop made into a
record once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from decimal import Decimal

from claimdesk.core.claim_rules import MAX_DIAGNOSES, MAX_MODIFIERS, check_npi
from claimdesk.core.money import fmt
from claimdesk.core.x12 import limits
from claimdesk.core.x12.claims837 import (
    SELF, Adjustment, Claim837, ClaimFile, LineAdjudication, Name, OtherPayer, Patient, Payer, Provider,
    RefusedClaim, ServiceLine, Subscriber,
)
from claimdesk.core.x12.common import collector_paused, read_address
from claimdesk.core.x12.envelope import Interchange, TransactionSet
from claimdesk.core.x12.errors import X12Error
from claimdesk.core.x12.loops import BILLING_PROVIDER, PATIENT, SUBSCRIBER, HLNode, find, find_all, split_loops
from claimdesk.core.x12.reader import read_interchange, read_interchanges
from claimdesk.core.x12.segment import Segment

#: The implementation guide read here (ST03, else GS08).
IMPLEMENTATION = "005010X222A1"
#: SBR01 payer responsibility: primary, secondary, tertiary, payers 4 to 11, unknown.
SEQUENCES = frozenset("PSTABCDEFGHU")
#: Where a service line's own segments end: loop 2430 (SVD...) is another payer's result.
OTHER_PAYER_LINE = frozenset({"SVD"})


def parse_837p(data: bytes | str) -> ClaimFile:
    """Read an 837P file (bytes or text) into a :class:`~claimdesk.core.x12.claims837.ClaimFile`.

    Raises the reader's :class:`~claimdesk.core.x12.errors.X12Error` (named by segment and
    line) for a bad envelope, an HL tree that does not hold together, a file with no 837
    or an 837 that is not 005010X222A1; refuses single claims otherwise.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with collector_paused():
        return _read_file(raw)


def parse_837p_interchanges(data: bytes | str) -> list[ClaimFile]:
    """Every interchange of an 837P file as a :class:`~claimdesk.core.x12.claims837.ClaimFile`
    of its own (a file may join several, each read with its own delimiters): its envelope facts
    (its ISA09 is its claims' date sent) and, when there are several, a digest of the file's and
    its place in it (the same file again gives the same digests). One for most files."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    digest = hashlib.sha256(raw).hexdigest()
    with collector_paused():
        interchanges = read_interchanges(raw)
        if len(interchanges) == 1:
            return [_claim_file(interchanges[0], digest)]
        return [_claim_file(interchange, hashlib.sha256(f"{digest}:{n}".encode()).hexdigest())
                for n, interchange in enumerate(interchanges, 1)]


def _read_file(raw: bytes) -> ClaimFile:
    """:func:`parse_837p` with the collector paused; the interchange is freed when it returns."""
    return _claim_file(read_interchange(raw), hashlib.sha256(raw).hexdigest())


def _claim_file(interchange: Interchange, digest: str) -> ClaimFile:
    """The claims of one interchange read, with its envelope facts."""
    reader = _Reader()
    for transaction in _professional_transactions(interchange):
        reader.transaction(transaction)
    return ClaimFile(
        digest=digest, sender_id=interchange.sender_id,
        receiver_id=interchange.receiver_id, control_number=interchange.control_number,
        date=interchange.date, test=interchange.is_test, claims=tuple(reader.claims),
        refused=tuple(reader.refused), warnings=tuple(interchange.warnings), line=interchange.segments[0].line,
    )


def _professional_transactions(interchange: Interchange) -> list[TransactionSet]:
    """The 837 transaction sets, each checked to be an 837P; an interchange without one is refused."""
    found = []
    for group in interchange.groups:
        for transaction in group.transactions:
            if transaction.code != "837":
                continue
            version = transaction.implementation or group.version
            if version != IMPLEMENTATION:
                raise transaction.st.error(f"{version!r} is not an 837P ({IMPLEMENTATION}), the only 837 read here", 3)
            found.append(transaction)
    if not found:
        raise interchange.iea.error(
            f"closes an interchange that holds no 837 transaction set; {interchange.contents()}")
    return found


class _Reader:
    """Reads the claims of one file into ``claims`` and ``refused``, in file order."""

    def __init__(self):
        self.claims: list[Claim837] = []
        self.refused: list[RefusedClaim] = []
        self.known: dict[tuple, object] = {}  # provider and payer records by their loop's elements

    def transaction(self, transaction: TransactionSet) -> None:
        """Walk one transaction set's HL nodes once: read each level, then the claims it holds."""
        levels: dict[HLNode, object] = {}
        nodes = transaction.hierarchy()
        control_number = transaction.control_number
        for node in nodes:
            head, claim_loops, _ = split_loops(node.segments, "CLM")
            try:
                levels[node] = self.level(node.level, head)
            except X12Error as error:
                levels[node] = error
            for segments in claim_loops:
                try:
                    self.claims.append(self.claim(segments, _parties(node, levels), control_number))
                except X12Error as error:
                    clm = segments[0]
                    self.refused.append(RefusedClaim(clm.get(1), str(error), error.tag, error.segment_number,
                                                     error.line, error.element, clm.line))
        for node in nodes:  # cut the parent/child cycles: the segments are freed when the parse ends
            node.parent, node.children = None, []

    def recurring(self, make: Callable, loop: list[Segment]):
        """``make(loop)``, once per distinct loop: providers and payers recur from claim to claim."""
        key = (make, *[segment.elements for segment in loop])
        record = self.known.get(key)
        if record is None:
            record = self.known[key] = make(loop)
        return record

    def level(self, level: str, head: list[Segment]):
        """What an HL level says before its claims, with where its segments stand (``at``, see
        :func:`~claimdesk.core.x12.claims837.places_of`): (billing provider, pay-to, at) for 20,
        (subscriber, payer, the subscriber as patient, at) for 22, (the patient, at) for 23."""
        limits.check(head)
        top, loops, _ = _nm1_loops(head)
        if level == BILLING_PROVIDER:  # 2000A, 2010AA, 2010AB
            prv = find(top, "PRV", "BI")
            billing = _loop(loops, "85", head[0], "billing provider (NM1*85, loop 2010AA)")
            pay_to = loops.get("87")
            return (_provider(billing, required=True, taxonomy=prv.get(3) if prv else ""),
                    pay_to and read_address(pay_to), _at("NM1*85", billing[0]))
        if level == SUBSCRIBER:  # 2000B, 2010BA, 2010BB
            sbr = _first(top, "SBR", head[0], "SBR (subscriber information, loop 2000B)")
            insured = _loop(loops, "IL", sbr, "subscriber (NM1*IL, loop 2010BA)")
            subscriber = _subscriber(sbr, insured)
            payer_loop = _loop(loops, "PR", sbr, "payer (NM1*PR, loop 2010BB)")
            payer = self.recurring(_payer, payer_loop)
            as_patient = Patient(SELF, subscriber.name, subscriber.birth, subscriber.sex, subscriber.address)
            at = ("SBR", sbr.number, sbr.line, "NM1*IL", insured[0].number, insured[0].line,
                  "NM1*PR", payer_loop[0].number, payer_loop[0].line, *_at("DMG*IL", find(insured, "DMG")))
            return subscriber, payer, as_patient, at
        if level == PATIENT:  # 2000C, 2010CA
            pat = _first(top, "PAT", head[0], "PAT (patient information, loop 2000C)")
            loop = _loop(loops, "QC", pat, "patient (NM1*QC, loop 2010CA)")
            at = (*_at("PAT", pat), *_at("NM1*QC", loop[0]), *_at("DMG*QC", find(loop, "DMG")))
            return Patient(pat.required(1), _name(loop[0]), *_demographics(loop), read_address(loop)), at
        return None

    def claim(self, segments: list[Segment], parties: tuple, transaction: str) -> Claim837:
        """Loop 2300 with 2310A/B, 2320/2330A/B and its lines, balanced: CLM02 = the sum of SV102."""
        limits.check(segments)
        head, line_loops, _ = split_loops(segments, "LX")
        own, other_loops, _ = split_loops(head, "SBR")  # 2300/2310, then one 2320 loop per other payer
        clm = own[0]
        number = clm.get(1)
        if not number:
            raise clm.error("is required (the clinic's claim number, the patient control number)", 1)
        total = clm.amount(2)
        place, _, frequency = (clm.components(5) + ["", "", ""])[:3]
        if not place or not frequency:
            raise clm.error("needs the place of service and the claim frequency (CLM05-1 and CLM05-3)", 5)
        top, providers, _ = _nm1_loops(own)
        diagnoses = _diagnoses(top)
        if not line_loops:
            raise clm.error("has no service line (LX/SV1, loop 2400)")
        lines = tuple(self.service_line(loop, place, len(diagnoses)) for loop in line_loops)
        charged = sum(line.charge for line in lines)
        if charged != total:
            raise clm.error(f"is {fmt(total)} but the service lines (SV102) add up to {fmt(charged)}, "
                            f"so the claim does not balance", 2)
        f8 = find(top, "REF", "F8")
        billing, pay_to, subscriber, payer, patient, levels = parties
        own = ("CLM", clm.number, clm.line, *_at("HI", find(top, "HI")))
        for qualifier in ("82", "DN"):
            if qualifier in providers:
                own += _at(f"NM1*{qualifier}", providers[qualifier][0])
        return Claim837(
            number, total, place, frequency, diagnoses, f8.get(2) if f8 else "", billing, pay_to, subscriber,
            payer, patient, self.optional_provider(providers, "82"), self.optional_provider(providers, "DN"),
            tuple(map(self.other_payer, other_loops)), lines, transaction, clm.line, (*levels, own),
        )

    def service_line(self, loop: list[Segment], claim_place: str, diagnoses: int) -> ServiceLine:
        """Loop 2400 (LX, SV1, DTP*472, REF*6R) and its 2420A rendering provider."""
        body, providers, other_payers = _nm1_loops(loop, end=OTHER_PAYER_LINE)
        lx = body[0]
        sv1 = _first(body, "SV1", lx, "SV1 (professional service)")
        procedure = sv1.components(1)
        if len(procedure) < 2 or not procedure[1]:
            raise sv1.error("has no procedure code (SV101-2)", 1)
        pointers = []
        for text in sv1.components(7):
            pointer = int(text) if re.fullmatch(r"[0-9]{1,2}", text) else 0
            if not 1 <= pointer <= diagnoses:
                raise sv1.error(f"points at diagnosis {text!r}, but the claim has {diagnoses} diagnoses", 7)
            pointers.append(pointer)
        if not pointers:
            raise sv1.error("has no diagnosis pointer (SV107-1)", 7)
        numerator, denominator = sv1.quantity(4)
        dtp = _first(body, "DTP", lx, "date of service (DTP*472)", "472")
        start, end = dtp.period(2, 3)
        ref = find(body, "REF", "6R")
        at = ("SV1", sv1.number, sv1.line, "DTP*472", dtp.number, dtp.line)
        if ref is not None:
            at += ("REF*6R", ref.number, ref.line)
        if "82" in providers:
            at += _at("NM1*82", providers["82"][0])
        results = split_loops(other_payers, OTHER_PAYER_LINE)[1] if other_payers else []  # (from the first SVD)
        return ServiceLine(
            lx.integer(1), procedure[0], procedure[1], tuple(filter(None, procedure[2:2 + MAX_MODIFIERS])),
            sv1.amount(2), sv1.get(3), Decimal(numerator) / denominator, sv1.get(5) or claim_place,
            tuple(pointers), start, end, ref.get(2) if ref else "", self.optional_provider(providers, "82"), lx.line,
            at, tuple(map(_line_adjudication, results)),
        )

    def other_payer(self, loop: list[Segment]) -> OtherPayer:
        """Loop 2320 (SBR, AMT*D, AMT*EAF) with 2330A (other subscriber) and 2330B (other payer)."""
        top, loops, _ = _nm1_loops(loop)
        sbr = loop[0]
        subscriber = _subscriber(sbr, _loop(loops, "IL", sbr, "other subscriber (NM1*IL, loop 2330A)"))
        payer = self.recurring(_payer, _loop(loops, "PR", sbr, "other payer (NM1*PR, loop 2330B)"))
        paid, remaining = (find(top, "AMT", qualifier) for qualifier in ("D", "EAF"))
        return OtherPayer(subscriber, payer, paid and paid.amount(2), remaining and remaining.amount(2),
                          (*_at("SBR", sbr), *_at("NM1*IL", loops["IL"][0]), *_at("NM1*PR", loops["PR"][0])),
                          _adjustments(top))

    def optional_provider(self, loops: dict, qualifier: str) -> Provider | None:
        """The provider of the NM1 loop ``qualifier`` (82 rendering, DN referring), None when absent."""
        loop = loops.get(qualifier)
        return None if loop is None else self.recurring(_provider, loop)


def _adjustments(segments: list[Segment]) -> tuple[Adjustment, ...]:
    """The CAS segments of a 2320 or 2430 loop as (group, reason, amount), each CAS holding up
    to six reason/amount/quantity triples after its group code."""
    out = []
    for cas in find_all(segments, "CAS"):
        group = cas.required(1)
        elements = cas.elements
        for index in range(2, min(len(elements), 20), 3):
            if elements[index]:
                out.append(Adjustment(group, elements[index], cas.amount(index + 1)))
    return tuple(out)


def _line_adjudication(loop: list[Segment]) -> LineAdjudication:
    """Loop 2430: SVD (payer id, paid, procedure, units), its CAS and DTP*573."""
    svd = loop[0]
    procedure = svd.components(3)
    numerator, denominator = svd.quantity(5)
    dtp = find(loop, "DTP", "573")
    return LineAdjudication(
        svd.required(1), svd.amount(2), procedure[1] if len(procedure) > 1 else "",
        tuple(filter(None, procedure[2:2 + MAX_MODIFIERS])), Decimal(numerator) / denominator,
        _adjustments(loop), dtp.period(2, 3)[0] if dtp is not None else None,
    )


def _parties(node: HLNode, levels: dict) -> tuple:
    """(billing provider, pay-to, subscriber, payer, patient, where the levels' segments stand) of
    a claim held by ``node``."""
    level = node.level
    if level not in (SUBSCRIBER, PATIENT):
        raise node.segment.error(f"{level!r} holds a claim; claims stand under levels 22 and 23", 3)
    subscriber_node = node.parent if level == PATIENT else node
    if subscriber_node is None or subscriber_node.level != SUBSCRIBER:
        raise node.segment.error("a patient level (23) stands under a subscriber level (22)", 2)
    billing_node = subscriber_node.parent
    if billing_node is None or billing_node.level != BILLING_PROVIDER:
        raise subscriber_node.segment.error("a subscriber level (22) stands under a billing provider level (20)", 2)
    billing, pay_to, billing_at = _level(levels, billing_node)
    subscriber, payer, patient, subscriber_at = _level(levels, subscriber_node)
    if node is subscriber_node:
        return billing, pay_to, subscriber, payer, patient, (billing_at, subscriber_at)
    patient, patient_at = _level(levels, node)
    return billing, pay_to, subscriber, payer, patient, (billing_at, subscriber_at, patient_at)


def _level(levels: dict, node: HLNode):
    """What :meth:`_Reader.level` read for ``node``, or its error raised again."""
    value = levels[node]
    if isinstance(value, X12Error):
        raise value.with_traceback(None)
    return value


def _diagnoses(top: list[Segment]) -> tuple[str, ...]:
    """The HI diagnosis codes in order: ABK principal first, then ABF, at most 12."""
    codes: list[str] = []
    for hi in (s for s in top if s.tag == "HI"):
        for index in range(1, len(hi) + 1):
            parts = hi.components(index)
            if parts and parts[0] in ("ABK", "ABF"):
                if len(parts) < 2 or not parts[1]:
                    raise hi.error("has no diagnosis code", index)
                if parts[0] != ("ABF" if codes else "ABK"):
                    raise hi.error(f"is {parts[0]}: the first diagnosis is ABK (principal), the others ABF", index)
                if len(codes) == MAX_DIAGNOSES:
                    raise hi.error(f"is diagnosis {len(codes) + 1}; a claim carries {MAX_DIAGNOSES} at most", index)
                codes.append(parts[1])
    if not codes:
        raise top[0].error("has no principal diagnosis (HI*ABK)")
    return tuple(codes)


# --- the pieces every loop shares -----------------------------------------------------------------


def _at(name: str, segment: Segment | None) -> tuple:
    """``(name, number, line)`` of ``segment``, or () when there is none."""
    return () if segment is None else (name, segment.number, segment.line)


def _nm1_loops(segments: list[Segment], end=()) -> tuple[list[Segment], dict[str, list[Segment]], list[Segment]]:
    """``segments`` cut at each NM1: what comes before, the NM1 loops by NM101 (the first of each)
    and what begins at the first ``end`` segment (see :func:`~claimdesk.core.x12.loops.split_loops`)."""
    top, loops, tail = split_loops(segments, "NM1", end)
    by_qualifier: dict[str, list[Segment]] = {}
    for loop in loops:
        by_qualifier.setdefault(loop[0].get(1), loop)
    return top, by_qualifier, tail


def _loop(loops: dict, qualifier: str, owner: Segment, what: str) -> list[Segment]:
    """The NM1 loop ``qualifier``, refused (at ``owner``) when missing."""
    loop = loops.get(qualifier)
    if loop is None:
        raise owner.error(f"has no {what}")
    return loop


def _first(segments: list[Segment], tag: str, owner: Segment, what: str, qualifier: str | None = None) -> Segment:
    """The first ``tag`` segment (with ``qualifier``), refused (at ``owner``) when missing."""
    segment = find(segments, tag, qualifier)
    if segment is None:
        raise owner.error(f"has no {what}")
    return segment


def _provider(loop: list[Segment], *, required: bool = False, taxonomy: str = "") -> Provider:
    """A provider NM1 loop: name, NPI (NM108 XX; check digit verified), PRV, REF*EI, N3/N4."""
    nm1 = loop[0]
    npi = nm1.get(9) if nm1.get(8) == "XX" else ""
    if npi:
        try:
            check_npi(npi)
        except ValueError as error:
            raise nm1.error(str(error), 9) from None
    elif required:
        raise nm1.error("is required (the provider's NPI, with NM108 XX)", 9)
    prv, tax = find(loop, "PRV"), find(loop, "REF", "EI")
    return Provider(_name(nm1), npi, prv.get(3) if prv else taxonomy, tax.get(2) if tax else "", read_address(loop))


def _subscriber(sbr: Segment, loop: list[Segment]) -> Subscriber:
    """SBR and an NM1*IL loop (2010BA or 2330A)."""
    nm1 = loop[0]
    member_id = nm1.get(9)
    if not member_id:
        raise nm1.error("is required (the subscriber's member id)", 9)
    return Subscriber(sbr.code(1, SEQUENCES), sbr.get(2), sbr.get(3), sbr.get(9), _name(nm1), member_id,
                      *_demographics(loop), read_address(loop))


def _payer(loop: list[Segment]) -> Payer:
    """An NM1*PR loop (2010BB or 2330B)."""
    nm1 = loop[0]
    payer_id = nm1.get(9)
    if not payer_id:
        raise nm1.error("is required (the payer id)", 9)
    return Payer(nm1.get(3), payer_id, read_address(loop))


def _name(nm1: Segment) -> Name:
    return Name(nm1.get(3), nm1.get(4), nm1.get(5), nm1.get(7), nm1.get(2) == "2")


def _elements(segment: Segment | None, *indexes: int) -> list[str]:
    return [segment.get(i) if segment else "" for i in indexes]


def _demographics(loop: list[Segment]) -> tuple:
    """DMG: (date of birth, sex), (None, "") when absent."""
    dmg = find(loop, "DMG")
    if dmg is None:
        return None, ""
    return dmg.date(2, required=False), dmg.get(3)
