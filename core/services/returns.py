"""Returned (bounced) checks: unwind every credit and split paid from a voucher.

Flagging a voucher returned reverses, newest first, every journal entry that
touched its money (receipt, draws, applications, remainders), so each credit and
credit split goes to zero, the patients' and payer's balances rise by exactly
what was reversed, and each patient's ledger shows the reason. A fee policy
plugin may add a returned-check fee charge on today's daysheet.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from peewee import fn

from claimdesk.core import clock, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import (
    Credit, JournalEntry, Patient, Posting, Provider, ServiceCode, Voucher,
)
from claimdesk.core.plugins.host import get_host
from claimdesk.core.schemas import Id, Text, load
from claimdesk.core.services import billing
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
    return [e.id for e in JournalEntry.select(JournalEntry.id).where(
        JournalEntry.id.in_(touched) & JournalEntry.reverses.is_null(True)
        & JournalEntry.id.not_in(reversed_ids)).order_by(JournalEntry.id.desc())]


def _ar_by_patient(entry_ids: list[int]) -> dict[int, int]:
    """patient id -> cents their receivable rises by when ``entry_ids`` are reversed."""
    out: dict[int, int] = {}
    for start in range(0, len(entry_ids), 2000):
        chunk = entry_ids[start:start + 2000]
        rows = (Posting.select(Posting.patient, fn.SUM(Posting.amount))
                .where(Posting.entry.in_(chunk) & (Posting.account == "AR")).group_by(Posting.patient).tuples())
        for pid, total in rows:
            out[pid] = out.get(pid, 0) - int(total)
    return out


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


def return_check(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: flag a voucher returned, reverse what it paid, maybe charge a fee."""
    clean = load(ReturnInput, data)
    policy, fee_data = _fee_policy(clean["fee_policy"], clean["fee"])

    def body():
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
        if voucher.status == "returned":
            raise Refused(f"voucher {voucher.id} was already returned on {voucher.returned_on}",
                          field="voucher_id")
        credits = list(Credit.select(Credit.id, Credit.patient).where(Credit.voucher == voucher.id).tuples())
        patients = sorted({pid for _, pid in credits})
        memo = f"returned check (voucher {voucher.id}): {clean['reason']}"
        entries = entries_of(voucher)
        reversed_by_patient = _ar_by_patient(entries)
        ledger.reverse_many(entries, memo=memo, user=current_user())
        Voucher.update(status="returned", returned_on=clock.today(), return_reason=clean["reason"]).where(
            Voucher.id == voucher.id).execute()
        fee = policy.fee_cents(voucher.amount, fee_data)
        fee_charge = None
        if fee:
            pid = clean["patient_id"] or (patients[0] if len(patients) == 1 else None)
            if pid is None:
                raise InputError({"patient_id": ["choose the patient to charge the returned-check fee to"]})
            fee_charge = _charge_fee(get(Patient, pid, "patient", field="patient_id"), fee, fee_data, voucher)
        return {"voucher_id": voucher.id, "payer_id": voucher.payer_id, "returned_amount": voucher.amount,
                "credits_zeroed": [cid for cid, _ in credits], "patients": patients,
                "balance_increase_by_patient": {str(k): v for k, v in reversed_by_patient.items() if v},
                "fee": fee, "fee_charge_id": fee_charge}

    return workflow.run("check.return", body, inputs={**clean, "fee": fee_data},
                        reason=clean["reason"], idempotency_key=idempotency_key)
