"""Advanced action: Patient Write-Off, requested by the office."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.services import action_forms, encounter_ops as ops


def applies(ctx) -> bool:
    return ctx.active and ctx.patient_balance > 0


def apply(ctx, data: dict) -> dict:
    reason = action_forms.reason(data["reason"], "patient")
    lines = ops.write_off(ops.patient_splits(ctx.encounter), data["amount"], kind="patient_writeoff",
                          reason_code=reason.code, memo=data["note"] or reason.label)
    return {"written_off": data["amount"], "reason": reason.code, "lines": lines}


ACTION = Action(
    key="patient_writeoff_office",
    title="Patient Write-Off, requested by the office",
    when="Use this option when the office requests that a patient balance be written off.",
    steps=("Allows you to write off a custom patient balance amount, with a reason",),
    applies=applies, apply=apply, schema=action_forms.AmountForm, order=100,
    choices=lambda ctx: {"reason": action_forms.reason_choices("patient", exclude=("BAD_DEBT", "NEGOTIATED"))},
    keywords=("write off", "courtesy", "hardship", "small balance"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient Write-Off, requested by the office."""
    return [ACTION]
