"""Read models about money coming in (CLI and TUI): payers, vouchers, open charges, fee choices.

Plain dicts, amounts in integer cents; nothing here writes. Every voucher row has
one shape (``voucher_row``) whichever list it comes from.
"""

from __future__ import annotations

from claimdesk.core.models import Payer, Provider, ServiceCode, Voucher
from claimdesk.core.services import balances, payments
from claimdesk.core.services.common import get
from claimdesk.core.services.views import iso


# --- payers ---------------------------------------------------------------------------
def paying_payers() -> list[dict]:
    """Payers that can send money (every payer but the Inactive Payer), the pseudo payer Patient
    first, then by name."""
    rows = [{"id": p.id, "name": p.name, "kind": p.kind}
            for p in Payer.select().where(Payer.kind != "inactive").order_by(Payer.name)]
    return sorted(rows, key=lambda p: (p["kind"] != "patient", p["name"]))


# --- vouchers ---------------------------------------------------------------------------
def voucher_row(v: Voucher, undistributed: int) -> dict:
    """One voucher as the lists show it (``v.payer`` is read, so select it joined)."""
    return {"voucher_id": v.id, "payer_id": v.payer_id, "payer": v.payer.name, "method": v.method,
            "reference": v.reference, "received_on": iso(v.received_on), "amount": v.amount,
            "undistributed": undistributed, "status": v.status}


def voucher_list(payer_id=None, limit: int = 200) -> list[dict]:
    """Vouchers of any status newest first (optionally one payer's), each with its undistributed
    money derived from the postings."""
    q = Voucher.select(Voucher, Payer).join(Payer)
    if payer_id is not None:
        payer = get(Payer, payer_id, "payer", field="payer_id")
        q = q.where(Voucher.payer == payer.id)
    return [voucher_row(v, balances.voucher_undistributed(v.id))
            for v in q.order_by(Voucher.received_on.desc(), Voucher.id.desc()).limit(limit)]


def active_vouchers(include_used: bool = False) -> list[dict]:
    """Active vouchers newest first: those still holding undistributed money, or with
    ``include_used`` every active one (the payer-checks list)."""
    q = (Voucher.select(Voucher, Payer).join(Payer, on=(Voucher.payer == Payer.id))
         .where(Voucher.status == "active"))
    if not include_used:
        q = q.where(Voucher.undistributed > 0)
    return [voucher_row(v, v.undistributed) for v in q.order_by(Voucher.received_on.desc(), Voucher.id.desc())]


def payer_vouchers(payer_id: int, method: str | None = None) -> list[dict]:
    """The payer's vouchers with undistributed money, oldest first (core ``available_vouchers``),
    only those of ``method`` when given."""
    return [voucher_row(v, v.undistributed) for v in payments.available_vouchers(payer_id)
            if not method or v.method == method]


# --- charges a payment may pay -----------------------------------------------------------
def open_charges(patient_id: int, payer_id: int) -> list[dict]:
    """Open charge balances the payer is responsible for on the patient, oldest first
    (core ``open_splits_for``)."""
    out = []
    for split in payments.open_splits_for(patient_id, payer_id):
        charge = split.charge
        code = ServiceCode.get_by_id(charge.service_code_id)
        out.append({"charge_id": charge.id, "encounter_id": charge.encounter_id, "dos": charge.dos.isoformat(),
                    "code": code.code, "rank": split.rank, "balance": split.balance})
    return out


def fee_choices() -> dict:
    """Choices for the fee-charge fields of fee policies: providers and service codes, as
    (value, label) pairs."""
    provs = Provider.select().order_by(Provider.kind.desc(), Provider.name)
    codes = ServiceCode.select().order_by(ServiceCode.kind.desc(), ServiceCode.code)
    return {"provider_id": [(str(p.id), f"{p.name} ({p.kind})") for p in provs],
            "service_code": [(c.code, c.code if c.description in ("", c.code) else f"{c.code} {c.description}")
                             for c in codes]}
