"""Users and roles: clerk < supervisor < admin. Checked in the core, not the screen, and on
PostgreSQL held by the database too (:mod:`claimdesk.core.db_roles`).

The current user is the authenticated identity (the OS login, as over SSH; on PostgreSQL the
connection's role), mapped to a ``User`` row; no flag or variable chooses it. A name with no
active row may read but is refused every write (:func:`require_writer`, called by every
workflow). The first user is made by ``claimdesk init`` (whoever runs it becomes admin); after
that an admin adds people with ``claimdesk users add NAME --role ROLE`` (on PostgreSQL: their
login role too, member of the group of their role).

Which workflow needs which role is documented in docs/reliability.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from marshmallow import Schema, fields, validate

from claimdesk.core import db, db_roles
from claimdesk.core.context import current_user
from claimdesk.core.errors import NotFound, PermissionDenied, Refused
from claimdesk.core.models import ROLES, User
from claimdesk.core.prepared import Prepared
from claimdesk.core.validation import Text, load


def role_of(username: str) -> str | None:
    """The role of ``username``, or ``None`` when not registered or inactive."""
    cache = db.transaction_cache()  # (a workflow asks several times; its transaction keeps the answer)
    key = ("role_of", username)
    if key not in cache:
        row = _ROLE.first(username)
        cache[key] = row[0] if row is not None and row[1] else None
    return cache[key]


_ROLE = Prepared(lambda a: User.select(User.role, User.active).where(User.username == a).limit(1).tuples())


def has_role(role: str, username: str | None = None) -> bool:
    """True if the user is registered with ``role`` or above."""
    return at_least(role_of(username or current_user()), role)


def at_least(actual: str | None, role: str) -> bool:
    """True if ``actual`` (a user's role, None for no user) is ``role`` or above."""
    return actual is not None and ROLES.index(actual) >= ROLES.index(role)


def require_writer() -> str:
    """Refuse a write by someone who is not an active claimdesk user; return the name."""
    return _writer()[0]


def require_role(role: str, what: str) -> None:
    """Refuse ``what`` unless the current user has ``role`` or above."""
    name, actual = _writer()
    if not at_least(actual, role):
        raise PermissionDenied(f"{what} needs {_article(role)}; {name} is {_article(actual)}")


def _writer() -> tuple[str, str]:
    """The person working and their role (one read); refused when they are not an active user."""
    name = current_user()
    actual = role_of(name)
    if actual is None:
        if not User.select().exists():
            raise PermissionDenied("no claimdesk users yet: run `claimdesk init` (it registers you as admin)")
        raise PermissionDenied(f"{name!r} is not a claimdesk user; an admin adds them with "
                               f"`claimdesk users add {name} --role clerk`")
    return name, actual


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
        if first_only and User.select().exists():
            return False
        return bootstrap(username, "admin")


def bootstrap(username: str, role: str, full_name: str = "") -> bool:
    """Register ``username`` with ``role`` when unknown, with no admin to ask (the first admin,
    the demo's staff, a test's users), audited as ``user.bootstrap`` like every user change so
    ``verify`` can hold the user table to the audit trail. True if a user was made."""
    from claimdesk.core import workflow

    with db.write_transaction():
        if User.select().where(User.username == username).exists():
            return False
        User.create(username=username, role=role, full_name=full_name)
        workflow.record_system("user.bootstrap", {"username": username, "role": role, "full_name": full_name,
                                                  "active": True})
        return True


#: The audit actions that set a user's role and active flag (their inputs name them).
USER_ACTIONS = ("user.baseline", "user.bootstrap", "user.save")


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
        db_roles.sync_user(clean["username"], clean["role"], clean["active"])  # PostgreSQL: their login role
        return {"user_id": user.id, "username": clean["username"], "role": clean["role"],
                "active": clean["active"], "created": created}

    return workflow.run("user.save", body, inputs=clean)


# --- the passphrase that unlocks the idle app ---------------------------------------------------
#: scrypt's cost: 16 MiB and ~50 ms a try (memory-hard: a stolen hash is slow to guess).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSPHRASE = 8


def hash_passphrase(text: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex) of ``text``, a fresh salt each time."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(text.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def passphrase_matches(stored: str, text: str) -> bool:
    """True when ``text`` hashes to ``stored`` (compared in constant time); False for "" or junk."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(text.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def has_passphrase(username: str | None = None) -> bool:
    """True when the user (the current one by default) has set a passphrase."""
    user = User.get_or_none(User.username == (username or current_user()))
    return bool(user is not None and user.passphrase)


def check_passphrase(text: str, username: str | None = None) -> bool:
    """True when ``text`` is the passphrase of the user (the current one by default)."""
    user = User.get_or_none(User.username == (username or current_user()))
    return bool(user is not None and user.active and passphrase_matches(user.passphrase, text))


def set_passphrase(passphrase: str, username: str | None = None) -> dict:
    """Workflow: set the passphrase that unlocks the idle app, your own (any user) or, for an
    admin, someone else's. At least 8 characters; only its scrypt hash is kept, and the audit
    trail records who set whose, never the passphrase."""
    from claimdesk.core import workflow

    who = username or current_user()
    if len(passphrase) < MIN_PASSPHRASE:
        raise Refused(f"a passphrase has at least {MIN_PASSPHRASE} characters", field="passphrase")
    if passphrase != passphrase.strip():
        raise Refused("a passphrase does not begin or end with a space", field="passphrase")
    stored = hash_passphrase(passphrase)

    def body():
        me = require_writer()
        if who != me:
            require_role("admin", "setting someone else's passphrase")
        user = User.get_or_none(User.username == who)
        if user is None:
            raise Refused(f"{who!r} is not a claimdesk user", field="username")
        User.update(passphrase=stored).where(User.id == user.id).execute()
        return {"username": who}

    return workflow.run("user.passphrase", body, inputs={"username": who})


def deactivate(username: str) -> dict:
    """Workflow (admin): take away a user's access (history kept; on PostgreSQL their login too).
    A name that is not a user (a typo) is refused and nothing is written: saving it would make a
    new, inactive user and report success."""
    user = User.get_or_none(User.username == username)
    if user is None:
        raise NotFound(f"no claimdesk user {username!r}; nothing was changed (`claimdesk users list` shows who "
                       f"there is)", field="username")
    return save_user({"username": user.username, "role": user.role, "full_name": user.full_name, "active": False})


def list_users() -> list[dict]:
    """Every user with role and active flag, by name."""
    return [{"username": u.username, "full_name": u.full_name, "role": u.role, "active": u.active}
            for u in User.select().order_by(User.username)]
