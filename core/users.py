"""Users and roles: clerk < supervisor < admin. Checked in the core, not the screen.

The current user is the OS user (as over SSH), or ``--user``/``CLAIMDESK_USER``/
the config file, mapped to a ``User`` row. A name with no active row may read but
is refused every write (:func:`require_writer`, called by every workflow). The
first user is made by ``claimdesk init`` (whoever runs it becomes admin); after
that an admin adds people with ``claimdesk users add NAME --role ROLE``.

Which workflow needs which role is documented in docs/reliability.md.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core import db
from claimdesk.core.context import current_user
from claimdesk.core.errors import PermissionDenied, Refused
from claimdesk.core.models import ROLES, User
from claimdesk.core.validation import Text, load


def role_of(username: str) -> str | None:
    """The role of ``username``, or ``None`` when not registered or inactive."""
    user = User.get_or_none(User.username == username)
    return user.role if user is not None and user.active else None


def has_role(role: str, username: str | None = None) -> bool:
    """True if the user is registered with ``role`` or above."""
    actual = role_of(username or current_user())
    return actual is not None and ROLES.index(actual) >= ROLES.index(role)


def require_writer() -> str:
    """Refuse a write by someone who is not an active claimdesk user; return the name."""
    name = current_user()
    if role_of(name) is None:
        if not User.select().exists():
            raise PermissionDenied("no claimdesk users yet: run `claimdesk init` (it registers you as admin)")
        raise PermissionDenied(f"{name!r} is not a claimdesk user; an admin adds them with "
                               f"`claimdesk users add {name} --role clerk`")
    return name


def require_role(role: str, what: str) -> None:
    """Refuse ``what`` unless the current user has ``role`` or above."""
    name = require_writer()
    if not has_role(role, name):
        raise PermissionDenied(f"{what} needs {_article(role)}; {name} is {_article(role_of(name))}")


def _article(role: str | None) -> str:
    return "not a claimdesk user" if role is None else ("an " if role[0] in "aeiou" else "a ") + role


class UserInput(Schema):
    username = Text(required=True, min_length=1, max_length=60,
                    validate=validate.Regexp(r"^[A-Za-z0-9._@-]+\Z", error="letters, digits and . _ @ - only"))
    role = fields.String(load_default="clerk", validate=validate.OneOf(ROLES))
    full_name = Text(max_length=120, load_default="")
    active = fields.Boolean(load_default=True)


def ensure_admin(username: str, *, first_only: bool = True) -> bool:
    """Bootstrap: register ``username`` as admin when nobody is registered yet
    (or, with ``first_only=False``, whenever ``username`` itself is unknown: the
    person who builds a demo database owns it). True if a user was made."""
    with db.write_transaction():
        if User.select().where(User.username == username).exists():
            return False
        if first_only and User.select().exists():
            return False
        User.create(username=username, role="admin", full_name="")
        return True


def save_user(data: dict) -> dict:
    """Workflow (admin): add a user or change their role/name/active flag."""
    from claimdesk.core import workflow

    clean = load(UserInput, data)

    def body():
        require_role("admin", "managing users")
        user = User.get_or_none(User.username == clean["username"])
        if user is not None and user.username == current_user() and (
                clean["role"] != "admin" or not clean["active"]):
            raise Refused("you cannot remove your own admin rights; ask another admin", field="role")
        if user is None:
            user = User.create(**clean)
            created = True
        else:
            User.update(**clean).where(User.id == user.id).execute()
            created = False
        return {"user_id": user.id, "username": clean["username"], "role": clean["role"],
                "active": clean["active"], "created": created}

    return workflow.run("user.save", body, inputs=clean)


def list_users() -> list[dict]:
    """Every user with role and active flag, by name."""
    return [{"username": u.username, "full_name": u.full_name, "role": u.role, "active": u.active}
            for u in User.select().order_by(User.username)]
