"""Write 837P claim files (005010X222A1) from :mod:`.claims837` records, balanced to the cent.

::

    text = write_837p(claims, Submission(submitter_name="RIVERBEND FAMILY MEDICINE", submitter_id="931234567",
                                         contact="BILLING OFFICE", phone="5415550100",
                                         receiver_name="ACME CLEARINGHOUSE", receiver_id="ACMECH",
                                         control_number=17, when=dt.datetime(2026, 12, 6, 9, 30)))

One interchange, one functional group and one transaction set (one ``BHT``, one billing
provider ``HL``) per call. A claim to a later payer carries what each earlier payer did: loop
2320 (SBR, claim-level CAS, AMT*D, AMT*EAF, OI) with 2330A/2330B, and per line loop 2430
(SVD, CAS one segment per group with up to six reasons, DTP*573). A claim whose figures do not
balance (:func:`cob_problems`) is refused with :class:`~.writer.X12WriteError`: it is never
written out of balance. The writer does not pick which claims go: the caller leaves out (and
lists) those :func:`cob_problems` names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from claimdesk.core.money import fmt
from claimdesk.core.x12.claims837 import (
    SELF, Adjustment, Claim837, LineAdjudication, Name, OtherPayer, Provider, ServiceLine,
)
from claimdesk.core.x12.common import Address, collector_paused
from claimdesk.core.x12.delimiters import Delimiters
from claimdesk.core.x12.values import format_amount, format_date
from claimdesk.core.x12.writer import InterchangeWriter, X12WriteError

IMPLEMENTATION = "005010X222A1"
#: Reasons (with their amounts) one CAS segment holds after its group code.
CAS_REASONS = 6


@dataclass(frozen=True, slots=True)
class Submission:
    """Who sends a file and to whom (loops 1000A/1000B and the envelope), and its numbers:
    ``control_number`` is ISA13 and GS06 (unique and increasing per clinic), ``when`` the
    file's date and time, ``usage`` ISA15 (P production, T test)."""

    submitter_name: str
    submitter_id: str
    contact: str
    phone: str
    receiver_name: str
    receiver_id: str
    control_number: int
    when: dt.datetime
    usage: str = "P"


def cob_problems(claim: Claim837) -> list[str]:
    """Why ``claim``'s coordination of benefits does not balance, in a clerk's words ([] when it
    does): per line and earlier payer, the charge minus that payer's adjustments must be what it
    paid (SV102 - CAS = SVD02); per earlier payer, the claim's charge minus its claim-level and
    line adjustments must be what it paid in all (CLM02 - CAS = AMT*D)."""
    problems = []
    for other in claim.other_payers:
        pid, name = other.payer.payer_id, other.payer.name
        results = [(line, a) for line in claim.lines for a in line.adjudications if a.payer_id == pid]
        if not results and other.paid is None:
            continue  # a payer named for information (the next one to bill), nothing adjudicated yet
        for line, result in results:
            adjusted = sum(adj.amount for adj in result.adjustments)
            if line.charge - adjusted != result.paid:
                problems.append(
                    f"line {line.number} ({line.procedure}): {name} paid {fmt(result.paid)} but the charge "
                    f"{fmt(line.charge)} less its adjustments {fmt(adjusted)} is {fmt(line.charge - adjusted)}")
        paid = sum(result.paid for _, result in results)
        explained = (sum(adj.amount for adj in other.adjustments)
                     + sum(adj.amount for _, result in results for adj in result.adjustments))
        if other.paid is None or claim.total - explained != other.paid:
            problems.append(
                f"{name} paid {fmt(other.paid or 0)} on the claim but its charge {fmt(claim.total)} less the "
                f"adjustments {fmt(explained)} is {fmt(claim.total - explained)}")
        elif paid != other.paid and not problems:
            problems.append(f"{name} paid {fmt(other.paid)} on the claim but {fmt(paid)} on its lines")
    return problems


def write_837p(claims: Sequence[Claim837], submission: Submission, *, delimiters: Delimiters = Delimiters(),
               line_break: str = "\n") -> str:
    """The 837P interchange holding ``claims`` (at least one; every one balanced, see
    :func:`cob_problems`), all under the billing provider of the first."""
    if not claims:
        raise X12WriteError("an 837P needs at least one claim")
    for claim in claims:
        problems = cob_problems(claim)
        if problems:
            raise X12WriteError(f"claim {claim.number} does not balance: {'; '.join(problems)}")
    s = submission
    out = InterchangeWriter(sender_id=s.submitter_id, receiver_id=s.receiver_id, control_number=s.control_number,
                            when=s.when, usage=s.usage, delimiters=delimiters, line_break=line_break)
    out.gs("HC", s.submitter_id, s.receiver_id, s.control_number, IMPLEMENTATION)
    out.st("837", 1, IMPLEMENTATION)
    with collector_paused():  # (a segment's text per segment until the file is joined)
        _Transaction().write(out, claims, s)
    out.se()
    out.ge()
    out.iea()
    return out.text()


