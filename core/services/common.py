"""Small lookups every service shares: get-or-NotFound, the pseudo payers, ranks."""

from __future__ import annotations

import weakref
from typing import TypeVar

import peewee

from claimdesk.core.errors import InputError, NotFound
from claimdesk.core.models import INACTIVE_PAYER, PATIENT_PAYER, RANKS, Payer
from claimdesk.core.prepared import Prepared
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
    from claimdesk.core import db, prepared

    obj = prepared.by_id(model, key, for_update=for_update and db.is_postgres())
    if obj is None:
        raise NotFound(f"no {what} with id {key}", field=field)
    return obj


def next_rank(rank: str) -> str | None:
    """The rank after ``rank`` (primary -> secondary -> tertiary -> patient)."""
    i = RANKS.index(rank)
    return RANKS[i + 1] if i + 1 < len(RANKS) else None


def patient_payer() -> Payer:
    """The pseudo payer "Patient" (self-pay placeholder)."""
    return _named_payer(PATIENT_PAYER)


def inactive_payer() -> Payer:
    """The pseudo payer "Inactive Payer" (holds EOBs moved off an invalid payer)."""
    return _named_payer(INACTIVE_PAYER)


_PAYER_NAMED = Prepared(lambda a: Payer.select().where(Payer.name == a).limit(1))
_PSEUDO: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _named_payer(name: str) -> Payer:
    """The payer called ``name`` (``Payer.DoesNotExist`` when none is), by a prepared query."""
    from claimdesk.core import db

    known = _PSEUDO.setdefault(db.database.obj, {})  # (made by init, never renamed: read once per database)
    payer = known.get(name) or _PAYER_NAMED.first(name)
    if payer is not None:
        known[name] = payer
    if payer is None:
        raise Payer.DoesNotExist(f"no payer called {name!r}")
    return payer


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
