"""Advanced action: I need to regenerate the patient statement."""

from __future__ import annotations

from claimdesk.api import Action, ConfirmForm, hookimpl

CLAIMDESK_API = "1.0"


def applies(ctx) -> bool:
    stmt = ctx.active_statement
    return stmt is not None and ctx.encounter.id in stmt.encounter_ids


def apply(ctx, data: dict) -> dict:
    return ctx.ops.regenerate_statement(data.get("reason") or "payment data changed")


ACTION = Action(
    key="regenerate_statement",
    title="I need to regenerate the patient statement",
    when="Use this option when an encounter's payment data has changed, typically after a user edits a posted EOB.",
    steps=("Deletes (voids) the original patient statement associated with the encounter",
           "Generates a new statement from the current balances; its notice level (final notice or "
           "dunning message) is worked out again: a payment since the final notice resets it"),
    applies=applies, apply=apply, schema=ConfirmForm, order=90, offers_queue_removal=False,
)


@hookimpl
def claimdesk_advanced_actions():
    """I need to regenerate the patient statement."""
    return [ACTION]
