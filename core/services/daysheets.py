"""Daysheets (the day's batch of entries) and the provider activity report."""

from __future__ import annotations

import csv
import io

import datetime as dt

from peewee import fn

from claimdesk.core import clock, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.money import as_json
from claimdesk.core.models import Charge, Daysheet, JournalEntry, Posting, Provider
from claimdesk.core.services.common import get


def daysheet_summary(day: dt.date | None = None) -> dict:
    """Entries and totals by kind on one day's daysheet (today by default)."""
    day = day or clock.today()
    sheet = Daysheet.get_or_none(Daysheet.day == day)
    if sheet is None:
        return {"day": day.isoformat(), "status": "not opened", "entries": 0, "by_kind": {}}
    rows = (JournalEntry.select(JournalEntry.kind, fn.COUNT(JournalEntry.id))
            .where(JournalEntry.daysheet == sheet.id).group_by(JournalEntry.kind).tuples())
    ar = (Posting.select(JournalEntry.kind, fn.SUM(Posting.amount)).join(JournalEntry)
          .where((JournalEntry.daysheet == sheet.id) & (Posting.account == "AR"))
          .group_by(JournalEntry.kind).tuples())
    ar_by_kind = dict(ar)
    return {"day": day.isoformat(), "status": sheet.status, "daysheet_id": sheet.id,
            "entries": sum(n for _, n in rows),
            "by_kind": {k: {"entries": n, "ar_change": int(ar_by_kind.get(k, 0))} for k, n in rows}}


def close_daysheet(day: dt.date | None = None) -> dict:
    """Workflow: close a daysheet; it takes no new entries afterwards."""
    day = day or clock.today()

    def body():
        sheet = Daysheet.get_or_none(Daysheet.day == day)
        if sheet is None:
            sheet = Daysheet.create(day=day)
        if sheet.status == "closed":
            raise Refused(f"the daysheet for {day} is already closed", field="day")
        Daysheet.update(status="closed", closed_at=clock.now(), closed_by=current_user()).where(
            Daysheet.id == sheet.id).execute()
        return {"day": day.isoformat(), "status": "closed"}

    return workflow.run("daysheet.close", body, inputs={"day": day})


def provider_activity(start: dt.date, end: dt.date) -> list[dict]:
    """Per provider, for entries posted in [start, end]: the payroll view.

    charges (fees posted), payments (applied to the provider's charges), adjustments
    (contractual and write-offs), reversals (net AR effect of reversing entries, e.g.
    returned checks) and returned-check fees. Amounts in cents.
    """
    if end < start:
        raise Refused("the end date is before the start date", field="end")
    in_range = (JournalEntry.posted_on >= start) & (JournalEntry.posted_on <= end)
    stats: dict[int, dict] = {}

    def bucket(pid):
        return stats.setdefault(pid, {"charges": 0, "payments": 0, "adjustments": 0,
                                      "reversals": 0, "returned_check_fees": 0})

    q = (Posting.select(Charge.provider, Charge.kind, Posting.account, JournalEntry.kind,
                        JournalEntry.reverses.is_null(False), fn.SUM(Posting.amount))
         .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
         .join(Charge, on=(Posting.charge == Charge.id))
         .where(in_range & Posting.account.in_(["REVENUE", "UNAPPLIED", "CONTRACTUAL", "WRITEOFF"]))
         .group_by(Charge.provider, Charge.kind, Posting.account, JournalEntry.kind,
                   JournalEntry.reverses.is_null(False)).tuples())
    for pid, charge_kind, account, _kind, is_reversal, total in q:
        b = bucket(pid)
        total = int(total)
        if is_reversal:
            b["reversals"] += -total if account == "UNAPPLIED" else total
            continue
        if account == "REVENUE":
            b["charges"] += -total
            if charge_kind == "returned_check_fee":
                b["returned_check_fees"] += -total
        elif account == "UNAPPLIED":
            b["payments"] += total
        else:
            b["adjustments"] += total
    names = dict(Provider.select(Provider.id, Provider.name).tuples())
    return [{"provider_id": pid, "provider": names.get(pid, "?"), **vals}
            for pid, vals in sorted(stats.items(), key=lambda kv: names.get(kv[0], ""))]


ACTIVITY_COLUMNS = ("charges", "payments", "adjustments", "reversals", "returned_check_fees")


def provider_activity_csv(rows: list[dict]) -> str:
    """The provider activity report as CSV (money as 12.50), with a TOTAL row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["provider_id", "provider", *ACTIVITY_COLUMNS])
    for r in rows:
        writer.writerow([r["provider_id"], r["provider"], *[as_json(r[c]) for c in ACTIVITY_COLUMNS]])
    writer.writerow(["", "TOTAL", *[as_json(sum(r[c] for r in rows)) for c in ACTIVITY_COLUMNS]])
    return buf.getvalue()
