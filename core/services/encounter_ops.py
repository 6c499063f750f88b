"""Changes to an encounter's payer list and responsibility, for the advanced actions.

Every money effect goes through the ledger (transfers, adjustments); payer-list
changes are document edits recorded in the action's audit event.
"""

from __future__ import annotations

from claimdesk.core import clock, denials
from claimdesk.core.claim_rules import plan_type_for
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    INSURANCE_RANKS, Charge, ChargeSplit, Claim, Coverage, Encounter, EncounterPayer, Eob,
    EobAdjustment, EobLine, Payer,
)
from claimdesk.core.money import fmt
from claimdesk.core.services.common import inactive_payer, patient_payer
from claimdesk.core.services import adjustments, billing, claims
from claimdesk.core.users import require_role


def charges_of(enc: Encounter) -> list[Charge]:
    """The encounter's charges in line order."""
    return list(Charge.select().where(Charge.encounter == enc.id).order_by(Charge.line_no))


def open_splits(enc: Encounter, rank: str | None = None, *, denied: bool | None = None) -> list[ChargeSplit]:
    """Open splits of an encounter (oldest charge first), optionally one rank / denied."""
    q = (ChargeSplit.select(ChargeSplit).join(Charge)
         .where((Charge.encounter == enc.id) & (ChargeSplit.balance > 0)).order_by(Charge.dos, Charge.id))
    if rank is not None:
        q = q.where(ChargeSplit.rank == rank)
    if denied is not None:
        q = q.where(ChargeSplit.denied == denied)
    return list(q)


def patient_splits(enc: Encounter) -> list[ChargeSplit]:
    """Open splits the patient owes (owed by the pseudo payer Patient at any rank, so the
    placeholder primary "Patient" counts), oldest charge first."""
    pseudo = patient_payer().id
    return [s for s in open_splits(enc) if s.payer_id == pseudo]


def insurance_splits(enc: Encounter) -> list[ChargeSplit]:
    """Open splits pending with a real insurer, oldest charge first."""
    insurers = billing.insurer_ids()
    return [s for s in open_splits(enc) if s.payer_id in insurers]


def move_balance(splits: list[ChargeSplit], rank: str, payer: Payer, *, reason: str,
                 reason_code: str = "") -> int:
    """Move the whole balance of ``splits`` to ``rank``/``payer`` on each charge."""
    moved = 0
    for split in splits:
        split = ChargeSplit.get_by_id(split.id)
        target = billing.split_for(Charge.get_by_id(split.charge_id), rank, payer)
        if target.id != split.id and split.balance:
            moved += split.balance
            billing.transfer(split, target, split.balance, reason=reason, reason_code=reason_code)
    return moved


def write_off(splits: list[ChargeSplit], amount: int, *, kind: str, reason_code: str,
              group_code: str = "", memo: str = "") -> list[dict]:
    """Write off ``amount`` across ``splits`` in order (partial on the last).

    The part taken from insurers' splits is checked against the supervisor limit before
    anything is written (see :mod:`.adjustments`).
    """
    total = sum(s.balance for s in splits)
    if amount > total:
        raise Refused(f"{fmt(amount)} is more than the open balance {fmt(total)}", field="amount")
    adjustments.require_insurance_writeoff_authority(adjustments.insurer_amount(splits, amount), kind=kind)
    out, left = [], amount
    for split in splits:
        if left <= 0:
            break
        take = min(split.balance, left)
        adjustments.adjust(split, take, kind=kind, reason_code=reason_code, group_code=group_code, memo=memo)
        out.append({"charge_id": split.charge_id, "rank": split.rank, "amount": take})
        left -= take
    return out


def void_queued_claims(enc: Encounter, *, rank: str | None = None, payer_id: int | None = None) -> int:
    """Void claims still waiting for a batch (the payer left the claim)."""
    q = Claim.update(status="void").where((Claim.encounter == enc.id) & (Claim.status == "queued"))
    if rank:
        q = q.where(Claim.rank == rank)
    if payer_id:
        q = q.where(Claim.payer == payer_id)
    return q.execute()


def set_slot(enc: Encounter, rank: str, payer: Payer, *, coverage: Coverage | None = None,
             placeholder: bool = False, replaced_payer: Payer | None = None) -> EncounterPayer:
    """Put ``payer`` at ``rank`` on the encounter's payer list (replacing any)."""
    slot = EncounterPayer.get_or_none((EncounterPayer.encounter == enc.id) & (EncounterPayer.rank == rank))
    if slot is None:
        return EncounterPayer.create(encounter=enc, rank=rank, payer=payer, coverage=coverage,
                                     placeholder=placeholder, replaced_payer=replaced_payer)
    EncounterPayer.update(payer=payer, coverage=coverage, placeholder=placeholder,
                          replaced_payer=replaced_payer).where(EncounterPayer.id == slot.id).execute()
    return EncounterPayer.get_by_id(slot.id)


