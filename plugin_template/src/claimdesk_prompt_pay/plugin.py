"""Prompt-pay discount: a patient who pays today gets a percentage off their balance.

Two hooks: an advanced action, and the write-off reason it books the discount under
(so reports can tell prompt-pay discounts from other write-offs).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import Schema, fields, validate

from claimdesk import Action, WriteoffReason, hookimpl
from claimdesk.core.money import fmt
from claimdesk.core.services import encounter_ops

REASON = "PROMPT_PAY"
#: The clinic's policy: at most this percent off.
MAX_PERCENT = Decimal("20")


class PromptPayForm(Schema):
    percent = fields.Decimal(required=True, places=2, as_string=True,
                             validate=validate.Range(min=Decimal("0.01"), max=MAX_PERCENT),
                             metadata={"label": "Discount percent"})
    confirm = fields.Boolean(required=True, validate=validate.Equal(True, error="tick confirm to apply"),
                             metadata={"label": "Patient is paying the rest today"})


def applies(ctx) -> bool:
    """Only for a billable claim with a patient balance."""
    return ctx.active and ctx.encounter.billable and ctx.patient_balance > 0


def apply(ctx, data: dict) -> dict:
    """Write off ``percent`` of the patient balance under the PROMPT_PAY reason."""
    balance = ctx.patient_balance
    discount = int((Decimal(balance) * Decimal(data["percent"]) / 100).quantize(Decimal(1), ROUND_HALF_UP))
    lines = encounter_ops.write_off(encounter_ops.open_splits(ctx.encounter, "patient"), discount,
                                    kind="patient_writeoff", reason_code=REASON,
                                    memo=f"prompt-pay discount {data['percent']}%")
    return {"discount": discount, "balance_due_now": balance - discount,
            "summary": f"discount {fmt(discount)}; patient pays {fmt(balance - discount)} today",
            "lines": lines}


ACTION = Action(
    key="prompt_pay_discount",
    title="Prompt-pay discount (patient pays today)",
    when="Use this option when a self-paying patient settles the balance today and the clinic's "
         "prompt-pay policy grants a discount.",
    steps=("Asks for the discount percent (at most 20%)",
           "Writes the discount off the patient balance under the reason PROMPT_PAY",
           "Shows what the patient pays today"),
    applies=applies,
    apply=apply,
    schema=PromptPayForm,
    order=600,
)


@hookimpl
def claimdesk_advanced_actions():
    """The prompt-pay discount action."""
    return [ACTION]


@hookimpl
def claimdesk_writeoff_reasons():
    """The write-off reason the discount is booked under."""
    return [WriteoffReason(code=REASON, label="Prompt-pay discount", kind="patient")]
