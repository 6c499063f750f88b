"""835 remittances: ``claimdesk era import FILE... [--dry-run]``, ``era exceptions``, ``era resolve``.

``era import`` prints per file and payment what was (or, with ``--dry-run``, would be) posted:
the voucher, the claims posted, denied, reversed, informational and the exceptions with their
reasons, the PLB adjustments; ``--json`` prints
:meth:`~claimdesk.core.services.era_report.EraReport.as_dict`. Exit code 0 when every file was
read and no payment was refused (exceptions are listed, not failures); 1 otherwise.
"""

from __future__ import annotations

from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result
from claimdesk.core.money import fmt
from claimdesk.core.services import era_exceptions, era_import
from claimdesk.core.services.era_report import EraReport, FileReport, PaymentReport, tally_text

#: Claims listed one by one per payment in the text report (exceptions are always listed).
SHOWN_CLAIMS = 12


def register(subparsers) -> None:
    """Add ``era import``, ``era exceptions`` and ``era resolve``."""
    sub = group(subparsers, "era", "Payers' 835 remittances (ERA)")
    p = command(sub, "import", "Post 835 remittance files: each payment becomes a voucher, each claim an EOB; "
                               "balanced to the cent, never twice; exceptions wait with their reason", import_era)
    p.add_argument("files", nargs="+", metavar="FILE", help="835 files (005010X221A1)")
    p.add_argument("--dry-run", action="store_true", help="read, balance and match everything, post nothing (a preview)")
    p.add_argument("--retry", action="store_true", help="for payments posted before: post the claims of theirs still "
                                                        "waiting as exceptions that pass now")
    p = command(sub, "exceptions", "The remittance claims waiting for a clerk, with their reasons", exceptions)
    p.add_argument("--limit", type=int, default=None, help="show at most this many")
    p = command(sub, "resolve", "Mark an ERA exception dealt with (posted by hand, refunded...)", resolve)
    p.add_argument("exception_id", type=int, metavar="ID", help="the exception's id (era exceptions lists them)")
    p.add_argument("--reason", required=True, help="what was done about it")


def import_era(args) -> Result:
    """Post (or preview) the files and print the report."""
    report = era_import.import_files(args.files, dry_run=args.dry_run, retry=args.retry)
    return Result(report.as_dict(), text(report), exit_code=0 if report.ok else 1)


def exceptions(args) -> Result:
    rows = era_exceptions.open_exceptions(args.limit)
    if not rows:
        return Result({"exceptions": []}, "no ERA exceptions wait")
    lines = [f"{len(rows)} ERA exception(s):"]
    for r in rows:
        where = f"encounter {r['encounter_id']}" if r["encounter_id"] else "no encounter matched"
        lines.append(f"  #{r['id']} claim {r['claim_no']} from {r['payer']} (trace {r['trace_number']}), paid "
                     f"{fmt(r['paid'])} waiting on voucher {r['voucher_id']}; {where}")
        lines.append(f"      {r['reason']}")
    return Result({"exceptions": rows}, "\n".join(lines))


def resolve(args) -> Result:
    out = era_exceptions.resolve(args.exception_id, {"reason": args.reason})
    queue = "; taken off the ERA exceptions queue" if out["left_queue"] else ""
    return Result(out, f"ERA exception {out['exception_id']} (claim {out['claim_no']}) resolved{queue}")


def text(report: EraReport) -> str:
    """The report for people: a block per file."""
    blocks = [_file_text(f) for f in report.files]
    if report.dry_run:
        blocks.append("dry run: nothing was posted")
    return "\n\n".join(blocks)


def _file_text(f: FileReport) -> str:
    if f.error:
        return f"{f.name}: not read: {f.error}"
    lines = [f"{f.name}: {len(f.payments)} payment(s) (file of {f.file_date}, control number {f.control_number})"]
    if f.already:
        lines.append(f"  {f.already}")
    for p in f.payments:
        lines += _payment_text(p)
    if f.warnings:
        lines.append("  warnings:")
        lines += [f"    {w}" for w in f.warnings]
    return "\n".join(lines)


def _payment_text(p: PaymentReport) -> list[str]:
    head = f"  payment {p.trace_number} from {p.payer_name or '?'}: {fmt(p.amount)} {p.method}"
    if p.paid_on:
        head += f" on {p.paid_on}"
    if p.status in ("refused", "already"):
        return [head, f"    {'REFUSED' if p.status == 'refused' else 'already posted'}: {p.reason}"]
    verb = {"preview": "would post", "retry-preview": "retry would post from voucher {v}",
            "retried": "retried from voucher {v}"}.get(p.status, "posted as voucher {v}").format(v=p.voucher_id)
    counts = tally_text(p.tallies, ahead=p.status.endswith("preview"))
    lines = [head, f"    {verb}: {counts}; claims pay {fmt(p.posted_paid)}"
                   + (f"; {fmt(p.undistributed)} stays undistributed" if p.undistributed else "")]
    if p.provider_adjustments:
        lines.append("    provider-level (PLB): " + ", ".join(
            f"{a['reason']}{' ' + a['reference'] if a['reference'] else ''} {fmt(a['amount'])}"
            for a in p.provider_adjustments))
    shown = [c for c in p.claims if c.action != "exception"][:SHOWN_CLAIMS]
    for c in shown:
        what = {"post": f"EOB {c.eob_id}" if c.eob_id else "EOB", "deny": f"to {c.queue or 'denied'}: {c.reason}",
                "reverse": f"takes back EOB {c.reverses}", "informational": c.reason}[c.action]
        cross = " (crossed over)" if c.crossed_over else ""
        who = f" ({c.patient_name})" if c.patient_name else ""
        lines.append(f"    {c.claim_no}: {c.status_text}, paid {fmt(c.paid)}, encounter {c.encounter_id}{who}: {what}{cross}")
    hidden = sum(1 for c in p.claims if c.action != "exception") - len(shown)
    if hidden > 0:
        lines.append(f"    ... and {hidden} more (--json lists them all)")
    exceptions = [c for c in p.claims if c.action == "exception"]
    if exceptions:
        lines.append("    exceptions (to the ERA exceptions queue):")
        lines += [f"      {c.claim_no} (line {c.line}): {c.reason}" for c in exceptions]
    return lines
