"""Advanced Actions, step 1 and 2: open an encounter, see the actions that apply.

Step 1: type the Encounter ID and press Enter (or the › button); the core looks it
up and assesses it. Step 2: the applicable actions are listed with "when it
appears" and what each will do; Enter on one opens its guided form (step 3,
:mod:`.action_form`), then the result with the queue question and the patient's
other encounters (step 4, :mod:`.action_result`).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models import RANKS
from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import actions, views
from claimdesk.tui.screens.base import BaseScreen, describe_error
from claimdesk.tui import keys


def assess_encounter(encounter_id: str) -> dict:
    """The assessment plus the encounter's header facts (runs in a worker)."""
    assessed = actions.assess(encounter_id)
    return {"assessed": assessed, "header": views.encounter_header(assessed["encounter_id"])}


def header_text(h: dict) -> Text:
    """Two lines about an encounter: who/when/where, then payers and balances by rank."""
    t = Text()
    t.append(f"Encounter {h['encounter_id']}", style="bold")
    t.append(f"  {h['patient']} (#{h['patient_id']})  DOS {h['dos']}  {h['claim_type']}")
    flags = [*h["tags"], *([] if h["billable"] else ["non-billable"]),
             *([] if h["status"] == "active" else [h["status"]])]
    if flags:
        t.append("  [" + ", ".join(dict.fromkeys(flags)) + "]", style="bold")
    t.append(f"\nQueue: {h['queue'] or '—'}  ")
    payers = " / ".join(f"{r[:3]}. {h['payers'][r]}" for r in RANKS if r in h["payers"]) or "no payers"
    t.append(f"Payers: {payers}  ")
    bal = "  ".join(f"{r} {fmt(h['by_rank'][r])}" for r in RANKS if h["by_rank"].get(r))
    t.append(f"Open: {bal or '0.00'}")
    return t


