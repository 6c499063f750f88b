"""Helpers the ``cmd_*`` modules share: the parser class, groups, JSON and date options.

Values from the command line stay strings on their way to the core services
(amounts are never parsed here, the services' schemas do it and name the field).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
from pathlib import Path

from marshmallow import Schema, fields

from claimdesk.core import files
from claimdesk.core.cli.errors import UsageError
from claimdesk.core.errors import InputError
from claimdesk.core.money import json_loads

#: What a command needs from the database: a current schema, any database, none.
SCHEMA, ANY, NONE = "schema", "any", "none"


class Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes become one-line usage errors (exit 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def group(subparsers, name: str, help: str):
    """Add a command group (``claimdesk db ...``); return its own subparsers. A group another
    module already added is shared: both add their commands to it (``patient show`` and
    ``patient add`` live in different modules)."""
    if name in subparsers.choices:
        return subparsers.choices[name].commands
    parser = subparsers.add_parser(name, help=help, description=help)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    parser.commands = sub

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

    A file or stdin is read up to :data:`claimdesk.core.files.JSON_LIMIT` (a bigger one, or
    ``@/dev/zero``, is refused naming the option). Numbers never pass through a float and stay
    marked as JSON numbers (:func:`claimdesk.core.money.json_loads`): an amount must be a string
    in quotes (``"12.50"``), which the services' money fields insist on.
    """
    if text is None:
        return {}
    if text == "-" or text.startswith("@"):
        text = files.read_text_limited(text if text == "-" else text[1:], files.JSON_LIMIT, field,
                                       encoding="utf-8-sig")
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:
        raise InputError({field: [f"not valid JSON: {exc.msg} (line {exc.lineno} column {exc.colno})"]}) from None
    except RecursionError:
        raise InputError({field: ["not valid JSON: nested too deeply"]}) from None


def load_object(text: str | None, field: str) -> dict:
    """A JSON option that must be an object of named fields."""
    value = load_json(text, field)
    if not isinstance(value, dict):
        raise InputError({field: ["must be a JSON object like {\"name\": \"value\"}"]})
    return value


def parse_date(text: str | None, field: str, *, business: bool = True) -> dt.date | None:
    """An ISO date option (YYYY-MM-DD) or None. A business date (the default: a daysheet, a
    report's range, a date received) must also be in the business window
    (:func:`claimdesk.core.validation.business_date_problem`), refused naming ``field``."""
    if text is None:
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError({field: [f"must be a date like 2026-03-02, got {text[:40]!r}"]}) from None
    if business:
        from claimdesk.core.validation import check_business_date

        check_business_date(day, field)
    return day


def output_file(text: str | None, field: str) -> Path | None:
    """The file an option names for claimdesk to write (``--out FILE``, ``--pdf FILE``), checked
    before any work is done: refused naming the option when it is empty, a folder, or in a folder
    that does not exist (a typo is not a reason to make folders) or is a file. None when not given."""
    if text is None:
        return None
    if not text.strip():
        raise InputError({field: ["is empty: give the name of the file to write"]})
    path = Path(text).expanduser()
    try:
        if path.is_dir():
            raise InputError({field: [f"{text!r} is a folder: give the name of a file to write in it"]})
        folder = path.parent
        if not folder.exists():
            raise InputError({field: [f"the folder {str(folder)!r} does not exist: make it first, or give "
                                      f"another file"]})
        if not folder.is_dir():
            raise InputError({field: [f"{str(folder)!r} is a file, not a folder: give a file in a folder"]})
    except OSError as exc:  # a folder on the way this account may not enter
        raise InputError({field: [f"cannot write {text!r}: {exc.strerror or exc}"]}) from None
    return path


def output_dir(text: str | None, field: str) -> Path | None:
    """The folder an option names for claimdesk to write files in (``--out DIR``): made when
    missing (private, :func:`claimdesk.core.files.private_dir`), refused naming the option when
    it, or a folder on its way, is a file. None when not given."""
    if text is None:
        return None
    if not text.strip():
        raise InputError({field: ["is empty: give the folder to write the files in"]})
    path = Path(text).expanduser()
    try:
        probe = path
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        if not probe.is_dir():
            what = repr(text) if probe == path else f"{str(probe)!r} (on the way to {text!r})"
            raise InputError({field: [f"{what} is a file, not a folder: give the folder to write the files in"]})
    except OSError as exc:
        raise InputError({field: [f"cannot write in {text!r}: {exc.strerror or exc}"]}) from None
    return path


