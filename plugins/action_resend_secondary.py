"""Advanced action: Resend Secondary Claim."""

from __future__ import annotations

from claimdesk.api import Action, ConfirmForm, hookimpl

CLAIMDESK_API = "1.0"


def _statuses(ctx) -> set[str]:
    return {c.status for c in ctx.claims if c.rank == "secondary"}


def applies(ctx) -> bool:
    return ctx.active and ctx.payer("secondary") is not None and "sent" in _statuses(ctx) \
        and "queued" not in _statuses(ctx)


def apply(ctx, data: dict) -> dict:
    claim_id = ctx.ops.queue_claim("secondary", resend=True)
    return {"claim_id": claim_id, "payer": ctx.payer("secondary").name, "queued_for_next_batch": True}


ACTION = Action(
    key="resend_secondary",
    title="Resend Secondary Claim",
    when="Use this option when a secondary claim has already been sent, but needs to be resent (for example, "
         "if no response was received or corrections were made).",
    steps=("After applying this option, the claim will be included in the automated secondary claim submission",),
    applies=applies, apply=apply, schema=ConfirmForm, order=130,
    keywords=("rebill", "resubmit", "crossover"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Resend Secondary Claim."""
    return [ACTION]
