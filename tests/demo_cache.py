"""The demo clinic for tests: built once per test session, copied for each test.

Building the demo takes seconds, so a session builds each demo (by its build
parameters) once into a template SQLite file and every test gets its own copy
of that file, free to change it. The copy approach lives only here: a PostgreSQL
variant would build into a template database and ``CREATE DATABASE ... TEMPLATE``
it per test behind the same two functions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from pathlib import Path

from claimdesk.core import clock, db, demo, schema
from claimdesk.core.context import as_user

#: The default demo clinic (scale 1: over 200 patients, 18 months).
DEFAULT = {"seed": demo.DEFAULT_SEED, "scale": 1.0}
#: Tests work on the demo's "today", late in the afternoon (after the day's visits and remits).
NOW = dt.datetime.combine(demo.DEFAULT_TODAY, dt.time(16, 45))

_templates: dict[tuple, tuple[Path, dict]] = {}


def template(tmp_path_factory, **params) -> tuple[Path, dict]:
    """The template database file for ``params`` (default :data:`DEFAULT`) and the build summary.

    Built on first use in this session, then reused.
    """
    params = params or DEFAULT
    key = tuple(sorted(params.items()))
    if key not in _templates:
        path = tmp_path_factory.mktemp("demo-template") / "demo.db"
        db.connect(str(path))
        try:
            schema.upgrade()
            summary = demo.build(**params)
        finally:
            db.close()  # the last connection checkpoints the WAL: the file alone is the database
        _templates[key] = (path, summary)
    return _templates[key]


@contextlib.contextmanager
def opened_copy(template_path: Path, directory: Path, *, user: str = demo.CLERK, now: dt.datetime = NOW):
    """Copy the template into ``directory``, connect to the copy, work as ``user`` at ``now``."""
    path = Path(directory) / "demo-copy.db"
    shutil.copyfile(template_path, path)
    db.connect(str(path))
    try:
        with as_user(user), clock.frozen(now):
            yield path
    finally:
        db.close()
