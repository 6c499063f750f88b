"""Daysheet (the day's entries by kind) and provider activity (the payroll view)."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from claimdesk.core import clock
from claimdesk.core.errors import InputError
from claimdesk.core.money import fmt
from claimdesk.core.services import daysheets
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.table import Table, clip
from claimdesk.tui import keys


def parse_day(text: str, field: str) -> dt.date:
    """A YYYY-MM-DD date typed by the clerk, or an error naming the field."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError({field: [f"{text.strip() or '(blank)'} is not a date (YYYY-MM-DD)"]}) from None


def load_sheet(day_text: str, start_text: str, end_text: str) -> dict:
    """The daysheet of one day and provider activity for a range (runs in a worker)."""
    day = parse_day(day_text, "day")
    start, end = parse_day(start_text, "from"), parse_day(end_text, "to")
    return {"sheet": daysheets.daysheet_summary(day), "activity": daysheets.provider_activity(start, end)}


class DaysheetScreen(BaseScreen):
    """Edit the dates and press Enter; F2 closes the shown day's daysheet (after a confirm)."""

    TITLE = "Daysheet"
    BINDINGS = [Binding("escape", "back", "Back"), keys.look_again("reload"),
                keys.do_it("close_day", "Close daysheet")]

    def compose(self) -> ComposeResult:
        today = clock.today()
        yield Header()
        with Horizontal(classes="line", id="ds-line"):
            yield Label("Day ", classes="ds-label")
            yield Input(today.isoformat(), id="ds-day", compact=True)
            yield Label("  Activity from ", classes="ds-label2")
            yield Input(today.replace(day=1).isoformat(), id="ds-from", compact=True)
            yield Label(" to ", classes="ds-label")
            yield Input(today.isoformat(), id="ds-to", compact=True)
        yield ErrorLine(id="ds-error")
        yield Static("", id="ds-summary", classes="facts")
        yield Table(id="ds-kinds", cursor_type="row")
        yield Label("Provider activity", classes="pane-title")
        yield Table(id="ds-providers", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ds-kinds", DataTable).add_columns("Kind", "Entries", "A/R change")
        self.query_one("#ds-providers", DataTable).add_columns("Provider", "Charges", "Payments", "Adjust.",
                                                               "Reversals", "RC fees")
        self.action_reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#ds-error", ErrorLine).show("")
        self.call(load_sheet, *(self.query_one(f"#ds-{n}", Input).value for n in ("day", "from", "to")),
                  done=self.fill, failed=self.failed, group="daysheet", exclusive=True)

    def failed(self, exc: BaseException) -> None:
        from claimdesk.tui.screens.base import describe_error

        self.query_one("#ds-error", ErrorLine).show(describe_error(exc))

    def fill(self, info: dict) -> None:
        sheet = info["sheet"]
        self.query_one("#ds-summary", Static).update(
            f"Daysheet {sheet['day']}: {sheet['status']}, {sheet['entries']} entries")
        kinds = self.query_one("#ds-kinds", DataTable)
        kinds.clear()
        for kind, v in sorted(sheet["by_kind"].items()):
            kinds.add_row(kind, str(v["entries"]), fmt(v["ar_change"], sign=True))
        provs = self.query_one("#ds-providers", DataTable)
        provs.clear()
        for p in info["activity"]:
            provs.add_row(clip(p["provider"], 20), fmt(p["charges"]), fmt(p["payments"]), fmt(p["adjustments"]),
                          fmt(p["reversals"]), fmt(p["returned_check_fees"]))

    def action_close_day(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        day_text = self.query_one("#ds-day", Input).value

        def answer(yes: bool | None) -> None:
            if yes:
                self.call(lambda: daysheets.close_daysheet(parse_day(day_text, "day")),
                          done=lambda _r: self.action_reload(), failed=self.failed)

        self.app.push_screen(ConfirmScreen(f"Close the daysheet of {day_text}?",
                                           ["A closed daysheet takes no new entries."], yes="Close", no="Back"),
                             callback=answer)
