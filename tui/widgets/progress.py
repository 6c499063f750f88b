"""Long work with a progress bar: a service run in a worker that reports ``(done, total)``.

:class:`WorkProgress` is a one-line bar (a label, a Textual ``ProgressBar`` with percent
and ETA) that takes no room until work starts. :func:`run_with_progress` runs a core
service that takes ``progress: Callable[[int, int], None]`` (the statement run, claim
batches, aging recalc) through the screen's :meth:`~claimdesk.tui.screens.base.ServiceCalls.call`
and passes it a callback that, on the worker thread:

- raises :class:`Cancelled` once the clerk pressed Ctrl+K (the app cancels the screen's
  workers). The service calls back inside its one transaction, so the raise rolls the
  whole run back: nothing is written;
- hands the numbers to the UI thread with ``app.call_from_thread``, at most every
  ``interval`` seconds (and always the last one), so thousands of items do not flood
  the screen.

Every outcome reaches the screen exactly once, even when Ctrl+K comes too late to stop
the run (the base ``call`` drops the answers of cancelled workers): ``done(result)``,
``cancelled()`` (rolled back, nothing written) or ``failed(exc)``.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar
from textual.worker import Worker

from claimdesk.core.errors import ClaimdeskError
from claimdesk.tui.screens.base import worker_cancelled

#: What a screen says when a run was cancelled before it could commit.
CANCELLED_TEXT = "cancelled, nothing written"
#: Seconds between two bar updates handed to the screen (thousands of items do not flood it);
#: the last update always goes. Tests set it to 0 to see every step.
INTERVAL = 0.05


class Cancelled(ClaimdeskError):
    """Raised from a progress callback after Ctrl+K: the service's transaction rolls back."""

    def __init__(self, what: str = "the run"):
        super().__init__(f"{what} {CANCELLED_TEXT}")


class WorkProgress(Horizontal):
    """``<label> ━━━━━━━╸━━━━━  40% 00:00:12`` while work runs (an animation without numbers
    while the total is unknown or the work is one statement); hidden, taking no room, otherwise."""

    DEFAULT_CSS = """
    WorkProgress { height: 1; display: none; padding: 0 1; }
    WorkProgress.-running { display: block; }
    WorkProgress > Label { width: auto; margin-right: 1; }
    WorkProgress > ProgressBar { width: 1fr; }
    WorkProgress ProgressBar > Horizontal { width: 1fr; }
    WorkProgress Bar { width: 1fr; min-width: 8; }
    """

    def compose(self) -> ComposeResult:
        yield Label("")
        yield ProgressBar(total=None, show_eta=True)

    @property
    def running(self) -> bool:
        return self.has_class("-running")

    def _numbers(self, shown: bool) -> None:
        """Percent and ETA only with real numbers (not ``--% --:--:--`` beside an animation)."""
        for part in self.query_one(ProgressBar).query("#percentage, #eta"):
            part.display = shown

    def start(self, label: str) -> None:
        """Show the bar: an animation until :meth:`show` gives it numbers."""
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._numbers(False)
        self.query_one(Label).update(label)
        self.add_class("-running")

    def show(self, done: int, total: int) -> None:
        """Real progress: ``done`` of ``total`` items."""
        if not self.running:
            return
        bar = self.query_one(ProgressBar)
        if total <= 0:  # nothing to do: a full bar, not an endless animation
            bar.update(total=1, progress=1)
        else:
            bar.update(total=total, progress=min(done, total))
        self._numbers(True)

    def stop(self) -> None:
        """Hide the bar."""
        self.remove_class("-running")
        self.query_one(ProgressBar).update(total=None, progress=0)


class KeepWhileRunning:
    """Mixin for a screen with a :class:`WorkProgress`: Escape does not leave it while the work
    runs (a closed screen's workers are cancelled, which would roll the work back unseen)."""

    def action_back(self) -> None:
        bars = self.query(WorkProgress)  # type: ignore[attr-defined]
        if any(bar.running for bar in bars):
            self.notify("Still running: wait for it, or Ctrl+K cancels it (then nothing is written).",  # type: ignore[attr-defined]
                        timeout=5)
            return
        super().action_back()  # type: ignore[misc]


def run_with_progress(screen, fn: Callable[..., Any], *args: Any, bar: WorkProgress, label: str,
                      done: Callable[[Any], None], cancelled: Callable[[], None],
                      failed: Callable[[BaseException], None], what: str = "the run",
                      determinate: bool = True, interval: float | None = None, **kwargs: Any) -> Worker:
    """Run ``fn(*args, progress=<callback>, **kwargs)`` in a worker of ``screen``, ``bar`` showing
    ``label`` and the numbers (``determinate=False`` keeps it an animation, for work that is one
    SQL statement).

    Afterwards the bar is hidden and exactly one of ``done(result)``, ``cancelled()`` or
    ``failed(exc)`` is called on the UI thread (none if the screen is gone meanwhile).
    ``what`` names the work in the :class:`Cancelled` message.
    """
    app = screen.app
    last = [0.0]
    interval = INTERVAL if interval is None else interval

    def post(callback: Callable, *values: Any) -> None:
        def deliver() -> None:
            if screen.is_attached:
                callback(*values)
        try:
            app.call_from_thread(deliver)
        except RuntimeError:  # the app is shutting down
            pass

    def ended(callback: Callable) -> Callable:
        def then(*values: Any) -> None:
            bar.stop()
            callback(*values)
        return then

    def progress(n: int, total: int) -> None:
        if worker_cancelled():
            raise Cancelled(what)
        now = time.monotonic()
        if determinate and (n >= total or now - last[0] >= interval):
            last[0] = now
            post(bar.show, n, total)

    def job() -> None:
        try:
            result = fn(*args, progress=progress, **kwargs)
        except Cancelled:
            post(ended(cancelled))
        except Exception as exc:  # noqa: BLE001 - shown on the screen, as ServiceCalls.call does
            if not isinstance(exc, ClaimdeskError):
                app.log.error(f"{getattr(fn, '__name__', fn)} failed: {exc!r}")
            post(ended(failed), exc)
        else:
            post(ended(done), result)

    bar.start(label)
    # ``call`` carries the caller's context (user, frozen clock) and releases the thread's
    # connection; it answers nothing back, as ``job`` delivers every outcome itself.
    return screen.call(job, done=lambda _r: None, failed=lambda _e: None, group="progress")
