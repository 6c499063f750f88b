"""The charge line dialog (from charge entry): one line of a new encounter.

Code (typed, completed from the code list as you type, or picked from the list under it),
modifiers, units, fee (blank: the code's fee for each unit) and the diagnoses the line points
at, ticked in the order they apply. F2 has the core check the line against the diagnoses
entered so far; a refusal is shown under its field, else the dialog closes with the line.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import charge_entry
from claimdesk.tui.screens.base import FormDialog
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.form_line import choice_of, form_line, text_of
from claimdesk.tui.widgets.tick_list import OrderTickList
from claimdesk.tui import keys

#: A line's fields as the dialog labels them (charge entry names a line's refusals the same way).
LINE_LABELS = {"code": "Code", "modifiers": "Modifiers", "units": "Units", "fee": "Fee", "pointers": "Points at",
               "control_no": "Control number", "provider_id": "Provider", "dos": "Date"}
LINES = {"code": "ln-code", "modifiers": "ln-mods", "units": "ln-units", "fee": "ln-units", "pointers": "ln-dx"}


def split_list(text: str) -> list[str]:
    """Typed codes ("25, 59" or "25 59") as a list, in order."""
    return [part for part in re.split(r"[,\s]+", text.strip()) if part]


def code_hint(code: dict | None) -> str:
    """What a code on the list is and its fee."""
    return f"{fmt(code['fee'])} a unit · {code['description']}" if code else ""


#: The lines list's header, over the columns :func:`line_text` fills.
LINES_HEADER = " #  Code             Units        Fee  Points at  Service"


def line_text(n: int, shown: dict, width: int = 64) -> str:
    """A checked line as the lines list shows it, cut to ``width``."""
    code = "-".join([shown["code"], *shown["modifiers"]])
    dx = ",".join(map(str, shown["pointers"])) or "—"
    text = f"{n:>2}  {code:<16} {shown['units']:>5} {fmt(shown['fee']):>10}  {dx:<9}  {shown['description']}"
    return text if len(text) <= width else text[: width - 1] + "…"


class LineDialog(FormDialog):
    """Enter or change one charge line; dismisses with ``{"row": input, "shown": checked}`` or None."""

    SAVE_BUTTON = "ln-save"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("save", "Save line")]

    def __init__(self, number: int, codes: list[dict], diagnoses: list[str], row: dict | None = None):
        super().__init__(classes="dialog-screen intake")
        self.number = number
        self.codes = {c["code"]: c for c in codes}
        self.diagnoses = diagnoses
        self.row = row or {}
        places = {f: Place(label, f"{LINES.get(f, 'ln-general')}-error",
                           {"code": "ln-code", "modifiers": "ln-modifiers", "units": "ln-units", "fee": "ln-fee",
                            "pointers": "ln-pointers"}.get(f, "ln-code"))
                  for f, label in LINE_LABELS.items()}
        self.errors = FieldErrors(self, places, general="ln-general-error")

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(classes="dialog", id="line-dialog"):
            yield Label(Text(f"Line {self.number}"), classes="dialog-title")
            with VerticalScroll(classes="dialog-form"):
                yield form_line(("Code", Input(row.get("code", ""), placeholder="99213", id="ln-code", compact=True,
                                               classes="w-code",
                                               suggester=SuggestFromList(list(self.codes), case_sensitive=False))),
                                ("", Static(code_hint(self.codes.get(row.get("code", "").upper())), id="ln-hint")))
                yield form_line(("", Select([(f"{c['code']}  {c['description']}", c["code"]) for c in
                                             self.codes.values()], prompt="or pick from the code list…",
                                            id="ln-pick", compact=True)))
                yield ErrorLine(id="ln-code-error")
                yield form_line(("Modifiers", Input(", ".join(row.get("modifiers", [])), placeholder="up to 4: 25, 59",
                                                    id="ln-modifiers", compact=True, classes="w-mods")))
                yield ErrorLine(id="ln-mods-error")
                yield form_line(("Units", Input(str(row.get("units", "")), placeholder="1", id="ln-units",
                                                compact=True, type="integer", classes="w-units")),
                                ("Fee", Input(row.get("fee", ""), placeholder="the code's fee", id="ln-fee",
                                              compact=True, classes="w-fee")))
                yield ErrorLine(id="ln-units-error")
                if self.diagnoses:
                    yield Label("Points at   Space ticks diagnoses in order ([1] is the first)", markup=False)
                    yield OrderTickList(*[(f"{n} {d}", n) for n, d in enumerate(self.diagnoses, 1)],
                                   id="ln-pointers", compact=True)
                else:
                    yield Static("No diagnoses entered yet: the line points at none.", id="ln-pointers",
                                 classes="hint")
                yield ErrorLine(id="ln-dx-error")
                yield ErrorLine(id="ln-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Save line (F2)", id="ln-save", variant="primary", compact=True)
                yield Button("Cancel", id="ln-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        ticks = self.query("#ln-pointers").first()
        if isinstance(ticks, SelectionList):
            for n in self.row.get("pointers") or []:  # ticked in the line's order: the first points first
                if 1 <= n <= len(self.diagnoses):
                    ticks.select(n)
        self.query_one("#ln-code", Input).focus()

    def payload(self) -> dict:
        """The line as the core loads it (units a number when typed as one)."""
        data: dict = {"code": text_of(self.query_one("#ln-code", Input))}
        modifiers = split_list(text_of(self.query_one("#ln-modifiers", Input)))
        if modifiers:
            data["modifiers"] = modifiers
        units = text_of(self.query_one("#ln-units", Input))
        if units:
            data["units"] = int(units) if re.fullmatch(r"-?[0-9]{1,9}", units) else units  # (else the form says why)
        fee = text_of(self.query_one("#ln-fee", Input))
        if fee:
            data["fee"] = fee
        ticks = self.query("#ln-pointers").first()
        if isinstance(ticks, SelectionList) and ticks.selected:
            data["pointers"] = list(ticks.selected)
        return data

    def action_save(self) -> None:
        row = self.payload()
        self.errors.clear()
        self.call(charge_entry.check_line, row, diagnoses=len(self.diagnoses),
                  done=lambda shown: self.dismiss({"row": row, "shown": shown}), failed=self.errors.show,
                  busy=self.query_one("#ln-save"))



    def on_input_changed(self, event: Input.Changed) -> None:  # (FormDialog clears the message)
        if event.input.id == "ln-code":
            self.query_one("#ln-hint", Static).update(code_hint(self.codes.get(event.value.strip().upper())))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        code = choice_of(event.select)
        if event.select.id == "ln-pick" and code is not None:
            self.query_one("#ln-code", Input).value = code
            self.query_one("#ln-modifiers", Input).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.errors.clear("ln-pointers")
