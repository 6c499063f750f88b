"""Set-based writing, shared by the engine and the services that write many rows (a day of
visits, a file of claims): multi-row inserts that give the new ids in order, and the
dimension an entry names only when all its postings share it."""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from typing import Iterable

import peewee

from claimdesk.core import db

#: Rows per multi-row ``INSERT`` (under SQLite's and psycopg's parameter limits).
CHUNK = 1000


def insert_ids(model, names: tuple[str, ...], rows: list[tuple], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` (db values in ``names`` order) into ``model``'s table; their ids in row
    order (ids are handed out in insertion order: one statement per chunk, one writer per row),
    or [] without ``ids`` (nothing read back).

    PostgreSQL gets one statement of an array parameter per column (``INSERT ... SELECT FROM
    unnest(...) WITH ORDINALITY ORDER BY``), whatever the number of rows: a few parameters for
    psycopg to adapt and the server to parse instead of one per value, and one round trip."""
    if not rows:
        return []
    tail = " RETURNING id" if ids else ""
    if db.is_postgres() and len(rows) > 1:
        types = pg_types(model, names)
        arrays = columns(rows, types) if types is not None else None
        if arrays is not None:
            cursor = db.sql(unnest_insert(model, names, types) + tail, arrays)
            return sorted(r[0] for r in cursor) if ids else []
    out: list[tuple] = []
    for start in range(0, len(rows), CHUNK):
        part = rows[start:start + CHUNK]
        cursor = db.database.execute_sql(values_insert(model._meta.table_name, _column_names(model, names),
                                                       len(part), db.database.obj.param, tail),
                                         list(chain.from_iterable(part)))
        if ids:
            out += cursor.fetchall()
    return sorted(r[0] for r in out)


def _column_names(model, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(model._meta.fields[n].column_name for n in names)


@lru_cache(maxsize=256)
def values_insert(table: str, columns: tuple[str, ...], rows: int, mark: str, tail: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (...), ...`` for ``rows`` rows, the driver's
    parameter ``mark`` written in (made once per shape: a chunk's statement is a few hundred
    kilobytes of text, and its shape repeats)."""
    cols = ", ".join(f'"{c}"' for c in columns)  # (quoted: "user" is a keyword)
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    return f'INSERT INTO "{table}" ({cols}) VALUES ' + ", ".join([one] * rows) + tail


#: A column's peewee field type -> the PostgreSQL type of the array it is inserted from.
_PG_ARRAY_TYPES = {"AUTO": "BIGINT", "BIGAUTO": "BIGINT", "INT": "BIGINT", "BIGINT": "BIGINT", "SMALLINT": "BIGINT",
                   "VARCHAR": "TEXT", "TEXT": "TEXT", "CHAR": "TEXT", "BOOL": "BOOLEAN", "DATE": "DATE",
                   "DATETIME": "TIMESTAMP", "TIME": "TIME"}


def pg_types(model, names: tuple[str, ...]) -> tuple[str, ...] | None:
    """The PostgreSQL type of each column ``names`` of ``model`` (a foreign key: its target's),
    None when one has no plain array type here (then rows go as ``VALUES``)."""
    out = []
    for name in names:
        field = model._meta.fields[name]
        while isinstance(field, peewee.ForeignKeyField):
            field = field.rel_field
        kind = _PG_ARRAY_TYPES.get(field.field_type)
        if kind is None:
            return None
        out.append(kind)
    return tuple(out)


def unnest_insert(model, names: tuple[str, ...], types: tuple[str, ...]) -> str:
    """``INSERT INTO`` ``model``'s table the rows of one array parameter per column (``{p}``
    marks), in array order."""
    cols = ", ".join(f'"{model._meta.fields[n].column_name}"' for n in names)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    arrays = ", ".join(f"CAST({{p}} AS {kind}[])" for kind in types)
    return (f'INSERT INTO "{model._meta.table_name}" ({cols}) SELECT {aliases} FROM unnest({arrays}) '
            f"WITH ORDINALITY AS u({aliases}, n) ORDER BY n")


def columns(rows: list[tuple], types: tuple[str, ...]) -> list[str] | None:
    """``rows`` as one array per column (the parameters of :func:`unnest_insert`), each an array
    literal (:func:`~claimdesk.core.db.pg_array`); None when a value has no exact literal here."""
    try:
        return [db.pg_array(values, kind) for kind, values in zip(types, zip(*rows))]
    except TypeError:
        return None


_MISSING = object()


def insert_rows(model, rows: list[dict], *, ids: bool = True) -> list[int]:
    """Insert ``rows`` (field name -> value) as :func:`insert_ids` does; new ids in row order.

    Values go through each field's ``db_value`` and missing fields get the model
    default, exactly as ``Model.insert_many`` would; only the SQL is built once per
    chunk instead of per value (peewee's SQL generation dominates bulk inserts).
    """
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    names = tuple(f.name for f in fields)
    plan = list(enumerate((f, f.default, callable(f.default), _as_is(f)) for f in fields))
    stored = []
    for row in rows:
        values = [row.get(name, _MISSING) for name in names]
        for n, (f, default, call, as_is) in plan:
            value = values[n]
            if value is _MISSING:
                value = values[n] = default() if call else default
            if value is not None and type(value) is not as_is:
                values[n] = f.db_value(value)
        stored.append(values)
    return insert_ids(model, names, stored, ids=ids)


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
