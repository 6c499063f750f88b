"""Charge entry: a new encounter for one patient, with its lines, diagnoses picked and pointed.

The patient (found as in registration; F6), the rendering provider, the date of service
(today unless changed), the place of service, a referring provider when there is one, who is
billed (the patient's coverages in order, or self-pay), the diagnoses in the claim's order
(typed, or picked with F8 from the patient's earlier ones and the clinic's usual ones), then
the lines: F4 adds one, Enter changes one, Delete removes it (:mod:`.charge_line`). F2 has
the core check the whole encounter and shows what it would save (``preview_encounter``); Save
there writes it in one workflow (``add_encounter``) and the screen says the encounter and
claim number, the total and who is billed first. A refusal is shown under the field it names
and nothing is written.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from claimdesk.core.money import fmt
from claimdesk.core.services import charge_entry, intake_views
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.screens.charge_line import LINE_LABELS, LINES_HEADER, LineDialog, line_text, split_list
from claimdesk.tui.screens.confirm import ConfirmScreen
from claimdesk.tui.screens.diagnosis_pick import DiagnosisPicker, as_written
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.form_line import FormBody, choice_of, form_line, set_choices, text_of
from claimdesk.tui.widgets.patient_search import PatientSearch
from claimdesk.tui import keys

PLACES = {
    "patient_id": Place("Patient", "ce-find-error", "ce-find-input"),
    "provider_id": Place("Provider", "ce-provider-error", "ce-provider"),
    "dos": Place("Date of service", "ce-provider-error", "ce-dos"),
    "place_of_service": Place("Place", "ce-place-error", "ce-pos"),
    "referring_provider_id": Place("Referring", "ce-place-error", "ce-referring"),
    "coverage_ids": Place("Bill to", "ce-billed-error", "ce-billed"),
    "diagnoses": Place("Diagnoses", "ce-dx-error", "ce-dx"),
    "charges": Place("Lines", "ce-lines-error", "ce-lines"),
}
NEW_LINE = "+ Add line (F4)"


def locate(path: str) -> Place | None:
    """Where a refusal of one diagnosis or of one line's field goes ("Line 2 code: ...")."""
    m = re.fullmatch(r"diagnoses\.(\d+)", path)
    if m:
        return Place(f"Diagnosis {int(m.group(1)) + 1}", "ce-dx-error", "ce-dx")
    m = re.fullmatch(r"charges\.(\d+)\.(\w+)", path)
    if m:
        return Place(f"Line {int(m.group(1)) + 1} {LINE_LABELS.get(m.group(2), m.group(2)).lower()}",
                     "ce-lines-error", "ce-lines")
    return None


def numbered(diagnoses: list[str]) -> str:
    """The diagnoses as the lines point at them: ``1 E11.9 · 2 I10``."""
    return " · ".join(f"{n} {d}" for n, d in enumerate(diagnoses, 1))


def review_lines(p: dict, places: dict[str, str]) -> list:
    """What :func:`charge_entry.preview_encounter` says the encounter will be, for the confirm step
    (``places``: place of service code -> its label)."""
    place = places.get(p["place_of_service"], p["place_of_service"])
    out: list = [("Patient", f"{p['patient']} (#{p['patient_id']}, {p['account_no']})"),
                 ("Date · place", f"{p['dos']} · {place}"),
                 ("Provider", p["provider"] + (f" · referred by {p['referring_provider']}"
                                               if p["referring_provider"] else "")),
                 ("Diagnoses", numbered(p["diagnoses"]) or "none")]
    for n, ln in enumerate(p["charges"], 1):
        code = "-".join([ln["code"], *ln["modifiers"]])
        dx = ",".join(map(str, ln["pointers"])) or "—"
        out.append((f"Line {n}", f"{code} ×{ln['units']}  {fmt(ln['fee'])}  dx {dx}  {ln['description']}"))
    out.append(("Total", fmt(p["total"])))
    out.append(("Billed first", p["billed_first"]))
    out += [(f"Then ({b['rank']})", b["payer"]) for b in p["billed"][1:]]
    out += [("⚠ Look", warning) for warning in p.get("warnings", [])]
    return out


