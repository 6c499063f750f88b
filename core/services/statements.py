"""Patient statements: what the patient owes, never what is pending with an insurer.

A statement is written so that its figures add up on its face (:class:`Face`):

- per visit and service (charges with a patient balance on billable, active encounters):
  billed, paid by insurance, adjusted (contractual, write-offs), still with insurance (if
  any), and the patient's portion (= billed - insurance - adjusted - pending);
- the patient's own payments on those charges, and the credit on account (the patient's
  unapplied money) used against them;
- the amount due = portions - payments - credit used (the patient's balance less their
  unapplied money, never below zero), aged oldest first after the credit;
- with a previous statement: balance forward (its amount due), the patient's payments
  received since and the rest of the change (charges, insurance and adjustments since),
  which sum to the same amount due;
- the due date (statement date + ``payment_due_days`` of the rules).

Each is stored as lines of the statement (:class:`StatementLine`, ``kind`` names the
figure), so a statement reprints as it was sent. The statement run (:func:`generate_all`,
and the demo's monthly run) applies the rules (:func:`skip_reason`) to many patients at
once; regenerating voids the active statement first and makes a new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

from claimdesk.core import clock, config, workflow
from claimdesk.core.config import StatementRules
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    Charge,
    ChargeSplit,
    Credit,
    CreditSplit,
    Encounter,
    Patient,
    Posting,
    Provider,
    ServiceCode,
    Statement,
    StatementLine,
    WorkQueue,
)
from claimdesk.core.money import fmt
from claimdesk.core.posting.bulk import insert_rows
from claimdesk.core.services import aging
from claimdesk.core.services.common import get, patient_payer
from claimdesk.core.validation import Id, Text, load
from marshmallow import Schema
from peewee import JOIN, fn

#: Patients composed per set of queries (the run, the demo's monthly run).
CHUNK = 300
#: Statement line kinds in print order (see :class:`claimdesk.core.models.StatementLine`).
LINE_ORDER = {"forward": 0, "received": 1, "changes": 2, "charge": 3, "billed": 3, "insurance": 3, "pending": 3,
              "adjustment": 3, "payment": 4, "credit": 5, "aging": 6, "due": 7}


def active_statement(patient_id: int) -> Statement | None:
    """The patient's current (not voided) statement, if any."""
    return (Statement.select().where((Statement.patient == patient_id) & (Statement.status == "active"))
            .order_by(Statement.id.desc()).first())


def void(statement: Statement, reason: str) -> None:
    """Void a statement (it stays on file, marked void, with the reason)."""
    Statement.update(status="void", voided_at=clock.now(), void_reason=reason[:200]).where(
        Statement.id == statement.id).execute()


def patient_lines(patient_id: int) -> list[ChargeSplit]:
    """Charges with a patient-responsibility balance on billable, active encounters."""
    pseudo = patient_payer().id
    return list(
        ChargeSplit.select(ChargeSplit, Charge, ServiceCode)
        .join(Charge).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
        .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
        .where((ChargeSplit.patient == patient_id) & (ChargeSplit.payer == pseudo)
               & (ChargeSplit.balance > 0) & Encounter.billable & (Encounter.status == "active"))
        .order_by(Charge.dos, Charge.id))


# --- what a statement says: composed from the ledger, many patients at once --------------------
@dataclasses.dataclass
class ChargeFigures:
    """One service of a visit on the statement, in cents (insurance, adjusted, pending: what
    they took off the bill, as positive amounts)."""

    encounter_id: int
    charge_id: int
    dos: dt.date
    provider: str
    service: str
    billed: int = 0
    insurance: int = 0
    adjusted: int = 0
    pending: int = 0  # still with an insurer: never the patient's to pay
    you_paid: int = 0
    owed: int = 0  # the patient's open balance on it

    @property
    def portion(self) -> int:
        """The patient's part of the charge: billed - insurance - adjusted - pending (= paid + owed)."""
        return self.billed - self.insurance - self.adjusted - self.pending


