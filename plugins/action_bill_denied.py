"""Advanced actions: Primary / Secondary denied, need to bill patient (one factory, two actions)."""

from __future__ import annotations

from marshmallow import Schema, fields

from claimdesk.api import Action, Id, Text, action_plugin, confirm_field, fmt

CLAIMDESK_API = "1.1"  # SplitView.contractual, ctx.may, ops.bill_patient(override_reason=)


class DeniedForm(Schema):
    charge_ids = fields.List(Id(), load_default=list,
                             metadata={"label": "Denied codes to bill (all if none picked)"})
    override_reason = Text(load_default="", max_length=200,
                           metadata={"label": "Supervisor override: why bill a CO denial (else leave empty)"})
    confirm = confirm_field()


def bill_denied_action(rank: str, order: int) -> Action:
    """The "<rank> denied, need to bill patient" action."""
    Rank = rank.capitalize()

    def billable(ctx) -> list:
        """The denied splits this person may bill the patient for: contractual (CO) ones only
        for a supervisor (who must give a reason)."""
        denied = ctx.open_splits(rank, denied=True)
        supervisor = bool(denied) and ctx.may("supervisor")  # (no denials, no need to ask)
        return [s for s in denied if supervisor or not s.contractual]

    def applies(ctx) -> bool:
        return ctx.active and ctx.encounter.billable and bool(billable(ctx))

    def apply(ctx, data: dict) -> dict:
        return ctx.ops.bill_patient(rank, data["charge_ids"], override_reason=data["override_reason"])

    def label(s) -> str:
        co = " (CO: not the patient's; needs an override reason)" if s.contractual else ""
        return f"{s.code} {fmt(s.balance)} {s.denial_code}".strip() + co

    def choices(ctx) -> dict:
        return {"charge_ids": [(str(s.charge_id), label(s)) for s in billable(ctx)]}

    return Action(
        key=f"{rank}_denied_bill_patient",
        title=f"{Rank} denied, need to bill patient",
        when=f"Use this option when {Rank} insurance denied the charge and you wish to move the payment to "
             "patient responsibility.",
        steps=("Calculates the bill amount from the denied codes",
               "Moves that amount to patient responsibility",
               "Generates the corresponding patient statement"),
        applies=applies, apply=apply, schema=DeniedForm, order=order, choices=choices,
    )


primary = action_plugin("action_primary_denied", bill_denied_action("primary", 60), needs=CLAIMDESK_API)
secondary = action_plugin("action_secondary_denied", bill_denied_action("secondary", 70), needs=CLAIMDESK_API)
