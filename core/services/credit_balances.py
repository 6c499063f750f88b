"""The credit balance report: every account that holds money it may have to give back.

- **Patients** holding money: the unapplied money of their own payments (credits drawn from
  the pseudo payer "Patient") and the undistributed money of a "Patient" voucher only they
  drew from. Their balance due beside it; a net balance below zero is a credit balance.
- **Payers** holding money: their vouchers' undistributed money, the unapplied money of their
  credits kept on a patient's account (an overpaid claim), and, flagged, their **overpaid
  claims**: a charge a payer's EOBs paid twice, or paid above what the payer allowed (the
  money may already be applied: take the payment back first, or record a recoupment).

Each account's **age** is the days since its oldest money still held (a credit's posting
date, a voucher's date received) as of the report date. Which money is whose is the rule of
:mod:`claimdesk.core.services.refunds` (a refund can only take what this report shows).
Nothing here writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

from claimdesk.core import clock, db
from claimdesk.core.errors import InputError
from claimdesk.core.models import Patient, Payer
from claimdesk.core.money import Cents, as_json
from claimdesk.core.spreadsheet import text_cell
from claimdesk.core.services import refunds

SORTS = ("age", "amount")


def overpaid_claims() -> list[dict]:
    """Charges a payer's EOBs paid twice (two EOBs of one payer with a payment on the same
    charge) or paid above the allowed amount: ``{"payer_id", "encounter_id", "charge_id",
    "patient_id", "paid", "allowed", "over", "why", "since"}``. An EOB a later 835 took back
    (a CLP02 22 reversal) is left out."""
    taken_back = ""
    if db.database.table_exists("era_claim"):
        taken_back = "AND e.id NOT IN (SELECT reverses_id FROM era_claim WHERE reverses_id IS NOT NULL)"
    rows = db.sql(
        "SELECT e.payer_id, e.encounter_id, l.charge_id, c.patient_id, COUNT(*), SUM(l.paid), MAX(l.allowed), "
        "MIN(e.received_on), MAX(l.paid) FROM eob_line l JOIN eob e ON e.id = l.eob_id JOIN charge c ON c.id = l.charge_id "
        f"JOIN payer p ON p.id = e.payer_id WHERE l.paid > 0 AND e.dummy = {{p}} AND p.kind NOT IN ('patient', 'inactive') "
        f"{taken_back} GROUP BY e.payer_id, e.encounter_id, l.charge_id, c.patient_id", [False]).fetchall()
    out = []
    for payer_id, encounter_id, charge_id, patient_id, n, paid, allowed, since, most in rows:
        paid, allowed, most = int(paid), int(allowed or 0), int(most)
        if n > 1:  # (over: all but the largest payment, or above the allowed when that is more)
            over = max(paid - most, paid - allowed if allowed else 0)
            out.append({"payer_id": payer_id, "encounter_id": encounter_id, "charge_id": charge_id,
                        "patient_id": patient_id, "paid": Cents(paid), "allowed": Cents(allowed),
                        "over": Cents(over), "why": f"paid {n} times", "since": _day(since)})
        elif allowed and paid > allowed:
            out.append({"payer_id": payer_id, "encounter_id": encounter_id, "charge_id": charge_id,
                        "patient_id": patient_id, "paid": Cents(paid), "allowed": Cents(allowed),
                        "over": Cents(paid - allowed), "why": "paid more than allowed", "since": _day(since)})
    return out


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def report(*, sort: str = "age", as_of: dt.date | None = None) -> dict:
    """Every account holding money: ``{"as_of", "accounts": [...], "total", "patients", "payers"}``.
    Each account: ``kind`` (patient | payer), ``id``, ``name``, ``account_no`` (a patient's),
    ``holds`` (cents), ``since`` and ``age_days`` of its oldest money, ``sources`` (credits and
    vouchers with their cents), a patient's ``balance_due`` and ``net`` (due minus held: below
    zero is a credit balance), a payer's ``overpaid`` claims and what they come to. Sorted by
    ``age`` (oldest first) or ``amount`` (largest first)."""
    if sort not in SORTS:
        raise InputError({"sort": [f"must be one of {', '.join(SORTS)}, got {sort!r}"]})
    as_of = as_of or clock.today()
    self_pay = refunds._patient_payer_id()  # noqa: SLF001 - the one rule of whose money is whose
    accounts: dict[tuple[str, int], dict] = {}

    def account(kind: str, ident: int) -> dict:
        return accounts.setdefault((kind, ident), {"kind": kind, "id": ident, "holds": 0, "since": None,
                                                   "sources": [], "overpaid": [], "overpaid_total": 0})

    for s in refunds.all_sources():
        acc = account(*refunds.holder(s, self_pay))
        acc["holds"] += s.amount
        acc["since"] = min(acc["since"] or s.since, s.since)
        acc["sources"].append(s.as_dict())
    for claim in overpaid_claims():
        acc = account("payer", claim["payer_id"])
        acc["overpaid"].append({**claim, "since": claim["since"].isoformat()})
        acc["overpaid_total"] += claim["over"]
        acc["since"] = min(acc["since"] or claim["since"], claim["since"])
    _names(accounts)
    rows = []
    for acc in accounts.values():
        acc["age_days"] = max((as_of - acc["since"]).days, 0) if acc["since"] else 0
        acc["since"] = acc["since"].isoformat() if acc["since"] else None
        acc["holds"] = Cents(acc["holds"])
        acc["overpaid_total"] = Cents(acc["overpaid_total"])
        rows.append(acc)
    if sort == "age":
        rows.sort(key=lambda a: (-a["age_days"], -a["holds"], a["kind"], a["id"]))
    else:
        rows.sort(key=lambda a: (-(a["holds"] + a["overpaid_total"]), -a["age_days"], a["kind"], a["id"]))
    return {"as_of": as_of.isoformat(), "sort": sort, "accounts": rows,
            "total": Cents(sum(a["holds"] for a in rows)),
            "patients": sum(1 for a in rows if a["kind"] == "patient"),
            "payers": sum(1 for a in rows if a["kind"] == "payer")}


def _names(accounts: dict) -> None:
    """Names, account numbers and (patients) balance due, read set-based."""
    from claimdesk.core.services import balances

    patient_ids = [i for k, i in accounts if k == "patient"]
    payer_ids = [i for k, i in accounts if k == "payer"]
    patients = {p.id: p for p in Patient.select().where(Patient.id.in_(patient_ids))} if patient_ids else {}
    payers = dict(Payer.select(Payer.id, Payer.name).where(Payer.id.in_(payer_ids)).tuples()) if payer_ids else {}
    for (kind, ident), acc in accounts.items():
        if kind == "patient":
            p = patients[ident]
            acc["name"], acc["account_no"] = f"{p.last_name}, {p.first_name}", p.account_no
            due = balances.patient_balance(ident).patient_due
            acc["balance_due"] = Cents(due)
            acc["net"] = Cents(due - acc["holds"])
        else:
            acc["name"], acc["account_no"] = payers.get(ident, f"payer {ident}"), ""


CSV_COLUMNS = ("kind", "id", "account_no", "name", "holds", "since", "age_days", "balance_due", "net",
               "overpaid_total", "sources")


def to_csv(data: dict) -> str:
    """The report as CSV (amounts as ``12.50``; sources as ``credit 4 12.50; voucher 9 3.00``)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for a in data["accounts"]:
        sources = "; ".join(f"{s['kind']} {s['id']} {as_json(s['amount'])}" for s in a["sources"])
        writer.writerow([a["kind"], a["id"], text_cell(a.get("account_no", "")), text_cell(a["name"]),
                         as_json(a["holds"]),
                         a["since"] or "", a["age_days"],
                         as_json(a["balance_due"]) if "balance_due" in a else "",
                         as_json(a["net"]) if "net" in a else "", as_json(a["overpaid_total"]), sources])
    return buf.getvalue()

