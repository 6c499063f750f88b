"""Encounters, charges and responsibility splits; moving balance between ranks.

A charge starts owed by the first payer in its encounter's payer list (or by the
patient when there is none). :func:`transfer` moves balance from one split to
another; when an insurance split reaches zero and the balance has moved to the
next insurance payer, that payer's claim is queued (see :mod:`.claims`).
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core import clock, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    INSURANCE_RANKS,
    RANKS,
    Charge,
    ChargeSplit,
    Encounter,
    EncounterPayer,
    Patient,
    Payer,
    Provider,
    ServiceCode,
)
from claimdesk.core.services.common import patient_payer


def payer_list(encounter: Encounter) -> dict[str, EncounterPayer]:
    """The encounter's payer slots by rank (primary/secondary/tertiary)."""
    return {ep.rank: ep for ep in EncounterPayer.select().where(EncounterPayer.encounter == encounter.id)}


def responsible_payer(encounter: Encounter, rank: str, slots: dict | None = None) -> Payer | None:
    """Who owes at ``rank``: the slot's payer, or the pseudo payer Patient for "patient"."""
    if rank == "patient":
        return patient_payer()
    slots = slots if slots is not None else payer_list(encounter)
    slot = slots.get(rank)
    return slot.payer if slot else None


def _insurer_at(slots: dict, rank: str) -> bool:
    slot = slots.get(rank)
    return slot is not None and slot.payer.is_insurance


def first_rank(encounter: Encounter, slots: dict | None = None) -> str:
    """The first rank held by a real insurer; the patient when there is none.

    A slot held by a pseudo payer (the placeholder "Patient" put in the primary slot by
    self-pay or Primary Payer is Invalid) never owes a new charge: the charge goes to the
    next real insurer (whose claim then carries it) or to the patient.
    """
    slots = slots if slots is not None else payer_list(encounter)
    for rank in INSURANCE_RANKS:
        if _insurer_at(slots, rank):
            return rank
    return "patient"


def following_rank(encounter: Encounter, rank: str, slots: dict | None = None) -> str:
    """The next rank after ``rank`` held by a real insurer; "patient" at the end."""
    slots = slots if slots is not None else payer_list(encounter)
    for later in RANKS[RANKS.index(rank) + 1:]:
        if later == "patient" or _insurer_at(slots, later):
            return later
    return "patient"


def owed_by_patient(split: ChargeSplit) -> bool:
    """Is this split the patient's to pay (owed by the pseudo payer Patient, whatever its rank)?"""
    return split.payer_id == patient_payer().id


def owed_by_insurer(split: ChargeSplit) -> bool:
    """Is this split pending with a real insurer (not the Patient or Inactive pseudo payers)?"""
    return split.payer_id in insurer_ids()


def insurer_ids() -> frozenset[int]:
    """Ids of every real insurance payer (workers' comp carriers included)."""
    return frozenset(pid for (pid,) in Payer.select(Payer.id).where(
        Payer.kind.not_in(["patient", "inactive"])).tuples())


def split_for(charge: Charge, rank: str, payer: Payer) -> ChargeSplit:
    """The split of ``charge`` at ``rank`` for ``payer`` (created empty if new)."""
    split, _ = ChargeSplit.get_or_create(
        charge=charge.id, rank=rank, payer=payer.id, defaults={"patient": charge.patient_id})
    return split


def open_splits(charge: Charge) -> list[ChargeSplit]:
    """Splits of a charge with a balance, in rank order."""
    rows = ChargeSplit.select().where((ChargeSplit.charge == charge.id) & (ChargeSplit.balance != 0))
    return sorted(rows, key=lambda s: RANKS.index(s.rank))


def create_encounter(*, patient: Patient, provider: Provider, dos: dt.date,
                     payers: list[tuple[Payer, object]] = (), claim_type: str = "medical",
                     queue=None) -> Encounter:
    """Create an encounter with its ordered payer list [(payer, coverage), ...]."""
    enc = Encounter.create(patient=patient, provider=provider, dos=dos, claim_type=claim_type,
                           queue=queue, created_at=clock.now())
    for rank, (payer, coverage) in zip(INSURANCE_RANKS, payers):
        EncounterPayer.create(encounter=enc, rank=rank, payer=payer, coverage=coverage)
    return enc


def add_charge(encounter: Encounter, code: ServiceCode, *, fee: int | None = None, units: int = 1,
               provider: Provider | None = None, dos: dt.date | None = None,
               kind: str = "service", memo: str = "") -> Charge:
    """Add a charge line and post it to the first responsible split.

    A zero fee still gets a split (it shows up in Outstanding Zero Splits).
    """
    fee = code.default_fee * units if fee is None else fee
    if fee < 0:
        raise Refused("a charge fee cannot be negative", field="fee")
    provider = provider or encounter.provider
    line_no = Charge.select().where(Charge.encounter == encounter.id).count() + 1
    charge = Charge.create(encounter=encounter, patient=encounter.patient_id, line_no=line_no,
                           service_code=code, units=units, fee=fee, provider=provider,
                           dos=dos or encounter.dos, kind=kind)
    rank = first_rank(encounter)
    split = split_for(charge, rank, responsible_payer(encounter, rank))
    if fee:
        ledger.post("charge", [
            ledger.ar(split, fee),
            ledger.Line("REVENUE", -fee, charge_id=charge.id, patient_id=charge.patient_id,
                        provider_id=provider.id),
        ], memo=memo or f"{code.code} x{units}", user=current_user(),
            encounter_id=encounter.id, patient_id=charge.patient_id)
    return charge


def transfer(source: ChargeSplit, target: ChargeSplit, amount: int, *, reason: str,
             reason_code: str = "") -> None:
    """Move ``amount`` of balance from one split to another (same charge)."""
    if amount <= 0:
        return
    if source.charge_id != target.charge_id:
        raise Refused("a transfer stays within one charge")
    charge = Charge.get_by_id(source.charge_id)
    ledger.post("transfer", [ledger.ar(source, -amount, reason_code), ledger.ar(target, amount, reason_code)],
                memo=reason, user=current_user(), encounter_id=charge.encounter_id,
                patient_id=charge.patient_id)
    source.balance -= amount
    target.balance += amount


def move_to_next(split: ChargeSplit, amount: int | None = None, *, reason: str,
                 reason_code: str = "") -> ChargeSplit | None:
    """Move ``amount`` (default: all) of ``split`` to the next responsible rank.

    Returns the split that received it. Queues the next insurance payer's claim
    when ``split`` is left at zero.
    """
    from claimdesk.core.services import claims

    split = ChargeSplit.get_by_id(split.id)
    amount = split.balance if amount is None else amount
    charge = Charge.get_by_id(split.charge_id)
    encounter = Encounter.get_by_id(charge.encounter_id)
    slots = payer_list(encounter)
    rank = following_rank(encounter, split.rank, slots)
    target = split_for(charge, rank, responsible_payer(encounter, rank, slots))
    if target.id == split.id:
        return None
    transfer(split, target, amount, reason=reason, reason_code=reason_code)
    if split.balance == 0 and rank in INSURANCE_RANKS:
        claims.queue(encounter, target.payer, rank)
    return target
