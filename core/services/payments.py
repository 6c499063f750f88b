"""Vouchers, credits, auto-apply and manual apply (the SOS payment workflows).

Money path (see docs/ledger.md):
  voucher received  Dr CASH           / Cr UNDISTRIBUTED  (the payer's money)
  credit drawn      Dr UNDISTRIBUTED  / Cr UNAPPLIED      (now this patient's)
  credit applied    Dr UNAPPLIED      / Cr AR             (pays a charge split)
  remainder back    Dr UNAPPLIED      / Cr UNDISTRIBUTED  (unless kept unapplied)
"""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, db, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Charge, ChargeSplit, Credit, CreditSplit, Encounter, Patient, Payer, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.validation import Id, Money, Text, date_field, load
from claimdesk.core.services import claims
from claimdesk.core.services.common import get


# --- input schemas ------------------------------------------------------------
class VoucherInput(Schema):
    payer_id = Id(required=True)
    method = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = Money(required=True, positive=True)
    received_on = date_field(load_default=None)
    reference = Text(max_length=60, load_default="")
    details = fields.Dict(load_default=dict)


class Application(Schema):
    charge_id = Id(required=True)
    amount = Money(load_default=None, positive=True, allow_none=True)


class CreditInput(Schema):
    patient_id = Id(required=True)
    voucher_id = Id(required=True)
    amount = Money(load_default=None, positive=True, allow_none=True)
    apply = fields.String(load_default="auto", validate=validate.OneOf(["auto", "manual", "none"]))
    applications = fields.List(fields.Nested(Application), load_default=list)
    keep_unapplied = fields.Boolean(load_default=False)
    memo = Text(max_length=200, load_default="")


class ApplyInput(Schema):
    credit_id = Id(required=True)
    patient_id = Id(required=True)
    apply = fields.String(load_default="auto", validate=validate.OneOf(["auto", "manual"]))
    applications = fields.List(fields.Nested(Application), load_default=list)


# --- vouchers -----------------------------------------------------------------
def make_voucher(payer: Payer, method: str, amount: int, *, reference: str = "",
                 received_on: dt.date | None = None, details: dict | None = None) -> Voucher:
    """Record money received from ``payer`` (inside a transaction): all undistributed."""
    now = clock.now()
    voucher = Voucher.create(payer=payer, method=method, reference=reference,
                             received_on=received_on or now.date(), amount=amount,
                             details=details or {}, created_at=now, created_by=current_user())
    ledger.post("voucher", [
        ledger.Line("CASH", amount, voucher_id=voucher.id, payer_id=payer.id),
        ledger.undistributed(voucher, -amount),
    ], memo=f"{method} {reference}".strip(), user=current_user())
    return voucher


def _validate_method(method: str, details: dict) -> tuple[str, dict, str]:
    pm = get_host().get("claimdesk_payment_methods", method)
    if pm is None:
        known = ", ".join(m.key for m in get_host().payment_methods())
        raise InputError({"method": [f"unknown payment method {method!r} (known: {known})"]})
    clean = {}
    if pm.schema is not None:
        try:
            clean = load(pm.schema, details)
        except InputError as exc:
            raise InputError({"details": exc.messages}) from None
    ref = str(clean.get(pm.reference_field, "")) if pm.reference_field else ""
    return pm.key, clean, ref


def validate_voucher(data: dict) -> tuple[dict, str, dict, str]:
    """A voucher's input checked without touching the database: ``(clean, method key,
    clean details, reference from the details)``; :class:`InputError` naming the field."""
    clean = load(VoucherInput, data)
    method, details, ref = _validate_method(clean["method"], clean["details"])
    return clean, method, details, ref


