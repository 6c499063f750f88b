"""A yes/no dialog: the confirm step before anything is written."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from claimdesk.tui.screens.base import BaseModal


class ConfirmScreen(BaseModal):
    """Ask before doing; dismisses with True (yes) or False (no/Escape)."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No"),
        Binding("y", "answer(True)", "Yes"),
    ]

    def __init__(self, title: str, lines: list[tuple[str, str]] | list[str] = (), *,
                 yes: str = "Yes", no: str = "No", note: str = ""):
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.lines = list(lines)
        self.yes, self.no, self.note = yes, no, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="confirm-dialog"):
            yield Label(self.title_text, classes="dialog-title", id="confirm-title")
            with VerticalScroll(classes="dialog-body"):
                for line in self.lines:
                    if isinstance(line, tuple):
                        label, value = line
                        with Horizontal(classes="kv"):
                            yield Label(f"{label}:", classes="kv-key")
                            yield Static(value, classes="kv-value")
                    else:
                        yield Static(line)
                if self.note:
                    yield Static(self.note, classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
