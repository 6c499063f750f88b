"""Advanced action: This should be a Workers' Comp claim.

After confirmation the current encounter is removed from medical billing (kept,
marked removed, history intact) and re-created as a workers' comp claim billed
to the chosen carrier: each charge's open balance is reclassified off the old
charge and charged on the new one, so every cent stays traceable.
"""

from __future__ import annotations

from marshmallow import Schema

from claimdesk import Action, hookimpl
from claimdesk.core.errors import Refused
from claimdesk.core.models import Encounter, Payer
from claimdesk.core.validation import Id, Text
from claimdesk.core.services import action_forms, billing, encounter_ops as ops
from claimdesk.core.services.common import get


class WorkersCompForm(Schema):
    carrier_id = Id(required=True, metadata={"label": "Workers' comp carrier"})
    claim_number = Text(max_length=40, load_default="", metadata={"label": "WC claim number"})
    confirm = action_forms.confirm_field()


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.claim_type == "medical"


def apply(ctx, data: dict) -> dict:
    old = ctx.encounter
    carrier = get(Payer, data["carrier_id"], "payer", field="carrier_id")
    if carrier.kind != "workers_comp":
        raise Refused(f"{carrier.name} is not a workers' comp carrier", field="carrier_id")
    cov = ops.coverage_for(old, carrier, {"member_id": data["claim_number"]})
    new = billing.create_encounter(patient=ctx.patient, provider=old.provider, dos=old.dos,
                                   payers=[(carrier, cov)], claim_type="workers_comp")
    Encounter.update(replaces=old.id).where(Encounter.id == new.id).execute()
    moved = []
    for charge in ops.charges_of(old):
        open_amount = sum(s.balance for s in ops.open_splits(old) if s.charge_id == charge.id)
        if not open_amount:
            continue
        ops.write_off([s for s in ops.open_splits(old) if s.charge_id == charge.id], open_amount,
                      kind="reclass", reason_code="RECLASS-WC", memo=f"moved to workers' comp encounter {new.id}")
        nc = billing.add_charge(new, charge.service_code, fee=open_amount, units=charge.units,
                                provider=charge.provider, dos=charge.dos,
                                memo=f"from encounter {old.id} charge {charge.id}")
        moved.append({"from_charge": charge.id, "to_charge": nc.id, "amount": open_amount})
    ops.void_queued_claims(old)
    Encounter.update(status="removed", queue=None).where(Encounter.id == old.id).execute()
    ops.queue_claim(new, "primary")
    return {"removed_encounter": old.id, "new_encounter": new.id, "carrier": carrier.name, "charges": moved}


ACTION = Action(
    key="to_workers_comp",
    title="This should be a Workers' Comp claim",
    when="Use this option when a claim needs to be converted to a Workers' Comp claim.",
    steps=("After you confirm, removes the current encounter from medical billing (history kept)",
           "Re-creates it as a workers' comp claim billed to the chosen carrier, with the open balances",
           "Queues the workers' comp claim"),
    applies=applies, apply=apply, schema=WorkersCompForm, order=150, offers_queue_removal=False,
    choices=lambda ctx: {"carrier_id": action_forms.insurance_payer_choices("workers_comp")},
    keywords=("work injury", "wc", "comp"),
)


@hookimpl
def claimdesk_advanced_actions():
    """This should be a Workers' Comp claim."""
    return [ACTION]
