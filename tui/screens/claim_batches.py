"""Claim batches: the claims queued for the next batch; B builds the batch (all payers).

Building shows a progress bar (claims done of those going out); Ctrl+K cancels it and then
nothing is written (no batch, no export file): the build is one transaction.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import claims
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table

#: Queued claims listed at once (the build sends them all; the title counts them all).
LIST_ROWS = 500


def batch_text(res: dict) -> Text:
    """The batches made and where their exports went."""
    t = Text()
    t.append(f"✔ {res['claims_sent']} claim(s) sent in {len(res['batches'])} batch(es)", style="bold")
    for b in res["batches"]:
        t.append(f"\n  batch #{b['batch_id']} {b['payer']}: {b['claims']} claim(s), due {fmt(b['total_due'])}"
                 f"  → {b['json']}")
    return t


class ClaimBatchesScreen(KeepWhileRunning, BaseScreen):
    """Queued claims by payer; B builds the next batch after a confirm."""

    TITLE = "Claim batches"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("b", "build", "Build batch"),
                Binding("f5", "reload", "Reload")]

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self.total = 0
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="cb-title", classes="facts")
        yield Table(id="cb-table", cursor_type="row")
        yield WorkProgress(id="cb-progress")
        yield Static("", id="cb-result", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Claim", "Payer", "Rank", "Enc", "Patient", "Resend")
        self.action_reload()

    def action_reload(self) -> None:
        self.call(lambda: (claims.queued_count(), claims.queued_list(limit=LIST_ROWS)),
                  done=self.fill, group="cb", exclusive=True)

    def fill(self, found: tuple[int, list[dict]]) -> None:
        self.total, self.rows = found
        shown = f" (the first {len(self.rows)} listed)" if self.total > len(self.rows) else ""
        self.query_one("#cb-title", Static).update(
            f"{self.total:,} claim(s) queued for the next batch{shown}. b builds it.")
        table = self.query_one(DataTable)
        table.clear()
        for r in self.rows:
            table.add_row(f"#{r['claim_id']}", r["payer"][:18], r["rank"], str(r["encounter_id"]), r["patient"][:20],
                          "yes" if r["resend"] else "")
        table.focus()

    def action_build(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        if self.query_one(WorkProgress).running:
            self.notify("The claim batch is still being built (Ctrl+K cancels it).", timeout=5)
            return
        self.app.push_screen(ConfirmScreen("Build the claim batch now?",
                                           [f"{self.total:,} queued claim(s) (and any newly due) will be sent."],
                                           yes="Build", no="Back"),
                             callback=lambda yes: self.build() if yes else None)

    def build(self) -> None:
        """Build the batch in a worker, with a bar of claims done; Ctrl+K cancels it."""
        self.query_one("#cb-result", Static).update("")
        run_with_progress(self, claims.build_batch, bar=self.query_one(WorkProgress),
                          label="Claim batch (Ctrl+K cancels)", what="claim batch",
                          done=self.built, cancelled=self.build_cancelled, failed=self.show_error)

    def build_cancelled(self) -> None:
        self.query_one("#cb-result", Static).update("✘ Claim batch cancelled, nothing written.")

    def built(self, res: dict) -> None:
        self.query_one("#cb-result", Static).update(batch_text(res))
        self.action_reload()
