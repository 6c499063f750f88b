"""Patient statements: what the patient owes, never what is pending with an insurer.

A statement lists each charge's patient-responsibility balance on billable
encounters, payments received since the last statement, an aging summary and
the amount due (patient balance less unapplied money). Regenerating voids the
active statement first and makes a new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Callable

from marshmallow import Schema

from claimdesk.core import clock, config, workflow
from claimdesk.core.config import StatementRules
from claimdesk.core.errors import Refused
from claimdesk.core.money import fmt
from claimdesk.core.validation import Id, Text, load
from claimdesk.core.services.common import get, patient_payer
from claimdesk.core.context import current_user
from claimdesk.core.models import (
    Charge, ChargeSplit, Credit, Encounter, Patient, Payer, ServiceCode, Statement, StatementLine,
    WorkQueue,
)
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


def _payment_label(credit: Credit) -> str:
    """How a payment reads on the statement: the patient's own, or an insurer's."""
    if credit.payer_id == patient_payer().id:
        return f"Payment received, thank you ({credit.method})"
    return f"Insurance payment: {Payer.get_by_id(credit.payer_id).name} ({credit.method})"


def generate(patient: Patient, *, message: str = "", final_notice: bool = False,
             void_reason: str = "regenerated") -> Statement:
    """Make a new statement for ``patient`` (inside a transaction), voiding the active one.

    A patient payment since the last statement first resets the unpaid-statement count
    (:func:`fold_payment_reset`), so no statement made now can hide that payment from
    the final-notice rule.
    """
    fold_payment_reset(patient.id)
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
                         "line_date": credit.posted_on, "description": _payment_label(credit)[:120],
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


# --- statement runs: the rules, one patient or all, regenerate --------------------------------
class PatientInput(Schema):
    """One patient."""

    patient_id = Id(required=True)


class RegenerateInput(Schema):
    """One patient and why the statement is made again."""

    patient_id = Id(required=True)
    reason = Text(max_length=200, load_default="")


def _rules(rules: StatementRules | None) -> StatementRules:
    return rules if rules is not None else config.load().statements


def last_statement(patient_id: int) -> Statement | None:
    """The patient's most recent statement, active or void."""
    return Statement.select().where(Statement.patient == patient_id).order_by(Statement.id.desc()).first()


def paid_since(patient_id: int, since: dt.datetime | dt.date) -> bool:
    """Did the patient themself pay anything since ``since`` (a returned check does not count)?

    With a timestamp: payments entered at or after it; with a date: posted on or after it.
    """
    cond = (Credit.created_at >= since) if isinstance(since, dt.datetime) else (Credit.posted_on >= since)
    credits = Credit.select(Credit.id).where((Credit.patient == patient_id) & (Credit.payer == patient_payer().id)
                                             & cond)
    return any(balances.credit_drawn(c.id) > 0 for c in credits)


def _since(stmt: Statement) -> dt.datetime | dt.date:
    return stmt.generated_at if isinstance(stmt.generated_at, dt.datetime) else stmt.generated_on


def unpaid_count(patient: Patient) -> int:
    """Statements issued without a patient payment since.

    The count is kept on the patient (``unpaid_statements``, raised by each issued
    statement, not by a regeneration); a patient payment entered after the most recent
    statement of any kind (issued, regenerated, or made for a denial) resets it. Every
    new statement first folds such a payment into the stored count
    (:func:`fold_payment_reset`), so a regeneration after a payment cannot hide it.
    """
    count = Patient.select(Patient.unpaid_statements).where(Patient.id == patient.id).scalar() or 0
    last = last_statement(patient.id)
    if count and last is not None and paid_since(patient.id, _since(last)):
        return 0
    return count


def fold_payment_reset(patient_id: int) -> None:
    """Store the reset a patient payment made since the last statement (count -> 0)."""
    stored = Patient.select(Patient.unpaid_statements).where(Patient.id == patient_id).scalar() or 0
    if stored and unpaid_count(Patient(id=patient_id)) == 0:
        Patient.update(unpaid_statements=0).where(Patient.id == patient_id).execute()


