"""Adjustments and write-offs of a charge split, each with its reason."""

from __future__ import annotations

from claimdesk.core import clock, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import Adjustment, Charge, ChargeSplit
from claimdesk.core.money import fmt
from claimdesk.core.services import claims

#: Adjustment kinds posted to the CONTRACTUAL account; every other kind is a WRITEOFF.
CONTRACTUAL_KINDS = ("contractual",)


def adjust(split: ChargeSplit, amount: int, *, kind: str, reason_code: str = "",
           group_code: str = "", memo: str = "") -> Adjustment:
    """Take ``amount`` off a split's balance as an adjustment/write-off (one entry)."""
    if amount <= 0:
        raise Refused("an adjustment amount must be more than 0.00", field="amount")
    split = ChargeSplit.get_by_id(split.id)
    if amount > split.balance:
        raise Refused(f"charge {split.charge_id}: {fmt(amount)} is more than the open balance "
                      f"{fmt(split.balance)}", field="amount")
    charge = Charge.get_by_id(split.charge_id)
    account = "CONTRACTUAL" if kind in CONTRACTUAL_KINDS else "WRITEOFF"
    code = f"{group_code}-{reason_code}" if group_code else reason_code
    adj = Adjustment.create(charge=charge, split=split, kind=kind, reason_code=reason_code,
                            group_code=group_code, amount=amount, memo=memo[:200],
                            created_at=clock.now(), created_by=current_user())
    ledger.post(kind, [ledger.on_charge(account, split, amount, code), ledger.ar(split, -amount, code)],
                memo=memo or f"{kind} {code}".strip(), user=current_user(),
                encounter_id=charge.encounter_id, patient_id=charge.patient_id)
    split.balance -= amount
    if split.balance == 0:  # an insurer's split adjusted off: the next insurer's claim goes out
        claims.advance(split)
    return adj
