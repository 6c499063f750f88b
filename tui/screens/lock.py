"""The lock screen: after ``[app] lock_minutes`` without a key or a click the app hides every
patient detail behind this screen (HIPAA automatic logoff, 164.312(a)(2)(iii)); the user's
passphrase (``claimdesk users passwd``) takes it away, and after ``[app] exit_minutes`` more the
app closes. Nothing of the screens below shows through: this screen is opaque and covers them
all; Escape does not leave it and the command palette does not open over it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from claimdesk.core import users
from claimdesk.core.context import current_user

#: Wrong passphrases in a row before the app closes.
MAX_TRIES = 5


class LockScreen(Screen):
    """Locked: the user's passphrase unlocks; Ctrl+Q quits."""

    BINDINGS = [Binding("ctrl+q", "app.quit", "Quit", priority=True), Binding("escape", "stay", show=False)]
    DEFAULT_CSS = """
    LockScreen { align: center middle; background: $background; }
    LockScreen > Vertical { width: 72; height: auto; border: heavy $primary; padding: 1 2; }
    LockScreen Input { margin-top: 1; }
    """

    def __init__(self, idle_minutes: int):
        super().__init__()
        self.idle_minutes = idle_minutes
        self.tries = 0
        self.who = current_user()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"claimdesk is locked: nobody touched it for {self.idle_minutes} minute(s).", id="lock-title")
            if self.has_passphrase():
                yield Static(f"{self.who}, type your passphrase and press Enter. Ctrl+Q quits.", id="lock-hint")
                yield Input(password=True, id="lock-passphrase")
            else:
                yield Static(f"{self.who} has no passphrase yet, so only Ctrl+Q (quit) is left. Set one with "
                             "`claimdesk users passwd` to unlock next time.", id="lock-hint")
            yield Static("", id="lock-error", classes="error")

    def has_passphrase(self) -> bool:
        try:
            return users.has_passphrase(self.who)
        except Exception:  # noqa: BLE001 - the database gone away: only quitting is left
            return False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text, event.input.value = event.value, ""
        if users.check_passphrase(text, self.who):
            self.app.unlock()
            return
        self.tries += 1
        if self.tries >= MAX_TRIES:
            self.app.exit(message=f"claimdesk closed: {MAX_TRIES} wrong passphrases in a row.")
            return
        self.query_one("#lock-error", Static).update(f"✘ Wrong passphrase ({MAX_TRIES - self.tries} tries left).")

    def action_stay(self) -> None:
        """Escape does not leave the lock."""