def remove_slot(enc: Encounter, rank: str) -> Payer | None:
    """Take a payer off the list; each later insurance payer moves up one rank.

    A payer that moves up takes its open balance with it: each of its splits at the old
    rank is transferred (a journal entry) to its split at the new rank, so the claim it
    is now sent at that rank carries everything it owes; a claim still queued for it at
    the old rank is voided (the caller queues the new one).
    """
    slot = EncounterPayer.get_or_none((EncounterPayer.encounter == enc.id) & (EncounterPayer.rank == rank))
    if slot is None:
        return None
    removed = Payer.get_by_id(slot.payer_id)
    EncounterPayer.delete().where(EncounterPayer.id == slot.id).execute()
    i = INSURANCE_RANKS.index(rank)
    for later in INSURANCE_RANKS[i + 1:]:
        nxt = EncounterPayer.get_or_none((EncounterPayer.encounter == enc.id) & (EncounterPayer.rank == later))
        if nxt is not None:
            up = INSURANCE_RANKS[INSURANCE_RANKS.index(later) - 1]
            EncounterPayer.update(rank=up).where(EncounterPayer.id == nxt.id).execute()
            promote_splits(enc, Payer.get_by_id(nxt.payer_id), later, up)
    return removed


def promote_splits(enc: Encounter, payer: Payer, old_rank: str, new_rank: str) -> int:
    """Move ``payer``'s open balance on this encounter from ``old_rank`` to ``new_rank``
    (its slot moved up); void its claims still queued at the old rank. Returns cents moved."""
    splits = [s for s in open_splits(enc, old_rank) if s.payer_id == payer.id]
    moved = move_balance(splits, new_rank, payer, reason=f"{payer.name} moves up from {old_rank} to {new_rank}",
                         reason_code="RERANK")
    void_queued_claims(enc, rank=old_rank, payer_id=payer.id)
    return moved


def coverage_for(enc: Encounter, payer: Payer, data: dict) -> Coverage:
    """A coverage row for the encounter's patient with ``payer`` from form data (its plan type
    the default for the payer's kind; a subscriber who is not the patient named from the
    form's "Last, First")."""
    relationship = data.get("relationship", "self") or "self"
    last, _, first = (data.get("subscriber", "") if relationship != "self" else "").partition(",")
    return Coverage.create(patient=enc.patient_id, payer=payer, member_id=data.get("member_id", ""),
                           group_no=data.get("group_no", ""), subscriber=data.get("subscriber", ""),
                           relationship=relationship,
                           effective_from=data.get("effective_from"), effective_to=data.get("effective_to"),
                           plan_type=plan_type_for(payer.kind), subscriber_last_name=last.strip(),
                           subscriber_first_name=first.strip())


def dummy_eob_from_patient(enc: Encounter, rank: str = "primary") -> Eob | None:
    """A dummy EOB from the pseudo payer "Patient": passes the balance to the next party.

    Each open split at ``rank`` (now owed by "Patient") moves on as patient
    responsibility (PR-27, coverage not in effect) to the next rank, which queues
    the next insurer's claim.
    """
    pseudo = patient_payer()
    splits = [s for s in open_splits(enc, rank) if s.payer_id == pseudo.id]
    if not splits:
        return None
    eob = Eob.create(encounter=enc, payer=pseudo, rank=rank, received_on=clock.today(), dummy=True)
    for split in splits:
        line = EobLine.create(eob=eob, charge=split.charge_id, allowed=0, paid=0)
        EobAdjustment.create(line=line, group_code="PR", reason_code="27", amount=split.balance)
        billing.move_to_next(split, reason=f"dummy EOB {eob.id} from Patient", reason_code="PR-27")
    return eob


def move_eobs_to_inactive(enc: Encounter, payer: Payer) -> int:
    """Re-file a payer's EOBs for this encounter under "Inactive Payer"."""
    return Eob.update(payer=inactive_payer(), moved_from=payer).where(
        (Eob.encounter == enc.id) & (Eob.payer == payer.id)).execute()


def queue_claim(enc: Encounter, rank: str) -> Claim | None:
    """Queue the claim of whoever holds ``rank`` (if an insurer)."""
    slot = billing.payer_list(enc).get(rank)
    if slot is None or not slot.payer.is_insurance:
        return None
    return claims.queue(enc, slot.payer, rank)


