"""Money given back: ``credit balances`` (the credit balance report), ``refund add|list|show|
approve|reverse|methods``, ``refund recoup|match|candidates`` (a payer's overpayment taken back
from a later check). Every rule is in :mod:`claimdesk.core.services.refunds`."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, load_object, parse_date
from claimdesk.core.cli.output import Result, money, table
from claimdesk.core.services import credit_balances, refunds


def register(subparsers) -> None:
    """Add ``credit balances`` and the ``refund`` group."""
    cs = group(subparsers, "credit", "Credits: money drawn from a voucher onto a patient account")
    p = command(cs, "balances", "Every account holding money (unapplied, undistributed, overpaid claims), "
                "with its age", balances)
    p.add_argument("--sort", choices=credit_balances.SORTS, default="age",
                   help="age: oldest money first (default); amount: largest first")
    p.add_argument("--as-of", dest="as_of", metavar="DATE", help="age as of this date (default today)")
    p.add_argument("--csv", action="store_true", help="print CSV")

    rs = group(subparsers, "refund", "Refunds: give back a patient's unapplied money or a payer's overpayment")
    p = command(rs, "add", "Refund money a patient or a payer holds (by a refund method plugin)", add)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient", metavar="ID", help="refund this patient's unapplied money")
    who.add_argument("--payer", metavar="ID", help="refund this payer's undistributed money or overpayment")
    p.add_argument("--amount", required=True, metavar="AMOUNT", help="e.g. 40.00")
    p.add_argument("--method", required=True, metavar="KEY", help="refund method (see `claimdesk refund methods`)")
    p.add_argument("--details", metavar="JSON", help="the method's fields, e.g. {\"check_number\": \"5001\"}")
    p.add_argument("--reason", required=True)
    p.add_argument("--reference", default="", help="reference (default: the method's, e.g. the check number)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--credit", metavar="ID", help="take the money from this credit only")
    src.add_argument("--voucher", metavar="ID", help="take the money from this voucher only")

    p = command(rs, "list", "Refunds and recoupments, newest first", list_refunds)
    p.add_argument("--status", choices=("awaiting_approval", "issued", "awaiting_recoupment", "recouped", "reversed"))
    p.add_argument("--patient", metavar="ID")
    p.add_argument("--payer", metavar="ID")
    p = command(rs, "show", "One refund and its journal entries", show)
    p.add_argument("refund_id", metavar="REFUND")
    p = command(rs, "approve", "Approve (and issue) a refund above the supervisor limit (supervisor)", approve)
    p.add_argument("refund_id", metavar="REFUND")
    p = command(rs, "reverse", "Undo a refund or a recoupment: its money back where it was", reverse)
    p.add_argument("refund_id", metavar="REFUND")
    p.add_argument("--reason", required=True)
    command(rs, "methods", "The refund methods installed (plugins)", list_methods)

    p = command(rs, "recoup", "Record a payer's overpayment it will take back from a later check", recoup)
    p.add_argument("--payer", required=True, metavar="ID")
    p.add_argument("--amount", required=True, metavar="AMOUNT")
    p.add_argument("--reason", required=True)
    p.add_argument("--claim", dest="claim_ref", default="", metavar="CLAIM_NO",
                   help="the claim number the payer's PLB will name (default: the encounter's)")
    p.add_argument("--encounter", metavar="ID")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--credit", metavar="ID")
    src.add_argument("--voucher", metavar="ID")
    p = command(rs, "match", "Match a recoupment with the later check that took it back (835 PLB WO)", match)
    p.add_argument("refund_id", metavar="REFUND")
    p.add_argument("--voucher", required=True, metavar="ID", help="the payer's later voucher")
    p = command(rs, "candidates", "The payer's checks that could have taken a recoupment back", candidates)
    p.add_argument("refund_id", metavar="REFUND")


def _age(days: int) -> str:
    return f"{days}d"


def balances(args) -> Result:
    """The credit balance report."""
    rep = credit_balances.report(sort=args.sort, as_of=parse_date(args.as_of, "as_of"))
    if args.csv:
        return Result(rep, credit_balances.to_csv(rep).rstrip("\n"))
    rows = [{"who": f"{a['kind']} {a['id']}", "name": a["name"], "holds": money(a["holds"]),
             "since": a["since"] or "", "age": _age(a["age_days"]),
             "due": money(a["balance_due"]) if "balance_due" in a else "",
             "overpaid": money(a["overpaid_total"]) if a["overpaid_total"] else ""} for a in rep["accounts"]]
    text = table(rows, [("account", "who"), ("name", "name"), ("holds", "holds"), ("since", "since"),
                        ("age", "age"), ("due", "due"), ("overpaid", "overpaid")],
                 right=("holds", "age", "due", "overpaid"))
    text += (f"\n{rep['patients']} patient(s), {rep['payers']} payer(s) hold {money(rep['total'])} "
             f"(as of {rep['as_of']}, by {rep['sort']})")
    return Result(rep, text)


def _source(args) -> dict:
    out = {}
    if getattr(args, "credit", None) is not None:
        out["credit_id"] = args.credit
    if getattr(args, "voucher", None) is not None:
        out["voucher_id"] = args.voucher
    return out


def _line(r: dict) -> str:
    who = f"{r['payee']} {r['patient_id'] if r['payee'] == 'patient' else r['payer_id']} ({r['payee_name']})"
    what = "recoupment" if r["kind"] == "recoupment" else "refund"
    return f"{what} {r['refund_id']}: {money(r['amount'])} to {who}, {r['status'].replace('_', ' ')}"


def add(args) -> Result:
    """Make a refund."""
    data = {"payee": "patient" if args.patient is not None else "payer", "amount": args.amount,
            "method": args.method, "details": load_object(args.details, "details"), "reason": args.reason,
            "reference": args.reference, **_source(args)}
    data["patient_id" if args.patient is not None else "payer_id"] = args.patient or args.payer
    res = refunds.add_refund(data)
    lines = [_line(res)]
    for s in res["sources"]:
        lines.append(f"  from {s['kind']} {s['id']} (voucher {s['voucher_id']}): {money(s['taken'])}")
    if res["needs_approval"]:
        lines.append(f"  above {money(res['supervisor_above'])}: held until a supervisor runs "
                     f"`claimdesk refund approve {res['refund_id']}`")
    return Result(res, "\n".join(lines))


def list_refunds(args) -> Result:
    """List refunds."""
    rows = refunds.list_refunds(args.status, patient_id=args.patient, payer_id=args.payer)
    shown = [{**r, "amount_text": money(r["amount"]), "status_text": r["status"].replace("_", " "),
              "to": f"{r['payee']} {r['patient_id'] if r['payee'] == 'patient' else r['payer_id']}"} for r in rows]
    text = table(shown, [("id", "refund_id"), ("kind", "kind"), ("to", "to"), ("name", "payee_name"),
                         ("amount", "amount_text"), ("status", "status_text"), ("method", "method"),
                         ("reference", "reference"), ("on", "requested_on")], right=("amount_text",))
    return Result({"refunds": rows}, text)


def show(args) -> Result:
    """Show one refund."""
    res = refunds.show(args.refund_id)
    lines = [_line(res), f"  reason: {res['reason']}", f"  method: {res['method'] or '-'}  reference: "
             f"{res['reference'] or '-'}", f"  requested {res['requested_on']} by {res['requested_by']}",
             f"  entries: request {res['request_entry']}, settle {res['settle_entry'] or '-'}"]
    return Result(res, "\n".join(lines))


def approve(args) -> Result:
    """Approve a refund."""
    res = refunds.approve(args.refund_id)
    return Result(res, _line(res) + f" (approved by {res['approved_by']})")


def reverse(args) -> Result:
    """Reverse a refund."""
    res = refunds.reverse({"refund_id": args.refund_id, "reason": args.reason})
    return Result(res, _line(res))


def list_methods(args) -> Result:
    """List refund methods."""
    rows = refunds.methods()
    shown = [{**m, "for": ", ".join(m["payees"]), "fields_text": ", ".join(m["fields"])} for m in rows]
    return Result({"methods": rows}, table(shown, [("key", "key"), ("label", "label"), ("for", "for"),
                                                   ("fields", "fields_text")]))


def recoup(args) -> Result:
    """Record a recoupment."""
    data = {"payer_id": args.payer, "amount": args.amount, "reason": args.reason, "claim_ref": args.claim_ref,
            **_source(args)}
    if args.encounter is not None:
        data["encounter_id"] = args.encounter
    res = refunds.recoup(data)
    return Result(res, _line(res) + (f" (claim {res['claim_ref']})" if res["claim_ref"] else ""))


def match(args) -> Result:
    """Match a recoupment."""
    res = refunds.match_recoupment({"refund_id": args.refund_id, "voucher_id": args.voucher})
    return Result(res, _line(res) + f" on voucher {res['recouped_by_voucher']}")


def candidates(args) -> Result:
    """Candidate vouchers for a recoupment."""
    rows = refunds.recoupment_candidates(args.refund_id)
    shown = [{**c, "rec": money(c["recovered"]), "mat": money(c["matched"]), "names": "yes" if c["names_claim"] else ""}
             for c in rows]
    return Result({"candidates": rows}, table(shown, [("voucher", "voucher_id"), ("received", "received_on"),
                                                      ("recovered (WO)", "rec"), ("matched", "mat"),
                                                      ("names the claim", "names")]))
