"""Advanced action: This claim is non-billable.

The open balance is written off with the reason NONBILLABLE (so every balance
stays a sum of postings), the claim is tagged "Non-Billable", excluded from
statements and reporting, and stays visible in All Claims.
"""

from __future__ import annotations

from claimdesk.api import Action, Cents, ConfirmForm, hookimpl

CLAIMDESK_API = "1.0"


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.billable


def apply(ctx, data: dict) -> dict:
    owed = ctx.open_splits()
    lines = ctx.ops.write_off(owed, sum(s.balance for s in owed), "NONBILLABLE", kind="non_billable",
                              memo=data.get("reason") or "claim marked non-billable")
    voided = ctx.ops.void_queued_claims()
    tags = ctx.ops.set_billable(False)
    return {"billable": False, "written_off": Cents(sum(ln["amount"] for ln in lines)), "claims_voided": voided,
            "tags": tags}


ACTION = Action(
    key="non_billable",
    title="This claim is non-billable",
    when="Use this option to mark a claim you do not wish to bill as Non-billable.",
    steps=("The claim will be marked as Non-Billable", "It will be excluded from patient statements",
           "It will be removed from system reporting", "The patient balance will be updated accordingly",
           "It remains visible in All Claims with a \"Non-Billable\" tag"),
    applies=applies, apply=apply, schema=ConfirmForm, order=170,
    keywords=("no charge", "research", "void"),
)


@hookimpl
def claimdesk_advanced_actions():
    """This claim is non-billable."""
    return [ACTION]
