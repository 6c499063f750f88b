"""Shared bits for the cases: the fixed clock, the bench user, core connection, timing."""

from __future__ import annotations

import contextlib
import datetime as dt
import statistics
import time

USER = "bench"
#: The demo's last day, late afternoon: every case runs "now" at this instant.
NOW = dt.datetime(2026, 11, 2, 16, 45)
TODAY = NOW.date()


@contextlib.contextmanager
def core_session(url: str):
    """Connect the core to ``url``, act as the bench user at :data:`NOW`."""
    from claimdesk.core import clock, db
    from claimdesk.core.context import as_user

    db.connect(url)
    try:
        with as_user(USER), clock.frozen(NOW):
            yield
    finally:
        db.close()


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def median(samples: list[float]) -> float | None:
    """Median, or None without samples."""
    return statistics.median(samples) if samples else None


def cents(amount: int) -> str:
    """Cents as the text the core's Money fields take ("12.50")."""
    return f"{amount // 100}.{amount % 100:02d}"
