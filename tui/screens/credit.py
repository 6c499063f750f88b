"""Credit entry (SOS style): draw money from a payer's voucher onto one patient account.

Patient, payer, method (from the payment-method plugins), a voucher picker with
"New" to record one on the fly, the amount (defaults to the voucher's
undistributed money), the keep-unapplied checkbox, then Auto-Apply (oldest
charge first) or Apply Credit (to the charges ticked ``[x]``; none ticked keeps
it all unapplied, and the clerk is told so). ``payments.post_credit`` does the
work and every rule; the result shows what was applied, what stayed unapplied and
what went back to the voucher.

No voucher is picked for the clerk: the money is drawn only from the voucher
chosen in the list (or just made with New). After a credit is posted the voucher,
amount and ticks are cleared, so pressing F2 again cannot post a second credit
from the same voucher by accident; a double press while one is being posted
reuses its idempotency key (the core posts it once). F7 applies the patient's
unapplied money from earlier credits (:mod:`.unapplied`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static

from claimdesk.tui.widgets.tick import Tick
from claimdesk.core.errors import InputError
from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import patient_views, payment_views, payments
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.screens.voucher import NewVoucherScreen
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import labelled
from claimdesk.tui.widgets.tick_list import TickList
from claimdesk.tui import keys

#: The core's field names as this screen labels them, for its error lines.
CREDIT_LABELS = {"amount": "Amount", "voucher_id": "Voucher", "patient_id": "Patient", "applications": "Ticked charges",
                 "method": "Method", "payer_id": "Payer", "keep_unapplied": "Keep unapplied"}

#: Vouchers offered in the picker; more are counted ("showing 50 of 80"), the oldest first.
VOUCHER_ROWS = 50


def load_choices() -> dict:
    """Payers and payment methods for the pickers (runs in a worker)."""
    return {"payers": payment_views.paying_payers(),
            "methods": [{"key": m.key, "label": m.label} for m in get_host().payment_methods()]}


def load_patient(text: str) -> dict:
    """The patients matching what was typed, with the balances of a single match."""
    found = patient_views.find_patients(text, limit=6) if text.strip() else []
    header = patient_views.patient_summary(found[0]["patient_id"]) if len(found) == 1 else None
    return {"found": found, "header": header}


def load_money(patient_id: int | None, payer_id: int, method: str | None) -> dict:
    """The payer's vouchers with undistributed money and, for a patient, the charges it may pay."""
    return {"vouchers": payment_views.payer_vouchers(payer_id, method),
            "charges": payment_views.open_charges(patient_id, payer_id) if patient_id else []}


def result_text(res: dict) -> Text:
    """What a posted credit did, in words and amounts."""
    t = Text()
    t.append(f"✔ Credit #{res['credit_id']} posted", style="bold")
    t.append(f" from voucher #{res['voucher_id']}: drawn {fmt(res['drawn'])}, "
             f"applied {fmt(res['applied_total'])}, unapplied {fmt(res['unapplied'])}, "
             f"back to voucher {fmt(res['returned_to_voucher'])}.\n")
    for a in res["applied"]:
        t.append(f"  charge {a['charge_id']} ({a['rank']}): paid {fmt(a['amount'])}, "
                 f"open now {fmt(a['balance_after'])}\n")
    t.append(f"Voucher #{res['voucher_id']} undistributed now {fmt(res['voucher_undistributed'])}.")
    return t


