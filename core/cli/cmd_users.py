"""User commands: ``users add``, ``users list``, ``users deactivate`` (admins only)."""

from __future__ import annotations

from claimdesk.core import users
from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result, table
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
    current = next((u for u in users.list_users() if u["username"] == args.username), None)
    res = users.save_user({"username": args.username, "role": current["role"] if current else "clerk",
                           "full_name": current["full_name"] if current else "", "active": False})
    return Result(res, f"{res['username']} can no longer make changes")
