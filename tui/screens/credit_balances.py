"""Credit balances: every account holding money (patients' unapplied money, payers'
undistributed money and overpaid claims), with its age; F2 refunds the highlighted account,
o sorts by age or amount, F5 reloads, F7 lists the refunds (where a supervisor approves, F2, a
refund held above the limit).

The refund dialog asks the amount (all the account holds, to start with), the refund method
(the refund-method plugins that can pay this payee, each with its own fields), the reason and
a reference; F2 there checks every field with the core's own refund, rolled back, then asks
to confirm, saying whether the refund is issued now or waits for a supervisor. The core
(``refunds.add_refund``) does the money and every rule.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import credit_balances, refunds
from claimdesk.core.services.actions import describe_schema
from claimdesk.tui import keys
from claimdesk.tui.screens.base import BaseModal, BaseScreen, SubmitKey, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import show_refusal
from claimdesk.tui.widgets.schema_form import SchemaForm, schema_defaults
from claimdesk.tui.widgets.table import Table, clip, right



def refund_text(res: dict) -> Text:
    """What a refund did, in one line or two."""
    t = Text()
    t.append(f"✔ Refund #{res['refund_id']}: {fmt(res['amount'])} to {res['payee_name']}", style="bold")
    if res["status"] == "issued":
        t.append(f", issued by {res['method']} {res['reference']}".rstrip() + ".")
    else:
        t.append(f", held until a supervisor approves it (above {fmt(res['supervisor_above'])}).")
    return t


class CreditBalancesScreen(BaseScreen):
    """The credit balance report; o sorts by age or amount, F2 refunds, F5 reloads."""

    TITLE = "Credit balances"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("o", "toggle_sort", "Sort age/amount"),
        keys.do_it("refund", "Refund"),
        keys.look_again("reload"),
        keys.related("open_refunds", "Refunds"),
    ]
    DEFAULT_CSS = """
    #cb-title { max-height: 3; }
    """

    def __init__(self):
        super().__init__()
        self.sort = "age"
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="cb-title", classes="facts")
        yield Static("", id="cb-result", classes="result")
        yield Table(id="cb-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cb-result").display = False
        self.query_one(DataTable).add_columns("Account", "Name", right("Holds"), "Since", right("Age"),
                                              right("Due/over"))
        self.action_reload()

    def action_reload(self) -> None:
        self.call(credit_balances.report, sort=self.sort, done=self.fill, group="credit-balances", exclusive=True)

    def action_toggle_sort(self) -> None:
        self.sort = "amount" if self.sort == "age" else "age"
        self.action_reload()

    def fill(self, rep: dict) -> None:
        self.rows = rep["accounts"]
        order = "oldest first" if rep["sort"] == "age" else "largest first"
        self.query_one("#cb-title", Static).update(Text(
            f"{rep['patients']} patient(s), {rep['payers']} payer(s) hold {fmt(rep['total'])}; {order}. "
            f"F2 refund · o sort · F7 refunds · F5 reload"))
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        name_width = max(12, (self.size.width or 80) - 56)
        for a in self.rows:
            ident = f"{'pat' if a['kind'] == 'patient' else 'payer'} #{a['id']}"
            if a["kind"] == "patient":
                extra = f"due {fmt(a['balance_due'])}"
            else:
                extra = f"over {fmt(a['overpaid_total'])}" if a["overpaid_total"] else ""
            table.add_row(ident, clip(a["name"], name_width), right(fmt(a["holds"])), a["since"] or "",
                          right(f"{a['age_days']}d"), right(extra), key=f"{a['kind']}:{a['id']}")
        if self.rows:
            table.move_cursor(row=min(keep or 0, len(self.rows) - 1))
        table.focus()

    def action_refund(self) -> None:
        account = self.highlighted_row(self.rows)
        if account is None:
            self.notify("No account highlighted.", severity="warning")
            return
        if not account["holds"]:
            self.notify(f"{account['name']} holds no money to refund (an overpaid claim's money is applied: "
                        "take the payment back first).", severity="warning", timeout=8)
            return
        self.app.push_screen(RefundScreen(account), callback=self.refunded)

    def action_open_refunds(self) -> None:
        self.app.push_screen(RefundsScreen(), callback=lambda _r: self.action_reload())

    def refunded(self, res: dict | None) -> None:
        if res:
            box = self.query_one("#cb-result", Static)
            box.update(refund_text(res))
            box.display = True
            self.notify(refund_text(res).plain, timeout=6)
            self.action_reload()


#: The dialog's labels for the core's field names.
REFUND_LABELS = {"amount": "Amount", "method": "Method", "reason": "Reason", "reference": "Reference",
                 "patient_id": "Patient", "payer_id": "Payer"}


class RefundScreen(BaseModal):
    """Amount, method (and its fields), reason, reference; F2 refunds after a confirm step."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("submit", "Refund")]
    DEFAULT_CSS = """
    #refund-dialog .line Input, #refund-dialog .line Select { width: 1fr; }
    #method-holder { height: auto; }
    #refund-dialog FieldRow .field-label { width: 16; }
    #refund-dialog FieldRow .field-help, #refund-dialog FieldRow .field-error { padding-left: 16; }
    """

    def __init__(self, account: dict):
        super().__init__(classes="dialog-screen")
        self.account = account
        self.methods = get_host().refund_methods(account["kind"])
        self.shown_method: str | None = None
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        a = self.account
        with Vertical(classes="dialog", id="refund-dialog"):
            yield Label(Text(f"Refund {a['name']} ({a['kind']} #{a['id']}): holds {fmt(a['holds'])}"),
                        classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Horizontal(classes="line"):
                    yield Label("Amount *", classes="rc-label")
                    yield Input(value=fmt(a["holds"]).replace(",", ""), id="amount", compact=True)
                yield ErrorLine(id="amount-error")
                with Horizontal(classes="line"):
                    yield Label("Method *", classes="rc-label")
                    yield Select([(m.label, m.key) for m in self.methods], id="method", compact=True,
                                 allow_blank=False, value=self.methods[0].key if self.methods else Select.NULL)
                yield Vertical(id="method-holder")
                with Horizontal(classes="line"):
                    yield Label("Reason *", classes="rc-label")
                    yield Input(placeholder="e.g. patient overpaid", id="reason", compact=True)
                yield ErrorLine(id="reason-error")
                with Horizontal(classes="line"):
                    yield Label("Reference", classes="rc-label")
                    yield Input(placeholder="(default: the method's, e.g. check number)", id="reference",
                                compact=True)
                yield ErrorLine(id="refund-error")
            with Horizontal(classes="buttons"):
                yield Button("Refund (F2)", id="submit", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    async def on_mount(self) -> None:
        await self.show_method_form()
        self.query_one("#amount", Input).focus()

    def _method(self):
        key = self.query_one("#method", Select).value
        return next((m for m in self.methods if m.key == key), None)

    def _form(self) -> SchemaForm | None:
        found = self.query("#method-form")
        return found.first(SchemaForm) if found else None

    async def show_method_form(self) -> None:
        """The chosen method's own fields (once per method chosen)."""
        method = self._method()
        key = method.key if method else None
        if key == self.shown_method:
            return
        self.shown_method = key
        holder = self.query_one("#method-holder")
        await holder.remove_children()
        fields = describe_schema(method.schema) if method and method.schema else []
        if fields:
            await holder.mount(SchemaForm(fields, prefix="details", id="method-form",
                                          values=schema_defaults(method.schema)))

    async def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "method":
            await self.show_method_form()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def payload(self) -> dict:
        a = self.account
        method = self._method()
        form = self._form()
        return {"payee": a["kind"], f"{a['kind']}_id": a["id"],
                "amount": self.query_one("#amount", Input).value.strip(),
                "method": method.key if method else "", "details": form.values() if form else {},
                "reason": self.query_one("#reason", Input).value.strip(),
                "reference": self.query_one("#reference", Input).value.strip()}

    def action_submit(self) -> None:
        """Check every field with the core's own refund (rolled back); only then ask."""
        payload = self.payload()
        self.clear_errors()
        self.call(refunds.preview_refund, payload, done=lambda res: self.confirm(payload, res),
                  failed=self.failed, busy=self.query_one("#submit"))

    def confirm(self, payload: dict, res: dict) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        method = self._method()
        lines = [("To", f"{res['payee_name']} ({res['payee']} #{self.account['id']})"),
                 ("Amount", fmt(res["amount"])), ("Method", f"{method.label} {res['reference']}".strip()),
                 ("Reason", payload["reason"]),
                 ("From", ", ".join(f"{s['kind']} #{s['id']} {fmt(s['taken'])}" for s in res["sources"]))]
        note = (f"Above {fmt(res['supervisor_above'])}: the money is held until a supervisor approves it."
                if res["needs_approval"] else "The money leaves the account and the bank now.")
        self.app.push_screen(ConfirmScreen(f"Refund {fmt(res['amount'])}?", lines, yes="Refund", no="Back",
                                           note=note),
                             callback=lambda yes: self.submit(payload) if yes else None)

    def submit(self, payload: dict) -> None:
        self.clear_errors()
        key = self.submit_key.for_payload(payload)
        self.call(refunds.add_refund, payload, idempotency_key=key, done=self.done, failed=self.failed,
                  busy=self.query_one("#submit"))

    def done(self, res: dict) -> None:
        self.submit_key.done()
        self.dismiss(res)

    def clear_errors(self) -> None:
        for ident in ("#amount-error", "#reason-error", "#refund-error"):
            self.query_one(ident, ErrorLine).show("")
        form = self._form()
        if form is not None:
            form.clear_errors()

    def failed(self, exc: BaseException) -> None:
        """Each refusal under its field, in the dialog's words ("Amount: …")."""
        show_refusal(self, exc, labels=REFUND_LABELS, own=("amount", "reason"), general="refund-error",
                     form=self._form(), form_field="details")


class RefundsScreen(BaseScreen):
    """Refunds and recoupments, newest first; F2 approves (and issues) the highlighted refund
    awaiting a supervisor, after a confirm; F5 reloads. The core checks the role."""

    TITLE = "Refunds"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("approve", "Approve"),
        keys.look_again("reload"),
    ]
    DEFAULT_CSS = """
    #rf-title { max-height: 3; }
    """

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="rf-title", classes="facts")
        yield Static("", id="rf-result", classes="result")
        yield Table(id="rf-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rf-result").display = False
        self.query_one(DataTable).add_columns("Refund", "To", right("Amount"), "Status", "Method", "On")
        self.action_reload()

    def action_reload(self) -> None:
        self.call(refunds.list_refunds, done=self.fill, group="refunds", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        waiting = [r for r in rows if r["status"] == "awaiting_approval"]
        self.query_one("#rf-title", Static).update(Text(
            f"{len(rows)} refund(s), {len(waiting)} awaiting a supervisor "
            f"({fmt(sum(r['amount'] for r in waiting))}). F2 approve · F5 reload"))
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(f"#{r['refund_id']}", clip(r["payee_name"], 22), right(fmt(r["amount"])),
                          r["status"].replace("_", " "), clip(f"{r['method']} {r['reference']}".strip(), 14),
                          r["requested_on"] or "", key=str(r["refund_id"]))
        if rows:
            table.move_cursor(row=min(keep or 0, len(rows) - 1))
        table.focus()

    def action_approve(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        r = self.highlighted_row(self.rows)
        if r is None or r["status"] != "awaiting_approval":
            self.notify("Highlight a refund awaiting approval.", severity="warning")
            return
        lines = [("To", r["payee_name"]), ("Amount", fmt(r["amount"])), ("Reason", r["reason"]),
                 ("Requested", f"{r['requested_on']} by {r['requested_by']}")]
        self.app.push_screen(ConfirmScreen(f"Approve refund #{r['refund_id']}? It is issued now.", lines,
                                           yes="Approve", no="Back"),
                             callback=lambda yes: self.call(refunds.approve, r["refund_id"], done=self.approved,
                                                            failed=self.refused) if yes else None)

    def approved(self, res: dict) -> None:
        box = self.query_one("#rf-result", Static)
        box.update(Text(f"✔ Refund #{res['refund_id']}: {fmt(res['amount'])} to {res['payee_name']} approved "
                        f"by {res['approved_by']} and issued."))
        box.display = True
        self.action_reload()

    def refused(self, exc: BaseException) -> None:
        box = self.query_one("#rf-result", Static)
        box.update(Text(f"Not done: {describe_error(exc)}"))
        box.display = True
