"""Advanced action: Patient Write-Off, requested by the office."""

from __future__ import annotations

from claimdesk.api import Action, AmountForm, hookimpl

CLAIMDESK_API = "1.0"


def applies(ctx) -> bool:
    return ctx.active and ctx.patient_balance > 0


def apply(ctx, data: dict) -> dict:
    reason = ctx.writeoff_reason(data["reason"], "patient")
    lines = ctx.ops.write_off(ctx.patient_splits(), data["amount"], reason, memo=data["note"])
    return {"written_off": data["amount"], "reason": reason.code, "lines": lines}


ACTION = Action(
    key="patient_writeoff_office",
    title="Patient Write-Off, requested by the office",
    when="Use this option when the office requests that a patient balance be written off.",
    steps=("Allows you to write off a custom patient balance amount, with a reason",),
    applies=applies, apply=apply, schema=AmountForm, order=100,
    choices=lambda ctx: {"reason": ctx.writeoff_reasons("patient", exclude=("BAD_DEBT", "NEGOTIATED"))},
    keywords=("write off", "courtesy", "hardship", "small balance"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient Write-Off, requested by the office."""
    return [ACTION]
