"""Aging: open balances bucketed by age (current, 31-60, 61-90, 91-120, 120+).

:func:`recalc` rebuilds the snapshot (``aging_row``: one row per patient and payer)
as of a base date with one set-based ``INSERT ... SELECT`` (CASE bucketing in SQL,
no per-row Python), so it runs on a million charges in seconds on SQLite and
PostgreSQL. :func:`report` sums the snapshot by payer or by patient.

Two modes say which balances are aged. ``point_in_time`` (the default, what a month-end
report needs): each split's balance on the base date, summed from its AR postings dated
on or before it, charges of later service dates left out, so the total equals the
ledger's receivable on that date. ``base_date`` (the seed's): today's open balances
(the cached ``charge_split.balance`` that ``claimdesk verify`` recomputes from the
postings) aged as of the base date. Every report says which one it shows.
Its age is counted from the date of service (basis ``service``, the default) or from
the charge's last activity (basis ``last_activity``: the latest of the date of
service, the last payment applied to the charge and, for what the patient owes,
the patient's last statement).
Ages below zero (activity after the base date) count as current. Non-billable and
removed encounters are left out. See docs/aging-and-statements.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Callable

from marshmallow import Schema, fields, validate
from peewee import JOIN, Case, Cast, Select, Value, fn

from claimdesk.core import config, db, workflow
from claimdesk.core.errors import NotFound
from claimdesk.core.letters import sort_key
from claimdesk.core.models import (
    AgingRow, AuditEvent, Charge, ChargeSplit, Credit, CreditSplit, Encounter, JournalEntry, Patient, Payer,
    Posting, Statement,
)
from claimdesk.core.money import as_json, fmt
from claimdesk.core.spreadsheet import text_cell
from claimdesk.core.services.common import patient_payer
from claimdesk.core.validation import business_date_field, load

BUCKETS = ("current", "days_31_60", "days_61_90", "days_91_120", "over_120")
BUCKET_LABELS = {"current": "0-30", "days_31_60": "31-60", "days_61_90": "61-90",
                 "days_91_120": "91-120", "over_120": "120+"}
#: (bucket, lowest age, highest age) in days; None = open-ended.
BUCKET_RANGES = (("current", None, 30), ("days_31_60", 31, 60), ("days_61_90", 61, 90),
                 ("days_91_120", 91, 120), ("over_120", 121, None))
BASES = ("service", "last_activity")
MODES = ("point_in_time", "base_date")
MODE_LABELS = {"point_in_time": "point in time: balances on that date",
               "base_date": "base date: today's balances aged from that date"}


def bucket_of(age_days: int) -> str:
    """The bucket for an age in days (0-30 is current)."""
    if age_days <= 30:
        return "current"
    if age_days <= 60:
        return "days_31_60"
    if age_days <= 90:
        return "days_61_90"
    if age_days <= 120:
        return "days_91_120"
    return "over_120"


def bucketize(items: list[tuple[dt.date, int]], as_of: dt.date) -> dict[str, int]:
    """Sum ``(date, cents)`` pairs into the five buckets as of ``as_of``."""
    out = dict.fromkeys(BUCKETS, 0)
    for when, cents in items:
        out[bucket_of((as_of - when).days)] += cents
    return out


# --- the SQL dialect helper: date arithmetic differs between SQLite and PostgreSQL ----------
def days_between(as_of: dt.date, column):
    """SQL expression: whole days from ``column`` (a date) to ``as_of``."""
    if db.is_postgres():
        return date_value(as_of) - column  # date - date is an integer on PostgreSQL
    return Cast(fn.julianday(Value(as_of.isoformat())) - fn.julianday(column), "INTEGER")


def date_value(day: dt.date):
    """SQL expression: a date parameter both engines store in a DATE column."""
    return Cast(Value(day.isoformat()), "date") if db.is_postgres() else Value(day.isoformat())


def latest_date(*columns):
    """SQL expression: the latest of non-null dates (GREATEST / SQLite's scalar MAX)."""
    if db.is_postgres():
        return fn.GREATEST(*columns)
    return fn.MAX(*columns)  # with 2+ arguments SQLite's max() is the scalar form


def _age_from(basis: str, payer, until: dt.date | None = None):
    """The date a split's age counts from, and the joins it needs (activity after ``until``
    not counted, when given); ``payer`` is the split's payer column."""
    if basis == "service":
        return Charge.dos, []
    paid = (CreditSplit.select(CreditSplit.charge.alias("charge_id"), fn.MAX(Credit.posted_on).alias("paid_on"))
            .join(Credit, on=(CreditSplit.credit == Credit.id)))
    stmt = Statement.select(Statement.patient.alias("patient_id"), fn.MAX(Statement.generated_on).alias("stmt_on"))
    if until is not None:
        paid = paid.where(Credit.posted_on <= date_value(until))
        stmt = stmt.where(Statement.generated_on <= date_value(until))
    paid = paid.group_by(CreditSplit.charge).alias("paid")
    stmt = stmt.group_by(Statement.patient).alias("stmt")
    when = latest_date(Charge.dos, fn.COALESCE(paid.c.paid_on, Charge.dos),
                       fn.COALESCE(stmt.c.stmt_on, Charge.dos))
    own = (stmt.c.patient_id == Charge.patient) & (payer == patient_payer().id)
    return when, [(paid, paid.c.charge_id == Charge.id), (stmt, own)]


#: The columns of the ``held`` CTE: one row per split with a receivable to age.
_HELD = ("split_id", "pid", "payer_id", "charge_id", "bal")


def _split_cols(balance) -> list:
    return [ChargeSplit.id, ChargeSplit.patient, ChargeSplit.payer, ChargeSplit.charge, balance]


def posted_after(as_of: dt.date):
    """A CTE ``later``: what each split's receivable moved after ``as_of`` (``split_id``,
    ``moved``), summed from AR postings of journal entries dated later (few, for a recent date:
    the entry date is indexed)."""
    entries = JournalEntry.select(JournalEntry.id).where(JournalEntry.posted_on > date_value(as_of))
    # (an IN, not a join: SQLite would otherwise walk every posting in split order for the GROUP BY)
    return (Posting.select(Posting.split.alias("split_id"), fn.SUM(Posting.amount).alias("moved"))
            .where((Posting.account == "AR") & Posting.entry.in_(entries) & Posting.split.is_null(False))
            .group_by(Posting.split).cte("later", materialized=True))


def held_on(as_of: dt.date) -> list:
    """The CTEs ``later`` and ``held``: every split with a receivable on ``as_of`` (see
    ``_HELD``). A split's balance then is today's balance less what was posted to it later.
    The cached balance is the sum of the split's AR postings (``claimdesk verify`` proves it),
    so this equals summing its postings dated on or before ``as_of``, without reading the whole
    ledger: the splits open today (a partial index) that nothing touched since, and the few that
    later entries touched."""
    later = posted_after(as_of)
    untouched = (ChargeSplit.select(*_split_cols(ChargeSplit.balance))
                 .where((ChargeSplit.balance > 0) & ChargeSplit.id.not_in(Select([later], [later.c.split_id]))))
    then = ChargeSplit.balance - later.c.moved
    touched = (Select([later], _split_cols(then))
               .join(ChargeSplit, on=(ChargeSplit.id == later.c.split_id)).where(then > 0))
    return [later, (untouched + touched).cte("held", columns=_HELD)]


def held_today() -> list:
    """The CTE ``held`` of today's open balances (the cached ``charge_split.balance``)."""
    return [ChargeSplit.select(*_split_cols(ChargeSplit.balance)).where(ChargeSplit.balance > 0)
            .cte("held", columns=_HELD)]


def snapshot_query(as_of: dt.date, basis: str = "service", mode: str = "point_in_time") -> Select:
    """The grouped SELECT that buckets every open split by (patient, payer) as of ``as_of``:
    its balance on that date (``point_in_time``) or today (``base_date``)."""
    on_day = mode == "point_in_time"
    ctes = held_on(as_of) if on_day else held_today()
    held = ctes[-1]
    since, joins = _age_from(basis, held.c.payer_id, as_of if on_day else None)
    inner = (Select([held], [held.c.pid, held.c.payer_id, held.c.bal, days_between(as_of, since).alias("age")])
             .join(Charge, on=(held.c.charge_id == Charge.id))
             .join(Encounter, on=(Charge.encounter == Encounter.id)))
    for sub, on in joins:
        inner = inner.join(sub, JOIN.LEFT_OUTER, on=on)
    inner = inner.where(Encounter.billable & (Encounter.status == "active"))
    if on_day:
        inner = inner.where(Charge.dos <= date_value(as_of))
    s = inner.alias("s")

    def bucket(lo, hi):
        cond = None
        if lo is not None:
            cond = s.c.age >= lo
        if hi is not None:
            cond = (s.c.age <= hi) if cond is None else (cond & (s.c.age <= hi))
        return fn.SUM(Case(None, [(cond, s.c.bal)], 0))

    cols = [date_value(as_of).alias("as_of"), s.c.pid, s.c.payer_id]
    cols += [bucket(lo, hi).alias(name) for name, lo, hi in BUCKET_RANGES]
    cols.append(fn.SUM(s.c.bal).alias("total"))
    return Select([s], cols).group_by(s.c.pid, s.c.payer_id).with_cte(*ctes)


class RecalcInput(Schema):
    """Inputs of ``aging recalc``: base date, basis and mode."""

    as_of = business_date_field(load_default=None)
    basis = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(BASES))
    mode = fields.String(load_default="point_in_time", validate=validate.OneOf(MODES))


