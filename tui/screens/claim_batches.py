"""Claim batches: the claims queued for the next batch; B builds the batch (all payers) and
writes each payer's 837P (when ``[clinic]`` names the billing provider) besides the readable
JSON and CSV; a claim that cannot go as an 837P stays queued and is listed with the reason.

Building shows a progress bar (claims done of those going out); Ctrl+K cancels it and then
nothing is written (no batch, no export file): the build is one transaction.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Header, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import claims
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table
from claimdesk.tui import keys

#: Queued claims listed at once (the build sends them all; the title counts them all).
LIST_ROWS = 500
#: Held claims shown with their reason after a build.
HELD_SHOWN = 5


def batch_text(res: dict) -> Text:
    """The batches made, their files (the 837P when the clinic is set up for it), and the claims
    held in the queue with the reason."""
    t = Text()
    if res["batches"]:
        where = Path(res["batches"][0]["json"]).parent
        t.append(f"✔ {res['claims_sent']} claim(s) sent in {len(res['batches'])} batch(es), files in {where}",
                 style="bold")
    else:
        t.append("No claim sent: every queued claim is held." if res.get("held") else "No claims queued: no batch made.",
                 style="bold")
    for b in res["batches"]:
        t.append(f"\n  #{b['batch_id']} {b['payer'][:18]} ({b['claims']}) due {fmt(b['total_due'])}"
                 f"  {Path(b.get('x12') or b['json']).name}")
    if res.get("held"):
        t.append(f"\n✘ {len(res['held'])} claim(s) held in the queue (fix and build again):", style="bold")
        for h in res["held"][:HELD_SHOWN]:
            t.append(f"\n  #{h['claim_id']} enc {h['encounter_id']} {h['patient'][:18]}: {h['reason']}")
        if len(res["held"]) > HELD_SHOWN:
            t.append(f"\n  … and {len(res['held']) - HELD_SHOWN} more (claimdesk claims batch lists them all)")
    if not res.get("x12", True) and res["batches"]:
        t.append("\nNo 837P written: set " + ", ".join(res["x12_missing"]) + " in the config file.")
    return t


class ClaimBatchesScreen(KeepWhileRunning, BaseScreen):
    """Queued claims by payer; B builds the next batch after a confirm."""

    TITLE = "Claim batches"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("b", "build", "Build batch"),
                keys.look_again("reload")]

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
                          "void" if r["voids"] else "yes" if r["resend"] else "")
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
