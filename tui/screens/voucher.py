"""New voucher on the fly (from a credit entry): the method plugin's fields, then save.

The voucher persists even if the credit entry is abandoned (as in SOS). Its
fields come from ``payments.VoucherInput`` (amount, date, reference) and the
payment-method plugin's own schema (check number, ...), both rendered by the
schema form; ``payments.create_voucher`` validates.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from claimdesk.core.errors import InputError
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import payments
from claimdesk.core.services.actions import describe_schema
from claimdesk.tui.screens.base import BaseModal, SubmitKey
from claimdesk.tui.widgets.schema_form import SchemaForm
from claimdesk.tui import keys

BASE_FIELDS = ("amount", "received_on", "reference")


class NewVoucherScreen(BaseModal):
    """Record money received from a payer; dismisses with the new voucher's id (or None)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("save", "Save")]

    def __init__(self, payer: dict, method_key: str):
        super().__init__(classes="dialog-screen")
        self.payer = payer
        self.method = get_host().get("claimdesk_payment_methods", method_key)
        self.method_key = method_key
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        label = self.method.label if self.method else self.method_key
        base = [f for f in describe_schema(payments.VoucherInput) if f["name"] in BASE_FIELDS]
        details = describe_schema(self.method.schema) if self.method and self.method.schema else []
        with Vertical(classes="dialog", id="voucher-dialog"):
            yield Label(f"New {label} voucher from {self.payer['name']}", classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield SchemaForm(base, prefix="vb", id="voucher-base")
                if details:
                    yield Static(f"{label} details", classes="pane-title")
                    yield SchemaForm(details, prefix="vd", id="voucher-details")
            with Horizontal(classes="buttons"):
                yield Button("Save (F2)", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()  # the dialog's own keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#voucher-base", SchemaForm).focus_first()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def _details(self) -> SchemaForm | None:
        found = self.query("#voucher-details")
        return found.first(SchemaForm) if found else None

    def action_save(self) -> None:
        base = self.query_one("#voucher-base", SchemaForm)
        details = self._details()
        base.clear_errors()
        if details is not None:
            details.clear_errors()
        payload = {"payer_id": self.payer["id"], "method": self.method_key, **base.values(),
                   "details": details.values() if details is not None else {}}
        key = self.submit_key.for_payload(payload)
        self.call(payments.create_voucher, payload, idempotency_key=key, done=self.saved, failed=self.failed,
                  busy=self.query_one("#save"))

    def saved(self, res: dict) -> None:
        self.submit_key.done()
        self.dismiss(res["voucher_id"])

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, InputError):
            msgs = dict(exc.messages)
            nested = msgs.pop("details", None)
            details = self._details()
            leftover = []
            if nested is not None:
                if details is not None and isinstance(nested, dict):
                    leftover += details.show_errors(nested)
                else:
                    leftover.append(f"details: {nested}")
            if msgs:
                leftover += self.query_one("#voucher-base", SchemaForm).show_errors(msgs)
            self.notify("Check the fields marked with !" + (f": {'; '.join(leftover)}" if leftover else ""),
                        title="Voucher not saved", severity="error")
            return
        self.show_error(exc)
