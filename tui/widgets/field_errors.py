"""A core refusal shown next to the fields it names, each message led by the field's label as
the screen shows it ("Birth date: must be a date like 2026-03-02"), never the input's
internal name; a field's message goes when the clerk changes that field.

The core names fields by path (``dob``, ``coverage_ids.1``, ``charges.0.code``): a screen
says where each goes with ``places`` (field -> :class:`Place`) and, for paths into lists,
``locate(path)``. A message that fits no field goes to the screen's general line.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable

from textual.widget import Widget

from claimdesk.core.errors import ClaimdeskError, InputError
from claimdesk.tui.screens.base import describe_error
from claimdesk.tui.widgets.error_line import ErrorLine

#: marshmallow's stock messages in a clerk's words.
PLAIN = (
    (re.compile(r"Missing data for required field\.|Field may not be null\.|Shorter than minimum length 1\."),
     "fill this in"),
    (re.compile(r"Longer than maximum length (\d+)\."), r"at most \1 characters"),
    (re.compile(r"Length must be between 1 and \d+\."), "fill this in"),
    (re.compile(r"Not a valid integer\.|Not a valid number\."), "must be a whole number"),
    (re.compile(r"Not a valid list\."), "must be a list"),
    (re.compile(r"Unknown field\."), "is not a field of this form"),
)


def plain(message: str) -> str:
    """``message`` with marshmallow's stock wording replaced by plain words."""
    for pattern, words in PLAIN:
        if pattern.fullmatch(message.strip()):
            return pattern.sub(words, message.strip())
    return message


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a field's messages go: its label on the screen, the error line under it, and the
    control that gets the focus (and whose change clears the message)."""

    label: str
    line: str
    control: str


class FieldErrors:
    """The refusals of one form, shown under their fields."""

    def __init__(self, host: Widget, places: dict[str, Place], *, general: str,
                 locate: Callable[[str], Place | None] | None = None):
        self.host = host
        self.places = places
        self.general = general
        self.locate = locate or (lambda _path: None)
        self.shown: dict[str, list[tuple[str, str]]] = {}  # line id -> [(control id, labelled message)]

    def place(self, path: str) -> Place | None:
        """Where the message for ``path`` goes (``locate`` first, then the path's first part)."""
        return self.locate(path) or self.places.get(path.split(".")[0])

    def show(self, exc: BaseException) -> bool:
        """Show ``exc``'s messages; focus the first field named. False when none names a field."""
        self.clear()
        if isinstance(exc, InputError):
            messages = exc.flat()
        elif isinstance(exc, ClaimdeskError) and exc.field:
            messages = {exc.field: [exc.message]}
        else:
            messages = {"_schema": [describe_error(exc)]}
        first: Place | None = None
        for path, texts in messages.items():
            where = self.place(path) if path != "_schema" else None
            for text in texts:
                if where is None:
                    self.shown.setdefault(self.general, []).append(("", plain(text)))
                else:
                    self.shown.setdefault(where.line, []).append((where.control, f"{where.label}: {plain(text)}"))
            first = first or where
        self._draw()
        if first is not None:
            control = self.host.query_one(f"#{first.control}")
            control.focus()
            control.scroll_visible()
        return first is not None

    def say(self, field: str, message: str) -> None:
        """Show one message of the screen's own under ``field`` (e.g. a warning the clerk answered)."""
        where = self.places[field]
        self.clear()
        self.shown[where.line] = [(where.control, f"{where.label}: {message}")]
        self._draw()

    def clear(self, control: str | None = None) -> None:
        """Take away every message, or those of the field whose control is ``control``."""
        if control is None:
            self.shown = {}
        else:
            self.shown = {line: kept for line, msgs in self.shown.items()
                          if (kept := [m for m in msgs if m[0] != control])}
        self._draw()

    def _draw(self) -> None:
        lines = {p.line for p in self.places.values()} | {self.general} | set(self.shown)
        for line in self.host.query(ErrorLine):
            if line.id in lines:
                line.show("\n! ".join(text for _c, text in self.shown.get(line.id, [])))


def labelled(exc: BaseException, labels: dict[str, str]) -> str:
    """A refusal as one line in the screen's words, for a screen without :class:`FieldErrors`:
    each message led by its field's label (``labels``: the core's first path part -> the label
    on screen; others by their words, ``patient_id`` -> "patient id") and in plain words."""
    if isinstance(exc, InputError):
        messages = exc.flat()
    elif isinstance(exc, ClaimdeskError) and exc.field:
        messages = {exc.field: [exc.message]}
    else:
        return describe_error(exc)
    out = []
    for path, texts in messages.items():
        head = path.split(".")[0]
        name = labels.get(head, head.replace("_", " "))
        out += [plain(t) if path == "_schema" else f"{name}: {plain(t)}" for t in texts]
    return "; ".join(out)


def show_refusal(host: Widget, exc: BaseException, *, labels: dict[str, str], own: tuple[str, ...],
                 general: str, form=None, form_field: str = "") -> None:
    """A dialog's refusal, each message where its field is, led by the field's label: a field
    of ``own`` on its own error line (``#<field>-error``); the nested form's fields
    (``form_field`` as a dict of messages, or ``form_field.<name>``) under theirs in ``form`` (a
    SchemaForm); anything else, and what no field takes, on the ``general`` error line."""
    messages = dict(exc.messages) if isinstance(exc, InputError) else (
        {exc.field: [exc.message]} if getattr(exc, "field", None) else {})
    leftover: list[str] = []
    for name, msgs in messages.items():
        said = "; ".join(plain(str(m)) for m in msgs) if isinstance(msgs, list) else str(msgs)
        if name in own:
            host.query_one(f"#{name}-error", ErrorLine).show(f"{labels[name]}: {said}")
        elif form is not None and form_field and name == form_field and isinstance(msgs, dict):
            leftover += form.show_errors(msgs)
        elif form is not None and form_field and name.startswith(f"{form_field}."):
            leftover += form.show_errors({name[len(form_field) + 1:]: msgs})
        else:
            leftover.append(f"{labels.get(name, name.replace('_', ' '))}: {said}")
    if not messages:
        leftover.append(describe_error(exc))
    if leftover:
        host.query_one(f"#{general}", ErrorLine).show("; ".join(leftover))
