"""Advanced action: This should be a Medical Insurance claim."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import Action, Id, Refused, confirm_field, hookimpl

CLAIMDESK_API = "1.0"


class MedicalForm(Schema):
    payer_id = Id(load_default=None, allow_none=True,
                  metadata={"label": "Medical primary payer (required when the primary is a workers' comp carrier)"})
    confirm = confirm_field()


def applies(ctx) -> bool:
    return ctx.active and ctx.encounter.claim_type == "workers_comp"


def apply(ctx, data: dict) -> dict:
    primary = ctx.payer("primary")
    if not data.get("payer_id") and primary is not None and primary.kind == "workers_comp":
        raise Refused(f"the primary payer {primary.name} is a workers' comp carrier: choose the medical "
                      f"primary payer that replaces it", field="payer_id")
    out = {"claim_type": "medical"}
    if data.get("payer_id"):
        payer = ctx.ops.payer(data["payer_id"])
        if payer.kind == "workers_comp":
            raise Refused(f"{payer.name} is not a medical insurance payer", field="payer_id")
    ctx.ops.set_claim_type("medical")
    if data.get("payer_id"):
        ctx.ops.void_queued_claims()
        ctx.ops.set_payer("primary", payer.id)
        out["balance_moved"] = ctx.ops.move_balance(ctx.open_splits(), "primary",
                                                    reason=f"now a medical claim for {payer.name}")
        ctx.ops.queue_claim("primary")
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
    choices=lambda ctx: {"payer_id": [(str(p.id), p.name) for p in ctx.insurance_payers()
                                      if p.kind != "workers_comp"]},
)


@hookimpl
def claimdesk_advanced_actions():
    """This should be a Medical Insurance claim."""
    return [ACTION]
