"""Advanced action: Secondary Payer is Invalid — remove the secondary insurance."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.services import action_forms, billing, encounter_ops as ops


def applies(ctx) -> bool:
    slot = ctx.slots.get("secondary")
    return ctx.active and slot is not None and slot.payer.is_insurance


def apply(ctx, data: dict) -> dict:
    enc, old = ctx.encounter, ctx.payer("secondary")
    voided = ops.void_queued_claims(enc, rank="secondary")
    open_secondary = ops.open_splits(enc, "secondary")
    tertiary = ctx.payer("tertiary")
    promoted_own = sum(s.balance for s in ops.open_splits(enc, "tertiary") if tertiary and s.payer_id == tertiary.id)
    ops.remove_slot(enc, "secondary")  # a tertiary moves up, with its own open balance
    slots = billing.payer_list(enc)
    promoted = slots.get("secondary")
    if promoted is not None:  # the tertiary moved up: it now owes the secondary part
        moved = ops.move_balance(open_secondary, "secondary", promoted.payer,
                                 reason=f"secondary {old.name} invalid; {promoted.payer.name} moves up")
        if moved or promoted_own:
            ops.queue_claim(enc, "secondary")
    else:
        moved = ops.move_balance(open_secondary, "patient", billing.responsible_payer(enc, "patient"),
                                 reason=f"secondary {old.name} invalid: balance to patient")
    return {"removed_payer": old.name, "claims_voided": voided, "balance_moved": moved,
            "new_secondary": promoted.payer.name if promoted else None,
            "promoted_balance": promoted_own if promoted is not None else 0}


ACTION = Action(
    key="secondary_invalid",
    title="Secondary Payer is Invalid",
    when="Use this option when the secondary payer is no longer valid, typically identified when a claim "
         "is denied due to inactive or invalid secondary insurance.",
    steps=("Removes the secondary insurance from the encounter (a tertiary payer moves up, with what it owes)",
           "Voids a secondary claim still waiting for a batch",
           "Moves the secondary balance to the next responsible party (the tertiary or the patient)"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=20,
)


@hookimpl
def claimdesk_advanced_actions():
    """Secondary Payer is Invalid."""
    return [ACTION]