class CreditEntryScreen(BaseScreen):
    """Post a credit: F2 Auto-Apply, F3 Apply Credit, F4 new voucher."""

    TITLE = "Credit entry"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("post('auto')", "Auto-Apply"),
        keys.apply_ticked("post('manual')", "Apply Credit"),
        keys.new("new_voucher", "Voucher"),
        keys.related("apply_unapplied", "Unapplied"),
    ]

    def __init__(self, method: str | None = None, patient_id=None):
        super().__init__()
        self.initial_method = method
        self.initial_patient = patient_id
        self.patient: dict | None = None
        self.vouchers: list[dict] = []
        self.charges: list[dict] = []
        self.payers: list[dict] = []
        self.submit_key = SubmitKey()
        self.pending_voucher: int | None = None
        self.posting = False
        self.voucher_count = (0, 0)

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(classes="scroll-body", id="credit-body"):
            with Horizontal(classes="line"):
                yield Label("Patient", classes="cr-label")
                yield Input(placeholder="ID, account or last name", id="patient", compact=True)
            yield Static("", id="patient-info", classes="cr-info")
            with Horizontal(classes="line"):
                yield Label("Payer", classes="cr-label")
                yield Select([], prompt="payer…", id="payer", compact=True, allow_blank=True)
            with Horizontal(classes="line"):
                yield Label("Method", classes="cr-label")
                yield Select([], prompt="any method", id="method", compact=True, allow_blank=True)
            with Horizontal(classes="line"):
                yield Label("Voucher", classes="cr-label")
                yield Select([], prompt="choose the voucher…", id="voucher", compact=True, allow_blank=True)
                yield Button("New", id="new-voucher", compact=True)
            yield ErrorLine(id="voucher-error", classes="cr-info")
            with Horizontal(classes="line"):
                yield Label("Amount", classes="cr-label")
                yield Input(placeholder="0.00", id="amount", compact=True)
                yield Static("", id="amount-hint")
            yield ErrorLine(id="amount-error")
            yield Tick("Keep unapplied amount on this credit", id="keep", compact=True)
            yield Label("", id="charges-title", markup=False)
            yield TickList(id="charges", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Auto-Apply (F2)", id="auto", variant="primary", compact=True)
                yield Button("Apply Credit (F3)", id="manual", compact=True)
            yield Static("", id="credit-result", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#patient", Input).focus()
        self.call(load_choices, done=self.fill_choices)

    def fill_choices(self, info: dict) -> None:
        self.payers = info["payers"]
        payer = self.query_one("#payer", Select)
        payer.set_options([(p["name"], p["id"]) for p in self.payers])
        if self.payers:
            payer.value = self.payers[0]["id"]
        method = self.query_one("#method", Select)
        method.set_options([(m["label"], m["key"]) for m in info["methods"]])
        if self.initial_method and any(m["key"] == self.initial_method for m in info["methods"]):
            method.value = self.initial_method
        if self.initial_patient is not None:
            self.query_one("#patient", Input).value = str(self.initial_patient)
            self.find_patient()
        self.reload_money()

    # -- patient -----------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "patient":
            self.find_patient()
        elif event.input.id == "amount":
            self.query_one("#keep", Checkbox).focus()  # money moves only on F2/F3 or a button

    def find_patient(self) -> None:
        self.call(load_patient, self.query_one("#patient", Input).value, done=self.show_patient,
                  group="patient", exclusive=True)

    def show_patient(self, info: dict) -> None:
        found, header = info["found"], info["header"]
        box = self.query_one("#patient-info", Static)
        if header is None:
            self.patient = None
            box.update("! no patient matches" if not found else
                       "Several match; type the ID: " + "; ".join(f"{p['patient_id']} {p['name']}" for p in found))
            box.add_class("-error")
        else:
            self.patient = header
            box.remove_class("-error")
            bal = header["balance"]
            box.update(f"{header['name']} (#{header['patient_id']}, {header['account_no']}): owes "
                       f"{fmt(bal['patient_due'])}, with insurers {fmt(bal['insurance_pending'])}, "
                       f"unapplied {fmt(bal['unapplied'])}")
            self.query_one("#patient", Input).value = str(header["patient_id"])
            self.query_one("#payer", Select).focus()
        self.reload_money()

    # -- payer / method / voucher -------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "amount":  # the clerk is correcting it: the old message goes
            self.set_amount_error("")

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id in ("payer", "method"):
            self.reload_money()
        elif event.select.id == "voucher":
            self.set_voucher_error("")
            self.default_amount()

    def _payer(self) -> dict | None:
        value = self.query_one("#payer", Select).value
        return next((p for p in self.payers if p["id"] == value), None)

    def _method(self) -> str | None:
        value = self.query_one("#method", Select).value
        return None if value is Select.NULL else value

    def reload_money(self) -> None:
        payer = self._payer()
        if payer is None:
            return
        self.call(load_money, self.patient["patient_id"] if self.patient else None, payer["id"], self._method(),
                  done=self.show_money, group="money", exclusive=True)

    def show_money(self, info: dict) -> None:
        sel = self.query_one("#voucher", Select)
        keep = self.pending_voucher if self.pending_voucher is not None else sel.value
        self.pending_voucher = None
        every = info["vouchers"]
        shown = every[:VOUCHER_ROWS]
        if keep not in (v["voucher_id"] for v in shown):  # the clerk's choice stays listed
            shown += [v for v in every[VOUCHER_ROWS:] if v["voucher_id"] == keep]
        self.vouchers, self.charges = shown, info["charges"]
        sel.set_options([(f"#{v['voucher_id']} {v['method']} {v['reference'] or ''} {v['received_on']} "
                          f"{fmt(v['undistributed'])} left".replace("  ", " "), v["voucher_id"])
                         for v in self.vouchers])
        sel.prompt = ("choose the voucher…" if every else "no voucher with money: New records one")
        ids = [v["voucher_id"] for v in self.vouchers]
        if keep in ids:  # only ever the voucher the clerk chose (or just made): none is picked for them
            sel.value = keep
        self.voucher_count = (len(shown), len(every))
        self.default_amount()
        charges = self.query_one("#charges", TickList)
        charges.clear_options()
        charges.add_options([(f"charge {c['charge_id']}  enc {c['encounter_id']}  {c['dos']}  {c['code']}  "
                              f"{c['rank']}  open {fmt(c['balance'])}", c["charge_id"]) for c in self.charges])
        if self.charges:
            charges.highlighted = 0
        self.query_one("#charges-title", Label).update(
            "Open charges for this payer (Space ticks [x]; F3 Apply Credit pays the ticked):" if self.charges else
            ("No open charges this payer is responsible for on this patient." if self.patient
             else "Choose a patient to see the charges this payer may pay."))

    def _voucher(self) -> dict | None:
        value = self.query_one("#voucher", Select).value
        return next((v for v in self.vouchers if v["voucher_id"] == value), None)

    def default_amount(self) -> None:
        v = self._voucher()
        self.query_one("#amount", Input).value = str(fmt(v["undistributed"]).replace(",", "")) if v else ""
        shown, every = self.voucher_count
        more = f"  (oldest {shown} of {every} vouchers listed)" if every > shown else ""
        self.query_one("#amount-hint", Static).update(f"  of {fmt(v['undistributed'])} undistributed" if v else
                                                       ("  choose a voucher" + more if every else ""))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "new-voucher":
            self.action_new_voucher()
        elif event.button.id in ("auto", "manual"):
            self.action_post(event.button.id)

    def action_new_voucher(self) -> None:
        payer, method = self._payer(), self._method()
        if payer is None:
            self.notify("Choose the payer first.", severity="warning")
            return
        if method is None:
            self.notify("Choose the payment method of the new voucher first.", severity="warning")
            self.query_one("#method", Select).focus()
            return
        self.app.push_screen(NewVoucherScreen(payer, method), callback=self.voucher_made)

    def voucher_made(self, voucher_id: int | None) -> None:
        if voucher_id:
            self.pending_voucher = voucher_id
            self.notify(f"Voucher #{voucher_id} saved.", timeout=4)
            self.reload_money()
            self.query_one("#amount", Input).focus()

    # -- post ---------------------------------------------------------------------------
    def payload(self, mode: str) -> dict:
        picked = list(self.query_one("#charges", TickList).selected)
        apply = "auto" if mode == "auto" else ("manual" if picked else "none")
        amount = self.query_one("#amount", Input).value.strip()
        v = self._voucher()
        return {"patient_id": self.patient["patient_id"] if self.patient else None,
                "voucher_id": v["voucher_id"] if v else None,
                **({"amount": amount} if amount else {}),
                "apply": apply, "applications": [{"charge_id": c} for c in picked] if apply == "manual" else [],
                "keep_unapplied": self.query_one("#keep", Checkbox).value}

    def action_post(self, mode: str) -> None:
        if self.posting:
            self.notify("The credit is being posted.", timeout=3)
            return
        self.set_amount_error("")
        if self.patient is None:
            self.query_one("#patient-info", Static).update("! choose the patient first (type an ID and Enter)")
            self.query_one("#patient", Input).focus()
            return
        if self._voucher() is None:
            self.set_voucher_error("choose the voucher the money comes from (or New to record one)")
            self.query_one("#voucher", Select).focus()
            return
        payload = self.payload(mode)
        if mode == "manual" and payload["apply"] == "none":
            from claimdesk.tui.screens.confirm import ConfirmScreen

            amount = payload.get("amount") or fmt(self._voucher()["undistributed"])
            self.app.push_screen(
                ConfirmScreen("No charge is ticked [x]. Post the credit unapplied?",
                              [f"All {amount} stays unapplied on the patient's account (F7 applies it later).",
                               "Back, then Space ticks the charges to pay."], yes="Post unapplied", no="Back"),
                callback=lambda yes: self.submit(payload) if yes else None)
            return
        self.submit(payload)

    def submit(self, payload: dict) -> None:
        if self.posting:
            return
        key = self.submit_key.for_payload(payload)
        self.posting = True
        for ident in ("#auto", "#manual"):
            self.query_one(ident, Button).disabled = True
        self.call(payments.post_credit, payload, idempotency_key=key, done=self.posted, failed=self.post_failed)

    def set_voucher_error(self, message: str) -> None:
        self.query_one("#voucher-error", ErrorLine).show(message)

    def _posting_over(self) -> None:
        self.posting = False
        for ident in ("#auto", "#manual"):
            self.query_one(ident, Button).disabled = False

    def set_amount_error(self, message: str) -> None:
        self.query_one("#amount-error", ErrorLine).show(message)

    def posted(self, res: dict) -> None:
        self._posting_over()
        self.submit_key.done()
        box = self.query_one("#credit-result", Static)
        box.update(result_text(res))
        # the next credit starts afresh: its voucher is chosen again (F2 now cannot post twice)
        self.query_one("#voucher", Select).clear()
        self.query_one("#keep", Checkbox).value = False
        self.find_patient()
        self.notify(f"Credit #{res['credit_id']} posted: applied {fmt(res['applied_total'])}, "
                    f"unapplied {fmt(res['unapplied'])}.", timeout=6)
        self.call_after_refresh(box.scroll_visible, animate=False)

    def post_failed(self, exc: BaseException) -> None:
        self._posting_over()
        message = labelled(exc, CREDIT_LABELS)
        field = getattr(exc, "field", None) or ""
        if isinstance(exc, InputError):
            field = next(iter(exc.messages), "")
        if field.startswith("amount"):
            self.set_amount_error(message)
            self.query_one("#amount", Input).focus()
        elif field.startswith("voucher"):
            self.set_voucher_error(message)
            self.query_one("#voucher", Select).focus()
        else:
            self.query_one("#credit-result", Static).update(Text(f"! Not posted: {message}", style="bold"))
        self.show_error(exc)

    # -- unapplied money from earlier credits ---------------------------------------------
    def action_apply_unapplied(self) -> None:
        """F7: apply the patient's unapplied money (earlier credits) to their open charges."""
        from claimdesk.tui.screens.unapplied import ApplyUnappliedScreen

        if self.patient is None:
            self.query_one("#patient-info", Static).update("! choose the patient first (type an ID and Enter)")
            self.query_one("#patient", Input).focus()
            return
        self.app.push_screen(ApplyUnappliedScreen(self.patient["patient_id"]),
                             callback=lambda res: res and self.find_patient())
