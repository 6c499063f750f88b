"""Advanced action: Patient Write-Off, bad debt (supervisor; flags the account)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import Action, Money, Text, hookimpl

CLAIMDESK_API = "1.0"


class BadDebtForm(Schema):
    amount = Money(required=True, positive=True, metadata={"label": "Amount"})
    note = Text(max_length=200, load_default="", metadata={"label": "Note (collection agency, ...)"})


def applies(ctx) -> bool:
    return ctx.active and ctx.patient_balance > 0


def apply(ctx, data: dict) -> dict:
    lines = ctx.ops.write_off(ctx.patient_splits(), data["amount"], "BAD_DEBT", kind="bad_debt",
                              memo=data["note"] or "bad debt")
    ctx.ops.mark_bad_debt()
    return {"written_off": data["amount"], "reason": "BAD_DEBT", "account_flagged_bad_debt": True,
            "lines": lines}


ACTION = Action(
    key="patient_writeoff_bad_debt",
    title="Patient Write-Off, bad debt",
    when="Use this option when the office requests that a patient balance be written off as bad debt.",
    steps=("Allows you to write off a custom patient balance amount as bad debt",
           "Flags the patient account as bad debt",
           "Needs a supervisor"),
    applies=applies, apply=apply, schema=BadDebtForm, order=110, required_role="supervisor",
    keywords=("write off", "collections", "uncollectible", "charge off"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Patient Write-Off, bad debt."""
    return [ACTION]