@dataclasses.dataclass
class Previous:
    """The statement a new one carries its balance forward from."""

    statement_id: int | None
    generated_on: dt.date
    amount_due: int
    since: dt.datetime  # payments entered at or after this are "since then"

    @classmethod
    def of(cls, stmt: Statement) -> Previous:
        return cls(stmt.id, stmt.generated_on, stmt.amount_due, _at(stmt))


@dataclasses.dataclass
class Face:
    """Everything a patient reads on a new statement, in cents; the figures sum to :attr:`amount_due`."""

    patient_id: int
    charges: list[ChargeFigures]
    payments: list[tuple[dt.date, str, int]]  # the patient's own payments on these charges
    credit: int  # the patient's unapplied money (credit on account)
    previous: Previous | None = None
    received_since: int = 0  # the patient's payments entered since the previous statement
    plan_later: int = 0  # of a payment plan's balance, what is not due yet (plans.deferrals)
    plan_text: str = ""

    @property
    def owed(self) -> int:
        return sum(c.owed for c in self.charges)

    @property
    def credit_used(self) -> int:
        """The credit on account set against what is owed (what is left stays on account)."""
        return min(max(self.credit, 0), self.owed)

    @property
    def plan_deferred(self) -> int:
        """What a payment plan takes off the amount due (its instalments not due yet; never below 0 due)."""
        return min(max(self.plan_later, 0), self.owed - self.credit_used)

    @property
    def amount_due(self) -> int:
        return self.owed - self.credit_used - self.plan_deferred

    @property
    def changes_since(self) -> int:
        """Charges, insurance and adjustments since the previous statement: amount due - balance
        forward + payments received since."""
        return self.amount_due - (self.previous.amount_due if self.previous else 0) + self.received_since

    def aging(self, today: dt.date) -> dict[str, int]:
        """What is owed by age of service, the credit on account taken off the oldest first."""
        left, dated = self.credit_used, []
        for c in sorted(self.charges, key=lambda c: (c.dos, c.charge_id)):
            used = min(left, c.owed)
            left -= used
            dated.append((c.dos, c.owed - used))
        return aging.bucketize(dated, today)

    def oldest_age(self, today: dt.date) -> int:
        return max(((today - c.dos).days for c in self.charges), default=0)


def _at(stmt: Statement) -> dt.datetime:
    when = stmt.generated_at
    return when if isinstance(when, dt.datetime) else dt.datetime.combine(stmt.generated_on, dt.time.min)


def _chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _patient_money(pids: list[int], pseudo: int) -> dict[int, list[tuple[dt.datetime, int]]]:
    """Per patient, each payment of their own: (entered at, drawn now; a returned check draws 0)."""
    out: dict[int, list] = {}
    rows = (Posting.select(Credit.patient, Credit.created_at, fn.SUM(Posting.amount))
            .join(Credit, on=(Posting.credit == Credit.id))
            .where((Posting.account == "UNAPPLIED") & Posting.credit_split.is_null(True)
                   & Credit.patient.in_(pids) & (Credit.payer == pseudo))
            .group_by(Credit.id, Credit.patient, Credit.created_at).tuples())
    for pid, at, total in rows:
        out.setdefault(pid, []).append((at, -int(total or 0)))
    return out


