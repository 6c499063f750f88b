"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server.

``database`` gives a fresh, upgraded database (current user "tester");
``db_url`` gives the URL of a fresh, empty database for tests that connect
themselves (subprocesses, the CLI). Both are parametrized ``[sqlite]`` and
``[postgresql]``; ``-m "not pg"`` runs the SQLite half only.
"""

from __future__ import annotations

import os

import pytest

from claimdesk.core import db, migrations
from claimdesk.core.context import as_user

from tests.clirunner import Cli
from tests.pgserver import PgServer, find_bindir

def register(*names: str, role: str = "clerk") -> None:
    """Make claimdesk users (writes are refused to unknown users), audited as claimdesk registers
    its first users (``verify`` holds the user table to the audit trail)."""
    import datetime as dt

    from claimdesk.core import clock, users

    with as_user("test-setup"), clock.frozen(dt.datetime(2026, 1, 1, 8, 0)):  # (the same event on every machine)
        for name in names:
            users.bootstrap(name, role)


def empty_config(folder) -> str:
    """The path of a config file in ``folder`` with no settings (``no-config.toml``, made empty
    when missing; a test may write settings into it), for ``CLAIMDESK_CONFIG``: no config file
    from the machine leaks in, and a CLAIMDESK_CONFIG naming no file is refused
    (tests/test_hostile_cli.py)."""
    from pathlib import Path

    path = Path(folder) / "no-config.toml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    return str(path)


#: The outcomes of a hostile attempt :func:`record_outcome` counts: refused with a clear message
#: (or, for an identity claim, without effect); refused but unclearly (a traceback, "unexpected",
#: the thing at fault not named, rows written); wrongly accepted.
OUTCOMES = ("refused", "unclear", "accepted")


def record_outcome(kind: str, case: str, outcome: str, engine: str = "") -> None:
    """With ``CLAIMDESK_FIGURES=FILE`` set (``bench/hostile_figures.py`` sets it), append one
    hostile attempt's outcome to FILE as a JSON line: the figures of docs/reliability.md are
    counted from what the tests saw, never typed in. Does nothing otherwise."""
    import json

    assert outcome in OUTCOMES, outcome
    path = os.environ.get("CLAIMDESK_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "case": case, "engine": engine, "outcome": outcome}) + "\n")


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


@pytest.fixture(autouse=True)
def no_machine_config(monkeypatch, tmp_path):
    """Every test reads its own config file, empty until it writes settings into it (the path is
    ``CLAIMDESK_CONFIG``): a config on the machine (``bash .ci/app`` writes one, with the demo
    clinic's ``[clinic]``) never changes what a test sees."""
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (skipped locally, failed under CI, without binaries)."""
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL binaries not found (apt-get install -y postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    server = PgServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Which storage engine this test instance runs on."""
    return request.param


def new_database_url(backend: str, request, folder, *, upgraded: bool) -> str:
    """URL of a new database on ``backend``: a PostgreSQL database (an upgraded clone of the
    template when ``upgraded``; empty otherwise) or a SQLite file in ``folder``."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_server").new_database(upgraded=upgraded)
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / "claimdesk.db")


@pytest.fixture
def db_url(backend, request, tmp_path) -> str:
    """URL of a fresh database with no schema yet (SQLite file path or postgresql:// URL)."""
    return new_database_url(backend, request, tmp_path, upgraded=False)


@pytest.fixture
def database(backend, request, tmp_path):
    """A fresh, upgraded database on this backend, current user 'tester' (a clerk)."""
    url = new_database_url(backend, request, tmp_path, upgraded=True)
    db.connect(url)
    migrations.upgrade()
    register("tester")
    with as_user("tester"):
        yield db.database
    db.close()


@pytest.fixture
def cli(db_url, capsys, monkeypatch, tmp_path):
    """``claimdesk`` in-process on a fresh database made by ``claimdesk init`` (run by "admin"),
    with the clerk "tester" added by ``claimdesk users add``; connected for the builders as tester.
    No config file (see :func:`no_machine_config`) or CLAIMDESK_DB from the machine leaks in."""
    monkeypatch.delenv("CLAIMDESK_DB", raising=False)
    run = Cli(db_url, capsys)
    run.ok("init", user="admin")
    run.ok("users", "add", "tester", "--role", "clerk", user="admin")
    db.connect(db_url)
    with as_user("tester"):
        yield run
    db.close()
