"""Find a patient by what the clerk knows: part of a name, an account number, a member id or a
birth date; Enter searches. One match is picked at once; several are listed (Enter picks one).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.services import patient_views
from claimdesk.tui.screens.base import ServiceCalls, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import plain

#: Matches listed at most (a narrower search finds the others).
MATCHES = 8


def match_row(p: dict) -> str:
    """One match as the list shows it."""
    return f"#{p['patient_id']}  {p['account_no']}  {p['name']}  born {p['dob'] or '—'}"


class PatientSearch(ServiceCalls, Vertical):
    """The label, the search box, the matches to pick from and the search's own error line.
    Posts :class:`PatientSearch.Picked` with the patient's id."""

    DEFAULT_CSS = """
    PatientSearch { height: auto; }
    PatientSearch > OptionList { height: auto; max-height: 8; margin-left: 12; display: none; }
    PatientSearch > OptionList.-shown { display: block; }
    """

    class Picked(Message):
        """The clerk picked a patient."""

        def __init__(self, search: "PatientSearch", patient_id: int):
            super().__init__()
            self.search = search
            self.patient_id = patient_id

    def __init__(self, label: str, *, id: str, placeholder: str = "name, account, member id or birth date"):
        super().__init__(id=id)
        self.label = label
        self.placeholder = placeholder

    @property
    def input_id(self) -> str:
        return f"{self.id}-input"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="fl"):
            yield Label(self.label, classes="fl-label")
            yield Input(placeholder=self.placeholder, id=self.input_id, compact=True)
        yield OptionList(id=f"{self.id}-matches", compact=True)
        yield ErrorLine(id=self.error_id)

    def focus_box(self) -> None:
        """Put the cursor in the search box."""
        self.query_one(f"#{self.input_id}", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != self.input_id:
            return
        event.stop()
        self.query_one(ErrorLine).show("")
        self.call(patient_views.find_patients, event.value, MATCHES, done=self.found, failed=self.refused,
                  group="find-patient", exclusive=True)

    def found(self, matches: list[dict]) -> None:
        box = self.query_one(OptionList)
        box.clear_options()
        box.remove_class("-shown")
        if not matches:
            text = self.query_one(f"#{self.input_id}", Input).value.strip()
            self.query_one(ErrorLine).show(f"{self.label}: no patient matches {text!r}")
        elif len(matches) == 1:
            self.post_message(self.Picked(self, matches[0]["patient_id"]))
        else:
            box.add_options([Option(Text(match_row(p)), id=str(p["patient_id"])) for p in matches])
            box.add_class("-shown")
            box.highlighted = 0
            box.focus()

    def refused(self, exc: BaseException) -> None:
        message = exc.message if isinstance(exc, ClaimdeskError) else describe_error(exc)
        self.query_one(ErrorLine).show(f"{self.label}: {plain(message)}")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one(OptionList).remove_class("-shown")
        self.post_message(self.Picked(self, int(event.option.id)))