def compose(pids: list[int], previous: dict[int, Previous | None] | None = None) -> dict[int, Face]:
    """The faces of new statements for ``pids`` (reads only), from the ledger's postings.

    Per charge with a patient balance on a billable, active encounter: billed = the fee
    charged (REVENUE), insurance = payments by insurers' credits, the patient's payments
    (their own credits), pending = what insurers still hold, owed = the patient's open
    balance, adjusted = the rest (contractual adjustments and write-offs: every AR movement
    is a charge, a payment, an adjustment or a transfer within the charge).
    """
    previous = previous or {}
    pseudo = patient_payer().id
    faces: dict[int, Face] = {}
    for part in _chunks(list(pids)):
        figs: dict[int, ChargeFigures] = {}
        by_patient: dict[int, list[ChargeFigures]] = {pid: [] for pid in part}
        rows = (ChargeSplit.select(ChargeSplit.patient, Charge.encounter, Charge.id, Charge.dos, ServiceCode.code,
                                   ServiceCode.description, Provider.name)
                .join(Charge).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                .switch(Charge).join(Provider, on=(Charge.provider == Provider.id))
                .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
                .where(ChargeSplit.patient.in_(part) & (ChargeSplit.payer == pseudo) & (ChargeSplit.balance > 0)
                       & Encounter.billable & (Encounter.status == "active"))
                .order_by(ChargeSplit.patient, Charge.dos, Charge.id).tuples())
        for pid, enc_id, cid, dos, code, desc, provider in rows:
            if cid not in figs:
                figs[cid] = ChargeFigures(enc_id, cid, dos, provider, f"{code} {desc}"[:120])
                by_patient[pid].append(figs[cid])
        paid_by: list[tuple[int, int, int]] = []  # (charge, credit, AR amount)
        for cid, payer_id, credit_id, total in (
                Posting.select(Posting.charge, Posting.payer, CreditSplit.credit, fn.SUM(Posting.amount))
                .join(CreditSplit, JOIN.LEFT_OUTER, on=(Posting.credit_split == CreditSplit.id))
                .where((Posting.account == "AR") & Posting.patient.in_(part))
                .group_by(Posting.charge, Posting.payer, CreditSplit.credit).tuples()):
            f = figs.get(cid)
            if f is None:
                continue
            if payer_id == pseudo:
                f.owed += int(total)
            else:
                f.pending += int(total)
            if credit_id is not None:
                paid_by.append((cid, credit_id, int(total)))
        credits = {}
        ids = sorted({c for _, c, _ in paid_by})
        for chunk in _chunks(ids, 1000):
            for row in Credit.select(Credit.id, Credit.patient, Credit.payer, Credit.posted_on, Credit.method).where(
                    Credit.id.in_(chunk)):
                credits[row.id] = row
        applied: dict[int, int] = {}  # the patient's own credit -> applied to these charges
        for cid, credit_id, total in paid_by:
            credit = credits[credit_id]
            if credit.payer_id == pseudo:
                figs[cid].you_paid -= total
                applied[credit_id] = applied.get(credit_id, 0) - total
            else:
                figs[cid].insurance -= total
        for cid, total in (Posting.select(Posting.charge, fn.SUM(Posting.amount))
                           .where((Posting.account == "REVENUE") & Posting.patient.in_(part))
                           .group_by(Posting.charge).tuples()):
            if cid in figs:
                figs[cid].billed = -int(total)
        for f in figs.values():
            f.adjusted = f.billed - f.insurance - f.you_paid - f.pending - f.owed
        unapplied = dict(Posting.select(Posting.patient, fn.SUM(Posting.amount))
                         .where((Posting.account == "UNAPPLIED") & Posting.patient.in_(part))
                         .group_by(Posting.patient).tuples())
        paid: dict[int, list] = {pid: [] for pid in part}
        for credit_id in sorted(applied, key=lambda c: (credits[c].posted_on, c)):
            if applied[credit_id]:
                credit = credits[credit_id]
                label = f"Payment received, thank you ({credit.method})"
                paid[credit.patient_id].append((credit.posted_on, label[:120], applied[credit_id]))
        with_prev = [pid for pid in part if previous.get(pid) is not None]
        money = _patient_money(with_prev, pseudo) if with_prev else {}
        for pid in part:
            prev = previous.get(pid)
            received = sum(drawn for at, drawn in money.get(pid, ()) if prev is not None and at >= prev.since)
            faces[pid] = Face(pid, by_patient[pid], paid[pid], -int(unapplied.get(pid) or 0), prev, received)
        from claimdesk.core.services import plans

        for pid, (later, text) in plans.deferrals(part).items():
            faces[pid].plan_later, faces[pid].plan_text = later, text
    return faces


