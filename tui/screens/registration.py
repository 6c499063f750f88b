"""Patient registration: find a patient or register a new one, and keep their coverages.

F6 finds (part of a name, an account number, a member id or a birth date; Enter on a match
opens it); F4 starts a new patient; F2 saves (registers the new patient, or changes the
fields edited of the one found). A patient with the same name and birth date is a warning the
clerk answers: register anyway, or go back. Under the form, the patient's coverages: Enter
on one edits it, "+ Add coverage" (or F8) adds one (:mod:`.coverage_form`). F7 ("Charge
entry ›") opens charge entry for the patient. Every rule is the core's: each refusal is shown under the
field it names, and nothing is written.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from claimdesk.core.services import intake_views, patients
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.screens.confirm import ConfirmScreen
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.form_line import FormBody, choice_of, form_line, set_choices, text_of
from claimdesk.tui.widgets.patient_search import PatientSearch
from claimdesk.tui import keys

#: The patient's fields as the form labels them, and the error line under each.
LABELS = {"last_name": "Last name", "first_name": "First name", "dob": "Birth date", "sex": "Sex",
          "address": "Address", "city": "City", "state": "State", "zip": "ZIP", "phone": "Phone",
          "account_no": "Account"}
LINES = {"last_name": "name", "first_name": "name", "dob": "birth", "sex": "birth", "address": "addr",
         "city": "city", "state": "city", "zip": "city", "phone": "phone", "account_no": "phone"}
TEXT_FIELDS = ("last_name", "first_name", "dob", "address", "city", "state", "zip", "phone")
NEW_COVERAGE = "+ Add coverage"


def coverage_row(n: int, c: dict, width: int = 76) -> str:
    """One coverage as the list shows it, cut to ``width`` (the dialog shows it whole)."""
    who = "self" if c["relationship"] == "self" else f"{c['relationship']}: {c['subscriber']}"
    group = f" · group {c['group_no']}" if c["group_no"] else ""
    off = "INACTIVE " if not c["active"] else ""
    text = f"{n}. {off}{c['payer']} · {c['plan_type']} · member {c['member_id']}{group} · {who}"
    return text if len(text) <= width else text[: width - 1] + "…"


class RegistrationScreen(BaseScreen):
    """Find or register a patient; their coverages; on to charge entry."""

    TITLE = "Patient registration"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("save", "Save"),
        keys.new("new_patient", "New"),
        keys.details("add_coverage", "Coverage"),
        keys.find("find"),
        keys.related("charge_entry", "Charges"),
    ]

    def __init__(self, patient_id: int | None = None):
        super().__init__(classes="intake")
        self.start_with = patient_id
        self.record: dict | None = None  # the patient as saved (None: a new one)
        self.coverages: list[dict] = []
        self.choices: dict = {}
        self.submit_key = SubmitKey()
        places = {f: Place(label, f"pt-{LINES[f]}-error", f"pt-{f}" if f != "account_no" else "pt-phone")
                  for f, label in LABELS.items()}
        self.errors = FieldErrors(self, places, general="pt-general-error")

    def compose(self) -> ComposeResult:
        yield Header()
        with FormBody(classes="scroll-body", id="pt-body"):
            yield PatientSearch("Find", id="pt-find")
            yield Label("", id="pt-title", classes="section-title")
            yield form_line(("Last name", Input(id="pt-last_name", compact=True)),
                            ("First name", Input(id="pt-first_name", compact=True)))
            yield ErrorLine(id="pt-name-error")
            yield form_line(("Birth date", Input(placeholder="YYYY-MM-DD", id="pt-dob", compact=True, classes="w-date")),
                            ("Sex", Select([], prompt="sex", id="pt-sex", compact=True, classes="w-choice")))
            yield ErrorLine(id="pt-birth-error")
            yield form_line(("Address", Input(id="pt-address", compact=True)))
            yield ErrorLine(id="pt-addr-error")
            yield form_line(("City", Input(id="pt-city", compact=True, classes="w-city")),
                            ("State", Input(placeholder="OR", id="pt-state", compact=True, classes="w-state")),
                            ("ZIP", Input(id="pt-zip", compact=True, classes="w-zip")))
            yield ErrorLine(id="pt-city-error")
            yield form_line(("Phone", Input(id="pt-phone", compact=True, classes="w-phone")))
            yield ErrorLine(id="pt-phone-error")
            yield ErrorLine(id="pt-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Save patient (F2)", id="pt-save", variant="primary", compact=True)
                yield Button("New patient (F4)", id="pt-new", compact=True)
                yield Button("Charge entry › (F7)", id="pt-charges", compact=True, disabled=True)
            yield Label("Coverage", classes="section-title")
            yield Static("Save the patient first; then add their coverage here.", id="pt-cov-hint", classes="hint")
            yield OptionList(id="pt-coverages", compact=True)
        yield Static("", id="pt-status", classes="intake-status")
        yield Footer()

    def on_mount(self) -> None:
        self.show_patient(None)
        self.call(intake_views.registration_choices, done=self.fill_choices)

    def fill_choices(self, choices: dict) -> None:
        self.choices = choices
        sex = self.query_one("#pt-sex", Select)
        set_choices(sex, [(label, code) for code, label in choices["sexes"]], (self.record or {}).get("sex") or "U")
        if self.start_with is not None:
            self.open_patient(self.start_with)
        else:
            self.query_one("#pt-find", PatientSearch).focus_box()

    # -- finding and showing a patient -------------------------------------------------------------
    def action_find(self) -> None:
        self.query_one("#pt-find", PatientSearch).focus_box()

    def on_patient_search_picked(self, event: PatientSearch.Picked) -> None:
        event.stop()
        self.open_patient(event.patient_id)

    def open_patient(self, patient_id: int, focus: str = "pt-last_name") -> None:
        """Load the patient into the form and put the cursor on ``focus``."""
        def loaded(info: dict) -> None:
            self.show_patient(info["patient"], info["coverages"])
            self.query_one(f"#{focus}").focus()

        self.call(intake_views.patient_record, patient_id, done=loaded, failed=self.errors.show,
                  group="patient", exclusive=True)

    def show_patient(self, record: dict | None, coverages: list[dict] | None = None) -> None:
        """Fill the form with ``record`` (None: empty, for a new patient) and list its coverages."""
        self.record = record
        self.submit_key.done()
        self.errors.clear()
        for field in TEXT_FIELDS:
            self.query_one(f"#pt-{field}", Input).value = str((record or {}).get(field) or "")
        sex = self.query_one("#pt-sex", Select)
        if self.choices:
            sex.value = (record or {}).get("sex") or "U"
        self.query_one("#pt-title", Label).update(
            Text(f"Patient #{record['patient_id']} · account {record['account_no']}", style="bold") if record
            else Text("New patient (the account number is made when saved)", style="bold"))
        self.query_one("#pt-charges", Button).disabled = record is None
        self.show_coverages(coverages or [])

    def show_coverages(self, coverages: list[dict]) -> None:
        self.coverages = coverages
        box = self.query_one("#pt-coverages", OptionList)
        box.clear_options()
        saved = self.record is not None
        box.display = saved
        self.query_one("#pt-cov-hint", Static).display = not saved
        if saved:
            width = max(40, (box.size.width or 78) - 2)
            box.add_options([Option(Text(coverage_row(n, c, width)), id=str(c["coverage_id"]))
                             for n, c in enumerate(coverages, 1)] + [Option(NEW_COVERAGE, id="new")])
            box.highlighted = 0

    # -- saving the patient ------------------------------------------------------------------------
    def action_new_patient(self) -> None:
        self.show_patient(None)
        self.query_one("#pt-status", Static).update("")
        self.query_one("#pt-last_name", Input).focus()

    def form_values(self) -> dict:
        values = {f: text_of(self.query_one(f"#pt-{f}", Input)) for f in TEXT_FIELDS}
        sex = choice_of(self.query_one("#pt-sex", Select))
        if sex is not None:
            values["sex"] = sex
        return values

    def payload(self) -> dict:
        """A new patient: the fields filled in; a found one: the fields changed."""
        values = self.form_values()
        if self.record is None:
            return {k: v for k, v in values.items() if v != ""}
        return {k: v for k, v in values.items() if v != str(self.record.get(k) or "")}

    def action_save(self, duplicate_ok: bool = False) -> None:
        data = self.payload()
        if self.record is not None and not data:
            self.errors.clear()
            self.query_one("#pt-status", Static).update(Text(f"Nothing to save: no field of {self.record['name']} "
                                                             "was changed."))
            return
        if duplicate_ok:
            data["duplicate_ok"] = True
        patient_id = self.record["patient_id"] if self.record else None
        key = self.submit_key.for_payload({"patient_id": patient_id, "data": data})
        self.errors.clear()
        if patient_id is None:
            self.call(patients.add_patient, data, idempotency_key=key, done=self.saved, failed=self.refused,
                      busy=self.query_one("#pt-save"))
        else:
            self.call(patients.edit_patient, patient_id, data, idempotency_key=key, done=self.saved,
                      failed=self.refused, busy=self.query_one("#pt-save"))

    def saved(self, res: dict) -> None:
        new = self.record is None
        self.submit_key.done()
        if new:
            said = f"✔ Registered {res['name']}: patient #{res['patient_id']}, account {res['account_no']}. " \
                   "F8 adds their coverage; F7 goes on to charge entry."
        elif res.get("changed"):
            said = f"✔ Saved {res['name']}: changed " + ", ".join(LABELS.get(f, f).lower() for f in res["changed"]) + "."
        else:
            said = f"Nothing changed for {res['name']}."
        self.query_one("#pt-status", Static).update(Text(said))
        self.open_patient(res["patient_id"], "pt-coverages" if new else "pt-last_name")

    def refused(self, exc: BaseException) -> None:
        if isinstance(exc, patients.DuplicatePatient):
            self.ask_duplicate(exc.other)
            return
        self.errors.show(exc)
        self.query_one("#pt-status", Static).update(Text("Not saved: see the field marked with !"))

    def ask_duplicate(self, other: dict) -> None:
        verb = "Register" if self.record is None else "Save"
        said = f"same name and birth date as patient #{other['patient_id']} ({other['name']}, " \
               f"account {other['account_no']})"

        def answer(yes: bool | None) -> None:
            if yes:
                self.action_save(duplicate_ok=True)
            else:
                self.errors.say("dob", said + "; F6 finds that patient")
                self.query_one("#pt-status", Static).update(Text("Not saved."))

        self.app.push_screen(ConfirmScreen(
            f"Patient #{other['patient_id']} has the same name and birth date",
            [("Patient", f"#{other['patient_id']} {other['name']}"), ("Account", other["account_no"])],
            note=f"{verb} only if this is another person; Back keeps the form as typed.",
            yes=f"{verb} anyway", no="Back"), callback=answer)

    # -- coverage and what comes next --------------------------------------------------------------
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "pt-coverages" or self.record is None:
            return
        event.stop()
        self.open_coverage(next((c for c in self.coverages if str(c["coverage_id"]) == event.option.id), None))

    def action_add_coverage(self) -> None:
        if self.record is None:
            self.query_one("#pt-status", Static).update(Text("Save the patient first (F2); then add their coverage."))
            return
        self.open_coverage(None)

    def open_coverage(self, coverage: dict | None) -> None:
        """The coverage dialog: ``coverage`` changed, or a new one added."""
        from claimdesk.tui.screens.coverage_form import CoverageDialog

        if not self.choices.get("payers"):
            self.query_one("#pt-status", Static).update(Text(
                "No insurance payer yet: add one in Clinic setup (t on Home) first."))
            return
        self.app.push_screen(CoverageDialog(self.record, self.choices, coverage), callback=self.coverage_saved)

    def action_charge_entry(self) -> None:
        if self.record is None:
            self.query_one("#pt-status", Static).update(Text("Save the patient first (F2); then enter charges."))
            return
        self.app.open_charge_entry(self.record["patient_id"])

    def coverage_saved(self, res: dict | None) -> None:
        if not res:
            return
        verb = "added" if res.get("created") else "saved"
        self.query_one("#pt-status", Static).update(Text(
            f"✔ Coverage {verb}: {res['payer']}, member {res['member_id']}, plan {res['plan_type']}."))
        self.open_patient(res["patient_id"], "pt-coverages")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "pt-save":
            self.action_save()
        elif event.button.id == "pt-new":
            self.action_new_patient()
        elif event.button.id == "pt-charges":
            self.action_charge_entry()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()  # Enter moves on to the next field; F2 saves

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self.errors.clear(event.input.id)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id:
            self.errors.clear(event.select.id)
