"""Advanced actions: Primary / Secondary Payer is Invalid (one factory, two actions).

Primary: its EOBs move to "Inactive Payer", the placeholder payer "Patient" takes the
primary slot (remembering the payer it replaced), and a dummy EOB from "Patient" passes the
balance on to the next responsible party (the secondary, whose claim is queued, or the
patient). "Add Primary Payer" can later put a real payer back.
Secondary: the secondary is removed (a tertiary moves up with what it owes) and its balance
goes to the next responsible party (the promoted tertiary, whose claim is queued, or the patient).
"""

from __future__ import annotations

from claimdesk.api import Action, Cents, ConfirmForm, action_plugin

CLAIMDESK_API = "1.0"

TEXT = {
    "primary": dict(
        when="Use this option when the primary payer is no longer valid. This typically occurs when a claim "
             "is denied due to inactive or invalid insurance (employment change, lapsed policy, coverage terminated).",
        steps=("Moves the primary payer's EOB(s) to Inactive Payer",
               "Replaces the primary payer with the placeholder payer \"Patient\"",
               "Posts a dummy EOB from \"Patient\" so the balance moves to the secondary payer (its claim is "
               "queued) or to the patient",
               "Add Primary Payer can later put a valid primary back")),
    "secondary": dict(
        when="Use this option when the secondary payer is no longer valid, typically identified when a claim "
             "is denied due to inactive or invalid secondary insurance.",
        steps=("Removes the secondary insurance from the encounter (a tertiary payer moves up, with what it owes)",
               "Voids a secondary claim still waiting for a batch",
               "Moves the secondary balance to the next responsible party (the tertiary or the patient)")),
}


def payer_invalid_action(rank: str, order: int) -> Action:
    """The "<rank> Payer is Invalid" action."""

    def applies(ctx) -> bool:
        slot = ctx.slots.get(rank)
        return ctx.active and slot is not None and not slot.placeholder and slot.payer.is_insurance

    def apply(ctx, data: dict) -> dict:
        old = ctx.payer(rank)
        why = data.get("reason") or "no reason given"
        voided = ctx.ops.void_queued_claims(rank)
        if rank == "primary":
            moved_eobs = ctx.ops.move_eobs_to_inactive(rank)
            ctx.ops.set_placeholder(rank, replacing=True)
            moved = ctx.ops.move_balance(ctx.open_splits(rank), rank, reason=f"primary payer {old.name} invalid: {why}")
            return {"removed_payer": old.name, "eobs_moved_to_inactive": moved_eobs, "claims_voided": voided,
                    "balance_moved": moved, "dummy_eob_id": ctx.ops.post_patient_eob(rank)}
        owed = ctx.open_splits(rank)
        later = ctx.payer("tertiary")
        promoted_own = Cents(sum(s.balance for s in ctx.open_splits("tertiary") if later and s.payer_id == later.id))
        ctx.ops.remove_payer(rank)  # a tertiary moves up, with its own open balance
        promoted = ctx.payer(rank)
        target = rank if promoted is not None else "patient"
        moved = ctx.ops.move_balance(owed, target, reason=f"{rank} {old.name} invalid; {promoted.name} moves up"
                                     if promoted else f"{rank} {old.name} invalid: balance to patient")
        if promoted is not None and (moved or promoted_own):
            ctx.ops.queue_claim(rank)
        return {"removed_payer": old.name, "claims_voided": voided, "balance_moved": moved,
                "new_secondary": promoted.name if promoted else None,
                "promoted_balance": promoted_own if promoted is not None else Cents(0)}

    return Action(key=f"{rank}_invalid", title=f"{rank.capitalize()} Payer is Invalid", applies=applies,
                  apply=apply, schema=ConfirmForm, order=order, **TEXT[rank])


primary = action_plugin("action_primary_invalid", payer_invalid_action("primary", 10), needs=CLAIMDESK_API)
secondary = action_plugin("action_secondary_invalid", payer_invalid_action("secondary", 20), needs=CLAIMDESK_API)