def notice_level(patient: Patient, rules: StatementRules, count: int) -> tuple[bool, str]:
    """(final notice?, message) of a statement that is the ``count``-th unpaid one."""
    final = count > 0 and count >= rules.final_notice_after
    if final:
        return True, rules.final_notice_message
    return False, rules.dunning_message(oldest_age(patient.id, clock.today()))


def reissue(patient: Patient, *, void_reason: str, rules: StatementRules | None = None) -> Statement:
    """A new statement from the current balances that is not a new one in the dunning series
    (a regeneration, a denial billed to the patient): it voids the active one and its notice
    level is worked out again from the unpaid count (a payment since resets it), which it
    does not raise."""
    rules = _rules(rules)
    final, message = notice_level(patient, rules, unpaid_count(patient))
    return generate(patient, message=message, final_notice=final, void_reason=void_reason)


def oldest_age(patient_id: int, today: dt.date) -> int:
    """Age in days (by date of service) of the patient's oldest billable patient balance."""
    lines = patient_lines(patient_id)
    return max(((today - split.charge.dos).days for split in lines), default=0)


def _issue(patient: Patient, rules: StatementRules, void_reason: str) -> dict:
    """Make the next statement in the series: dunning message by age, final notice by count."""
    count = unpaid_count(patient)
    final, message = notice_level(patient, rules, count + 1)
    old = active_statement(patient.id)
    stmt = generate(patient, message=message, final_notice=final, void_reason=void_reason)
    Patient.update(unpaid_statements=count + 1).where(Patient.id == patient.id).execute()
    queued = 0
    if final:
        queue = WorkQueue.get_or_none(WorkQueue.key == "patient_balance")
        encs = {line.encounter_id for line in StatementLine.select(StatementLine.encounter).where(
            (StatementLine.statement == stmt.id) & StatementLine.encounter.is_null(False))}
        if queue is not None and encs:
            queued = Encounter.update(queue=queue.id).where(
                Encounter.id.in_(encs) & Encounter.queue.is_null()).execute()
    return {"statement_id": stmt.id, "patient_id": patient.id, "amount_due": stmt.amount_due,
            "final_notice": final, "message": message, "unpaid_statements": count + 1,
            "voided_statement_id": old.id if old is not None else None, "queued_patient_balance": queued}


def generate_for(patient_id: int, *, rules: StatementRules | None = None,
                 idempotency_key: str | None = None) -> dict:
    """Workflow: a statement for one patient now (the clerk asked: no minimum or interval
    check), voiding the active one. Refused when nothing is the patient's to pay. The same
    ``idempotency_key`` again (a double Enter) returns the first answer: one statement, the
    unpaid count raised once."""
    clean = load(PatientInput, {"patient_id": patient_id})
    rules = _rules(rules)

    def body():
        patient = _billable(clean["patient_id"])
        return _issue(patient, rules, "replaced by a new statement")

    return workflow.run("statements.generate", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key)


def _billable(patient_id: int) -> Patient:
    """The patient, refused when nothing is theirs to pay (pending with an insurer is not)."""
    patient = get(Patient, patient_id, "patient", field="patient_id")
    if not patient_lines(patient.id):
        raise Refused(f"patient {patient.id} has no patient balance to bill (a balance pending with "
                      f"an insurer is never billed to the patient)", field="patient_id")
    return patient


def before_one(patient_id, *, rules: StatementRules | None = None) -> dict:
    """What :func:`generate_for` would do for this patient, to ask the clerk first (reads
    only): the patient, what they owe now, the active statement it would void (its date,
    amount and age in days) and whether the statement run would have skipped them (and why)."""
    clean = load(PatientInput, {"patient_id": patient_id})
    patient = _billable(clean["patient_id"])
    today = clock.today()
    active = active_statement(patient.id)
    return {"patient_id": patient.id, "name": patient.name, "account_no": patient.account_no,
            "amount_due": max(balances.patient_balance(patient.id).net_due, 0),
            "active": None if active is None else {
                "statement_id": active.id, "generated_on": active.generated_on.isoformat(),
                "amount_due": active.amount_due, "days_old": (today - active.generated_on).days},
            "run_would_skip": skip_reason(patient, _rules(rules), today)}


