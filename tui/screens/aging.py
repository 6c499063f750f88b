"""Aging: open balances by age bucket, by payer or by patient; F9 recalculates the snapshot."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static

from claimdesk.core import clock
from claimdesk.core.errors import NotFound
from claimdesk.core.money import fmt
from claimdesk.core.services import aging
from claimdesk.tui.screens.base import BaseScreen, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine


class AgingScreen(BaseScreen):
    """The newest snapshot (or the date typed); B switches payer/patient; F9 recalculates."""

    TITLE = "Aging"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("f9", "recalc", "Recalculate"),
                Binding("f3", "toggle_by", "By payer/patient"), Binding("f5", "reload", "Reload")]

    def __init__(self):
        super().__init__()
        self.by = "payer"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label("As of ", classes="pl-label")
            yield Input(clock.today().isoformat(), id="ag-as-of", compact=True)
        yield ErrorLine(id="ag-error")
        yield Static("", id="ag-title", classes="facts")
        yield DataTable(id="ag-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Name", *[aging.BUCKET_LABELS[b] for b in aging.BUCKETS], "Total")
        self.action_reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_toggle_by(self) -> None:
        self.by = "patient" if self.by == "payer" else "payer"
        self.action_reload()

    def action_reload(self) -> None:
        self.query_one("#ag-error", ErrorLine).show("")
        as_of = self.query_one("#ag-as-of", Input).value.strip() or None
        self.call(aging.report, as_of, self.by, done=self.fill, failed=self.failed, group="aging", exclusive=True)

    def action_recalc(self) -> None:
        as_of = self.query_one("#ag-as-of", Input).value.strip() or None
        self.query_one("#ag-title", Static).update("Recalculating… (Ctrl+K cancels the wait)")
        self.call(aging.recalc, as_of, done=lambda _r: self.action_reload(), failed=self.failed, group="aging")

    def failed(self, exc: BaseException) -> None:
        text = describe_error(exc)
        if isinstance(exc, NotFound):
            text = f"{exc.message}; press F9 to calculate it"
        self.query_one("#ag-error", ErrorLine).show(text)
        self.query_one("#ag-title", Static).update("")
        self.query_one(DataTable).clear()

    def fill(self, rep: dict) -> None:
        self.query_one("#ag-title", Static).update(
            f"Aging as of {rep['as_of'].isoformat()} by {rep['by']}; open A/R {fmt(rep['totals']['total'])}. "
            "F3 by payer/patient.")
        table = self.query_one(DataTable)
        table.clear()
        for r in rep["rows"]:
            table.add_row(r["name"][:20], *[fmt(r[b]) for b in aging.BUCKETS], fmt(r["total"]))
        table.add_row("TOTAL", *[fmt(rep["totals"][b]) for b in aging.BUCKETS], fmt(rep["totals"]["total"]))
        table.focus()
