"""Apply a patient's unapplied money later: pick a credit still holding money, then
auto-apply it (oldest charge first) or apply it to the charges ticked.

Opened from the patient ledger (Credits tab: Enter on a credit, or F7) and from credit
entry (F7). ``payments.apply_unapplied`` does the work and every rule (only the same
patient's charges, only what the credit's payer is responsible for); its refusals are
shown in the dialog, under the list they are about.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Label, Select

from claimdesk.core.errors import InputError
from claimdesk.core.money import fmt
from claimdesk.core.services import patient_views, payments
from claimdesk.tui.screens.base import BaseModal, SubmitKey, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.tick_list import TickList
from claimdesk.tui import keys

RANK_SHORT = {"primary": "pri", "secondary": "sec", "tertiary": "ter", "patient": "pat"}


def load_account(patient_id: int) -> dict:
    """The patient's credits with unapplied money and charges with an open balance (in a worker)."""
    ledger = patient_views.patient_ledger(patient_id)
    return {"patient_id": ledger["patient_id"], "name": ledger["name"],
            "credits": [c for c in ledger["credits"] if c["unapplied"] > 0],
            "charges": [c for c in ledger["charges"] if any(s["balance"] > 0 for s in c["splits"])]}


def charge_line(c: dict) -> str:
    """``#207 2025-06-16 99214  open 83.83  pat 83.83``: the charge and who owes what on it."""
    owed = " ".join(f"{RANK_SHORT.get(s['rank'], s['rank'])} {fmt(s['balance'])}"
                    for s in c["splits"] if s["balance"] > 0)
    return f"#{c['charge_id']} {c['dos']} {c['code']:<6} open {fmt(c['balance'])}  {owed}"


def applied_text(res: dict) -> Text:
    """What applying the unapplied money did."""
    t = Text()
    t.append(f"✔ Credit #{res['credit_id']}: applied {fmt(res['applied_total'])}", style="bold")
    t.append(f", unapplied left {fmt(res['unapplied'])}.")
    for a in res["applied"]:
        t.append(f"\n  charge #{a['charge_id']} ({a['rank']}): paid {fmt(a['amount'])}, "
                 f"open now {fmt(a['balance_after'])}")
    return t