def recreate(old: Encounter, claim_type: str, payer: Payer, *, member_id: str = "") -> dict:
    """Re-create ``old`` as a new encounter of ``claim_type`` billed to ``payer`` (a coverage with
    ``member_id``): each charge's open balance is reclassified off the old charge (``reclass``,
    never limited: nothing is forgiven) and charged on the new one; the old encounter is removed
    from billing (kept, history intact, off its queue) and the new claim queued."""
    short, label = {"workers_comp": ("WC", "workers' comp"), "medical": ("MED", "medical")}[claim_type]
    cov = coverage_for(old, payer, {"member_id": member_id})
    new = billing.create_encounter(patient=old.patient, provider=old.provider, dos=old.dos,
                                   payers=[(payer, cov)], claim_type=claim_type,
                                   place_of_service=old.place_of_service, diagnoses=tuple(old.diagnosis_list()),
                                   referring_provider_id=old.referring_provider_id)
    Encounter.update(replaces=old.id).where(Encounter.id == new.id).execute()
    moved = []
    for charge in charges_of(old):
        splits = [s for s in open_splits(old) if s.charge_id == charge.id]
        amount = sum(s.balance for s in splits)
        if not amount:
            continue
        write_off(splits, amount, kind="reclass", reason_code=f"RECLASS-{short}",
                  memo=f"moved to {label} encounter {new.id}")
        nc = billing.add_charge(new, charge.service_code, fee=amount, units=charge.units, provider=charge.provider,
                                dos=charge.dos, memo=f"from encounter {old.id} charge {charge.id}",
                                modifiers=charge.modifiers, diagnosis_pointers=charge.diagnosis_pointers)
        moved.append({"from_charge": charge.id, "to_charge": nc.id, "amount": amount})
    void_queued_claims(old)
    Encounter.update(status="removed", queue=None).where(Encounter.id == old.id).execute()
    queue_claim(new, "primary")
    return {"removed_encounter": old.id, "new_encounter": new.id, "payer": payer.name, "charges": moved}


def bill_denied_to_patient(enc: Encounter, rank: str, charge_ids: list[int] | None,
                           override_reason: str = "") -> dict:
    """Move denied balances at ``rank`` to the patient and make the patient statement.

    The bill amount is the open balance of the denied codes (all the patient may be billed
    for unless ``charge_ids`` picks some). A contractual (CO) denial is not the patient's to
    pay: it is billed only on a supervisor's ``override_reason`` (kept in the move's memo and
    the action's audit event); without one, "all" leaves CO denials out and naming one is
    refused.
    """
    from claimdesk.core.services import statements

    denied = open_splits(enc, rank, denied=True)
    if charge_ids:
        unknown = set(charge_ids) - {s.charge_id for s in denied}
        if unknown:
            raise Refused(f"charge(s) {sorted(unknown)} have no denied {rank} balance on this claim",
                          field="charge_ids")
        denied = [s for s in denied if s.charge_id in charge_ids]
    contractual = [s for s in denied if denials.is_contractual(s.denial_code)]
    override_reason = override_reason.strip()
    if override_reason:
        require_role("supervisor", "billing a patient for a contractual (CO) denial")
    elif contractual and charge_ids:
        codes = ", ".join(sorted({s.denial_code for s in contractual}))
        raise Refused(f"{codes} is a contractual (CO) denial: not the patient's to pay; a supervisor may "
                      "bill it with an override reason", field="override_reason")
    else:
        denied = [s for s in denied if s not in contractual]
    if not denied:
        raise Refused(f"the {rank} denials on this claim are contractual (CO): not the patient's to pay; "
                      "a supervisor may bill them with an override reason", field="override_reason")
    why = f"{rank} denied: billed to patient"
    if override_reason and contractual:
        why = f"{rank} CO denial billed to patient (supervisor override: {override_reason})"
    amount = move_balance(denied, "patient", patient_payer(), reason=why[:200], reason_code="DENIED")
    void_queued_claims(enc, rank=rank)
    stmt = statements.reissue(enc.patient, void_reason=f"{rank} denial billed to patient")
    return {"billed_to_patient": amount, "charges": [s.charge_id for s in denied],
            "statement_id": stmt.id, "amount_due": stmt.amount_due}


def denied_code_choices(enc: Encounter, rank: str) -> list[tuple[str, str]]:
    """(charge id, "code  balance") for denied open splits at ``rank``."""
    out = []
    for s in open_splits(enc, rank, denied=True):
        ch = Charge.get_by_id(s.charge_id)
        out.append((str(ch.id), f"{ch.service_code.code} {fmt(s.balance)} {s.denial_code}".strip()))
    return out
