"""Vouchers, credits, auto-apply and manual apply (the SOS payment workflows).

Money path (see docs/ledger.md):
  voucher received  Dr CASH           / Cr UNDISTRIBUTED  (the payer's money)
  credit drawn      Dr UNDISTRIBUTED  / Cr UNAPPLIED      (now this patient's)
  credit applied    Dr UNAPPLIED      / Cr AR             (pays a charge split)
  remainder back    Dr UNAPPLIED      / Cr UNDISTRIBUTED  (unless kept unapplied)
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Charge, ChargeSplit, Credit, Patient, Payer, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.plugins.host import get_host
from claimdesk.core.posting import allocation, credits, next_claims
from claimdesk.core.posting.allocation import Allocation
from claimdesk.core.validation import Id, Money, Text, business_date_field, load
from claimdesk.core.services.common import get, method_details


# --- input schemas ------------------------------------------------------------
class VoucherInput(Schema):
    payer_id = Id(required=True)
    method = fields.String(required=True, validate=validate.Length(min=1, max=40))
    amount = Money(required=True, positive=True)
    received_on = business_date_field(load_default=None)
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
    clean, ref = method_details(pm, details)
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
#: Open splits this payer is responsible for on this patient, in the auto-apply order.
open_splits_for = allocation.open_splits_for


def draw(voucher: Voucher, patient: Patient, amount: int, *, keep_unapplied: bool, memo: str = "",
         posted_on: dt.date | None = None) -> Credit:
    """Draw ``amount`` from a voucher onto a patient's account as a new credit (inside a transaction)."""
    credits.check_funds(voucher, amount)
    (credit_id,) = credits.draw(voucher, [credits.CreditLine(patient.id, amount, memo)], keep_unapplied=keep_unapplied,
                                memo=memo or credits.ONE_CREDIT.filled(voucher.id, 1).draw, posted_on=posted_on)
    return Credit.get_by_id(credit_id)


def auto_plan(credit: Credit, available: int) -> list[tuple[ChargeSplit, int]]:
    """``(split, cents)`` that ``available`` cents of the credit pay, oldest charge first, partial
    on the last (:mod:`claimdesk.core.posting.allocation`); each split with its balance before."""
    if available <= 0:
        return []
    allocations = allocation.auto_allocate(credit.payer_id, [(credit.patient_id, available)])[0]
    return [(dataclasses.replace(a.split, balance=a.balance_after + a.amount), a.amount) for a in allocations]


def apply_to_splits(credit: Credit, plan: list[tuple[ChargeSplit, int]], *, memo: str = "") -> list[dict]:
    """Apply parts of a credit's unapplied money to charge splits (one entry); queue the claims
    the payments make due."""
    allocations = _checked(plan, credit.unapplied)
    if not allocations:
        return []
    credits.apply(credit.voucher_id, [credits.Application(credit.id, a.split, a.amount) for a in allocations],
                  memo=memo or credits.ONE_CREDIT.filled(credit.voucher_id, 1, credit.id).applied,
                  patient_id=credit.patient_id)
    credit.unapplied -= sum(a.amount for a in allocations)
    next_claims.queue_due(a.split.id for a in allocations if a.balance_after == 0)
    return _applied(allocations)


def settle_remainder(credit: Credit) -> int:
    """Without "keep unapplied", send what is left on the credit back to its voucher.

    Returns the cents sent back to the voucher: 0 when the credit keeps its remainder
    as the patient's unapplied money (``credit.unapplied`` then still holds it).
    """
    left = credit.unapplied
    if not left or credit.keep_unapplied:
        return 0
    voucher = Voucher.get_by_id(credit.voucher_id)
    credits.return_remainders(voucher, [(credit.id, credit.patient_id, left)],
                              memo=credits.ONE_CREDIT.filled(voucher.id, 1, credit.id).returned,
                              patient_id=credit.patient_id)
    credit.unapplied = 0
    return left


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


def manual_plan(patient_id: int, payer_id: int, available: int, applications: list[dict]) -> list[Allocation]:
    """The clerk's chosen charges in the clerk's order, paid from ``available`` cents (an
    amount defaults to what is open, up to what is left); refused beyond either."""
    plan, left = [], available
    for i, app in enumerate(applications):
        split = chosen_split(app, i, patient_id, payer_id)
        amount = app.get("amount") or min(split.balance, left)
        plan.append((split, amount))
        left -= amount
    return _checked(plan, available)


def _checked(plan: list[tuple[ChargeSplit, int]], available: int) -> list[Allocation]:
    """``plan``'s payments (zeros dropped) as allocations of one credit, refused when they
    total more than ``available`` or one is more than its split owes."""
    plan = [(s, a) for s, a in plan if a > 0]
    total = sum(a for _, a in plan)
    if total > available:
        raise Refused(f"applying {fmt(total)} is more than the credit's unapplied {fmt(available)}",
                      field="applications")
    for split, amount in plan:
        if amount > split.balance:
            raise Refused(f"charge {split.charge_id}: {fmt(amount)} is more than its open "
                          f"balance {fmt(split.balance)}", field="applications")
    return [Allocation(0, split, amount, split.balance - amount) for split, amount in plan]


def _applied(allocations: list[Allocation]) -> list[dict]:
    """What a credit paid, per split, as the results show it."""
    return [{"charge_id": a.split.charge_id, "split_id": a.split.id, "rank": a.split.rank, "amount": a.amount,
             "balance_after": a.balance_after} for a in allocations]


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
        raise Refused(f"{fmt(clean['amount'])} is more than the new voucher's "
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
        credits.check_funds(voucher, amount)
        plan = (manual_plan(patient.id, voucher.payer_id, amount, clean["applications"])
                if clean["apply"] == "manual" else clean["apply"])
        spent = credits.post_credits(voucher, [credits.CreditLine(patient.id, amount, clean["memo"])], plan,
                                     keep_unapplied=clean["keep_unapplied"], memo=clean["memo"])
        returned = spent.returned[0]
        # drawn = applied + unapplied: what stays on the patient's account after the rest,
        # if any, went back to the voucher (returned_to_voucher; 0 when kept unapplied).
        # The voucher row is locked by this transaction: what it holds now is known.
        return {"credit_id": spent.credit_ids[0], "patient_id": patient.id, "voucher_id": voucher.id,
                "drawn": amount - returned, "applied": _applied(spent.allocations),
                "applied_total": spent.applied[0], "unapplied": spent.unapplied[0], "returned_to_voucher": returned,
                "voucher_undistributed": voucher.undistributed - amount + returned}

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
        plan = (manual_plan(credit.patient_id, credit.payer_id, credit.unapplied, clean["applications"])
                if clean["apply"] == "manual" else "auto")
        spent = credits.spend(Voucher.get_by_id(credit.voucher_id), [credit.id],
                              [credits.CreditLine(credit.patient_id, credit.unapplied)], plan,
                              give_back=False, keep_unapplied=True, memos=credits.ONE_CREDIT)
        if not spent.allocations:
            payer = Payer.get_by_id(credit.payer_id).name
            raise Refused(f"patient {credit.patient_id} has no open charges that {payer} is responsible for: "
                          f"credit {credit.id}'s {fmt(credit.unapplied)} stays unapplied", field="credit_id")
        return {"credit_id": credit.id, "patient_id": credit.patient_id, "applied": _applied(spent.allocations),
                "applied_total": spent.applied[0], "unapplied": spent.unapplied[0]}

    return workflow.run("credit.apply", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key)
