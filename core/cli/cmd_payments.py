"""Money in: ``voucher create|list``, ``credit post|apply-unapplied``, ``payments post-batch``,
``check return``."""

from __future__ import annotations

import argparse

from claimdesk.core.cli.common import command, group, load_object
from claimdesk.core.cli.errors import NOT_FOUND, REFUSED
from claimdesk.core.cli.output import WIDTH, Result, money, pairs, table
from claimdesk.core.errors import ClaimdeskError, InputError, renamed, with_note
from claimdesk.core.models import Voucher
from claimdesk.core.validation import parse_id
from claimdesk.core.services import batch_posting, payment_views, payments, returns

PAY_MONEY = ("amount", "undistributed", "drawn", "applied_total", "unapplied", "returned_to_voucher",
             "voucher_undistributed", "balance_after", "returned_amount", "fee", "balance_increase_by_patient",
             "ar_increase_by_patient", "unapplied_removed_by_patient")


def register(subparsers) -> None:
    """Add voucher, credit and check groups."""
    vs = group(subparsers, "voucher", "Vouchers: checks, EFTs, cash... received from a payer")
    p = command(vs, "create", "Record money received from a payer", create_voucher)
    p.add_argument("--payer", required=True, metavar="ID", help="payer id (the Patient pseudo payer for patients)")
    _voucher_options(p, method_flag="--method", amount_flag="--amount")
    p = command(vs, "list", "Vouchers newest first, with undistributed money", list_vouchers)
    p.add_argument("--payer", metavar="ID")
    p.add_argument("--open", action="store_true",
                   help="only vouchers that still have undistributed money (not returned), oldest first")
    p.add_argument("--limit", metavar="N", default=str(payment_views.VOUCHER_LIMIT),
                   help=f"show at most N vouchers (default {payment_views.VOUCHER_LIMIT}; the output says when "
                        "more exist)")

    cs = group(subparsers, "credit", "Credits: money drawn from a voucher onto a patient account")
    p = command(cs, "post", "Draw from a voucher (existing or new) and apply to charges", post_credit)
    p.add_argument("--patient", required=True, metavar="ID")
    p.add_argument("--payer", metavar="ID", help="the payer of the voucher (required with --new-voucher)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--voucher", metavar="ID", help="draw from this voucher")
    src.add_argument("--new-voucher", metavar="METHOD", help="create a voucher of this payment method first")
    p.add_argument("--voucher-amount", metavar="AMOUNT", help="the new voucher's amount (default: --amount)")
    p.add_argument("--details", metavar="JSON", help="the new voucher's payment details, e.g. {\"check_number\": \"1234\"}")
    p.add_argument("--reference", help="the new voucher's reference")
    p.add_argument("--date", help="the new voucher's date received (YYYY-MM-DD)")
    p.add_argument("--amount", metavar="AMOUNT", help="amount to draw (default: all undistributed money)")
    _apply_options(p, allow_none=True)
    p.add_argument("--keep-unapplied", action="store_true", help="keep what is not applied on the patient's account")
    p.add_argument("--memo", default="")
    p = command(cs, "apply-unapplied", "Apply a credit's unapplied money to the same patient's charges",
                apply_unapplied)
    p.add_argument("--credit", required=True, metavar="ID")
    p.add_argument("--patient", required=True, metavar="ID")
    _apply_options(p, allow_none=False)

    ps = group(subparsers, "payments", "Batch posting: one payer check spread over many patients")
    p = command(ps, "post-batch", "Post a lockbox/ERA file: one credit per line drawn from one voucher, "
                "auto-applied oldest first, in one transaction", post_batch)
    p.add_argument("--voucher", required=True, metavar="ID", help="the payer's voucher (check) the lines draw from")
    p.add_argument("--file", required=True, metavar="FILE",
                   help="lines.csv (columns patient_id,amount[,memo]) or lines.json (a list of "
                        "{\"patient_id\", \"amount\", \"memo\"} or {\"lines\": [...]}); - reads the lines "
                        "from standard input (patient_id,amount[,memo] one per line, the header optional)")
    p.add_argument("--no-apply", dest="apply_mode", action="store_const", const="none", default="auto",
                   help="draw only; keep each credit's money unapplied")
    p.add_argument("--keep-unapplied", action="store_true",
                   help="keep what a line cannot apply on the patient's account (default: back to the voucher)")
    p.add_argument("--memo", default="", help="memo for the batch (and each credit without its own)")
    p.add_argument("--dry-run", action="store_true",
                   help="show, per line, what would be applied to which charges and returned to the voucher, "
                        "a warning for each line that applies nothing, and any refusal; post nothing")
    p.add_argument("--again", action="store_true",
                   help="post a file that was posted before (the same bytes): refused without it")

    ks = group(subparsers, "check", "Returned (bounced) checks")
    p = command(ks, "return", "Flag a voucher returned and reverse everything it paid", return_check)
    p.add_argument("voucher_id", metavar="VOUCHER")
    p.add_argument("--reason", required=True)
    p.add_argument("--fee-policy", default="none", metavar="KEY", help="returned-check fee policy (plugins)")
    p.add_argument("--fee", metavar="JSON", help="the fee policy's inputs, e.g. {\"amount\": \"25.00\", ...}")
    p.add_argument("--patient", metavar="ID", help="the patient to charge the fee to")


