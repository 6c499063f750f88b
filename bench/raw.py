"""A thin raw-driver connection (sqlite3 or psycopg) for the hand-written SQL baselines.

SQL is written once with ``?`` placeholders; on PostgreSQL they become ``%s``.
No ORM, no claimdesk code: this is what the same work costs at the driver level.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import unquote, urlparse


def is_pg_url(url: str) -> bool:
    """True for a postgresql:// URL."""
    return url.startswith(("postgres://", "postgresql://"))


#: A PostgreSQL column type -> the array type :meth:`Raw.insert` sends its values as (else TEXT).
_ARRAY_TYPES = {"bigint": "BIGINT", "integer": "BIGINT", "smallint": "BIGINT", "boolean": "BOOLEAN", "date": "DATE",
                "timestamp without time zone": "TIMESTAMP"}


class Raw:
    """One connection; :meth:`q` runs a statement and returns all rows (or [])."""

    def __init__(self, url: str):
        self.pg = is_pg_url(url)
        if self.pg:
            import psycopg

            p = urlparse(url)
            self.conn = psycopg.connect(host=p.hostname, port=p.port, dbname=p.path.lstrip("/"),
                                        user=unquote(p.username or ""), autocommit=True)
        else:
            self.conn = sqlite3.connect(url, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=wal", "foreign_keys=1", "busy_timeout=10000",
                           "synchronous=normal", "cache_size=-64000"):
                self.conn.execute(f"PRAGMA {pragma}")
        self.cur = self.conn.cursor()

    def sql(self, text: str) -> str:
        """The statement in this driver's placeholder style."""
        return text.replace("?", "%s") if self.pg else text

    def q(self, text: str, params=()) -> list[tuple]:
        """Execute and fetch all rows (empty list for statements without rows)."""
        self.cur.execute(self.sql(text), params)
        return self.cur.fetchall() if self.cur.description else []

    def one(self, text: str, params=()):
        """The first column of the first row (None when there is no row)."""
        rows = self.q(text, params)
        return rows[0][0] if rows else None

    def many(self, text: str, seq) -> None:
        """executemany."""
        self.cur.executemany(self.sql(text), seq)

    def insert(self, table: str, cols: tuple[str, ...], rows: list[tuple], returning: bool = True) -> list[int]:
        """Insert ``rows`` into ``table``; the new ids in row order (or [] without ``returning``).

        SQLite: multi-row ``VALUES``, chunked under its variable limit. PostgreSQL (two rows or
        more): one statement of one array parameter per column (``INSERT ... SELECT ... FROM
        unnest(...) WITH ORDINALITY``), each array of its column's type in the catalog: a few
        parameters instead of tens of thousands for the driver to adapt and the server to parse.
        """
        if not self.pg or len(rows) < 2:
            return self._values_insert(table, cols, rows, returning)
        known = self._array_types(table)
        kinds = [known[column.strip('"')] for column in cols]  # (a keyword column comes quoted: "user")
        arrays = []
        for kind, values in zip(kinds, zip(*rows)):
            if kind == "BIGINT":  # (plain ints: psycopg types a list by its elements, Cents included)
                values = [None if v is None else int(v) for v in values]
            arrays.append(list(values))
        names = ", ".join(f"c{i}" for i in range(len(cols)))
        source = ", ".join(f"CAST(? AS {kind}[])" for kind in kinds)
        got = self.q(f'INSERT INTO "{table}" ({", ".join(cols)}) SELECT {names} FROM unnest({source}) '
                     f"WITH ORDINALITY AS u({names}, n) ORDER BY n" + (" RETURNING id" if returning else ""), arrays)
        return sorted(r[0] for r in got)

    def _values_insert(self, table: str, cols: tuple[str, ...], rows: list[tuple], returning: bool) -> list[int]:
        out: list[int] = []
        per = max(1, 30_000 // len(cols))
        one = "(" + ", ".join(["?"] * len(cols)) + ")"
        for start in range(0, len(rows), per):
            part = rows[start:start + per]
            sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ' + ", ".join([one] * len(part))
            got = self.q(sql + (" RETURNING id" if returning else ""), [v for row in part for v in row])
            out += sorted(r[0] for r in got)
        return out

    def _array_types(self, table: str) -> dict[str, str]:
        """PostgreSQL: each column of ``table`` -> the type of the array it is inserted from."""
        cache = self.__dict__.setdefault("_types", {})
        if table not in cache:
            rows = self.q("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                          "AND table_schema = current_schema()", (table,))
            cache[table] = {name: _ARRAY_TYPES.get(kind, "TEXT") for name, kind in rows}
        return cache[table]

    def begin(self) -> None:
        """Start a write transaction (BEGIN IMMEDIATE on SQLite, like the core)."""
        self.cur.execute("BEGIN" if self.pg else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the transaction."""
        self.cur.execute("COMMIT")

    def rollback(self) -> None:
        """Roll the transaction back."""
        self.cur.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()