@contextlib.contextmanager
def writing(field: str, path):
    """Turn a file that cannot be written in the block (no room, no permission, a folder made
    read-only meanwhile) into :class:`InputError` naming ``field`` and ``path``."""
    try:
        yield
    except OSError as exc:
        raise InputError({field: [f"cannot write {str(path)!r}: {exc.strerror or exc}"]}) from None


def write_output(path: Path | None, field: str, content: str) -> None:
    """Write ``content`` to ``path`` (checked first with :func:`output_file`; None: not asked),
    private to this account (a report may hold patient names); a failure names ``field``."""
    if path is not None:
        with writing(field, path):
            files.write_private(path, content)


def schema_options(parser: argparse.ArgumentParser, schema: type[Schema], *, skip: tuple[str, ...] = ()) -> None:
    """An option per field of a service's input schema, plus ``--data JSON`` for all of them.

    A field's option is its name with dashes (``last_name`` -> ``--last-name``): the JSON key,
    the option and the field a refusal names are one word. A list is comma separated
    (``--diagnoses E11.9,I10``); a list of objects is JSON (``--charges '[...]'`` or ``@file``).
    """
    g = parser.add_argument_group("fields (each also a key of --data)")
    for name, field in schema._declared_fields.items():
        if name in skip:
            continue
        text = field.metadata.get("help", "")
        if isinstance(field, fields.List):
            nested = isinstance(field.inner, fields.Nested)
            text = (text + "; " if text else "") + ("a JSON list (or @file)" if nested else "comma separated")
        g.add_argument("--" + name.replace("_", "-"), dest=f"field_{name}", metavar=name.split("_")[-1].upper(),
                       help=text or None)
    parser.add_argument("--data", metavar="JSON", help="the fields as a JSON object (@file, or - for stdin); "
                                                       "options given win")


def schema_data(args: argparse.Namespace, schema: type[Schema], **given) -> dict:
    """The input for a service: ``--data`` with each field option given laid over it, and ``given``."""
    data = load_object(getattr(args, "data", None), "data")
    for name, field in schema._declared_fields.items():
        value = getattr(args, f"field_{name}", None)
        if value is None:
            continue
        if isinstance(field, fields.List):
            value = (load_json(value, name) if isinstance(field.inner, fields.Nested)
                     else [_typed(field.inner, v.strip()) for v in value.split(",") if v.strip()])
        data[name] = _typed(field, value)
    return {**data, **given}


def _typed(field, value):
    """A whole number typed for an integer field becomes an int (the schema refuses anything else)."""
    if isinstance(field, fields.Integer) and isinstance(value, str) and value.strip().isascii() \
            and value.strip().isdigit() and len(value.strip()) <= 30:  # (longer: no number; the schema says so)
        return int(value.strip())
    return value


def record_commands(subparsers, name: str, help: str, kind, label, *, edit: bool = True):
    """``<name> add`` (and ``<name> edit ID``) for a kind of record
    (:class:`claimdesk.core.services.records.RecordKind`): an option per field, and one line
    saying what was done, the record shown by ``label(result)``. The group's subparsers."""
    from claimdesk.core.cli.output import Result

    sub = group(subparsers, name, help)

    def said(res: dict) -> Result:
        ident = res[kind.id_field]
        if res.get("created"):
            return Result(res, f"{kind.what} {ident} added: {label(res)}")
        return Result(res, f"{kind.what} {ident} ({label(res)}): {', '.join(res['changed']) or 'nothing changed'}")

    schema_options(command(sub, "add", f"Add a {kind.what}",
                           lambda args: said(kind.add(schema_data(args, kind.schema)))), kind.schema)
    if edit:
        p = command(sub, "edit", f"Change a {kind.what}'s fields (only those given)",
                    lambda args: said(kind.edit(args.record_id, schema_data(args, kind.schema))))
        p.add_argument("record_id", metavar="ID")
        schema_options(p, kind.schema)
    return sub
