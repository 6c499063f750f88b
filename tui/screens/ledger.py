"""Patient ledger: activity with running balance, charges and splits, credits,
adjustments, statements; the patient's balances and unapplied money on top."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static, TabbedContent, TabPane

from claimdesk.core.money import fmt
from claimdesk.core.services import patient_views
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.error_line import ErrorLine

TABLES = {
    "activity": ("Date", "Entry", "Kind", "Memo", "Change", "Balance"),
    "charges": ("Charge", "Enc", "DOS", "Code", "Fee", "Open", "Splits"),
    "credits": ("Credit", "Voucher", "Method", "Posted", "Drawn", "Applied", "Unapplied"),
    "adjustments": ("Charge", "Date", "Kind", "Reason", "Amount", "Memo"),
    "statements": ("Statement", "Date", "Status", "Due", "Void reason"),
}

RANK_SHORT = {"primary": "pri", "secondary": "sec", "tertiary": "ter", "patient": "pat"}


def rows_for(ledger: dict) -> dict[str, list[tuple]]:
    """The ledger as table rows, amounts formatted."""
    return {
        "activity": [(a["date"], f"#{a['entry_id']}", a["kind"] + (" (rev)" if a["reversal"] else ""),
                      a["memo"][:24], fmt(a["change"], sign=True), fmt(a["running"])) for a in ledger["activity"]],
        "charges": [(f"#{c['charge_id']}", str(c["encounter_id"]), c["dos"], c["code"], fmt(c["fee"]), fmt(c["balance"]),
                     " ".join(f"{RANK_SHORT.get(s['rank'], s['rank'])}:{fmt(s['balance'])}{'D' if s['denied'] else ''}"
                              for s in c["splits"])) for c in ledger["charges"]],
        "credits": [(f"#{c['credit_id']}", f"#{c['voucher_id']}", c["method"], c["posted_on"], fmt(c["drawn"]),
                     fmt(c["applied"]), fmt(c["unapplied"])) for c in ledger["credits"]],
        "adjustments": [(f"#{a['charge_id']}", a["date"], a["kind"], a["reason"], fmt(a["amount"]), a["memo"][:20])
                        for a in ledger["adjustments"]],
        "statements": [(f"#{s['id']}", s["generated_on"], s["status"], fmt(s["amount_due"]), s["void_reason"][:24])
                       for s in ledger["statements"]],
    }


class PatientLedgerScreen(BaseScreen):
    """Type a patient ID (or last name) and Enter; keys 1-5 switch the tabs."""

    TITLE = "Patient ledger"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f6", "focus_patient", "Patient"),
        Binding("f5", "reload", "Reload"),
        *[Binding(str(n), f"tab('{name}')", name.capitalize(), show=False) for n, name in enumerate(TABLES, 1)],
    ]

    def __init__(self, patient_id=None):
        super().__init__()
        self.initial = patient_id
        self.patient_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line", id="ledger-line"):
            yield Label("Patient ", classes="pl-label")
            yield Input(placeholder="ID or last name, then Enter", id="ledger-patient", compact=True)
        yield ErrorLine(id="ledger-error")
        yield Static("", id="ledger-balances", classes="facts")
        with TabbedContent(id="ledger-tabs"):
            for n, (name, columns) in enumerate(TABLES.items(), 1):
                with TabPane(f"{n} {name.capitalize()}", id=f"tab-{name}"):
                    table = DataTable(id=f"ledger-{name}", cursor_type="row")
                    table.add_columns(*columns)
                    yield table
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#ledger-patient", Input)
        if self.initial is not None:
            box.value = str(self.initial)
            self.action_reload()
        else:
            box.focus()

    def action_tab(self, name: str) -> None:
        """Show one tab (keys 1-5) and put the cursor in its table."""
        self.query_one("#ledger-tabs", TabbedContent).active = f"tab-{name}"
        self.query_one(f"#ledger-{name}", DataTable).focus()

    def action_focus_patient(self) -> None:
        self.query_one("#ledger-patient", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        text = self.query_one("#ledger-patient", Input).value
        self.call(find_and_load, text, done=self.show, group="ledger", exclusive=True)

    def show(self, found: dict) -> None:
        err = self.query_one("#ledger-error", ErrorLine)
        ledger = found["ledger"]
        if ledger is None:
            matches = found["matches"]
            err.show("no patient matches" if not matches else
                     "several match; type the ID: " + "; ".join(f"{m['patient_id']} {m['name']}" for m in matches))
            return
        err.show("")
        b = ledger["balance"]
        self.patient_id = ledger["patient_id"]
        self.sub_title = ledger["name"]
        self.query_one("#ledger-patient", Input).value = str(ledger["patient_id"])
        self.query_one("#ledger-balances", Static).update(
            f"{ledger['name']} #{ledger['patient_id']} ({ledger['account_no']})  Patient owes {fmt(b['patient_due'])}  "
            f"With insurers {fmt(b['insurance_pending'])}  Unapplied {fmt(b['unapplied'])}  "
            f"Net due {fmt(b['net_due'])}")
        for name, rows in rows_for(ledger).items():
            table = self.query_one(f"#ledger-{name}", DataTable)
            table.clear()
            table.add_rows(rows)
        self.query_one("#ledger-activity", DataTable).focus()


def find_and_load(text: str) -> dict:
    """The ledger of the one patient matching ``text`` (or the matches, when not one)."""
    matches = patient_views.find_patients(text, limit=6) if text.strip() else []
    ledger = patient_views.patient_ledger(matches[0]["patient_id"]) if len(matches) == 1 else None
    return {"matches": matches, "ledger": ledger}
