"""Returned (bounced) checks: unwind every credit and split paid from a voucher.

Flagging a voucher returned reverses, newest first, every journal entry that
touched its money (receipt, draws, applications, remainders), so each credit and
credit split goes to zero, the patients' and payer's balances rise by exactly
what was reversed, and each patient's ledger shows the reason. A patient's balance
rises by what the check paid on their charges (AR) plus the check's money that sat
unapplied on their account (now gone); the result reports both and the net.

Money taken back can make a later insurer's claim premature: the earlier insurer owes again,
so a secondary (tertiary) claim queued because that insurer had been paid comes off the
queue (voided), and one already sent puts its encounter on the Review queue with an admin
message saying why (the payer has a claim for money the clinic must first collect again).

A fee policy plugin may add a returned-check fee charge on today's daysheet, to a
patient the check paid (the seed's fee belongs to the bounced payment; nothing in
it allows billing a patient the check never paid).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, db, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import (
    Claim, Credit, Encounter, JournalEntry, Patient, Payer, Posting, Provider, ServiceCode, Voucher, WorkQueue,
)
from claimdesk.core.posting import next_claims
from claimdesk.core.plugins.host import get_host
from claimdesk.core.validation import Id, Text, load
from claimdesk.core.services import billing, messages
from claimdesk.core.services.common import get


class ReturnInput(Schema):
    voucher_id = Id(required=True)
    reason = Text(required=True, min_length=1, max_length=200)
    fee_policy = fields.String(load_default="none", validate=validate.Length(min=1, max=40))
    fee = fields.Dict(load_default=dict)
    patient_id = Id(load_default=None, allow_none=True)


def entries_of(voucher: Voucher) -> list[int]:
    """Ids of the entries that moved this voucher's money and are not yet reversed, newest first."""
    touched = Posting.select(Posting.entry).where(Posting.voucher == voucher.id).distinct()
    reversed_ids = JournalEntry.select(JournalEntry.reverses).where(JournalEntry.reverses.is_null(False))
    return [e for (e,) in JournalEntry.select(JournalEntry.id).where(
        JournalEntry.id.in_(touched) & JournalEntry.reverses.is_null(True)
        & JournalEntry.id.not_in(reversed_ids)).order_by(JournalEntry.id.desc()).tuples()]


def _reversed_by_patient(entry_ids: list[int]) -> dict[int, dict[str, int]]:
    """patient id -> ``{"ar": cents their charges owe more, "unapplied": cents of their
    unapplied money removed}`` once ``entry_ids`` are reversed (both signed so that + raises
    the patient's net balance, which is AR minus unapplied money)."""
    out: dict[int, dict[str, int]] = {}
    for start in range(0, len(entry_ids), 2000):
        chunk = entry_ids[start:start + 2000]
        among, params = db.ids_in(chunk)
        rows = db.sql(f"SELECT patient_id, account, SUM(amount) FROM posting WHERE entry_id {among} "
                      "AND account IN ('AR', 'UNAPPLIED') AND patient_id IS NOT NULL "
                      "GROUP BY patient_id, account", params)
        for pid, account, total in rows:
            # AR: the entries lowered it by -total. UNAPPLIED: -total is the money they left
            # on the patient's credits (drawn minus applied minus sent back).
            key = "ar" if account == "AR" else "unapplied"
            slot = out.setdefault(pid, {"ar": 0, "unapplied": 0})
            slot[key] -= int(total)
    return out


def _encounters_paid(entry_ids: list[int]) -> list[int]:
    """The encounters whose charges ``entry_ids`` moved money on."""
    found: set[int] = set()
    for start in range(0, len(entry_ids), 2000):
        among, params = db.ids_in(entry_ids[start:start + 2000])
        found.update(r[0] for r in db.sql(
            "SELECT DISTINCT c.encounter_id FROM posting p JOIN charge c ON c.id = p.charge_id"
            f" WHERE p.entry_id {among}", params))
    return sorted(found)


def withdraw_premature_claims(encounter_ids: list[int], title: str, why: str) -> dict:
    """Take the later insurers' claims that money taken back made premature off the queue
    (void), and put the encounters of those already sent on the Review queue, each with an
    admin message headed ``title`` saying ``why`` (what took the money back, after "sent on
    DATE, "); what was done (claim ids voided, encounter ids sent to review)."""
    premature = next_claims.no_longer_due(encounter_ids)
    voided = [cid for cid, status in premature if status == "queued"]
    if voided:
        Claim.update(status="void").where(Claim.id.in_(voided)).execute()
    sent = [Claim.get_by_id(cid) for cid, status in premature if status == "sent"]
    review = WorkQueue.get(WorkQueue.key == "review")
    for claim in sent:
        encounter = Encounter.get_by_id(claim.encounter_id)
        Encounter.update(queue=review.id).where(Encounter.id == encounter.id).execute()
        payer = Payer.get_by_id(claim.payer_id)
        messages.send(encounter, f"{claim.rank.capitalize()} claim {title}",
                      f"The {claim.rank} claim to {payer.name} (claim {claim.id}) was sent on "
                      f"{claim.sent_at:%Y-%m-%d}, {why}, so the earlier insurer owes again: ask "
                      f"{payer.name} to hold or void the claim until the earlier insurer pays.")
    return {"claims_voided": voided, "encounters_to_review": sorted({c.encounter_id for c in sent})}


