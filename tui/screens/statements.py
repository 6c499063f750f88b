"""Statements: the statement run (F9) under the configured rules; one patient's statement
now (type the ID, Enter: it asks first, saying what it voids and whether the run would have
skipped the patient); a patient's statements listed (F6), viewed (Enter on one) and
regenerated (F2, or R in the view).

The run shows a progress bar (patients done of those due); Ctrl+K cancels it and then
nothing is written (no statement, no audit event): the run is one transaction. The
statements made are listed in the table, Enter shows one as it prints; F7 lists the
patients the run skipped, each with the reason (Enter on one says it in full), and F7
again the statements made.
"""

from __future__ import annotations

from typing import ClassVar

from claimdesk.core.money import fmt
from claimdesk.core.services import patient_views, statements
from claimdesk.core.validation import typed_id
from claimdesk.tui.screens.base import BaseScreen, SubmitKey, describe_error
from claimdesk.tui.screens.statement_view import (
    RegenerateScreen,
    StatementViewScreen,
    settings_rules,
)
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import (
    KeepWhileRunning,
    WorkProgress,
    run_with_progress,
)
from claimdesk.tui.widgets.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from claimdesk.tui import keys

#: The table's columns: statements (made by a run, or one patient's), or the patients a run skipped.
STATEMENT_COLUMNS = ("Statement", "Patient", "Date", "Status", "Due")
SKIPPED_COLUMNS = ("Patient", "Why the run skipped them (Enter: in full)")

HINT = ("F9 runs statements for every patient due (minimum balance, interval and final-notice rules "
        "apply; F7 then lists whom it skipped, and why). Or type a patient ID: Enter makes that patient's "
        "statement now (it asks first), F6 lists their statements, F2 regenerates the active one.")


def run_text(res: dict) -> Text:
    """What the statement run made, and how many it skipped (F7 lists them with the reason)."""
    t = Text()
    t.append(f"✔ {res['statements']} statement(s) made, {fmt(res['amount_due'])} due in all", style="bold")
    skipped = res["skipped"]
    if skipped:
        t.append(f"; {len(skipped)} patient(s) skipped, each with the reason: F7 lists them.")
    if res["generated"]:
        t.append("\nEnter on a statement below shows it.")
    return t


def patient_statements(patient_id_text: str) -> dict:
    """One patient's statements, newest first (runs in a worker)."""
    ledger = patient_views.patient_ledger(patient_id_text)
    return {"patient_id": ledger["patient_id"], "name": ledger["name"],
            "rows": [{"statement_id": s["id"], "patient_id": ledger["patient_id"], "name": ledger["name"],
                      "status": s["status"], "date": s["generated_on"], "amount_due": s["amount_due"]}
                     for s in reversed(ledger["statements"])]}


def made_rows(res: dict) -> list[dict]:
    """The statements a run made, as table rows (runs in a worker)."""
    patients = {m["statement_id"]: m["patient_id"] for m in res["generated"]}
    names = patient_views.patient_names(sorted(set(patients.values())))
    return [{"statement_id": s["id"], "patient_id": patients[s["id"]], "name": names.get(patients[s["id"]], ""),
             "status": s["status"], "date": s["generated_on"], "amount_due": s["amount_due"]}
            for s in patient_views.statements_by_id(list(patients))]


def run_rows(res: dict) -> dict:
    """The run's table rows: the statements made, and the patients skipped with the reason (a worker)."""
    names = patient_views.patient_names(sorted({s["patient_id"] for s in res["skipped"]}))
    return {"made": made_rows(res),
            "skipped": [{**s, "name": names.get(s["patient_id"], "")} for s in res["skipped"]]}


