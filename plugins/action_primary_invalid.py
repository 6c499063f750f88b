"""Advanced action: Primary Payer is Invalid.

Moves the primary payer's EOBs to "Inactive Payer", puts the placeholder payer
"Patient" in the primary slot (remembering the payer it replaced), and posts a
dummy EOB from "Patient" so the balance follows to the next responsible party
(the secondary, whose claim is queued, or the patient). "Add Primary Payer" can
later put a real payer back.
"""

from __future__ import annotations

from claimdesk import Action, hookimpl
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import action_forms, encounter_ops as ops


def applies(ctx) -> bool:
    slot = ctx.slots.get("primary")
    return ctx.active and slot is not None and not slot.placeholder and slot.payer.is_insurance


def apply(ctx, data: dict) -> dict:
    enc, old = ctx.encounter, ctx.payer("primary")
    moved_eobs = ops.move_eobs_to_inactive(enc, old)
    voided = ops.void_queued_claims(enc, rank="primary")
    pseudo = patient_payer()
    ops.set_slot(enc, "primary", pseudo, placeholder=True, replaced_payer=old)
    moved = ops.move_balance(ops.open_splits(enc, "primary"), "primary", pseudo,
                             reason=f"primary payer {old.name} invalid: {data.get('reason') or 'no reason given'}")
    eob = ops.dummy_eob_from_patient(enc, "primary")
    return {"removed_payer": old.name, "eobs_moved_to_inactive": moved_eobs, "claims_voided": voided,
            "balance_moved": moved, "dummy_eob_id": eob.id if eob else None}


ACTION = Action(
    key="primary_invalid",
    title="Primary Payer is Invalid",
    when="Use this option when the primary payer is no longer valid. This typically occurs when a claim "
         "is denied due to inactive or invalid insurance (employment change, lapsed policy, coverage terminated).",
    steps=("Moves the primary payer's EOB(s) to Inactive Payer",
           "Replaces the primary payer with the placeholder payer \"Patient\"",
           "Posts a dummy EOB from \"Patient\" so the balance moves to the secondary payer (its claim is "
           "queued) or to the patient",
           "Add Primary Payer can later put a valid primary back"),
    applies=applies, apply=apply, schema=action_forms.ConfirmForm, order=10,
)


@hookimpl
def claimdesk_advanced_actions():
    """Primary Payer is Invalid."""
    return [ACTION]
