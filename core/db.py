"""The database: one peewee proxy, SQLite (WAL) by default, PostgreSQL by URL.

Write transactions take the lock up front: ``BEGIN IMMEDIATE`` on SQLite (so two
clerks never deadlock upgrading a read lock) and row locks on PostgreSQL.

peewee imports the PostgreSQL driver (psycopg) when it is itself imported, which
costs a SQLite desk ~0.1 s at every start. When this module is the first to import
peewee, it keeps psycopg out; :func:`make_database` hands the driver to peewee the
first time a PostgreSQL URL is used (:func:`_pg_driver`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import contextvars
import json
import os
import stat
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from claimdesk.core import writer_queue


def _import_peewee():
    """Import peewee without its eager ``import psycopg`` (see :func:`_pg_driver`)."""
    if "peewee" in sys.modules or "psycopg" in sys.modules:
        import peewee

        return peewee
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # makes peewee's `import psycopg` fail
    try:
        import peewee
    finally:
        if sys.modules.get("psycopg", False) is None:
            del sys.modules["psycopg"]
    return peewee


peewee = _import_peewee()


def _pg_driver() -> None:
    """Give peewee psycopg (3) if it was kept out at import: the module globals and the
    adapter constants peewee 4.5 sets when psycopg imports with it (tests/test_startup.py
    checks them). A missing driver is left to peewee to report when it connects."""
    if getattr(peewee, "psycopg", None) is not None:
        return
    try:
        import psycopg
        from psycopg.pq import TransactionStatus
        from psycopg.types.json import Json, Jsonb
    except ImportError:
        return
    peewee.TransactionStatus = TransactionStatus
    peewee.Json_pg3, peewee.Jsonb_pg3 = Json, Jsonb
    adapter = peewee.Psycopg3Adapter
    adapter.txn_idle = TransactionStatus.IDLE
    adapter.txn_inerror = TransactionStatus.INERROR
    adapter.txn_unknown = TransactionStatus.UNKNOWN
    peewee.psycopg = psycopg  # last: it is what peewee checks


class _NoParameters:
    """A filter for peewee's logger: peewee logs each statement as ``(sql, params)`` at
    DEBUG, and parameters are patient data (a name searched for, a date of birth). The
    statement stays; the parameters become their count."""

    @staticmethod
    def filter(record) -> bool:
        msg = record.msg
        if isinstance(msg, tuple) and len(msg) == 2 and isinstance(msg[0], str):
            params = msg[1]
            record.msg = (msg[0], f"<{len(params) if params else 0} parameters>")
        return True


peewee.logger.addFilter(_NoParameters())

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


class ReadOnlyError(StorageError):
    """A change asked of a database this user may read but not write (:func:`make_database`
    opened it read-only): lookups, reports and ``verify`` work; every write is refused with this."""

    def __init__(self, path: str):
        super().__init__(f"the database is read-only for you: {path} (lookups, reports and verify work; "
                         "to make changes, ask whoever keeps it for write access to the file and its folder)")
        self.path = path


#: The pragmas of a read-only SQLite connection: nothing that writes (WAL mode is the file's own).
SQLITE_READONLY_PRAGMAS = {"foreign_keys": 1, "busy_timeout": 10_000, "cache_size": -64_000, "query_only": 1}


def _sqlite_read_only_uri(p: Path) -> str | None:
    """A read-only URI (``file:...?mode=ro``) for the SQLite file ``p`` when this user may read it
    but not write it: the file is not writable, or its folder is not and the ``-wal``/``-shm``
    files a WAL database writes are not there to write. ``immutable=1`` when not even the
    ``-shm`` file can be made (a read-only folder): SQLite then reads the file as it is, without
    locks. None when the file can be written (or cannot be read: connecting says so)."""
    from urllib.parse import quote

    if not os.access(p, os.R_OK):
        return None
    folder = os.access(p.parent, os.W_OK | os.X_OK)
    if os.access(p, os.W_OK) and (folder or all(os.access(f"{p}{s}", os.W_OK) for s in ("-wal", "-shm"))):
        return None
    immutable = not folder and not os.path.exists(f"{p}-shm")
    return f"file:{quote(str(p))}?mode=ro" + ("&immutable=1" if immutable else "")


def make_database(url: str) -> peewee.Database:
    """Build a peewee database from a path or URL (sqlite:///x, postgresql://...); refused: an
    empty one, and a URL of another kind of database (``mysql://...`` is not a file name)."""
    if not url.strip():
        raise StorageError("the database is empty: give a SQLite file or a postgresql:// URL (--db, CLAIMDESK_DB "
                           "or the config's db)")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", url)
    if scheme and scheme.group(1).lower() not in ("postgres", "postgresql", "sqlite"):
        raise StorageError(f"{scheme.group(1)}:// is not a database claimdesk works with: give a SQLite file "
                           "or a postgresql:// URL")
    if url.startswith(("postgres://", "postgresql://")):
        _pg_driver()
        parts = urlparse(url)
        try:
            parts.port  # noqa: B018 - (urlparse checks the port only when asked)
        except ValueError:
            raise StorageError(f"the port in {redact(url)} is not a port number (1 to 65535)") from None
        return _Postgres(
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
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            if not p.exists():
                # Created readable by its owner only: it holds patient data; in a folder shared
                # with a group (setgid: the clinic's clerks, docs/reliability.md), by that group too.
                shared = p.parent.stat().st_mode & stat.S_ISGID
                fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
                try:
                    os.fchmod(fd, 0o660 if shared else 0o600)  # (exactly: the umask does not apply)
                finally:
                    os.close(fd)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(p) else ""
            raise StorageError(f"cannot create the database file {p}: {reason}{where}") from None
        path = str(p)
        read_only = _sqlite_read_only_uri(p)
        if read_only:
            ro = peewee.SqliteDatabase(read_only, pragmas=SQLITE_READONLY_PRAGMAS, lock_type="IMMEDIATE", uri=True)
            ro.read_only_path = path  # (write_transaction refuses with ReadOnlyError naming it)
            return _with_functions(ro)
    return _with_functions(peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE"))


#: SQLite: the name of the SQL function that lower-cases text in every alphabet (see
#: :func:`_with_functions`); PostgreSQL's ``lower`` does so itself.
UNICODE_LOWER = "claimdesk_lower"


def _unicode_lower(text):
    return text.lower() if isinstance(text, str) else text


#: SQLite: the name of the SQL function giving a name's :func:`claimdesk.core.letters.sort_key`
#: (see :func:`name_order`).
NAME_SORT_KEY = "claimdesk_name_key"


def _name_sort_key(text):
    from claimdesk.core.letters import sort_key

    return sort_key(text) if isinstance(text, str) else text


def _with_functions(sqlite: peewee.SqliteDatabase) -> peewee.SqliteDatabase:
    """``sqlite`` with claimdesk's SQL functions on each of its connections: :data:`UNICODE_LOWER`
    (SQLite's own ``lower`` leaves every letter outside A-Z as it is, so "Élodie" stayed
    "Élodie" and a search for it found nothing) and :data:`NAME_SORT_KEY` (:func:`name_order`)."""
    sqlite.register_function(_unicode_lower, UNICODE_LOWER, 1, deterministic=True)
    sqlite.register_function(_name_sort_key, NAME_SORT_KEY, 1, deterministic=True)
    return sqlite


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


def sql(template: str, params=()):
    """Run raw SQL written with ``{p}`` for each parameter (the driver's placeholder is
    filled in: ``?`` on SQLite, ``%s`` on PostgreSQL); the cursor. For the hot paths
    where building the query with peewee would cost more than running it."""
    return database.execute_sql(template.replace("{p}", database.obj.param), params)


#: Longest id list :func:`ids_in` writes inline on SQLite; a longer one goes as one JSON parameter.
_INLINE_IDS = 2000


def ids_in(ids: list[int]) -> tuple[str, list]:
    """SQL matching a column against ``ids`` (``WHERE col <that>``), and its parameters.

    PostgreSQL gets one array parameter: psycopg rewrites a query's ``%s`` marks in Python,
    ~10 ms for a list of 2,000 (a returned check of 10,001 entries spent 0.6-1.3 s there), and
    adapts a list element by element, so the array goes as one literal (:func:`pg_array`). The
    array is read through ``ARRAY(SELECT unnest(...))``, which the planner cannot see into: it
    plans for a few ids, so each is looked up by its index. Given the array itself it multiplies
    the ids by its statistics' guess of rows per id, which clustered columns make far too high
    (``posting.entry_id``: 31 postings an entry where there are 4.6), and for a few thousand ids
    it read whole tables instead: a returned check's digest merge-joined every journal entry
    (0.5 s at 1M charges, five times that at 5M), its encounters scanned every charge.
    SQLite gets an inline ``IN`` list up to 2,000 ids, beyond that one ``json_each`` parameter
    (under its variable limit at any length).
    """
    ids = list(ids)
    if is_postgres():
        return "= ANY(ARRAY(SELECT unnest(CAST({p} AS BIGINT[]))))", [pg_array(ids, "BIGINT")]
    if len(ids) > _INLINE_IDS:
        return "IN (SELECT value FROM json_each({p}))", [json.dumps(ids)]
    return "IN (" + ", ".join(["{p}"] * len(ids)) + ")", ids


def texts_in(values: list[str]) -> tuple[str, list]:
    """As :func:`ids_in`, for text values (claim numbers, member ids...)."""
    values = list(values)
    if is_postgres():
        return "= ANY(CAST({p} AS TEXT[]))", [pg_array(values, "TEXT")]
    if len(values) > _INLINE_IDS:
        return "IN (SELECT value FROM json_each({p}))", [json.dumps(values)]
    return "IN (" + ", ".join(["{p}"] * len(values)) + ")", values


def _quoted(value) -> str:
    text = str(value)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_BOOLEAN_ELEMENTS = {True: "t", False: "f", None: "NULL"}


def pg_array(values, kind: str) -> str:
    """``values`` as a PostgreSQL array literal (``{1,NULL,3}``, ``{"a","b"}``) for a
    ``CAST({p} AS <kind>[])`` parameter; TypeError for a value it has no exact literal for
    (not an integer in an integer array, a time zone aware date-time).

    psycopg adapts a list parameter element by element in Python (a regular expression per
    text element): for the tens of thousands of rows of an ERA it cost more than the
    statements. Integers (an int subclass such as Cents as its value) go through ``str`` of
    the list, every other element quoted once per distinct value; None is NULL."""
    if kind == "BIGINT":
        ints = [v if v is None or type(v) is int else _integer(v) for v in values]
        return "{" + str(ints)[1:-1].replace("None", "NULL") + "}"
    if kind == "BOOLEAN":
        return "{" + ",".join([_BOOLEAN_ELEMENTS[None if v is None else bool(v)] for v in values]) + "}"
    values = list(values)
    distinct = set(values)
    if kind != "TEXT" and any(getattr(v, "tzinfo", None) is not None for v in distinct):
        raise TypeError(f"{kind}: a time zone aware value")  # (psycopg's own adaptation converts it)
    element = {v: "NULL" if v is None else _quoted(v) for v in distinct}
    return "{" + ",".join(map(element.__getitem__, values)) + "}"


def _integer(value) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return int(value)


def session_user() -> str:
    """The role the PostgreSQL connection authenticated as (``session_user``)."""
    return database.execute_sql("SELECT session_user").fetchone()[0]


def is_postgres() -> bool:
    """True when the proxy points at PostgreSQL."""
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def contains_text(column, text: str):
    """SQL condition: ``column`` contains ``text``, upper and lower case the same letter in every
    alphabet, a typed ``%``, ``_`` or ``\\`` matched as itself (never a wildcard). What a clerk's
    search box means; every search that looks for typed text inside a column uses it.

    PostgreSQL: ``lower(column) LIKE lower(pattern)``, both sides lowered by the server (so they
    agree on every letter), the form its trigram indexes (``LOWER(column) gin_trgm_ops``) serve;
    ``ILIKE`` on lowered texts found the same rows at twice the cost a row (it folds case again,
    letter by letter). SQLite: its ``LOWER`` folds A-Z only, so for a text with any other letter
    the column goes through :data:`UNICODE_LOWER` (Python's, slower a row: only then)."""
    low = text.lower()
    pattern = "%" + low.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    if is_postgres():  # (backslash is LIKE's escape there by default)
        return peewee.Expression(peewee.fn.LOWER(column), peewee.OP.LIKE, peewee.fn.LOWER(peewee.Value(pattern)))
    lower = peewee.fn.LOWER if low.isascii() else getattr(peewee.fn, UNICODE_LOWER)
    return peewee.Expression(lower(column), peewee.OP.ILIKE,  # (peewee writes SQLite's LIKE so; its LIKE is GLOB)
                             peewee.NodeList((peewee.Value(pattern), peewee.SQL("ESCAPE '\\'"))))


#: PostgreSQL: the collation that orders names by their letters (ICU's root collation).
NAME_COLLATION = "und-x-icu"


def name_order(*columns) -> list:
    """ORDER BY terms putting rows in the alphabetical order of the names in ``columns`` (last
    name, then first name...), the order :func:`claimdesk.core.letters.sort_key` gives: by the
    letters, case and accents aside, on both engines; every list of people by name uses it.

    PostgreSQL: each column in ICU's root collation (:data:`NAME_COLLATION`; a server built
    without ICU: lowered, which leaves accents in the byte order). SQLite: each column's sort
    key (:func:`_sqlite_name_key`), then the columns themselves, so names with the same letters
    still come in one order."""
    if is_postgres():
        collation = pg_name_collation()
        if collation is None:
            return [peewee.fn.LOWER(c) for c in columns] + list(columns)
        return [peewee.NodeList((c, peewee.SQL(f'COLLATE "{collation}"'))) for c in columns]
    return [_sqlite_name_key(c) for c in columns] + list(columns)


def _sqlite_name_key(column):
    """SQLite: ``column``'s sort key; SQLite's own ``lower`` for a name in printable ASCII (the
    same key, no call into Python a row: most names), :data:`NAME_SORT_KEY` for the others."""
    beyond_ascii = peewee.Expression(column, "GLOB", peewee.Value("*[^ -~]*"))
    return peewee.Case(None, [(beyond_ascii, getattr(peewee.fn, NAME_SORT_KEY)(column))], peewee.fn.LOWER(column))


def pg_name_collation() -> str | None:
    """PostgreSQL: :data:`NAME_COLLATION` when this server has it (built with ICU; asked once a
    connection), else None."""
    conn = database.obj
    if not hasattr(conn, "_claimdesk_name_collation"):
        found = sql("SELECT 1 FROM pg_collation WHERE collname = {p}", [NAME_COLLATION]).fetchone()
        conn._claimdesk_name_collation = NAME_COLLATION if found else None
    return conn._claimdesk_name_collation


def redact(url: str) -> str:
    """A URL safe to print: the password hidden."""
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _sqlite_file() -> str | None:
    """The file of the SQLite database in use (None: PostgreSQL, or in memory)."""
    obj = database.obj
    if isinstance(obj, peewee.SqliteDatabase) and obj.database not in ("", ":memory:") \
            and not str(obj.database).startswith("file:"):
        return obj.database
    return None


def _retryable(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("database is locked", "could not serialize", "deadlock detected", "busy"))


_tx_cache: contextvars.ContextVar[dict | None] = contextvars.ContextVar("tx_cache", default=None)


@contextlib.contextmanager
def write_transaction():
    """One atomic write: BEGIN IMMEDIATE on SQLite; nested blocks become savepoints. On a database
    this user may only read, :class:`ReadOnlyError` naming it."""
    if getattr(database.obj, "read_only_path", None):
        raise ReadOnlyError(database.obj.read_only_path)
    outermost = database.obj.transaction_depth() == 0
    token = _tx_cache.set({}) if outermost else None
    try:
        with writer_queue.turn(_sqlite_file() if outermost else None), database.atomic() as txn:
            yield txn
    finally:
        if token is not None:
            _tx_cache.reset(token)


def transaction_cache() -> dict:
    """A dict that lives as long as the outermost :func:`write_transaction` (a fresh,
    throwaway one outside it): for rows a workflow reads more than once and that its
    own transaction keeps still, such as today's daysheet."""
    cache = _tx_cache.get()
    return cache if cache is not None else {}


def insert_returning(model, names: tuple[str, ...], rows: list[tuple], returning: str,
                     *, chunk: int = 2000) -> list[tuple]:
    """Multi-row ``INSERT`` of ``rows`` (db values, in ``names`` order) into ``model``'s
    table, in chunks under the drivers' parameter limits; the ``RETURNING`` rows."""
    table = model._meta.table_name
    cols = ", ".join(f'"{model._meta.fields[n].column_name}"' for n in names)  # (quoted: "user" is a keyword)
    one = "(" + ", ".join(["{p}"] * len(names)) + ")"
    out: list[tuple] = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        params = [v for row in part for v in row]
        out += sql(f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([one] * len(part))
                   + f" RETURNING {returning}", params).fetchall()
    return out


def pipelined(*statements: tuple[str, object]) -> list:
    """PostgreSQL: run ``statements`` (SQL written as for :func:`sql`, parameters), in order,
    sent together without waiting for each one's result (psycopg's pipeline mode); their
    cursors, every result in (rows to fetch, ``rowcount``). Each statement still runs on its
    own, with its own view of what is committed. Errors are peewee's, as :func:`sql` raises
    them (a failed statement's error; the ones after it are not run)."""
    conn = database.obj.connection()
    with peewee.__exception_wrapper__, conn.pipeline() as pipe:
        cursors = [conn.execute(text.replace("{p}", "%s"), params) for text, params in statements]
        pipe.sync()
    return cursors


class _Postgres(peewee.PostgresqlDatabase):
    """PostgreSQL through psycopg. A workflow's transaction may end with its last statement (the
    audit event's append sends ``COMMIT`` in the same pipeline, :func:`claimdesk.core.workflow.run`):
    peewee's own ``COMMIT`` (or ``ROLLBACK``) at the end of the block then has nothing to end,
    and is not sent."""

    def _ended(self) -> bool:
        from psycopg.pq import TransactionStatus

        conn = self._state.conn
        return conn is not None and conn.info.transaction_status == TransactionStatus.IDLE

    def commit(self):
        if not self._ended():
            super().commit()

    def rollback(self):
        if not self._ended():
            super().rollback()


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
        except (peewee.OperationalError, peewee.InternalError, writer_queue.QueueTimeout) as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            time.sleep(0.01 * (2 ** attempt) + random.random() * 0.01)
    raise AssertionError("unreachable")  # pragma: no cover


class _RolledBack(Exception):
    """Carries :func:`rolled_back`'s result out of the transaction it rolls back."""

    def __init__(self, value):
        super().__init__("rolled back")
        self.value = value


def rolled_back(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``'s result, with nothing it wrote kept: it runs in
    :func:`run_in_transaction` (a savepoint inside an outer transaction), which is then rolled
    back. What ``fn`` raises is raised (rolled back too). For previews and dry runs that do the
    real work and show what it would do."""
    def body():
        raise _RolledBack(fn(*args, **kwargs))

    try:
        run_in_transaction(body)
    except _RolledBack as done:
        return done.value
    raise AssertionError("unreachable")  # pragma: no cover


def date_of(value):
    """A date column's value as a ``date`` (raw SQL on SQLite gives its ISO text, maybe with a
    time after it); None stays None."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