def skip_reason(patient: Patient, rules: StatementRules, today: dt.date) -> str | None:
    """Why the statement run leaves this patient out, or None to send one."""
    due = balances.patient_balance(patient.id).net_due
    if due < rules.minimum_balance_cents:
        return f"amount due {fmt(max(due, 0))} is below the minimum {fmt(rules.minimum_balance_cents)}"
    last = active_statement(patient.id)
    if last is not None and (today - last.generated_on).days < rules.minimum_interval_days:
        return (f"last statement {last.generated_on.isoformat()} is less than "
                f"{rules.minimum_interval_days} days ago")
    if unpaid_count(patient) >= rules.final_notice_after:
        return "final notice already sent and not paid since: the account waits in the Patient balance queue"
    return None


def candidates() -> list[int]:
    """Patients with a patient-responsibility balance on a billable, active encounter."""
    rows = (ChargeSplit.select(ChargeSplit.patient).join(Charge)
            .join(Encounter, on=(Charge.encounter == Encounter.id))
            .where((ChargeSplit.payer == patient_payer().id) & (ChargeSplit.balance > 0)
                   & Encounter.billable & (Encounter.status == "active"))
            .group_by(ChargeSplit.patient).order_by(ChargeSplit.patient).tuples())
    return [pid for (pid,) in rows]


def generate_all(*, rules: StatementRules | None = None,
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Workflow: the statement run for every patient with a patient balance, applying the
    rules (minimum balance, minimum interval, final notice after N unpaid statements).

    ``progress``, if given, is called as ``progress(done, total)`` with ``total`` the
    number of candidate patients: ``(0, total)`` once they are known, then after each
    patient (made or skipped) with ``done`` one higher, ending at ``(total, total)``.
    It runs inside the run's one transaction, on the thread running the workflow, so an
    exception it raises rolls the whole run back: no statement, no audit event (how a
    front end cancels). It does not change the result. A transaction retried after a
    lock conflict reports from ``(0, total)`` again.
    """
    rules = _rules(rules)

    def body():
        today = clock.today()
        made, skipped = [], []
        pids = candidates()
        if progress is not None:
            progress(0, len(pids))
        for done, pid in enumerate(pids, start=1):
            patient = Patient.get_by_id(pid)
            why = skip_reason(patient, rules, today)
            if why:
                skipped.append({"patient_id": pid, "account_no": patient.account_no, "reason": why})
            else:
                made.append(_issue(patient, rules, "replaced by the statement run"))
            if progress is not None:
                progress(done, len(pids))
        return {"generated": made, "skipped": skipped, "statements": len(made),
                "amount_due": sum(m["amount_due"] for m in made)}

    return workflow.run("statements.run", body, inputs={"rules": dataclasses.asdict(rules)})


def regenerate(patient_id: int, reason: str = "", *, rules: StatementRules | None = None,
               idempotency_key: str | None = None) -> dict:
    """Workflow: void the patient's active statement (kept on file, with the reason) and make a
    new one from the current balances. Not a new statement in the series: the unpaid count is
    not raised, and the notice level (final notice or dunning message) is worked out again, so
    a patient who paid since the final notice gets an ordinary statement."""
    clean = load(RegenerateInput, {"patient_id": patient_id, "reason": reason})
    rules = _rules(rules)

    def body():
        patient = get(Patient, clean["patient_id"], "patient", field="patient_id")
        old = active_statement(patient.id)
        if old is None:
            raise Refused(f"patient {patient.id} has no active statement to regenerate", field="patient_id")
        new = reissue(patient, void_reason=clean["reason"] or "regenerated", rules=rules)
        return {"voided_statement_id": old.id, "statement_id": new.id, "patient_id": patient.id,
                "amount_due": new.amount_due, "final_notice": new.final_notice, "message": new.message,
                "unpaid_statements": unpaid_count(patient)}

    return workflow.run("statements.regenerate", body, inputs=clean, patient_id=clean["patient_id"],
                        reason=clean["reason"], idempotency_key=idempotency_key)


def lines_of(statement_id: int) -> list[StatementLine]:
    """A statement's lines in print order: charges, payments, then the aging summary."""
    order = {"charge": 0, "payment": 1, "aging": 2}
    rows = list(StatementLine.select().where(StatementLine.statement == statement_id)
                .order_by(StatementLine.line_date, StatementLine.id))
    return sorted(rows, key=lambda ln: order.get(ln.kind, 3))
