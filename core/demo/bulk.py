"""Set-based writes: multi-row inserts.

The demo's fast paths (:mod:`.fast_posting`, :mod:`.fast_statements`) and the setup
day write rows with these instead of one ``Model.create`` per row; the money goes
through the money engine (:mod:`claimdesk.core.posting`) and the ledger.
"""

from __future__ import annotations

from claimdesk.core import db

_MISSING = object()


def insert_rows(model, rows: list[dict], *, ids: bool, chunk: int = 250) -> list[int]:
    """Insert ``rows`` (field name -> value) with a few multi-row INSERTs; new ids in row order.

    Values go through each field's ``db_value`` and missing fields get the model
    default, exactly as ``Model.insert_many`` would; only the SQL is built once per
    chunk instead of per value (peewee's SQL generation dominates bulk inserts).
    Ids of one multi-row INSERT are handed out in VALUES order on both engines, so
    the sorted RETURNING ids line up with the rows.
    """
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join([db.database.param] * len(fields)) + ")"
    head = f'INSERT INTO "{model._meta.table_name}" ({cols}) VALUES '
    out: list[int] = []
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        params = []
        for row in part:
            for f in fields:
                value = row.get(f.name, _MISSING)
                if value is _MISSING:
                    value = f.default() if callable(f.default) else f.default
                params.append(f.db_value(value))
        sql = head + ", ".join([one] * len(part)) + (' RETURNING "id"' if ids else "")
        cursor = db.database.execute_sql(sql, params)
        if ids:
            out += sorted(r[0] for r in cursor.fetchall())
    return out


def insert_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows``; their new ids, in row order."""
    return insert_rows(model, rows, ids=True)


def insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (no ids wanted)."""
    insert_rows(model, rows, ids=False)

