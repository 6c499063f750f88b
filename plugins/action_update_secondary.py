"""Advanced action: Update Secondary Insurance Info."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk import Action, hookimpl
from claimdesk.core.errors import Refused
from claimdesk.core.models import Coverage, EncounterPayer
from claimdesk.core.validation import Text, date_field
from claimdesk.core.services import encounter_ops as ops

FIELDS = ("member_id", "group_no", "subscriber", "relationship", "effective_from", "effective_to")


class SecondaryInfoForm(Schema):
    """The coverage details to change: a field left out keeps what is on file."""

    member_id = Text(min_length=1, max_length=40, metadata={"label": "Member ID"})
    group_no = Text(max_length=40, metadata={"label": "Group number"})
    subscriber = Text(max_length=80, metadata={"label": "Subscriber"})
    relationship = fields.String(validate=validate.OneOf(["self", "spouse", "child", "other"]),
                                 metadata={"label": "Relationship", "choices": ["self", "spouse", "child", "other"]})
    effective_from = date_field(metadata={"label": "Effective from"})
    effective_to = date_field(metadata={"label": "Effective to"})


def applies(ctx) -> bool:
    slot = ctx.slots.get("secondary")
    return ctx.active and slot is not None and slot.payer.is_insurance


def _on_file(ctx) -> Coverage | None:
    slot = ctx.slots["secondary"]
    return Coverage.get_by_id(slot.coverage_id) if slot.coverage_id else None


def initial(ctx) -> dict:
    """The form starts with the secondary coverage on file."""
    cov = _on_file(ctx)
    return {f: getattr(cov, f) for f in FIELDS} if cov is not None else {}


def apply(ctx, data: dict) -> dict:
    slot = ctx.slots["secondary"]
    changes = {f: data[f] for f in FIELDS if f in data}
    if not changes:
        raise Refused("nothing to change: give at least one coverage detail", field="member_id")
    cov = _on_file(ctx)
    if cov is None:
        if not changes.get("member_id"):
            raise Refused("the secondary has no coverage on file yet: a member ID is needed", field="member_id")
        cov = ops.coverage_for(ctx.encounter, slot.payer, changes)
        EncounterPayer.update(coverage=cov).where(EncounterPayer.id == slot.id).execute()
        before = {}
    else:
        before = {f: getattr(cov, f) for f in FIELDS}
        Coverage.update(**changes).where(Coverage.id == cov.id).execute()
    after = {f: getattr(cov, f) for f in FIELDS} if not before else {**before, **changes}
    return {"coverage_id": cov.id, "payer": slot.payer.name, "before": before, "after": after,
            "changed": sorted(f for f in changes if before.get(f) != changes[f])}


ACTION = Action(
    key="update_secondary_info",
    title="Update Secondary Insurance Info",
    when="Use this option when you need to update the secondary insurance information on a claim.",
    steps=("Opens the current secondary insurance details for editing",
           "Saves the corrected member ID, group, subscriber and dates"),
    applies=applies, apply=apply, schema=SecondaryInfoForm, order=140, offers_queue_removal=False,
    initial=initial,
)


@hookimpl
def claimdesk_advanced_actions():
    """Update Secondary Insurance Info."""
    return [ACTION]
