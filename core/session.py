"""Opening and closing a working session, for every front end (the CLI, the app).

:func:`start` sets who is working, loads the plugins and connects to the database (checking
its schema); :func:`end` closes the connection. A front end that runs core calls on worker
threads (the app) calls :func:`release_thread_connection` when each call is done: every
thread opens its own connection on first use, and an idle one must not hold a database
session (or, on SQLite, a file handle) open.
"""

from __future__ import annotations

from claimdesk.core import config, context, db, migrations


def start(settings: config.Settings, *, connect: bool = True, check_schema: bool = True) -> None:
    """Begin working as ``settings.user`` on ``settings.db_url`` with the plugins it configures."""
    from claimdesk.core.plugins.host import get_host

    context.set_user(settings.user)
    get_host(settings)
    if connect:
        db.connect(settings.db_url)
        if check_schema:
            migrations.check()


def end() -> None:
    """Close the session's database connection (safe to call twice)."""
    db.close()


def release_thread_connection() -> None:
    """Close this thread's database connection unless a transaction is open on it (best effort)."""
    try:
        if db.database.obj is not None and db.database.obj.transaction_depth() == 0:
            db.database.obj.close()
    except Exception:  # noqa: BLE001 - closing is best effort
        pass