def recalc(as_of: dt.date | str | None = None, basis: str | None = None, *,
           mode: str = "point_in_time", progress: Callable[[int, int], None] | None = None) -> dict:
    """Workflow: rebuild the aging snapshot as of ``as_of`` (default today).

    ``basis`` is ``service`` or ``last_activity`` (default: the ``[aging] basis`` setting);
    ``mode`` is ``point_in_time`` or ``base_date`` (see the module). Replaces any earlier
    snapshot for the same date; returns rows written, bucket totals and the mode.

    ``progress``, if given, is called as ``progress(done, total)`` inside the transaction:
    ``(0, 1)`` before the snapshot statement and ``(1, 1)`` after it (the work is one
    set-based statement, so there is no finer progress to report: show it as
    indeterminate). An exception it raises rolls the whole recalculation back, so
    nothing is written (how a front end cancels). It is called from the thread running
    the workflow; it does not change the result. A transaction retried after a lock
    conflict reports from ``(0, 1)`` again.
    """
    from claimdesk.core import clock

    raw = as_of.isoformat() if isinstance(as_of, dt.date) else as_of
    clean = load(RecalcInput, {"as_of": raw, "basis": basis, "mode": mode})
    day = clean["as_of"] or clock.today()
    how = clean["basis"] or config.load().aging_basis
    if how not in BASES:
        how = "service"

    def body():
        if progress is not None:
            progress(0, 1)
        AgingRow.delete().where(AgingRow.as_of == day).execute()
        fields_ = [AgingRow.as_of, AgingRow.patient, AgingRow.payer, *[getattr(AgingRow, b) for b in BUCKETS],
                   AgingRow.total]
        AgingRow.insert_from(snapshot_query(day, how, clean["mode"]), fields_).execute()
        if progress is not None:
            progress(1, 1)
        rows = AgingRow.select().where(AgingRow.as_of == day).count()
        return {"as_of": day.isoformat(), "basis": how, "mode": clean["mode"], "mode_label": MODE_LABELS[clean["mode"]],
                "rows": rows, "totals": _totals(day)}

    return workflow.run("aging.recalc", body, inputs={"as_of": day, "basis": how, "mode": clean["mode"]})


