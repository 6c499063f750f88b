"""The database: one peewee proxy, SQLite (WAL) by default, PostgreSQL by URL.

Write transactions take the lock up front: ``BEGIN IMMEDIATE`` on SQLite (so two
clerks never deadlock upgrading a read lock) and row locks on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "normal",
    "cache_size": -64_000,
}


class StorageError(RuntimeError):
    """The database cannot be opened or used as asked."""


def make_database(url: str) -> peewee.Database:
    """Build a peewee database from a path or URL (sqlite:///x, postgresql://...)."""
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlparse(url)
        return peewee.PostgresqlDatabase(
            unquote(parts.path.lstrip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname or None,
            port=parts.port,
            prefer_psycopg3=True,
            autoconnect=True,
        )
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
    elif url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
    else:
        path = url
    if path != ":memory:":
        p = Path(path).expanduser()
        p.parent.mkdir(parents=True, exist_ok=True)
        if not p.exists():
            # Created readable by its owner only: it holds patient data.
            fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        path = str(p)
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")


def connect(url: str) -> peewee.Database:
    """Point the proxy at ``url`` and open a connection."""
    db = make_database(url)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        raise StorageError(f"cannot open database {redact(url)}: {exc}") from None
    return db


def close() -> None:
    """Close the current connection if any."""
    obj = database.obj
    if obj is not None and not obj.is_closed():
        obj.close()


def is_postgres() -> bool:
    """True when the proxy points at PostgreSQL."""
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def redact(url: str) -> str:
    """A URL safe to print: the password hidden."""
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("database is locked", "could not serialize", "deadlock detected", "busy"))


@contextlib.contextmanager
def write_transaction():
    """One atomic write: BEGIN IMMEDIATE on SQLite; nested blocks become savepoints."""
    with database.atomic() as txn:
        yield txn


def run_in_transaction(fn, *args, attempts: int = 5, **kwargs):
    """Call ``fn`` inside :func:`write_transaction`, retrying on lock conflicts.

    Only the outermost call retries; a conflict inside an outer transaction is
    raised to it.
    """
    if database.obj.transaction_depth() > 0:
        with write_transaction():
            return fn(*args, **kwargs)
    for attempt in range(attempts):
        try:
            with write_transaction():
                return fn(*args, **kwargs)
        except (peewee.OperationalError, peewee.InternalError) as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            time.sleep(0.01 * (2 ** attempt) + random.random() * 0.01)
    raise AssertionError("unreachable")  # pragma: no cover
