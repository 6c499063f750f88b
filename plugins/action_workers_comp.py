"""Advanced action: This should be a Workers' Comp claim.

After confirmation the current encounter is removed from medical billing (kept, marked
removed, history intact) and re-created as a workers' comp claim billed to the chosen
carrier: each charge's open balance is reclassified off the old charge and charged on the
new one, so every cent stays traceable.
"""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import Action, Id, Refused, Text, confirm_field, hookimpl

CLAIMDESK_API = "1.0"


class WorkersCompForm(Schema):
    carrier_id = Id(required=True, metadata={"label": "Workers' comp carrier"})
    claim_number = Text(max_length=40, load_default="", metadata={"label": "WC claim number"})
    confirm = confirm_field()


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.claim_type == "medical"


def apply(ctx, data: dict) -> dict:
    carrier = ctx.ops.payer(data["carrier_id"], field="carrier_id")
    if carrier.kind != "workers_comp":
        raise Refused(f"{carrier.name} is not a workers' comp carrier", field="carrier_id")
    done = ctx.ops.recreate_as("workers_comp", carrier.id, member_id=data["claim_number"], field="carrier_id")
    return {"removed_encounter": done["removed_encounter"], "new_encounter": done["new_encounter"],
            "carrier": carrier.name, "charges": done["charges"]}


ACTION = Action(
    key="to_workers_comp",
    title="This should be a Workers' Comp claim",
    when="Use this option when a claim needs to be converted to a Workers' Comp claim.",
    steps=("After you confirm, removes the current encounter from medical billing (history kept)",
           "Re-creates it as a workers' comp claim billed to the chosen carrier, with the open balances",
           "Queues the workers' comp claim"),
    applies=applies, apply=apply, schema=WorkersCompForm, order=150, offers_queue_removal=False,
    choices=lambda ctx: {"carrier_id": [(str(p.id), p.name) for p in ctx.insurance_payers("workers_comp")]},
    keywords=("work injury", "wc", "comp"),
)


@hookimpl
def claimdesk_advanced_actions():
    """This should be a Workers' Comp claim."""
    return [ACTION]
