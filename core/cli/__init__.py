"""The ``claimdesk`` command line. With no command it opens the TUI.

Global options work before or after the command: ``--db PATH|URL``,
``--json`` (machine-readable output, amounts as strings like ``"12.50"``) and
``--debug`` (tracebacks). Errors are one line on stderr,
``claimdesk: error: <field>: <message>``, with the exit codes of
:mod:`claimdesk.core.cli.errors` (1 verify violations, 2 usage/input, 3 not
found, 4 refused, 5 storage).

Adding commands (the pattern every area follows)
------------------------------------------------
Create ``core/cli/cmd_<area>.py`` with a function ``register(subparsers)``. It
adds its parsers with :func:`claimdesk.core.cli.common.command` (or
:func:`~claimdesk.core.cli.common.group` for ``claimdesk <area> <verb>``), each
with ``set_defaults(handler=fn, needs=...)`` done for you::

    from claimdesk.core.cli.common import command
    from claimdesk.core.cli.output import Result

    def register(subparsers):
        p = command(subparsers, "aging", "Show the aging report", show_aging)
        p.add_argument("--as-of")

    def show_aging(args) -> Result:
        data = aging.report(...)                  # a core service: no rules here
        return Result(data, text="...", money=("total", "current"))

``fn(args)`` returns a :class:`~claimdesk.core.cli.output.Result`: ``data``
(JSON-able; the keys named in ``money`` hold cents and are printed as
``"12.50"``), ``text`` for people, optionally ``exit_code``. ``needs`` says what
the command wants from the database: ``"schema"`` (default: connected and at
the current schema version, else a clear "run `claimdesk db upgrade`"),
``"any"`` (connected, any version: init, db upgrade, demo) or ``"none"``.
:func:`main` finds every ``claimdesk.core.cli.cmd_*`` module with pkgutil; the
global options are added to every parser automatically. ``args.settings`` holds
the resolved :class:`~claimdesk.core.config.Settings`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

from claimdesk.core import config, context, session
from claimdesk.core.cli import errors
from claimdesk.core.cli.common import NONE, SCHEMA, Parser
from claimdesk.core.cli.output import emit_json, jsonify

__all__ = ["main", "build_parser"]


def _add_globals(parser: argparse.ArgumentParser) -> None:
    """Add the global options to ``parser`` (a command's own option of the same name wins)."""
    g = parser.add_argument_group("global options")
    taken = parser._option_string_actions  # noqa: SLF001

    def add(flag: str, **kw) -> None:
        if flag not in taken:
            g.add_argument(flag, **kw)

    add("--db", metavar="PATH|URL", default=argparse.SUPPRESS,
        help="database file or postgresql:// URL (else CLAIMDESK_DB, the config file, the default)")
    add("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    add("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors")


def _all_parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:  # noqa: SLF001 - argparse keeps subparsers here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            seen = set()
            for sub in action.choices.values():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from _all_parsers(sub)


def command_modules() -> list[str]:
    """Names of every ``claimdesk.core.cli.cmd_*`` module, sorted."""
    return sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_"))


def build_parser() -> argparse.ArgumentParser:
    """The full parser: every ``cmd_*`` module registered, global options everywhere."""
    parser = Parser(prog="claimdesk", description="The billing desk. With no command, opens the app (TUI).")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in command_modules():
        try:
            module = importlib.import_module(name)
            module.register(sub)
        except Exception as exc:  # noqa: BLE001 - one broken module must not take the CLI down
            print(f"claimdesk: warning: commands in {name} are unavailable: {type(exc).__name__}: {exc}",
                  file=sys.stderr)
    for p in _all_parsers(parser):
        _add_globals(p)
    return parser


def _run_tui(settings) -> int:
    from claimdesk.tui import hold_gc_until_first_screen, release_gc

    hold_gc_until_first_screen()
    try:
        try:
            from claimdesk.tui.app import run as run_tui
        except ImportError as exc:
            print(f"claimdesk: error: the app (TUI) is not available: {exc}", file=sys.stderr)
            return errors.INTERNAL
        return int(run_tui(settings) or 0)
    finally:
        release_gc()  # (Home switched it on already, unless the app never got that far)


def _app_only(argv: list[str]) -> argparse.Namespace | None:
    """The parsed global options when ``argv`` names no command (the app opens); else None.

    Spares the app's start importing every command module just to find none was given.
    """
    parser = Parser(prog="claimdesk", add_help=False)
    _add_globals(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except (errors.UsageError, SystemExit):
        return None
    return None if rest else args


def _undecodable(argv: list[str]) -> str | None:
    """Why an argument cannot be read, naming its option: bytes that are not UTF-8 (Python hands
    them over as lone surrogates, which no file, database or terminal takes), or None."""
    for i, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            option, eq, _value = arg.partition("=")
            if arg.startswith("--") and eq:
                where = option
            elif i and argv[i - 1].startswith("-") and argv[i - 1] != "-":
                where = argv[i - 1]
            else:
                where = f"argument {i + 1}"
            bad = arg[exc.start]
            byte = f" (byte 0x{ord(bad) - 0xDC00:02X})" if 0xDC80 <= ord(bad) <= 0xDCFF else ""
            return (f"{where}: not UTF-8 text{byte} at character {exc.start + 1}: type it again, or set "
                    "the terminal to UTF-8")
    return None


def main(argv: list[str] | None = None, *, user: str | None = None) -> int:
    """Run the command line; return the exit code (``sys.exit(main())``).

    Changes are recorded under the authenticated identity (the OS login; on PostgreSQL the
    connection's role). ``user`` is for a program running claimdesk in-process (its tests):
    no command-line option or environment variable can choose it."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    problem = _undecodable(argv)
    if problem:
        return errors.report(errors.UsageError(problem), debug=False)
    if "audit" not in argv and any(a == "--user" or a.startswith("--user=") for a in argv):
        return errors.report(errors.UsageError(
            f"--user is not an option: claimdesk records changes as your login ({config.os_user()}; on "
            "PostgreSQL the database role you connect as); to work as someone else, log in as them"), debug=False)
    try:
        args = _app_only(argv) or build_parser().parse_args(argv)
    except errors.UsageError as exc:
        return errors.report(exc, debug=False)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    as_json = getattr(args, "json", False)
    connected = False
    try:
        settings = config.load(db=getattr(args, "db", None), user=user)
        args.settings = settings
        handler = getattr(args, "handler", None)
        if handler is None:
            return _run_tui(settings)
        needs = getattr(args, "needs", SCHEMA)
        connected = needs != NONE
        session.start(settings, connect=connected, check_schema=needs == SCHEMA)
        with context.as_user(settings.user):
            result = handler(args)
    except KeyboardInterrupt:
        print("claimdesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every error becomes one line
        return errors.report(exc, debug=debug)
    finally:
        if connected:
            session.end()
    try:
        if as_json:
            print(emit_json(jsonify(result.data, result.money)))
        elif result.text:
            print(result.text)
        sys.stdout.flush()
    except BrokenPipeError:  # `claimdesk ... | head`: the reader left; not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return result.exit_code

