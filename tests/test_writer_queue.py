"""Writers to one SQLite file queue for their turn (core/writer_queue.py) instead of SQLite's busy loop."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from claimdesk.core import db, migrations, writer_queue
from claimdesk.core.context import as_user
from claimdesk.core.models import Payer

from tests.conftest import register


@pytest.fixture
def sqlite_file(tmp_path):
    """A SQLite desk; each thread that uses it gets a connection of its own (as the app's workers do)."""
    path = tmp_path / "desk.db"
    db.connect(str(path))
    migrations.upgrade()
    register("tester")
    yield path
    db.close()


def _connected(path: Path, body):
    """Run ``body`` as the clerk 'tester' on this thread's own connection, then close it."""
    try:
        with as_user("tester"):
            return body()
    finally:
        db.database.obj.close()


def test_a_second_writer_waits_for_the_first_and_both_changes_are_kept(sqlite_file):
    first_in, let_go, order = threading.Event(), threading.Event(), []

    def first():
        def body():
            Payer.create(name="First Payer", kind="commercial", payer_code="FIRST")
            first_in.set()
            assert let_go.wait(30)
            order.append("first")
        _connected(sqlite_file, lambda: db.run_in_transaction(body))

    def second():
        def body():
            Payer.create(name="Second Payer", kind="commercial", payer_code="SECOND")
            order.append("second")
        assert first_in.wait(30)
        _connected(sqlite_file, lambda: db.run_in_transaction(body))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    assert first_in.wait(30)
    let_go.set()
    for t in threads:
        t.join(60)
    assert order == ["first", "second"]
    assert Path(f"{sqlite_file}-writer").exists()
    names = _connected(sqlite_file, lambda: sorted(p.name for p in Payer.select().where(Payer.kind == "commercial")))
    assert names == ["First Payer", "Second Payer"]


def test_a_writer_kept_waiting_too_long_is_refused_as_locked_then_gets_its_turn(sqlite_file, monkeypatch):
    monkeypatch.setattr(writer_queue, "WAIT_SECONDS", 0.2)
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def holder():
        with writer_queue.turn(str(sqlite_file)):
            holding.set()
            assert release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    assert holding.wait(30)
    with pytest.raises(writer_queue.QueueTimeout, match="database is locked"):
        with writer_queue.turn(str(sqlite_file)):
            outcome["entered"] = True
    release.set()
    t.join(30)
    assert "entered" not in outcome
    with writer_queue.turn(str(sqlite_file)):  # the queue is free again for this thread
        outcome["later"] = True
    assert outcome == {"later": True}


def test_without_a_lock_file_the_writer_goes_straight_to_sqlite(tmp_path):
    with writer_queue.turn(str(tmp_path / "no-such-folder" / "desk.db")):
        entered = True
    assert entered and not (tmp_path / "no-such-folder").exists()
