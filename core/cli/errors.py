"""Errors as one line on stderr and an exit code; a traceback only with ``--debug``.

Exit codes: 0 ok, 1 verify found violations, 2 usage or bad input, 3 not found,
4 refused (rules of money or workflow, permissions), 5 storage (database cannot
be opened, wrong schema version, database error).
"""

from __future__ import annotations

import sys
import traceback

import peewee

from claimdesk.core.db import StorageError
from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, PermissionDenied, Refused

OK, VIOLATIONS, USAGE, NOT_FOUND, REFUSED, STORAGE = 0, 1, 2, 3, 4, 5
#: Exit code for an error nobody anticipated (a bug): still one line unless --debug.
INTERNAL = 70


class UsageError(Exception):
    """The command line itself is wrong (unknown option, missing argument)."""


def exit_code(exc: BaseException) -> int:
    """The exit code for an exception."""
    if isinstance(exc, (InputError, UsageError)):
        return USAGE
    if isinstance(exc, NotFound):
        return NOT_FOUND
    if isinstance(exc, (Refused, PermissionDenied, ClaimdeskError)):
        return REFUSED
    if isinstance(exc, (StorageError, peewee.DatabaseError, peewee.InterfaceError)):
        return STORAGE
    return INTERNAL


def message(exc: BaseException) -> str:
    """The one line a person reads: ``<field>: <message>`` where a field is at fault."""
    if isinstance(exc, ClaimdeskError):
        text = str(exc)
    elif isinstance(exc, (StorageError, UsageError)):
        text = str(exc)
    elif isinstance(exc, (peewee.DatabaseError, peewee.InterfaceError)):
        text = f"database error: {exc}"
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
    return " ".join(text.split())


def report(exc: BaseException, *, debug: bool = False, stream=None) -> int:
    """Print ``claimdesk: error: ...`` (plus the traceback with ``debug``); return the exit code."""
    stream = stream or sys.stderr
    if debug:
        traceback.print_exception(exc, file=stream)
    print(f"claimdesk: error: {message(exc)}", file=stream)
    return exit_code(exc)
