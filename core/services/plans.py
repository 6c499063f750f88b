"""Payment plans: a patient's balance paid in instalments.

A plan covers the patient's open charges when it is made (their patient-responsibility
balance on billable, active encounters, oldest first; or the charges the clerk names): so
much per instalment, every week, two weeks or month from a start date, until that balance
is paid. What was paid is read from the ledger (the payments applied to the plan's charges
since the plan was made), so the schedule is always current:

- an instalment is **paid** once the payments cover it and every one before it; **missed**
  once its due date has passed without that; otherwise **due** (today) or **upcoming**;
- **due now** = what the instalments due by today add up to, less what was paid (never more
  than is still open on the plan's charges);
- statements (:mod:`.statements`) show the plan's due now instead of its whole balance
  (charges outside the plan stay due in full): a "Payment plan: not yet due" line takes the
  rest off, so the lines still add up to the amount due;
- ``plan check`` (workflow ``plan.check``, run daily or before a statement run) puts the
  encounters of a plan with a missed instalment on the Patient balance work queue, tagged
  "Plan missed", and marks a plan whose charges are paid off completed;
- ``plan pay`` posts a patient payment applied to the plan's charges oldest first (the credit
  entry's own workflow and rules);
- cancelling a plan returns the account to normal statements.
"""

from __future__ import annotations

import calendar
import datetime as dt

from marshmallow import Schema, fields, validate
from peewee import fn

from claimdesk.core import clock, db, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Charge, ChargeSplit, Encounter, JournalEntry, Patient, Posting, WorkQueue
from claimdesk.core.models.plans import FREQUENCIES, PaymentPlan
from claimdesk.core.money import Cents, fmt
from claimdesk.core.validation import Id, Money, Text, business_date_field, load
from claimdesk.core.services.common import get, patient_payer

#: The tag a missed instalment puts on the plan's encounters (on the Patient balance queue).
MISSED_TAG = "Plan missed"
MISSED_QUEUE = "patient_balance"


class PlanInput(Schema):
    patient_id = Id(required=True)
    amount = Money(required=True, positive=True)
    frequency = fields.String(required=True, validate=validate.OneOf(FREQUENCIES))
    start_on = business_date_field(load_default=None)
    charge_ids = fields.List(Id(), load_default=list)


class PayInput(Schema):
    plan_id = Id(required=True)
    voucher_id = Id(required=True)
    amount = Money(load_default=None, positive=True, allow_none=True)
    keep_unapplied = fields.Boolean(load_default=False)


class CancelInput(Schema):
    plan_id = Id(required=True)
    reason = Text(required=True, min_length=1, max_length=200)


class CheckInput(Schema):
    as_of = business_date_field(load_default=None)


# --- the schedule -----------------------------------------------------------------------------
def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(plan: PaymentPlan, k: int) -> dt.date:
    """The due date of instalment ``k`` (0 = the first, on the start date)."""
    if plan.frequency == "monthly":
        return _add_months(plan.start_on, k)
    return plan.start_on + dt.timedelta(days=k * (7 if plan.frequency == "weekly" else 14))


def instalments(plan: PaymentPlan) -> list[tuple[int, dt.date, int, int]]:
    """``(number, due on, amount, cumulative)`` of every instalment (the last one the rest)."""
    out, total, k = [], 0, 0
    while total < plan.balance:
        amount = min(plan.amount, plan.balance - total)
        total += amount
        out.append((k + 1, due_date(plan, k), amount, total))
        k += 1
    return out


def paid_on(plan: PaymentPlan) -> int:
    """What the patient's payments applied to the plan's charges since it was made (cents; a
    payment taken back by a reversal or a returned check counts no more)."""
    charges = [int(c) for c in plan.charges or []]
    if not charges:
        return 0
    total = (Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).join(JournalEntry)
             .where((Posting.account == "AR") & Posting.charge.in_(charges) & (Posting.payer == patient_payer().id)
                    & JournalEntry.kind.in_(["payment", "reversal:payment"])
                    & (JournalEntry.posted_at >= plan.created_at)).scalar())
    return -int(total or 0)


def open_on(plan: PaymentPlan) -> int:
    """What the patient still owes on the plan's charges (cents)."""
    charges = [int(c) for c in plan.charges or []]
    if not charges:
        return 0
    return int(ChargeSplit.select(fn.COALESCE(fn.SUM(ChargeSplit.balance), 0))
               .where(ChargeSplit.charge.in_(charges) & (ChargeSplit.payer == patient_payer().id)).scalar() or 0)