def face_lines(face: Face, statement_id: int, today: dt.date, due_on: dt.date) -> list[dict]:
    """The statement lines that record ``face`` (amounts signed as they add up to the amount due)."""
    def line(kind, amount, description, day=today, encounter=None, charge=None):
        return {"statement": statement_id, "encounter": encounter, "charge": charge, "line_date": day,
                "description": description[:120], "amount": amount, "kind": kind}

    out = []
    prev = face.previous
    if prev is not None:
        which = f"statement #{prev.statement_id} of " if prev.statement_id else "statement of "
        out += [line("forward", prev.amount_due, f"Balance forward: {which}{prev.generated_on.isoformat()}",
                     prev.generated_on),
                line("received", -face.received_since, "Your payments received since, thank you"),
                line("changes", face.changes_since, "New charges, insurance and adjustments since")]
    for c in face.charges:
        # the charge line (the patient's open balance) is the one tied to the encounter
        out.append(line("charge", c.owed, c.service, c.dos, c.encounter_id, c.charge_id))
        out.append(line("billed", c.billed, c.provider, c.dos, charge=c.charge_id))
        for kind, amount in (("insurance", c.insurance), ("adjustment", c.adjusted), ("pending", c.pending)):
            if amount:
                out.append(line(kind, -amount, kind, c.dos, charge=c.charge_id))
    for day, label, amount in face.payments:
        out.append(line("payment", -amount, label, day))
    if face.credit > 0:
        left = face.credit - face.credit_used
        text = "Credit on account" + (f" ({fmt(face.credit)}: {fmt(left)} stays on your account)" if left else "")
        out.append(line("credit", -face.credit_used, text))
    if face.plan_deferred:
        out.append(line("plan", -face.plan_deferred, face.plan_text or "Payment plan: not yet due"))
    buckets = face.aging(today)
    out += [line("aging", buckets[key], f"Aging {aging.BUCKET_LABELS[key]}") for key in aging.BUCKETS]
    out.append(line("due", face.amount_due, "Please pay by", due_on))
    return out


def _previous(old: Statement | None, *, reissue: bool) -> Previous | None:
    """What a new statement carries forward. A new one in the series: the active statement it
    replaces. A reissue (regeneration, denial billed): what the replaced one carried forward."""
    if old is None:
        return None
    if not reissue:
        return Previous.of(old)
    kinds = {ln.kind: ln for ln in StatementLine.select().where(
        (StatementLine.statement == old.id) & StatementLine.kind.in_(["forward", "due"]))}
    fwd = kinds.get("forward")
    if fwd is not None:
        src = (Statement.select().where((Statement.patient == old.patient_id) & (Statement.id < old.id)
                                        & (Statement.generated_on == fwd.line_date)
                                        & (Statement.amount_due == fwd.amount))
               .order_by(Statement.id.desc()).first())
        if src is not None:
            return Previous.of(src)
        return Previous(None, fwd.line_date, fwd.amount, dt.datetime.combine(fwd.line_date, dt.time.min))
    if "due" in kinds:  # the replaced one was a first statement
        return None
    before = (Statement.select().where((Statement.patient == old.patient_id) & (Statement.id < old.id))
              .order_by(Statement.id.desc()).first())  # a statement from before line kinds were kept
    return Previous.of(before) if before is not None else None


def _write(issue: list[tuple[Face, bool, str]], *, void_reason: str, rules: StatementRules) -> list[Statement]:
    """Void the active statements of these patients and write the new ones with their lines."""
    if not issue:
        return []
    today, now, user = clock.today(), clock.now(), current_user()
    due_on = today + dt.timedelta(days=rules.payment_due_days)
    pids = [f.patient_id for f, _, _ in issue]
    Statement.update(status="void", voided_at=now, void_reason=void_reason[:200]).where(
        Statement.patient.in_(pids) & (Statement.status == "active")).execute()
    rows = [{"patient": f.patient_id, "generated_on": today, "generated_at": now, "generated_by": user,
             "message": message, "final_notice": final, "amount_due": f.amount_due} for f, final, message in issue]
    ids = insert_rows(Statement, rows)
    lines = []
    for sid, (f, _final, _message) in zip(ids, issue):
        lines += face_lines(f, sid, today, due_on)
    insert_rows(StatementLine, lines, ids=False)
    return [Statement(id=sid, **row) for sid, row in zip(ids, rows)]


