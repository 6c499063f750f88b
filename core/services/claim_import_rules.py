"""The import's own rules for one parsed 837P claim, before anything is looked up: every value
claimdesk stores must pass the same format rule a clerk's input passes (:mod:`claimdesk.core.claim_rules`),
and the claim must be one claimdesk can hold. A claim that breaks one is refused with
:class:`ClaimRefused`, naming the element and the segment and line it came from.

Refused here: a claim number, place of service, diagnosis, procedure code (and its qualifier),
modifier, line control number or plan type (SBR09) in the wrong shape; a void (CLM05-3 ``8``,
voided by hand instead) or an unknown claim frequency; units that are not a whole number from 1
to 999; a line charge below zero or absurdly large; more than 4 pointers or one twice; a
diagnosis, modifier or line control number twice; a date of service after today; a patient
without a name or date of birth, or born after today; a payer order claimdesk cannot hold (a
rank other than primary, secondary, tertiary; a rank twice; a secondary without a primary; one
payer at two ranks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

from claimdesk.core import claim_rules
from claimdesk.core.claim_rules import (
    CLAIM_FREQUENCIES,
    PLAN_TYPES,
    check_claim_no,
    check_control_no,
    check_place_of_service,
    check_pointers,
    relationship_word,
)
from claimdesk.core.models import INSURANCE_RANKS
from claimdesk.core.money import MAX_CENTS, Cents, fmt
from claimdesk.core.x12.claims837 import (
    Claim837,
    Place,
    Provider,
    ServiceLine,
    Subscriber,
)
from claimdesk.core.x12.claims837 import Payer as X12Payer

#: The code rules, remembered per value: a file of 10,000 claims repeats a few dozen codes (a
#: value refused is not remembered: it is checked, and refused, again).
check_service_code = functools.lru_cache(maxsize=4096)(claim_rules.check_service_code)
check_modifier = functools.lru_cache(maxsize=1024)(claim_rules.check_modifier)
check_diagnosis = functools.lru_cache(maxsize=16384)(claim_rules.check_diagnosis)

#: SBR01 payer responsibility -> the rank claimdesk bills it at.
RANK_OF_SEQUENCE = {"P": "primary", "S": "secondary", "T": "tertiary"}
MAX_UNITS = 999


class ClaimRefused(Exception):
    """One claim not imported: ``message`` ends with the place; ``place`` is the segment at
    fault (a CLM of line 0 when the claim record carries no places), ``element`` its element."""

    def __init__(self, message: str, place: Place | None, element: str | None):
        super().__init__(message)
        self.message, self.place, self.element = message, place, element


def refuse(claim: Claim837, key: str, element: str | None, message: str, where=None) -> ClaimRefused:
    """A :class:`ClaimRefused` about the segment ``key`` (``"SV1"``, ``"NM1*QC"``) of ``where`` (a
    record with places: the claim by default, a service line, another payer), falling back to the
    claim's CLM when it is not known."""
    place = (where if where is not None else claim).places.get(key) or claim.places.get("CLM")
    if place is None:  # (a record made without places)
        place = Place("CLM", 0, claim.line)
    head = f"{element}: " if element else ""
    return ClaimRefused(f"{head}{message}: {place}", place, element)


@dataclasses.dataclass(slots=True)
class BilledPayer:
    """One payer of the claim at its rank: the payer and its subscriber as the file has them, the
    patient's relationship to that subscriber (claimdesk's word), the plan type (SBR09, "" for
    none), and the record holding its SBR, NM1*IL and NM1*PR (``source``: the claim, or the
    other payer of loop 2320)."""

    rank: str
    payer: X12Payer
    subscriber: Subscriber
    relationship: str
    plan_type: str
    source: object


@dataclasses.dataclass(slots=True)
class CheckedLine:
    """A service line that passed: code (upper case) and its kind, whole units, fee in cents,
    modifiers, pointers, date of service, control number (None: the line number), its own
    rendering provider (None: the claim's), and the line as read."""

    code: str
    code_kind: str
    units: int
    fee: Cents
    modifiers: tuple[str, ...]
    pointers: tuple[int, ...]
    dos: dt.date
    control_no: str | None
    rendering: Provider | None
    source: ServiceLine


