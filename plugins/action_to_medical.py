"""Advanced action: This should be a Medical Insurance claim."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk import Action, hookimpl
from claimdesk.core.errors import Refused
from claimdesk.core.models import Encounter, Payer
from claimdesk.core.validation import Id
from claimdesk.core.services import action_forms, encounter_ops as ops
from claimdesk.core.services.common import get


class MedicalForm(Schema):
    payer_id = Id(load_default=None, allow_none=True,
                  metadata={"label": "Medical primary payer (required when the primary is a workers' comp carrier)"})
    confirm = action_forms.confirm_field()


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.claim_type == "workers_comp"


def apply(ctx, data: dict) -> dict:
    enc = ctx.encounter
    primary = ctx.payer("primary")
    if not data.get("payer_id") and primary is not None and primary.kind == "workers_comp":
        raise Refused(f"the primary payer {primary.name} is a workers' comp carrier: choose the medical "
                      f"primary payer that replaces it", field="payer_id")
    Encounter.update(claim_type="medical").where(Encounter.id == enc.id).execute()
    out = {"claim_type": "medical"}
    if data.get("payer_id"):
        payer = get(Payer, data["payer_id"], "payer", field="payer_id")
        if not payer.is_insurance or payer.kind == "workers_comp":
            raise Refused(f"{payer.name} is not a medical insurance payer", field="payer_id")
        ops.void_queued_claims(enc)
        ops.set_slot(enc, "primary", payer)
        out["balance_moved"] = ops.move_balance(ops.open_splits(enc), "primary", payer,
                                                reason=f"now a medical claim for {payer.name}")
        ops.queue_claim(enc, "primary")
        out["primary_payer"] = payer.name
    return out


ACTION = Action(
    key="to_medical",
    title="This should be a Medical Insurance claim",
    when="Use this option when a claim needs to be converted to medical insurance claim.",
    steps=("After you confirm, changes the claim type to medical insurance claim",
           "Replaces a workers' comp carrier in the primary slot with the medical primary payer you choose "
           "(required then) and queues its claim"),
    applies=applies, apply=apply, schema=MedicalForm, order=160,
    choices=lambda ctx: {"payer_id": [c for c in action_forms.insurance_payer_choices()
                                      if Payer.get_by_id(int(c[0])).kind != "workers_comp"]},
)


@hookimpl
def claimdesk_advanced_actions():
    """This should be a Medical Insurance claim."""
    return [ACTION]