def generate(patient: Patient, *, message: str = "", final_notice: bool = False,
             void_reason: str = "regenerated", reissue: bool = True,
             rules: StatementRules | None = None) -> Statement:
    """Make a new statement for ``patient`` (inside a transaction), voiding the active one.

    ``reissue``: the new statement replaces the active one (its balance forward is the replaced
    one's); otherwise it is the next in the series (its balance forward is the active one's
    amount due). A patient payment since the last statement first resets the unpaid-statement
    count (:func:`fold_payment_reset`), so no statement made now can hide that payment from
    the final-notice rule.
    """
    fold_payment_reset(patient.id)
    old = active_statement(patient.id)
    face = compose([patient.id], {patient.id: _previous(old, reissue=reissue)})[patient.id]
    (stmt,) = _write([(face, final_notice, message)], void_reason=void_reason, rules=_rules(rules))
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


def _unpaid_counts(pids: list[int]) -> dict[int, tuple[int, int]]:
    """Per patient: (the stored unpaid-statement count, the count as it stands: 0 once the patient
    paid after their most recent statement of any kind)."""
    out = {pid: (0, 0) for pid in pids}
    stored = dict(Patient.select(Patient.id, Patient.unpaid_statements)
                  .where(Patient.id.in_(pids) & (Patient.unpaid_statements > 0)).tuples())
    if not stored:
        return out
    last_ids = [sid for (sid,) in Statement.select(fn.MAX(Statement.id)).where(Statement.patient.in_(list(stored)))
                .group_by(Statement.patient).tuples()]
    last = {st.patient_id: st for st in Statement.select().where(Statement.id.in_(last_ids))}
    money = _patient_money([pid for pid in stored if pid in last], patient_payer().id) if last else {}
    for pid, count in stored.items():
        paid = pid in last and any(drawn > 0 and at >= _at(last[pid]) for at, drawn in money.get(pid, ()))
        out[pid] = (count, 0 if paid else count)
    return out


def unpaid_count(patient: Patient) -> int:
    """Statements issued without a patient payment since.

    The count is kept on the patient (``unpaid_statements``, raised by each issued
    statement, not by a regeneration); a patient payment entered after the most recent
    statement of any kind (issued, regenerated, or made for a denial) resets it. Every
    new statement first folds such a payment into the stored count
    (:func:`fold_payment_reset`), so a regeneration after a payment cannot hide it.
    """
    return _unpaid_counts([patient.id])[patient.id][1]


def _fold_resets(pids: list[int]) -> dict[int, int]:
    """Store the resets payments made since the last statement (count -> 0); the counts as they stand."""
    counts = _unpaid_counts(pids)
    reset = [pid for pid, (stored, now) in counts.items() if stored and not now]
    if reset:
        Patient.update(unpaid_statements=0).where(Patient.id.in_(reset)).execute()
    return {pid: now for pid, (_stored, now) in counts.items()}


def fold_payment_reset(patient_id: int) -> None:
    """Store the reset a patient payment made since the last statement (count -> 0)."""
    _fold_resets([patient_id])


def _notice(rules: StatementRules, count: int, oldest_age_days: int) -> tuple[bool, str]:
    final = count > 0 and count >= rules.final_notice_after
    if final:
        return True, rules.final_notice_message
    return False, rules.dunning_message(oldest_age_days)


def notice_level(patient: Patient, rules: StatementRules, count: int) -> tuple[bool, str]:
    """(final notice?, message) of a statement that is the ``count``-th unpaid one."""
    return _notice(rules, count, oldest_age(patient.id, clock.today()))


def reissue(patient: Patient, *, void_reason: str, rules: StatementRules | None = None) -> Statement:
    """A new statement from the current balances that is not a new one in the dunning series
    (a regeneration, a denial billed to the patient): it voids the active one, carries the same
    balance forward, and its notice level is worked out again from the unpaid count (a payment
    since resets it), which it does not raise."""
    rules = _rules(rules)
    final, message = notice_level(patient, rules, unpaid_count(patient))
    return generate(patient, message=message, final_notice=final, void_reason=void_reason, reissue=True,
                    rules=rules)