@dataclasses.dataclass(slots=True)
class CheckedClaim:
    """A claim that passed the format rules: the values claimdesk stores, with its payers in rank
    order (``own`` is the index of the payer the file sent it to: that claim and every one
    before it were sent) and the earliest line date as the encounter's date of service."""

    claim: Claim837
    claim_no: str
    frequency: str
    place_of_service: str
    diagnoses: tuple[str, ...]
    payers: tuple[BilledPayer, ...]
    own: int
    lines: tuple[CheckedLine, ...]
    dos: dt.date


def check_claim(claim: Claim837, today: dt.date, sent_on: dt.date | None = None) -> CheckedClaim:
    """``claim`` checked by every format rule (see the module); raises :class:`ClaimRefused`.
    ``sent_on``, the file's date (the claim's date sent), is when its services must have been."""
    try:
        claim_no = check_claim_no(claim.number)
    except ValueError as exc:
        raise refuse(claim, "CLM", "CLM01", str(exc)) from None
    if claim.frequency == "8":
        raise refuse(claim, "CLM", "CLM05-3", "is 8, a void of a claim sent before: a void is not imported; void "
                                              "the charges of that encounter by hand (`claimdesk charge void`)")
    if claim.frequency not in CLAIM_FREQUENCIES:
        raise refuse(claim, "CLM", "CLM05-3", f"claim frequency {claim.frequency!r} is not 1 (original) or 7 "
                                              "(replacement)")
    try:
        place = check_place_of_service(claim.place_of_service)
    except ValueError as exc:
        raise refuse(claim, "CLM", "CLM05-1", str(exc)) from None
    diagnoses = _diagnoses(claim)
    _check_patient(claim, today)
    payers, own = _payers(claim)
    lines = tuple(_line(claim, line, len(diagnoses), today, sent_on) for line in claim.lines)
    taken: set[str] = set()
    for line in lines:
        if line.control_no is not None:
            if line.control_no in taken:
                raise refuse(claim, "REF*6R", "REF02", f"line control number {line.control_no} is on two lines of "
                                                       "this claim", line.source)
            taken.add(line.control_no)
    return CheckedClaim(claim, claim_no, claim.frequency, place, diagnoses, payers, own, lines,
                        min(line.dos for line in lines))


def _diagnoses(claim: Claim837) -> tuple[str, ...]:
    out = []
    for i, code in enumerate(claim.diagnoses, start=1):
        try:
            out.append(check_diagnosis(code))
        except ValueError as exc:
            raise refuse(claim, "HI", None, f"diagnosis {i}: {exc}") from None
    if len(set(out)) != len(out):
        twice = next(d for d in out if out.count(d) > 1)
        raise refuse(claim, "HI", None, f"diagnosis {twice} is listed twice")
    return tuple(out)


def _check_patient(claim: Claim837, today: dt.date) -> None:
    """A patient with a last and first name and a date of birth not after today."""
    own = not claim.patient_is_subscriber
    name_at, dmg_at = ("NM1*QC", "DMG*QC") if own else ("NM1*IL", "DMG*IL")
    who = claim.patient.name
    if not who.last:
        raise refuse(claim, name_at, "NM103", "the patient's last name is missing")
    if not who.first:
        raise refuse(claim, name_at, "NM104", "the patient's first name is missing (claimdesk registers people)")
    if claim.patient.birth is None:
        raise refuse(claim, dmg_at if dmg_at in claim.places else name_at, "DMG02",
                     "the patient's date of birth is missing; claimdesk matches patients by it")
    if claim.patient.birth > today:
        raise refuse(claim, dmg_at, "DMG02", f"the patient's date of birth {claim.patient.birth} is in the future")


