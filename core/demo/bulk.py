"""Set-based writes for the demo: multi-row inserts of rows given as dicts.

The demo's fast path (:mod:`.fast_posting`) and the setup
day write rows with these instead of one ``Model.create`` per row (the insert itself is
the engine's :func:`claimdesk.core.posting.bulk.insert_rows`); the money goes through the
money engine (:mod:`claimdesk.core.posting`) and the ledger.
"""

from __future__ import annotations

from claimdesk.core.posting.bulk import insert_rows


def insert_ids(model, rows: list[dict]) -> list[int]:
    """Insert ``rows``; their new ids, in row order."""
    return insert_rows(model, rows, ids=True)


def insert(model, rows: list[dict]) -> None:
    """Insert ``rows`` (no ids wanted)."""
    insert_rows(model, rows, ids=False)