def _units(units: Decimal) -> str:
    """A quantity as X12 writes it: ``1``, ``1.5`` (never ``1E+1``)."""
    return format(units.normalize(), "f")


def _procedure(code: str, modifiers: Sequence[str]) -> tuple:
    return ("HC", code, *modifiers)


class _Transaction:
    """Writes the loops of one 837P transaction set: each claim's segments are collected as rows
    (``seg(tag, *elements)``) and handed to the writer together (:meth:`InterchangeWriter.segments`:
    formatted and checked as one by one). An empty element is ``""`` rather than None where every
    value is text: the formatter's quickest path."""

    def __init__(self):
        rows: list[tuple] = []
        self.rows = rows

        def seg(*row) -> None:
            rows.append(row)

        self.seg = seg
        self._dates: dict[dt.date, str] = {}
        self._units: dict[Decimal, str] = {}

    def date(self, day: dt.date) -> str:
        """:func:`format_date`, once per distinct date."""
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = format_date(day)
        return text

    def units(self, units: Decimal) -> str:
        """:func:`_units`, once per distinct quantity."""
        text = self._units.get(units)
        if text is None:
            text = self._units[units] = _units(units)
        return text

    def write(self, out: InterchangeWriter, claims: Sequence[Claim837], s: Submission) -> None:
        seg, rows = self.seg, self.rows
        seg("BHT", "0019", "00", f"{s.control_number:09d}", format_date(s.when.date()), s.when.strftime("%H%M"),
            "CH")
        seg("NM1", "41", "2", s.submitter_name, "", "", "", "", "46", s.submitter_id)
        seg("PER", "IC", s.contact, "TE", s.phone)
        seg("NM1", "40", "2", s.receiver_name, "", "", "", "", "46", s.receiver_id)
        self.billing(claims[0])
        next_hl = 2
        for claim in claims:
            next_hl = self.claim(claim, next_hl)
            out.segments(rows)
            rows.clear()

    def address(self, address: Address | None) -> None:
        """N3 and N4 (nothing when there is no address)."""
        if address is None:
            return
        self.seg("N3", address.line1, address.line2 or "")
        self.seg("N4", address.city, address.state, address.zip)

    def name(self, qualifier: str, name: Name, id_qualifier: str | None, ident: str | None) -> None:
        """An NM1: a person (NM102 1: last, first, middle, suffix) or an organisation (2)."""
        if name.organisation:
            self.seg("NM1", qualifier, "2", name.last, "", "", "", "", id_qualifier or "", ident or "")
        else:
            self.seg("NM1", qualifier, "1", name.last, name.first or "", name.middle or "", "",
                     name.suffix or "", id_qualifier or "", ident or "")

    def billing(self, claim: Claim837) -> None:
        """2000A/2010AA: the billing provider (taxonomy, NPI, address, tax id) and 2010AB pay-to."""
        b = claim.billing
        self.seg("HL", "1", "", "20", "1")
        if b.taxonomy:
            self.seg("PRV", "BI", "PXC", b.taxonomy)
        self.name("85", b.name, "XX", b.npi)
        self.address(b.address)
        self.seg("REF", "EI", b.tax_id)
        if claim.pay_to is not None:
            self.seg("NM1", "87", "2")
            self.address(claim.pay_to)

    def claim(self, claim: Claim837, next_hl: int) -> int:
        """2000B/2010BA/2010BB, 2000C/2010CA when the patient is not the subscriber, then the claim;
        returns the next free HL number."""
        seg, sub = self.seg, claim.subscriber
        dependant = not claim.patient_is_subscriber
        seg("HL", str(next_hl), "1", "22", "1" if dependant else "0")
        seg("SBR", sub.sequence, "" if dependant else SELF, sub.group or "", "", "", "", "", "", sub.filing)
        self.name("IL", sub.name, "MI", sub.member_id)
        if not dependant:
            self.address(sub.address)
            seg("DMG", "D8", self.date(sub.birth), sub.sex or "U")
        seg("NM1", "PR", "2", claim.payer.name, "", "", "", "", "PI", claim.payer.payer_id)
        self.address(claim.payer.address)
        used = 1
        if dependant:
            pat = claim.patient
            seg("HL", str(next_hl + 1), str(next_hl), "23", "0")
            seg("PAT", pat.relationship)
            self.name("QC", pat.name, None, None)
            self.address(pat.address)
            seg("DMG", "D8", self.date(pat.birth), pat.sex or "U")
            used = 2
        self.claim_information(claim)
        return next_hl + used

    def provider(self, qualifier: str, provider: Provider, taxonomy: bool) -> None:
        """A claim's referring (DN) or rendering (82, with its taxonomy) provider."""
        self.name(qualifier, provider.name, "XX", provider.npi)
        if taxonomy and provider.taxonomy:
            self.seg("PRV", "PE", "PXC", provider.taxonomy)

    def claim_information(self, claim: Claim837) -> None:
        """2300: CLM, REF*F8 (replacement or void), HI; 2310A/B; 2320 per other payer; 2400 lines."""
        seg = self.seg
        seg("CLM", claim.number, format_amount(claim.total), None, None,
            (claim.place_of_service, "B", claim.frequency), "Y", "A", "Y", "Y")
        if claim.payer_claim_number:
            seg("REF", "F8", claim.payer_claim_number)
        seg("HI", *[("ABK" if i == 0 else "ABF", code) for i, code in enumerate(claim.diagnoses)])
        if claim.referring is not None:
            self.provider("DN", claim.referring, taxonomy=False)
        if claim.rendering is not None:
            self.provider("82", claim.rendering, taxonomy=True)
        for other in claim.other_payers:
            self.other_payer(claim, other)
        for line in claim.lines:
            self.service_line(claim, line)

    def adjustments(self, adjustments: Sequence[Adjustment]) -> None:
        """CAS: one segment per group code, up to six reasons each (more reasons, more segments)."""
        by_group: dict[str, list[Adjustment]] = {}
        for adj in adjustments:
            by_group.setdefault(adj.group, []).append(adj)
        for group, items in by_group.items():
            for start in range(0, len(items), CAS_REASONS):
                triples = []
                for adj in items[start:start + CAS_REASONS]:
                    triples += [adj.reason, format_amount(adj.amount), ""]
                triples.pop()  # (the last quantity, empty)
                self.seg("CAS", group, *triples)

    def other_payer(self, claim: Claim837, other: OtherPayer) -> None:
        """2320 (SBR, CAS, AMT*D, AMT*EAF, OI), 2330A (its subscriber), 2330B (the payer)."""
        seg, sub = self.seg, other.subscriber
        relationship = SELF if claim.patient_is_subscriber else claim.patient.relationship
        seg("SBR", sub.sequence, relationship, sub.group or "", "", "", "", "", "", sub.filing)
        self.adjustments(other.adjustments)
        if other.paid is not None:
            seg("AMT", "D", format_amount(other.paid))
        if other.remaining is not None:
            seg("AMT", "EAF", format_amount(other.remaining))
        seg("OI", "", "", "Y", "", "", "Y")
        self.name("IL", sub.name, "MI", sub.member_id)
        seg("NM1", "PR", "2", other.payer.name, "", "", "", "", "PI", other.payer.payer_id)

    def service_line(self, claim: Claim837, line: ServiceLine) -> None:
        """2400 (LX, SV1, DTP*472, REF*6R), 2420A when the line's rendering provider differs, and
        2430 per earlier payer's result (SVD, CAS, DTP*573)."""
        seg = self.seg
        seg("LX", str(line.number))
        procedure = _procedure(line.procedure, line.modifiers)
        place = line.place_of_service if line.place_of_service != claim.place_of_service else None
        seg("SV1", procedure, format_amount(line.charge), line.unit_basis or "UN", self.units(line.units), place, None,
            tuple(map(str, line.pointers)))
        if line.service_from == line.service_to:
            seg("DTP", "472", "D8", self.date(line.service_from))
        else:
            seg("DTP", "472", "RD8", f"{self.date(line.service_from)}-{self.date(line.service_to)}")
        if line.control_number:
            seg("REF", "6R", line.control_number)
        if line.rendering is not None and line.rendering != claim.rendering:
            self.provider("82", line.rendering, taxonomy=True)
        for result in line.adjudications:
            self.line_adjudication(result)

    def line_adjudication(self, result: LineAdjudication) -> None:
        """2430: SVD, its CAS and DTP*573 (the adjudication date)."""
        self.seg("SVD", result.payer_id, format_amount(result.paid), _procedure(result.procedure, result.modifiers),
                 None, self.units(result.units))
        self.adjustments(result.adjustments)
        if result.adjudicated is not None:
            self.seg("DTP", "573", "D8", self.date(result.adjudicated))


