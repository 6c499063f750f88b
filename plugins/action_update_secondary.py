"""Advanced action: Update Secondary Insurance Info."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk import Action, hookimpl
from claimdesk.core.models import Coverage, EncounterPayer
from claimdesk.core.schemas import Text, date_field
from claimdesk.core.services import encounter_ops as ops

FIELDS = ("member_id", "group_no", "subscriber", "relationship", "effective_from", "effective_to")


class SecondaryInfoForm(Schema):
    member_id = Text(required=True, min_length=1, max_length=40, metadata={"label": "Member ID"})
    group_no = Text(max_length=40, load_default="", metadata={"label": "Group number"})
    subscriber = Text(max_length=80, load_default="", metadata={"label": "Subscriber"})
    relationship = fields.String(load_default="self", validate=validate.OneOf(["self", "spouse", "child", "other"]),
                                 metadata={"label": "Relationship", "choices": ["self", "spouse", "child", "other"]})
    effective_from = date_field(load_default=None, metadata={"label": "Effective from"})
    effective_to = date_field(load_default=None, metadata={"label": "Effective to"})


def applies(ctx) -> bool:
    slot = ctx.slots.get("secondary")
    return ctx.active and slot is not None and slot.payer.is_insurance


def apply(ctx, data: dict) -> dict:
    slot = ctx.slots["secondary"]
    before = {}
    if slot.coverage_id:
        cov = Coverage.get_by_id(slot.coverage_id)
        before = {f: getattr(cov, f) for f in FIELDS}
        Coverage.update(**{f: data[f] for f in FIELDS}).where(Coverage.id == cov.id).execute()
    else:
        cov = ops.coverage_for(ctx.encounter, slot.payer, data)
        EncounterPayer.update(coverage=cov).where(EncounterPayer.id == slot.id).execute()
    return {"coverage_id": cov.id, "payer": slot.payer.name, "before": before,
            "after": {f: data[f] for f in FIELDS}}


ACTION = Action(
    key="update_secondary_info",
    title="Update Secondary Insurance Info",
    when="Use this option when you need to update the secondary insurance information on a claim.",
    steps=("Opens the current secondary insurance details for editing",
           "Saves the corrected member ID, group, subscriber and dates"),
    applies=applies, apply=apply, schema=SecondaryInfoForm, order=140, offers_queue_removal=False,
)


@hookimpl
def claimdesk_advanced_actions():
    """Update Secondary Insurance Info."""
    return [ACTION]
