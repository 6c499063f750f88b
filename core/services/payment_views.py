"""Read models about money coming in (CLI and TUI): payers, vouchers, open charges, fee choices.

Plain dicts, amounts in integer cents; nothing here writes. Every voucher row has
one shape (``voucher_row``) whichever list it comes from.
"""

from __future__ import annotations

from peewee import fn

from claimdesk.core import db
from claimdesk.core.errors import InputError
from claimdesk.core.models import Payer, Provider, ServiceCode, Voucher
from claimdesk.core.money import MoneyError, to_cents
from claimdesk.core.validation import typed_id
from claimdesk.core.services import balances, payments
from claimdesk.core.services.common import get
from claimdesk.core.services.views import iso


# --- payers ---------------------------------------------------------------------------
def paying_payers() -> list[dict]:
    """Payers that can send money (every payer but the Inactive Payer), the pseudo payer Patient
    first, then by name."""
    payers = Payer.select().where(Payer.kind != "inactive")
    return [{"id": p.id, "name": p.name, "kind": p.kind}
            for p in payers.order_by(Payer.kind != "patient", *db.name_order(Payer.name), Payer.id)]


# --- vouchers ---------------------------------------------------------------------------
def voucher_row(v: Voucher, undistributed: int, payer_name: str | None = None) -> dict:
    """One voucher as the lists show it (``v.payer`` is read unless ``payer_name`` is given,
    so select it joined)."""
    return {"voucher_id": v.id, "payer_id": v.payer_id, "payer": v.payer.name if payer_name is None else payer_name, "method": v.method,
            "reference": v.reference, "received_on": iso(v.received_on), "amount": v.amount,
            "undistributed": undistributed, "status": v.status}


#: How many vouchers a list shows unless asked for another limit.
VOUCHER_LIMIT = 200


def _vouchers_of(payer_id):
    q = Voucher.select(Voucher, Payer).join(Payer)
    if payer_id is not None:
        payer = get(Payer, payer_id, "payer", field="payer_id")
        q = q.where(Voucher.payer == payer.id)
    return q


def voucher_list(payer_id=None, limit: int = VOUCHER_LIMIT) -> list[dict]:
    """Vouchers of any status newest first (optionally one payer's), each with its undistributed
    money derived from the postings; at most ``limit`` (see :func:`voucher_listing`)."""
    q = _vouchers_of(payer_id)
    return [voucher_row(v, balances.voucher_undistributed(v.id))
            for v in q.order_by(Voucher.received_on.desc(), Voucher.id.desc()).limit(limit)]


def voucher_listing(payer_id=None, *, open_only: bool = False, limit: int = VOUCHER_LIMIT) -> dict:
    """A voucher list that says when it was cut: ``{"vouchers": [...], "shown": n,
    "total": N, "truncated": N > n}``.

    ``open_only``: only vouchers that still have undistributed money and were not
    returned, with the remaining amount, oldest first (:func:`payer_vouchers`, the
    order the money is distributed in); otherwise every voucher newest first
    (:func:`voucher_list`).
    """
    if limit < 1:
        raise InputError({"limit": ["must be at least 1"]})
    if open_only:
        payer = get(Payer, payer_id, "payer", field="payer_id") if payer_id is not None else None
        rows = payer_vouchers(payer.id if payer else None)
        total, rows = len(rows), rows[:limit]
    else:
        total = _vouchers_of(payer_id).count()
        rows = voucher_list(payer_id, limit)
    return {"vouchers": rows, "shown": len(rows), "total": total, "truncated": total > len(rows)}


#: How many rows a searchable voucher list returns unless asked for another limit.
SEARCH_LIMIT = 300


