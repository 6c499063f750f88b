"""Advanced actions: Add Primary Payer / Add Secondary Payer (one factory, two actions).

Primary: undoes the "Patient" placeholder primary (put there by Primary Payer is Invalid or
self-pay): the payer takes the slot and the open balance moves back to it (responsibility
can move back as well as forward), its claim queued.
Secondary: a secondary not on file when the claim went out (its EOB arrives anyway): once
the primary has finished, what the primary left to the patient moves to the secondary,
whose claim is queued.
"""

from __future__ import annotations

from claimdesk.api import Action, PayerForm, action_plugin

CLAIMDESK_API = "1.0"

TEXT = {
    "primary": dict(
        when="Use this option when a claim previously had its primary payer removed through an Advanced "
             "Action, and the primary insurance now needs to be added back to the claim.",
        steps=("Prompts you to add a primary insurance payer to the claim",
               "Replaces the \"Patient\" placeholder with that payer",
               "Moves the open balance back to the primary payer and queues its claim")),
    "secondary": dict(
        when="Use this option when a claim needs a secondary payer added, typically when the patient did not "
             "have secondary insurance on file at the time the claim was generated, but a secondary EOB is "
             "later received.",
        steps=("Prompts you to add a secondary insurance payer to the claim",
               "If the primary has finished, moves the patient balance it left to the secondary",
               "Queues the secondary claim for the next batch")),
}


def add_payer_action(rank: str, order: int) -> Action:
    """The "Add <rank> Payer" action."""

    def applies(ctx) -> bool:
        if rank == "primary":
            slot = ctx.slots.get("primary")
            return ctx.active and slot is not None and slot.placeholder
        return ctx.active and "primary" in ctx.slots and "secondary" not in ctx.slots

    def apply(ctx, data: dict) -> dict:
        payer = ctx.ops.set_payer(rank, data["payer_id"], coverage=data)
        if rank == "primary":  # responsibility moves back: everything still open returns to the primary
            moved = ctx.ops.move_balance(ctx.open_splits(), rank, reason=f"primary payer {payer.name} added")
            ctx.ops.void_queued_claims()
        else:  # once the primary is done, what it left to the patient goes to the secondary
            owed = ctx.open_splits("patient") if not ctx.open_splits("primary") else []
            moved = ctx.ops.move_balance(owed, rank, reason=f"secondary payer {payer.name} added")
        claim = ctx.ops.queue_claim(rank) if moved else None
        out = {f"{rank}_payer": payer.name, "balance_moved": moved, "claim_queued": bool(claim)}
        if rank == "secondary":
            out["tertiary_kept"] = ctx.payer("tertiary").name if ctx.payer("tertiary") else None
        return out

    return Action(key=f"add_{rank}", title=f"Add {rank.capitalize()} Payer", applies=applies, apply=apply,
                  schema=PayerForm, order=order, **TEXT[rank],
                  choices=lambda ctx: {"payer_id": [(str(p.id), p.name) for p in ctx.insurance_payers()]})


primary = action_plugin("action_add_primary", add_payer_action("primary", 30), needs=CLAIMDESK_API)
secondary = action_plugin("action_add_secondary", add_payer_action("secondary", 40), needs=CLAIMDESK_API)
