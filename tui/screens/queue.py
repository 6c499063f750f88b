"""One work queue: the encounters waiting in it; Enter opens Advanced Actions on one.

A queue can hold 100,000 encounters, more than a table can take in at once (a DataTable
measures every row it is given, ~0.1 ms a row: 10 s for 100k rows). So the table holds
a *window* of the queue, read a page at a time in queue order (date of service, then
encounter id) with ``views.queue_encounters(after=/before=/last=)``, in a worker: the
next page when the cursor comes near the end of the window, the page before when it
comes near its top (added, then the table sorted back into queue order, so only the new
rows are measured). Home and End jump to the first and the last encounter of the queue
(reading the first or the last page). The title shows where the cursor is:
``encounter n of N``; a queue read in full just says ``N encounter(s)``.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from claimdesk.core.money import fmt
from claimdesk.core.services import views
from claimdesk.tui.screens.base import BaseScreen
from claimdesk.tui.widgets.table import Table, clip

#: Rows read per page (the table measures each row it is given: ~0.1 ms a row).
PAGE = 300
#: Read the next (previous) page when the cursor is this close to the window's end (top).
MARGIN = 60
#: Most rows kept in the window; past it the window starts again around the cursor.
WINDOW_MAX = 20_000


def key_of(row: dict) -> tuple[str, int]:
    """A row's place in the queue order, as ``views.queue_encounters`` takes it."""
    return row["dos"], row["encounter_id"]


def in_queue_order(row_cells: tuple[Text, ...]) -> tuple[str, int]:
    """The table's sort key: a row's place in the queue (DOS, then encounter id), from its cells."""
    return row_cells[2].plain, int(row_cells[0].plain)


def cells(row: dict) -> tuple[Text, ...]:
    """A row as table cells (Text, not markup strings: names are shown as typed)."""
    return (Text(str(row["encounter_id"])), Text(clip(row["patient"], 28)), Text(row["dos"]), Text(row["claim_type"]),
            Text(fmt(row["balance"])))


class QueueTable(Table):
    """The queue's table: Home/End (and Ctrl+Home/End) mean the first/last encounter of the
    whole queue, not of the rows read so far."""

    class Jump(Message):
        """The clerk asked for the first (``last=False``) or the last encounter."""

        def __init__(self, last: bool) -> None:
            super().__init__()
            self.last = last

    def action_scroll_top(self) -> None:
        self.post_message(self.Jump(last=False))

    def action_scroll_home(self) -> None:
        self.post_message(self.Jump(last=False))

    def action_scroll_bottom(self) -> None:
        self.post_message(self.Jump(last=True))

    def action_scroll_end(self) -> None:
        self.post_message(self.Jump(last=True))