def _matching(word: str):
    """SQL condition: a voucher matching one typed word (its #number, check number or reference,
    payer, method, or an amount: what it was for or what is left on it)."""
    has = db.contains_text
    cond = has(Payer.name, word) | has(Voucher.reference, word) | has(Voucher.method, word)
    number = typed_id(word.lstrip("#"))
    if number is not None:
        cond |= Voucher.id == number
    try:
        cents = to_cents(word)
    except MoneyError:
        return cond
    return cond | (Voucher.amount == cents) | (Voucher.undistributed == cents)


def voucher_search(search: str = "", *, include_used: bool = False, payer_id: int | None = None,
                   method: str | None = None, oldest_first: bool = False, limit: int = SEARCH_LIMIT) -> dict:
    """Active vouchers that still hold undistributed money (every active one with
    ``include_used``), optionally one payer's or one method's, matching every word of ``search``
    (see :func:`_matching`); newest first, or ``oldest_first`` (the order money is distributed
    in). At most ``limit`` rows, found in SQL however many vouchers there are:
    ``{"rows", "total" (matching), "undistributed" (their sum, cents), "listed" (before the search)}``."""
    q = (Voucher.select(Voucher, Payer).join(Payer, on=(Voucher.payer == Payer.id))
         .where(Voucher.status == "active"))
    if not include_used:
        q = q.where(Voucher.undistributed > 0)
    if payer_id is not None:
        q = q.where(Voucher.payer == payer_id)
    if method:
        q = q.where(Voucher.method == method)
    words = (search or "").split()
    listed = q.count() if words else None
    for word in words:
        q = q.where(_matching(word))
    total, money = q.select(fn.COUNT(Voucher.id), fn.COALESCE(fn.SUM(Voucher.undistributed), 0)).scalar(as_tuple=True)
    order = ((Voucher.received_on, Voucher.id) if oldest_first
             else (Voucher.received_on.desc(), Voucher.id.desc()))
    rows = [voucher_row(v, v.undistributed) for v in q.order_by(*order).limit(max(1, int(limit)))]
    return {"rows": rows, "total": int(total), "undistributed": int(money),
            "listed": int(total) if listed is None else listed}


def active_vouchers(include_used: bool = False, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Active vouchers newest first, at most ``limit``: those still holding undistributed money,
    or with ``include_used`` every active one."""
    return voucher_search(include_used=include_used, limit=limit)["rows"]


def payer_vouchers(payer_id: int | None, method: str | None = None, limit: int | None = None) -> list[dict]:
    """The payer's vouchers with undistributed money, not returned (SOS's "undistributed
    checks"), oldest first; every payer's with ``payer_id`` None; only those of ``method``
    when given; at most ``limit`` (all without one)."""
    return voucher_search(payer_id=payer_id, method=method, oldest_first=True,
                          limit=limit or 2**31)["rows"]


# --- charges a payment may pay -----------------------------------------------------------
def open_charges(patient_id: int, payer_id: int) -> list[dict]:
    """Open charge balances the payer is responsible for on the patient, oldest first
    (core ``open_splits_for``)."""
    splits = payments.open_splits_for(patient_id, payer_id)
    codes = dict(ServiceCode.select(ServiceCode.id, ServiceCode.code)
                 .where(ServiceCode.id.in_({s.charge.service_code_id for s in splits})).tuples()) if splits else {}
    return [{"charge_id": s.charge.id, "encounter_id": s.charge.encounter_id, "dos": s.charge.dos.isoformat(),
             "code": codes[s.charge.service_code_id], "rank": s.rank, "balance": s.balance} for s in splits]


def fee_choices() -> dict:
    """Choices for the fee-charge fields of fee policies: providers and service codes, as
    (value, label) pairs."""
    provs = Provider.by_name(Provider.kind.desc())
    codes = ServiceCode.select().order_by(ServiceCode.kind.desc(), ServiceCode.code)
    return {"provider_id": [(str(p.id), f"{p.name} ({p.kind})") for p in provs],
            "service_code": [(c.code, c.code if c.description in ("", c.code) else f"{c.code} {c.description}")
                             for c in codes]}
