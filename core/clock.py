"""The one source of "today" and "now", so tests and the demo can fix time."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os

_frozen: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("frozen", default=None)


def now() -> dt.datetime:
    """Current time (UTC, naive); frozen by :func:`frozen` or ``CLAIMDESK_NOW``."""
    value = _frozen.get()
    if value is not None:
        return value
    env = os.environ.get("CLAIMDESK_NOW")
    if env:
        try:
            return dt.datetime.fromisoformat(env)
        except ValueError:
            from claimdesk.core.errors import InputError

            raise InputError({"CLAIMDESK_NOW": [f"is not a date and time like 2026-03-02T09:00:00, got {env!r}"]}) \
                from None
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """Current business date."""
    return now().date()


@contextlib.contextmanager
def frozen(when: dt.datetime | dt.date):
    """Run a block as if it were ``when`` (used by the demo builder and tests)."""
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(9, 0))
    token = _frozen.set(when)
    try:
        yield
    finally:
        _frozen.reset(token)
