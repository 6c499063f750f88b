"""Set-based writing, shared by the engine and the services that write many rows (a day of
visits, a file of claims): multi-row inserts that give the new ids in order, and the
dimension an entry names only when all its postings share it."""

from __future__ import annotations

from typing import Iterable

import peewee

from claimdesk.core import db

#: Rows per multi-row ``INSERT`` (under SQLite's and psycopg's parameter limits).
CHUNK = 1000


def insert_ids(model, names: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (db values in ``names`` order) into ``model``'s table; their ids in row
    order (ids are handed out in insertion order: one statement per chunk, one writer per row)."""
    return sorted(r[0] for r in db.insert_returning(model, names, rows, "id", chunk=CHUNK))


_MISSING = object()


def insert_rows(model, rows: list[dict], *, ids: bool = True, chunk: int = 250) -> list[int]:
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
    names = [f.name for f in fields]
    plan = list(enumerate((f, f.default, callable(f.default), _as_is(f)) for f in fields))
    out: list[int] = []
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        params = []
        for row in part:
            values = [row.get(name, _MISSING) for name in names]
            for n, (f, default, call, as_is) in plan:
                value = values[n]
                if value is _MISSING:
                    value = values[n] = default() if call else default
                if value is not None and type(value) is not as_is:
                    values[n] = f.db_value(value)
            params += values
        sql = head + ", ".join([one] * len(part)) + (' RETURNING "id"' if ids else "")
        cursor = db.database.execute_sql(sql, params)
        if ids:
            out += sorted(r[0] for r in cursor.fetchall())
    return out


def _as_is(field: peewee.Field) -> type | None:
    """The Python type whose values ``field.db_value`` hands back unchanged (an ``int`` to an
    integer or foreign-key column, a ``str`` to a text column): those skip the call, the
    costliest part of a bulk insert. None for any other field."""
    if isinstance(field, peewee.ForeignKeyField):
        return _as_is(field.rel_field)
    if type(field).db_value is not peewee.Field.db_value:
        return None
    if isinstance(field, (peewee.IntegerField, peewee.AutoField)):
        return int if type(field).adapt in (peewee.IntegerField.adapt, peewee.Field.adapt) else None
    if isinstance(field, (peewee.CharField, peewee.TextField)):
        return str if type(field).adapt in (peewee._StringField.adapt, peewee.Field.adapt) else None
    return None


def only(values: Iterable):
    """The one value ``values`` all share (an entry's encounter or patient), or None when
    they differ or there is none."""
    found = set(values)
    return next(iter(found)) if len(found) == 1 else None
