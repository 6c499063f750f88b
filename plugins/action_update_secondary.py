"""Advanced action: Update Secondary Insurance Info."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.api import RELATIONSHIPS, Action, Text, date_field, hookimpl

CLAIMDESK_API = "1.0"


class SecondaryInfoForm(Schema):
    """The coverage details to change: a field left out keeps what is on file."""

    member_id = Text(min_length=1, max_length=40, metadata={"label": "Member ID"})
    group_no = Text(max_length=40, metadata={"label": "Group number"})
    subscriber = Text(max_length=80, metadata={"label": "Subscriber"})
    relationship = fields.String(validate=validate.OneOf(RELATIONSHIPS),
                                 metadata={"label": "Relationship", "choices": RELATIONSHIPS})
    effective_from = date_field(metadata={"label": "Effective from"})
    effective_to = date_field(metadata={"label": "Effective to"})


def applies(ctx) -> bool:
    slot = ctx.slots.get("secondary")
    return ctx.active and slot is not None and slot.payer.is_insurance


def initial(ctx) -> dict:
    """The form starts with the secondary coverage on file."""
    cov = ctx.slots["secondary"].coverage
    return cov.details() if cov is not None else {}


def apply(ctx, data: dict) -> dict:
    return ctx.ops.update_coverage("secondary", data)


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
