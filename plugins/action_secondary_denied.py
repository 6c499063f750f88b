"""Advanced action: Secondary denied, need to bill patient."""

from __future__ import annotations

from marshmallow import Schema, fields

from claimdesk import Action, hookimpl
from claimdesk.core.validation import Id
from claimdesk.core.services import action_forms, encounter_ops as ops


class DeniedForm(Schema):
    charge_ids = fields.List(Id(), load_default=list,
                             metadata={"label": "Denied codes to bill (all if none picked)"})
    confirm = action_forms.confirm_field()


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.billable and bool(ctx.open_splits("secondary", denied=True))


def apply(ctx, data: dict) -> dict:
    return ops.bill_denied_to_patient(ctx.encounter, "secondary", data["charge_ids"])


ACTION = Action(
    key="secondary_denied_bill_patient",
    title="Secondary denied, need to bill patient",
    when="Use this option when Secondary insurance denied the charge and you wish to move the payment to "
         "patient responsibility.",
    steps=("Calculates the bill amount from the denied codes",
           "Moves that amount to patient responsibility",
           "Generates the corresponding patient statement"),
    applies=applies, apply=apply, schema=DeniedForm, order=70,
    choices=lambda ctx: {"charge_ids": ops.denied_code_choices(ctx.encounter, "secondary")},
)


@hookimpl
def claimdesk_advanced_actions():
    """Secondary denied, need to bill patient."""
    return [ACTION]
