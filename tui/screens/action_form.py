"""Advanced Actions, step 3: the guided form of the chosen action, a confirm step, apply.

The form is drawn from ``actions.form(encounter_id, key)``; nothing is checked
here. Review (F2) asks the core what applying would do (:meth:`ActionSession.preview`:
the same checks and work, rolled back): a refusal lands next to the fields it names,
in the clerk's words, and no confirm opens; else the confirm shows the inputs as
labelled and what will happen (balances before → after, the queue, statements). Apply
validates again and applies atomically. The submit carries an idempotency key kept
across retries of the same input.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Static

from claimdesk.core.errors import ClaimdeskError, InputError
from claimdesk.core.services import actions
from claimdesk.core.usecases.advanced_actions import ActionSession, Applied
from claimdesk.tui.screens.action_result import changes, queue_titles
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.screens.confirm import ConfirmScreen
from claimdesk.tui.widgets.schema_form import SchemaForm
from claimdesk.tui import keys


class ActionFormScreen(BaseScreen):
    """Fill in the action's inputs; F2 (or the button) reviews and confirms.

    Dismisses with the :class:`ActionSession` once applied, or None.
    """

    TITLE = "Advanced Actions"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.do_it("review", "Review & apply"),
    ]

    def __init__(self, encounter_id: int, offer: dict, header: dict):
        super().__init__()
        self.encounter_id = encounter_id
        self.offer = offer
        self.header = header
        self.submit_key = SubmitKey()
        self.form: SchemaForm | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form-scroll"):
            t = Text()
            t.append(self.offer["title"], style="bold")
            who = f" — {self.header['patient']}" if self.header.get("patient") else ""
            t.append(f"\nEncounter {self.encounter_id}{who}")
            yield Static(t, id="form-title", classes="form-title")
            steps = Text()
            for n, step in enumerate(self.offer["steps"], 1):
                steps.append(f" {n}. {step}\n", style="italic")
            yield Static(steps, id="form-steps")
            yield Vertical(id="form-holder")
            with Horizontal(classes="buttons"):
                yield Button("Review & apply ›", id="review", variant="primary", compact=True, disabled=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.call(actions.form, self.encounter_id, self.offer["key"], done=self.show_form,
                  failed=self.form_failed)

    def show_form(self, fields: list[dict]) -> None:
        self.form = SchemaForm(fields, prefix="act", id="action-form")
        self.query_one("#form-holder").mount(self.form)
        self.query_one("#review", Button).disabled = False
        self.call_after_refresh(self.form.focus_first)
        if not fields:
            self.query_one("#review", Button).focus()

    def form_failed(self, exc: BaseException) -> None:
        self.show_error(exc)
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "review":
            self.action_review()
        elif event.button.id == "cancel":
            self.dismiss(None)

    def action_review(self) -> None:
        """Check every field (the core previews the action), then confirm with what will happen."""
        if self.form is None or self.query_one("#review", Button).disabled:
            return
        self.form.clear_errors()
        session = ActionSession(self.encounter_id, self.offer["key"], self.form.values())
        self.call(review, session, done=lambda seen: self.confirm(session, *seen), failed=self.apply_failed,
                  busy=self.query_one("#review"))

    def confirm(self, session: ActionSession, preview: Applied, queues: dict) -> None:
        if self.form.values() != session.data:  # changed while it was being checked: check again
            self.action_review()
            return
        lines = [("Action", self.offer["title"]), ("Encounter", str(self.encounter_id)),
                 *self.form.describe_checked(), "", "What will happen:", *changes(preview, queues)]
        self.app.push_screen(
            ConfirmScreen(f"Apply to encounter {self.encounter_id}?", lines, yes="Apply", no="Back"),
            callback=lambda yes: self.submit(session) if yes else None)

    def submit(self, session: ActionSession) -> None:
        key = self.submit_key.for_payload({"encounter": self.encounter_id, "action": self.offer["key"],
                                           "data": session.data})
        self.call(session.apply, idempotency_key=key, done=lambda _applied: self.applied(session),
                  failed=self.apply_failed, busy=self.query_one("#review"))

    def applied(self, session: ActionSession) -> None:
        self.submit_key.done()
        self.dismiss(session)

    def apply_failed(self, exc: BaseException) -> None:
        """Refused (by the review or the apply): each message under its field, else on the form's line."""
        if isinstance(exc, InputError) and self.form is not None:
            leftover = self.form.show_errors(exc.messages)
            self.notify("Check the fields marked with !" + (f": {'; '.join(leftover)}" if leftover else ""),
                        title="Not applied", severity="error", timeout=8)
            return
        if isinstance(exc, ClaimdeskError) and self.form is not None:
            named = exc.field and self.form.field(exc.field.split(".")[0]) is not None
            self.form.show_errors({exc.field if named else "_schema": [exc.message]})
        self.show_error(exc)


def review(session: ActionSession) -> tuple[Applied, dict]:
    """What applying would do and the work queues' titles to say it with (runs in a worker)."""
    return session.preview(), queue_titles()
