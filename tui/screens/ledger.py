"""Patient ledger: activity with running balance, charges and splits, credits,
adjustments, statements; the patient's balances and unapplied money on top.

The line under the tabs shows the highlighted row in full (a memo longer than its
column at 80x24). On the Credits tab Enter (or F7 anywhere) applies a credit's
unapplied money (:mod:`.unapplied`); on the Statements tab Enter shows the
statement as it prints, where R regenerates it (:mod:`.statement_view`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Static, TabbedContent, TabPane

from claimdesk.core.money import fmt
from claimdesk.core.services import patient_views
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.screens.unapplied import applied_text
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.table import Table, clip
from claimdesk.tui import keys

TABLES = {
    "activity": ("Date", "Entry", "Kind", "Memo", "Change", "Balance"),
    "charges": ("Charge", "Enc", "DOS", "Code", "Fee", "Open", "Splits"),
    "credits": ("Credit", "Voucher", "From", "Method", "Posted", "Drawn", "Applied", "Unapplied"),
    "adjustments": ("Charge", "Date", "Kind", "Reason", "Amount", "Memo"),
    "statements": ("Statement", "Date", "Status", "Due", "Void reason"),
}

RANK_SHORT = {"primary": "pri", "secondary": "sec", "tertiary": "ter", "patient": "pat"}


#: Columns of the Activity tab other than Memo take about this much room (cells and padding).
ACTIVITY_FIXED = 64


def rows_for(ledger: dict, memo_width: int = 24) -> dict[str, list[tuple]]:
    """The ledger as table rows, amounts formatted."""
    return {
        "activity": [(a["date"], f"#{a['entry_id']}", a["kind"] + (" (rev)" if a["reversal"] else ""),
                      clip(a["memo"], memo_width), fmt(a["change"], sign=True), fmt(a["running"]))
                     for a in ledger["activity"]],
        "charges": [(f"#{c['charge_id']}", str(c["encounter_id"]), c["dos"], c["code"], fmt(c["fee"]), fmt(c["balance"]),
                     " ".join(f"{RANK_SHORT.get(s['rank'], s['rank'])}:{fmt(s['balance'])}{'D' if s['denied'] else ''}"
                              for s in c["splits"])) for c in ledger["charges"]],
        "credits": [(f"#{c['credit_id']}", f"#{c['voucher_id']}", clip(c["payer"], 16), c["method"], c["posted_on"],
                     fmt(c["drawn"]), fmt(c["applied"]), fmt(c["unapplied"])) for c in ledger["credits"]],
        "adjustments": [(f"#{a['charge_id']}", a["date"], a["kind"], a["reason"], fmt(a["amount"]),
                         clip(a["memo"], 20)) for a in ledger["adjustments"]],
        "statements": [(f"#{s['id']}", s["generated_on"], s["status"], fmt(s["amount_due"]), clip(s["void_reason"], 30))
                       for s in ledger["statements"]],
    }


class PatientLedgerScreen(BaseScreen):
    """Type a patient ID (or last name) and Enter; keys 1-5 switch the tabs."""

    TITLE = "Patient ledger"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.find("focus_patient"),
        keys.look_again("reload"),
        keys.related("apply_unapplied", "Unapplied"),
        *[Binding(str(n), f"tab('{name}')", name.capitalize(), show=False) for n, name in enumerate(TABLES, 1)],
    ]

    def __init__(self, patient_id=None):
        super().__init__()
        self.initial = patient_id
        self.patient_id: int | None = None
        self.ledger: dict | None = None
        self.keep_tab = False  # a reload after applying money or regenerating stays on its tab
        self.note: Text | None = None  # what was just done, shown under the tabs after the reload

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line", id="ledger-line"):
            yield Label("Patient ", classes="pl-label")
            yield Input(placeholder="ID or last name, then Enter", id="ledger-patient", compact=True)
        yield ErrorLine(id="ledger-error")
        yield Static("", id="ledger-balances", classes="facts")
        yield Static("", id="ledger-note", classes="facts")
        with TabbedContent(id="ledger-tabs"):
            for n, (name, columns) in enumerate(TABLES.items(), 1):
                with TabPane(f"{n} {name.capitalize()}", id=f"tab-{name}"):
                    table = Table(id=f"ledger-{name}", cursor_type="row")
                    table.add_columns(*columns)
                    yield table
        yield Static("", id="ledger-detail", classes="facts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ledger-note").display = False
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
        self.show_detail(name)

    def action_focus_patient(self) -> None:
        self.query_one("#ledger-patient", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def action_reload(self) -> None:
        text = self.query_one("#ledger-patient", Input).value
        self.call(find_and_load, text, done=self.show, group="ledger", exclusive=True)

    def _memo_width(self) -> int:
        """Room for the Activity memo at this terminal width (the rest shows below the table)."""
        return max(16, (self.size.width or 80) - ACTIVITY_FIXED)

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
        self.ledger = ledger
        self.patient_id = ledger["patient_id"]
        self.sub_title = ledger["name"]
        self.query_one("#ledger-patient", Input).value = str(ledger["patient_id"])
        self.query_one("#ledger-balances", Static).update(Text(
            f"{ledger['name']} #{ledger['patient_id']} ({ledger['account_no']})  Patient owes {fmt(b['patient_due'])}  "
            f"With insurers {fmt(b['insurance_pending'])}  Unapplied {fmt(b['unapplied'])}  "
            f"Net due {fmt(b['net_due'])}"))
        for name, rows in rows_for(ledger, self._memo_width()).items():
            table = self.query_one(f"#ledger-{name}", DataTable)
            keep = table.cursor_row if self.keep_tab else 0
            table.clear()
            table.add_rows(rows)
            if rows:
                table.move_cursor(row=min(keep or 0, len(rows) - 1))
        if self.keep_tab:
            self.keep_tab = False
            name = self._active()
            self.query_one(f"#ledger-{name}", DataTable).focus()
        else:
            name = "activity"
            self.query_one("#ledger-tabs", TabbedContent).active = "tab-activity"
            self.query_one("#ledger-activity", DataTable).focus()
        note = self.query_one("#ledger-note", Static)
        note.update(self.note or "")
        note.display = self.note is not None  # what was just done, until the next reload
        self.note = None
        self.show_detail(name)

    # -- the row under the cursor --------------------------------------------------------------
    def _active(self) -> str:
        return (self.query_one("#ledger-tabs", TabbedContent).active or "tab-activity").removeprefix("tab-")

    def _row(self, name: str) -> dict | None:
        if self.ledger is None:
            return None
        return self.highlighted_row(self.ledger[name], self.query_one(f"#ledger-{name}", DataTable))

    def show_detail(self, name: str | None = None) -> None:
        """The highlighted row of the shown tab in full, and what Enter does with it."""
        name = name or self._active()
        row = self._row(name)
        text = ""
        if row is not None and name == "activity":
            text = f"#{row['entry_id']} {row['date']} {row['kind']}: {row['memo'] or '(no memo)'}"
        elif row is not None and name == "charges":
            text = f"Charge #{row['charge_id']} {row['code']}: " + ", ".join(
                f"{s['rank']} {s['payer']} {fmt(s['balance'])}{' denied' if s['denied'] else ''}" for s in row["splits"])
        elif row is not None and name == "credits":
            text = (f"Credit #{row['credit_id']}: {fmt(row['unapplied'])} unapplied. Enter applies it to open charges."
                    if row["unapplied"] > 0 else f"Credit #{row['credit_id']}: all of it is applied.")
        elif row is not None and name == "adjustments":
            text = f"Charge #{row['charge_id']} {row['kind']} {row['reason']}: {row['memo'] or '(no memo)'}"
        elif row is not None and name == "statements":
            text = (f"Statement #{row['id']} ({row['status']})"
                    + (f", void: {row['void_reason']}" if row["void_reason"] else "") + ". Enter shows it.")
        self.query_one("#ledger-detail", Static).update(Text(text))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        name = self._active()
        row = self._row(name)
        if row is None:
            return
        if name == "credits":
            if row["unapplied"] > 0:
                self.apply_unapplied(row["credit_id"])
            else:
                self.notify(f"Credit #{row['credit_id']} has no unapplied money.", timeout=4)
        elif name == "statements":
            from claimdesk.tui.screens.statement_view import StatementViewScreen

            self.keep_tab = True
            self.app.push_screen(StatementViewScreen(row["id"], self.patient_id),
                                 callback=lambda _r: self.action_reload())

    # -- unapplied money ------------------------------------------------------------------------
    def action_apply_unapplied(self) -> None:
        """F7: apply the patient's unapplied money (the highlighted credit on the Credits tab)."""
        if self.patient_id is None:
            self.query_one("#ledger-error", ErrorLine).show("type the patient first (ID or last name, Enter)")
            self.query_one("#ledger-patient", Input).focus()
            return
        row = self._row("credits") if self._active() == "credits" else None
        self.apply_unapplied(row["credit_id"] if row and row["unapplied"] > 0 else None)

    def apply_unapplied(self, credit_id: int | None) -> None:
        from claimdesk.tui.screens.unapplied import ApplyUnappliedScreen

        self.app.push_screen(ApplyUnappliedScreen(self.patient_id, credit_id), callback=self.applied)

    def applied(self, res: dict | None) -> None:
        if res:
            self.query_one("#ledger-error", ErrorLine).show("")
            self.note = applied_text(res)
            self.keep_tab = True
            self.action_reload()


def find_and_load(text: str) -> dict:
    """The ledger of the one patient matching ``text`` (or the matches, when not one)."""
    matches = patient_views.find_patients(text, limit=6) if text.strip() else []
    ledger = patient_views.patient_ledger(matches[0]["patient_id"]) if len(matches) == 1 else None
    return {"matches": matches, "ledger": ledger}
