"""Opening and closing a working session, for every front end (the CLI, the app).

:func:`start` sets who is working, loads the plugins and connects to the database (checking
its schema); :func:`end` closes the connection. A front end that runs core calls on worker
threads (the app) calls :func:`release_thread_connection` when each call is done: every
thread opens its own connection on first use, and an idle one must not hold a database
session (or, on SQLite, a file handle) open.
"""

from __future__ import annotations

import os

from claimdesk.core import config, context, db, migrations


def start(settings: config.Settings, *, connect: bool = True, check_schema: bool = True) -> None:
    """Begin working on ``settings.db_url`` with the plugins it configures, as the authenticated
    identity: the OS login (``settings.user``), or on PostgreSQL the connection's role
    (``session_user``: peer, password or certificate authentication), which then replaces
    ``settings.user`` unless a program passed the user in-process (``user_given``)."""
    from claimdesk.core.plugins.host import get_host

    context.set_user(settings.user)
    context.set_client(ssh_client())
    get_host(settings)
    if connect:
        db.connect(settings.db_url)
        if db.is_postgres() and not settings.user_given:
            settings.user = db.session_user()
            context.set_user(settings.user)
        if check_schema:
            migrations.check()


def ssh_client() -> str:
    """The address of the SSH client this process serves ("" on the console)."""
    for name in ("SSH_CLIENT", "SSH_CONNECTION"):
        value = os.environ.get(name, "").split()
        if value:
            return value[0]
    return ""


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
