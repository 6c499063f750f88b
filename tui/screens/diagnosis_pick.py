"""Picking an encounter's diagnoses from those known (from charge entry, F8).

The list holds the diagnoses already typed (ticked, in their order), then the patient's
earlier ones, then the clinic's most used of late. Space ticks them in the order the claim
lists them (``[1]`` is the first diagnosis); F2 or Enter on "Use these" hands the ticked
ones back in that order. Codes not on the list are typed in the Diagnoses box.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Label, Static

from claimdesk.core.claim_rules import MAX_DIAGNOSES, check_diagnosis, show_diagnosis
from claimdesk.tui.screens.base import BaseModal
from claimdesk.tui.widgets.tick_list import OrderTickList
from claimdesk.tui import keys


def as_written(code: str) -> str:
    """A diagnosis as people write it (``e119`` -> ``E11.9``); a code that is none stays as typed
    (the core refuses it when the encounter is reviewed)."""
    try:
        return show_diagnosis(check_diagnosis(code))
    except ValueError:
        return code.strip().upper()


def known_rows(typed: list[str], earlier: list[str], common: list[str]) -> list[tuple[str, str]]:
    """(label, code) for each diagnosis to offer, once each, typed ones first."""
    rows: list[tuple[str, str]] = []
    for codes, where in ((typed, "entered"), (earlier, "this patient before"), (common, "often used here")):
        for code in map(as_written, codes):
            if code not in (c for _l, c in rows):
                rows.append((f"{code:<9} {where}", code))
    return rows


class DiagnosisPicker(BaseModal):
    """Tick diagnoses in order; dismisses with the codes ticked (in order) or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("use", "Use these")]

    def __init__(self, typed: list[str], earlier: list[str], common: list[str]):
        super().__init__(classes="dialog-screen intake")
        self.typed = list(dict.fromkeys(map(as_written, typed)))
        self.rows = known_rows(typed, earlier, common)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="dx-dialog"):
            yield Label(Text("Diagnoses: Space ticks them in the claim's order ([1] first)"), classes="dialog-title")
            yield OrderTickList(*self.rows, id="dx-list", compact=True)
            yield Static(Text(f"At most {MAX_DIAGNOSES}. A code not listed is typed in the Diagnoses box."),
                         classes="hint")
            with Horizontal(classes="buttons"):
                yield Button("Use these (F2)", id="dx-use", variant="primary", compact=True)
                yield Button("Cancel", id="dx-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        ticks = self.query_one("#dx-list", OrderTickList)
        for code in self.typed:
            ticks.select(code)
        ticks.highlighted = 0
        ticks.focus()

    def action_use(self) -> None:
        self.dismiss(list(self.query_one("#dx-list", OrderTickList).selected))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "dx-use":
            self.action_use()
        else:
            self.dismiss(None)
