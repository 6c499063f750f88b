"""Daysheets (the day's batch of entries) and the provider activity report."""

from __future__ import annotations

import csv
import io

import datetime as dt

from peewee import fn

from claimdesk.core import clock, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.letters import sort_key
from claimdesk.core.money import as_json
from claimdesk.core.models import Charge, Daysheet, JournalEntry, Posting, Provider
from claimdesk.core.posting.charges import RESTATED
from claimdesk.core.spreadsheet import text_cell
from claimdesk.core.validation import check_business_date


#: Entries a daysheet summary lists one by one (its counts and totals cover every entry).
JOURNAL_LIMIT = 500


def daysheet_summary(day: dt.date | None = None, *, limit: int = JOURNAL_LIMIT) -> dict:
    """One day's daysheet (today by default): its status, entries and AR change by kind,
    and the entries themselves oldest first (``journal``: id, time, kind, memo, user,
    the entry it reverses, and ``ar_change``: its effect on receivables, + = owed rose),
    at most ``limit`` of them (``journal_truncated`` says when there are more). A day outside
    the business window (0001-01-01, 2099-01-01) is refused naming ``day``."""
    day = check_business_date(day, "day") or clock.today()
    sheet = Daysheet.get_or_none(Daysheet.day == day)
    if sheet is None:
        return {"day": day.isoformat(), "status": "not opened", "entries": 0, "by_kind": {},
                "journal": [], "journal_truncated": False}
    rows = (JournalEntry.select(JournalEntry.kind, fn.COUNT(JournalEntry.id))
            .where(JournalEntry.daysheet == sheet.id).group_by(JournalEntry.kind).tuples())
    ar = (Posting.select(JournalEntry.kind, fn.SUM(Posting.amount)).join(JournalEntry)
          .where((JournalEntry.daysheet == sheet.id) & (Posting.account == "AR"))
          .group_by(JournalEntry.kind).tuples())
    ar_by_kind = dict(ar)
    entries = list(JournalEntry.select(JournalEntry.id, JournalEntry.posted_at, JournalEntry.kind,
                                       JournalEntry.memo, JournalEntry.created_by, JournalEntry.reverses)
                   .where(JournalEntry.daysheet == sheet.id)
                   .order_by(JournalEntry.id).limit(limit).tuples())
    ids = [e[0] for e in entries]
    ar_by_entry: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        ar_by_entry.update((eid, int(total)) for eid, total in
                           Posting.select(Posting.entry, fn.SUM(Posting.amount))
                           .where(Posting.entry.in_(chunk) & (Posting.account == "AR"))
                           .group_by(Posting.entry).tuples())
    journal = [{"entry_id": eid, "posted_at": at.isoformat(timespec="seconds") if at else None, "kind": kind,
                "memo": memo, "user": user, "reverses": reverses, "ar_change": ar_by_entry.get(eid, 0)}
               for eid, at, kind, memo, user, reverses in entries]
    total = sum(n for _, n in rows)
    return {"day": day.isoformat(), "status": sheet.status, "daysheet_id": sheet.id,
            "entries": total,
            "by_kind": {k: {"entries": n, "ar_change": int(ar_by_kind.get(k, 0))} for k, n in rows},
            "journal": journal, "journal_truncated": total > len(journal)}


def close_daysheet(day: dt.date | None = None) -> dict:
    """Workflow: close a daysheet; it takes no new entries afterwards. A day still to come
    cannot be closed (its entries have not been made)."""
    day = check_business_date(day, "day") or clock.today()
    if day > clock.today():
        raise Refused(f"{day} is in the future (today is {clock.today()}); only today's or an "
                      "earlier daysheet can be closed", field="day")

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
    """Per provider, for entries posted in [start, end]: the payroll view. Amounts in cents.

    The columns never overlap, so each one's TOTAL is a true sum and together they
    account for every change to the receivable of the provider's charges
    (net AR change = charges + returned_check_fees - payments - adjustments + reversals):

    - ``charges``: fees of the services charged (REVENUE), not counting returned-check
      fee charges, which have their own column; + raises what is owed.
    - ``payments``: money applied to the provider's charges; + lowers what is owed.
    - ``adjustments``: contractual adjustments and write-offs; + lowers what is owed.
    - ``reversals``: the AR effect of reversing entries (a returned check, an undone
      write-off, a voided charge), signed like the balance: + means the amount owed
      rose (a $50 payment reversed by a returned check is +50.00, a $110 write-off
      undone is +110.00), - means it fell (a voided $80 charge is -80.00; when its charge
      entry held other lines, the entry restating them counts here too, so only the $80 shows).
    - ``returned_check_fees``: returned-check fee charges; + raises what is owed.
    """
    check_business_date(start, "start")
    check_business_date(end, "end")
    if end < start:
        raise Refused("the end date is before the start date", field="end")
    in_range = (JournalEntry.posted_on >= start) & (JournalEntry.posted_on <= end)
    stats: dict[int, dict] = {}

    def bucket(pid):
        return stats.setdefault(pid, dict.fromkeys(ACTIVITY_COLUMNS, 0))

    originals = (Posting.select(Charge.provider, Charge.kind, Posting.account, fn.SUM(Posting.amount))
                 .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
                 .join(Charge, on=(Posting.charge == Charge.id))
                 .where(in_range & JournalEntry.reverses.is_null(True) & (JournalEntry.kind != RESTATED)
                        & Posting.account.in_(["REVENUE", "UNAPPLIED", "CONTRACTUAL", "WRITEOFF"]))
                 .group_by(Charge.provider, Charge.kind, Posting.account).tuples())
    for pid, charge_kind, account, total in originals:
        b, total = bucket(pid), int(total)
        if account == "REVENUE":
            b["returned_check_fees" if charge_kind == "returned_check_fee" else "charges"] += -total
        elif account == "UNAPPLIED":
            b["payments"] += total
        else:
            b["adjustments"] += total
    reversals = (Posting.select(Charge.provider, fn.SUM(Posting.amount))
                 .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
                 .join(Charge, on=(Posting.charge == Charge.id))
                 .where(in_range & (JournalEntry.reverses.is_null(False) | (JournalEntry.kind == RESTATED))
                        & (Posting.account == "AR"))
                 .group_by(Charge.provider).tuples())
    for pid, total in reversals:
        bucket(pid)["reversals"] += int(total)
    names = dict(Provider.select(Provider.id, Provider.name).tuples())
    return [{"provider_id": pid, "provider": names.get(pid, "?"), **vals}
            for pid, vals in sorted(stats.items(), key=lambda kv: sort_key(names.get(kv[0], "")))]


#: The report's money columns (see :func:`provider_activity` for what each holds and its sign).
ACTIVITY_COLUMNS = ("charges", "payments", "adjustments", "reversals", "returned_check_fees")


def provider_activity_csv(rows: list[dict]) -> str:
    """The provider activity report as CSV (money as 12.50), with a TOTAL row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["provider_id", "provider", *ACTIVITY_COLUMNS])
    for r in rows:
        writer.writerow([r["provider_id"], text_cell(r["provider"]), *[as_json(r[c]) for c in ACTIVITY_COLUMNS]])
    writer.writerow(["", "TOTAL", *[as_json(sum(r[c] for r in rows)) for c in ACTIVITY_COLUMNS]])
    return buf.getvalue()
