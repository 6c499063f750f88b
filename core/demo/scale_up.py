"""Grow a built demo clinic N-fold with set-based SQL copies of its patient-side rows.

The day-by-day simulation (:mod:`claimdesk.core.demo.simulation`) runs at about 150
charges per CPU second, so a million charges would take hours. A bigger clinic
(``scale`` above 1) is therefore made of ``ceil(scale)`` identical *blocks*: the
base block is simulated at ``scale / ceil(scale)`` (exactly 1 for a whole scale,
between 0.5 and 1 for a fractional one: 2.5 is three blocks of 0.83), then
:func:`replicate` copies it ``ceil(scale) - 1`` times, so the patient count is still
about ``240 * scale``. Whole blocks, because a copy cut along patient lines would
split journal entries, vouchers and claim batches that span several patients; each
block is a complete, balanced clinic. Copies share the reference data, dates and
daysheets; their account numbers carry the block number (``A000017-2``).

:func:`replicate` copies the whole patient-side data set (the base block)
``copies`` times, one ``INSERT INTO t (cols) SELECT ... FROM t WHERE id <= M_t``
per table and copy:

* copy ``k`` gives a row the id ``id + k * M_t`` (``M_t``: the base block's largest
  id in table ``t``), and every foreign key to a copied table ``r`` the value
  ``fk + k * M_r`` (NULL stays NULL), so each copy is an exact, self-contained twin
  of the base block: same amounts, same dates, same cached balances, every journal
  entry balanced, every reversal pointing at its own copy's original;
* foreign keys to the shared reference tables (users, payers, providers, service
  codes, work queues, daysheets, claim batches) are kept as they are;
* the column lists come from the peewee models (:data:`REPLICATED` in creation
  order), nothing is hand-maintained; :func:`check_models` refuses a model nobody
  classified, a copied unique index that copies would collide on, and a shared
  table pointing at a copied one.

Unique columns: ids and foreign keys to copied tables move with the copy, which
covers ``charge_split(charge, rank, payer)``, ``encounter_payer(encounter, rank)``
and ``journal_entry.reverses`` (and ``charge(encounter, control_no)``); ``patient.account_no``
and ``encounter.claim_no`` get the block number as a suffix (``A000017`` -> ``A000017-2`` in
the first copy, ``-3`` in the second...; ``CD1042`` -> ``CD1042-2``).

Not copied: ``audit_event`` (a hash chain; the copy is attributed by one
``demo.replicate`` audit event with the row counts instead) and ``aging_row`` (a
snapshot: the demo builds none; run ``claimdesk aging recalc`` after a replication
if one exists). JSON columns of copied tables hold no ids (``voucher.details`` has
the check number only; ``encounter.tags`` is plain text). Free-text memos that
mention an id (e.g. "unapplied credit 12 applied") are copied word for word and so
name the base block's row.

Each transaction copies a few whole copies (about :data:`ROWS_PER_TRANSACTION`
rows), so an interrupted run leaves whole copies only (and no ``demo.replicate``
event: that is written last); on PostgreSQL every id sequence is moved past the copied ids in the same
transaction, so later inserts get fresh ids. On SQLite the bulk runs with
``synchronous=OFF`` and a bigger page cache (connection settings, restored after).
"""

from __future__ import annotations

import time
from typing import Callable

from peewee import Field, ForeignKeyField, ModelIndex

from claimdesk.core import db, workflow
from claimdesk.core.models import (
    ALL_MODELS, Adjustment, AdminMessage, AgingRow, AuditEvent, Charge, ChargeSplit, Claim, ClaimBatch,
    Coverage, Credit, CreditSplit, Daysheet, Encounter, EncounterPayer, Eob, EobAdjustment, EobLine,
    JournalEntry, Patient, Payer, Posting, Provider, SchemaVersion, ServiceCode, Statement, StatementLine,
    User, Voucher, WorkQueue,
)

