"""Advanced action: This claim is non-billable.

The open balance is written off with the reason NONBILLABLE (so every balance
stays a sum of postings), the claim is tagged "Non-Billable", excluded from
statements and reporting, and stays visible in All Claims.
"""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.models import Encounter
from claimdesk.core.services import action_forms, encounter_ops as ops

TAG = "Non-Billable"


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.billable


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    splits = ops.open_splits(enc)
    lines = ops.write_off(splits, sum(s.balance for s in splits), kind="non_billable",
                          reason_code="NONBILLABLE", memo=data.get("reason") or "claim marked non-billable")
    voided = ops.void_queued_claims(enc)
    tags = [t for t in enc.tag_list() if t != TAG] + [TAG]
    Encounter.update(billable=False, tags=",".join(tags)).where(Encounter.id == enc.id).execute()
    return {"billable": False, "written_off": sum(ln["amount"] for ln in lines), "claims_voided": voided,
            "tags": tags}


ACTION = Action(
    key="non_billable",
    title="This claim is non-billable",
    when="Use this option to mark a claim you do not wish to bill as Non-billable.",
    steps=("The claim will be marked as Non-Billable", "It will be excluded from patient statements",
           "It will be removed from system reporting", "The patient balance will be updated accordingly",
           "It remains visible in All Claims with a \"Non-Billable\" tag"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=170,
    keywords=("no charge", "research", "void"),
)


@hookimpl
def claimdesk_advanced_actions():
    """This claim is non-billable."""
    return [ACTION]
