"""Advanced action: Insurance Write-Off — codes that will no longer be paid.

Above the configured amount (``[writeoffs] supervisor_limit_cents``) it needs a
supervisor; the check is here in the core path, not in a screen.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk import Action, hookimpl
from claimdesk.core import config
from claimdesk.core.errors import Refused
from claimdesk.core.money import fmt
from claimdesk.core.schemas import Id, Text
from claimdesk.core.services import action_forms, encounter_ops as ops
from claimdesk.core.users import require_role


class CodeLine(Schema):
    charge_id = Id(required=True, metadata={"label": "Code"})
    reason = fields.String(required=True, metadata={"label": "Write-off reason"})


class InsuranceWriteoffForm(Schema):
    lines = fields.List(fields.Nested(CodeLine), required=True, validate=validate.Length(min=1),
                        metadata={"label": "Codes to write off, each with a reason"})
    note = Text(max_length=200, load_default="", metadata={"label": "Note"})


def applies(ctx) -> bool:
    return ctx.active and ctx.insurance_balance > 0


def apply(ctx, data: dict) -> dict:
    open_ins = {s.charge_id: s for s in ctx.splits if s.balance > 0 and s.rank != "patient"}
    plan = []
    for i, line in enumerate(data["lines"]):
        split = open_ins.get(line["charge_id"])
        if split is None:
            raise Refused(f"charge {line['charge_id']} has no open insurance balance on this claim",
                          field=f"lines.{i}.charge_id")
        plan.append((split, action_forms.reason(line["reason"], "insurance", field=f"lines.{i}.reason")))
    total = sum(s.balance for s, _ in plan)
    limit = config.load().supervisor_writeoff_limit_cents
    if total > limit:
        require_role("supervisor", f"an insurance write-off of {fmt(total)} (over {fmt(limit)})")
    lines = []
    for split, reason in plan:
        lines += ops.write_off([split], split.balance, kind="insurance_writeoff", reason_code=reason.carc or reason.code,
                               group_code=reason.group_code, memo=data["note"] or reason.label)
    if not ops.open_splits(ctx.encounter):
        ops.void_queued_claims(ctx.encounter)
    return {"written_off": total, "lines": lines}


def choices(ctx) -> dict:
    codes = [(str(s.charge_id), f"{s.charge.service_code.code} {s.rank} {fmt(s.balance)}")
             for s in ctx.splits if s.balance > 0 and s.rank != "patient"]
    return {"charge_id": codes, "reason": action_forms.reason_choices("insurance")}


ACTION = Action(
    key="insurance_writeoff",
    title="Insurance Write-Off",
    when="Use this option to write off procedure code(s) that will no longer be paid by the payer.",
    steps=("Allows you to select one or more codes to write off",
           "Choose the write-off reason for each from the list",
           "Write-offs over the configured limit need a supervisor"),
    applies=applies, apply=apply, schema=InsuranceWriteoffForm, order=120, choices=choices,
)


@hookimpl
def claimdesk_advanced_actions():
    """Insurance Write-Off."""
    return [ACTION]
