"""Who is working: the user every change is recorded under, and where they work from.

:func:`claimdesk.core.session.start` calls :func:`set_user` once with the authenticated
identity (the OS login; on PostgreSQL the connection's role) and :func:`set_client` with the
SSH client's address when there is one; tests and the demo builder use :func:`as_user` for a
block.
"""

from __future__ import annotations

import contextlib
import contextvars

from claimdesk.core import config

_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("user", default=None)
_default_user: list[str] = []


def set_user(name: str) -> None:
    """Set the user for the rest of this process."""
    _default_user[:] = [name]


_client: list[str] = []


def set_client(address: str) -> None:
    """Set where this process's user works from (the SSH client's address; "" on the console)."""
    _client[:] = [address]


def current_client() -> str:
    """The SSH client's address of this session ("" when local or unknown)."""
    return _client[0] if _client else ""


def current_user() -> str:
    """The user changes are recorded under (OS user unless set)."""
    return _user.get() or (_default_user[0] if _default_user else config.os_user())


@contextlib.contextmanager
def as_user(name: str):
    """Run a block as ``name``."""
    token = _user.set(name)
    try:
        yield
    finally:
        _user.reset(token)
