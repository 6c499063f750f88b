"""Shared fixtures: a fresh database per test (SQLite now; PostgreSQL joins in tests/pg.py)."""

from __future__ import annotations

import pytest

from claimdesk.core import db, schema
from claimdesk.core.context import as_user


@pytest.fixture
def database(tmp_path):
    """A fresh, upgraded SQLite database file, current user 'tester'."""
    db.connect(str(tmp_path / "t.db"))
    schema.upgrade()
    with as_user("tester"):
        yield db.database
    db.close()
