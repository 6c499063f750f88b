"""Long work in the screens: progress bars for the statement run, claim batches and aging
recalc (Ctrl+K cancels: nothing written), and a work queue longer than one page."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from textual.widgets import DataTable, ProgressBar

from claimdesk.core import clock, db
from claimdesk.core.models import AgingRow, AuditEvent, ClaimBatch, Encounter, Statement
from claimdesk.core.services import aging, claims, statements
from claimdesk.tui.screens.queue import PAGE
from claimdesk.tui.widgets import progress as progress_module
from claimdesk.tui.widgets.progress import WorkProgress

from tests import builders as b
from tests.tui import scenario
from tests.tui.big_queue import fill_review
from tests.tui.helpers import _drawn, drive, press, screen_text, settle, wait_until, words
from tests.conftest import empty_config


@pytest.fixture(autouse=True)
def hermetic_config(monkeypatch, tmp_path):
    """No user config file; exports go to a temp dir; every progress step reaches the bar
    (no update interval: no test waits out a clock)."""
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    monkeypatch.setenv("CLAIMDESK_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setattr(progress_module, "INTERVAL", 0)


class Gate:
    """Wraps a service so its progress calls are recorded and the run can be held at one of
    them (``hold_at``) until the test lets it go: the screen can be read mid-run."""

    def __init__(self, monkeypatch, module, name: str, hold_at: int | None = None):
        self.calls: list[tuple[int, int]] = []
        self.reached, self.go = threading.Event(), threading.Event()
        original = getattr(module, name)

        def wrapped(*args, progress=None, **kwargs):
            def spy(done, total):
                self.calls.append((done, total))
                if done == hold_at:
                    self.reached.set()
                    self.go.wait(30)
                progress(done, total)
            return original(*args, progress=spy, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    async def wait_reached(self, pilot) -> None:
        """Until the run is held at the gate and the screen shows the step before it: the
        callback hands each step to the UI thread and waits for it, so once the gate is
        reached the bar holds that step; then the screen is drawn."""
        await wait_until(pilot, self.reached.is_set, "the run reached the gate")
        bar = pilot.app.screen.query_one(ProgressBar)
        before = [d for d, _t in self.calls[:-1]]
        await wait_until(pilot, lambda: pilot.app.screen.query_one(WorkProgress).running
                         and (bar.total is None or not before or bar.progress == before[-1]), "the bar shows the step")
        assert await _drawn(pilot)


async def until_done(pilot) -> None:
    """After Ctrl+K the worker is cancelled at once, but its thread still has to roll back and
    say so: wait until the bar is gone."""
    await settle(pilot)
    await wait_until(pilot, lambda: not pilot.app.screen.query_one(WorkProgress).running, "the run ended")
    assert await _drawn(pilot)


def self_pay_patients(n: int = 3) -> None:
    with clock.frozen(dt.date(2026, 3, 20)):
        for i in range(n):
            b.encounter(b.patient(f"Owes{i}", "Pat"), [30_00 + i])


def bar_numbers(app) -> tuple[float | None, float]:
    bar = app.screen.query_one(ProgressBar)
    return bar.total, bar.progress


def test_statement_run_shows_progress_per_patient_then_the_result(database, monkeypatch):
    scenario.build()
    self_pay_patients(3)  # with Sam: 4 patients due
    gate = Gate(monkeypatch, statements, "generate_all", hold_at=2)
    seen = {}

    async def flow(pilot):
        await press(pilot, "s", "f9")
        await pilot.press("y")
        await gate.wait_reached(pilot)
        seen["running"] = words(screen_text(pilot.app))
        seen["bar"] = bar_numbers(pilot.app)
        seen["shown"] = pilot.app.screen.query_one(WorkProgress).display
        await pilot.press("escape")  # leaving would cancel the run unseen: the screen stays
        await wait_until(pilot, lambda: any("Ctrl+K cancels it" in n.message for n in pilot.app._notifications),
                         "the notice that the run is still going")
        seen["escape"] = (type(pilot.app.screen).__name__, [n.message for n in pilot.app._notifications])
        gate.go.set()
        await settle(pilot)
        seen["done"] = words(screen_text(pilot.app))
        seen["shown_after"] = pilot.app.screen.query_one(WorkProgress).display

    drive(flow)
    assert gate.calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert "Statement run (Ctrl+K cancels)" in seen["running"] and "25%" in seen["running"]
    assert seen["bar"] == (4, 1) and seen["shown"] and not seen["shown_after"]
    assert seen["escape"][0] == "StatementsScreen" and any("Ctrl+K cancels it" in m for m in seen["escape"][1])
    assert "✔ 4 statement(s) made, 210.03 due in all" in seen["done"]
    assert Statement.select().count() == 4


def test_ctrl_k_cancels_the_statement_run_and_nothing_is_written(database, monkeypatch):
    scenario.build()
    self_pay_patients(3)
    gate = Gate(monkeypatch, statements, "generate_all", hold_at=2)
    seen = {}

    async def flow(pilot):
        await press(pilot, "s", "f9")
        await pilot.press("y")
        await gate.wait_reached(pilot)  # two statements made inside the run's transaction
        await pilot.press("ctrl+k")
        gate.go.set()
        await until_done(pilot)
        seen["after"] = words(screen_text(pilot.app))
        seen["shown"] = pilot.app.screen.query_one(WorkProgress).display

    drive(flow)
    assert gate.calls == [(0, 4), (1, 4), (2, 4)]
    assert "✘ Statement run cancelled, nothing written." in seen["after"] and not seen["shown"]
    assert Statement.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "statements.run").exists()


def test_ctrl_k_cancels_the_claim_batch_and_nothing_is_written(database, monkeypatch, tmp_path):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY), db.write_transaction():
        for enc in clinic.denied:
            claims.queue(enc, clinic.aetna, "primary", resend=True)
    gate = Gate(monkeypatch, claims, "build_batch", hold_at=2)
    seen = {}

    async def flow(pilot):
        await press(pilot, "b", "b")
        await pilot.press("y")
        await gate.wait_reached(pilot)
        seen["running"] = words(screen_text(pilot.app))
        await pilot.press("ctrl+k")
        gate.go.set()
        await until_done(pilot)
        seen["after"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Claim batch (Ctrl+K cancels)" in seen["running"] and "50%" in seen["running"]
    assert "✘ Claim batch cancelled, nothing written." in seen["after"]
    assert ClaimBatch.select().count() == 0 and claims.queued().count() == 2
    assert not (tmp_path / "exports").exists() or not any((tmp_path / "exports").iterdir())


def test_aging_recalc_runs_under_a_bar_and_ctrl_k_leaves_no_snapshot(database, monkeypatch):
    scenario.build()
    gate = Gate(monkeypatch, aging, "recalc", hold_at=1)
    seen = {}

    async def flow(pilot):
        await press(pilot, "g")
        await pilot.press("f9")
        await gate.wait_reached(pilot)  # the snapshot is written, not yet committed
        seen["running"] = words(screen_text(pilot.app))
        seen["bar"] = bar_numbers(pilot.app)
        await pilot.press("ctrl+k")
        gate.go.set()
        await until_done(pilot)
        seen["after"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Aging recalc (Ctrl+K cancels)" in seen["running"]
    assert seen["bar"] == (None, 0)  # one SQL statement: an animation, not a percentage
    assert "✘ Aging recalculation cancelled, nothing written." in seen["after"]
    assert AgingRow.select().count() == 0
    assert not AuditEvent.select().where(AuditEvent.action == "aging.recalc").exists()


# --- a queue longer than a page ----------------------------------------------------------------
def open_review(pilot):
    pilot.app.open_queue("review")


def cursor_row(app) -> dict:
    return app.screen._current()


def test_a_long_queue_scrolls_to_its_last_encounter_and_opens_it(database):
    order = fill_review(1_500)
    last = Encounter.get_by_id(order[-1])
    seen = {}

    async def flow(pilot):
        open_review(pilot)
        await settle(pilot)
        seen["first"] = words(screen_text(pilot.app))
        seen["loaded_first"] = pilot.app.screen.query_one(DataTable).row_count
        await press(pilot, "end")
        seen["end"] = words(screen_text(pilot.app))
        seen["end_row"] = cursor_row(pilot.app)
        await press(pilot, *["up"] * 3)
        seen["up3"] = cursor_row(pilot.app)
        await press(pilot, *["pageup"] * 30)  # across the window's top: the pages before are read
        seen["pageup"] = (pilot.app.screen.start + pilot.app.screen.query_one(DataTable).cursor_row,
                          cursor_row(pilot.app))
        await press(pilot, "home")
        seen["home"] = (words(screen_text(pilot.app)), cursor_row(pilot.app))
        await press(pilot, "end", "enter")
        seen["advanced"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Queue Review: encounter 1 of 1,500." in seen["first"] and seen["loaded_first"] == PAGE
    assert "Queue Review: encounter 1,500 of 1,500." in seen["end"]
    assert seen["end_row"]["encounter_id"] == last.id and str(last.id) in seen["end"]
    assert seen["up3"]["encounter_id"] == order[-4]
    position, row = seen["pageup"]
    assert position < 1_000 and row["encounter_id"] == order[position]  # the row is the queue's nth
    assert "encounter 1 of 1,500" in seen["home"][0] and seen["home"][1]["encounter_id"] == order[0]
    assert f"Encounter {last.id} Queue0002, Pat" in seen["advanced"]


def test_paging_down_a_long_queue_reads_it_all(database):
    order = fill_review(1_500)
    seen = {}

    async def flow(pilot):
        open_review(pilot)
        await settle(pilot)
        for _ in range(90):  # ~20 rows a page at 80x24
            await pilot.press("pagedown")
        await settle(pilot)
        await press(pilot, "pagedown")
        seen["text"] = words(screen_text(pilot.app))
        seen["rows"] = [r["encounter_id"] for r in pilot.app.screen.rows]
        seen["row"] = cursor_row(pilot.app)

    drive(flow)
    assert seen["rows"] == order  # read page by page, in order, none twice
    assert "Queue Review: 1,500 encounter(s)." in seen["text"]
    assert seen["row"]["encounter_id"] == order[-1] and str(order[-1]) in seen["text"]


def test_back_from_an_encounter_deep_in_a_long_queue_keeps_the_place(database):
    order = fill_review(1_500)
    seen = {}

    async def flow(pilot):
        open_review(pilot)
        await settle(pilot)
        await press(pilot, *["pagedown"] * 40)  # ~800 rows down: pages read forward
        seen["before"] = (words(screen_text(pilot.app)), cursor_row(pilot.app))
        await press(pilot, "enter")
        seen["opened"] = words(screen_text(pilot.app))
        await press(pilot, "escape")
        seen["after"] = (words(screen_text(pilot.app)), cursor_row(pilot.app), len(pilot.app.screen.rows))

    drive(flow)
    (text, row), (text_after, row_after, window) = seen["before"], seen["after"]
    position = order.index(row["encounter_id"]) + 1
    assert position > 700 and f"encounter {position:,} of 1,500" in text
    assert f"Encounter {row['encounter_id']} " in seen["opened"]
    assert row_after == row and f"encounter {position:,} of 1,500" in text_after
    assert window <= 2 * PAGE  # read again around the cursor, not all that was read before
