"""A one-line notice under a field: hidden when empty, "! message" when not."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class ErrorLine(Static):
    """Shows a core refusal next to the field it names; takes no room when there is none."""

    DEFAULT_CSS = """
    ErrorLine { color: $text-error; text-style: bold; height: auto; display: none; }
    """

    def show(self, message: str) -> None:
        """Show ``message`` (prefixed with "!"), or hide the line when it is empty."""
        self.update(Text(f"! {message}") if message else "")  # plain text: "[x]" in a message is no markup
        self.display = bool(message)
