"""Looking things up: ``encounter show``, ``patient show``, ``patient find`` (entering them:
:mod:`.cmd_entry`)."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, parse_date
from claimdesk.core.cli.output import Result, money, pairs, table
from claimdesk.core.validation import parse_id
from claimdesk.core.services import patient_views, views

ENCOUNTER_MONEY = ("fee", "balance", "paid", "balance_by_rank")
PATIENT_MONEY = ("amount", "running_balance", "balance", "patient_due", "insurance_pending")
PATIENT_SHOW_KEYS = ("patient_id", "account_no", "name", "dob", "bad_debt", "balance", "encounters",
                     "ledger")  # the --json keys of patient show


def register(subparsers) -> None:
    """Add encounter show, patient show and patient find."""
    enc = group(subparsers, "encounter", "Look at an encounter (claim)")
    command(enc, "show", "Payers, charges with their splits and balances, EOBs, claims, queue",
            show_encounter).add_argument("encounter_id", metavar="ENC", help="encounter ID (1042 or E1042)")
    pat = group(subparsers, "patient", "Look up patients")
    command(pat, "show", "A patient's ledger with running balance and balance summary",
            show_patient).add_argument("patient_id", metavar="ID")
    p = command(pat, "find", "Find patients by name, account number, member id or date of birth", find_patient)
    p.add_argument("text", metavar="TEXT", nargs="?", default="",
                   help="part of a name, an account number, a member id, a patient ID or a birth date")
    p.add_argument("--dob", help="born on this date (YYYY-MM-DD)")
    p.add_argument("--member-id", default="", help="holds a coverage with this member id")


def show_encounter(args) -> Result:
    """Everything about one encounter."""
    d = views.encounter_detail(args.encounter_id)
    head = pairs([
        ("encounter", f"{d['encounter_id']}  ({d['claim_type']}, {d['status']}"
                      f"{', non-billable' if not d['billable'] else ''})"),
        ("patient", f"{d['patient']}  #{d['patient_id']}  acct {d['account_no']}"),
        ("claim number", f"{d['claim_no']}  (place of service {d['place_of_service']}, "
                         f"frequency {d['frequency']})"),
        ("date of service", d["dos"]),
        ("provider", d["provider"] + (f"  (referred by {d['referring_provider']})" if d["referring_provider"] else "")),
        ("diagnoses", ", ".join(f"{i}. {dx}" for i, dx in enumerate(d["diagnoses"], 1)) or "-"),
        ("queue", d["queue"] or "-"), ("tags", ", ".join(d["tags"]) or "-"),
        ("payers", "; ".join(f"{p['rank']}: {p['payer']}" + (" (placeholder)" if p["placeholder"] else "")
                             for p in d["payers"]) or "none"),
        ("balance", f"{money(d['balance'])}  ("
                    + ", ".join(f"{r} {money(v)}" for r, v in d["balance_by_rank"].items()) + ")"),
    ])
    rows = []
    for c in d["charges"]:
        code = c["code"] + "".join(f"-{m}" for m in c["modifiers"])
        rows.append({"line": c["line_no"], "charge": c["charge_id"], "code": code, "fee": money(c["fee"]),
                     "dx": ",".join(map(str, c["pointers"])),
                     "split": "VOID" if c["status"] == "void" else "", "balance": money(c["balance"])})
        for s in c["splits"]:
            flag = f" DENIED {s['denial_code']}".rstrip() if s["denied"] else ""
            rows.append({"split": f"  {s['rank']}: {s['payer']}{flag}", "balance": money(s["balance"])})
    parts = [head, "", "charges:", table(rows, [("ln", "line"), ("charge", "charge"), ("code", "code"),
                                                 ("dx", "dx"), ("fee", "fee"), ("split", "split"),
                                                 ("balance", "balance")],
                                          right=("fee", "balance"))]
    if d["eobs"]:
        parts += ["", "EOBs:", table([{**e, "paid": money(e["paid"]), "dummy": "dummy" if e["dummy"] else ""}
                                      for e in d["eobs"]],
                                     [("eob", "eob_id"), ("payer", "payer"), ("rank", "rank"),
                                      ("received", "received_on"), ("paid", "paid"), ("", "dummy")],
                                     right=("paid",))]
    if d["claims"]:
        parts += ["", "claims:", table(d["claims"], [("claim", "claim_id"), ("payer", "payer"), ("rank", "rank"),
                                                     ("status", "status"), ("queued", "queued_at"),
                                                     ("sent", "sent_at")])]
    return Result(d, "\n".join(parts), money=ENCOUNTER_MONEY)


def show_patient(args) -> Result:
    """A patient's ledger (AR and unapplied postings, date order) and balances."""
    pid = parse_id(args.patient_id, "patient_id")
    d = {k: v for k, v in patient_views.patient_ledger(pid).items() if k in PATIENT_SHOW_KEYS}
    b = d["balance"]
    head = pairs([("patient", f"{d['name']}  #{d['patient_id']}  acct {d['account_no']}"
                              + ("  BAD DEBT" if d["bad_debt"] else "")),
                  ("patient due", money(b["patient_due"])), ("insurance pending", money(b["insurance_pending"])),
                  ("unapplied", money(b["unapplied"])), ("net due", money(b["net_due"]))])
    rows = [{**r, "amount": money(r["amount"]), "running": money(r["running_balance"]),
             "what": f"{r['kind']} {r['memo']}".strip()} for r in d["ledger"]]
    ledger = table(rows, [("date", "date"), ("entry", "entry_id"), ("account", "account"),
                          ("charge", "charge_id"), ("payer", "payer"), ("what", "what"),
                          ("amount", "amount"), ("balance", "running")], right=("amount", "running"))
    return Result(d, f"{head}\n\nledger:\n{ledger}", money=PATIENT_MONEY)


def find_patient(args) -> Result:
    """Patients matching the text."""
    rows = patient_views.find_patients(args.text, dob=parse_date(args.dob, "dob", business=False), member_id=args.member_id)
    text = table([{**r, "due": money(r["patient_due"]), "ins": money(r["insurance_pending"])} for r in rows],
                 [("id", "patient_id"), ("account", "account_no"), ("name", "name"), ("born", "dob"),
                  ("patient due", "due"), ("insurance", "ins")], right=("due", "ins"))
    return Result(rows, text, money=PATIENT_MONEY)
