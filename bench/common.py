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


def settle(url: str, limit: float = 300.0, poll: float = 0.5) -> float:
    """PostgreSQL: wait until the server has nothing of its own at work (no autovacuum worker,
    no other session running a statement), then ``CHECKPOINT``; the seconds it took. A phase
    then starts on a quiet server: what an earlier case left the server to do (vacuuming and
    analysing the tables it wrote, writing its dirty pages out) is not counted against the
    next one (a cold start measured while autovacuum worked ran a fifth slower). SQLite: 0."""
    from claimdesk.bench.raw import Raw, is_pg_url

    if not is_pg_url(url):
        return 0.0
    t0 = time.perf_counter()
    r = Raw(url)
    try:
        while time.perf_counter() - t0 < limit:
            busy = r.one("SELECT COUNT(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                         "(backend_type = 'autovacuum worker' OR (backend_type = 'client backend' "
                         "AND state NOT IN ('idle', 'idle in transaction')))")
            if not busy:
                break
            time.sleep(poll)
        r.q("CHECKPOINT")
    finally:
        r.close()
    return time.perf_counter() - t0
