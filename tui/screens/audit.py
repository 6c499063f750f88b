"""Audit log: every workflow's event (who, when, what, encounter, why), newest first."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from claimdesk.core.services import views
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.table import Table, clip
from claimdesk.tui import keys


def event_text(e: dict) -> Text:
    """One event's inputs and journal entries."""
    t = Text()
    t.append(f"#{e['audit_id']} {e['action']}", style="bold")
    t.append(f" by {e['user']} at {e['at'][:16]}; encounter {e['encounter_id'] or '—'}, "
             f"patient {e['patient_id'] or '—'}; entries {', '.join(f'#{i}' for i in e['entries']) or 'none'}\n")
    if e["reason"]:
        t.append(f"Why: {e['reason']}\n")
    t.append("Inputs: " + json.dumps(e["inputs"], sort_keys=True, default=str))
    return t


class AuditScreen(BaseScreen):
    """The newest 200 events; type part of an action key to filter; Enter shows one."""

    TITLE = "Audit log"
    BINDINGS = [Binding("escape", "back", "Back"), keys.find("focus_filter", "Filter"),
                keys.look_again("reload")]

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label("Action ", classes="pl-label")
            yield Input(placeholder="filter, e.g. credit or action.non_billable", id="audit-filter", compact=True)
        yield Table(id="audit-table", cursor_type="row")
        yield Static("", id="audit-detail", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("#", "When", "User", "Action", "Enc", "Why")
        self.action_reload()

    def action_focus_filter(self) -> None:
        self.query_one("#audit-filter", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        text = self.query_one("#audit-filter", Input).value.strip() or None
        self.call(views.audit_events, action=text, limit=200, done=self.fill, group="audit", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for e in rows:
            table.add_row(str(e["audit_id"]), e["at"][5:16], clip(e["user"], 10), clip(e["action"], 30),
                          str(e["encounter_id"] or "—"), clip(e["reason"], 16))
        table.focus()
        self.query_one("#audit-detail", Static).update(f"{len(rows)} event(s) shown. Enter shows the inputs.")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows):
            self.query_one("#audit-detail", Static).update(event_text(self.rows[event.cursor_row]))