def _voucher_options(p, *, method_flag: str, amount_flag: str) -> None:
    p.add_argument(method_flag, dest="method", required=True, metavar="KEY", help="payment method (plugins)")
    p.add_argument(amount_flag, dest="amount", required=True, metavar="AMOUNT", help="e.g. 12.50")
    p.add_argument("--details", metavar="JSON", help="payment details, e.g. {\"check_number\": \"1234\"}")
    p.add_argument("--reference", default="")
    p.add_argument("--date", help="date received (YYYY-MM-DD, default today)")


def _apply_options(p, *, allow_none: bool) -> None:
    how = p.add_mutually_exclusive_group()
    how.add_argument("--auto", dest="apply_mode", action="store_const", const="auto",
                     help="apply oldest charge first (default)")
    how.add_argument("--apply", dest="applications", action="append", metavar="CHARGE[:AMOUNT]",
                     help="apply to this charge (repeat; amount defaults to what is open)")
    if allow_none:
        how.add_argument("--no-apply", dest="apply_mode", action="store_const", const="none",
                         help="draw only; keep the money unapplied")
    p.set_defaults(apply_mode=None, applications=None)


def _applications(args: argparse.Namespace) -> tuple[str, list[dict]]:
    if not args.applications:
        return args.apply_mode or "auto", []
    apps = []
    for i, text in enumerate(args.applications):
        charge, _, amount = text.partition(":")
        if not charge.strip():
            raise InputError({f"applications.{i}.charge_id": [f"expected CHARGE[:AMOUNT], got {text!r}"]})
        app = {"charge_id": charge.strip()}
        if amount.strip():
            app["amount"] = amount.strip()
        apps.append(app)
    return "manual", apps


def _voucher_text(r: dict) -> str:
    return f"voucher {r['voucher_id']}: {money(r['amount'])} received, {money(r['undistributed'])} undistributed"


def create_voucher(args) -> Result:
    """Create a voucher."""
    data = {"payer_id": args.payer, "method": args.method, "amount": args.amount, "reference": args.reference,
            "details": load_object(args.details, "details")}
    if args.date:
        data["received_on"] = args.date
    try:
        res = payments.create_voucher(data)
    except ClaimdeskError as exc:
        raise renamed(exc, VOUCHER_FLAGS) from None
    return Result(res, _voucher_text(res), money=PAY_MONEY)


def list_vouchers(args) -> Result:
    """Vouchers with their undistributed money."""
    payer = parse_id(args.payer, "payer_id") if args.payer is not None else None
    limit = args.limit.strip()
    if not limit.isdigit() or not limit.isascii() or len(limit) > 9 or int(limit) < 1:
        raise InputError({"limit": [f"must be a whole number of vouchers, at least 1, got {args.limit!r}"]})
    res = payment_views.voucher_listing(payer, open_only=args.open, limit=int(limit))
    rows = res["vouchers"]
    text = table([{**v, "amount": money(v["amount"]), "undist": money(v["undistributed"])} for v in rows],
                 [("id", "voucher_id"), ("date", "received_on"), ("payer", "payer"), ("method", "method"),
                  ("reference", "reference"), ("amount", "amount"), ("undistributed", "undist"),
                  ("status", "status")], right=("amount", "undist"))
    if res["truncated"]:
        text += f"\nshowing {res['shown']} of {res['total']} vouchers (--limit N shows more)"
    return Result(res, text, money=PAY_MONEY)


