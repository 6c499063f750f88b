"""Advanced action: Insurance Write-Off — codes that will no longer be paid.

Each chosen code's whole insurance balance (every insurer still owing on that charge:
primary and secondary alike) is written off with the chosen reason. Above the configured
amount (``[writeoffs] supervisor_limit_cents``) it needs a supervisor: the core checks every
write-off; this plugin only asks it once up front for the whole total.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.api import Action, Cents, Id, Refused, Text, fmt, hookimpl

CLAIMDESK_API = "1.0"


class CodeLine(Schema):
    charge_id = Id(required=True, metadata={"label": "Code"})
    reason = fields.String(required=True, metadata={"label": "Write-off reason"})


class InsuranceWriteoffForm(Schema):
    lines = fields.List(fields.Nested(CodeLine), required=True, validate=validate.Length(min=1),
                        metadata={"label": "Codes to write off, each with a reason"})
    note = Text(max_length=200, load_default="", metadata={"label": "Note"})


def applies(ctx) -> bool:
    return ctx.active and ctx.insurance_balance > 0


def _by_charge(ctx) -> dict[int, list]:
    out: dict[int, list] = {}
    for s in ctx.insurance_splits():
        out.setdefault(s.charge_id, []).append(s)
    return out


def apply(ctx, data: dict) -> dict:
    open_ins, plan = _by_charge(ctx), []
    for i, line in enumerate(data["lines"]):
        splits = open_ins.get(line["charge_id"])
        if splits is None:
            raise Refused(f"charge {line['charge_id']} has no open insurance balance on this claim",
                          field=f"lines.{i}.charge_id")
        if any(line["charge_id"] == s[0].charge_id for s, _r in plan):
            raise Refused(f"charge {line['charge_id']} is listed twice", field=f"lines.{i}.charge_id")
        plan.append((splits, ctx.writeoff_reason(line["reason"], "insurance", field=f"lines.{i}.reason")))
    total = Cents(sum(s.balance for splits, _ in plan for s in splits))
    ctx.ops.require_writeoff_authority(total)
    lines = []
    for splits, reason in plan:
        lines += ctx.ops.write_off(splits, sum(s.balance for s in splits), reason, memo=data["note"])
    if not ctx.insurance_splits():
        ctx.ops.void_queued_claims()
    return {"written_off": total, "lines": lines}


def choices(ctx) -> dict:
    codes = [(str(charge_id), f"{splits[0].code} " + ", ".join(f"{s.rank} {fmt(s.balance)}" for s in splits))
             for charge_id, splits in _by_charge(ctx).items()]
    return {"charge_id": codes, "reason": ctx.writeoff_reasons("insurance")}


ACTION = Action(
    key="insurance_writeoff",
    title="Insurance Write-Off",
    when="Use this option to write off procedure code(s) that will no longer be paid by the payer.",
    steps=("Allows you to select one or more codes to write off (each code's whole insurance balance)",
           "Choose the write-off reason for each from the list",
           "Write-offs over the configured limit need a supervisor"),
    applies=applies, apply=apply, schema=InsuranceWriteoffForm, order=120, choices=choices,
    keywords=("write off", "adjust", "timely filing", "contractual"),
)


@hookimpl
def claimdesk_advanced_actions():
    """Insurance Write-Off."""
    return [ACTION]
