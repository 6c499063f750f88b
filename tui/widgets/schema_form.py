"""A guided form rendered from field descriptions (``actions.describe_schema``).

The core describes a marshmallow schema as a list of fields, each with a
``kind`` (money | text | int | date | bool | choice | multi | rows), a label,
``required``, ``help`` and ``choices`` ``[[value, label], ...]``; a ``rows``
field has ``fields`` describing one row. This widget draws one compact line per
field (label left, control right), collects the values as the strings the
core's schemas load (money stays text such as ``"12.50"``; the core parses it),
and shows each validation message under its own field in the clerk's words: led by
the field's label as the form shows it (a row's field by its own label, a row by what
it is), marshmallow's stock wording made plain; a field's message goes when the clerk
changes that field.

It holds no rules: what is required, what an amount may be, what a row needs are
all checked by the core (a screen asks it before its confirm step).
"""

from __future__ import annotations

from typing import Any, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, SelectionList, Static

from claimdesk.core.validation import schema_instance
from claimdesk.tui.widgets.field_errors import plain
from claimdesk.tui.widgets.tick import Tick
from claimdesk.tui.widgets.tick_list import TickList

PLACEHOLDERS = {"money": "0.00", "date": "YYYY-MM-DD", "int": "number", "text": ""}


def human_label(spec: dict) -> str:
    """The field's label as a clerk reads it: a picked record is named by what it is
    ("Provider", not "Provider id"); a typed one says "ID"."""
    text = str(spec["label"])
    head, _, last = text.rpartition(" ")
    if head and last.lower() in ("id", "ids"):
        return head if spec.get("choices") else f"{head} {last.upper()}"
    return text


def _label(spec: dict) -> str:
    return human_label(spec) + (" *" if spec.get("required") else "")


def _choice_label(spec: dict, value: Any) -> str:
    for v, label in spec.get("choices") or []:
        if str(v) == str(value):
            return str(label)
    return str(value)


def schema_defaults(schema) -> dict:
    """The values a plugin's schema starts its form with: each field's ``metadata["default"]``
    or its ``load_default`` (not callables, which are computed when the input is loaded)."""
    out: dict = {}
    if schema is None:
        return out
    inst = schema_instance(schema)
    for name, field in inst.fields.items():
        value = (field.metadata or {}).get("default", field.load_default)
        if value is not None and not callable(value) and type(value).__name__ != "_Missing":
            out[name] = value
    return out


def make_control(spec: dict, ident: str, value: Any = None, *, placeholder: str | None = None) -> Widget:
    """The one-line control for a scalar field (everything but multi/rows)."""
    kind = spec["kind"]
    if kind == "bool":
        return Tick(_label(spec), value=bool(value), id=ident, compact=True)
    if kind == "choice":
        options = [(str(label), str(v)) for v, label in spec.get("choices") or []]
        start = str(value) if value is not None and any(str(value) == o[1] for o in options) else Select.NULL
        return Select(options, prompt=placeholder or "choose…", value=start, id=ident, compact=True)
    return Input(value="" if value is None else str(value),
                 placeholder=placeholder if placeholder is not None else PLACEHOLDERS.get(kind, ""),
                 type="integer" if kind == "int" else "text", id=ident, compact=True)


def read_control(widget: Widget) -> tuple[bool, Any]:
    """(present, value) of a scalar control: blanks are left out so the schema's defaults apply."""
    if isinstance(widget, Checkbox):
        return True, widget.value
    if isinstance(widget, Select):
        return (False, None) if widget.value is Select.NULL else (True, widget.value)
    if isinstance(widget, Input):
        text = widget.value.strip()
        return (bool(text), text)
    raise TypeError(type(widget).__name__)


def sub_label(spec: dict, name: Any) -> str:
    """The label of the part ``name`` of a field (a row's field, a nested record's field), as
    the form shows it; a name the form does not describe, in words."""
    for sub in spec.get("fields") or []:
        if sub["name"] == str(name):
            return human_label(sub)
    if str(name).isdigit():
        return f"item {int(name) + 1}"
    return str(name).replace("_", " ")


def show_control(spec: dict, widget: Widget) -> str:
    present, value = read_control(widget)
    if spec["kind"] == "bool":
        return "yes" if value else "no"
    if not present:
        return "—"
    return _choice_label(spec, value) if spec["kind"] == "choice" else str(value)


