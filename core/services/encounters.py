"""Writing encounters (claims) with their charges, set-based: a visit entered by hand is a list
of one; a day of the demo's visits, or a file of 10,000 imported claims, is one call.

:func:`write` inserts the encounters and their payer lists, gives each encounter without a
claim number one (:func:`assign_claim_numbers`), and posts the charges through the money
engine (:func:`claimdesk.core.posting.charges.post_charges`: one ``charge`` entry for all).
It trusts its input: people's input is checked by :mod:`.charge_entry`, a file's by its
importer. Queueing claims is the caller's (a visit queues its primary's claim; an import
marks it sent).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Sequence

from claimdesk.core import clock, db
from claimdesk.core.claim_rules import join_codes
from claimdesk.core.models import INSURANCE_RANKS, Encounter, EncounterPayer
from claimdesk.core.posting import charges
from claimdesk.core.posting.bulk import insert_rows

#: What an automatic claim number starts with; then the encounter id (``CD1042``).
CLAIM_NO_PREFIX = "CD"


@dataclasses.dataclass(frozen=True, slots=True)
class NewLine:
    """A charge line of a new encounter: fee in cents; provider and date default to the encounter's."""

    service_code_id: int
    units: int
    fee: int
    provider_id: int | None = None
    dos: dt.date | None = None
    modifiers: tuple[str, ...] = ()
    pointers: tuple[int, ...] = ()
    control_no: str | None = None
    kind: str = "service"


@dataclasses.dataclass(frozen=True, slots=True)
class NewEncounter:
    """An encounter to write: who, by whom (the rendering provider), when, billed to whom
    (``payers``: (payer id, coverage id or None) by rank, primary first; none is self-pay), what
    the claim carries, and its lines. ``claim_no`` None gets an automatic one."""

    patient_id: int
    provider_id: int
    dos: dt.date
    lines: tuple[NewLine, ...]
    payers: tuple[tuple[int, int | None], ...] = ()
    claim_type: str = "medical"
    queue_id: int | None = None
    place_of_service: str = "11"
    diagnoses: tuple[str, ...] = ()
    referring_provider_id: int | None = None
    claim_no: str | None = None
    frequency: str = "1"


@dataclasses.dataclass(frozen=True, slots=True)
class Written:
    """An encounter written: its id, its charges' ids in line order, and the ``charge`` entry
    that posted their fees (None when every fee is zero)."""

    encounter_id: int
    charge_ids: tuple[int, ...]
    entry_id: int | None = None


def write(encounters: Sequence[NewEncounter], *, memo: str, entry_per_encounter: bool = False) -> list[Written]:
    """Write ``encounters`` with their payer lists and charges (one ``charge`` entry, or one per
    encounter with ``entry_per_encounter``: see :func:`~claimdesk.core.posting.charges.post_charges`);
    what was written, in order. Runs inside the caller's transaction."""
    if not encounters:
        return []
    now = clock.now()
    ids = insert_rows(Encounter, [{
        "patient": e.patient_id, "provider": e.provider_id, "dos": e.dos, "claim_type": e.claim_type,
        "queue": e.queue_id, "created_at": now, "place_of_service": e.place_of_service,
        "diagnoses": join_codes(e.diagnoses), "referring_provider": e.referring_provider_id,
        "claim_no": e.claim_no, "frequency": e.frequency} for e in encounters])
    slots = [{"encounter": eid, "rank": rank, "payer": payer_id, "coverage": cov}
             for e, eid in zip(encounters, ids) for rank, (payer_id, cov) in zip(INSURANCE_RANKS, e.payers)]
    if slots:
        insert_rows(EncounterPayer, slots, ids=False)
    assign_claim_numbers([eid for e, eid in zip(encounters, ids) if e.claim_no is None])
    made = iter(charges.post_charges([_charge(eid, e.patient_id, e.provider_id, e.dos, ln)
                                      for e, eid in zip(encounters, ids) for ln in e.lines], memo=memo,
                                     entry_per_encounter=entry_per_encounter, new_encounters=True))
    out = []
    for e, eid in zip(encounters, ids):
        posted = [next(made) for _ in e.lines]
        out.append(Written(eid, tuple(p.charge_id for p in posted),
                           next((p.entry_id for p in posted if p.entry_id is not None), None)))
    return out


def new_charge(encounter: Encounter, line: NewLine) -> charges.NewCharge:
    """What the money engine posts for ``line`` on ``encounter`` (its provider and date by default)."""
    return _charge(encounter.id, encounter.patient_id, encounter.provider_id, encounter.dos, line)


def _charge(encounter_id: int, patient_id: int, provider_id: int, dos: dt.date, line: NewLine) -> charges.NewCharge:
    """:func:`new_charge` from the encounter's values (no model object: a file of claims has 25,000 lines)."""
    return charges.NewCharge(encounter_id, patient_id, line.service_code_id, line.units, line.fee,
                             line.provider_id or provider_id, line.dos or dos, line.kind,
                             join_codes(line.modifiers), join_codes(line.pointers), line.control_no)


def auto_claim_number(encounter_id: int) -> str:
    """The claim number claimdesk gives an encounter that came without one."""
    return f"{CLAIM_NO_PREFIX}{encounter_id}"


def assign_claim_numbers(encounter_ids: list[int]) -> None:
    """Give these encounters (which have none) their automatic claim numbers, set-based; a number
    an imported claim already holds gets the first free suffix (``CD1042-2``)."""
    if not encounter_ids:
        return
    wanted = {eid: auto_claim_number(eid) for eid in encounter_ids}
    held = claim_numbers_in_use(list(wanted.values()))
    free = [eid for eid, no in wanted.items() if no not in held]
    if free:
        among, params = db.ids_in(free)
        db.sql(f"UPDATE encounter SET claim_no = '{CLAIM_NO_PREFIX}' || CAST(id AS TEXT) "
               f"WHERE id {among} AND claim_no IS NULL", params)
    for eid in (e for e in wanted if e not in free):
        n, number = 2, f"{wanted[eid]}-2"
        while claim_numbers_in_use([number]):
            n += 1
            number = f"{wanted[eid]}-{n}"
        Encounter.update(claim_no=number).where(Encounter.id == eid).execute()


def claim_numbers_in_use(numbers: list[str]) -> dict[str, int]:
    """Which of ``numbers`` encounters hold already: claim number -> encounter id."""
    out: dict[str, int] = {}
    for start in range(0, len(numbers), 500):
        part = numbers[start:start + 500]
        out.update(Encounter.select(Encounter.claim_no, Encounter.id).where(Encounter.claim_no.in_(part)).tuples())
    return out
