"""Small lookups every service shares: get-or-NotFound, the pseudo payers, ranks."""

from __future__ import annotations

from typing import TypeVar

import peewee

from claimdesk.core.errors import InputError, NotFound
from claimdesk.core.models import INACTIVE_PAYER, PATIENT_PAYER, RANKS, Payer
from claimdesk.core.validation import load

M = TypeVar("M", bound=peewee.Model)

LABELS = {"encounter": "encounter", "patient": "patient", "payer": "payer", "voucher": "voucher",
          "credit": "credit", "charge": "charge", "provider": "provider"}


def get(model: type[M], ident, what: str, *, field: str | None = None, for_update: bool = False) -> M:
    """Fetch ``model`` by id or raise :class:`NotFound` naming ``what``.

    ``for_update`` locks the row on PostgreSQL (SQLite already holds the write lock).
    """
    from claimdesk.core.validation import MAX_ID

    try:
        key = int(ident)
    except (TypeError, ValueError):
        raise NotFound(f"{what} id must be a number, got {ident!r}", field=field) from None
    if not 1 <= key <= MAX_ID:  # (beyond the engines' integers: no such row, never an overflow)
        raise NotFound(f"no {what} with id {key}", field=field)
    query = model.select().where(model.id == key)
    if for_update:
        from claimdesk.core import db

        if db.is_postgres():
            query = query.for_update()
    obj = query.first()
    if obj is None:
        raise NotFound(f"no {what} with id {key}", field=field)
    return obj


def next_rank(rank: str) -> str | None:
    """The rank after ``rank`` (primary -> secondary -> tertiary -> patient)."""
    i = RANKS.index(rank)
    return RANKS[i + 1] if i + 1 < len(RANKS) else None


def patient_payer() -> Payer:
    """The pseudo payer "Patient" (self-pay placeholder)."""
    return Payer.get(Payer.name == PATIENT_PAYER)


def inactive_payer() -> Payer:
    """The pseudo payer "Inactive Payer" (holds EOBs moved off an invalid payer)."""
    return Payer.get(Payer.name == INACTIVE_PAYER)


def method_details(method, details: dict) -> tuple[dict, str]:
    """A payment- or refund-method plugin's ``details`` checked by its own schema (refusals
    named ``details.<field>``), and the reference they carry (its ``reference_field``: the
    check number, the trace number)."""
    clean = {}
    if method.schema is not None:
        try:
            clean = load(method.schema, details)
        except InputError as exc:
            raise InputError({"details": exc.messages}) from None
    return clean, str(clean.get(method.reference_field, "")) if method.reference_field else ""