def flatten(messages: Any, prefix: str = "") -> list[str]:
    """Marshmallow-style messages as ``"where: message"`` lines."""
    out: list[str] = []
    if isinstance(messages, dict):
        for k, v in messages.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(messages, (list, tuple)):
        for v in messages:
            out += flatten(v, prefix)
    else:
        out.append(f"{prefix}: {messages}" if prefix else str(messages))
    return out


class RowsEditor(Vertical):
    """A small repeatable row editor (e.g. codes, each with a reason).

    When the first row field offers choices, there is one row per choice with a
    checkbox to include it; otherwise rows are typed in and "+ row" adds one.
    """

    DEFAULT_CSS = """
    RowsEditor { height: auto; }
    RowsEditor > .row { height: 1; }
    RowsEditor > .row > Checkbox { width: 1fr; }
    RowsEditor > .row > Select { width: 1fr; }
    RowsEditor > .row > Input { width: 1fr; }
    RowsEditor > Button { width: auto; }
    """

    def __init__(self, spec: dict, ident: str):
        super().__init__(id=ident)
        self.spec = spec
        self.sub = spec.get("fields") or []
        self.key = next((f for f in self.sub if f.get("choices")), None)
        self.others = [f for f in self.sub if f is not self.key]
        self.n_rows = len(self.key["choices"]) if self.key else 1
        self.picked: list[int] = []  # row numbers of the rows sent, in order (to place errors)

    def _row(self, i: int) -> Horizontal:
        ident = self.id
        parts: list[Widget] = []
        if self.key:
            value, label = self.key["choices"][i]
            parts.append(Tick(str(label), id=f"{ident}-r{i}-pick", compact=True))
        for f in self.others if self.key else self.sub:
            parts.append(make_control(f, f"{ident}-r{i}-{f['name']}", placeholder=f["label"]))
        return Horizontal(*parts, classes="row", id=f"{ident}-r{i}")

    def compose(self) -> ComposeResult:
        for i in range(self.n_rows):
            yield self._row(i)
        if not self.key:
            yield Button("+ row", id=f"{self.id}-add", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.id}-add":
            event.stop()
            self.mount(self._row(self.n_rows), before=event.button)
            self.n_rows += 1

    def _row_value(self, i: int) -> dict | None:
        """One row's values; None when the row is not picked (or, typed rows, left blank)."""
        row: dict = {}
        if self.key:
            if not self.query_one(f"#{self.id}-r{i}-pick", Checkbox).value:
                return None
            row[self.key["name"]] = self.key["choices"][i][0]
        typed = False
        for f in self.others if self.key else self.sub:
            present, value = read_control(self.query_one(f"#{self.id}-r{i}-{f['name']}"))
            if present:
                row[f["name"]] = value
                typed = typed or f["kind"] != "bool"
        return row if (self.key or typed) else None

    def value(self) -> list[dict]:
        out, self.picked = [], []
        for i in range(self.n_rows):
            row = self._row_value(i)
            if row is not None:
                out.append(row)
                self.picked.append(i)
        return out

    def row_name(self, index: Any) -> str:
        try:
            i = self.picked[int(index)]
        except (ValueError, IndexError):
            return f"row {index}"
        if self.key:
            return str(self.key["choices"][i][1])
        return f"row {i + 1}"

    def describe(self) -> str:
        rows = []
        for n, row in enumerate(self.value()):
            bits = [f"{_choice_label(f, row[f['name']])}" for f in self.others if f["name"] in row] if self.key \
                else [f"{f['label']} {_choice_label(f, row[f['name']])}" for f in self.sub if f["name"] in row]
            rows.append(f"{self.row_name(n)}: {', '.join(bits) or '—'}")
        return "; ".join(rows) or "(none)"

    def error_lines(self, messages: Any) -> list[str]:
        """Row-indexed messages ({0: {"reason": [...]}}) as lines naming the row and the row's
        field by their labels ("99213 100.00, Write-off reason: fill this in")."""
        if isinstance(messages, dict):
            out = []
            for k, v in messages.items():
                where = self.row_name(k) if str(k).isdigit() else sub_label(self.spec, k)
                out += [led(where, v, line) for line in labelled(self.spec, v)]
            return out
        return [led(human_label(self.spec), messages, line) for line in labelled(self.spec, messages)]