class QueueScreen(BaseScreen):
    """Encounters in a work queue, oldest date of service first."""

    TITLE = "Work queue"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("enter", "open", "Advanced Actions", show=True),
        Binding("l", "ledger", "Patient ledger"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, key: str):
        super().__init__()
        self.key = key
        self.queue_name = key
        self.rows: list[dict] = []  # the window: rows start .. start + len(rows) - 1 of the queue
        self.start = 0
        self.total = 0
        self.loaded = False
        self.generation = 0  # bumped when the window is replaced; older page answers are dropped
        self.paging: Worker | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="queue-title", classes="facts")
        yield QueueTable(id="queue-table", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Encounter", "Patient", "DOS", "Type", "Open")
        self.action_reload()

    def on_screen_resume(self) -> None:
        if self.loaded or not self.reading:  # (not when the first read, from on_mount, is under way)
            self.action_reload()

    # -- reading pages -------------------------------------------------------------------------
    def _read(self, done, limit: int = PAGE, **where) -> None:
        """Read a page in a worker; ``done(info)`` only if the window is still the one it was for."""
        generation = self.generation

        def answer(info: dict) -> None:
            if generation == self.generation:
                done(info)

        self.paging = self.call(views.queue_encounters, self.key, limit, done=answer, group="queue", **where)

    @property
    def reading(self) -> bool:
        return self.paging is not None and not self.paging.is_finished

    def action_reload(self) -> None:
        """Read the rows around the cursor again (others may have worked the queue), the cursor
        kept on its row number; the first page on the first read."""
        self.generation += 1
        row = self.query_one(DataTable).cursor_row or 0
        first = max(0, row - PAGE)  # up to a page above the cursor and a page below it
        limit = max(PAGE, min(len(self.rows) - first, 2 * PAGE))
        if not self.rows or self.start + first == 0:
            self._read(lambda info: self.fill(info, start=0), limit=limit)
            return

        def again(info: dict) -> None:
            if info["rows"]:
                self.fill(info, start=self.start + first, cursor=row - first)
            else:  # those rows all left the queue meanwhile: start again at the top
                self.rows, self.start = [], 0
                self.action_reload()

        self._read(again, limit=limit, at=key_of(self.rows[first]))

    def fill(self, info: dict, start: int, cursor: int | None = None) -> None:
        """Show a fresh window (first read, reload, Home, End); the cursor stays where it was
        unless ``cursor`` says where."""
        table = self.query_one(DataTable)
        self.queue_name = info["name"]
        self.sub_title = info["name"]
        self.total = info["total"]
        self.start = start
        self.loaded = True
        self._rebuild(info["rows"], cursor=table.cursor_row if cursor is None else cursor)
        table.focus()

    def _rebuild(self, rows: list[dict], cursor: int, scroll_y: float | None = None) -> None:
        """Put ``rows`` in the table, the cursor on row ``cursor`` (and the view at ``scroll_y``)."""
        table = self.query_one(DataTable)
        self.rows = rows
        table.clear()
        table.add_rows([cells(r) for r in rows])
        if rows:
            table.move_cursor(row=max(0, min(cursor, len(rows) - 1)))
            if scroll_y is not None:  # after the table has measured its new rows and shown the cursor
                table.call_after_refresh(table.scroll_to, y=scroll_y, animate=False, immediate=True)
        self._show_position()

    def _show_position(self) -> None:
        """``Queue Review: encounter 1,234 of 100,656.`` (all of a short queue: ``n encounter(s)``)."""
        if not self.loaded:
            return
        if self.start == 0 and len(self.rows) >= self.total:
            shown = f"{self.total:,} encounter(s)"
        else:
            row = self.query_one(DataTable).cursor_row or 0
            shown = f"encounter {self.start + row + 1:,} of {self.total:,}"
        self.query_one("#queue-title", Static).update(f"Queue {self.queue_name}: {shown}. Enter opens Advanced Actions.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_position()
        self._read_more()

    def _read_more(self) -> None:
        """Read the next or the previous page when the cursor is near an edge of the window."""
        if self.reading or not self.rows:
            return
        row = self.query_one(DataTable).cursor_row or 0
        if row >= len(self.rows) - MARGIN and self.start + len(self.rows) < self.total:
            self._read(self.appended, after=key_of(self.rows[-1]))
        elif row < MARGIN and self.start > 0:
            self._read(self.prepended, before=key_of(self.rows[0]))

    def appended(self, info: dict) -> None:
        """The page after the window: added at its end (the table keeps its place)."""
        new = info["rows"]
        self.total = info["total"] if new else self.start + len(self.rows)  # (others worked the queue)
        table = self.query_one(DataTable)
        if new and len(self.rows) + len(new) > WINDOW_MAX:  # a very long read forward: restart near the cursor
            row = table.cursor_row or 0
            drop = max(0, row - PAGE)
            self.start += drop
            self._rebuild(self.rows[drop:] + new, cursor=row - drop)
        elif new:
            self.rows.extend(new)
            table.add_rows([cells(r) for r in new])
        self._show_position()
        self._read_more()

    def prepended(self, info: dict) -> None:
        """The page before the window: put in front, the view kept still (the new rows are added
        and the table sorted back into queue order, so only they are measured)."""
        new = info["rows"]
        self.total = info["total"]
        if not new:
            self.start = 0
            self._show_position()
            return
        table = self.query_one(DataTable)
        row, scroll_y = table.cursor_row or 0, table.scroll_y
        # a short page is the queue's first: the window's place is known again (it drifts when
        # others work the queue meanwhile)
        self.start = 0 if len(new) < PAGE else max(0, self.start - len(new))
        if len(self.rows) + len(new) > WINDOW_MAX:  # a very long read backward: drop the far end
            self._rebuild(new + self.rows[:row + PAGE], cursor=row + len(new), scroll_y=scroll_y + len(new))
            return
        self.rows = new + self.rows
        table.add_rows([cells(r) for r in new])
        table.sort(key=in_queue_order)
        table.move_cursor(row=row + len(new))
        table.call_after_refresh(table.scroll_to, y=scroll_y + len(new), animate=False, immediate=True)
        self._show_position()

    def on_queue_table_jump(self, event: QueueTable.Jump) -> None:
        """Home/End: the first/last encounter; a page read when it is not in the window."""
        event.stop()
        table = self.query_one(DataTable)
        if not self.rows:
            return
        if event.last and self.start + len(self.rows) >= self.total:
            table.move_cursor(row=len(self.rows) - 1)
        elif not event.last and self.start == 0:
            table.move_cursor(row=0)
        elif event.last:
            self.generation += 1
            self._read(lambda info: self.fill(info, start=max(0, info["total"] - len(info["rows"])),
                                              cursor=len(info["rows"]) - 1), last=True)
        else:
            self.generation += 1
            self._read(lambda info: self.fill(info, start=0, cursor=0))

    # -- the row under the cursor ---------------------------------------------------------------
    def _current(self) -> dict | None:
        return self.highlighted_row(self.rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_advanced(row["encounter_id"])

    def action_ledger(self) -> None:
        row = self._current()
        if row is not None:
            self.app.open_ledger(row["patient_id"])