def _applied_lines(res: dict) -> list[str]:
    return [f"  charge {a['charge_id']} ({a['rank']}): {money(a['amount'])} applied, "
            f"{money(a['balance_after'])} left open" for a in res["applied"]]


#: Service field names -> the ``credit post`` / ``voucher create`` flags that carry them.
VOUCHER_FLAGS = {"received_on": "date"}
NEW_VOUCHER_FLAGS = {"received_on": "date", "method": "new-voucher"}


def post_credit(args) -> Result:
    """Credit entry: maybe create the voucher, then draw and apply.

    With ``--new-voucher`` the credit is checked (input, patient, chosen charges, amount)
    before the voucher is made; the voucher is its own workflow and persists even when the
    credit is then refused (the seed's "made on the fly"), and that error names it."""
    mode, apps = _applications(args)
    out = {}
    data = {"patient_id": args.patient, "apply": mode, "applications": apps,
            "keep_unapplied": args.keep_unapplied, "memo": args.memo}
    if args.amount is not None:
        data["amount"] = args.amount
    if args.voucher is not None:
        data["voucher_id"] = parse_id(args.voucher, "voucher_id")
        if args.payer is not None:
            payer_id = parse_id(args.payer, "payer_id")
            v = Voucher.get_or_none(Voucher.id == data["voucher_id"])
            if v is not None and v.payer_id != payer_id:
                raise InputError({"payer_id": [f"voucher {v.id} is from payer {v.payer_id}, not {payer_id}"]})
    else:
        if args.payer is None:
            raise InputError({"payer_id": ["--payer is required with --new-voucher"]})
        payer_id = parse_id(args.payer, "payer_id")
        amount_flag = "voucher-amount" if args.voucher_amount is not None else "amount"
        amount = args.voucher_amount if args.voucher_amount is not None else args.amount
        if amount is None:
            raise InputError({"amount": ["give --amount or --voucher-amount for the new voucher"]})
        vdata = {"payer_id": payer_id, "method": args.new_voucher, "amount": amount,
                 "reference": args.reference or "", "details": load_object(args.details, "details")}
        if args.date:
            vdata["received_on"] = args.date
        flags = {**NEW_VOUCHER_FLAGS, "amount": amount_flag}  # the voucher's fields -> flags
        try:
            vclean = payments.validate_voucher(vdata)[0]
        except ClaimdeskError as exc:
            raise renamed(exc, flags) from None
        payments.check_credit_entry(data, payer_id=payer_id, voucher_amount=vclean["amount"])
        try:
            out["voucher"] = payments.create_voucher(vdata)
        except ClaimdeskError as exc:
            raise renamed(exc, flags) from None
        data["voucher_id"] = out["voucher"]["voucher_id"]
    try:
        res = payments.post_credit(data)
    except ClaimdeskError as exc:
        if "voucher" not in out:
            raise
        vid = out["voucher"]["voucher_id"]
        left = Voucher.get_by_id(vid).undistributed
        raise with_note(exc, f"voucher {vid} was created and stays with {money(left)} undistributed "
                             f"(draw from it with --voucher {vid})") from None
    out["credit"] = res
    lines = [_voucher_text(out["voucher"])] if "voucher" in out else []
    lines.append(f"credit {res['credit_id']} for patient {res['patient_id']}: {money(res['drawn'])} drawn "
                 f"from voucher {res['voucher_id']}, {money(res['applied_total'])} applied")
    lines += _applied_lines(res)
    lines.append(pairs([("unapplied (patient's)", money(res["unapplied"])),
                        ("back to voucher", money(res["returned_to_voucher"])),
                        ("voucher undistributed", money(res["voucher_undistributed"]))]))
    return Result(out, "\n".join(lines), money=PAY_MONEY)


