"""One line of a compact form: a label and its control, optionally more pairs on the same line.

The first label takes the form's label column (class ``fl-label``), the others only their own
width (``fl-label2``); app.tcss sizes them. Reading a control gives the text the core loads.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select


class FormBody(VerticalScroll, can_focus=False):
    """A form's scrolling body that Tab passes over (the field Tab reaches is scrolled into view)."""


def form_line(first: tuple[str, Widget], *more: tuple[str, Widget], id: str | None = None) -> Horizontal:
    """``Label control [Label control ...]`` on one line."""
    parts: list[Widget] = [Label(first[0], classes="fl-label"), first[1]]
    for label, control in more:
        parts += [Label(label, classes="fl-label2"), control]
    return Horizontal(*parts, classes="fl", id=id)


def text_of(widget: Input) -> str:
    """What an input holds, without surrounding spaces."""
    return widget.value.strip()


def choice_of(widget: Select) -> Any:
    """A select's value, or None when nothing is chosen."""
    return None if widget.value is Select.NULL else widget.value


def set_choices(widget: Select, options: list[tuple[str, Any]], value: Any = None) -> None:
    """Fill a select and choose ``value`` when it is one of the options (else nothing)."""
    widget.set_options(options)
    if value is not None and any(v == value for _label, v in options):
        widget.value = value
    else:
        widget.clear()