def standing(plan: PaymentPlan, as_of: dt.date | None = None) -> dict:
    """Where the plan stands on ``as_of`` (today): the schedule with each instalment's status,
    paid so far, due now, still open, the instalments missed."""
    as_of = as_of or clock.today()
    paid, left = paid_on(plan), open_on(plan)
    rows, due_through, missed = [], 0, []
    for number, day, amount, cumulative in instalments(plan):
        if paid >= cumulative:
            status = "paid"
        elif day < as_of:
            status = "missed"
            missed.append(number)
        elif day == as_of:
            status = "due"
        else:
            status = "upcoming"
        if day <= as_of:
            due_through = cumulative
        rows.append({"number": number, "due_on": day.isoformat(), "amount": Cents(amount),
                     "status": status})
    due_now = max(0, min(left, due_through - paid))
    return {"plan_id": plan.id, "patient_id": plan.patient_id, "status": plan.status, "amount": Cents(plan.amount),
            "frequency": plan.frequency, "start_on": plan.start_on.isoformat(), "balance": Cents(plan.balance),
            "paid": Cents(paid), "open": Cents(left), "due_now": Cents(due_now), "missed": missed,
            "missed_on": plan.missed_on.isoformat() if plan.missed_on else None, "as_of": as_of.isoformat(),
            "charges": list(plan.charges or []), "instalments": rows}


def active_plan(patient_id: int) -> PaymentPlan | None:
    return PaymentPlan.get_or_none((PaymentPlan.patient == patient_id) & (PaymentPlan.status == "active"))


def deferrals(pids: list[int], as_of: dict | None = None) -> dict[int, tuple[int, str]]:
    """For statements: patient id -> (cents of their plan not yet due, the line's text), for
    those of ``pids`` with an active plan."""
    if not pids or not db.database.table_exists("payment_plan"):
        return {}
    out = {}
    for plan in PaymentPlan.select().where(PaymentPlan.patient.in_(pids) & (PaymentPlan.status == "active")):
        s = standing(plan)
        later = s["open"] - s["due_now"]
        if later > 0:
            out[plan.patient_id] = (later, f"Payment plan #{plan.id} ({fmt(plan.amount)} {plan.frequency}): "
                                           f"not yet due")
    return out


# --- workflows --------------------------------------------------------------------------------
def _open_charges(patient_id: int, chosen: list[int]) -> list[tuple[int, int]]:
    """``(charge id, open patient balance)`` of the plan's charges, oldest first: the patient's
    open charges on billable, active encounters, or those of them the clerk chose."""
    from claimdesk.core.services import statements

    lines = [(s.charge.id, s.balance) for s in statements.patient_lines(patient_id)]
    if not chosen:
        return lines
    have = dict(lines)
    for i, cid in enumerate(chosen):
        if cid not in have:
            raise Refused(f"charge {cid} has no open balance of this patient's (on a billable, active encounter)",
                          field=f"charge_ids.{i}")
    return [(cid, bal) for cid, bal in lines if cid in set(chosen)]


