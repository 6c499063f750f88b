"""Advanced action: Add Primary Payer — undo the "Patient" placeholder primary."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.errors import Refused
from claimdesk.core.services import action_forms, encounter_ops as ops
from claimdesk.core.services.common import get
from claimdesk.core.models import Payer


def applies(ctx) -> bool:
    slot = ctx.slots.get("primary")
    return ctx.active and slot is not None and slot.placeholder


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    payer = get(Payer, data["payer_id"], "payer", field="payer_id")
    if not payer.is_insurance:
        raise Refused(f"{payer.name} is not an insurance payer", field="payer_id")
    if any(s.payer_id == payer.id for r, s in ctx.slots.items() if r != "primary"):
        raise Refused(f"{payer.name} is already on this claim at another rank", field="payer_id")
    cov = ops.coverage_for(enc, payer, data)
    ops.set_slot(enc, "primary", payer, coverage=cov)
    # Responsibility moves back: everything still open returns to the primary.
    moved = ops.move_balance(ops.open_splits(enc), "primary", payer, reason=f"primary payer {payer.name} added")
    ops.void_queued_claims(enc)
    claim = ops.queue_claim(enc, "primary") if moved else None
    return {"primary_payer": payer.name, "balance_moved": moved, "claim_queued": bool(claim)}


ACTION = Action(
    key="add_primary",
    title="Add Primary Payer",
    when="Use this option when a claim previously had its primary payer removed through an Advanced "
         "Action, and the primary insurance now needs to be added back to the claim.",
    steps=("Prompts you to add a primary insurance payer to the claim",
           "Replaces the \"Patient\" placeholder with that payer",
           "Moves the open balance back to the primary payer and queues its claim"),
    applies=applies, apply=apply, schema=action_forms.PayerForm, order=30,
    choices=lambda ctx: {"payer_id": action_forms.insurance_payer_choices()},
)


@hookimpl
def claimdesk_advanced_actions():
    """Add Primary Payer."""
    return [ACTION]
