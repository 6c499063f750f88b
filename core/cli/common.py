"""Helpers the ``cmd_*`` modules share: the parser class, groups, JSON and date options.

Values from the command line stay strings on their way to the core services
(amounts are never parsed here, the services' schemas do it and name the field).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from claimdesk.core.cli.errors import UsageError
from claimdesk.core.errors import InputError

#: What a command needs from the database: a current schema, any database, none.
SCHEMA, ANY, NONE = "schema", "any", "none"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes become one-line usage errors (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def group(subparsers, name: str, help: str):
    """Add a command group (``claimdesk db ...``); return its own subparsers."""
    parser = subparsers.add_parser(name, help=help, description=help)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def choose(args):
        raise UsageError(f"choose one of: {', '.join(sub.choices)} (see `{parser.prog} --help`)")

    parser.set_defaults(handler=choose, needs=NONE)
    return sub


def command(subparsers, name: str, help: str, handler, needs: str = SCHEMA) -> argparse.ArgumentParser:
    """Add one command whose ``handler(args) -> Result`` runs with the database as ``needs`` says."""
    parser = subparsers.add_parser(name, help=help, description=help)
    parser.set_defaults(handler=handler, needs=needs)
    return parser


def load_json(text: str | None, field: str):
    """Parse a JSON option (``'{"a": 1}'``, ``@file.json`` or ``-`` for stdin).

    Numbers with a fraction stay exact (``Decimal`` is not JSON; they are read as
    strings), so an amount never passes through a float.
    """
    if text is None:
        return {}
    try:
        if text == "-":
            text = sys.stdin.read()
        elif text.startswith("@"):
            text = Path(text[1:]).expanduser().read_text()
        return json.loads(text, parse_float=str)
    except OSError as exc:
        raise InputError({field: [f"cannot read {text[1:]!r}: {exc.strerror}"]}) from None
    except json.JSONDecodeError as exc:
        raise InputError({field: [f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"]}) from None


def load_object(text: str | None, field: str) -> dict:
    """A JSON option that must be an object of named fields."""
    value = load_json(text, field)
    if not isinstance(value, dict):
        raise InputError({field: ["must be a JSON object like {\"name\": \"value\"}"]})
    return value


def parse_date(text: str | None, field: str) -> dt.date | None:
    """An ISO date option (YYYY-MM-DD) or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError({field: [f"must be a date like 2026-03-02, got {text!r}"]}) from None
