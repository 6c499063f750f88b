"""Aging: open balances by age bucket, by payer or by patient; F9 recalculates the snapshot,
of the balances on the date (point in time, the month-end report) or of today's balances
aged from it (base date), as the "Balances" choice says; the title says which is shown.

Recalculating is one SQL statement, so its bar is an animation, not a percentage; Ctrl+K
cancels it and then nothing is written (the earlier snapshot stays).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from claimdesk.core import clock
from claimdesk.core.errors import NotFound
from claimdesk.core.money import fmt
from claimdesk.core.services import aging
from claimdesk.tui.screens.base import BaseScreen, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table
from claimdesk.tui import keys


class AgingScreen(KeepWhileRunning, BaseScreen):
    """The newest snapshot (or the date typed); F7 switches payer/patient; F9 recalculates."""

    TITLE = "Aging"
    BINDINGS = [Binding("escape", "back", "Back"), keys.run_all("recalc", "Recalculate"),
                keys.related("toggle_by", "By payer/patient"), keys.look_again("reload")]

    DEFAULT_CSS = """
    AgingScreen #ag-as-of { width: 14; }
    AgingScreen #ag-mode { width: 30; }
    """

    def __init__(self):
        super().__init__()
        self.by = "payer"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label("As of ", classes="pl-label")
            yield Input(clock.today().isoformat(), id="ag-as-of", compact=True)
            yield Label("Balances ", classes="pl-label")
            yield Select([("on that date", "point_in_time"), ("today's, aged from it", "base_date")],
                         value="point_in_time", allow_blank=False, id="ag-mode", compact=True)
        yield ErrorLine(id="ag-error")
        yield WorkProgress(id="ag-progress")
        yield Static("", id="ag-title", classes="facts")
        # no cell padding: the amounts carry their own space, so all six money columns and a name fit 80 columns
        yield Table(id="ag-table", cursor_type="row", cell_padding=0)
        yield Footer()

    def on_mount(self) -> None:
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
        """Recalculate in a worker under an indeterminate bar; Ctrl+K cancels (nothing written)."""
        bar = self.query_one(WorkProgress)
        if bar.running:
            self.notify("The aging recalculation is still going (Ctrl+K cancels it).", timeout=5)
            return
        as_of = self.query_one("#ag-as-of", Input).value.strip() or None
        self.query_one("#ag-error", ErrorLine).show("")
        mode = self.query_one("#ag-mode", Select).value
        run_with_progress(self, aging.recalc, as_of, mode=mode, bar=bar, determinate=False,
                          label="Aging recalc (Ctrl+K cancels)", what="aging recalculation",
                          done=lambda _r: self.action_reload(), cancelled=self.recalc_cancelled, failed=self.failed)

    def recalc_cancelled(self) -> None:
        self.query_one("#ag-title", Static).update("✘ Aging recalculation cancelled, nothing written.")

    def failed(self, exc: BaseException) -> None:
        text = describe_error(exc)
        if isinstance(exc, NotFound) and getattr(exc, "field", None) == "as_of":  # no snapshot: offer the key
            as_of = self.query_one("#ag-as-of", Input).value.strip()
            text = f"no aging snapshot for {as_of or 'any date'} yet: press F9 to calculate it"
        self.query_one("#ag-error", ErrorLine).show(text)
        self.query_one("#ag-title", Static).update("")
        self.query_one(DataTable).clear(columns=True)

    def fill(self, rep: dict) -> None:
        self.query_one("#ag-title", Static).update(
            f"Aging as of {rep['as_of'].isoformat()} by {rep['by']}; open A/R {fmt(rep['totals']['total'])}. "
            f"F7 by payer/patient.\n{rep['mode_label'].capitalize()}.")
        table = self.query_one(DataTable)
        table.clear(columns=True)
        keys = (*aging.BUCKETS, "total")
        money = max(len(fmt(v)) for v in [*(r[k] for r in rep["rows"] for k in keys),
                                          *(rep["totals"][k] for k in keys)]) + 1
        name = min(28, max(10, (self.size.width or 80) - len(keys) * money - 4))

        def cells(label: str, values, style: str = "") -> list[Text]:
            shown = label if len(label) <= name - 1 else label[: name - 2] + "…"
            return [Text(" " + shown, style=style), *(Text(fmt(v).rjust(money), style=style) for v in values)]

        table.add_column(Text(" " + ("Payer" if rep["by"] == "payer" else "Patient")), width=name)
        for k in keys:
            table.add_column(Text((aging.BUCKET_LABELS.get(k) or "Total").rjust(money)), width=money)
        for r in rep["rows"]:
            table.add_row(*cells(r["name"], [r[k] for k in keys]))
        table.add_row(*cells("TOTAL", [rep["totals"][k] for k in keys], "bold"))
        table.focus()
