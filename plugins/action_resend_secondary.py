"""Advanced action: Resend Secondary Claim."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.models import Claim
from claimdesk.core.services import action_forms, claims


def _claims(ctx, status):
    return Claim.select().where((Claim.encounter == ctx.encounter.id) & (Claim.rank == "secondary")
                                & (Claim.status == status))


def applies(ctx) -> bool:
    return (ctx.active and ctx.payer("secondary") is not None and _claims(ctx, "sent").exists()
            and not _claims(ctx, "queued").exists())


def apply(ctx, data: dict) -> dict:
    claim = claims.queue(ctx.encounter, ctx.payer("secondary"), "secondary", resend=True)
    return {"claim_id": claim.id, "payer": ctx.payer("secondary").name, "queued_for_next_batch": True}


ACTION = Action(
    key="resend_secondary",
    title="Resend Secondary Claim",
    when="Use this option when a secondary claim has already been sent, but needs to be resent (for example, "
         "if no response was received or corrections were made).",
    steps=("After applying this option, the claim will be included in the automated secondary claim submission",),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=130,
    keywords=("rebill", "resubmit", "crossover"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Resend Secondary Claim."""
    return [ACTION]
