"""EOB posting: per charge allowed, paid, adjustments (group + CARC), denial.

For each line, on the split of the EOB's payer:
  * paid      -> a credit drawn from the payer's voucher, applied to the split;
  * CO/OA/PI  -> adjusted off (contractual; never billed to the patient);
  * PR        -> moved to the next responsible rank (secondary, tertiary, patient);
                 when the split reaches zero that way, the next payer's claim is queued;
  * denied    -> the split keeps its balance, flagged denied; the encounter goes to
                 the Denied queue.
An insurance payment larger than its split first pulls responsibility back from the
later ranks (patient first), as SOS does.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, workflow
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import (
    RANKS, Charge, ChargeSplit, Encounter, Eob, EobAdjustment, EobLine, Payer, Voucher, WorkQueue,
)
from claimdesk.core.money import fmt
from claimdesk.core.validation import Id, Money, Text, date_field, load
from claimdesk.core.services import adjustments, billing, payments
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
    received_on = date_field(load_default=None)
    claim_ref = Text(max_length=40, load_default="")
    lines = fields.List(fields.Nested(LineInput), required=True, validate=validate.Length(min=1))


def rank_of(encounter: Encounter, payer: Payer) -> str:
    """The rank ``payer`` holds on ``encounter``'s payer list."""
    for rank, slot in billing.payer_list(encounter).items():
        if slot.payer_id == payer.id:
            return rank
    raise Refused(f"payer {payer.name!r} is not on encounter {encounter.id}'s payer list", field="payer_id")


def _cover(split: ChargeSplit, needed: int, reason: str) -> None:
    """Pull balance back from later ranks (patient first) until ``split`` covers ``needed``."""
    short = needed - split.balance
    if short <= 0:
        return
    later = [s for s in billing.open_splits(Charge.get_by_id(split.charge_id))
             if RANKS.index(s.rank) > RANKS.index(split.rank)]
    for other in sorted(later, key=lambda s: -RANKS.index(s.rank)):
        take = min(other.balance, short)
        billing.transfer(other, split, take, reason=reason)
        short -= take
        if short == 0:
            return
    raise Refused(f"charge {split.charge_id}: the EOB explains {fmt(needed)} but only "
                  f"{fmt(needed - short)} is open", field="lines")


def post_lines(eob: Eob, encounter: Encounter, payer: Payer, rank: str, lines: list[dict],
               voucher: Voucher | None) -> dict:
    """Post an EOB's lines (inside a transaction); returns totals and queue changes."""
    total_paid = sum(ln["paid"] for ln in lines)
    credit = None
    if total_paid:
        if voucher is None:
            raise InputError({"voucher_id": ["an EOB with payments needs the payer's voucher"]})
        if voucher.payer_id != payer.id:
            raise Refused(f"voucher {voucher.id} is from another payer", field="voucher_id")
        credit = payments.draw(voucher, encounter.patient, total_paid, keep_unapplied=False,
                               memo=f"EOB {eob.id}")
    denied_any = False
    out_lines = []
    for i, ln in enumerate(lines):
        charge = get(Charge, ln["charge_id"], "charge", field=f"lines.{i}.charge_id")
        if charge.encounter_id != encounter.id:
            raise Refused(f"charge {charge.id} is not on encounter {encounter.id}", field=f"lines.{i}.charge_id")
        row = EobLine.create(eob=eob, charge=charge, allowed=ln["allowed"], paid=ln["paid"],
                             denied=ln["denied"], denial_code=ln["denial_code"])
        split = billing.split_for(charge, rank, payer)
        explained = ln["paid"] + sum(a["amount"] for a in ln["adjustments"])
        _cover(split, explained, f"EOB {eob.id}: payer paid more than its split")
        if ln["paid"]:
            payments.apply_to_splits(credit, [(split, ln["paid"])], memo=f"EOB {eob.id} payment")
            split.balance -= ln["paid"]
        for adj in ln["adjustments"]:
            EobAdjustment.create(line=row, **adj)
        for adj in (a for a in ln["adjustments"] if a["group_code"] != "PR"):
            adjustments.adjust(split, adj["amount"], kind="contractual", reason_code=adj["reason_code"],
                               group_code=adj["group_code"], memo=f"EOB {eob.id}")
            split.balance -= adj["amount"]
        for adj in (a for a in ln["adjustments"] if a["group_code"] == "PR"):
            billing.move_to_next(split, adj["amount"], reason=f"EOB {eob.id}: patient responsibility",
                                 reason_code=f"PR-{adj['reason_code']}")
            split = ChargeSplit.get_by_id(split.id)
        if ln["denied"]:
            denied_any = True
            ChargeSplit.update(denied=True, denial_code=ln["denial_code"]).where(
                ChargeSplit.id == split.id).execute()
        out_lines.append({"charge_id": charge.id, "paid": ln["paid"], "split_balance": split.balance,
                          "denied": ln["denied"]})
    if credit is not None:
        payments.settle_remainder(credit)
    if denied_any:
        Encounter.update(queue=WorkQueue.get(WorkQueue.key == "denied")).where(
            Encounter.id == encounter.id).execute()
    return {"eob_id": eob.id, "credit_id": credit.id if credit else None, "paid": total_paid,
            "lines": out_lines, "denied": denied_any}


def post_eob(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: post one EOB for an encounter (manual entry)."""
    clean = load(EobInput, data)

    def body():
        encounter = get(Encounter, clean["encounter_id"], "encounter", field="encounter_id")
        payer = get(Payer, clean["payer_id"], "payer", field="payer_id")
        rank = rank_of(encounter, payer)
        voucher = (get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
                   if clean["voucher_id"] else None)
        eob = Eob.create(encounter=encounter, payer=payer, rank=rank, voucher=voucher,
                         received_on=clean["received_on"] or clock.today(), claim_ref=clean["claim_ref"])
        result = post_lines(eob, encounter, payer, rank, clean["lines"], voucher)
        return {**result, "encounter_id": encounter.id, "patient_id": encounter.patient_id, "rank": rank}

    return workflow.run("eob.post", body, inputs=clean, encounter_id=clean["encounter_id"],
                        idempotency_key=idempotency_key)
