"""Encounters, charges and responsibility splits; moving balance between ranks.

A charge starts owed by the first payer in its encounter's payer list (or by the
patient when there is none). :func:`transfer` moves balance from one split to
another; when an insurance split reaches zero and the balance has moved to the
next insurance payer, that payer's claim is queued. The money itself moves through
the engine (:mod:`claimdesk.core.posting`): charges, transfers, the next claim.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    PSEUDO_KINDS,
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
from claimdesk.core.posting import charges, next_claims, transfers
from claimdesk.core.services import encounters
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


def owed_by_patient(split: ChargeSplit) -> bool:
    """Is this split the patient's to pay (owed by the pseudo payer Patient, whatever its rank)?"""
    return split.payer_id == patient_payer().id


def owed_by_insurer(split: ChargeSplit) -> bool:
    """Is this split pending with a real insurer (not the Patient or Inactive pseudo payers)?"""
    return split.payer_id in insurer_ids()


def insurer_ids() -> frozenset[int]:
    """Ids of every real insurance payer (workers' comp carriers included)."""
    return frozenset(pid for (pid,) in Payer.select(Payer.id).where(
        Payer.kind.not_in(PSEUDO_KINDS)).tuples())


def split_for(charge: Charge, rank: str, payer: Payer) -> ChargeSplit:
    """The split of ``charge`` at ``rank`` for ``payer`` (created empty if new)."""
    return transfers.splits_for([(charge.id, rank, payer.id, charge.patient_id)])[charge.id, rank, payer.id]


def open_splits(charge: Charge) -> list[ChargeSplit]:
    """Splits of a charge with a balance, in rank order."""
    rows = ChargeSplit.select().where((ChargeSplit.charge == charge.id) & (ChargeSplit.balance != 0))
    return sorted(rows, key=lambda s: RANKS.index(s.rank))


def _id(record) -> int | None:
    return None if record is None else int(getattr(record, "id", record))


def create_encounter(*, patient: Patient | int, provider: Provider, dos: dt.date,
                     payers: list[tuple[Payer, object]] = (), claim_type: str = "medical",
                     queue=None, **claim) -> Encounter:
    """Create an encounter with its ordered payer list [(payer, coverage), ...] and no charges
    (:func:`claimdesk.core.services.encounters.write` for one). ``claim`` takes what the claim
    carries (place_of_service, diagnoses, referring_provider_id, claim_no, frequency); without
    a claim number it gets its automatic one."""
    (made,) = encounters.write([encounters.NewEncounter(
        _id(patient), _id(provider), dos, (), tuple((_id(p), _id(c)) for p, c in payers), claim_type,
        _id(queue), **claim)], memo="")
    return Encounter.get_by_id(made.encounter_id)


def add_charge(encounter: Encounter, code: ServiceCode, *, fee: int | None = None, units: int = 1,
               provider: Provider | None = None, dos: dt.date | None = None,
               kind: str = "service", memo: str = "", modifiers: str = "", diagnosis_pointers: str = "",
               control_no: str | None = None) -> Charge:
    """Add a charge line and post it to the first responsible split
    (:func:`claimdesk.core.posting.charges.post_charges` for one charge).

    A zero fee still gets a split (it shows up in Outstanding Zero Splits).
    """
    fee = code.default_fee * units if fee is None else fee
    if fee < 0:
        raise Refused("a charge fee cannot be negative", field="fee")
    provider_id = provider.id if provider is not None else encounter.provider_id
    new = charges.NewCharge(encounter.id, encounter.patient_id, code.id, units, fee, provider_id,
                            dos or encounter.dos, kind, modifiers, diagnosis_pointers, control_no)
    (made,) = charges.post_charges([new], memo=memo or f"{code.code} x{units}")
    return Charge.get_by_id(made.charge_id)


def transfer(source: ChargeSplit, target: ChargeSplit, amount: int, *, reason: str,
             reason_code: str = "") -> None:
    """Move ``amount`` of balance from one split to another (same charge; one ``transfer`` entry)."""
    if amount <= 0:
        return
    if source.charge_id != target.charge_id:
        raise Refused("a transfer stays within one charge")
    charge = Charge.get_by_id(source.charge_id)
    transfers.post_transfers([transfers.Transfer(source, amount, charge.encounter_id, reason_code, target)],
                             memo=reason)


def move_to_next(split: ChargeSplit, amount: int | None = None, *, reason: str,
                 reason_code: str = "") -> ChargeSplit | None:
    """Move ``amount`` (default: all) of ``split`` to the next responsible rank.

    Returns the split that received it. Queues the next insurance payer's claim
    when ``split`` is left at zero.
    """
    split = ChargeSplit.get_by_id(split.id)
    amount = split.balance if amount is None else amount
    charge = Charge.get_by_id(split.charge_id)
    (target,) = transfers.move_on([transfers.Transfer(split, amount, charge.encounter_id, reason_code)], memo=reason)
    if split.balance == 0:  # an insurer's split moved on in full: the next insurer's claim goes out
        next_claims.queue_due([split.id])
    return target
