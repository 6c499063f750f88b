"""Advanced action: Patient called to negotiate the balance."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import Action, Money, Refused, Text, fmt, hookimpl

CLAIMDESK_API = "1.0"


class NegotiateForm(Schema):
    final_balance = Money(required=True, minimum=0, metadata={"label": "Negotiated final balance"})
    note = Text(max_length=200, load_default="", metadata={"label": "Note (who agreed, how)"})


def applies(ctx) -> bool:
    return ctx.active and ctx.patient_balance > 0


def apply(ctx, data: dict) -> dict:
    current, final = ctx.patient_balance, data["final_balance"]
    if final >= current:
        raise Refused(f"the negotiated balance must be less than the current patient balance {fmt(current)}",
                      field="final_balance")
    lines = ctx.ops.write_off(ctx.patient_splits(), current - final, "NEGOTIATED", kind="negotiated",
                              memo=data["note"] or "negotiated balance")
    return {"previous_balance": current, "final_balance": final, "adjusted": current - final, "lines": lines}


ACTION = Action(
    key="negotiate_balance",
    title="Patient called to negotiate the balance",
    when="Use this option when a patient contacts your team to negotiate their outstanding balance.",
    steps=("Prompts you to enter a negotiated final balance amount",
           "Adjusts the difference off the patient balance with the reason \"negotiated\""),
    applies=applies, apply=apply, schema=NegotiateForm, order=80,
    keywords=("settle", "discount", "payment plan"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient called to negotiate the balance."""
    return [ACTION]
