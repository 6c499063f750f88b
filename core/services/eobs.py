"""EOB posting: per charge allowed, paid, adjustments (group + CARC), denial.

:func:`post_eob` is the manual entry of one EOB; the money engine
(:mod:`claimdesk.core.posting.eobs`) posts it, as it posts a whole check of EOBs:

  * paid      -> a credit drawn from the payer's voucher, applied to the split;
  * CO/OA/PI  -> adjusted off (contractual; never billed to the patient);
  * PR        -> moved to the next responsible rank (secondary, tertiary, patient);
  * denied    -> the split keeps its balance, flagged denied; the encounter goes to
                 the Denied queue;
  * a split reaching zero queues the next insurer's claim.
An insurance payment larger than its split first pulls responsibility back from the
later ranks (patient first), as SOS does.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from peewee import JOIN

from claimdesk.core import workflow
from claimdesk.core.errors import NotFound, Refused
from claimdesk.core.models import Encounter, EncounterPayer, Eob, Payer, Voucher
from claimdesk.core.prepared import Prepared
from claimdesk.core.posting import eobs as posting_eobs
from claimdesk.core.validation import Id, Money, Text, business_date_field, load
from claimdesk.core.services.common import get

GROUP_CODES = ("CO", "PR", "OA", "PI")


class AdjustmentInput(Schema):
    group_code = fields.String(required=True, validate=validate.OneOf(GROUP_CODES))
    reason_code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z0-9]{1,5}\Z",
                                error="must be a CARC code like 45 or B7"))
    amount = Money(required=True, positive=True)


class LineInput(Schema):
    charge_id = Id(required=True)
    allowed = Money(load_default=0)
    paid = Money(load_default=0)
    denied = fields.Boolean(load_default=False)
    denial_code = Text(max_length=10, load_default="")
    adjustments = fields.List(fields.Nested(AdjustmentInput), load_default=list)


class EobInput(Schema):
    encounter_id = Id(required=True)
    payer_id = Id(required=True)
    voucher_id = Id(load_default=None, allow_none=True)
    received_on = business_date_field(load_default=None)
    claim_ref = Text(max_length=40, load_default="")
    lines = fields.List(fields.Nested(LineInput), required=True, validate=validate.Length(min=1))


#: An EOB's encounter (its patient), its payer (its name) and the rank that payer holds on the
#: encounter's payer list (the first, should it hold two), in one read: no row, no encounter.
_SLOT = Prepared(lambda encounter_id, payer_id: (
    Encounter.select(Encounter.patient, Payer.name, EncounterPayer.rank)
    .join(Payer, JOIN.LEFT_OUTER, on=(Payer.id == payer_id))
    .switch(Encounter)
    .join(EncounterPayer, JOIN.LEFT_OUTER, on=((EncounterPayer.encounter == Encounter.id)
                                                & (EncounterPayer.payer == payer_id)))
    .where(Encounter.id == encounter_id).order_by(EncounterPayer.rank).limit(1).tuples()))


def eob_slot(encounter_id: int, payer_id: int) -> tuple[int, str]:
    """``(patient id, rank)`` of an EOB from ``payer_id`` on ``encounter_id``: refused, naming
    the field, when there is no such encounter or payer or the payer is not on its payer list."""
    row = _SLOT.first(encounter_id, payer_id)
    if row is None:
        raise NotFound(f"no encounter with id {encounter_id}", field="encounter_id")
    patient_id, payer_name, rank = row
    if payer_name is None:
        raise NotFound(f"no payer with id {payer_id}", field="payer_id")
    if rank is None:
        raise Refused(f"payer {payer_name!r} is not on encounter {encounter_id}'s payer list", field="payer_id")
    return patient_id, rank


def post_lines(eob: Eob, encounter: Encounter, payer: Payer, rank: str, lines: list[dict],
               voucher: Voucher | None) -> dict:
    """Post the lines of an EOB row already made (inside a transaction); its totals and changes
    (:func:`claimdesk.core.posting.eobs.post_eobs` for one EOB)."""
    return posting_eobs.post_eobs(payer.id, voucher, [posting_eobs.EobToPost(
        encounter.id, encounter.patient_id, rank, lines, eob_id=eob.id)])[0]


def post_eob(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: post one EOB for an encounter (manual entry)."""
    clean = load(EobInput, data)

    def body():
        encounter_id, payer_id = clean["encounter_id"], clean["payer_id"]
        patient_id, rank = eob_slot(encounter_id, payer_id)
        voucher = (get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
                   if clean["voucher_id"] else None)
        (result,) = posting_eobs.post_eobs(payer_id, voucher, [posting_eobs.EobToPost(
            encounter_id, patient_id, rank, clean["lines"], clean["claim_ref"], clean["received_on"])])
        return {**result, "encounter_id": encounter_id, "patient_id": patient_id, "rank": rank}

    return workflow.run("eob.post", body, inputs=clean, encounter_id=clean["encounter_id"],
                        idempotency_key=idempotency_key)
