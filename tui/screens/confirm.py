"""A yes/no dialog: the confirm step before anything is written."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

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
        # plain text throughout: a typed reason like "NSF [bank]" or a mark like "[x]" is not markup
        with Vertical(classes="dialog", id="confirm-dialog"):
            yield Label(Text(self.title_text), classes="dialog-title", id="confirm-title")
            with VerticalScroll(classes="dialog-body"):
                for line in self.lines:
                    if isinstance(line, tuple):
                        label, value = line
                        with Horizontal(classes="kv"):
                            yield Label(Text(f"{label}:"), classes="kv-key")
                            yield Static(Text(str(value)), classes="kv-value")
                    else:
                        yield Static(Text(str(line)))
                if self.note:
                    yield Static(Text(self.note), classes="dialog-note")
            with Horizontal(classes="buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary", compact=True)
                yield Button(f"{self.no} (n)", id="no", compact=True)
        yield Footer()  # the dialog's own keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