def oldest_age(patient_id: int, today: dt.date) -> int:
    """Age in days (by date of service) of the patient's oldest billable patient balance."""
    lines = patient_lines(patient_id)
    return max(((today - split.charge.dos).days for split in lines), default=0)


def _why(face: Face, active: Statement | None, count: int, rules: StatementRules, today: dt.date) -> str | None:
    """Why the statement run leaves this patient out (None: send one)."""
    if face.amount_due < rules.minimum_balance_cents:
        why = f"amount due {fmt(face.amount_due)} is below the minimum {fmt(rules.minimum_balance_cents)}"
        if face.credit_used:
            why += f" (after {fmt(face.credit_used)} of credit on account)"
        return why
    if active is not None and (today - active.generated_on).days < rules.minimum_interval_days:
        return (f"last statement {active.generated_on.isoformat()} is less than "
                f"{rules.minimum_interval_days} days ago")
    if count >= rules.final_notice_after:
        return "final notice already sent and not paid since: the account waits in the Patient balance queue"
    return None


def _actives(pids: list[int]) -> dict[int, Statement]:
    out: dict[int, Statement] = {}
    for st in (Statement.select().where(Statement.patient.in_(pids) & (Statement.status == "active"))
               .order_by(Statement.id)):
        out[st.patient_id] = st
    return out


