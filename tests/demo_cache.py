"""The demo clinic for tests: built once per test session and engine, copied for each test.

Building the demo takes seconds, so a session builds each demo (by its build
parameters) once per storage engine and every test gets its own copy, free to
change it:

- SQLite: the demo is built into a template file; each test gets a copy of the file.
- PostgreSQL: the demo is built into a database of the session's server
  (``pg_server`` in tests/conftest.py); each test gets ``CREATE DATABASE ... TEMPLATE``
  of it, dropped after the test.

Both behind the same two functions, :func:`template` and :func:`opened_copy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

from claimdesk.core import clock, db, demo, migrations
from claimdesk.core.context import as_user

#: The default demo clinic (scale 1: over 200 patients, 18 months).
DEFAULT = {"seed": demo.DEFAULT_SEED, "scale": 1.0}
#: Tests work on the demo's "today", late in the afternoon (after the day's visits and remits).
NOW = dt.datetime.combine(demo.DEFAULT_TODAY, dt.time(16, 45))

_templates: dict[tuple, tuple[Path | str, dict]] = {}
#: PostgreSQL template URL -> the server holding it (to clone and drop copies).
_servers: dict[str, object] = {}


def template(tmp_path_factory, *, pg=None, **params) -> tuple[Path | str, dict]:
    """The template for ``params`` (default :data:`DEFAULT`) and the build summary: a SQLite
    file path, or with ``pg`` (a tests.pgserver.PgServer) the URL of a PostgreSQL database.

    Built on first use in this session (per engine), then reused.
    """
    params = params or DEFAULT
    key = (id(pg) if pg is not None else None, *sorted(params.items()))
    if key not in _templates:
        if pg is not None:
            source: Path | str = pg.new_database(upgraded=True)
            _servers[source] = pg
        else:
            source = tmp_path_factory.mktemp("demo-template") / "demo.db"
        db.connect(str(source))
        try:
            migrations.upgrade()
            summary = demo.build(**params)
        finally:
            db.close()  # SQLite: the last connection checkpoints the WAL; PostgreSQL: no session left on it
        _templates[key] = (source, summary)
    return _templates[key]


@contextlib.contextmanager
def opened_copy(source: Path | str, directory: Path, *, user: str = demo.CLERK, now: dt.datetime = NOW):
    """Copy the template (a file copy, or a PostgreSQL clone), connect to the copy, work as
    ``user`` at ``now``; the copy is gone afterwards (PostgreSQL) or left in ``directory``."""
    server = _servers.get(source) if isinstance(source, str) else None
    if server is not None:
        target = server.clone(source)
    else:
        target = Path(directory) / "demo-copy.db"
        shutil.copyfile(source, target)
    db.connect(str(target))
    try:
        with as_user(user), clock.frozen(now):
            yield target
    finally:
        db.close()
        if server is not None:
            server.drop(target)
