"""Advanced action: "None of the options above" — send a message to the administrator."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import Action, Text, hookimpl

CLAIMDESK_API = "1.0"


class MessageInput(Schema):
    subject = Text(required=True, min_length=1, max_length=120, metadata={"label": "Subject"})
    note = Text(required=True, min_length=1, max_length=4000,
                metadata={"label": "Message", "help": "Details or questions about the case"})


def _apply(ctx, data: dict) -> dict:
    msg_id = ctx.ops.message_admin(data["subject"], data["note"])
    return {"message_id": msg_id, "summary": f"message {msg_id} sent to the administrator"}


ACTION = Action(
    key="none_of_the_above",
    title="None of the options above",
    when="Use this option when you have a question or when the existing options do not fully "
         "address the situation.",
    steps=("Allows you to send a message directly to the admin with details or questions about the case",),
    applies=lambda ctx: True,
    apply=_apply,
    schema=MessageInput,
    order=9000,
    offers_queue_removal=False,
    repeatable=False,
    always_offered=True,
    keywords=("question", "help", "message admin"),
)


@hookimpl
def claimdesk_advanced_actions():
    """The "None of the options above" action."""
    return [ACTION]
