"""One install serving several clerks on one machine (issues 18 and 19), as README "Several
clerks on one machine" sets it up: a group owns the clinic's folder (setgid), the database made
there is shared with the group, each clerk works under their own OS account and is recorded as
that login whatever they claim; someone outside the group cannot even open the database.

Each clerk is a child process that takes the clerk's user and group ids (os.setuid after fork,
as sshd does for a login), the code already loaded: needs root to create the accounts."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from claimdesk.core import db
from claimdesk.core.cli import build_parser, main
from claimdesk.core.models import AuditEvent, User

GROUP, CLERKS, OUTSIDER = "cdclerks", ("cdann", "cdbo"), "cdmallory"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("useradd"),
                                reason="creating OS accounts needs root and useradd")


def ensure_accounts() -> None:
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        os.system(f"groupadd {GROUP}")
    for name in (*CLERKS, OUTSIDER):
        try:
            pwd.getpwnam(name)
        except KeyError:
            os.system(f"useradd --no-create-home --shell /usr/sbin/nologin {name}")
    for name in CLERKS:
        os.system(f"usermod -aG {GROUP} {name}")


def as_login(name: str, *argv: str, env: dict) -> tuple[int, str]:
    """``claimdesk argv`` in a child process running as OS user ``name``; exit code, stderr."""
    account = pwd.getpwnam(name)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: become the clerk, as a login does, then run the command
        code = 99
        try:
            os.close(read)
            os.setgroups(os.getgrouplist(name, account.pw_gid))
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
            os.environ.clear()
            os.environ.update(env, HOME=tempfile.gettempdir(), USER="admin", LOGNAME="admin")  # (claims, ignored)
            sys.stderr = os.fdopen(write, "w")
            code = main(list(argv))
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as errors:
        err = errors.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), err


def test_one_install_several_clerks_each_recorded_as_their_login():
    ensure_accounts()
    build_parser()  # every command module loaded before a child drops root
    top = Path(tempfile.mkdtemp(prefix="cd-clinic-"))
    os.chmod(top, 0o755)
    shared = top / "clinic"
    shared.mkdir()
    os.chown(shared, 0, grp.getgrnam(GROUP).gr_gid)
    os.chmod(shared, 0o2770)
    config = shared / "config.toml"
    config.write_text(f'db = "{shared / "clinic.db"}"\n[exports]\ndir = "{shared / "exports"}"\n', encoding="utf-8")
    os.chmod(config, 0o640)
    os.chown(config, 0, grp.getgrnam(GROUP).gr_gid)
    env = {"CLAIMDESK_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    try:
        old = os.environ.get("CLAIMDESK_CONFIG")
        os.environ["CLAIMDESK_CONFIG"] = str(config)
        try:  # the clinic's administrator (root here) sets it up and adds the clerks
            assert main(["init"]) == 0
            for name in CLERKS:
                assert main(["users", "add", name, "--role", "clerk"]) == 0
        finally:
            os.environ.pop("CLAIMDESK_CONFIG") if old is None else os.environ.update(CLAIMDESK_CONFIG=old)
        assert (shared / "clinic.db").stat().st_mode & 0o777 == 0o660  # shared with the group, no one else

        for name in CLERKS:
            code, err = as_login(name, "voucher", "create", "--payer", "1", "--method", "cash", "--amount", "3.00",
                                 env=env)
            assert code == 0, err
        code, err = as_login(CLERKS[0], "--user", "root", "users", "add", "eve", "--role", "admin", env=env)
        assert code == 2 and "--user is not an option" in err
        code, err = as_login(OUTSIDER, "users", "list", env=env)
        assert code == 2 and "config.toml" in err and "Permission denied" in err  # not in the group
        outside_config = top / "no-config.toml"  # (an empty config the outsider can read)
        outside_config.write_text("", encoding="utf-8")
        os.chmod(outside_config, 0o644)
        env_outside = {**env, "CLAIMDESK_CONFIG": str(outside_config)}
        code, err = as_login(OUTSIDER, "--db", str(shared / "clinic.db"), "users", "list", env=env_outside)
        assert code == 5 and "clinic.db" in err  # nor the database

        db.connect(str(shared / "clinic.db"))
        try:
            vouchers = [e.user for e in AuditEvent.select().where(AuditEvent.action == "voucher.create")]
            assert vouchers == list(CLERKS)
            assert User.select().where(User.username == "eve").count() == 0
        finally:
            db.close()
    finally:
        shutil.rmtree(top)