def saved_text(res: dict) -> Text:
    """What was saved, in words and amounts."""
    lines = [ln for ln in res["charges"] if ln["status"] == "active"]
    t = Text()
    t.append(f"✔ Encounter #{res['encounter_id']} saved, claim number {res['claim_no']}", style="bold")
    t.append(f": {len(lines)} line{'s' if len(lines) != 1 else ''}, total {fmt(res['total'])}; "
             f"billed first: {res['billed_first']}")
    t.append(" (claim queued for the next batch)." if res.get("claim_queued") else ".")
    return t


class ChargeEntryScreen(BaseScreen):
    """A new encounter: F2 reviews and saves, F4 adds a line, F8 picks diagnoses, F6 finds the patient."""

    TITLE = "Charge entry"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("review", "Review · save"),
        keys.new("add_line", "Add line"),
        keys.details("pick_diagnoses", "Diagnoses"),
        keys.find("find"),
        Binding("delete", "remove_line", "Remove line", show=False),
    ]

    def __init__(self, patient_id: int | None = None):
        super().__init__(classes="intake")
        self.start_with = patient_id
        self.choices: dict = {}
        self.patient: dict | None = None  # intake_views.patient_billing of the patient chosen
        self.lines: list[dict] = []  # {"row": what the dialog loaded, "shown": the core's check of it}
        self.submit_key = SubmitKey()
        self.saving = False
        self.errors = FieldErrors(self, PLACES, general="ce-general-error", locate=locate)

    def compose(self) -> ComposeResult:
        yield Header()
        with FormBody(classes="scroll-body", id="ce-body"):
            yield PatientSearch("Patient", id="ce-find")
            yield Static("", id="ce-patient", classes="ce-info")
            yield form_line(("Provider", Select([], prompt="rendering provider…", id="ce-provider", compact=True)),
                            ("Date", Input(placeholder="YYYY-MM-DD", id="ce-dos", compact=True, classes="w-date")))
            yield ErrorLine(id="ce-provider-error")
            yield form_line(("Place", Select([], prompt="place…", id="ce-pos", compact=True)),
                            ("Referring", Select([], prompt="none", id="ce-referring", compact=True)))
            yield ErrorLine(id="ce-place-error")
            yield form_line(("Bill to", Select([], prompt="choose the patient first", id="ce-billed", compact=True)))
            yield ErrorLine(id="ce-billed-error")
            yield form_line(("Diagnoses", Input(placeholder="ICD-10 codes in order: E11.9, I10 (F8 picks)",
                                                id="ce-dx", compact=True)))
            yield Static("", id="ce-dx-list", classes="ce-info")
            yield ErrorLine(id="ce-dx-error")
            yield Label(LINES_HEADER, id="ce-lines-header", markup=False)
            yield OptionList(id="ce-lines", compact=True)
            yield ErrorLine(id="ce-lines-error")
            yield Static("", id="ce-total", classes="ce-info")
            yield ErrorLine(id="ce-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Review · save (F2)", id="ce-review", variant="primary", compact=True)
                yield Button("Add line (F4)", id="ce-add", compact=True)
            yield Static("", id="ce-result", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ce-patient").display = False
        self.show_diagnoses()
        self.show_lines()
        self.call(intake_views.entry_choices, done=self.fill_choices)

    def fill_choices(self, choices: dict) -> None:
        self.choices = choices
        rendering = [(p["name"], p["provider_id"]) for p in choices["rendering"]]
        set_choices(self.query_one("#ce-provider", Select), rendering, rendering[0][1] if len(rendering) == 1 else None)
        self.query_one("#ce-provider", Select).prompt = ("rendering provider…" if rendering else
                                                         "no provider yet: Clinic setup (t on Home) adds one")
        set_choices(self.query_one("#ce-referring", Select),
                    [(p["name"], p["provider_id"]) for p in choices["referring"]])
        set_choices(self.query_one("#ce-pos", Select), [(str(label), code) for code, label in choices["places"]], "11")
        dos = self.query_one("#ce-dos", Input)
        if not dos.value:
            dos.value = choices["today"]
        if self.start_with is not None:
            self.open_patient(self.start_with)
        else:
            self.query_one("#ce-find", PatientSearch).focus_box()
        self.show_lines()

    # -- the patient ------------------------------------------------------------------------------
    def action_find(self) -> None:
        self.query_one("#ce-find", PatientSearch).focus_box()

    def on_patient_search_picked(self, event: PatientSearch.Picked) -> None:
        event.stop()
        self.open_patient(event.patient_id)

    def open_patient(self, patient_id: int) -> None:
        self.call(intake_views.patient_billing, patient_id, done=self.show_patient, failed=self.errors.show,
                  group="patient", exclusive=True)

    def show_patient(self, info: dict) -> None:
        self.patient = info
        self.errors.clear()
        self.query_one("#ce-find-input", Input).value = info["account_no"]
        covered = ", ".join(f"{c['payer']} ({c['member_id']})" for c in info["coverages"]) or "no active coverage"
        self.query_one("#ce-patient").display = True
        self.query_one("#ce-patient", Static).update(Text(
            f"{info['name']} · #{info['patient_id']} · {info['account_no']} · born {info['dob'] or '—'} · {covered}"))
        billed = self.query_one("#ce-billed", Select)
        orders = info["orders"]
        start = next((n for n, o in enumerate(orders) if o["coverage_ids"] == info["order"] and info["order"]), None)
        if start is None and len(orders) <= 2:  # one coverage (or none): no choice to make
            start = 0
        set_choices(billed, [(o["label"], n) for n, o in enumerate(orders)], start)
        billed.prompt = "choose who is billed, primary first…"
        self.query_one("#ce-provider", Select).focus()

    # -- diagnoses -----------------------------------------------------------------------------------
    def diagnoses(self) -> list[str]:
        return [as_written(d) for d in split_list(text_of(self.query_one("#ce-dx", Input)))]

    def on_input_changed(self, event: Input.Changed) -> None:
        self.errors.clear(event.input.id)
        if event.input.id == "ce-dx":
            self.show_diagnoses()

    def show_diagnoses(self) -> None:
        listed = numbered(self.diagnoses())
        self.query_one("#ce-dx-list", Static).update(Text(listed))
        self.query_one("#ce-dx-list", Static).display = bool(listed)

    def action_pick_diagnoses(self) -> None:
        earlier = (self.patient or {}).get("diagnoses", [])
        common = self.choices.get("diagnoses", [])
        if not (earlier or common or self.diagnoses()):
            self.errors.clear()
            self.query_one("#ce-dx-error", ErrorLine).show(
                "Diagnoses: none entered here before to pick from; type the codes (E11.9, I10)")
            self.query_one("#ce-dx", Input).focus()
            return
        self.app.push_screen(DiagnosisPicker(self.diagnoses(), earlier, common), callback=self.diagnoses_picked)

    def diagnoses_picked(self, codes: list[str] | None) -> None:
        if codes is not None:
            self.query_one("#ce-dx", Input).value = ", ".join(codes)
            self.query_one("#ce-dx", Input).focus()

    # -- lines ----------------------------------------------------------------------------------------
    def show_lines(self, highlight: int | None = None) -> None:
        box = self.query_one("#ce-lines", OptionList)
        box.clear_options()
        width = max(40, (box.size.width or 76) - 1)
        box.add_options([Option(Text(line_text(n, ln["shown"], width)), id=str(n - 1))
                         for n, ln in enumerate(self.lines, 1)] + [Option(NEW_LINE, id="new")])
        box.highlighted = highlight if highlight is not None else len(self.lines)
        total = charge_entry.lines_total([ln["shown"] for ln in self.lines])
        self.query_one("#ce-total", Static).update(Text(
            f"{len(self.lines)} line{'s' if len(self.lines) != 1 else ''} · total {fmt(total)}"
            if self.lines else "No lines yet: F4 adds one."))

    def action_add_line(self) -> None:
        self.edit_line(None)

    def edit_line(self, index: int | None) -> None:
        codes = self.choices.get("codes", [])
        row = self.lines[index]["row"] if index is not None else None
        number = (index if index is not None else len(self.lines)) + 1

        def done(res: dict | None) -> None:
            if res is None:
                return
            self.errors.clear("ce-lines")
            if index is None:
                self.lines.append(res)
            else:
                self.lines[index] = res
            self.show_lines(index if index is not None else len(self.lines))
            self.query_one("#ce-lines", OptionList).focus()

        self.app.push_screen(LineDialog(number, codes, self.diagnoses(), row), callback=done)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id != "ce-lines":
            return
        event.stop()
        self.edit_line(None if event.option.id == "new" else int(event.option.id))

    def action_remove_line(self) -> None:
        box = self.query_one("#ce-lines", OptionList)
        if self.focused is not box or box.highlighted is None or box.highlighted >= len(self.lines):
            return
        removed = self.lines.pop(box.highlighted)
        self.show_lines(min(box.highlighted, len(self.lines)))
        self.notify(f"Line {removed['shown']['code']} removed (nothing was saved yet).", timeout=4)

    # -- review and save ----------------------------------------------------------------------------------
    def payload(self) -> dict:
        """The encounter as the core loads it."""
        data: dict = {"dos": text_of(self.query_one("#ce-dos", Input)), "diagnoses": self.diagnoses(),
                      "charges": [ln["row"] for ln in self.lines]}
        if self.patient is not None:
            data["patient_id"] = self.patient["patient_id"]
        for field, ident in (("provider_id", "#ce-provider"), ("place_of_service", "#ce-pos"),
                             ("referring_provider_id", "#ce-referring")):
            value = choice_of(self.query_one(ident, Select))
            if value is not None:
                data[field] = value
        order = choice_of(self.query_one("#ce-billed", Select))
        if self.patient is not None and order is not None:
            data["coverage_ids"] = self.patient["orders"][order]["coverage_ids"]
        return data

    def action_review(self) -> None:
        if self.saving:
            return
        payload = self.payload()
        self.errors.clear()
        self.call(charge_entry.preview_encounter, payload, done=lambda p: self.confirm(payload, p),
                  failed=self.refused, busy=self.query_one("#ce-review"))

    def confirm(self, payload: dict, preview: dict) -> None:
        self.app.push_screen(ConfirmScreen(
            f"Save this encounter for {preview['patient']}?", review_lines(preview, dict(self.choices.get("places", []))),
            note="Nothing is written until you say Save.", yes="Save encounter", no="Back"),
            callback=lambda yes: self.save(payload) if yes else None)

    def save(self, payload: dict) -> None:
        if self.saving:
            return
        self.saving = True
        key = self.submit_key.for_payload(payload)
        self.call(charge_entry.add_encounter, payload, idempotency_key=key, done=self.saved, failed=self.refused,
                  busy=self.query_one("#ce-review"))

    def saved(self, res: dict) -> None:
        self.saving = False
        self.submit_key.done()
        self.query_one("#ce-result", Static).update(saved_text(res))
        self.notify(f"Encounter #{res['encounter_id']} saved: total {fmt(res['total'])}.", timeout=6)
        # the next encounter starts with no lines and no diagnoses (F2 now cannot save this one twice)
        self.lines = []
        self.query_one("#ce-dx", Input).value = ""
        self.show_lines()
        self.query_one("#ce-result", Static).scroll_visible(animate=False)
        if self.patient is not None:
            self.call(intake_views.patient_billing, self.patient["patient_id"], done=self.refresh_patient,
                      group="patient", exclusive=True)

    def refresh_patient(self, info: dict) -> None:
        """The patient's earlier diagnoses now include the ones just saved (F8 offers them)."""
        if self.patient is not None and self.patient["patient_id"] == info["patient_id"]:
            self.patient["diagnoses"] = info["diagnoses"]

    def refused(self, exc: BaseException) -> None:
        self.saving = False
        self.errors.show(exc)
        m = re.match(r"charges\.(\d+)\.", getattr(exc, "field", None) or "")
        if m and int(m.group(1)) < len(self.lines):
            self.query_one("#ce-lines", OptionList).highlighted = int(m.group(1))
        self.query_one("#ce-result", Static).update(Text("Not saved: see the field marked with !"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ce-review":
            self.action_review()
        elif event.button.id == "ce-add":
            self.action_add_line()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()  # Enter moves on to the next field; F2 reviews

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.errors.clear(event.select.id)
