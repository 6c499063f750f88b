"""Patient statements: what the patient owes, never what is pending with an insurer.

A statement lists each charge's patient-responsibility balance on billable
encounters, payments received since the last statement, an aging summary and
the amount due (patient balance less unapplied money). Regenerating voids the
active statement first and makes a new one.
"""

from __future__ import annotations

from claimdesk.core import clock
from claimdesk.core.context import current_user
from claimdesk.core.models import (
    Charge, ChargeSplit, Credit, Encounter, Patient, ServiceCode, Statement, StatementLine,
)
from claimdesk.core.schema import patient_payer
from claimdesk.core.services import aging, balances


def active_statement(patient_id: int) -> Statement | None:
    """The patient's current (not voided) statement, if any."""
    return (Statement.select().where((Statement.patient == patient_id) & (Statement.status == "active"))
            .order_by(Statement.id.desc()).first())


def void(statement: Statement, reason: str) -> None:
    """Void a statement (it stays on file, marked void, with the reason)."""
    Statement.update(status="void", voided_at=clock.now(), void_reason=reason[:200]).where(
        Statement.id == statement.id).execute()


def patient_lines(patient_id: int) -> list[tuple[Charge, ServiceCode, int]]:
    """Charges with a patient-responsibility balance on billable, active encounters."""
    pseudo = patient_payer().id
    return list(
        ChargeSplit.select(ChargeSplit, Charge, ServiceCode)
        .join(Charge).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
        .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
        .where((ChargeSplit.patient == patient_id) & (ChargeSplit.payer == pseudo)
               & (ChargeSplit.balance > 0) & Encounter.billable & (Encounter.status == "active"))
        .order_by(Charge.dos, Charge.id))


def generate(patient: Patient, *, message: str = "", final_notice: bool = False,
             void_reason: str = "regenerated") -> Statement:
    """Make a new statement for ``patient`` (inside a transaction), voiding the active one."""
    old = active_statement(patient.id)
    if old is not None:
        void(old, void_reason)
    today, now = clock.today(), clock.now()
    stmt = Statement.create(patient=patient, generated_on=today, generated_at=now,
                            generated_by=current_user(), message=message, final_notice=final_notice)
    rows, dated = [], []
    for split in patient_lines(patient.id):
        charge = split.charge
        code = charge.service_code
        rows.append({"statement": stmt.id, "encounter": charge.encounter_id, "charge": charge.id,
                     "line_date": charge.dos, "description": f"{code.code} {code.description}"[:120],
                     "amount": split.balance, "kind": "charge"})
        dated.append((charge.dos, split.balance))
    since = old.generated_on if old is not None else None
    credits = Credit.select().where(Credit.patient == patient.id)
    if since is not None:
        credits = credits.where(Credit.posted_on >= since)
    for credit in credits.order_by(Credit.posted_on, Credit.id):
        paid = balances.credit_applied(credit.id)
        if paid:
            rows.append({"statement": stmt.id, "encounter": None, "charge": None,
                         "line_date": credit.posted_on, "description": f"Payment received ({credit.method})",
                         "amount": -paid, "kind": "payment"})
    buckets = aging.bucketize(dated, today)
    for key in aging.BUCKETS:
        rows.append({"statement": stmt.id, "encounter": None, "charge": None, "line_date": today,
                     "description": f"Aging {aging.BUCKET_LABELS[key]}", "amount": buckets[key],
                     "kind": "aging"})
    if rows:
        StatementLine.insert_many(rows).execute()
    bal = balances.patient_balance(patient.id)
    due = max(bal.net_due, 0)
    Statement.update(amount_due=due).where(Statement.id == stmt.id).execute()
    stmt.amount_due = due
    return stmt