def _fee_policy(key: str, data: dict):
    policy = get_host().get("claimdesk_fee_policies", key)
    if policy is None:
        known = ", ".join(p.key for p in get_host().fee_policies())
        raise InputError({"fee_policy": [f"unknown fee policy {key!r} (known: {known})"]})
    try:
        clean = load(policy.schema, data) if policy.schema is not None else {}
    except InputError as exc:
        raise InputError({"fee": exc.messages}) from None
    return policy, clean


def _charge_fee(patient: Patient, fee: int, data: dict, voucher: Voucher) -> int:
    code = ServiceCode.get_or_none(ServiceCode.code == data.get("service_code"))
    if code is None:
        raise InputError({"fee.service_code": [f"unknown service code {data.get('service_code')!r}"]})
    provider = get(Provider, data.get("provider_id"), "provider", field="fee.provider_id")
    encounter = billing.create_encounter(patient=patient, provider=provider, dos=clock.today())
    charge = billing.add_charge(encounter, code, fee=fee, provider=provider, kind="returned_check_fee",
                                memo=f"returned check fee, voucher {voucher.id}")
    return charge.id


def _fee_patient(voucher: Voucher, patients: list[int], chosen: int | None, fee: int) -> Patient | None:
    """The patient a returned-check fee is charged to: one the check paid (a credit drawn
    from it). ``chosen`` must be one of them; without it, the only one. None without a fee."""
    if chosen is not None and chosen not in patients:
        get(Patient, chosen, "patient", field="patient_id")  # an unknown id says so first
        paid = ", ".join(map(str, patients)) if patients else "no patient"
        raise Refused(f"voucher {voucher.id} never paid patient {chosen}'s account (it paid {paid}); "
                      "the returned-check fee goes to a patient the check paid", field="patient_id")
    if not fee:
        return None
    if chosen is None:
        if not patients:
            raise Refused(f"voucher {voucher.id} paid no patient account; there is no patient to charge "
                          "the returned-check fee to (return it with fee policy none)", field="patient_id")
        if len(patients) > 1:
            raise InputError({"patient_id": ["choose the patient to charge the returned-check fee to "
                                             f"(voucher {voucher.id} paid {', '.join(map(str, patients))})"]})
        chosen = patients[0]
    return get(Patient, chosen, "patient", field="patient_id")


def return_check(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: flag a voucher returned, reverse what it paid, maybe charge a fee."""
    clean = load(ReturnInput, data)
    policy, fee_data = _fee_policy(clean["fee_policy"], clean["fee"])

    def body():
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
        if voucher.status == "returned":
            raise Refused(f"voucher {voucher.id} was already returned on {voucher.returned_on}",
                          field="voucher_id")
        from claimdesk.core.services.refunds import refuse_return_with_refunds

        refuse_return_with_refunds(voucher.id)
        credits = list(Credit.select(Credit.id, Credit.patient).where(Credit.voucher == voucher.id).tuples())
        patients = sorted({pid for _, pid in credits})
        fee = policy.fee_cents(voucher.amount, fee_data)
        fee_patient = _fee_patient(voucher, patients, clean["patient_id"], fee)
        memo = f"returned check (voucher {voucher.id}): {clean['reason']}"
        entries = entries_of(voucher)
        by_patient = _reversed_by_patient(entries)
        ledger.reverse_many(entries, memo=memo, user=current_user())
        withdrawn = withdraw_premature_claims(
            _encounters_paid(entries), "sent before a returned check",
            f"after the earlier insurer's payment on voucher {voucher.id}. That check was returned "
            f"({clean['reason']})")
        Voucher.update(status="returned", returned_on=clock.today(), return_reason=clean["reason"]).where(
            Voucher.id == voucher.id).execute()
        fee_charge = _charge_fee(fee_patient, fee, fee_data, voucher) if fee else None
        moved = {str(pid): v for pid, v in sorted(by_patient.items()) if v["ar"] or v["unapplied"]}
        return {"voucher_id": voucher.id, "payer_id": voucher.payer_id, "returned_amount": voucher.amount,
                "credits_zeroed": [cid for cid, _ in credits], "patients": patients,
                # net: what each patient's balance (AR minus unapplied money) rose by
                "balance_increase_by_patient": {pid: v["ar"] + v["unapplied"] for pid, v in moved.items()},
                "ar_increase_by_patient": {pid: v["ar"] for pid, v in moved.items()},
                "unapplied_removed_by_patient": {pid: v["unapplied"] for pid, v in moved.items()},
                "fee": fee, "fee_charge_id": fee_charge, **withdrawn}

    return workflow.run("check.return", body, inputs={**clean, "fee": fee_data},
                        reason=clean["reason"], idempotency_key=idempotency_key)


def preview_return(data: dict) -> dict:
    """What :func:`return_check` would do with ``data`` (the same checks, the same reversals,
    the fee), with nothing written: every field is checked before the clerk is asked to
    confirm, and the confirmation can say what will happen. Refuses exactly as the return."""
    return db.rolled_back(return_check, data)
