"""Payment plans: ``plan add|list|show|pay|cancel|check``. Every rule is in
:mod:`claimdesk.core.services.plans`."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, parse_date
from claimdesk.core.cli.output import Result, money, table
from claimdesk.core.models.plans import FREQUENCIES
from claimdesk.core.services import plans


def register(subparsers) -> None:
    """Add the ``plan`` group."""
    ps = group(subparsers, "plan", "Payment plans: a patient's balance paid in instalments")
    p = command(ps, "add", "Make a plan for a patient's open balance", add)
    p.add_argument("--patient", required=True, metavar="ID")
    p.add_argument("--amount", required=True, metavar="AMOUNT", help="per instalment, e.g. 50.00")
    p.add_argument("--frequency", required=True, choices=FREQUENCIES)
    p.add_argument("--start", metavar="DATE", help="first instalment due (YYYY-MM-DD, default today)")
    p.add_argument("--charge", dest="charges", action="append", metavar="ID",
                   help="only this charge (repeat; default every open charge of the patient)")
    p = command(ps, "list", "Payment plans, newest first", list_plans)
    p.add_argument("--status", choices=("active", "completed", "cancelled"))
    p.add_argument("--patient", metavar="ID")
    p = command(ps, "show", "A plan's schedule: each instalment paid, missed, due or upcoming", show)
    p.add_argument("plan_id", metavar="PLAN")
    p.add_argument("--as-of", dest="as_of", metavar="DATE")
    p = command(ps, "pay", "A patient payment applied to the plan's charges oldest first", pay)
    p.add_argument("plan_id", metavar="PLAN")
    p.add_argument("--voucher", required=True, metavar="ID", help="the patient's voucher the money comes from")
    p.add_argument("--amount", metavar="AMOUNT", help="default: all the voucher's undistributed money")
    p.add_argument("--keep-unapplied", action="store_true")
    p = command(ps, "cancel", "Cancel a plan: statements show the whole balance again", cancel)
    p.add_argument("plan_id", metavar="PLAN")
    p.add_argument("--reason", required=True)
    p = command(ps, "check", "Missed instalments to the Patient balance queue; paid-off plans completed", check)
    p.add_argument("--as-of", dest="as_of", metavar="DATE")


def _schedule(s: dict) -> str:
    head = (f"plan #{s['plan_id']} for patient {s['patient_id']}: {money(s['amount'])} {s['frequency']} from "
            f"{s['start_on']}, {s['status']}\n  balance {money(s['balance'])}, paid {money(s['paid'])}, open "
            f"{money(s['open'])}, due now {money(s['due_now'])}")
    rows = [{**i, "amount_text": money(i["amount"])} for i in s["instalments"]]
    return head + "\n" + table(rows, [("#", "number"), ("due on", "due_on"), ("amount", "amount_text"),
                                      ("status", "status")], right=("amount_text",))


def add(args) -> Result:
    data = {"patient_id": args.patient, "amount": args.amount, "frequency": args.frequency,
            "charge_ids": args.charges or []}
    if args.start:
        data["start_on"] = args.start
    res = plans.create(data)
    return Result(res, _schedule(res))


def list_plans(args) -> Result:
    rows = plans.list_plans(args.status, patient_id=args.patient)
    shown = [{**r, "amt": money(r["amount"]), "op": money(r["open"]), "due": money(r["due_now"]),
              "miss": ",".join(map(str, r["missed"]))} for r in rows]
    return Result({"plans": rows}, table(shown, [("plan", "plan_id"), ("patient", "patient_id"), ("status", "status"),
                                                  ("each", "amt"), ("every", "frequency"), ("open", "op"),
                                                  ("due now", "due"), ("missed", "miss")],
                                         right=("amt", "op", "due")))


def show(args) -> Result:
    res = plans.show(args.plan_id, parse_date(args.as_of, "as_of"))
    return Result(res, _schedule(res))


def pay(args) -> Result:
    data = {"plan_id": args.plan_id, "voucher_id": args.voucher, "keep_unapplied": args.keep_unapplied}
    if args.amount:
        data["amount"] = args.amount
    res = plans.pay(data)
    lines = [f"credit {res['credit_id']}: applied {money(res['applied_total'])} to the plan's charges"]
    lines += [f"  charge {a['charge_id']}: {money(a['amount'])}" for a in res["applied"]]
    from claimdesk.core.cli.cmd_payments import PAY_MONEY

    return Result(res, "\n".join(lines) + "\n" + _schedule(res["plan"]), money=PAY_MONEY)


def cancel(args) -> Result:
    res = plans.cancel({"plan_id": args.plan_id, "reason": args.reason})
    return Result(res, f"plan #{res['plan_id']} cancelled: statements show the whole balance again")


def check(args) -> Result:
    data = {"as_of": args.as_of} if args.as_of else {}
    res = plans.check(data)
    lines = [f"as of {res['as_of']}: {len(res['missed'])} plan(s) missed an instalment, "
             f"{len(res['caught_up'])} caught up, {len(res['completed'])} completed"]
    lines += [f"  plan #{m['plan_id']} (patient {m['patient_id']}): instalment(s) {', '.join(map(str, m['missed']))} "
              f"missed, {money(m['due_now'])} due; encounters {', '.join(map(str, m['encounters']))} to Patient "
              f"balance" for m in res["missed"]]
    return Result(res, "\n".join(lines))
