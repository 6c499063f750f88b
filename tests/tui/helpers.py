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


def _painted(app) -> bool:
    """True when no widget on the screen waits to be repainted or laid out and the screen has
    nothing left to composite: what ``screen_text`` reads is what the clerk would see."""
    screen = app.screen
    if screen._layout_required or screen._repaint_required or screen._dirty_widgets:  # noqa: SLF001
        return False
    return not any(w._repaint_required or w._layout_required  # noqa: SLF001
                   for w in screen.walk_children(with_self=True))


async def _drawn(pilot, rounds: int = 50) -> bool:
    """True once every table measured its rows, every repaint reached the screen, and the
    screen draws the same twice in a row."""
    before = screen_text(pilot.app)
    for _ in range(rounds):
        await pilot.pause()
        now = screen_text(pilot.app)
        if now == before and _tables_measured(pilot.app) and _painted(pilot.app):
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


def drive(scenario, *, size=(80, 24), ansi: bool = False, today=TODAY, notifications: bool = False):
    """Run ``scenario(pilot)`` against a fresh app at 80x24 with the clock frozen (at ``today``:
    the small clinic's date unless a demo test passes the demo's); ``notifications`` draws
    the toasts (Textual's tests leave them out)."""
    async def main():
        app = ClaimdeskApp(ansi=ansi)
        async with app.run_test(size=size, notifications=notifications) as pilot:
            await settle(pilot)
            await scenario(pilot)
        return app

    with clock.frozen(today):
        return asyncio.run(main())


async def wait_until(pilot, condition, what: str, rounds: int = 2000) -> None:
    """Let the app run until ``condition()`` holds (no fixed sleep: each round is one pause,
    and the bound only guards against a hang)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def tab_to(pilot, ident: str, limit: int = 60, back: bool = False) -> None:
    """Press Tab (Shift+Tab with ``back``) until the widget ``#ident`` has the focus, as a clerk
    reaches a field with the keyboard."""
    for _ in range(limit):
        if pilot.app.focused is not None and pilot.app.focused.id == ident:
            return
        await press(pilot, "shift+tab" if back else "tab")
    raise AssertionError(f"Tab never reached #{ident}; focus is on {pilot.app.focused!r}")


async def choose(pilot, ident: str, label: str) -> None:
    """Pick the option whose label contains ``label`` in the dropdown ``#ident`` by keys:
    Tab to it, Enter opens it, Down to the option, Enter picks it."""
    from textual.widgets import Select

    await tab_to(pilot, ident)
    select = pilot.app.focused
    assert isinstance(select, Select), select
    await press(pilot, "enter")
    overlay = pilot.app.focused
    for _ in range(overlay.option_count + 1):
        option = overlay.get_option_at_index(overlay.highlighted) if overlay.highlighted is not None else None
        if option is not None and label in str(option.prompt):
            await press(pilot, "enter")
            return
        await press(pilot, "down")
    raise AssertionError(f"no option {label!r} in #{ident}")


async def tick_row(pilot, list_id: str, text: str) -> None:
    """Tick (Space) the row of the tick list ``#list_id`` whose label contains ``text``,
    moving to it with the arrow keys."""
    await tab_to(pilot, list_id)
    lst = pilot.app.focused
    for _ in range(lst.option_count + 1):
        if lst.highlighted is not None and text in str(lst.get_option_at_index(lst.highlighted).prompt):
            await press(pilot, "space")
            return
        await press(pilot, "down")
    raise AssertionError(f"no row {text!r} in #{list_id}")



def words(text: str) -> str:
    """Screen text with runs of whitespace (and line wraps) as single spaces."""
    return " ".join(text.split())


def dialog_words(text: str) -> str:
    """The words inside a dialog drawn on ``text`` (what lies between its ``█`` sides), so a
    message wrapped inside the dialog reads as one line."""
    inner = []
    for line in text.splitlines():
        left, right = line.find("█"), line.rfind("█")
        if 0 <= left < right:
            inner.append(line[left + 1:right])
    return words("\n".join(inner))
