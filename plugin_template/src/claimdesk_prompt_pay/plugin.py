"""Prompt-pay discount: a patient who settles today gets a percentage off what they owe."""

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import Schema, fields, validate

from claimdesk.api import Action, Cents, WriteoffReason, confirm_field, fmt, hookimpl

CLAIMDESK_API = "1.0"  # the claimdesk plugin API this plugin is written for
REASON = WriteoffReason(code="PROMPT_PAY", label="Prompt-pay discount", kind="patient")


class PromptPayForm(Schema):
    percent = fields.Decimal(required=True, places=2, as_string=True, metadata={"label": "Discount percent"},
                             validate=validate.Range(min=Decimal("0.01"), max=Decimal("20")))
    confirm = confirm_field()


def apply(ctx, data: dict) -> dict:
    """Write ``percent`` of what the patient owes off the same splits it was computed from."""
    owed = ctx.patient_balance
    discount = Cents(int((owed * Decimal(data["percent"]) / 100).quantize(Decimal(1), ROUND_HALF_UP)))
    lines = ctx.ops.write_off(ctx.patient_splits(), discount, REASON, memo=f"prompt-pay {data['percent']}%")
    return {"discount": discount, "balance_due_now": owed - discount, "lines": lines,
            "summary": f"discount {fmt(discount)}; the patient pays {fmt(owed - discount)} today"}


@hookimpl
def claimdesk_advanced_actions():
    return [Action(key="prompt_pay_discount", title="Prompt-pay discount (patient pays today)",
                   when="A patient settles the balance today; the clinic's policy grants up to 20% off.",
                   steps=("Asks for the discount percent", "Writes it off what the patient owes (PROMPT_PAY)"),
                   applies=lambda ctx: ctx.active and ctx.encounter.billable and ctx.patient_balance > 0,
                   apply=apply, schema=PromptPayForm, order=600)]


@hookimpl
def claimdesk_writeoff_reasons():
    return [REASON]