def snapshot_made(day: dt.date) -> dict:
    """How the snapshot of ``day`` was made, from its ``aging.recalc`` audit event: ``mode``,
    ``basis``, ``made_by`` and ``made_at`` (a snapshot from before modes existed was
    ``base_date``)."""
    events = (AuditEvent.select(AuditEvent.inputs, AuditEvent.user, AuditEvent.at)
              .where(AuditEvent.action == "aging.recalc").order_by(AuditEvent.id.desc()))
    for ev in events:
        if ev.inputs.get("as_of") == day.isoformat():
            mode = ev.inputs.get("mode", "base_date")
            return {"mode": mode, "mode_label": MODE_LABELS.get(mode, mode), "basis": ev.inputs.get("basis", "service"),
                    "made_by": ev.user, "made_at": ev.at.isoformat(sep=" ", timespec="seconds")}
    return {"mode": "base_date", "mode_label": MODE_LABELS["base_date"], "basis": "service", "made_by": "",
            "made_at": ""}


def _totals(day: dt.date) -> dict[str, int]:
    sums = [fn.COALESCE(fn.SUM(getattr(AgingRow, b)), 0) for b in (*BUCKETS, "total")]
    row = AgingRow.select(*sums).where(AgingRow.as_of == day).tuples().first()
    return {k: int(v or 0) for k, v in zip((*BUCKETS, "total"), row)}


def latest_as_of() -> dt.date | None:
    """The base date of the newest snapshot, if any."""
    value = AgingRow.select(fn.MAX(AgingRow.as_of)).scalar()
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return value