class AdvancedActionsScreen(BaseScreen):
    """Look up an encounter and pick the action that describes the situation."""

    TITLE = "Advanced Actions"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.find("focus_id"),
        keys.look_again("reassess"),
    ]

    def __init__(self, encounter_id: int | str | None = None, action_key: str | None = None):
        super().__init__()
        self.initial_id = encounter_id
        self.pending_action = action_key
        self.encounter_id: int | None = None
        self.header: dict | None = None
        self.offers: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="aa-body"):
            with Horizontal(id="enc-line", classes="line"):
                yield Label("Encounter ID", classes="field-label")
                yield Input(placeholder="e.g. 1042", id="encounter-id", compact=True,
                            restrict=r"[Ee#0-9 ]*", max_length=16)
                yield Button("›", id="open-encounter", compact=True)
            yield Static("", id="encounter-error", classes="field-error")
            yield Static("Type an encounter ID and press Enter.", id="encounter-info")
            yield Label("", id="offers-title", classes="pane-title")
            yield OptionList(id="offers", compact=True)
            with VerticalScroll(id="offer-detail-box"):
                yield Static("", id="offer-detail")
        yield Footer()

    def on_mount(self) -> None:
        box = self.query_one("#encounter-id", Input)
        self.query_one("#offers", OptionList).display = False
        self.query_one("#offer-detail-box").display = False
        if self.initial_id is not None:
            box.value = str(self.initial_id)
            self.open_encounter()
        else:
            box.focus()
        if self.pending_action and self.initial_id is None:
            title = next((a.title for a in get_host().actions() if a.key == self.pending_action),
                         self.pending_action)
            self.query_one("#encounter-info", Static).update(
                f"Type the encounter ID to apply “{title}” to, and press Enter.")

    # -- step 1: open the encounter --------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "encounter-id":
            event.stop()
            self.open_encounter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open-encounter":
            event.stop()
            self.open_encounter()

    def action_focus_id(self) -> None:
        self.query_one("#encounter-id", Input).focus()

    def action_reassess(self) -> None:
        if self.encounter_id is not None:
            self.query_one("#encounter-id", Input).value = str(self.encounter_id)
        self.open_encounter()

    def open_encounter(self) -> None:
        text = self.query_one("#encounter-id", Input).value
        self.set_id_error("")
        self.call(assess_encounter, text, done=self.show_assessment, failed=self.assess_failed,
                  busy=self.query_one("#open-encounter"), group="assess", exclusive=True)

    def set_id_error(self, message: str) -> None:
        err = self.query_one("#encounter-error", Static)
        err.update(f"! {message}" if message else "")
        err.display = bool(message)

    def assess_failed(self, exc: BaseException) -> None:
        self.encounter_id = None
        self.query_one("#offers", OptionList).display = False
        self.query_one("#offer-detail-box").display = False
        self.query_one("#offers-title", Label).update("")
        self.query_one("#encounter-info", Static).update("")
        message = exc.message if isinstance(exc, ClaimdeskError) else describe_error(exc)
        self.set_id_error(message)
        self.query_one("#encounter-id", Input).focus()

    # -- step 2: the actions that apply -------------------------------------------------
    def show_assessment(self, result: dict) -> None:
        assessed, self.header = result["assessed"], result["header"]
        self.encounter_id = assessed["encounter_id"]
        self.offers = assessed["offers"]
        self.query_one("#encounter-info", Static).update(header_text(self.header))
        self.query_one("#offers-title", Label).update(
            f"Choose what describes the situation ({len(self.offers)} apply):")
        offers = self.query_one("#offers", OptionList)
        offers.clear_options()
        offers.add_options([Option(o["title"], id=o["key"]) for o in self.offers])
        offers.display = True
        self.query_one("#offer-detail-box").display = True
        for failure in assessed.get("failures", []):
            self.notify(f"plugin {failure['name']} failed to assess: {failure['error']}",
                        title="Plugin skipped", severity="warning", timeout=10)
        keys = [o["key"] for o in self.offers]
        pick = 0
        if self.pending_action:
            if self.pending_action in keys:
                pick = keys.index(self.pending_action)
            else:
                self.notify(f"{self.pending_action!r} does not apply to encounter {self.encounter_id}; "
                            f"choose from the actions that do.", severity="warning")
        offers.highlighted = pick if self.offers else None
        offers.focus()
        self.show_detail(pick)
        if self.pending_action in keys:
            self.pending_action = None
            self.choose(self.offers[pick])
        self.pending_action = None

    def show_detail(self, index: int | None) -> None:
        if index is None or not (0 <= index < len(self.offers)):
            self.query_one("#offer-detail", Static).update("")
            return
        o = self.offers[index]
        t = Text()
        t.append("When it appears: ", style="bold")
        t.append(o["when"] + "\n")
        t.append("What it will do:\n", style="bold")
        for n, step in enumerate(o["steps"], 1):
            t.append(f" {n}. {step}\n")
        if o.get("required_role") and o["required_role"] != "clerk":
            t.append(f"Needs a {o['required_role']}.\n", style="bold")
        self.query_one("#offer-detail", Static).update(t)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "offers":
            self.show_detail(event.option_index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "offers":
            event.stop()
            self.choose(self.offers[event.option_index])

    # -- steps 3 and 4 -----------------------------------------------------------------
    def choose(self, offer: dict) -> None:
        from claimdesk.tui.screens.action_form import ActionFormScreen

        self.app.push_screen(ActionFormScreen(self.encounter_id, offer, self.header or {}),
                             callback=self.after_form)

    def after_form(self, session) -> None:
        if session is None:
            return
        from claimdesk.tui.screens.action_result import ActionResultScreen

        self.app.push_screen(ActionResultScreen(session), callback=self.after_result)

    def after_result(self, encounter_id: int | None) -> None:
        """Back from the result: reload the encounter the action left to work on (a workers' comp
        conversion makes a new one in place of the one it removed)."""
        if encounter_id is not None:
            self.encounter_id = encounter_id
        self.action_reassess()
