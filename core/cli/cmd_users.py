"""User commands: ``users add``, ``users list``, ``users deactivate`` (admins only), ``users passwd``."""

from __future__ import annotations

from claimdesk.core import users
from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result, table
from claimdesk.core.errors import Refused
from claimdesk.core.models import ROLES


def register(subparsers) -> None:
    """Add the users group."""
    sub = group(subparsers, "users", "Who may use claimdesk, and with which role")
    p = command(sub, "add", "Add a user or change their role (admin)", add)
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, default="clerk")
    p.add_argument("--full-name", default="")
    command(sub, "list", "Every user and role", list_)
    p = command(sub, "deactivate", "Take away a user's access (admin); history is kept", deactivate)
    p.add_argument("username")
    p = command(sub, "passwd", "Set the passphrase that unlocks the idle app (yours; an admin: anyone's)", passwd)
    p.add_argument("username", nargs="?", help="whose (default: yours)")


def add(args) -> Result:
    res = users.save_user({"username": args.username, "role": args.role, "full_name": args.full_name})
    verb = "added" if res["created"] else "updated"
    return Result(res, f"{verb} {res['username']} as {res['role']}")


def list_(args) -> Result:
    rows = users.list_users()
    text = table([{**u, "active": "yes" if u["active"] else "no"} for u in rows],
                 [("user", "username"), ("role", "role"), ("active", "active"), ("name", "full_name")])
    return Result(rows, text)


def deactivate(args) -> Result:
    """Take away a user's access (an unknown name is refused, nothing written)."""
    res = users.deactivate(args.username)
    return Result(res, f"{res['username']} can no longer make changes")


def passwd(args) -> Result:
    """Ask for the new passphrase twice (not echoed; one line from standard input when it is not
    a terminal) and set it."""
    import getpass
    import sys

    if sys.stdin.isatty():
        first = getpass.getpass("new passphrase: ")
        if getpass.getpass("again: ") != first:
            raise Refused("the two passphrases differ; nothing was changed", field="passphrase")
    else:
        first = sys.stdin.readline(1024).rstrip("\n")
    res = users.set_passphrase(first, args.username)
    return Result(res, f"passphrase set for {res['username']}: it unlocks the app after it locked itself")