def create_voucher(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: create a voucher (check, EFT, cash...) for a payer.

    Made on the fly from a credit entry, it persists even if that entry is abandoned.
    """
    clean, method, details, ref = validate_voucher(data)

    def body():
        payer = get(Payer, clean["payer_id"], "payer", field="payer_id")
        if payer.kind == "inactive":
            raise Refused("the Inactive Payer cannot issue vouchers", field="payer_id")
        v = make_voucher(payer, method, clean["amount"], reference=clean["reference"] or ref,
                         received_on=clean["received_on"], details=details)
        return {"voucher_id": v.id, "payer_id": payer.id, "amount": v.amount, "undistributed": v.amount}

    return workflow.run("voucher.create", body, inputs=clean, idempotency_key=idempotency_key)


# --- credits ------------------------------------------------------------------
def open_splits_for(patient_id: int, payer_id: int) -> list[ChargeSplit]:
    """Open splits this payer is responsible for on this patient, oldest first."""
    return list(
        ChargeSplit.select(ChargeSplit, Charge)
        .join(Charge)
        .join(Encounter, on=(Charge.encounter == Encounter.id))
        .where((ChargeSplit.patient == patient_id) & (ChargeSplit.payer == payer_id)
               & (ChargeSplit.balance > 0) & (Encounter.status == "active"))
        .order_by(Charge.dos, Charge.id)
    )


def draw(voucher: Voucher, patient: Patient, amount: int, *, keep_unapplied: bool, memo: str = "",
         posted_on: dt.date | None = None) -> Credit:
    """Draw ``amount`` from a voucher onto a patient's account as a new credit."""
    if voucher.status != "active":
        raise Refused(f"voucher {voucher.id} was returned; it cannot fund credits", field="voucher_id")
    if amount > voucher.undistributed:
        raise Refused(f"amount {fmt(amount)} is more than the voucher's undistributed "
                      f"{fmt(voucher.undistributed)}", field="amount")
    now = clock.now()
    credit = Credit.create(patient=patient, payer=voucher.payer_id, voucher=voucher,
                           method=voucher.method, keep_unapplied=keep_unapplied,
                           posted_on=posted_on or now.date(), memo=memo, created_at=now,
                           created_by=current_user())
    ledger.post("credit", [ledger.undistributed(voucher, amount), ledger.unapplied(credit, -amount)],
                memo=memo or f"credit from voucher {voucher.id}", user=current_user(),
                patient_id=patient.id)
    credit.unapplied = amount
    return credit


def apply_to_splits(credit: Credit, plan: list[tuple[ChargeSplit, int]], *, kind: str = "payment",
                    memo: str = "") -> list[dict]:
    """Apply parts of a credit's unapplied money to charge splits (one entry)."""
    plan = [(s, a) for s, a in plan if a > 0]
    if not plan:
        return []
    total = sum(a for _, a in plan)
    if total > credit.unapplied:
        raise Refused(f"applying {fmt(total)} is more than the credit's unapplied {fmt(credit.unapplied)}",
                      field="applications")
    for split, amount in plan:
        if amount > split.balance:
            raise Refused(f"charge {split.charge_id}: {fmt(amount)} is more than its open "
                          f"balance {fmt(split.balance)}", field="applications")
    lines, applied = [], []
    for (split, amount), cs_id in zip(plan, _credit_split_ids(credit, plan)):
        lines.append(ledger.on_charge("UNAPPLIED", split, amount, credit_id=credit.id,
                                      voucher_id=credit.voucher_id, credit_split_id=cs_id))
        lines.append(ledger.ar(split, -amount, credit_split_id=cs_id))
        applied.append({"charge_id": split.charge_id, "split_id": split.id, "rank": split.rank,
                        "amount": amount, "balance_after": split.balance - amount})
    ledger.post(kind, lines, memo=memo or f"credit {credit.id} applied", user=current_user(),
                patient_id=credit.patient_id)
    credit.unapplied -= total
    for (split, _), line in zip(plan, applied):
        # an insurer's split paid off: the next insurer's claim goes out (the patient has no next)
        if line["balance_after"] == 0 and split.rank in claims.INSURANCE_RANKS:
            claims.advance(split)
    return applied


def _credit_split_ids(credit: Credit, plan: list[tuple[ChargeSplit, int]]) -> list[int]:
    """Make the credit's splits for ``plan`` (one multi-row INSERT); their ids in plan order."""
    now = CreditSplit.created_at.db_value(clock.now())
    split_ids = [split.id for split, _ in plan]
    if len(set(split_ids)) < len(split_ids):  # the clerk chose one charge twice: one row at a time
        return [CreditSplit.create(credit=credit.id, charge=s.charge_id, split=s.id, created_at=now).id
                for s, _ in plan]
    made = db.insert_returning(CreditSplit, ("credit", "charge", "split", "created_at"),
                               [(credit.id, s.charge_id, s.id, now) for s, _ in plan], "id, split_id")
    by_split = {sid: cs_id for cs_id, sid in made}
    return [by_split[sid] for sid in split_ids]


def reachable_splits(payer_id: int, need: dict[int, int], *, chunk: int = 1000) -> dict[int, list[list]]:
    """patient -> ``[split_id, charge_id, balance, rank]`` that ``need[patient]`` cents reach.

    The auto-apply order, in one place: open splits the payer is responsible for on
    active encounters, oldest first (date of service, charge, split). A running total per
    patient (window function) keeps only the splits whose older open balance is below
    what that patient brings, so a patient with a thousand open charges loads a few; one
    patient's money (a credit entry) is placed by reading that order a page at a time.
    """
    if len(need) == 1:
        ((pid, amount),) = need.items()
        return {pid: rows} if (rows := _reachable_for_one(payer_id, pid, amount)) else {}
    out: dict[int, list[list]] = {}
    pids = sorted(need)
    for start in range(0, len(pids), chunk):
        part = pids[start:start + chunk]
        values = ", ".join(["({p}, {p})"] * len(part))
        params = [v for pid in part for v in (pid, need[pid])] + [payer_id] + part
        rows = db.sql(
            f"WITH need(pid, amt) AS (VALUES {values}) "
            "SELECT r.id, r.charge_id, r.patient_id, r.balance, r.rank FROM ("
            " SELECT cs.id, cs.charge_id, cs.patient_id, cs.balance, cs.rank, c.dos,"
            " SUM(cs.balance) OVER (PARTITION BY cs.patient_id ORDER BY c.dos, c.id, cs.id) - cs.balance AS older"
            " FROM charge_split cs JOIN charge c ON c.id = cs.charge_id"
            " JOIN encounter e ON e.id = c.encounter_id"
            f" WHERE cs.payer_id = {{p}} AND cs.patient_id IN ({', '.join(['{p}'] * len(part))})"
            " AND cs.balance > 0 AND e.status = 'active') r "
            "JOIN need n ON n.pid = r.patient_id WHERE r.older < n.amt "
            "ORDER BY r.patient_id, r.dos, r.charge_id, r.id", params)
        for sid, cid, pid, balance, rank in rows:
            out.setdefault(pid, []).append([sid, cid, int(balance), rank])
    return out


#: Open splits read per page when one patient's money is placed (most payments end in the first).
_PAGE = 8


def _reachable_for_one(payer_id: int, patient_id: int, amount: int) -> list[list]:
    """:func:`reachable_splits` for one patient: the same order, read a page at a time along the
    charge (patient, dos, id) index until ``amount`` is reached, so a patient with a thousand
    open charges costs a few rows, not a running total over all of them."""
    out: list[list] = []
    after = None
    while amount > 0:
        where, params = "", [patient_id, payer_id]
        if after is not None:  # keyset: after the last split read, in the same order
            where = " AND (c.dos > {p} OR (c.dos = {p} AND (c.id > {p} OR (c.id = {p} AND cs.id > {p}))))"
            params += [after[0], after[0], after[1], after[1], after[2]]
        rows = db.sql(
            "SELECT cs.id, cs.charge_id, cs.balance, cs.rank, c.dos FROM charge c"
            " JOIN charge_split cs ON cs.charge_id = c.id JOIN encounter e ON e.id = c.encounter_id"
            " WHERE c.patient_id = {p} AND cs.payer_id = {p} AND cs.balance > 0 AND e.status = 'active'"
            + where + f" ORDER BY c.dos, c.id, cs.id LIMIT {_PAGE}", params).fetchall()
        for sid, cid, balance, rank, _dos in rows:
            if amount <= 0:
                break
            out.append([sid, cid, int(balance), rank])
            amount -= int(balance)
        if len(rows) < _PAGE:
            break
        after = (rows[-1][4], rows[-1][1], rows[-1][0])
    return out


def auto_plan(credit: Credit, available: int) -> list[tuple[ChargeSplit, int]]:
    """Oldest charge first (date of service, then charge), partial on the last
    (:func:`reachable_splits` picks the splits the money reaches)."""
    if available <= 0:
        return []
    reached = reachable_splits(credit.payer_id, {credit.patient_id: available}).get(credit.patient_id, [])
    plan = []
    for sid, charge_id, balance, rank in reached:
        amount = min(balance, available)
        # the split as just read in this transaction (no second read of the same rows)
        split = ChargeSplit(id=sid, charge=charge_id, rank=rank, payer=credit.payer_id,
                            patient=credit.patient_id, balance=balance)
        plan.append((split, amount))
        available -= amount
    return plan


def chosen_split(app: dict, i: int, patient_id: int, payer_id: int) -> ChargeSplit:
    """The open split of the clerk's ``i``-th chosen charge that this payer is responsible for;
    refused when the charge is another patient's or has nothing open for the payer."""
    charge = get(Charge, app["charge_id"], "charge", field=f"applications.{i}.charge_id")
    if charge.patient_id != patient_id:
        raise Refused(f"charge {charge.id} belongs to another patient; this credit's money is "
                      f"patient {patient_id}'s only", field=f"applications.{i}.charge_id")
    split = ChargeSplit.get_or_none((ChargeSplit.charge == charge.id)
                                    & (ChargeSplit.payer == payer_id) & (ChargeSplit.balance > 0))
    if split is None:
        raise Refused(f"charge {charge.id} has no open balance this payer is responsible for",
                      field=f"applications.{i}.charge_id")
    return split


def manual_plan(credit: Credit, applications: list[dict]) -> list[tuple[ChargeSplit, int]]:
    """The clerk's chosen charges in the clerk's order (amount defaults to what is open)."""
    plan, available = [], credit.unapplied
    for i, app in enumerate(applications):
        split = chosen_split(app, i, credit.patient_id, credit.payer_id)
        amount = app.get("amount") or min(split.balance, available)
        plan.append((split, amount))
        available -= amount
    return plan


def settle_remainder(credit: Credit) -> int:
    """Without "keep unapplied", send what is left on the credit back to its voucher.

    Returns the cents sent back to the voucher: 0 when the credit keeps its remainder
    as the patient's unapplied money (``credit.unapplied`` then still holds it).
    """
    left = credit.unapplied
    if not left or credit.keep_unapplied:
        return 0
    voucher = Voucher.get_by_id(credit.voucher_id)
    ledger.post("credit_return", [ledger.unapplied(credit, left), ledger.undistributed(voucher, -left)],
                memo=f"credit {credit.id} remainder back to voucher {voucher.id}",
                user=current_user(), patient_id=credit.patient_id)
    credit.unapplied = 0
    return left


def check_credit_entry(data: dict, *, payer_id, voucher_amount: int) -> dict:
    """Check a credit entry whose voucher does not exist yet (a credit on a new voucher):
    the input, the patient, the chosen charges (this patient's, open for ``payer_id``) and
    that the amount fits ``voucher_amount`` (cents). Writes nothing; raises what
    :func:`post_credit` would, so a voucher is not made for a credit that would be refused.
    Returns the clean input (without ``voucher_id``)."""
    clean = load(CreditInput(partial=("voucher_id",)), {k: v for k, v in data.items() if k != "voucher_id"})
    if clean["apply"] == "manual" and not clean["applications"]:
        raise InputError({"applications": ["choose at least one charge to apply the credit to"]})
    patient = get(Patient, clean["patient_id"], "patient", field="patient_id")
    payer = get(Payer, payer_id, "payer", field="payer_id")
    if clean["amount"] is not None and clean["amount"] > voucher_amount:
        raise Refused(f"amount {fmt(clean['amount'])} is more than the new voucher's "
                      f"{fmt(voucher_amount)}", field="amount")
    if clean["apply"] == "manual":
        available = clean["amount"] if clean["amount"] is not None else voucher_amount
        for i, app in enumerate(clean["applications"]):
            split = chosen_split(app, i, patient.id, payer.id)
            amount = app.get("amount") or min(split.balance, available)
            if amount > split.balance:
                raise Refused(f"charge {split.charge_id}: {fmt(amount)} is more than its open "
                              f"balance {fmt(split.balance)}", field=f"applications.{i}.amount")
            if amount > available:
                raise Refused(f"applying {fmt(amount)} to charge {split.charge_id} is more than the "
                              f"{fmt(max(available, 0))} left of the credit", field=f"applications.{i}.amount")
            available -= amount
    return clean


def post_credit(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: credit entry. Draw from a voucher, apply (auto or manual), settle the rest.

    The amount defaults to the voucher's undistributed money and can never exceed it.
    """
    clean = load(CreditInput, data)
    if clean["apply"] == "manual" and not clean["applications"]:
        raise InputError({"applications": ["choose at least one charge to apply the credit to"]})

    def body():
        # Locks in one order everywhere (patient, then voucher, then credit): two clerks paying
        # the same patient's charges wait for each other instead of racing for the same splits.
        patient = get(Patient, clean["patient_id"], "patient", field="patient_id", for_update=True)
        voucher = get(Voucher, clean["voucher_id"], "voucher", field="voucher_id", for_update=True)
        amount = clean["amount"] if clean["amount"] is not None else voucher.undistributed
        if amount <= 0:
            raise Refused(f"voucher {voucher.id} has no undistributed money left", field="voucher_id")
        credit = draw(voucher, patient, amount, keep_unapplied=clean["keep_unapplied"], memo=clean["memo"])
        plan = (auto_plan(credit, credit.unapplied) if clean["apply"] == "auto"
                else manual_plan(credit, clean["applications"]) if clean["apply"] == "manual" else [])
        applied = apply_to_splits(credit, plan)
        returned = settle_remainder(credit) if clean["apply"] != "none" else 0
        # the voucher row is locked by this transaction: what it holds now is known
        undistributed_now = voucher.undistributed - amount + returned
        # drawn = applied + unapplied: what stays on the patient's account after the rest,
        # if any, went back to the voucher (returned_to_voucher; 0 when kept unapplied).
        return {"credit_id": credit.id, "patient_id": patient.id, "voucher_id": voucher.id,
                "drawn": amount - returned, "applied": applied,
                "applied_total": sum(a["amount"] for a in applied),
                "unapplied": credit.unapplied, "returned_to_voucher": returned,
                "voucher_undistributed": undistributed_now}

    return workflow.run("credit.post", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key)


def apply_unapplied(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: apply a credit's unapplied money later, to the same patient only."""
    clean = load(ApplyInput, data)

    def body():
        get(Patient, clean["patient_id"], "patient", field="patient_id", for_update=True)  # (see post_credit)
        credit = get(Credit, clean["credit_id"], "credit", field="credit_id", for_update=True)
        if credit.patient_id != clean["patient_id"]:
            raise Refused(f"credit {credit.id}'s unapplied money belongs to patient {credit.patient_id}; "
                          f"it cannot pay patient {clean['patient_id']}'s charges", field="patient_id")
        if credit.unapplied <= 0:
            raise Refused(f"credit {credit.id} has no unapplied money", field="credit_id")
        plan = (auto_plan(credit, credit.unapplied) if clean["apply"] == "auto"
                else manual_plan(credit, clean["applications"]))
        applied = apply_to_splits(credit, plan)
        if not applied:
            payer = Payer.get_by_id(credit.payer_id).name
            raise Refused(f"patient {credit.patient_id} has no open charges that {payer} is responsible for: "
                          f"credit {credit.id}'s {fmt(credit.unapplied)} stays unapplied", field="credit_id")
        return {"credit_id": credit.id, "patient_id": credit.patient_id, "applied": applied,
                "applied_total": sum(a["amount"] for a in applied), "unapplied": credit.unapplied}

    return workflow.run("credit.apply", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key)