#: Patient-side tables copied per block, in creation (foreign key) order.
REPLICATED = (
    Patient, Coverage, Encounter, EncounterPayer, Charge, ChargeSplit, Claim, Voucher, Eob, EobLine,
    EobAdjustment, Credit, CreditSplit, Adjustment, JournalEntry, Posting, AdminMessage, Statement,
    StatementLine,
)
#: Reference tables every block shares (foreign keys to them are kept).
SHARED = (SchemaVersion, User, Payer, Provider, ServiceCode, WorkQueue, Daysheet, ClaimBatch)
#: Tables left out of the copy: the audit hash chain and the aging snapshot.
NOT_COPIED = (AuditEvent, AgingRow)

#: Copied columns rewritten per copy so a unique index stays unique: (model, field) -> SQL.
REWRITES: dict[tuple, Callable[[str, int], str]] = {
    (Patient, "account_no"): lambda col, block: f"{col} || '-{block}'",
    (Encounter, "claim_no"): lambda col, block: f"{col} || '-{block}'",
}

#: Rows copied per transaction (whole copies; at least one copy per transaction).
ROWS_PER_TRANSACTION = 400_000

#: SQLite connection settings for the bulk copy, and the values restored after it.
_SQLITE_BULK = {"synchronous": "OFF", "cache_size": -262_144}


def _shifted(model, field) -> bool:
    """True when copies give ``field`` a new value (the id, or a key to a copied table)."""
    if field is model._meta.primary_key:
        return True
    return isinstance(field, ForeignKeyField) and field.rel_model in REPLICATED


def _unique_column_sets(model) -> list[tuple[str, ...]]:
    """Every unique constraint of ``model`` as a tuple of field names."""
    out = [(f.name,) for f in model._meta.sorted_fields if f.unique and not f.primary_key]
    for index in model._meta.indexes:
        if isinstance(index, ModelIndex):  # Model.add_index(Model.index(...))
            if not index._unique:
                continue
            if not all(isinstance(e, Field) for e in index._expressions):
                raise AssertionError(f"{model.__name__}: unique index {index._name!r} is not on plain columns")
            out.append(tuple(e.name for e in index._expressions))
            continue
        if not (isinstance(index, (tuple, list)) and len(index) == 2):
            raise AssertionError(f"{model.__name__}: index {index!r} is not a (fields, unique) pair")
        fields, unique = index
        if unique:
            out.append(tuple(fields))
    return out


def check_models() -> None:
    """Refuse to copy when the models changed in a way the copy does not handle.

    Every model is exactly one of replicated, shared or not copied; foreign keys
    point at a primary key; shared tables never point at copied ones; every unique
    constraint of a copied table includes a column the copy moves or rewrites.
    """
    groups = [set(REPLICATED), set(SHARED), set(NOT_COPIED)]
    for model in ALL_MODELS:
        hits = sum(model in g for g in groups)
        if hits != 1:
            raise AssertionError(f"demo scale-up: {model.__name__} must be exactly one of REPLICATED, SHARED, "
                                 f"NOT_COPIED (it is in {hits})")
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if not isinstance(field, ForeignKeyField):
                continue
            if field.rel_field is not field.rel_model._meta.primary_key:
                raise AssertionError(f"demo scale-up: {model.__name__}.{field.name} does not point at an id")
            if model in SHARED and field.rel_model in REPLICATED:
                raise AssertionError(f"demo scale-up: shared {model.__name__}.{field.name} points at a copied table")
            if model in REPLICATED and field.rel_model in NOT_COPIED:
                raise AssertionError(f"demo scale-up: copied {model.__name__}.{field.name} points at a table "
                                     f"that is not copied")
    order = {m: i for i, m in enumerate(REPLICATED)}
    for model in REPLICATED:
        for field in model._meta.sorted_fields:
            rel = getattr(field, "rel_model", None)
            if rel in order and rel is not model and order[rel] > order[model]:
                raise AssertionError(f"demo scale-up: {rel.__name__} must be copied before {model.__name__}")
        for names in _unique_column_sets(model):
            fields = [model._meta.fields[n] for n in names]
            if not any(_shifted(model, f) or (model, f.name) in REWRITES for f in fields):
                raise AssertionError(f"demo scale-up: copies of {model.__name__} would repeat the unique {names}")


