"""Advanced action: Patient does not have primary insurance (self-pay)."""

from __future__ import annotations

from claimdesk.api import Action, ConfirmForm, hookimpl

CLAIMDESK_API = "1.0"


def applies(ctx) -> bool:
    return ctx.active and "primary" not in ctx.slots


def apply(ctx, data: dict) -> dict:
    ctx.ops.set_placeholder("primary")
    return {"primary_payer": "Patient", "patient_balance": ctx.patient_balance}


ACTION = Action(
    key="self_pay",
    title="Patient does not have primary insurance",
    when="Use this option when it has been confirmed that the patient does not have any primary insurance "
         "and the encounter should be treated as self-pay.",
    steps=("Adds a dummy primary insurance labeled \"Patient\" to the claim",
           "The balance stays the patient's; Add Primary Payer can later add a real insurer"),
    applies=applies, apply=apply, schema=ConfirmForm, order=50,
    keywords=("self pay", "uninsured", "no insurance"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient does not have primary insurance."""
    return [ACTION]
