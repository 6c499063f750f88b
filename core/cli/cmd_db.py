"""Database commands: ``init``, ``db upgrade``, ``db status``, ``demo``."""

from __future__ import annotations

import sys

from claimdesk.core import config, db, migrations, users
from claimdesk.core.cli.common import ANY, command, group, parse_date
from claimdesk.core.cli.output import Result, pairs
from claimdesk.core.errors import Refused
from claimdesk.core.models import Patient
from claimdesk.core.money import fmt
from claimdesk.core.services import views

DEMO_MONEY = ("total_ar", "patient_ar", "insurance_ar", "undistributed_total", "unapplied_total")


def register(subparsers) -> None:
    """Add init, db upgrade/status and demo."""
    command(subparsers, "init", "Create the database (if needed) and bring it to the current schema",
            init, needs=ANY)
    sub = group(subparsers, "db", "Database schema and status")
    command(sub, "upgrade", "Bring the database to the current schema version", upgrade, needs=ANY)
    command(sub, "status", "Where the database is, its schema version and row counts", status, needs=ANY)
    p = command(subparsers, "demo", "Fill an empty database with the demo clinic", demo, needs=ANY)
    p.add_argument("--seed", type=int, help="random seed (same seed, same clinic)")
    p.add_argument("--scale", type=float, help="clinic size: 1 is about 240 patients; above 1 the simulated clinic is "
                   "copied in SQL (390 is about 1M charges, a few minutes)")
    p.add_argument("--today", help="last simulated day (YYYY-MM-DD)")


def init(args) -> Result:
    """Create and upgrade the database; print where it is."""
    applied = migrations.upgrade()
    where = db.redact(args.settings.db_url)
    admin = users.ensure_admin(args.settings.user)
    data = {"database": where, "schema_version": migrations.current_version(), "applied": applied,
            "admin_created": args.settings.user if admin else None}
    what = f"upgraded to schema version {data['schema_version']}" if applied else "already up to date"
    if admin:
        what += f"; {args.settings.user} registered as admin"
    return Result(data, f"{where}: {what}")


def upgrade(args) -> Result:
    """Apply pending schema migrations."""
    applied = migrations.upgrade()
    data = {"database": db.redact(args.settings.db_url), "schema_version": migrations.current_version(),
            "applied": applied}
    text = (f"applied schema version(s) {', '.join(map(str, applied))}" if applied
            else f"schema is up to date (version {data['schema_version']})")
    return Result(data, text)


def status(args) -> Result:
    """Path (password hidden), schema version, counts."""
    data = views.db_status(args.settings.db_url)
    have, code = data["schema_version"], data["code_schema_version"]
    # what to do about a version mismatch: the database is behind, or the program is
    data["action"] = None if have == code else "upgrade_database" if have < code else "upgrade_claimdesk"
    advice = ("" if have == code else
              "  -> run `claimdesk db upgrade`" if have < code else
              "  -> newer than this claimdesk: upgrade claimdesk (the program), not the database")
    text = pairs([("database", data["database"]), ("engine", data["engine"]),
                  ("schema version", f"{have} (this claimdesk: {code}){advice}"),
                  ("patients", data["patients"]), ("encounters", data["encounters"]),
                  ("charges", data["charges"]), ("postings", data["postings"])])
    return Result(data, text)


def _demo_progress():
    """On a terminal, a line on stderr that follows the simulated days; else nothing."""
    if not sys.stderr.isatty():
        return None

    def show(day, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\rbuilding the demo clinic: {day} ({done} of {total} working days)", end=end, file=sys.stderr,
              flush=True)
    return show


def demo(args) -> Result:
    """Build the demo clinic into an empty database and print its summary."""
    from claimdesk.core import demo as demo_builder
    from claimdesk.core.demo.reference import CLINIC

    migrations.upgrade()
    if Patient.select().exists():
        raise Refused("this database already has patients; the demo needs an empty database "
                      "(use --db with a new file)", field="db")
    kwargs = {}
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.scale is not None:
        kwargs["scale"] = args.scale
    if args.today is not None:
        kwargs["today"] = parse_date(args.today, "today")
    summary = demo_builder.build(**kwargs, progress=_demo_progress())
    users.ensure_admin(args.settings.user, first_only=False)  # whoever built the demo may use it
    lines = []
    for key, value in summary.items():
        if key in DEMO_MONEY:
            value = fmt(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        lines.append((key.replace("_", " "), value))
    clinic = config.clinic_section(config.Clinic(**CLINIC))
    where = args.settings.config_path or "the config file"
    return Result({**summary, "clinic": CLINIC},
                  f"demo clinic built in {db.redact(args.settings.db_url)}\n" + pairs(lines)
                  + f"\n\nthe demo clinic as billing provider on claims (put it in {where}):\n{clinic}".rstrip(),
                  money=DEMO_MONEY)
