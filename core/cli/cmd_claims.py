"""Claims: ``claims batch|export|queued|requeue|void|zero-splits|mark-zero-paid``."""

from __future__ import annotations

from pathlib import Path

from claimdesk.core.cli.common import command, group, output_dir, writing
from claimdesk.core.cli.output import Result, money, pairs, table
from claimdesk.core.services import claim_export, claims, zero_splits

CLAIM_MONEY = ("total_due",)


def register(subparsers) -> None:
    """Add the ``claims`` group."""
    sub = group(subparsers, "claims", "Claims to payers: batches, resending, Outstanding Zero Splits")
    p = command(sub, "batch", "Build the next claim batch per payer and write its JSON and CSV export", batch)
    p.add_argument("--payer", metavar="PAYER_ID", help="only this payer's queued claims")
    p.add_argument("--out", metavar="DIR", help="where the export files go (default: [exports] dir)")
    p = command(sub, "export", "Write claims as an 837P: the next batches, or one batch again (--batch)", export)
    p.add_argument("--format", choices=["837"], default="837", help="the file format (837P 005010X222A1)")
    p.add_argument("--batch", metavar="BATCH_ID", help="write this batch's 837P again, under a new control number")
    p.add_argument("--payer", metavar="PAYER_ID", help="only this payer's queued claims (without --batch)")
    p.add_argument("--out", metavar="DIR", help="where the files go (default: [exports] dir)")
    p = command(sub, "queued", "Claims waiting for the next batch", list_queued)
    p.add_argument("--payer", metavar="PAYER_ID")
    p = command(sub, "requeue", "Queue a sent claim again (resend) for the payer's next batch", requeue)
    p.add_argument("claim_id", metavar="CLAIM_ID")
    p.add_argument("--reason", default="", help="why it is sent again")
    p = command(sub, "void", "Ask the payer to void a claim it adjudicated (an 837P of frequency 8)", void)
    p.add_argument("claim_id", metavar="CLAIM_ID")
    p.add_argument("--reason", required=True, help="why the claim is voided")
    p = command(sub, "zero-splits", "Outstanding Zero Splits: zero-fee charges waiting for the primary", zero_list)
    p.add_argument("--search", default="", metavar="TEXT",
                   help="only rows matching every word (patient, payer, code, date, charge or encounter number)")
    p = command(sub, "mark-zero-paid", "Mark the primary paid on tagged zero-fee charges; queue secondaries",
                mark_zero_paid)
    p.add_argument("charge_ids", nargs="+", metavar="CHARGE_ID")


def batch(args) -> Result:
    """Build batches and print where each export went, and the claims held back."""
    out = output_dir(args.out, "out") or args.settings.export_dir
    with writing("out" if args.out else "[exports] dir", out):
        res = claims.build_batch(args.payer, out_dir=out)
    parts = []
    if res["batches"]:
        rows = [{**b, "due": money(b["total_due"]), "file": Path(b.get("x12") or b["json"]).name}
                for b in res["batches"]]
        where = Path(res["batches"][0]["json"]).parent
        parts.append(f"{res['claims_sent']} claim(s) sent in {len(rows)} batch(es), files in {where}")
        parts.append(table(rows, [("batch", "batch_id"), ("payer", "payer"), ("claims", "claims"), ("due", "due"),
                                  ("file", "file")], right=("claims", "due")))
    else:
        parts.append("no claim sent: every queued claim is held" if res["held"] else "no claims queued: no batch made")
    if res["held"]:
        parts.append(f"{len(res['held'])} claim(s) held in the queue (not sent):")
        parts.append(held_table(res["held"]))
    if not res["x12"] and res["batches"]:
        parts.append("no 837P written: set " + ", ".join(res["x12_missing"]) + " in the config file")
    return Result(res, "\n".join(parts), money=CLAIM_MONEY)


def held_table(held: list[dict]) -> str:
    """Claims left out of an 837P, with the reason."""
    return table(held, [("claim", "claim_id"), ("enc", "encounter_id"), ("patient", "patient"),
                        ("payer", "payer"), ("why", "reason")])


def export(args) -> Result:
    """Write an 837P: the next batches, or one batch again."""
    if args.batch is None:
        claim_export.billing_provider(args.settings.clinic)  # refused naming the [clinic] key to set
        return batch(args)
    out = output_dir(args.out, "out") or args.settings.export_dir
    with writing("out" if args.out else "[exports] dir", out):
        res = claim_export.export_batch(args.batch, out_dir=out)
    text = (f"batch {res['batch_id']} ({res['payer']}): {res['claims']} claim(s), {money(res['total'])}, "
            f"control number {res['control_number']}\n{res['path']}")
    if res["held"]:
        text += f"\n{len(res['held'])} claim(s) of the batch left out:\n" + held_table(res["held"])
    return Result(res, text, money=("total",))


def list_queued(args) -> Result:
    """Claims waiting for the next batch."""
    rows = claims.queued_list(args.payer)
    text = table([{**r, "resend": "void" if r["voids"] else "yes" if r["resend"] else ""} for r in rows],
                 [("claim", "claim_id"), ("payer", "payer"), ("rank", "rank"), ("enc", "encounter_id"),
                  ("patient", "patient"), ("resend", "resend"), ("queued", "queued_at")])
    return Result(rows, text)


def requeue(args) -> Result:
    """Queue a sent claim again."""
    res = claims.requeue(args.claim_id, args.reason)
    return Result(res, f"claim {res['requeued_from']} queued again as claim {res['claim_id']} "
                       f"({res['rank']}, encounter {res['encounter_id']}) for the next batch")


def void(args) -> Result:
    """Queue a void of a sent claim."""
    res = claims.void(args.claim_id, args.reason)
    return Result(res, f"claim {res['voids']} will be voided at {res['payer']}: void claim {res['claim_id']} "
                       f"(frequency 8) queued for the next batch")


def zero_list(args) -> Result:
    """The Outstanding Zero Splits list."""
    rows = zero_splits.outstanding(args.search)
    text = table(rows, [("charge", "charge_id"), ("enc", "encounter_id"), ("patient", "patient"),
                        ("dos", "dos"), ("code", "code"), ("primary", "primary"), ("secondary", "secondary")])
    return Result(rows, text)


def mark_zero_paid(args) -> Result:
    """Mark the primary paid on the tagged charges."""
    res = zero_splits.mark_primary_paid(args.charge_ids)
    items = [("marked paid", ", ".join(map(str, res["marked"]))),
             ("secondary claims queued", len(res["queued_claims"]))]
    if res["no_secondary"]:
        items.append(("no secondary payer", ", ".join(map(str, res["no_secondary"]))))
    return Result(res, pairs(items))