def report(as_of: dt.date | str | None = None, by: str = "payer") -> dict:
    """The aging report from the snapshot (``as_of`` or the newest), by ``payer`` or ``patient``.

    Amounts are integer cents: ``{"as_of", "by", "rows": [{id, name, <buckets>, total}], "totals"}``.
    """
    if by not in ("payer", "patient"):
        raise NotFound(f"an aging report is by payer or by patient, not {by!r}", field="by")
    if isinstance(as_of, str):
        as_of = load(RecalcInput, {"as_of": as_of})["as_of"]
    day = as_of or latest_as_of()
    if day is None or not AgingRow.select().where(AgingRow.as_of == day).exists():
        when = day.isoformat() if day else "any date"
        raise NotFound(f"no aging snapshot for {when}: run `claimdesk aging recalc --as-of DATE` first",
                       field="as_of")
    sums = [fn.SUM(getattr(AgingRow, b)).alias(b) for b in (*BUCKETS, "total")]
    if by == "payer":
        cols = [Payer.id.alias("key"), Payer.name.alias("name")]
        query = AgingRow.select(*cols, *sums).join(Payer, on=(AgingRow.payer == Payer.id))
    else:
        cols = [Patient.id.alias("key"), Patient.account_no, Patient.last_name, Patient.first_name]
        query = AgingRow.select(*cols, *sums).join(Patient, on=(AgingRow.patient == Patient.id))
    rows = []
    for r in query.where(AgingRow.as_of == day).group_by(*[c.unwrap() for c in cols]).dicts():
        extra = {}
        if by == "patient":
            r["name"] = f"{r['last_name']}, {r['first_name']}"
            extra = {"account_no": r["account_no"]}
        rows.append({"id": r["key"], "name": r["name"], **extra, **{b: int(r[b]) for b in (*BUCKETS, "total")}})
    rows.sort(key=lambda r: (-r["total"], sort_key(r["name"]), r["name"]))
    return {"as_of": day, "by": by, "rows": rows, "totals": _totals(day), **snapshot_made(day)}


def report_json(rep: dict) -> dict:
    """A report with money as strings ("12.50") and the date as ISO text, for ``--json``."""
    money = (*BUCKETS, "total")
    return {"as_of": rep["as_of"].isoformat(), "by": rep["by"], "mode": rep["mode"], "mode_label": rep["mode_label"],
            "basis": rep["basis"], "made_by": rep["made_by"], "made_at": rep["made_at"],
            "buckets": [BUCKET_LABELS[b] for b in BUCKETS],
            "rows": [{**r, **{k: as_json(r[k]) for k in money}} for r in rep["rows"]],
            "totals": {k: as_json(v) for k, v in rep["totals"].items()}}


def report_csv(rep: dict) -> str:
    """A report as CSV: one row per payer/patient, then a TOTAL row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    extra = ["account_no"] if rep["by"] == "patient" else []
    writer.writerow([rep["by"], *extra, *[BUCKET_LABELS[b] for b in BUCKETS], "total"])
    for r in rep["rows"]:
        writer.writerow([text_cell(r["name"]), *[text_cell(r.get(e, "")) for e in extra],
                         *[as_json(r[b]) for b in BUCKETS],
                         as_json(r["total"])])
    writer.writerow(["TOTAL", *["" for _ in extra], *[as_json(rep["totals"][b]) for b in BUCKETS],
                     as_json(rep["totals"]["total"])])
    return buf.getvalue()


def report_text(rep: dict) -> str:
    """A report as an aligned plain-text table."""
    head = [rep["by"].capitalize(), *[BUCKET_LABELS[b] for b in BUCKETS], "Total"]
    body = [[r["name"], *[fmt(r[b]) for b in BUCKETS], fmt(r["total"])] for r in rep["rows"]]
    body.append(["TOTAL", *[fmt(rep["totals"][b]) for b in BUCKETS], fmt(rep["totals"]["total"])])
    widths = [max(len(str(row[i])) for row in [head, *body]) for i in range(len(head))]
    lines = [f"Aging as of {rep['as_of'].isoformat()} by {rep['by']} ({rep['mode_label']}; aged from "
             f"{'the date of service' if rep['basis'] == 'service' else 'the last activity'})"]
    for row in [head, *body]:
        lines.append("  ".join([str(row[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(row[1:], widths[1:])]))
    return "\n".join(lines)