def copy_sql(model, copy: int, max_ids: dict) -> str:
    """The ``INSERT ... SELECT`` that writes copy number ``copy`` (1, 2...) of ``model``'s base block."""
    table = model._meta.table_name
    cols, exprs = [], []
    for field in model._meta.sorted_fields:
        col = f'"{field.column_name}"'
        cols.append(col)
        if field is model._meta.primary_key:
            exprs.append(f"{col} + {copy * max_ids[model]}")
        elif isinstance(field, ForeignKeyField) and field.rel_model in REPLICATED:
            exprs.append(f"{col} + {copy * max_ids[field.rel_model]}")
        elif (model, field.name) in REWRITES:
            exprs.append(REWRITES[model, field.name](col, copy + 1))
        else:
            exprs.append(col)
    return (f'INSERT INTO "{table}" ({", ".join(cols)}) SELECT {", ".join(exprs)} '
            f'FROM "{table}" WHERE "id" <= {max_ids[model]} ORDER BY "id"')


def _bump_sequences() -> None:
    """PostgreSQL: move every copied table's id sequence past its largest id."""
    for model in REPLICATED:
        table = model._meta.table_name
        db.database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def _pragmas(values: dict) -> dict:
    """SQLite: set connection pragmas; return the previous values."""
    old = {}
    for name, value in values.items():
        old[name] = db.database.execute_sql(f"PRAGMA {name}").fetchone()[0]
        db.database.execute_sql(f"PRAGMA {name} = {value}")
    return old


def base_block() -> tuple[dict, dict]:
    """The base block as it is now: (model -> largest id, model -> row count) of each copied table."""
    max_ids, counts = {}, {}
    for model in REPLICATED:
        table = model._meta.table_name
        top, n = db.database.execute_sql(f'SELECT COALESCE(MAX("id"), 0), COUNT(*) FROM "{table}"').fetchone()
        max_ids[model], counts[model] = int(top), int(n)
    return max_ids, counts


def replicate(copies: int, *, progress: Callable[[int, int], None] | None = None) -> dict:
    """Copy every patient-side row ``copies`` times; record one ``demo.replicate`` audit event.

    Needs a connected database, a registered current user, and no open transaction.
    Returns the audit result: ``copies``, ``blocks`` (copies + 1), ``base_max_ids``
    and ``rows_per_copy`` per table, ``rows`` per table after the copy, ``seconds``
    and ``audit_id``. ``progress(done, copies)`` is called after each transaction.
    """
    if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be a whole number of at least 1, got {copies!r}")
    check_models()
    t0 = time.perf_counter()
    max_ids, counts = base_block()
    per_copy = max(1, sum(counts.values()))
    per_txn = max(1, ROWS_PER_TRANSACTION // per_copy)
    old = _pragmas(_SQLITE_BULK) if not db.is_postgres() else None
    try:
        done = 0
        while done < copies:
            batch = range(done + 1, min(copies, done + per_txn) + 1)
            with db.write_transaction():
                for k in batch:
                    for model in REPLICATED:
                        if counts[model]:
                            db.database.execute_sql(copy_sql(model, k, max_ids))
                if db.is_postgres():
                    _bump_sequences()
            done = batch[-1]
            if progress:
                progress(done, copies)
    finally:
        if old is not None:
            _pragmas(old)
    if db.is_postgres():
        for model in REPLICATED:
            db.database.execute_sql(f'ANALYZE "{model._meta.table_name}"')
    tables = {m._meta.table_name: m for m in REPLICATED}
    result = {
        "copies": copies, "blocks": copies + 1,
        "base_max_ids": {t: max_ids[m] for t, m in tables.items()},
        "rows_per_copy": {t: counts[m] for t, m in tables.items()},
        "rows": {t: counts[m] * (copies + 1) for t, m in tables.items()},
    }
    out = workflow.run("demo.replicate", lambda: dict(result), notify=False,
                       inputs={"copies": copies, "rows_per_copy": result["rows_per_copy"]})
    return {**result, "seconds": round(time.perf_counter() - t0, 2), "audit_id": out["audit_id"]}
