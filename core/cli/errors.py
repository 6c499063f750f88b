"""Errors as one line on stderr and an exit code; a traceback only with ``--debug``.

Exit codes: 0 ok, 1 verify found violations, 2 usage or bad input, 3 not found,
4 refused (rules of money or workflow, permissions), 5 storage (database cannot
be opened, wrong schema version, database error).
"""

from __future__ import annotations

import re
import sys
import traceback

import peewee

from claimdesk.core.db import ReadOnlyError, StorageError
from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, PermissionDenied, Refused

OK, VIOLATIONS, USAGE, NOT_FOUND, REFUSED, STORAGE = 0, 1, 2, 3, 4, 5
#: Exit code for an error nobody anticipated (a bug): still one line unless --debug.
INTERNAL = 70


class UsageError(Exception):
    """The command line itself is wrong (unknown option, missing argument)."""


def exit_code(exc: BaseException) -> int:
    """The exit code for an exception."""
    if isinstance(exc, (InputError, UsageError, ReadOnlyError)) or _read_only(exc):
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
    elif _read_only(exc):
        text = str(ReadOnlyError(_database_path()))
    elif isinstance(exc, (peewee.DatabaseError, peewee.InterfaceError)):
        text = f"database error: {exc}"
    else:
        text = f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)"
    return shortened(" ".join(text.split()))


#: A word of an error line longer than this is cut (a 5,000-digit "id", 10,000 characters of a
#: name echoed back): the line says what is wrong and where, not the whole of the value.
LONGEST_WORD = 200


def shortened(text: str) -> str:
    """``text`` with every run of more than :data:`LONGEST_WORD` non-space characters cut to its
    first 60 and its length."""
    return re.sub(r"\S{%d,}" % (LONGEST_WORD + 1),
                  lambda m: f"{m.group()[:60]}... ({len(m.group()):,} characters)", text)


def _read_only(exc: BaseException) -> bool:
    """SQLite refused a write to a file this process may only read (a read-only mount, a file
    made read-only while claimdesk had it open)."""
    return isinstance(exc, peewee.OperationalError) and "readonly database" in str(exc)


def _database_path() -> str:
    from claimdesk.core import db

    obj = db.database.obj
    return str(getattr(obj, "read_only_path", None) or getattr(obj, "database", None) or "?")


def report(exc: BaseException, *, debug: bool = False, stream=None) -> int:
    """Print ``claimdesk: error: ...`` (plus the traceback with ``debug``); return the exit code."""
    stream = stream or sys.stderr
    if debug:
        traceback.print_exception(exc, file=stream)
    print(f"claimdesk: error: {message(exc)}", file=stream)
    return exit_code(exc)
