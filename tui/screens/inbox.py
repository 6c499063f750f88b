"""Admin inbox: questions sent with "None of the options above", answers and status."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Footer, Header, Input, Label, Static

from claimdesk.tui.widgets.tick import Tick
from claimdesk.core.services import messages
from claimdesk.tui.screens.base import BaseModal, BaseScreen, SubmitKey
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.table import Table, clip
from claimdesk.tui import keys


def message_text(m: dict) -> Text:
    """One message in full: subject, who/when, body, answer."""
    t = Text()
    t.append(f"#{m['id']} {m['subject']}", style="bold")
    t.append(f"  [{m['status']}]  encounter {m['encounter_id'] or '—'}  from {m['author']}  {m['created_at']}\n")
    t.append(m["body"] or "(no details)")
    if m["answer"]:
        t.append(f"\nAnswer ({m['answered_by']}): ", style="bold")
        t.append(m["answer"])
    return t


class InboxScreen(BaseScreen):
    """Messages newest first; Enter reads one, A answers, X closes, O opens its encounter."""

    TITLE = "Admin inbox"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("a", "answer", "Answer"),
        Binding("x", "close_message", "Close"),
        Binding("o", "open_encounter", "Advanced Actions"),
        keys.look_again("reload"),
    ]

    def __init__(self):
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="inbox-title", classes="facts")
        yield Table(id="inbox-table", cursor_type="row")
        yield Static("", id="inbox-message", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("#", "Status", "Enc", "From", "Subject")
        self.action_reload()

    def action_reload(self) -> None:
        self.call(messages.inbox, done=self.fill, group="inbox", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        open_n = sum(1 for r in rows if r["status"] == "open")
        self.query_one("#inbox-title", Static).update(f"{len(rows)} message(s), {open_n} open. Enter reads one.")
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        for r in rows:
            table.add_row(str(r["id"]), r["status"] + ("" if r["read"] else " •"), str(r["encounter_id"] or "—"),
                          clip(r["author"], 12), clip(r["subject"], 40))
        if rows:
            table.move_cursor(row=min(keep or 0, len(rows) - 1))
        table.focus()

    def current(self) -> dict | None:
        return self.highlighted_row(self.rows)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        m = self.current()
        if m is not None:
            self.call(messages.read, m["id"], done=self.show_message)

    def show_message(self, m: dict) -> None:
        self.query_one("#inbox-message", Static).update(message_text(m))
        for i, r in enumerate(self.rows):
            if r["id"] == m["id"]:
                self.rows[i] = m

    def action_answer(self) -> None:
        m = self.current()
        if m is not None:
            self.app.push_screen(AnswerScreen(m), callback=lambda res: res and self.answered(res))

    def answered(self, m: dict) -> None:
        self.show_message(m)
        self.action_reload()

    def action_close_message(self) -> None:
        m = self.current()
        if m is not None:
            self.call(messages.close, m["id"], done=self.answered)

    def action_open_encounter(self) -> None:
        m = self.current()
        if m is not None and m["encounter_id"]:
            self.app.open_advanced(m["encounter_id"])


class AnswerScreen(BaseModal):
    """The administrator's answer; F2 sends it (the core checks the admin role)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("send", "Send")]

    def __init__(self, message: dict):
        super().__init__(classes="dialog-screen")
        self.message = message
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="answer-dialog"):
            yield Label(Text(f"Answer #{self.message['id']}: {self.message['subject']}"), classes="dialog-title")
            yield Static(message_text(self.message), classes="dialog-body")
            with Horizontal(classes="line"):
                yield Label("Answer", classes="cr-label")
                yield Input(placeholder="the answer to send back", id="answer", compact=True)
            yield ErrorLine(id="answer-error")
            yield Tick("Close the message", id="close", compact=True)
            with Horizontal(classes="buttons"):
                yield Button("Send (F2)", id="send", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()  # the dialog's own keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.dismiss(None)

    def action_send(self) -> None:
        payload = {"message_id": self.message["id"], "answer": self.query_one("#answer", Input).value,
                   "close": self.query_one("#close", Checkbox).value}
        self.call(messages.answer, payload, done=self.dismiss, failed=self.failed, busy=self.query_one("#send"))

    def failed(self, exc: BaseException) -> None:
        from claimdesk.tui.screens.base import describe_error

        self.query_one("#answer-error", ErrorLine).show(describe_error(exc))
