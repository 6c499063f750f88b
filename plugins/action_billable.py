"""Advanced action: This claim is billable — revert a non-billable claim.

Reverses the NONBILLABLE write-offs (linked reversing entries), so the balances
come back exactly as they were, and removes the tag.
"""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core import ledger
from claimdesk.core.context import current_user
from claimdesk.core.models import Encounter, JournalEntry
from claimdesk.core.services import action_forms

TAG = "Non-Billable"


def applies(ctx) -> bool:
    return ctx.active and not ctx.encounter.billable


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    reversed_ids = JournalEntry.select(JournalEntry.reverses).where(JournalEntry.reverses.is_null(False))
    entries = JournalEntry.select().where((JournalEntry.encounter == enc.id) & (JournalEntry.kind == "non_billable")
                                          & JournalEntry.id.not_in(reversed_ids))
    restored = 0
    for entry in entries:
        rev = ledger.reverse(entry, memo=data.get("reason") or "claim is billable again", user=current_user())
        restored += sum(p.amount for p in rev.postings if p.account == "AR")
    tags = [t for t in enc.tag_list() if t != TAG]
    Encounter.update(billable=True, tags=",".join(tags)).where(Encounter.id == enc.id).execute()
    return {"billable": True, "balance_restored": restored, "tags": tags}


ACTION = Action(
    key="billable",
    title="This claim is billable",
    when="Use this option to mark a non-billable claim as billable.",
    steps=("The non-billable claim will be reverted to a normal, billable claim",
           "Patient balance will be updated (the non-billable write-off is reversed)"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=180,
)


@hookimpl
def claimdesk_advanced_actions():
    """This claim is billable."""
    return [ACTION]
