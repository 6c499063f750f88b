"""Payment plans: the active plans with what is due now and what was missed; F4 makes a plan
for a patient, F2 runs the missed-instalment check (after a confirm), F5 reloads.

The core (``plans``) holds every rule: the schedule, what was paid (from the ledger), the
Patient balance queue for a missed instalment, statements showing only what is due.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from claimdesk.core.models.plans import FREQUENCIES
from claimdesk.core.money import fmt
from claimdesk.core.services import plans
from claimdesk.tui import keys
from claimdesk.tui.screens.base import BaseModal, BaseScreen, SubmitKey
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import labelled
from claimdesk.tui.widgets.table import Table, right



class PaymentPlansScreen(BaseScreen):
    """Active plans; F4 new plan, F2 check missed instalments, F5 reload."""

    TITLE = "Payment plans"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("check", "Check missed"),
        keys.new("new_plan", "New plan"),
        keys.look_again("reload"),
    ]
    DEFAULT_CSS = """
    #pp-title { max-height: 3; }
    """

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="pp-title", classes="facts")
        yield Static("", id="pp-result", classes="result")
        yield Table(id="pp-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#pp-result").display = False
        self.query_one(DataTable).add_columns("Plan", "Patient", right("Each"), "Every", right("Open"),
                                              right("Due now"), "Missed")
        self.action_reload()

    def action_reload(self) -> None:
        self.call(plans.list_plans, "active", done=self.fill, group="plans", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        due = sum(r["due_now"] for r in rows)
        missed = sum(1 for r in rows if r["missed"])
        self.query_one("#pp-title", Static).update(Text(
            f"{len(rows)} active plan(s), {fmt(due)} due now, {missed} with a missed instalment. "
            f"F4 new plan · F2 check missed · F5 reload"))
        table = self.query_one(DataTable)
        table.clear()
        for r in rows:
            table.add_row(f"#{r['plan_id']}", f"#{r['patient_id']}", right(fmt(r["amount"])), r["frequency"],
                          right(fmt(r["open"])), right(fmt(r["due_now"])),
                          ", ".join(map(str, r["missed"])) or "-", key=str(r["plan_id"]))
        table.focus()

    def action_check(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen(
            "Check every plan for missed instalments?",
            ["A plan that missed one puts its encounters that still owe on the Patient balance queue, "
             "tagged \"Plan missed\"; a plan paid off is completed."], yes="Check", no="Back"),
            callback=lambda yes: self.call(plans.check, done=self.checked) if yes else None)

    def checked(self, res: dict) -> None:
        box = self.query_one("#pp-result", Static)
        box.update(Text(f"✔ As of {res['as_of']}: {len(res['missed'])} plan(s) missed an instalment "
                        f"(to Patient balance), {len(res['caught_up'])} caught up, "
                        f"{len(res['completed'])} completed."))
        box.display = True
        self.action_reload()

    def action_new_plan(self) -> None:
        self.app.push_screen(NewPlanScreen(), callback=self.made)

    def made(self, res: dict | None) -> None:
        if res:
            box = self.query_one("#pp-result", Static)
            box.update(Text(f"✔ Plan #{res['plan_id']}: {fmt(res['balance'])} in {len(res['instalments'])} "
                            f"instalment(s) of {fmt(res['amount'])} {res['frequency']} from {res['start_on']}; "
                            f"{fmt(res['due_now'])} due now."))
            box.display = True
            self.action_reload()


#: The dialog's labels for the core's field names.
PLAN_LABELS = {"patient_id": "Patient", "amount": "Amount", "frequency": "Every", "start_on": "Start"}


class NewPlanScreen(BaseModal):
    """Patient, amount per instalment, frequency, start; F2 makes the plan."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("submit", "Make plan")]
    DEFAULT_CSS = """
    #plan-dialog .line Input, #plan-dialog .line Select { width: 1fr; }
    """

    def __init__(self):
        super().__init__(classes="dialog-screen")
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="plan-dialog"):
            yield Label("New payment plan for a patient's open balance", classes="dialog-title")
            for name, label, placeholder in (("patient_id", "Patient ID *", "the patient's id"),
                                             ("amount", "Amount *", "per instalment, e.g. 50.00")):
                with Horizontal(classes="line"):
                    yield Label(label, classes="rc-label")
                    yield Input(placeholder=placeholder, id=name, compact=True)
            with Horizontal(classes="line"):
                yield Label("Every *", classes="rc-label")
                yield Select([(f, f) for f in FREQUENCIES], id="frequency", compact=True, allow_blank=False,
                             value="monthly")
            with Horizontal(classes="line"):
                yield Label("Start", classes="rc-label")
                yield Input(placeholder="YYYY-MM-DD (default today)", id="start_on", compact=True)
            yield ErrorLine(id="plan-error")
            with Horizontal(classes="buttons"):
                yield Button("Make plan (F2)", id="submit", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#patient_id", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        data = {name: self.query_one(f"#{name}", Input).value.strip() for name in ("patient_id", "amount", "start_on")}
        data["frequency"] = self.query_one("#frequency", Select).value
        if not data["start_on"]:
            data.pop("start_on")
        self.query_one("#plan-error", ErrorLine).show("")
        key = self.submit_key.for_payload(data)
        self.call(plans.create, data, idempotency_key=key, done=self.done, failed=self.failed,
                  busy=self.query_one("#submit"))

    def done(self, res: dict) -> None:
        self.submit_key.done()
        self.dismiss(res)

    def failed(self, exc: BaseException) -> None:
        self.query_one("#plan-error", ErrorLine).show(labelled(exc, PLAN_LABELS))
