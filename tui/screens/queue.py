"""One work queue: the encounters waiting in it; Enter opens Advanced Actions on one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import views
from claimdesk.tui.screens.base import BaseScreen


class QueueScreen(BaseScreen):
    """Encounters in a work queue, oldest date of service first."""

    TITLE = "Work queue"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Advanced Actions", show=True),
        Binding("l", "ledger", "Patient ledger"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="queue-title", classes="facts")
        yield DataTable(id="queue-table", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Encounter", "Patient", "DOS", "Type", "Open")
        self.action_reload()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.call(views.queue_encounters, self.key, done=self.fill, group="queue", exclusive=True)

    def fill(self, info: dict) -> None:
        self.rows = info["rows"]
        self.sub_title = info["name"]
        shown = f"{len(self.rows)} of {info['total']}" if info["total"] > len(self.rows) else str(info["total"])
        self.query_one("#queue-title", Static).update(
            f"Queue {info['name']}: {shown} encounter(s). Enter opens Advanced Actions.")
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for r in self.rows:
            table.add_row(str(r["encounter_id"]), r["patient"][:28], r["dos"], r["claim_type"], fmt(r["balance"]),
                          key=str(r["encounter_id"]))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        table.focus()

    def _current(self) -> dict | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_advanced(row["encounter_id"])

    def action_ledger(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_ledger(row["patient_id"])