def create(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``plan.create``: a plan for the patient's open balance."""
    clean = load(PlanInput, data)

    def body():
        patient = get(Patient, clean["patient_id"], "patient", field="patient_id", for_update=True)
        existing = active_plan(patient.id)
        if existing is not None:
            raise Refused(f"patient {patient.account_no} already has payment plan #{existing.id}; cancel it first",
                          field="patient_id")
        charges = _open_charges(patient.id, clean["charge_ids"])
        balance = sum(bal for _c, bal in charges)
        if balance <= 0:
            raise Refused(f"patient {patient.account_no} owes nothing on billable charges: no plan to make",
                          field="patient_id")
        if clean["amount"] >= balance:
            raise Refused(f"an instalment of {fmt(clean['amount'])} pays the whole {fmt(balance)} at once: "
                          "no plan needed", field="amount")
        plan = PaymentPlan.create(patient=patient.id, amount=clean["amount"], frequency=clean["frequency"],
                                  start_on=clean["start_on"] or clock.today(), balance=balance,
                                  charges=[c for c, _b in charges], created_at=clock.now(),
                                  created_by=current_user())
        return standing(plan)

    return workflow.run("plan.create", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key)


def _plan(plan_id, *, for_update: bool = True) -> PaymentPlan:
    return get(PaymentPlan, plan_id, "payment plan", field="plan_id", for_update=for_update)


def _untag(encounter_ids: list[int]) -> None:
    for enc in Encounter.select().where(Encounter.id.in_(encounter_ids)):
        tags = [t for t in enc.tags.split(",") if t and t != MISSED_TAG]
        if ",".join(tags) != enc.tags:
            Encounter.update(tags=",".join(tags)).where(Encounter.id == enc.id).execute()


def _encounters(plan: PaymentPlan) -> list[int]:
    charges = [int(c) for c in plan.charges or []]
    return sorted({e for (e,) in Charge.select(Charge.encounter).where(Charge.id.in_(charges)).tuples()})


def cancel(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``plan.cancel``: the account goes back to normal statements (the whole balance due)."""
    clean = load(CancelInput, data)

    def body():
        plan = _plan(clean["plan_id"])
        if plan.status != "active":
            raise Refused(f"payment plan #{plan.id} is {plan.status}", field="plan_id")
        plan.status, plan.ended_at, plan.ended_by, plan.end_reason = "cancelled", clock.now(), current_user(), \
            clean["reason"]
        plan.save()
        _untag(_encounters(plan))
        return standing(plan)

    return workflow.run("plan.cancel", body, inputs=clean, reason=clean["reason"], idempotency_key=idempotency_key)


def check(data: dict | None = None, *, idempotency_key: str | None = None) -> dict:
    """Workflow ``plan.check``: every active plan as of a date (today): one with a missed
    instalment puts its encounters that still owe on the Patient balance queue, tagged "Plan
    missed" (once: until it is caught up); one caught up loses the tag; one paid off is completed."""
    clean = load(CheckInput, data or {})
    as_of = clean["as_of"] or clock.today()

    def body():
        queue = WorkQueue.get(WorkQueue.key == MISSED_QUEUE)
        missed, caught_up, completed = [], [], []
        for plan in PaymentPlan.select().where(PaymentPlan.status == "active").order_by(PaymentPlan.id):
            s = standing(plan, as_of)
            if s["open"] == 0:
                plan.status, plan.ended_at, plan.ended_by, plan.end_reason = "completed", clock.now(), \
                    current_user(), "paid off"
                plan.missed_on = None
                plan.save()
                _untag(_encounters(plan))
                completed.append(plan.id)
            elif s["missed"]:
                if plan.missed_on is None:
                    first = s["instalments"][s["missed"][0] - 1]
                    plan.missed_on = dt.date.fromisoformat(first["due_on"])
                    plan.save()
                    owing = _owing_encounters(plan)
                    for enc in Encounter.select().where(Encounter.id.in_(owing)):
                        tags = [t for t in enc.tags.split(",") if t]
                        if MISSED_TAG not in tags:
                            tags.append(MISSED_TAG)
                        Encounter.update(queue=queue.id, tags=",".join(tags)).where(Encounter.id == enc.id).execute()
                    missed.append({"plan_id": plan.id, "patient_id": plan.patient_id, "missed": s["missed"],
                                   "due_now": s["due_now"], "encounters": owing})
            elif plan.missed_on is not None:
                plan.missed_on = None
                plan.save()
                _untag(_encounters(plan))
                caught_up.append(plan.id)
        return {"as_of": as_of.isoformat(), "missed": missed, "caught_up": caught_up, "completed": completed}

    return workflow.run("plan.check", body, inputs=clean, idempotency_key=idempotency_key)


def _owing_encounters(plan: PaymentPlan) -> list[int]:
    charges = [int(c) for c in plan.charges or []]
    return sorted({e for (e,) in ChargeSplit.select(Charge.encounter).join(Charge).where(
        ChargeSplit.charge.in_(charges) & (ChargeSplit.payer == patient_payer().id)
        & (ChargeSplit.balance > 0)).tuples()})


def pay(data: dict, *, idempotency_key: str | None = None) -> dict:
    """A patient payment drawn from ``voucher_id`` applied to the plan's charges oldest first
    (the credit entry workflow ``credit.post`` and its rules; what is left goes back to the
    voucher unless ``keep_unapplied``)."""
    from claimdesk.core.services import payments

    clean = load(PayInput, data)
    plan = _plan(clean["plan_id"], for_update=False)
    if plan.status != "active":
        raise Refused(f"payment plan #{plan.id} is {plan.status}", field="plan_id")
    owed = {c: b for c, b in _open_charges(plan.patient_id, [])}
    open_charges = [int(c) for c in plan.charges if owed.get(int(c), 0) > 0]
    if not open_charges:
        raise Refused(f"payment plan #{plan.id} has nothing left to pay", field="plan_id")
    payload = {"patient_id": plan.patient_id, "voucher_id": clean["voucher_id"], "apply": "manual",
               "applications": [{"charge_id": c} for c in open_charges],
               "keep_unapplied": clean["keep_unapplied"], "memo": f"payment plan #{plan.id}"}
    if clean["amount"] is not None:
        payload["amount"] = f"{clean['amount'] // 100}.{clean['amount'] % 100:02d}"
    res = payments.post_credit(payload, idempotency_key=idempotency_key)
    return {**res, "plan": standing(PaymentPlan.get_by_id(plan.id))}


def show(plan_id, as_of: dt.date | None = None) -> dict:
    return standing(_plan(plan_id, for_update=False), as_of)


def list_plans(status: str | None = None, patient_id=None) -> list[dict]:
    q = PaymentPlan.select()
    if status:
        if status not in ("active", "completed", "cancelled"):
            raise InputError({"status": [f"unknown status {status!r}"]})
        q = q.where(PaymentPlan.status == status)
    if patient_id is not None:
        q = q.where(PaymentPlan.patient == get(Patient, patient_id, "patient", field="patient_id").id)
    out = []
    for plan in q.order_by(PaymentPlan.id.desc()):
        s = standing(plan)
        out.append({k: s[k] for k in ("plan_id", "patient_id", "status", "amount", "frequency", "start_on",
                                      "balance", "paid", "open", "due_now", "missed", "missed_on")})
    return out