class ApplyUnappliedScreen(BaseModal):
    """Choose the credit; F2 auto-applies it, F3 applies it to the ticked charges.
    Dismisses with the service's result, or None."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        keys.do_it("apply('auto')", "Auto-apply"),
        keys.apply_ticked("apply('manual')"),
    ]

    def __init__(self, patient_id: int, credit_id: int | None = None):
        super().__init__(classes="dialog-screen")
        self.patient_id = patient_id
        self.initial_credit = credit_id
        self.credits: list[dict] = []
        self.charges: list[dict] = []
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="unapplied-dialog"):
            yield Label(f"Apply unapplied money: patient #{self.patient_id}", classes="dialog-title",
                        id="ua-title")
            with Horizontal(classes="line"):
                yield Label("Credit", classes="cr-label")
                yield Select([], prompt="choose the credit…", id="ua-credit", compact=True, allow_blank=True)
            yield ErrorLine(id="ua-credit-error")
            yield Label("Open charges (Space ticks [x], Shift+↓/↑ a range; F3 applies to them):",
                        id="ua-charges-title", markup=False)
            yield TickList(id="ua-charges", compact=True)
            yield ErrorLine(id="ua-error")
            with Horizontal(classes="buttons"):
                yield Button("Auto-apply (F2)", id="ua-auto", variant="primary", compact=True)
                yield Button("Apply to ticked (F3)", id="ua-manual", compact=True)
                yield Button("Cancel", id="ua-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.call(load_account, self.patient_id, done=self.fill, failed=self.load_failed)

    def load_failed(self, exc: BaseException) -> None:
        self.query_one("#ua-error", ErrorLine).show(describe_error(exc))

    def fill(self, info: dict) -> None:
        self.credits = info["credits"]
        self.query_one("#ua-title", Label).update(
            Text(f"Apply unapplied money: {info['name']} (#{info['patient_id']}), "
                 f"{fmt(sum(c['unapplied'] for c in self.credits))} unapplied"))
        sel = self.query_one("#ua-credit", Select)
        sel.set_options([(f"#{c['credit_id']} {c['method']} {c['posted_on']} voucher #{c['voucher_id']}: "
                          f"{fmt(c['unapplied'])} unapplied", c["credit_id"]) for c in self.credits])
        ids = [c["credit_id"] for c in self.credits]
        if not ids:
            sel.prompt = "no credit holds unapplied money"
            self.query_one("#ua-credit-error", ErrorLine).show("this patient has no unapplied money to apply")
        elif self.initial_credit in ids:
            sel.value = self.initial_credit
        elif len(ids) == 1:  # the only credit there is: nothing to choose between
            sel.value = ids[0]
        self.charges = info["charges"]
        self.show_charges()
        charges = self.query_one("#ua-charges", TickList)
        (charges if sel.value is not Select.NULL and charges.option_count else sel).focus()

    def show_charges(self) -> None:
        """The open charges the chosen credit's payer owes on (every open charge until one is chosen)."""
        credit = next((c for c in self.credits if c["credit_id"] == self._credit()), None)
        shown = [c for c in self.charges
                 if credit is None or any(s["balance"] > 0 and s["payer_id"] == credit["payer_id"]
                                          for s in c["splits"])]
        charges = self.query_one("#ua-charges", TickList)
        charges.clear_options()
        charges.add_options([(charge_line(c), c["charge_id"]) for c in shown])
        title = self.query_one("#ua-charges-title", Label)
        if shown:
            charges.highlighted = 0
            title.update("Open charges (Space ticks [x], Shift+↓/↑ a range; F3 applies to them):")
        elif credit is not None and self.charges:
            title.update(f"No open charges that {credit['payer']} owes on: the credit's money can only pay those.")
        else:
            title.update("No open charges on this account.")

    def _credit(self) -> int | None:
        value = self.query_one("#ua-credit", Select).value
        return None if value is Select.NULL else value

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#ua-credit-error", ErrorLine).show("")
        self.show_charges()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ua-cancel":
            self.dismiss(None)
        else:
            self.action_apply("auto" if event.button.id == "ua-auto" else "manual")

    def action_apply(self, mode: str) -> None:
        for ident in ("#ua-credit-error", "#ua-error"):
            self.query_one(ident, ErrorLine).show("")
        credit = self._credit()
        if credit is None:
            self.query_one("#ua-credit-error", ErrorLine).show("choose the credit whose money to apply")
            self.query_one("#ua-credit", Select).focus()
            return
        picked = list(self.query_one("#ua-charges", TickList).selected)
        if mode == "manual" and not picked:
            self.query_one("#ua-error", ErrorLine).show("tick [x] the charges to pay first (Space), or F2 "
                                                        "auto-applies oldest first")
            self.query_one("#ua-charges", TickList).focus()
            return
        payload = {"credit_id": credit, "patient_id": self.patient_id, "apply": mode,
                   "applications": [{"charge_id": c} for c in picked] if mode == "manual" else []}
        key = self.submit_key.for_payload(payload)
        self.call(payments.apply_unapplied, payload, idempotency_key=key, done=self.applied, failed=self.failed,
                  busy=self.query_one("#ua-auto" if mode == "auto" else "#ua-manual"))

    def applied(self, res: dict) -> None:
        self.submit_key.done()  # (nothing to apply is a refusal from the core, shown by failed())
        self.app.notify(applied_text(res).plain.split("\n")[0], timeout=6)
        self.dismiss(res)

    def failed(self, exc: BaseException) -> None:
        field = getattr(exc, "field", None) or ""
        if isinstance(exc, InputError):
            field = next(iter(exc.messages), "")
        target = "#ua-credit-error" if field.startswith("credit") else "#ua-error"
        self.query_one(target, ErrorLine).show(describe_error(exc))
