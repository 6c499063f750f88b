"""Start `claimdesk`'s app the way an SSH session would: a pseudo-terminal of 80x24,
TERM=xterm-256color, no COLORTERM; read the first screen, then quit with q."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from claimdesk.core import db, migrations, users
from claimdesk.core.context import as_user

from tests.tui import scenario
from tests.conftest import empty_config

WANTED = ("Work queues", "Denied", "Workflows", "Advanced Actions", "Payer checks")


def read_until(fd: int, proc, wanted: tuple[str, ...], limit: float = 60.0) -> str:
    """Read the terminal output until every ``wanted`` text was drawn (or the process ended)."""
    out = b""
    deadline = time.monotonic() + limit  # a guard against hanging, not a timing assertion
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            text = out.decode("utf-8", "replace")
            if all(w in text for w in wanted):
                return text
        elif proc.poll() is not None:
            break
    return out.decode("utf-8", "replace")


def drain_until_exit(fd: int, proc, limit: float = 60.0) -> None:
    """Keep reading the terminal while the app shuts down, so its last writes never block."""
    deadline = time.monotonic() + limit  # a guard against hanging, not a timing assertion
    while proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                if not os.read(fd, 65536):
                    return
            except OSError:
                return


def claimdesk_command() -> list[str]:
    """The installed console script when there is one (as a clerk runs it), else the module."""
    script = Path(sys.executable).with_name("claimdesk")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from claimdesk.tui.app import main; main()"]


def test_first_screen_over_a_pseudo_terminal(db_url, tmp_path):
    db.connect(db_url)
    migrations.upgrade()
    users.bootstrap("tester", "clerk")
    with as_user("tester"):
        scenario.build()
    db.close()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLORTERM", "TEXTUAL", "NO_COLOR")}
    env.update(TERM="xterm-256color", LANG="C.UTF-8", CLAIMDESK_DB=db_url,
               CLAIMDESK_NOW=f"{scenario.TODAY.isoformat()}T09:00:00",
               CLAIMDESK_CONFIG=empty_config(tmp_path))
    proc = subprocess.Popen(claimdesk_command(),
                            stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                            start_new_session=True)
    os.close(slave)
    try:
        first = read_until(master, proc, WANTED)
        for text in WANTED:
            assert text in first, f"{text!r} not drawn; got {first[-2000:]!r}"
        assert "Traceback" not in first
        os.write(master, b"q")
        drain_until_exit(master, proc)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_the_app_sets_up_a_brand_new_database_as_init_does(db_url):
    """A clinic starts in the app alone: an empty database gets the schema, and the person
    starting the app is its first admin (as `claimdesk init` makes its runner)."""
    from claimdesk.core import migrations
    from claimdesk.core.config import Settings
    from claimdesk.core.models import User
    from claimdesk.tui.app import prepare

    try:
        prepare(Settings(db_url=db_url, user="founder", user_given=True))  # (in-process: not the db role)
        assert migrations.current_version() == migrations.CURRENT_VERSION
        assert [(u.username, u.role) for u in User.select()] == [("founder", "admin")]
    finally:
        db.close()


def test_run_refuses_an_older_schema_in_one_line(db_url, capsys):
    from claimdesk.core import migrations
    from claimdesk.core.config import Settings
    from claimdesk.tui.app import run

    from claimdesk.core import clock
    from claimdesk.core.models import SchemaVersion

    db.connect(db_url)
    try:  # steps 1 to 7 (as in tests/test_schema_v7.py): one version behind
        for version in range(1, migrations.CURRENT_VERSION):
            with db.write_transaction():
                migrations.MIGRATIONS[version]()
                SchemaVersion.create(version=version, upgraded_at=clock.now())
    finally:
        db.close()
    try:
        code = run(Settings(db_url=db_url, user="tester"))
    finally:
        db.close()
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"claimdesk: the database schema is at version {migrations.CURRENT_VERSION - 1}")
    assert "claimdesk db upgrade" in err and "Traceback" not in err
