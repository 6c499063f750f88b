"""A child process for the TUI cases: cold start to the first screen, or key-by-key scrolling.

``python -m claimdesk.bench.tui_child MODE WHAT URL [KEYS]``; MODE is ``app`` (ClaimdeskApp with
every plugin, on URL) or ``bare`` (a bare Textual app: the baseline). Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

# No smooth-scroll animations: a key is timed until the screen is settled, not animated.
os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")

SIZE = (80, 24)


def _rss() -> float:
    from claimdesk.bench.memory import peak_rss_mb

    return peak_rss_mb()


def _app(mode: str, url: str, rows: int):
    if mode == "app":
        from claimdesk.tui import hold_gc_until_first_screen

        hold_gc_until_first_screen()  # as `claimdesk` does before it imports the app
        from claimdesk.core import config
        from claimdesk.tui.app import ClaimdeskApp, prepare

        settings = config.Settings(db_url=url, user="bench")
        prepare(settings)
        # ansi=False: the headless driver reports 16 colours, and the app's ANSI theme switch
        # fails there ("textual-ansi" is not registered); the bench measures the normal theme.
        return ClaimdeskApp(settings, ansi=False)
    from textual.app import App
    from textual.widgets import DataTable, Footer, Header, Static

    class Bare(App):
        def compose(self):
            yield Header()
            yield Static("bare")
            yield DataTable(id="t", cursor_type="row")
            yield Footer()

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_columns("Encounter", "Patient", "DOS", "Type", "Open")
            table.add_rows([(str(i), f"Patient {i}", "2026-01-01", "medical", "12.50") for i in range(rows)])
            table.focus()

    return Bare()


async def _first_screen(mode: str, url: str) -> None:
    app = _app(mode, url, 0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if mode == "app":  # Home is pushed from on_mount: wait until it is the screen shown
            for _ in range(30_000):
                if type(app.screen).__name__ != "Screen":
                    break
                await asyncio.sleep(0.001)
            await pilot._wait_for_screen()
            app.screen._on_timer_update()
        print(json.dumps({"ready": True, "screen": type(app.screen).__name__, "peak_rss_mb": _rss()}), flush=True)
        app.exit()


async def _scroll(mode: str, url: str, keys: int, queue: str, rows: int) -> None:
    from textual import events
    from textual.widgets import DataTable

    app = _app(mode, url, rows)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        t0 = time.perf_counter()
        if mode == "app":
            app.open_queue(queue)
        table = None
        for _ in range(6000):  # wait for the list to be filled (its worker), at most ~60 s
            await pilot.pause(0.01)
            try:
                table = app.screen.query_one(DataTable)
            except Exception:  # noqa: BLE001 - screen not composed yet
                continue
            if table.row_count:
                break
        opened = time.perf_counter() - t0
        samples = {}
        plan = ["down"] * keys + ["pagedown"] * max(1, keys // 4) + ["end", "home"]
        for key in plan:
            # Timed: the key event handled by the screen and its widgets, then the screen
            # updated (what pilot.pause forces), without pilot's wait-for-CPU-idle sleeps.
            t = time.perf_counter()
            app._driver.send_message(events.Key(key, None))
            await pilot._wait_for_screen()
            await pilot._wait_for_screen()
            app.screen._on_timer_update()
            samples.setdefault(key, []).append(time.perf_counter() - t)
            await pilot.pause()
        print(json.dumps({"open_seconds": opened, "rows_shown": table.row_count if table else 0,
                          "samples": samples, "peak_rss_mb": _rss()}), flush=True)
        app.exit()


def main(argv: list[str]) -> None:
    """Dispatch: ``start`` or ``scroll``."""
    mode, what, url = argv[0], argv[1], argv[2]
    if what == "start":
        asyncio.run(_first_screen(mode, url))
    else:
        asyncio.run(_scroll(mode, url, int(argv[3]), argv[4], int(argv[5])))


if __name__ == "__main__":
    main(sys.argv[1:])
