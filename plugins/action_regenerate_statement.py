"""Advanced action: I need to regenerate the patient statement."""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.models import StatementLine
from claimdesk.core.services import action_forms, statements


def applies(ctx) -> bool:
    stmt = statements.active_statement(ctx.patient.id)
    return stmt is not None and StatementLine.select().where(
        (StatementLine.statement == stmt.id) & (StatementLine.encounter == ctx.encounter.id)).exists()


def apply(ctx, data: dict) -> dict:
    old = statements.active_statement(ctx.patient.id)
    new = statements.reissue(ctx.patient, void_reason=data.get("reason") or "payment data changed")
    return {"voided_statement_id": old.id, "statement_id": new.id, "amount_due": new.amount_due,
            "final_notice": new.final_notice}


ACTION = Action(
    key="regenerate_statement",
    title="I need to regenerate the patient statement",
    when="Use this option when an encounter's payment data has changed, typically after a user edits a posted EOB.",
    steps=("Deletes (voids) the original patient statement associated with the encounter",
           "Generates a new statement from the current balances; its notice level (final notice or "
           "dunning message) is worked out again: a payment since the final notice resets it"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=90, offers_queue_removal=False,
)


@hookimpl
def claimdesk_advanced_actions():
    """I need to regenerate the patient statement."""
    return [ACTION]