def apply_unapplied(args) -> Result:
    """Apply a credit's unapplied money later."""
    mode, apps = _applications(args)
    res = payments.apply_unapplied({"credit_id": args.credit, "patient_id": args.patient, "apply": mode,
                                    "applications": apps})
    lines = [f"credit {res['credit_id']}: {money(res['applied_total'])} applied"] + _applied_lines(res)
    lines.append(f"unapplied left: {money(res['unapplied'])}")
    return Result(res, "\n".join(lines), money=PAY_MONEY)


def return_check(args) -> Result:
    """Returned check: unwind the voucher's money, maybe charge a fee."""
    data = {"voucher_id": args.voucher_id, "reason": args.reason, "fee_policy": args.fee_policy,
            "fee": load_object(args.fee, "fee")}
    if args.patient is not None:
        data["patient_id"] = args.patient
    res = returns.return_check(data)
    lines = [f"voucher {res['voucher_id']} returned: {money(res['returned_amount'])} reversed",
             f"credits zeroed: {', '.join(map(str, res['credits_zeroed'])) or 'none'}"]
    for pid, cents in res["balance_increase_by_patient"].items():
        ar, gone = res["ar_increase_by_patient"][pid], res["unapplied_removed_by_patient"][pid]
        lines.append(f"  patient {pid}: balance up {money(cents)} ({money(ar)} more owed on charges, "
                     f"{money(gone)} unapplied money removed)")
    if res["fee"]:
        lines.append(f"returned-check fee {money(res['fee'])} charged (charge {res['fee_charge_id']})")
    return Result(res, "\n".join(lines), money=PAY_MONEY)


# --- batch posting ----------------------------------------------------------------------------
BATCH_MONEY = PAY_MONEY + ("total", "applied")
#: Credits listed one per row in the text output (more: totals only; --json has every line).
BATCH_TABLE_ROWS = 50


def _batch_data(args, lines) -> dict:
    # (the lines file itself: the core names a line it refuses by the file's row, or ``line N`` of stdin)
    return {"voucher_id": args.voucher, "lines": lines, "apply": args.apply_mode,
            "keep_unapplied": args.keep_unapplied, "memo": args.memo}


def _credit_rows(credits: list[dict]) -> list[dict]:
    return [{**c, "line": c["line"] + 1, "amount": money(c["amount"]), "applied": money(c["applied"]),
             "unapplied": money(c["unapplied"]), "returned": money(c["returned_to_voucher"])} for c in credits]


def _batch_totals(res: dict, undistributed: int | None) -> str:
    return pairs([("total of the lines", money(res["total"])),
                  ("applied to charges", money(res["applied_total"])),
                  ("unapplied (patients')", money(res["unapplied"])),
                  ("back to voucher", money(res["returned_to_voucher"])),
                  ("voucher undistributed", money(undistributed))])


def post_batch(args) -> Result:
    """Batch posting: every line of the file (``-``: standard input) becomes a credit drawn from
    the voucher (``--dry-run``: what would happen, nothing posted)."""
    lines = batch_posting.read_lines(args.file)
    if args.dry_run:
        return preview_batch(args, lines)
    try:
        res = batch_posting.post_credit_batch(_batch_data(args, lines), again=args.again)
    except batch_posting.AlreadyPosted as exc:
        raise with_note(exc, "pass --again to post it anyway") from None
    head = (f"voucher {res['voucher_id']} ({res['payer']}): {res['lines']} credits for {res['patients']} patients: "
            f"{money(res['drawn'])} drawn, {money(res['applied_total'])} applied")
    parts = [head]
    if res["lines"] <= BATCH_TABLE_ROWS:
        parts.append(table(_credit_rows(res["credits"]),
                           [("line", "line"), ("credit", "credit_id"), ("patient", "patient_id"),
                            ("amount", "amount"), ("applied", "applied"), ("unapplied", "unapplied"),
                            ("back to voucher", "returned")],
                           right=("line", "amount", "applied", "unapplied", "returned")))
    else:
        parts.append(f"credits {res['credit_ids'][0]}..{res['credit_ids'][-1]} (--json lists every line)")
    parts.append(_batch_totals(res, res["voucher_undistributed"]))
    return Result(res, "\n".join(parts), money=BATCH_MONEY)


