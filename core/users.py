"""Users and roles: clerk < supervisor < admin. Checked in the core, not the screen.

The current user is the OS user (or ``--user``/config) mapped to a ``User`` row.
A name with no row counts as a clerk.
"""

from __future__ import annotations

from claimdesk.core.context import current_user
from claimdesk.core.errors import PermissionDenied
from claimdesk.core.models import ROLES, User


def role_of(username: str) -> str:
    """The role of ``username`` ("clerk" when not registered or inactive)."""
    user = User.get_or_none(User.username == username)
    return user.role if user is not None and user.active else "clerk"


def has_role(role: str, username: str | None = None) -> bool:
    """True if the user's role is ``role`` or above."""
    return ROLES.index(role_of(username or current_user())) >= ROLES.index(role)


def require_role(role: str, what: str) -> None:
    """Refuse ``what`` unless the current user has ``role`` or above."""
    name = current_user()
    if not has_role(role, name):
        raise PermissionDenied(f"{what} needs a {role}; {name} is a {role_of(name)}")
