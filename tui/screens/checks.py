"""Payer checks: vouchers with undistributed money, and returning a check.

Returning a check asks for the reason and the fee policy (from the fee-policy
plugins, with that policy's own fields), shows a confirm step, and calls
``returns.return_check``: every credit and split the check paid is reversed.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import payment_views, returns
from claimdesk.core.services.actions import describe_schema
from claimdesk.tui.screens.base import BaseModal, BaseScreen, SubmitKey
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import show_refusal
from claimdesk.tui.widgets.schema_form import SchemaForm, schema_defaults
from claimdesk.tui.widgets.table import Table, clip, right
from claimdesk.tui import keys


def return_result_text(res: dict) -> Text:
    """What returning a check did."""
    t = Text()
    t.append(f"✔ Voucher #{res['voucher_id']} returned", style="bold")
    t.append(f": {fmt(res['returned_amount'])} reversed; credits zeroed: "
             f"{', '.join(f'#{c}' for c in res['credits_zeroed']) or 'none'}.")
    ar = res.get("ar_increase_by_patient") or {}
    unapplied = res.get("unapplied_removed_by_patient") or {}
    for pid, amount in res["balance_increase_by_patient"].items():
        t.append(f"\n  patient #{pid}: balance up {fmt(amount)}")
        if unapplied.get(pid):
            t.append(f" (owes {fmt(ar.get(pid, 0))} more, unapplied money {fmt(unapplied[pid])} removed)")
    if res["fee"]:
        t.append(f"\n  returned-check fee {fmt(res['fee'])} charged (charge #{res['fee_charge_id']})")
    return t


#: Vouchers listed at once; the filter finds the others ("showing 300 of 1,154").
LIST_ROWS = 300



class PayerChecksScreen(BaseScreen):
    """Vouchers (checks, EFTs, cash...) still holding money; R returns the highlighted one."""

    TITLE = "Payer checks"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "return_check", "Return check"),
        Binding("a", "toggle_all", "All/unused"),
        Binding("e", "batch_post", "Batch post", show=False),
        keys.find("focus_filter"),
        keys.look_again("reload"),
    ]

    def __init__(self):
        super().__init__()
        self.include_used = False
        self.rows: list[dict] = []
        self.found = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="checks-title", classes="facts")
        with Horizontal(classes="line"):
            yield Label("Find ", classes="pl-label")
            yield Input(placeholder="check number, payer or amount, then Enter", id="checks-filter", compact=True)
        yield Static("", id="checks-result", classes="result")
        yield Table(id="checks-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#checks-result").display = False
        self.query_one(DataTable).add_columns("Voucher", "Check / ref", "Received", right("Amount"),
                                              right("Undistr."), "Payer")
        self.action_reload()

    def action_reload(self) -> None:
        """Search in the core (SQL): however many vouchers there are, a page comes back."""
        needle = self.query_one("#checks-filter", Input).value.strip()
        self.call(payment_views.voucher_search, needle, include_used=self.include_used, limit=LIST_ROWS,
                  done=self.fill, group="checks", exclusive=True)

    def action_toggle_all(self) -> None:
        self.include_used = not self.include_used
        self.action_reload()

    def action_focus_filter(self) -> None:
        self.query_one("#checks-filter", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def fill(self, found: dict) -> None:
        self.rows = found["rows"]
        self.found = found["total"]
        self.show_rows(found["undistributed"], found["listed"])
        self.query_one(DataTable).focus()

    def show_rows(self, undistributed: int, listed: int) -> None:
        needle = self.query_one("#checks-filter", Input).value.strip()
        which = "active voucher(s)" if self.include_used else "voucher(s) with undistributed money"
        shown = f"{self.found:,} of {listed:,} {which} match" if needle else f"{self.found:,} {which}"
        cap = f", the first {len(self.rows)} listed" if self.found > len(self.rows) else ""
        self.query_one("#checks-title", Static).update(Text(
            f"{shown}{cap}; undistributed {fmt(undistributed)}. r return · a "
            f"{'with money only' if self.include_used else 'all active'} · e batch post · F6 find"))
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        payer_width = max(12, (self.size.width or 80) - 60)
        for r in self.rows:
            ref = f"{r['method']} {r['reference'] or ''}".strip()
            table.add_row(f"#{r['voucher_id']}", clip(ref, 18), r["received_on"], right(fmt(r["amount"])),
                          right(fmt(r["undistributed"])), clip(r["payer"], payer_width), key=str(r["voucher_id"]))
        if self.rows:
            table.move_cursor(row=min(keep or 0, len(self.rows) - 1))

    def action_return_check(self) -> None:
        voucher = self.highlighted_row(self.rows)
        if voucher is None:
            self.notify("No voucher highlighted.", severity="warning")
            return
        self.app.push_screen(ReturnCheckScreen(voucher), callback=self.returned)

    def action_batch_post(self) -> None:
        """Batch posting (a lockbox / ERA file) from the highlighted check."""
        voucher = self.highlighted_row(self.rows)
        self.app.open_batch_posting(voucher["voucher_id"] if voucher else None)

    def returned(self, res: dict | None) -> None:
        if res:
            box = self.query_one("#checks-result", Static)
            box.update(return_result_text(res))
            box.display = True
            self.notify(f"Voucher #{res['voucher_id']} returned.", timeout=6)
            self.action_reload()


#: The return dialog's fields as it labels them, for the core's field names.
RETURN_LABELS = {"patient_id": "Fee patient", "fee_policy": "Fee policy", "voucher_id": "Voucher", "reason": "Reason"}


def return_effects(res: dict) -> list[tuple[str, str]]:
    """What a return will do (from its preview), as confirmation lines."""
    owed = res["balance_increase_by_patient"]
    lines = [("Credits reversed", f"{len(res['credits_zeroed'])}"),
             ("Patients owe more", ", ".join(f"#{pid} +{fmt(v)}" for pid, v in list(owed.items())[:4])
              + (f" and {len(owed) - 4} more" if len(owed) > 4 else "") if owed else "nobody")]
    if res["fee"]:
        lines.append(("Fee charged", fmt(res["fee"])))
    if res.get("claims_voided"):
        lines.append(("Claims taken back", f"{len(res['claims_voided'])} queued later claim(s)"))
    if res.get("encounters_to_review"):
        lines.append(("To Review", f"{len(res['encounters_to_review'])} encounter(s) with claims sent"))
    return lines


class ReturnCheckScreen(BaseModal):
    """Reason, fee policy and its fields; F2 returns the check after a confirm step."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("submit", "Return check")]

    def __init__(self, voucher: dict):
        super().__init__(classes="dialog-screen")
        self.voucher = voucher
        self.policies = get_host().fee_policies()
        self.choices: dict = {}
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        v = self.voucher
        with Vertical(classes="dialog", id="return-dialog"):
            what = " ".join(x for x in (v["payer"], v["method"], v["reference"] or "", fmt(v["amount"])) if x)
            yield Label(Text(f"Return voucher #{v['voucher_id']}: {what}"), classes="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                with Horizontal(classes="line"):
                    yield Label("Reason *", classes="rc-label")
                    yield Input(placeholder="e.g. NSF - insufficient funds", id="reason", compact=True)
                yield ErrorLine(id="reason-error")
                with Horizontal(classes="line"):
                    yield Label("Fee policy", classes="rc-label")
                    yield Select([(p.label, p.key) for p in self.policies], id="policy", compact=True,
                                 allow_blank=False, value=self.policies[0].key if self.policies else Select.NULL)
                yield Vertical(id="fee-holder")
                with Horizontal(classes="line"):
                    yield Label("Fee patient", classes="rc-label")
                    yield Input(placeholder="patient ID (when several)", id="fee-patient", compact=True,
                                restrict=r"[0-9]*")
                yield ErrorLine(id="return-error")
            with Horizontal(classes="buttons"):
                yield Button("Return check (F2)", id="submit", variant="error", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()  # the dialog's own keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()
        self.call(payment_views.fee_choices, done=self.got_choices)

    def got_choices(self, choices: dict) -> None:
        self.choices = choices
        self.show_policy_form()

    def _policy(self):
        key = self.query_one("#policy", Select).value
        return next((p for p in self.policies if p.key == key), None)

    def show_policy_form(self) -> None:
        holder = self.query_one("#fee-holder")
        holder.remove_children()
        policy = self._policy()
        fields = describe_schema(policy.schema, self.choices) if policy and policy.schema else []
        if fields:  # starting from what the policy names as defaults (e.g. the returned-check fee code)
            holder.mount(SchemaForm(fields, prefix="fee", id="fee-form", values=schema_defaults(policy.schema)))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "policy":
            self.show_policy_form()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def _fee_form(self) -> SchemaForm | None:
        found = self.query("#fee-form")
        return found.first(SchemaForm) if found else None

    def payload(self) -> dict:
        form = self._fee_form()
        patient = self.query_one("#fee-patient", Input).value.strip()
        policy = self._policy()
        return {"voucher_id": self.voucher["voucher_id"], "reason": self.query_one("#reason", Input).value.strip(),
                "fee_policy": policy.key if policy else "none", "fee": form.values() if form else {},
                **({"patient_id": patient} if patient else {})}

    def action_submit(self) -> None:
        """Check every field first (the core's own return, rolled back); only then ask, saying
        what the return will do."""
        payload = self.payload()
        self.clear_errors()
        self.call(returns.preview_return, payload, done=lambda res: self.confirm(payload, res),
                  failed=self.failed, busy=self.query_one("#submit"))

    def confirm(self, payload: dict, res: dict) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        policy = self._policy()
        form = self._fee_form()
        lines = [("Voucher", f"#{self.voucher['voucher_id']} {self.voucher['payer']} {fmt(self.voucher['amount'])}"),
                 ("Reason", payload["reason"]), ("Fee policy", policy.label if policy else "none"),
                 *(form.describe() if form and res["fee"] else []), *return_effects(res)]
        self.app.push_screen(
            ConfirmScreen("Return this check? Every credit it paid is reversed.", lines, yes="Return", no="Back"),
            callback=lambda yes: self.submit(payload) if yes else None)

    def clear_errors(self) -> None:
        for ident in ("#reason-error", "#return-error"):
            self.query_one(ident, ErrorLine).show("")
        form = self._fee_form()
        if form is not None:
            form.clear_errors()

    def submit(self, payload: dict) -> None:
        self.clear_errors()
        key = self.submit_key.for_payload(payload)
        self.call(returns.return_check, payload, idempotency_key=key, done=self.done, failed=self.failed,
                  busy=self.query_one("#submit"))

    def done(self, res: dict) -> None:
        self.submit_key.done()
        self.dismiss(res)

    def failed(self, exc: BaseException) -> None:
        """Each refusal under its field, in the dialog's own words ("Fee patient: …")."""
        show_refusal(self, exc, labels=RETURN_LABELS, own=("reason",), general="return-error",
                     form=self._fee_form(), form_field="fee")
        self.show_error(exc)
