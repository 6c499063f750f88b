"""A throwaway PostgreSQL server for the test session, in a temporary directory.

The suite starts its own server (initdb + pg_ctl) on a free local port, with
durability switched off (fsync, full-page writes) because the data dies with the
session. Each test gets its own database cloned from an upgraded template, so a
test on PostgreSQL starts as clean as one on a fresh SQLite file.

When the binaries are missing the PostgreSQL variants are skipped with the
reason; under ``CI=true`` that is a failure instead (CI must test both).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

TEMPLATE = "claimdesk_template"


def find_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl (PATH first, then Debian's layout)."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`new_database` gives a URL."""

    def __init__(self, bindir: Path, root: Path | None = None, settings: dict[str, str] | None = None):
        """A server in a new temporary directory, removed by :meth:`stop`; or, given ``root``,
        a cluster kept there between runs (made by the first :meth:`start`, left by :meth:`stop`).
        ``settings``: server settings beyond the defaults (``{"shared_buffers": "4GB"}``)."""
        self.bindir = bindir
        self.settings = dict(settings or {})
        self.port = _free_port()
        self.keep = root is not None
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.root = Path(root) if root is not None else Path(tempfile.mkdtemp(prefix="claimdesk-pg-"))
        self.data = self.root / "data"
        self._seq = itertools.count(1)
        self._run_as = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use the postgres account
            self._run_as = pwd.getpwnam("postgres")
            os.chown(self.root, self._run_as.pw_uid, self._run_as.pw_gid)

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self._run_as is not None:
            uid, gid = self._run_as.pw_uid, self._run_as.pw_gid
            kwargs["user"], kwargs["group"], kwargs["extra_groups"] = uid, gid, []
        return subprocess.run(args, check=check, capture_output=True, text=True, cwd=self.root, **kwargs)

    def url(self, name: str) -> str:
        return f"postgresql://claimdesk@127.0.0.1:{self.port}/{name}"

    def start(self) -> "PgServer":
        made = not (self.data / "PG_VERSION").exists()
        if made:
            self._cmd(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "claimdesk", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8")
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{self.root}' "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
                + "".join(f" -c {k}={v}" for k, v in self.settings.items()))
        self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.root / "server.log"), "-w", "start")
        if made:
            self.sql("postgres", f"CREATE DATABASE {TEMPLATE}")
        self._upgrade_template()
        return self

    def _upgrade_template(self) -> None:
        from claimdesk.core import db, migrations

        db.connect(self.url(TEMPLATE))
        migrations.upgrade()
        db.close()

    def sql(self, dbname: str, statement: str) -> None:
        """Run one statement with autocommit (CREATE/DROP DATABASE need it)."""
        import psycopg

        with psycopg.connect(self.url(dbname), autocommit=True) as conn:
            conn.execute(statement)

    def new_database(self, *, upgraded: bool = True) -> str:
        """A fresh database: cloned from the upgraded template, or empty."""
        name = f"t{next(self._seq)}"
        self.sql("postgres", f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if upgraded else ""))
        return self.url(name)

    def clone(self, source_url: str) -> str:
        """A new database copied from the database at ``source_url`` (which must have no open
        connection): ``CREATE DATABASE ... TEMPLATE``, a file-level copy, fast for a big demo."""
        name = f"t{next(self._seq)}"
        self.sql("postgres", f"CREATE DATABASE {name} TEMPLATE {source_url.rsplit('/', 1)[1]}")
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a database made by :meth:`new_database` or :meth:`clone` (no open connection)."""
        self.sql("postgres", f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]}")

    def stop(self) -> None:
        """Stop the server; a temporary one's files go with it, a kept cluster is shut down cleanly."""
        self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast" if self.keep else "immediate",
                  "stop", check=False)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def has_database(self, name: str) -> bool:
        """Whether the server holds a database called ``name``."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
