"""Driving the app in tests: run it at 80x24, wait for service calls, read the screen."""

from __future__ import annotations

import asyncio

from textual.widgets import DataTable

from claimdesk.core import clock
from claimdesk.tui.app import ClaimdeskApp

from tests.tui.scenario import TODAY


async def settle(pilot, rounds: int = 50) -> None:
    """Wait until every worker has finished and its answer reached the screen."""
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(not w.is_finished for w in app.workers):
            await pilot.pause()
            if not any(not w.is_finished for w in app.workers) and await _drawn(pilot):
                return
    raise AssertionError("workers did not settle")


def _tables_measured(app) -> bool:
    """True when no table on the screen still has new rows to measure (it does so on idle)."""
    return not any(t._require_update_dimensions or t._new_rows  # noqa: SLF001 - no public flag
                   for t in app.screen.query(DataTable))


async def _drawn(pilot, rounds: int = 50) -> bool:
    """True once every table measured its rows and the screen draws the same twice in a row."""
    before = screen_text(pilot.app)
    for _ in range(rounds):
        await pilot.pause()
        now = screen_text(pilot.app)
        if now == before and _tables_measured(pilot.app):
            return True
        before = now
    return False


async def press(pilot, *keys: str) -> None:
    """Press keys one by one, letting each one's service call finish."""
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def type_text(pilot, text: str) -> None:
    """Type text into the focused input."""
    await pilot.press(*list(text))
    await settle(pilot)


def screen_text(app) -> str:
    """The text of the top screen exactly as drawn (what a clerk reads at 80x24)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def drive(scenario, *, size=(80, 24), ansi: bool = False):
    """Run ``scenario(pilot)`` against a fresh app at 80x24 with the clock frozen."""
    async def main():
        app = ClaimdeskApp(ansi=ansi)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(pilot)
        return app

    with clock.frozen(TODAY):
        return asyncio.run(main())



def words(text: str) -> str:
    """Screen text with runs of whitespace (and line wraps) as single spaces."""
    return " ".join(text.split())
