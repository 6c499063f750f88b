"""837P claim records (005010X222A1): what one professional claim holds, as frozen
dataclasses with money in integer cents.

A :class:`ClaimFile` is one file: its envelope facts, the good claims (:class:`Claim837`,
loop 2300 with everything above it: billing provider, subscriber, payer, patient; and
below it: :class:`ServiceLine`, loop 2400), the refused ones (:class:`RefusedClaim`, with
the segment and line at fault) and the reader's warnings.
:func:`claimdesk.core.x12.claims837_reader.parse_837p` makes them from a file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from claimdesk.core.money import Cents
from claimdesk.core.x12.common import Address
from claimdesk.core.x12.errors import X12Warning, place

#: SBR02/PAT01 code meaning "self": the subscriber is the patient.
SELF = "18"


class Place(NamedTuple):
    """Where a segment stands in the file: its tag, 1-based segment number and line (what a
    refusal of a value read from it names, e.g. an importer's); ``str()`` says it as every
    X12 message does (``segment SV1 (segment 45, line 45)``)."""

    tag: str
    number: int
    line: int

    def __str__(self) -> str:
        return place(self.tag, self.number, self.line)


def places_of(*flat: tuple) -> dict[str, Place]:
    """Segments by name (``"SV1"``, ``"DTP*472"``, ``"NM1*QC"``, ``"DMG*IL"``) from flat tuples of
    (name, segment number, line) triples, as the records keep them (``at``): built only when a
    place is asked for (a refusal), not for each of a file's 100,000 segments."""
    out = {}
    for part in flat:
        for i in range(0, len(part), 3):
            name = part[i]
            out[name] = Place(name.split("*", 1)[0], part[i + 1], part[i + 2])
    return out


def _at():
    """A record's ``at``: where its segments stand, as (name, number, line) triples in one flat
    tuple (a claim's: one per level above it and its own). Not compared: two records with the
    same values are equal wherever they stand."""
    return field(default=(), compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Name:
    """An NM1 name: a person's last (NM103), first, middle and suffix, or an
    organisation's name in ``last`` (NM102 ``2``)."""

    last: str
    first: str = ""
    middle: str = ""
    suffix: str = ""
    organisation: bool = False


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider loop: billing 2010AA, referring 2310A, rendering 2310B or 2420A. ``npi``
    is NM109 (check digit verified; "" when absent), ``taxonomy`` PRV03, ``tax_id``
    REF*EI, ``address`` N3/N4, each "" or None where the loop has none."""

    name: Name
    npi: str
    taxonomy: str = ""
    tax_id: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The insured of one payer: SBR (``sequence`` SBR01 P/S/T..., ``relationship`` SBR02,
    ``group`` SBR03, ``filing`` SBR09) and NM1*IL with its DMG and N3/N4 (2010BA, or 2330A
    for another payer's subscriber)."""

    sequence: str
    relationship: str
    group: str
    filing: str
    name: Name
    member_id: str
    birth: dt.date | None = None
    sex: str = ""
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Payer:
    """NM1*PR (2010BB, or 2330B for another payer): name, payer id NM109, N3/N4."""

    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Patient:
    """Who was treated: ``relationship`` PAT01 to the subscriber (``18`` self when the
    subscriber is the patient, with the subscriber's name, birth, sex and address)."""

    relationship: str
    name: Name
    birth: dt.date | None
    sex: str
    address: Address | None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One adjustment of a payer's adjudication (a CAS triple): ``group`` CO/PR/OA/PI, the
    CARC ``reason`` and the ``amount`` in cents (negative when the payer paid above the charge)."""

    group: str
    reason: str
    amount: Cents


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """What another payer did with a service line (loop 2430): SVD01 ``payer_id``, SVD02 ``paid``,
    the procedure and modifiers it adjudicated (SVD03), SVD05 ``units``, its CAS ``adjustments``
    and DTP*573 ``adjudicated`` date. Balanced when the line's charge minus the adjustments is
    what it paid."""

    payer_id: str
    paid: Cents
    procedure: str
    modifiers: tuple[str, ...]
    units: Decimal
    adjustments: tuple[Adjustment, ...]
    adjudicated: dt.date | None


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """Another payer of the claim (2320/2330A/2330B): its subscriber (``sequence`` is its
    SBR01), the payer, what it paid (AMT*D) and left to the patient (AMT*EAF), None when absent;
    its claim-level CAS ``adjustments`` (2320). ``places``: its ``SBR`` (2320), ``NM1*IL``
    (2330A) and ``NM1*PR`` (2330B)."""

    subscriber: Subscriber
    payer: Payer
    paid: Cents | None
    remaining: Cents | None
    at: tuple = _at()
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def places(self) -> dict[str, Place]:
        """Its segments by name (see :func:`places_of`)."""
        return places_of(self.at)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A service line (2400): LX01 ``number``; SV1 procedure (``qualifier`` HC), up to 4
    modifiers, ``charge`` in cents, ``unit_basis`` UN/MJ and ``units``, ``place_of_service``
    (SV105, else the claim's), diagnosis ``pointers`` (1-based); DTP*472 dates; REF*6R
    ``control_number``; the 2420A ``rendering`` provider when it overrides the claim's; what
    other payers did with it (``adjudications``, loop 2430). ``places``: its ``SV1``, ``DTP*472``, ``REF*6R`` and ``NM1*82`` (when there)."""

    number: int
    qualifier: str
    procedure: str
    modifiers: tuple[str, ...]
    charge: Cents
    unit_basis: str
    units: Decimal
    place_of_service: str
    pointers: tuple[int, ...]
    service_from: dt.date
    service_to: dt.date
    control_number: str
    rendering: Provider | None
    line: int
    at: tuple = _at()
    adjudications: tuple[LineAdjudication, ...] = ()

    @property
    def places(self) -> dict[str, Place]:
        """Its segments by name (see :func:`places_of`)."""
        return places_of(self.at)


@dataclass(frozen=True, slots=True)
class Claim837:
    """One balanced claim (2300) with everything above and below it. ``number`` is CLM01
    (the clinic's claim number), ``total`` CLM02 in cents (= the sum of the lines'
    charges), ``place_of_service`` and ``frequency`` CLM05-1 and -3, ``diagnoses`` the HI
    codes in order (the first is the principal), ``payer_claim_number`` REF*F8;
    ``transaction`` is ST02 and ``line`` the CLM's line in the file. ``places``: its ``CLM``,
    ``HI`` (the first), ``NM1*82`` and ``NM1*DN``, and above it ``NM1*85`` (billing provider),
    ``SBR``, ``NM1*IL``, ``DMG*IL`` and ``NM1*PR`` (subscriber and payer), ``PAT``, ``NM1*QC`` and
    ``DMG*QC`` (a patient who is not the subscriber), each when there."""

    number: str
    total: Cents
    place_of_service: str
    frequency: str
    diagnoses: tuple[str, ...]
    payer_claim_number: str
    billing: Provider
    pay_to: Address | None
    subscriber: Subscriber
    payer: Payer
    patient: Patient
    rendering: Provider | None
    referring: Provider | None
    other_payers: tuple[OtherPayer, ...]
    lines: tuple[ServiceLine, ...]
    transaction: str
    line: int
    at: tuple = _at()

    @property
    def places(self) -> dict[str, Place]:
        """Its segments and those of the levels above it by name (see :func:`places_of`)."""
        return places_of(*self.at)

    @property
    def patient_is_subscriber(self) -> bool:
        """No patient loop (2000C): the subscriber was treated."""
        return self.patient.relationship == SELF


@dataclass(frozen=True, slots=True)
class RefusedClaim:
    """A claim refused as a whole: ``number`` is CLM01 ("" when missing), ``reason`` the
    message ending with the place at fault (``tag``, ``segment_number``, ``line``,
    ``element`` such as ``CLM02``), ``claim_line`` where the claim's CLM stands."""

    number: str
    reason: str
    tag: str | None
    segment_number: int | None
    line: int | None
    element: str | None
    claim_line: int


@dataclass(frozen=True, slots=True)
class ClaimFile:
    """What one 837P file holds: its envelope facts (ISA06 ``sender_id``, ISA08
    ``receiver_id``, ISA13 ``control_number``, ISA09 ``date``, ISA15 ``test``), the sha256
    ``digest`` of its bytes, the good ``claims``, the ``refused`` ones (both in file order)
    and what the reader forgave (``warnings``); the ``line`` its ISA is on."""

    digest: str
    sender_id: str
    receiver_id: str
    control_number: str
    date: dt.date
    test: bool
    claims: tuple[Claim837, ...]
    refused: tuple[RefusedClaim, ...]
    warnings: tuple[X12Warning, ...]
    line: int = 1  # where its ISA stands in the file (a file may join several interchanges)
