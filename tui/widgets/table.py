"""A DataTable that never keeps drawing rows at column widths measured before them.

Textual's DataTable measures the rows it was given on its next idle, but caches each
rendered cell and line under an update count that this measuring does not change. When
the table is drawn between ``add_rows`` and that idle (a busy machine, a slow SSH link),
the rows drawn with the columns at their headers' widths stay cached ("Reyes," for
"Reyes, Dana") until something else redraws them. This table drops its caches when the
measuring changed a width, so the next frame shows the whole cell.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class Table(DataTable):
    """A DataTable whose cells are redrawn when the measured column widths change."""

    def _widths(self) -> list[int]:
        return [self._label_column.content_width, *(c.content_width for c in self.columns.values())]

    def _update_dimensions(self, new_rows) -> None:
        before = self._widths()
        super()._update_dimensions(new_rows)
        if self._widths() != before:
            self._clear_caches()
            self.refresh()


def clip(text: object, width: int) -> str:
    """``text`` cut to ``width`` characters for a table cell, its last one an ellipsis when
    something was cut ("Worthington-Smyth…"), so a clerk never reads a cut name as whole."""
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def right(text: object) -> Text:
    """A cell aligned right (amounts, counts), its header too."""
    return Text(str(text), justify="right")
