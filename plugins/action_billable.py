"""Advanced action: This claim is billable — revert a non-billable claim.

Reverses the NONBILLABLE write-offs (linked reversing entries), so the balances
come back exactly as they were, and removes the tag.
"""

from __future__ import annotations

from claimdesk.api import Action, ConfirmForm, hookimpl

CLAIMDESK_API = "1.0"


def applies(ctx) -> bool:
    return ctx.active and not ctx.encounter.billable


def apply(ctx, data: dict) -> dict:
    restored = ctx.ops.reverse_entries("non_billable", memo=data.get("reason") or "claim is billable again")
    tags = ctx.ops.set_billable(True)
    return {"billable": True, "balance_restored": restored, "tags": tags}


ACTION = Action(
    key="billable",
    title="This claim is billable",
    when="Use this option to mark a non-billable claim as billable.",
    steps=("The non-billable claim will be reverted to a normal, billable claim",
           "Patient balance will be updated (the non-billable write-off is reversed)"),
    applies=applies, apply=apply, schema=ConfirmForm, order=180,
)


@hookimpl
def claimdesk_advanced_actions():
    """This claim is billable."""
    return [ACTION]
