"""What every screen shares: calling core services in thread workers, showing
their refusals as one clear line (never a traceback), and submit keys.
"""

from __future__ import annotations

import contextvars
import json
import uuid
from typing import Any, Callable

import peewee
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker, active_worker, get_current_worker

from claimdesk.core import session
from claimdesk.core.db import StorageError
from claimdesk.core.errors import ClaimdeskError, InputError
from claimdesk.tui.keys import InFooterOrder


class SubmitKey:
    """An idempotency key per form submission.

    The same payload submitted again (a retry after a lost answer, a double
    Enter) reuses the key, so the core never posts twice; a changed payload gets
    a new key; after a success the next submit is a new submission.
    """

    def __init__(self) -> None:
        self._payload: str | None = None
        self._key: str | None = None

    def for_payload(self, payload: Any) -> str:
        canon = json.dumps(payload, sort_keys=True, default=str)
        if canon != self._payload or self._key is None:
            self._payload, self._key = canon, str(uuid.uuid4())
        return self._key

    def done(self) -> None:
        self._payload = self._key = None


def worker_cancelled() -> bool:
    """True inside a worker the clerk cancelled (Ctrl+K): its answer is dropped."""
    try:
        return get_current_worker().is_cancelled
    except Exception:  # noqa: BLE001 - not in a worker
        return False


def describe_error(exc: BaseException) -> str:
    """One line a clerk can read, for any failure of a service call."""
    if isinstance(exc, InputError):
        return "; ".join(exc.lines())
    if isinstance(exc, ClaimdeskError):
        return str(exc)
    if isinstance(exc, StorageError):
        return f"database: {exc}"
    if isinstance(exc, peewee.PeeweeException):
        return f"database error: {exc}; nothing was changed by this step, try again"
    return f"unexpected error ({type(exc).__name__}: {exc}); nothing was shown as done"


class ServiceCalls:
    """Mixin for screens: run a core service in a thread worker, answer on the UI thread."""

    def call(self, fn: Callable, *args: Any, done: Callable[[Any], None] | None = None,
             failed: Callable[[BaseException], None] | None = None, busy: Widget | None = None,
             group: str = "service", exclusive: bool = False, **kwargs: Any) -> Worker:
        """Run ``fn(*args, **kwargs)`` off the UI thread; then ``done(result)`` or ``failed(exc)``.

        The caller's context (current user, frozen clock) goes with the call.
        ``busy`` is disabled while the call runs (no double submits).
        """
        context = contextvars.copy_context()
        app = self.app  # type: ignore[attr-defined]
        if busy is not None:
            busy.disabled = True

        def finish(callback, value) -> None:
            if busy is not None:
                busy.disabled = False
            if not self.is_attached:  # type: ignore[attr-defined]  # the screen was closed meanwhile
                return
            callback(value)
            # a DataTable sizes its columns for new rows when it next goes idle; rows added
            # from here may get no message that makes it idle, so prompt it (else "Dr. Rive")
            for table in self.query(DataTable):  # type: ignore[attr-defined]
                table.check_idle()

        def job() -> None:
            worker = get_current_worker()

            def inside():
                active_worker.set(worker)  # so long loops can check is_cancelled
                return fn(*args, **kwargs)

            try:
                result = context.run(inside)
            except Exception as exc:  # noqa: BLE001 - every failure is shown, none crashes the app
                if not isinstance(exc, (ClaimdeskError, peewee.PeeweeException, StorageError)):
                    app.log.error(f"{getattr(fn, '__name__', fn)} failed: {exc!r}")
                outcome = (failed or self.show_error, exc)
            else:
                outcome = (done or (lambda _r: None), result)
            finally:
                session.release_thread_connection()
            if worker_cancelled():
                outcome = (lambda _v: None, None)  # dropped; the app said "Cancelled"
            try:
                app.call_from_thread(finish, *outcome)
            except RuntimeError:  # the app is shutting down
                pass

        return self.run_worker(job, thread=True, exit_on_error=False, group=group,  # type: ignore[attr-defined]
                               exclusive=exclusive, description=getattr(fn, "__name__", "service"))

    def show_error(self, exc: BaseException) -> None:
        """A refusal or failure as a notice."""
        self.notify(describe_error(exc), title="Not done", severity="error", timeout=8)  # type: ignore[attr-defined]


class BaseScreen(InFooterOrder, ServiceCalls, Screen):
    """A full screen with Escape to go back."""

    BINDINGS = [Binding("escape", "back", "Back")]

    def action_back(self) -> None:
        """Close this screen, never Home (the app's first pushed screen)."""
        if len(self.app.screen_stack) > 2:
            self.dismiss(None)

    def highlighted_row(self, rows: list, table: DataTable | None = None):
        """The item of ``rows`` under the table's cursor (rows as loaded into it), or None."""
        table = table or self.query_one(DataTable)
        if not rows or table.cursor_row is None or table.cursor_row >= len(rows):
            return None
        return rows[table.cursor_row]


class BaseModal(InFooterOrder, ServiceCalls, ModalScreen):
    """A dialog; Escape closes it without an answer."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class FormDialog(BaseModal):
    """A dialog holding a form: the button with id :attr:`SAVE_BUTTON` saves (``action_save``),
    any other button cancels; Enter in a field moves to the next one (F2 saves); changing a
    field clears the message under it (``self.errors``, a
    :class:`~claimdesk.tui.widgets.field_errors.FieldErrors`)."""

    SAVE_BUTTON = ""

    def on_button_pressed(self, event) -> None:
        event.stop()
        if event.button.id == self.SAVE_BUTTON:
            self.action_save()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event) -> None:
        event.stop()
        self.focus_next()

    def on_input_changed(self, event) -> None:
        self.errors.clear(event.input.id)
