"""Advanced action: Patient does not have primary insurance (self-pay)."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import action_forms, encounter_ops as ops


def applies(ctx) -> bool:
    return ctx.active and "primary" not in ctx.slots


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    ops.set_slot(enc, "primary", patient_payer(), placeholder=True)
    return {"primary_payer": "Patient", "patient_balance": ctx.refresh().patient_balance}


ACTION = Action(
    key="self_pay",
    title="Patient does not have primary insurance",
    when="Use this option when it has been confirmed that the patient does not have any primary insurance "
         "and the encounter should be treated as self-pay.",
    steps=("Adds a dummy primary insurance labeled \"Patient\" to the claim",
           "The balance stays the patient's; Add Primary Payer can later add a real insurer"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=50,
    keywords=("self pay", "uninsured", "no insurance"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient does not have primary insurance."""
    return [ACTION]