def _issue_many(pids: list[int], rules: StatementRules, void_reason: str, *, check: bool,
                progress: Callable[[], None] | None = None) -> tuple[list[dict], list[dict]]:
    """The next statement in the series for each of ``pids`` (dunning message by age, final notice
    by count), or with ``check`` only for those the run's rules do not skip. (made, skipped)."""
    today = clock.today()
    made: list[dict] = []
    skipped: list[dict] = []
    queue = WorkQueue.get_or_none(WorkQueue.key == "patient_balance")
    for part in _chunks(list(pids)):
        counts = _fold_resets(part)
        actives = _actives(part)
        faces = compose(part, {pid: _previous(actives.get(pid), reissue=False) for pid in part})
        accounts = dict(Patient.select(Patient.id, Patient.account_no).where(Patient.id.in_(part)).tuples())
        issue = []
        for pid in part:
            why = _why(faces[pid], actives.get(pid), counts[pid], rules, today) if check else None
            if why:
                skipped.append({"patient_id": pid, "account_no": accounts[pid], "reason": why})
            else:
                final, message = _notice(rules, counts[pid] + 1, faces[pid].oldest_age(today))
                issue.append((faces[pid], final, message))
            if progress is not None:
                progress()
        stmts = _write(issue, void_reason=void_reason, rules=rules)
        finals = []
        by_count: dict[int, list[int]] = {}
        for stmt, (face, final, message) in zip(stmts, issue):
            pid = face.patient_id
            by_count.setdefault(counts[pid] + 1, []).append(pid)
            old = actives.get(pid)
            made.append({"statement_id": stmt.id, "patient_id": pid, "amount_due": face.amount_due,
                         "final_notice": final, "message": message, "unpaid_statements": counts[pid] + 1,
                         "voided_statement_id": old.id if old is not None else None, "queued_patient_balance": 0})
            if final:
                finals.append((made[-1], face))
        for n, group in by_count.items():
            Patient.update(unpaid_statements=n).where(Patient.id.in_(group)).execute()
        for res, face in finals:
            encs = sorted({c.encounter_id for c in face.charges})
            if queue is not None and encs:
                res["queued_patient_balance"] = Encounter.update(queue=queue.id).where(
                    Encounter.id.in_(encs) & Encounter.queue.is_null()).execute()
    return made, skipped


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
        (made,), _ = _issue_many([patient.id], rules, "replaced by a new statement", check=False)
        return made

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
    only): the patient, what they owe now (after their credit on account), the active statement
    it would void (its date, amount and age in days) and whether the statement run would have
    skipped them (and why)."""
    clean = load(PatientInput, {"patient_id": patient_id})
    patient = _billable(clean["patient_id"])
    today = clock.today()
    active = active_statement(patient.id)
    face = compose([patient.id])[patient.id]
    return {"patient_id": patient.id, "name": patient.name, "account_no": patient.account_no,
            "amount_due": face.amount_due, "credit_used": face.credit_used,
            "active": None if active is None else {
                "statement_id": active.id, "generated_on": active.generated_on.isoformat(),
                "amount_due": active.amount_due, "days_old": (today - active.generated_on).days},
            "run_would_skip": skip_reason(patient, _rules(rules), today)}


def skip_reason(patient: Patient, rules: StatementRules, today: dt.date) -> str | None:
    """Why the statement run leaves this patient out, or None to send one."""
    face = compose([patient.id])[patient.id]
    return _why(face, active_statement(patient.id), unpaid_count(patient), rules, today)


def candidates() -> list[int]:
    """Patients with a patient-responsibility balance on a billable, active encounter."""
    rows = (ChargeSplit.select(ChargeSplit.patient).join(Charge)
            .join(Encounter, on=(Charge.encounter == Encounter.id))
            .where((ChargeSplit.payer == patient_payer().id) & (ChargeSplit.balance > 0)
                   & Encounter.billable & (Encounter.status == "active"))
            .group_by(ChargeSplit.patient).order_by(ChargeSplit.patient).tuples())
    return [pid for (pid,) in rows]


def statement_run(rules: StatementRules, *, progress: Callable[[int, int], None] | None = None) -> dict:
    """The statement run's work inside the caller's transaction (:func:`generate_all` wraps it in
    its workflow; the demo's monthly run calls it within its day): every candidate either gets
    the next statement in the series or is listed as skipped with the reason."""
    pids = candidates()
    if progress is not None:
        progress(0, len(pids))
    done = [0]

    def one_more():
        done[0] += 1
        if progress is not None:
            progress(done[0], len(pids))

    made, skipped = _issue_many(pids, rules, "replaced by the statement run", check=True, progress=one_more)
    return {"generated": made, "skipped": skipped, "statements": len(made),
            "amount_due": sum(m["amount_due"] for m in made)}


def generate_all(*, rules: StatementRules | None = None,
                 progress: Callable[[int, int], None] | None = None) -> dict:
    """Workflow: the statement run for every patient with a patient balance, applying the
    rules (minimum amount due, minimum interval, final notice after N unpaid statements).
    The result lists the statements made and every patient skipped with the reason.

    ``progress``, if given, is called as ``progress(done, total)`` with ``total`` the
    number of candidate patients: ``(0, total)`` once they are known, then after each
    patient (made or skipped) with ``done`` one higher, ending at ``(total, total)``.
    It runs inside the run's one transaction, on the thread running the workflow, so an
    exception it raises rolls the whole run back: no statement, no audit event (how a
    front end cancels). It does not change the result. A transaction retried after a
    lock conflict reports from ``(0, total)`` again.
    """
    rules = _rules(rules)
    return workflow.run("statements.run", lambda: statement_run(rules, progress=progress),
                        inputs={"rules": dataclasses.asdict(rules)})


def regenerate(patient_id: int, reason: str = "", *, rules: StatementRules | None = None,
               idempotency_key: str | None = None) -> dict:
    """Workflow: void the patient's active statement (kept on file, with the reason) and make a
    new one from the current balances. Not a new statement in the series: the unpaid count is
    not raised, the balance forward is the replaced one's, and the notice level (final notice
    or dunning message) is worked out again, so a patient who paid since the final notice gets
    an ordinary statement."""
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
    """A statement's lines in print order: balance forward, visits, payments, credit, aging, due."""
    rows = list(StatementLine.select().where(StatementLine.statement == statement_id)
                .order_by(StatementLine.id))
    return sorted(rows, key=lambda ln: LINE_ORDER.get(ln.kind, 8))
