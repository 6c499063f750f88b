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
