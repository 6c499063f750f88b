"""A dialog that adds or changes one reference record (a payer, a provider, a service code).

Each kind is described once as a :class:`RecordForm`: its fields laid out in compact lines,
which pickers they use, and the core workflows that add and change it. The dialog sends a new
record's filled-in fields, or only the fields changed of an existing one; F2 saves; each
refusal is shown under the line of the field it names and nothing is written.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Input, Label, Select

from claimdesk.core.money import fmt
from claimdesk.tui.screens.base import FormDialog, SubmitKey
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.form_line import choice_of, form_line, text_of
from claimdesk.tui import keys


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a record form: the core's name for it, its label, and how it is entered."""

    name: str
    label: str
    width: str = ""                # a ``w-*`` class of app.tcss (default: the rest of the line)
    choices: str | None = None     # a key of the setup choices: a picker instead of a text box
    blank: str | None = None       # a picker's prompt when it may be left empty (else one must be chosen)
    placeholder: str = ""
    default: Any = None            # a picker's choice on a new record (else its first, or none when blank)
    money: bool = False
    fixed_on_edit: bool = False    # shown but not changed on an existing record


@dataclasses.dataclass(frozen=True)
class RecordForm:
    """A kind of reference record as its dialog edits it."""

    what: str                                   # "payer" (titles and messages)
    id_field: str                               # "payer_id"
    lines: tuple[tuple[Field, ...], ...]
    add: Callable[..., dict]                    # the core workflow adding one
    edit: Callable[..., dict] | None            # the core workflow changing one
    named: Callable[[dict], str]                # a saved record in a few words

    @property
    def fields(self) -> list[Field]:
        return [f for line in self.lines for f in line]


def shown_value(field: Field, value: Any) -> str:
    """A stored value as its text box shows it (money as ``1250.00``)."""
    if value is None:
        return ""
    if field.money:
        return fmt(int(value)).replace(",", "")
    return str(value)


class RecordDialog(FormDialog):
    """Add a record (``record`` None) or change one; dismisses with the saved record or None."""

    SAVE_BUTTON = "rf-save"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("save", "Save")]

    def __init__(self, form: RecordForm, choices: dict, record: dict | None = None):
        super().__init__(classes="dialog-screen intake")
        self.form = form
        self.choices = choices
        self.record = record
        self.submit_key = SubmitKey()
        places = {f.name: Place(f.label, f"rf-line{n}-error", f"rf-{f.name}")
                  for n, line in enumerate(form.lines) for f in line}
        self.errors = FieldErrors(self, places, general="rf-general-error")

    def control(self, field: Field):
        value = (self.record or {}).get(field.name) if self.record is not None else field.default
        disabled = field.fixed_on_edit and self.record is not None
        if field.choices is None:
            return Input(shown_value(field, value), placeholder=field.placeholder, id=f"rf-{field.name}",
                         compact=True, classes=field.width, disabled=disabled)
        options = [(str(label), v) for v, label in self.choices[field.choices]]
        start = value if any(v == value for _l, v in options) else (
            Select.NULL if field.blank is not None else options[0][1])
        return Select(options, prompt=field.blank or "", value=start, id=f"rf-{field.name}", compact=True,
                      classes=field.width, allow_blank=field.blank is not None, disabled=disabled)

    def compose(self) -> ComposeResult:
        form, record = self.form, self.record
        title = (f"{form.what.capitalize()} #{record[form.id_field]}: {form.named(record)}" if record
                 else f"New {form.what}")
        with Vertical(classes="dialog", id="record-dialog"):
            yield Label(Text(title), classes="dialog-title")
            with VerticalScroll(classes="dialog-form"):
                for n, line in enumerate(form.lines):
                    yield form_line(*[(f.label, self.control(f)) for f in line])
                    yield ErrorLine(id=f"rf-line{n}-error")
                yield ErrorLine(id="rf-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (F2)", id="rf-save", variant="primary", compact=True)
                yield Button("Cancel", id="rf-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        first = next(f for f in self.form.fields if not (f.fixed_on_edit and self.record is not None))
        self.query_one(f"#rf-{first.name}").focus()

    def values(self) -> dict:
        """Every field's text (a picker's value, or None when left empty)."""
        out: dict = {}
        for f in self.form.fields:
            widget = self.query_one(f"#rf-{f.name}")
            out[f.name] = choice_of(widget) if isinstance(widget, Select) else text_of(widget)
        return out

    def payload(self) -> dict:
        """A new record: the fields filled in; an existing one: the fields changed."""
        values = self.values()
        if self.record is None:
            return {k: v for k, v in values.items() if v not in ("", None)}
        by_name = {f.name: f for f in self.form.fields}
        return {k: v for k, v in values.items()
                if not by_name[k].fixed_on_edit and (v or "") != shown_value(by_name[k], self.record.get(k))}

    def action_save(self) -> None:
        data = self.payload()
        ident = (self.record or {}).get(self.form.id_field)
        key = self.submit_key.for_payload({"id": ident, "data": data})
        self.errors.clear()
        if ident is None:
            self.call(self.form.add, data, idempotency_key=key, done=self.dismiss, failed=self.errors.show,
                      busy=self.query_one("#rf-save"))
        elif not data:
            self.dismiss({**self.record, "changed": {}})
        else:
            self.call(self.form.edit, ident, data, idempotency_key=key, done=self.dismiss, failed=self.errors.show,
                      busy=self.query_one("#rf-save"))




    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.errors.clear(event.select.id)
