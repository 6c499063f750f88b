"""``python -m claimdesk.bench.hostile_figures``: the hostile-input figures of docs/reliability.md,
counted from what the tests saw.

It runs the tests that try bad inputs, identity claims and forbidden SQL, with
``CLAIMDESK_FIGURES=FILE`` set: each of them appends one JSON line per attempt to FILE
(:func:`tests.conftest.record_outcome`: kind, case, engine, outcome ``refused`` | ``unclear`` |
``accepted``). Then it prints the table, per kind and engine:

- *tried*: attempts made;
- *refused clearly*: refused with one line naming the field, option, variable, file or plugin at
  fault (an identity claim: refused, or without effect), nothing written;
- *unclear*: refused, but with a traceback, "unexpected", the thing at fault not named, or rows
  written;
- *wrongly accepted*: the target is 0.

Options: ``--engines sqlite`` (SQLite only: ``-m "not pg"``), ``--json`` (the counts as JSON).
Exit status: pytest's when it failed, else 1 if anything was unclear or wrongly accepted.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The tests that record outcomes, and what they try.
TESTS = (
    "tests/test_hostile_input.py::test_every_bad_input_is_refused_naming_a_field_and_nothing_is_written",
    "tests/test_hostile_input.py::test_a_bad_command_line_gets_one_clear_line_and_writes_nothing",
    "tests/test_hostile_cli.py::test_a_hostile_value_gets_one_clear_line_naming_it_and_writes_nothing",
    "tests/test_identity.py::test_a_clerk_claiming_to_be_someone_else_is_refused_or_ignored",
    "tests/test_identity.py::test_a_clerk_connecting_directly_cannot_touch_the_books_the_audit_or_the_users",
    "tests/test_storage.py::test_a_read_only_database_answers_lookups_and_refuses_changes_by_name",
)
#: The order of the table's rows (a kind no test recorded is left out).
KINDS = ("service input", "command line input", "command line input (issue 19 table)", "identity spoofing",
         "direct SQL by a clerk role", "write to a read-only database")


def run_tests(engines: list[str], figures: Path) -> int:
    """Run :data:`TESTS` with ``CLAIMDESK_FIGURES=figures``; pytest's exit status."""
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS]
    if "postgresql" not in engines:
        cmd += ["-m", "not pg"]
    env = {**os.environ, "CLAIMDESK_FIGURES": str(figures)}
    print("$ CLAIMDESK_FIGURES=... " + " ".join(cmd[1:]), file=sys.stderr)
    return subprocess.run(cmd, cwd=ROOT, env=env, stdout=sys.stderr).returncode


def count(figures: Path) -> dict:
    """``{(kind, engine): Counter(outcome)}`` from the JSON lines the tests wrote."""
    table: dict = collections.defaultdict(collections.Counter)
    if figures.exists():
        for line in figures.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            table[(row["kind"], row["engine"] or "-")][row["outcome"]] += 1
    return table


def render(table: dict) -> str:
    """The counts as the markdown table docs/reliability.md shows."""
    rows = ["| what was tried | engine | tried | refused clearly | unclear | wrongly accepted |",
            "|---|---|---:|---:|---:|---:|"]
    order = {k: i for i, k in enumerate(KINDS)}
    totals = collections.Counter()
    for (kind, engine), c in sorted(table.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0])):
        tried = sum(c.values())
        totals.update(c)
        rows.append(f"| {kind} | {engine} | {tried:,} | {c['refused']:,} | {c['unclear']:,} | {c['accepted']:,} |")
    rows.append(f"| **all** | | **{sum(totals.values()):,}** | **{totals['refused']:,}** | "
                f"**{totals['unclear']:,}** | **{totals['accepted']:,}** |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m claimdesk.bench.hostile_figures",
                                     description="Count the hostile-input figures from the tests.")
    parser.add_argument("--engines", default="sqlite,postgresql", help="sqlite,postgresql (default) or sqlite")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    with tempfile.TemporaryDirectory(prefix="claimdesk-figures-") as tmp:
        figures = Path(tmp) / "figures.jsonl"
        status = run_tests(engines, figures)
        table = count(figures)
    if args.json:
        print(json.dumps([{"kind": k, "engine": e, "tried": sum(c.values()), **{o: c[o] for o in
                           ("refused", "unclear", "accepted")}} for (k, e), c in sorted(table.items())], indent=2))
    else:
        print(render(table))
    if status:
        print(f"pytest failed (exit {status}): the figures above are incomplete", file=sys.stderr)
        return status
    bad = sum(c["unclear"] + c["accepted"] for c in table.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