def _place(where: str) -> tuple[str, str]:
    """``"row 5 of era.csv"`` -> ``("row", "5")``; ``"line 4"`` -> ``("line", "4")``."""
    kind, _, rest = where.partition(" ")
    return kind, rest.split(" ", 1)[0]


def _preview_table(res: dict) -> str:
    """Per line: where, patient, amount, applied, back to the voucher (or kept unapplied) and
    the charges it pays (as many as fit in 80 columns, ``+N`` for the rest; ``! applies
    nothing`` for a line that warns)."""
    keep = res["apply"] == "none" or res["keep_unapplied"]
    kind = _place(res["credits"][0]["where"])[0]
    columns = [(kind, "at"), ("patient", "patient"), ("amount", "amount"), ("applied", "applied"),
               ("unapplied" if keep else "to voucher", "left")]
    rows = [{"at": _place(c["where"])[1], "patient": c["patient_id"], "amount": money(c["amount"]),
             "applied": money(c["applied"]), "left": money(c["unapplied"] if keep else c["returned_to_voucher"])}
            for c in res["credits"]]
    used = sum(max(len(h), *(len(str(r[k])) for r in rows)) + 2 for h, k in columns)
    room = max(WIDTH - used, 20)
    for row, c in zip(rows, res["credits"]):
        row["to"] = "! applies nothing" if c["warnings"] else batch_posting.applications_text(c["applications"], room)
    return table(rows, [*columns, ("applied to", "to")], right=("at", "amount", "applied", "left"))


def preview_batch(args, lines) -> Result:
    """``payments post-batch --dry-run``: the core's preview of the batch, as text or JSON: per
    line what it applies to which charges and sends back to the voucher, the charges paid, the
    totals, a warning for each line that applies nothing, and what posting would refuse (exit
    code 3 or 4, as posting would)."""
    res = batch_posting.preview(_batch_data(args, lines), again=args.again)
    for r in res["refusals"]:
        if r["field"] in ("file", "lines") and "posted before" in r["message"]:  # the same lines posted before
            r["message"] += "; pass --again to post it anyway"
    v = res["voucher"]
    who = f"voucher {res['voucher_id']} ({v['payer']})" if v else f"voucher {res['voucher_id']}"
    parts = [f"dry run, nothing posted: {who}: {res['lines']} credits for {res['patients']} patients: "
             f"{money(res['drawn'])} would be drawn, {money(res['applied_total'])} applied"]
    if res["lines"] <= BATCH_TABLE_ROWS:
        parts.append(_preview_table(res))
        kind = _place(res["credits"][0]["where"])[0]
        paid = [{"at": _place(c["where"])[1], **a, "amount": money(a["amount"])}
                for c in res["credits"] for a in c["applications"]]
        if paid:
            parts.append(table(paid, [(kind, "at"), ("charge", "charge_id"), ("encounter", "encounter_id"),
                                      ("code", "service_code"), ("date of service", "dos"), ("rank", "rank"),
                                      ("amount", "amount")], right=("at", "amount")))
    else:
        parts.append(f"{res['splits_paid']} charge splits would be paid (--json lists every line)")
    parts.append(_batch_totals(res, res["voucher_undistributed_after"]))
    if res["warning"]:
        parts.append(f"warning: {res['warning']}")
        parts += [f"  {w}" for w in res["warnings"][:BATCH_TABLE_ROWS]]
        if len(res["warnings"]) > BATCH_TABLE_ROWS:
            parts.append(f"  and {len(res['warnings']) - BATCH_TABLE_ROWS} more (--json lists every one)")
    code = 0
    if res["refusals"]:
        parts.append("posting would be refused:")
        parts += [f"  {r['field']}: {r['message']}" for r in res["refusals"]]
        code = NOT_FOUND if res["refusals"][0]["kind"] == "not_found" else REFUSED
    return Result(res, "\n".join(parts), money=BATCH_MONEY + ("voucher_undistributed_after",), exit_code=code)
