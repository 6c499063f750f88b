"""Set-based writing, shared by the engine: multi-row inserts that give the new ids in
order, and the dimension an entry names only when all its postings share it."""

from __future__ import annotations

from typing import Iterable

from claimdesk.core import db

#: Rows per multi-row ``INSERT`` (under SQLite's and psycopg's parameter limits).
CHUNK = 1000


def insert_ids(model, names: tuple[str, ...], rows: list[tuple]) -> list[int]:
    """Insert ``rows`` (db values in ``names`` order) into ``model``'s table; their ids in row
    order (ids are handed out in insertion order: one statement per chunk, one writer per row)."""
    return sorted(r[0] for r in db.insert_returning(model, names, rows, "id", chunk=CHUNK))


def only(values: Iterable):
    """The one value ``values`` all share (an entry's encounter or patient), or None when
    they differ or there is none."""
    found = set(values)
    return next(iter(found)) if len(found) == 1 else None
