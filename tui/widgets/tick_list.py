"""A list of rows to tick that reads without colour: ``[x]`` ticked, ``[ ]`` not.

Textual's SelectionList draws the same ``▐X▌`` on every row and shows the state by
colour only, which a 16-colour terminal over SSH cannot tell apart (a clerk reads
every row as ticked). :class:`TickList` draws the state itself, in bold when ticked,
and tags ranges from the keyboard: Space toggles the row under the cursor;
Shift+Down / Shift+Up extend a range from the row where the run started, ticking
every row in it (rows ticked before stay ticked; a row the range leaves again goes
back to how it was).
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

TICKED, UNTICKED = "[x]", "[ ]"


class TickList(SelectionList):
    """A SelectionList whose marks show their state, with Shift+arrow range tagging."""

    BINDINGS = [
        Binding("shift+down", "extend(1)", "Tag range", show=False),
        Binding("shift+up", "extend(-1)", "Tag range", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._anchor: int | None = None  # where the current Shift range started
        self._range_end: int | None = None  # where it ends now (the cursor, while it lasts)
        self._base: set = set()  # what was ticked before the range

    def _get_left_gutter_width(self) -> int:
        return len(TICKED) + 1

    def mark_for(self, value) -> str:
        """The mark drawn before the row holding ``value``."""
        return TICKED if value in self._selected else UNTICKED

    def is_ticked(self, index: int) -> bool:
        """Whether row ``index`` is ticked."""
        return self.get_option_at_index(index).value in self._selected

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)
        index = self.scroll_offset.y + y
        try:
            selection = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        underlying = next(iter(line)).style or self.rich_style
        ticked = selection.value in self._selected
        mark = self.mark_for(selection.value)
        mark_style = underlying + Style(bold=True) if ticked else underlying
        if ticked:
            colour = self.get_component_rich_style("selection-list--button-selected").color
            if colour is not None:
                mark_style += Style(color=colour)
        meta = Style(meta={"option": index})  # a click on the mark toggles the row, as before
        return Strip([Segment(mark, mark_style + meta),
                      Segment(" ", underlying + meta), *line])

    def on_selection_list_selection_toggled(self, _event: SelectionList.SelectionToggled) -> None:
        self._anchor = None  # Space (or a click) ends a Shift range

    def clear_options(self):
        self._anchor = None
        return super().clear_options()

    def action_extend(self, step: int) -> None:
        """Shift+Down/Up: move the cursor and tick every row from the range's start to it."""
        if self.highlighted is None or not self.option_count:
            return
        if self._anchor is None or self.highlighted != self._range_end:
            self._anchor, self._base = self.highlighted, set(self.selected)
        target = max(0, min(self.option_count - 1, self.highlighted + step))
        self.highlighted = target
        self._range_end = target
        low, high = sorted((self._anchor, target))
        for i in range(self.option_count):
            value = self.get_option_at_index(i).value
            want = low <= i <= high or value in self._base
            if want != (value in self._selected):
                (self.select if want else self.deselect)(value)


class OrderTickList(TickList):
    """A TickList where the order of ticking matters: a ticked row shows its place in that
    order (``[1]``, ``[2]``...; ``[ ]`` not ticked), and ``selected`` lists the values in it.
    Unticking a row moves those ticked after it up one place."""

    def _get_left_gutter_width(self) -> int:
        return len(self.mark_for(None)) + 1

    def mark_for(self, value) -> str:
        width = len(str(max(1, self.option_count)))
        order = list(self._selected)
        inside = str(order.index(value) + 1) if value in self._selected else ""
        return f"[{inside:>{width}}]"

    def on_selection_list_selected_changed(self, _event: SelectionList.SelectedChanged) -> None:
        self.refresh()  # every later row's place changed
