"""Statements: the statement run (F9) under the configured rules, and one patient's statement now.

The run shows a progress bar (patients done of those due); Ctrl+K cancels it and then
nothing is written (no statement, no audit event): the run is one transaction.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Label, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import statements
from claimdesk.tui.screens.base import BaseScreen, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress


def run_text(res: dict) -> Text:
    """What the statement run made and whom it skipped, and why."""
    t = Text()
    t.append(f"✔ {res['statements']} statement(s) made, {fmt(res['amount_due'])} due in all", style="bold")
    for m in res["generated"]:
        t.append(f"\n  statement #{m['statement_id']} patient #{m['patient_id']} due {fmt(m['amount_due'])}")
    for s in res["skipped"]:
        t.append(f"\n  skipped {s['account_no']}: {s['reason']}")
    return t


class StatementsScreen(KeepWhileRunning, BaseScreen):
    """F9 runs statements for everyone due; a patient ID + Enter makes that patient's now."""

    TITLE = "Statements"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("f9", "run_all", "Statement run")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("F9 runs statements for every patient due (minimum balance, interval and final-notice "
                     "rules apply). Or type a patient ID and Enter for that patient's statement now.",
                     classes="facts")
        with Horizontal(classes="line"):
            yield Label("Patient ", classes="pl-label")
            yield Input(placeholder="patient ID", id="st-patient", compact=True, restrict=r"[0-9]*")
        yield ErrorLine(id="st-error")
        yield WorkProgress(id="st-progress")
        yield Static("", id="st-result", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#st-patient", Input).focus()

    def _rules(self):
        settings = getattr(self.app, "settings", None)
        return settings.statements if settings is not None else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#st-error", ErrorLine).show("")
        self.call(statements.generate_for, event.value.strip(), rules=self._rules(), done=self.one_done,
                  failed=self.failed)

    def one_done(self, res: dict) -> None:
        self.query_one("#st-result", Static).update(
            f"✔ Statement #{res['statement_id']} for patient #{res['patient_id']}: due {fmt(res['amount_due'])}"
            + (f" (replaces #{res['voided_statement_id']})" if res.get("voided_statement_id") else ""))

    def action_run_all(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        if self.query_one(WorkProgress).running:
            self.notify("The statement run is still going (Ctrl+K cancels it).", timeout=5)
            return
        self.app.push_screen(ConfirmScreen("Run statements for every patient due?", yes="Run", no="Back"),
                             callback=lambda yes: yes and self.start_run())

    def start_run(self) -> None:
        """The statement run in a worker, with a bar of patients done; Ctrl+K cancels it."""
        self.query_one("#st-error", ErrorLine).show("")
        self.query_one("#st-result", Static).update("")
        run_with_progress(self, statements.generate_all, rules=self._rules(), bar=self.query_one(WorkProgress),
                          label="Statement run (Ctrl+K cancels)", what="statement run",
                          done=self.run_done, cancelled=self.run_cancelled, failed=self.failed)

    def run_cancelled(self) -> None:
        self.query_one("#st-result", Static).update("✘ Statement run cancelled, nothing written.")

    def run_done(self, res: dict) -> None:
        self.query_one("#st-result", Static).update(run_text(res))

    def failed(self, exc: BaseException) -> None:
        self.query_one("#st-error", ErrorLine).show(describe_error(exc))
