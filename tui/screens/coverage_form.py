"""The coverage dialog: one of a patient's policies, added or changed (from registration).

Payer (from the insurance payers), member id, group, plan type (blank: the payer's default),
who the subscriber is (the patient, or a spouse, child or other person, whose name, birth
date, sex and address then show), and whether it is active. F2 saves through the core's
coverage workflow; each refusal is shown under its field and nothing is written.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select

from claimdesk.core.services import coverages
from claimdesk.tui.screens.base import FormDialog, SubmitKey
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.form_line import choice_of, form_line, text_of
from claimdesk.tui.widgets.tick import Tick
from claimdesk.tui import keys

#: field: (label, error line, control)
PLACES = {
    "payer_id": ("Payer", "cv-payer-error", "cv-payer_id"),
    "member_id": ("Member ID", "cv-member-error", "cv-member_id"),
    "group_no": ("Group", "cv-member-error", "cv-group_no"),
    "plan_type": ("Plan type", "cv-plan-error", "cv-plan_type"),
    "relationship": ("Subscriber", "cv-plan-error", "cv-relationship"),
    "subscriber": ("Subscriber", "cv-plan-error", "cv-relationship"),
    "subscriber_last_name": ("Last name", "cv-sname-error", "cv-subscriber_last_name"),
    "subscriber_first_name": ("First name", "cv-sname-error", "cv-subscriber_first_name"),
    "subscriber_dob": ("Birth date", "cv-sbirth-error", "cv-subscriber_dob"),
    "subscriber_sex": ("Sex", "cv-sbirth-error", "cv-subscriber_sex"),
    "subscriber_address": ("Address", "cv-saddr-error", "cv-subscriber_address"),
    "subscriber_city": ("City", "cv-scity-error", "cv-subscriber_city"),
    "subscriber_state": ("State", "cv-scity-error", "cv-subscriber_state"),
    "subscriber_zip": ("ZIP", "cv-scity-error", "cv-subscriber_zip"),
    "active": ("Active", "cv-general-error", "cv-active"),
    "patient_id": ("Patient", "cv-general-error", "cv-payer_id"),
}
SUBSCRIBER_TEXT = ("subscriber_last_name", "subscriber_first_name", "subscriber_dob", "subscriber_address",
                   "subscriber_city", "subscriber_state", "subscriber_zip")


def _select(options: list, field: str, value, prompt: str, width: str = "", **kw) -> Select:
    """A compact select of ``[[value, label], ...]`` starting on ``value`` when it is one of them."""
    pairs = [(str(label), v) for v, label in options]
    start = value if any(v == value for _l, v in pairs) else Select.NULL
    return Select(pairs, prompt=prompt, value=start, id=f"cv-{field}", compact=True, classes=width, **kw)


class CoverageDialog(FormDialog):
    """Add a coverage to ``patient`` or change ``coverage``; dismisses with the saved coverage or None."""

    SAVE_BUTTON = "cv-save"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("save", "Save")]

    def __init__(self, patient: dict, choices: dict, coverage: dict | None = None):
        super().__init__(classes="dialog-screen intake")
        self.patient = patient
        self.choices = choices
        self.coverage = coverage
        self.submit_key = SubmitKey()
        self.errors = FieldErrors(self, {f: Place(*p) for f, p in PLACES.items()}, general="cv-general-error")

    def _input(self, field: str, placeholder: str = "", width: str = "") -> Input:
        value = str((self.coverage or {}).get(field) or "")
        return Input(value, placeholder=placeholder, id=f"cv-{field}", compact=True, classes=width)

    def compose(self) -> ComposeResult:
        what = f"Coverage #{self.coverage['coverage_id']}" if self.coverage else "New coverage"
        c, ch, _input = self.coverage or {}, self.choices, self._input
        payers = [[p["payer_id"], p["name"]] for p in ch["payers"]]
        with Vertical(classes="dialog", id="coverage-dialog"):
            yield Label(Text(f"{what} for {self.patient['name']} (#{self.patient['patient_id']})"),
                        classes="dialog-title")
            with VerticalScroll(classes="dialog-form"):
                yield form_line(("Payer", _select(payers, "payer_id", c.get("payer_id"), "choose the payer…")))
                yield ErrorLine(id="cv-payer-error")
                yield form_line(("Member ID", _input("member_id", width="w-member")), ("Group", _input("group_no")))
                yield ErrorLine(id="cv-member-error")
                yield form_line(("Plan type", _select(ch["plan_types"], "plan_type", c.get("plan_type"),
                                                      "the payer's default", "w-plan")),
                                ("Subscriber", _select(ch["relationships"], "relationship",
                                                       c.get("relationship") or "self", "", allow_blank=False)))
                yield ErrorLine(id="cv-plan-error")
                with Vertical(id="cv-subscriber"):
                    yield Label("The subscriber (the policy holder):", classes="hint")
                    yield form_line(("Last name", _input("subscriber_last_name")),
                                    ("First name", _input("subscriber_first_name")))
                    yield ErrorLine(id="cv-sname-error")
                    yield form_line(("Birth date", _input("subscriber_dob", "YYYY-MM-DD", "w-date")),
                                    ("Sex", _select(ch["sexes"], "subscriber_sex", c.get("subscriber_sex") or "U",
                                                    "sex", "w-choice")))
                    yield ErrorLine(id="cv-sbirth-error")
                    yield form_line(("Address", _input("subscriber_address")))
                    yield ErrorLine(id="cv-saddr-error")
                    yield form_line(("City", _input("subscriber_city", width="w-city")),
                                    ("State", _input("subscriber_state", "OR", "w-state")),
                                    ("ZIP", _input("subscriber_zip", width="w-zip")))
                    yield ErrorLine(id="cv-scity-error")
                yield Tick("Active (claims may be billed to it)", value=c.get("active", True), id="cv-active",
                           compact=True)
                yield ErrorLine(id="cv-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (F2)", id="cv-save", variant="primary", compact=True)
                yield Button("Cancel", id="cv-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.show_subscriber()
        self.query_one("#cv-payer_id", Select).focus()

    def show_subscriber(self) -> None:
        """The subscriber's own fields only when the subscriber is not the patient."""
        self.query_one("#cv-subscriber").display = choice_of(self.query_one("#cv-relationship", Select)) != "self"

    def payload(self) -> dict:
        data: dict = {"patient_id": self.patient["patient_id"],
                      "member_id": text_of(self.query_one("#cv-member_id", Input)),
                      "group_no": text_of(self.query_one("#cv-group_no", Input)),
                      "relationship": choice_of(self.query_one("#cv-relationship", Select)),
                      "plan_type": choice_of(self.query_one("#cv-plan_type", Select)) or "",
                      "active": self.query_one("#cv-active", Checkbox).value}
        payer = choice_of(self.query_one("#cv-payer_id", Select))
        if payer is not None:
            data["payer_id"] = payer
        if data["relationship"] != "self":
            data.update({f: text_of(self.query_one(f"#cv-{f}", Input)) for f in SUBSCRIBER_TEXT})
            data["subscriber_dob"] = data["subscriber_dob"] or None
            data["subscriber_sex"] = choice_of(self.query_one("#cv-subscriber_sex", Select)) or "U"
        return data

    def action_save(self) -> None:
        data = self.payload()
        key = self.submit_key.for_payload({"coverage": (self.coverage or {}).get("coverage_id"), "data": data})
        self.errors.clear()
        if self.coverage is None:
            self.call(coverages.add_coverage, data, idempotency_key=key, done=self.dismiss, failed=self.errors.show,
                      busy=self.query_one("#cv-save"))
        else:
            self.call(coverages.edit_coverage, self.coverage["coverage_id"], data, idempotency_key=key,
                      done=self.dismiss, failed=self.errors.show, busy=self.query_one("#cv-save"))




    def on_select_changed(self, event: Select.Changed) -> None:
        self.errors.clear(event.select.id)
        if event.select.id == "cv-relationship":
            self.show_subscriber()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.errors.clear(event.checkbox.id)
