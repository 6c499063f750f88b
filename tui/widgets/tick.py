"""A checkbox that reads without colour: ``▐X▌`` when ticked, ``▐ ▌`` when not.

Textual's Checkbox always draws an X and shows the state by colour only, which a
16-colour terminal over SSH (or a screen reader) cannot tell apart.
"""

from __future__ import annotations

from textual.widgets import Checkbox


class Tick(Checkbox):
    """A Checkbox whose mark shows its state."""

    @property
    def _button(self):
        self.BUTTON_INNER = "X" if self.value else " "
        return super()._button