def _payers(claim: Claim837) -> tuple[tuple[BilledPayer, ...], int]:
    """The claim's payers in rank order and the index of the one the file sent it to."""
    own_relationship = "self" if claim.patient_is_subscriber else relationship_word(claim.patient.relationship)
    found = [(claim.subscriber, claim.payer, own_relationship, claim, True)]
    found += [(o.subscriber, o.payer, relationship_word(o.subscriber.relationship), o, False)
              for o in claim.other_payers]
    by_rank: dict[str, BilledPayer] = {}
    own_rank = ""
    for subscriber, payer, relationship, where, own in found:
        rank = RANK_OF_SEQUENCE.get(subscriber.sequence)
        if rank is None:
            raise refuse(claim, "SBR", "SBR01", f"payer responsibility {subscriber.sequence!r}: claimdesk bills a "
                                                "primary, secondary and tertiary payer (P, S, T) only", where)
        if rank in by_rank:
            raise refuse(claim, "SBR", "SBR01", f"a second {rank} payer ({payer.name or payer.payer_id})", where)
        plan_type = subscriber.filing.strip().upper()
        if plan_type and plan_type not in PLAN_TYPES:
            raise refuse(claim, "SBR", "SBR09", f"{subscriber.filing!r} is not a claim filing indicator", where)
        by_rank[rank] = BilledPayer(rank, payer, subscriber, relationship, plan_type, where)
        if own:
            own_rank = rank
    ranks = [r for r in INSURANCE_RANKS if r in by_rank]
    if ranks != list(INSURANCE_RANKS[:len(ranks)]):
        missing = next(r for r in INSURANCE_RANKS if r not in by_rank)
        raise refuse(claim, "SBR", "SBR01", f"the claim has a {ranks[-1]} payer but no {missing} payer "
                                            "(a loop 2320 naming it)")
    payers = tuple(by_rank[r] for r in ranks)
    ids = [p.payer.payer_id.upper() for p in payers]
    for later, payer in enumerate(payers):
        if ids.index(ids[later]) != later:
            raise refuse(claim, "NM1*PR", "NM109", f"payer id {payer.payer.payer_id} is both the "
                                                   f"{payers[ids.index(ids[later])].rank} and the {payer.rank} payer",
                         payer.source)
    return payers, ranks.index(own_rank)


def _line(claim: Claim837, line: ServiceLine, diagnoses: int, today: dt.date, sent_on: dt.date | None) -> CheckedLine:
    if line.qualifier != "HC":
        raise refuse(claim, "SV1", "SV101-1", f"{line.qualifier!r}: claimdesk reads CPT/HCPCS procedure codes "
                                              "(qualifier HC) only", line)
    try:
        code, kind = check_service_code(line.procedure)
    except ValueError as exc:
        raise refuse(claim, "SV1", "SV101-2", str(exc), line) from None
    modifiers = []
    for i, text in enumerate(line.modifiers):
        try:
            modifiers.append(check_modifier(text))
        except ValueError as exc:
            raise refuse(claim, "SV1", f"SV101-{i + 3}", str(exc), line) from None
        if modifiers.count(modifiers[-1]) > 1:
            raise refuse(claim, "SV1", f"SV101-{i + 3}", f"modifier {modifiers[-1]} is on the line twice", line)
    units = line.units
    if units != units.to_integral_value() or not 1 <= units <= MAX_UNITS:
        raise refuse(claim, "SV1", "SV104", f"{units} units: a line has a whole number of units from 1 to "
                                            f"{MAX_UNITS}", line)
    if line.charge < 0 or line.charge > MAX_CENTS:
        raise refuse(claim, "SV1", "SV102", f"a line charge of {fmt(line.charge)} is not an amount claimdesk "
                                            "takes", line)
    try:
        pointers = check_pointers(list(line.pointers), diagnoses)
    except ValueError as exc:
        raise refuse(claim, "SV1", "SV107", str(exc), line) from None
    if line.service_from > today:
        raise refuse(claim, "DTP*472", "DTP03", f"the date of service {line.service_from} is in the future", line)
    if sent_on is not None and line.service_from > sent_on:
        raise refuse(claim, "DTP*472", "DTP03", f"the date of service {line.service_from} is after the file's date "
                                                f"{sent_on} (ISA09, the claim's date sent): a claim is sent after "
                                                "the visit", line)
    control = None
    if line.control_number:
        try:
            control = check_control_no(line.control_number)
        except ValueError as exc:
            raise refuse(claim, "REF*6R", "REF02", str(exc), line) from None
    return CheckedLine(code, kind, int(units), Cents(line.charge), tuple(modifiers), tuple(pointers),
                       line.service_from, control, line.rendering, line)
