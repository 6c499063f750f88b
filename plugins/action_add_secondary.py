"""Advanced action: Add Secondary Payer (e.g. a secondary EOB arrived, none on file)."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.errors import Refused
from claimdesk.core.models import Payer
from claimdesk.core.services import action_forms, encounter_ops as ops
from claimdesk.core.services.common import get


def applies(ctx) -> bool:
    return ctx.active and "primary" in ctx.slots and "secondary" not in ctx.slots


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    payer = get(Payer, data["payer_id"], "payer", field="payer_id")
    if not payer.is_insurance:
        raise Refused(f"{payer.name} is not an insurance payer", field="payer_id")
    if ctx.payer("primary").id == payer.id:
        raise Refused(f"{payer.name} is already the primary payer", field="payer_id")
    tertiary = ctx.slots.get("tertiary")
    cov = ops.coverage_for(enc, payer, data)
    ops.set_slot(enc, "secondary", payer, coverage=cov)
    moved = 0
    if not ops.open_splits(enc, "primary"):
        # The primary is done: what it left to the patient now goes to the secondary.
        moved = ops.move_balance(ops.open_splits(enc, "patient"), "secondary", payer,
                                 reason=f"secondary payer {payer.name} added")
    claim = ops.queue_claim(enc, "secondary") if moved else None
    return {"secondary_payer": payer.name, "balance_moved": moved, "claim_queued": bool(claim),
            "tertiary_kept": tertiary.payer.name if tertiary else None}


ACTION = Action(
    key="add_secondary",
    title="Add Secondary Payer",
    when="Use this option when a claim needs a secondary payer added, typically when the patient did not "
         "have secondary insurance on file at the time the claim was generated, but a secondary EOB is later received.",
    steps=("Prompts you to add a secondary insurance payer to the claim",
           "If the primary has finished, moves the patient balance it left to the secondary",
           "Queues the secondary claim for the next batch"),
    applies=applies, apply=apply, schema=action_forms.PayerForm, order=40,
    choices=lambda ctx: {"payer_id": action_forms.insurance_payer_choices()},
)


@hookimpl
def claimdesk_advanced_actions():
    """Add Secondary Payer."""
    return [ACTION]