def led(where: str, messages: Any, line: str) -> str:
    """``line`` (one of ``messages``) led by where it is: "Provider: fill this in", or for a
    part of it "Fee, Provider: fill this in"."""
    return f"{where}, {line}" if isinstance(messages, dict) else f"{where}: {line}"


def labelled(spec: dict, messages: Any) -> list[str]:
    """Messages about the field ``spec`` in plain words, those about a part of it led by the
    part's label: ``{"provider_id": ["Missing data..."]}`` -> ``["Provider: fill this in"]``."""
    if isinstance(messages, dict):
        return [led(sub_label(spec, k), v, line) for k, v in messages.items() for line in labelled(spec, v)]
    if isinstance(messages, (list, tuple)):
        return [line for m in messages for line in labelled(spec, m)]
    return [plain(str(messages))]


class FieldRow(Vertical):
    """One field: label and control on one line, then its help and its error."""

    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > .field-line { height: auto; }
    FieldRow .field-label { width: 24; padding-right: 1; }
    FieldRow .field-help { color: $text-muted; padding-left: 24; }
    FieldRow .field-error { color: $text-error; padding-left: 24; display: none; }
    FieldRow.-error .field-error { display: block; }
    FieldRow:focus-within .field-label { text-style: bold reverse; }
    FieldRow SelectionList { height: auto; max-height: 8; width: 1fr; }
    FieldRow RowsEditor { width: 1fr; }
    """

    def __init__(self, spec: dict, prefix: str, value: Any = None):
        super().__init__(id=f"{prefix}-{spec['name']}-row", classes="field")
        self.spec = spec
        self.ident = f"{prefix}-{spec['name']}"
        self.initial = value

    def compose(self) -> ComposeResult:
        spec = self.spec
        kind = spec["kind"]
        if kind == "bool":
            yield make_control(spec, self.ident, self.initial)
        else:
            with Horizontal(classes="field-line"):
                yield Label(_label(spec), classes="field-label")
                if kind == "multi" and spec.get("choices"):
                    chosen = {str(v) for v in (self.initial or [])}
                    yield TickList(*[(str(label), str(v), str(v) in chosen) for v, label in spec["choices"]],
                                   id=self.ident, compact=True)
                elif kind == "multi":
                    yield Input(", ".join(map(str, self.initial or [])), placeholder="values, comma separated",
                                id=self.ident, compact=True)
                elif kind == "rows":
                    yield RowsEditor(spec, self.ident)
                else:
                    yield make_control(spec, self.ident, self.initial)
        if spec.get("help"):
            yield Static(spec["help"], classes="field-help")
        yield Static("", classes="field-error", id=f"{self.ident}-error")

    @property
    def control(self) -> Widget:
        return self.query_one(f"#{self.ident}")

    def value(self) -> tuple[bool, Any]:
        ctl = self.control
        if isinstance(ctl, SelectionList):
            return True, list(ctl.selected)
        if isinstance(ctl, RowsEditor):
            return True, ctl.value()
        if self.spec["kind"] == "multi":
            text = ctl.value.strip()
            return True, [p.strip() for p in text.split(",") if p.strip()]
        return read_control(ctl)

    def filled(self) -> bool:
        """Something is entered (a box ticked, a blank left out); lists always count: "(none)"
        picked says something ("all if none picked")."""
        present, value = self.value()
        return isinstance(value, list) or (present and value is not False)

    def describe(self) -> str:
        ctl = self.control
        if isinstance(ctl, SelectionList):
            picked = [_choice_label(self.spec, v) for v in ctl.selected]
            return ", ".join(picked) or "(none)"
        if isinstance(ctl, RowsEditor):
            return ctl.describe()
        if self.spec["kind"] == "multi":
            return ctl.value.strip() or "(none)"
        return show_control(self.spec, ctl)

    def error_lines(self, messages: Any) -> list[str]:
        """The field's messages as shown under it, each led by the field's label as the form
        shows it (a nested part's by its own): "Provider: fill this in"."""
        ctl = self.control
        if isinstance(ctl, RowsEditor):
            return ctl.error_lines(messages)
        return [led(human_label(self.spec), messages, line) for line in labelled(self.spec, messages)]

    def set_error(self, messages: Any) -> None:
        lines = self.error_lines(messages) if messages else []
        self.query_one(f"#{self.ident}-error", Static).update(Text("\n".join(f"! {m}" for m in lines)))
        self.set_class(bool(lines), "-error")

    def clear_error(self) -> None:
        self.set_error([])

    # the clerk corrects the field: its message goes (the events go on to the screen)
    def on_input_changed(self, _event: Input.Changed) -> None:
        self.clear_error()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self.clear_error()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self.clear_error()

    def on_selection_list_selected_changed(self, _event: SelectionList.SelectedChanged) -> None:
        self.clear_error()


class SchemaForm(Vertical):
    """The guided form for a list of field descriptions."""

    DEFAULT_CSS = """
    SchemaForm { height: auto; }
    SchemaForm > .form-error { color: $text-error; display: none; }
    SchemaForm.-error > .form-error { display: block; }
    """

    def __init__(self, fields: Iterable[dict], *, values: dict | None = None, prefix: str = "f",
                 id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=classes)
        self.fields = list(fields)
        self.prefix = prefix
        self.initial = values or {}

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static("No inputs needed.", classes="form-empty")
        for spec in self.fields:
            yield FieldRow(spec, self.prefix, self.initial.get(spec["name"], spec.get("default")))
        yield Static("", classes="form-error", id=f"{self.prefix}--error")

    def rows(self) -> list[FieldRow]:
        return list(self.query(FieldRow))

    def field(self, name: str) -> FieldRow | None:
        for row in self.rows():
            if row.spec["name"] == name:
                return row
        return None

    def values(self) -> dict:
        """The entered values, blanks left out (the schema's defaults and "required" apply)."""
        out = {}
        for row in self.rows():
            present, value = row.value()
            if present:
                out[row.spec["name"]] = value
        return out

    def describe(self) -> list[tuple[str, str]]:
        """(label, shown value) per field, for the confirm step."""
        return [(human_label(row.spec), row.describe()) for row in self.rows()]

    def describe_checked(self) -> list[tuple[str, str]]:
        """(label, shown value) of the fields filled in, for a confirm step after the core has
        checked them: a box left unticked and a blank optional field are left out (a
        required one cannot be blank once checked), a ticked box reads "yes"."""
        return [(human_label(row.spec), row.describe()) for row in self.rows() if row.filled()]

    def clear_errors(self) -> None:
        for row in self.rows():
            row.clear_error()
        self.query_one(f"#{self.prefix}--error", Static).update("")
        self.remove_class("-error")

    def show_errors(self, messages: dict) -> list[str]:
        """Put each message under its field; return the lines that fit no field.

        ``messages`` is ``InputError.messages`` (``{field: [msgs]}``, nested for
        rows) or ``{"a.0.b": [msg]}`` from a refusal naming a dotted field.
        """
        self.clear_errors()
        leftover: list[str] = []
        by_field: dict[str, Any] = {}
        for key, msgs in (messages or {}).items():
            head, _, rest = str(key).partition(".")
            row = self.field(head)
            if row is None:
                leftover += [plain(m) if key == "_schema" else f"{str(key).replace('_', ' ')}: {plain(m)}"
                             for m in flatten(msgs)]
                continue
            if rest:
                # "lines.0.reason" -> {"0": {"reason": msgs}}
                nested: Any = msgs
                for part in reversed(rest.split(".")):
                    nested = {part: nested}
                existing = by_field.setdefault(head, {})
                if isinstance(existing, dict):
                    existing.update(nested)
            else:
                by_field[head] = msgs
        first = None
        for name, msgs in by_field.items():
            row = self.field(name)
            row.set_error(msgs)
            first = first or row
        if leftover:
            self.query_one(f"#{self.prefix}--error", Static).update(Text("\n".join(f"! {m}" for m in leftover)))
            self.add_class("-error")
        if first is not None:
            try:
                first.control.focus()
            except Exception:  # noqa: BLE001 - focus is a courtesy
                pass
            first.scroll_visible()
        return leftover

    def focus_first(self) -> None:
        for row in self.rows():
            ctl = row.control
            if isinstance(ctl, RowsEditor):
                target = next(iter(ctl.query("Checkbox, Input, Select")), None)
                if target is not None:
                    target.focus()
                    return
            elif ctl.focusable:
                ctl.focus()
                return
