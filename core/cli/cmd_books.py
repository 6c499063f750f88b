"""The books: ``daysheet show|close``, ``provider activity``, ``eob post``, ``audit``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, load_object, output_file, parse_date, write_output
from claimdesk.core.cli.output import Result, money, pairs, table
from claimdesk.core.errors import ClaimdeskError, InputError, renamed
from claimdesk.core.services import daysheets, eobs, views

BOOK_MONEY = ("ar_change", "charges", "payments", "adjustments", "reversals", "returned_check_fees",
              "paid", "split_balance")


def register(subparsers) -> None:
    """Add daysheet, provider, eob and audit."""
    ds = group(subparsers, "daysheet", "The day's batch of entries")
    command(ds, "show", "Entries and AR change by kind on a day", show_daysheet).add_argument(
        "--date", help="YYYY-MM-DD (default today)")
    command(ds, "close", "Close a daysheet: it takes no new entries", close_daysheet).add_argument(
        "--date", help="YYYY-MM-DD (default today)")
    pv = group(subparsers, "provider", "Provider reports")
    p = command(pv, "activity", "Charges, payments, adjustments, reversals per provider", provider_activity)
    p.add_argument("--from", dest="start", required=True, metavar="DATE")
    p.add_argument("--to", dest="end", required=True, metavar="DATE")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--out", metavar="FILE", help="also write the CSV to FILE")
    es = group(subparsers, "eob", "Explanations of benefits")
    command(es, "post", "Post one EOB (manual entry)", post_eob).add_argument(
        "--data", required=True, metavar="JSON",
        help='{"encounter_id":..,"payer_id":..,"voucher_id":..,"lines":[{"charge_id":..,"paid":"80.00",...}]}')
    p = command(subparsers, "audit", "Audit events, newest first", audit)
    p.add_argument("--encounter", metavar="ENC",
                   help="events about this encounter: those naming it and those that posted to its charges")
    p.add_argument("--user", dest="audit_user", metavar="U", help="only events by this user")
    p.add_argument("--limit", type=int, default=50)
    audit_sub = p.add_subparsers(title="audit commands", metavar="COMMAND")
    a = command(audit_sub, "anchor", "Write the audit chain's head outside the database (a file, syslog), "
                                     "for verify --anchor to check later", anchor)
    a.add_argument("--to", metavar="FILE", help="append the head to FILE (one a clerk cannot write)")
    a.add_argument("--syslog", action="store_true", help="send the head to the system log")


def show_daysheet(args) -> Result:
    """A daysheet: its totals by kind, then its entries oldest first."""
    d = daysheets.daysheet_summary(parse_date(args.date, "date"))
    rows = [{"kind": k, "entries": v["entries"], "ar": money(v["ar_change"])} for k, v in sorted(d["by_kind"].items())]
    text = pairs([("daysheet", d["day"]), ("status", d["status"]), ("entries", d["entries"])])
    if rows:
        text += "\n\n" + table(rows, [("kind", "kind"), ("entries", "entries"), ("AR change", "ar")],
                               right=("entries", "ar"))
    if d["journal"]:
        journal = [{**e, "time": (e["posted_at"] or "")[11:16], "ar": money(e["ar_change"]),
                    "memo": e["memo"] + (f" (reverses {e['reverses']})" if e["reverses"] else "")}
                   for e in d["journal"]]
        text += "\n\n" + table(journal, [("entry", "entry_id"), ("time", "time"), ("kind", "kind"),
                                         ("user", "user"), ("AR change", "ar"), ("memo", "memo")],
                               right=("entry_id", "ar"))
        if d["journal_truncated"]:
            text += f"\n(showing the first {len(journal)} of {d['entries']} entries: --json has the same)"
    return Result(d, text, money=BOOK_MONEY)


def close_daysheet(args) -> Result:
    """Close a daysheet."""
    try:
        res = daysheets.close_daysheet(parse_date(args.date, "date"))
    except ClaimdeskError as exc:
        raise renamed(exc, {"day": "date"}) from None
    return Result(res, f"daysheet {res['day']} closed")


def provider_activity(args) -> Result:
    """The payroll view per provider."""
    start, end = parse_date(args.start, "from"), parse_date(args.end, "to")
    out = output_file(args.out, "out")
    if start is None or end is None:  # pragma: no cover - argparse requires both
        raise InputError({"from": ["give --from and --to"]})
    try:
        rows = daysheets.provider_activity(start, end)
    except ClaimdeskError as exc:
        raise renamed(exc, {"start": "from", "end": "to"}) from None
    cols = daysheets.ACTIVITY_COLUMNS
    csv_text = daysheets.provider_activity_csv(rows)
    write_output(out, "out", csv_text)
    text = table([{"provider": r["provider"], **{c: money(r[c]) for c in cols}} for r in rows],
                 [("provider", "provider"), ("charges", "charges"), ("payments", "payments"),
                  ("adjustments", "adjustments"), ("reversals", "reversals"), ("rc fees", "returned_check_fees")],
                 right=cols)
    data = {"from": start.isoformat(), "to": end.isoformat(), "providers": rows}
    if args.csv:
        return Result(data, csv_text.rstrip("\n"), money=BOOK_MONEY)
    return Result(data, f"provider activity {start} to {end}\n{text}", money=BOOK_MONEY)


def post_eob(args) -> Result:
    """Post an EOB from JSON."""
    res = eobs.post_eob(load_object(args.data, "data"))
    lines = [f"EOB {res['eob_id']} posted on encounter {res['encounter_id']} ({res['rank']}): "
             f"{money(res['paid'])} paid" + (", denied" if res["denied"] else "")]
    lines += [f"  charge {ln['charge_id']}: {money(ln['paid'])} paid, split balance {money(ln['split_balance'])}"
              + (" DENIED" if ln["denied"] else "") for ln in res["lines"]]
    return Result(res, "\n".join(lines), money=BOOK_MONEY)


def audit(args) -> Result:
    """Audit events newest first (every column a person audits, inputs and result too)."""
    if args.limit < 1:
        raise InputError({"limit": ["must be at least 1"]})
    rows = views.audit_events(args.encounter, user=args.audit_user, limit=args.limit)
    text = table([{**r, "entries": ",".join(map(str, r["entries"]))} for r in rows],
                 [("id", "audit_id"), ("at", "at"), ("user", "user"), ("action", "action"),
                  ("enc", "encounter_id"), ("entries", "entries"), ("reason", "reason")])
    return Result(rows, text)

def anchor(args) -> Result:
    """Append the audit chain's head (``at id:hash``) to a file and/or the system log."""
    from claimdesk.core.services import anchors

    if not args.to and not args.syslog:
        raise InputError({"to": ["say where the head goes: --to FILE and/or --syslog"]})
    res = anchors.anchor(args.to, syslog=args.syslog)
    where = " and ".join(filter(None, [res["file"], "the system log" if args.syslog else ""]))
    return Result(res, f"audit chain head {res['head']} written to {where}; later: "
                       f"claimdesk verify --anchor {res['file'] or 'FILE'}")
