"""One patient statement as it prints (``statement_render.render_text``), and regenerating it.

Opened from the patient ledger's Statements tab (Enter) and from the Statements screen.
R regenerates the patient's active statement after asking why (the reason is kept on the
voided one): ``statements.regenerate`` voids it and makes a new one from today's
balances; the new statement is shown in its place.
"""

from __future__ import annotations

from typing import ClassVar

from claimdesk.core.money import fmt
from claimdesk.core.services import statement_render, statements
from claimdesk.tui.screens.base import BaseModal, BaseScreen, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Static
from claimdesk.tui import keys


def load_statement(statement_id: int) -> dict:
    """The statement's printed text and its status (runs in a worker)."""
    v = statement_render.view(statement_id)
    return {"statement_id": v.statement_id, "status": v.status, "patient": v.patient_name,
            "account_no": v.account_no, "amount_due": v.amount_due, "generated_on": v.generated_on.isoformat(),
            "due_on": v.due_on.isoformat(),
            "text": statement_render.render_text(statement_id)}


def settings_rules(app):
    """The statement rules of the app's settings (None: the core reads the config)."""
    settings = getattr(app, "settings", None)
    return settings.statements if settings is not None else None


class StatementViewScreen(BaseScreen):
    """The statement's text; R regenerates the patient's active statement."""

    TITLE = "Statement"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("r", "regenerate", "Regenerate"),
    ]

    def __init__(self, statement_id: int, patient_id: int):
        super().__init__()
        self.statement_id = statement_id
        self.patient_id = patient_id
        self.info: dict | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="sv-title", classes="facts")
        with VerticalScroll(id="sv-scroll", classes="scroll-body"):
            yield Static("", id="sv-text")
        yield Footer()

    def on_mount(self) -> None:
        self.show_statement(self.statement_id)

    def show_statement(self, statement_id: int) -> None:
        self.statement_id = statement_id
        self.call(load_statement, statement_id, done=self.fill, failed=self.load_failed, group="statement",
                  exclusive=True)

    def load_failed(self, exc: BaseException) -> None:
        self.query_one("#sv-title", Static).update(Text(f"! {describe_error(exc)}", style="bold"))

    def fill(self, info: dict) -> None:
        self.info = info
        self.sub_title = f"#{info['statement_id']} {info['patient']}"
        void = info["status"] == "void"
        self.query_one("#sv-title", Static).update(Text.assemble(
            (f"Statement #{info['statement_id']} ({info['status']})", "bold"),
            f" for {info['patient']} ({info['account_no']}), {info['generated_on']}, due {fmt(info['amount_due'])}"
            f" by {info['due_on']}. ",
            "A void statement is kept on file; r makes a new one from today's balances." if void else
            "r regenerates it from today's balances."))
        self.query_one("#sv-text", Static).update(Text(info["text"]))
        scroll = self.query_one("#sv-scroll", VerticalScroll)
        scroll.scroll_home(animate=False)
        scroll.focus()

    def action_regenerate(self) -> None:
        self.app.push_screen(RegenerateScreen(self.patient_id), callback=self.regenerated)

    def regenerated(self, res: dict | None) -> None:
        if res:
            self.notify(f"Statement #{res['statement_id']} made (due {fmt(res['amount_due'])}); "
                        f"#{res['voided_statement_id']} is void.", timeout=8)
            self.show_statement(res["statement_id"])


class RegenerateScreen(BaseModal):
    """Why the statement is made again; F2 (or Enter) regenerates. Dismisses with the result."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel"), keys.do_it("submit", "Regenerate")]

    def __init__(self, patient_id: int):
        super().__init__(classes="dialog-screen")
        self.patient_id = patient_id
        self.running = False  # the service takes no idempotency key: one regeneration at a time

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="regenerate-dialog"):
            yield Label(f"Regenerate the statement of patient #{self.patient_id}?", classes="dialog-title")
            yield Static("The active statement is voided (kept on file with the reason) and a new one is made "
                         "from today's balances. It is not a new statement in the dunning series.",
                         classes="dialog-body")
            with Horizontal(classes="line"):
                yield Label("Reason", classes="cr-label")
                yield Input(placeholder="e.g. address corrected (optional)", id="regen-reason", compact=True)
            yield ErrorLine(id="regen-error")
            with Horizontal(classes="buttons"):
                yield Button("Regenerate (F2)", id="regen-submit", variant="primary", compact=True)
                yield Button("Cancel", id="regen-cancel", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#regen-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "regen-submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        if self.running:
            return
        self.running = True
        reason = self.query_one("#regen-reason", Input).value.strip()
        self.query_one("#regen-error", ErrorLine).show("")
        self.call(statements.regenerate, self.patient_id, reason, rules=settings_rules(self.app),
                  done=self.dismiss, failed=self.failed, busy=self.query_one("#regen-submit"))

    def failed(self, exc: BaseException) -> None:
        self.running = False
        self.query_one("#regen-error", ErrorLine).show(describe_error(exc))