class StatementsScreen(KeepWhileRunning, BaseScreen):
    """F9 runs statements for everyone due; a patient ID + Enter makes that patient's now."""

    TITLE = "Statements"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back"), keys.run_all("run_all", "Statement run"),
                keys.find("list_patient"), keys.do_it("regenerate", "Regenerate"),
                keys.related("toggle_skipped", "Skipped")]

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []
        self.showing = "statements"  # or "skipped": the patients the last run skipped
        self.run_rows: dict | None = None  # the last run's {"made": rows, "skipped": rows}
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(HINT, classes="facts", id="st-hint")
        with Horizontal(classes="line"):
            yield Label("Patient ", classes="pl-label")
            yield Input(placeholder="patient ID", id="st-patient", compact=True, restrict=r"[0-9]*")
        yield ErrorLine(id="st-error")
        yield WorkProgress(id="st-progress")
        yield Static("", id="st-result", classes="result")
        yield Table(id="st-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*STATEMENT_COLUMNS)
        self.query_one("#st-patient", Input).focus()

    def _patient(self) -> str | None:
        """The typed patient ID, or None (and say so)."""
        text = self.query_one("#st-patient", Input).value.strip()
        if not text:
            self.query_one("#st-error", ErrorLine).show("type the patient ID first")
            self.query_one("#st-patient", Input).focus()
            return None
        return text

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = self._patient()
        if text is None:
            return
        self.query_one("#st-error", ErrorLine).show("")
        self.call(statements.before_one, text, rules=settings_rules(self.app), done=self.ask_one, failed=self.failed)

    def ask_one(self, info: dict) -> None:
        """Ask before making the statement: what it voids, and the run's rule it skips."""
        from claimdesk.tui.screens.confirm import ConfirmScreen

        lines = [("Patient", f"#{info['patient_id']} {info['name']} ({info['account_no']})"),
                 ("Owes now", fmt(info["amount_due"]) + (f" (after {fmt(info['credit_used'])} of credit on account)"
                                                          if info.get("credit_used") else ""))]
        active = info["active"]
        if active:
            lines.append(("Voids", (f"statement #{active['statement_id']} of {active['generated_on']} "
                                   f"({active['days_old']} days ago), due {fmt(active['amount_due'])}")))
        if info["run_would_skip"]:
            lines.append(("Run rule", f"the statement run would skip this patient: {info['run_would_skip']}"))
        text = str(info["patient_id"])
        self.app.push_screen(ConfirmScreen(f"Make a statement for patient #{info['patient_id']} now?", lines,
                                           yes="Make it", no="Cancel"),
                             callback=lambda yes: self.generate_one(text) if yes else None)

    def generate_one(self, text: str) -> None:
        """A statement for the typed patient now; a double Enter makes one statement, not two."""
        self.query_one("#st-error", ErrorLine).show("")
        key = self.submit_key.for_payload(text)
        self.call(statements.generate_for, text, rules=settings_rules(self.app), idempotency_key=key,
                  done=self.one_done, failed=self.failed)

    def one_done(self, res: dict) -> None:
        self.submit_key.done()
        self.query_one("#st-result", Static).update(Text(
            f"✔ Statement #{res['statement_id']} for patient #{res['patient_id']}: due {fmt(res['amount_due'])}"
            + (f" (replaces #{res['voided_statement_id']})" if res.get("voided_statement_id") else "")
            + ". Enter shows it."))
        self.list_patient(str(res["patient_id"]))

    # -- one patient's statements ------------------------------------------------------------
    def action_list_patient(self) -> None:
        text = self._patient()
        if text is not None:
            self.query_one("#st-error", ErrorLine).show("")
            self.list_patient(text)

    def list_patient(self, text: str) -> None:
        self.call(patient_statements, text, done=self.show_patient, failed=self.failed, group="list", exclusive=True)

    def show_patient(self, info: dict) -> None:
        self.fill(info["rows"])
        if not info["rows"]:
            self.query_one("#st-result", Static).update(Text(f"{info['name']} has no statement yet."))

    def _columns(self, showing: str) -> DataTable:
        """The table, cleared, with the columns of what it is about to show."""
        table = self.query_one(DataTable)
        if showing != self.showing:
            table.clear(columns=True)
            table.add_columns(*(SKIPPED_COLUMNS if showing == "skipped" else STATEMENT_COLUMNS))
            self.showing = showing
        else:
            table.clear()
        return table

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        table = self._columns("statements")
        for r in rows:
            who = f"#{r['patient_id']} {r['name']}" if r.get("name") else f"#{r['patient_id']}"
            table.add_row(f"#{r['statement_id']}", who[:32], r["date"], r["status"], fmt(r["amount_due"]))
        if rows:
            table.move_cursor(row=0)
            table.focus()

    def fill_skipped(self, rows: list[dict]) -> None:
        self.rows = rows
        table = self._columns("skipped")
        for r in rows:
            table.add_row(f"#{r['patient_id']} {r['name']}"[:26], r["reason"])
        if rows:
            table.move_cursor(row=0)
            table.focus()

    def action_toggle_skipped(self) -> None:
        """F7: the patients the last run skipped (with the reason), or again the statements it made."""
        if self.run_rows is None:
            self.notify("Run statements first (F9): F7 then lists the patients the run skipped.", timeout=5)
        elif self.showing == "skipped":
            self.fill(self.run_rows["made"])
        elif not self.run_rows["skipped"]:
            self.notify("The last statement run skipped nobody.", timeout=5)
        else:
            self.fill_skipped(self.run_rows["skipped"])

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.highlighted_row(self.rows)
        if row is None:
            return
        if self.showing == "skipped":
            self.query_one("#st-patient", Input).value = str(row["patient_id"])
            self.query_one("#st-result", Static).update(Text.assemble(
                (f"#{row['patient_id']} {row['name']} ({row['account_no']}) skipped: ", "bold"), row["reason"],
                ". F6 lists their statements; Enter in the Patient field makes one now (it asks first)."))
            return
        self.app.push_screen(StatementViewScreen(row["statement_id"], row["patient_id"]),
                             callback=lambda _r: self.refresh_list(row["patient_id"]))

    def refresh_list(self, patient_id: int) -> None:
        """Back from a statement (maybe regenerated): list that patient's statements again."""
        if self.rows and all(r["patient_id"] == patient_id for r in self.rows):
            self.list_patient(str(patient_id))

    # -- regenerate ------------------------------------------------------------------------------
    def action_regenerate(self) -> None:
        text = self._patient()
        if text is None:
            return
        patient_id = typed_id(text)
        if patient_id is None:
            self.query_one("#st-error", ErrorLine).show("type the patient's ID (digits)")
            return
        self.app.push_screen(RegenerateScreen(patient_id), callback=self.regenerated)

    def regenerated(self, res: dict | None) -> None:
        if res:
            self.query_one("#st-result", Static).update(Text(
                f"✔ Statement #{res['statement_id']} for patient #{res['patient_id']}: due {fmt(res['amount_due'])} "
                f"(#{res['voided_statement_id']} is void). Enter shows it."))
            self.list_patient(str(res["patient_id"]))

    # -- the statement run -----------------------------------------------------------------------
    def action_run_all(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        if self.query_one(WorkProgress).running:
            self.notify("The statement run is still going (Ctrl+K cancels it).", timeout=5)
            return
        self.app.push_screen(ConfirmScreen("Run statements for every patient due?",
                                           [("Patients below the minimum balance, sent one too recently, or "
                                            "past their final notice are skipped, each with the reason.")],
                                           yes="Run", no="Back"),
                             callback=lambda yes: yes and self.start_run())

    def start_run(self) -> None:
        """The statement run in a worker, with a bar of patients done; Ctrl+K cancels it."""
        self.query_one("#st-error", ErrorLine).show("")
        self.query_one("#st-result", Static).update("")
        run_with_progress(self, statements.generate_all, rules=settings_rules(self.app),
                          bar=self.query_one(WorkProgress), label="Statement run (Ctrl+K cancels)",
                          what="statement run", done=self.run_done, cancelled=self.run_cancelled, failed=self.failed)

    def run_cancelled(self) -> None:
        self.query_one("#st-result", Static).update("✘ Statement run cancelled, nothing written.")

    def run_done(self, res: dict) -> None:
        self.query_one("#st-result", Static).update(run_text(res))
        self.call(run_rows, res, done=self.show_run, group="list", exclusive=True)

    def show_run(self, rows: dict) -> None:
        self.run_rows = rows
        self.fill(rows["made"])

    def failed(self, exc: BaseException) -> None:
        self.query_one("#st-error", ErrorLine).show(describe_error(exc))
