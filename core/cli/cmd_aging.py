"""Aging: ``aging recalc`` rebuilds the snapshot; ``aging report`` prints it (text, --json, --csv)."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, output_file, write_output
from claimdesk.core.cli.output import Result, pairs
from claimdesk.core.money import fmt
from claimdesk.core.services import aging


def register(subparsers) -> None:
    """Add the ``aging`` group."""
    sub = group(subparsers, "aging", "Open balances bucketed by age (0-30, 31-60, 61-90, 91-120, 120+)")
    p = command(sub, "recalc", "Rebuild the aging snapshot as of a base date", recalc)
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="base date YYYY-MM-DD (default today)")
    p.add_argument("--basis", choices=aging.BASES, help="age from the date of service or the last activity "
                                                        "(default: [aging] basis setting)")
    p.add_argument("--mode", choices=("point-in-time", "base-date"), default="point-in-time",
                   help="point-in-time: the balances on that date (month end); base-date: today's balances "
                        "aged from that date")
    p = command(sub, "report", "The aging report by payer or by patient", report)
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="snapshot date (default: the newest)")
    p.add_argument("--by", choices=("payer", "patient"), default="payer")
    p.add_argument("--csv", action="store_true", help="print CSV")
    p.add_argument("--out", metavar="FILE", help="also write the CSV to FILE")


def recalc(args) -> Result:
    """Rebuild the snapshot."""
    res = aging.recalc(args.as_of, args.basis, mode=args.mode.replace("-", "_"))
    t = res["totals"]
    items = [("as of", res["as_of"]), ("mode", res["mode_label"]), ("basis", res["basis"]), ("rows", res["rows"])]
    items += [(aging.BUCKET_LABELS[b], fmt(t[b])) for b in aging.BUCKETS] + [("total", fmt(t["total"]))]
    return Result(res, pairs(items), money=("totals",))


def report(args) -> Result:
    """Print the report."""
    out = output_file(args.out, "out")
    rep = aging.report(args.as_of, by=args.by)
    csv_text = aging.report_csv(rep)
    write_output(out, "out", csv_text)
    text = csv_text.rstrip("\n") if args.csv else aging.report_text(rep)
    return Result(aging.report_json(rep), text)
