"""Patient money: payments at the desk and by mail, and the monthly statement run.

A patient's cash or check is a voucher from "Patient" and a credit drawn from it,
auto-applied or kept unapplied. The monthly statement run is the statement run itself
(``statements.statement_run``: its rules, its statements, the Patient balance queue);
each patient sent a statement then pays the way they do: promptly, slowly, never (some
end as bad debt) or more than owed (the rest kept unapplied or left on the voucher).
"""

from __future__ import annotations

from claimdesk.core.demo.state import PatientPlan
from claimdesk.core.models import Charge, ChargeSplit, Credit, Encounter, Patient
from claimdesk.core.services import payments, statements
from peewee import fn


class PatientBilling:
    """Patient money (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def patient_payment(self, plan: PatientPlan, amount: int, *, keep: bool, apply: bool, memo: str) -> Credit:
        """A patient's cash or check: a voucher from "Patient", a credit drawn, maybe auto-applied."""
        rng = self.rng
        if rng.random() < 0.55:
            self.patient_check_no += rng.randint(1, 40)
            num = str(self.patient_check_no)
            voucher = payments.make_voucher(self.pseudo, "check", amount, reference=num,
                                            details={"check_number": num})
        else:
            voucher = payments.make_voucher(self.pseudo, "cash", amount, details={})
        voucher.undistributed = amount  # make_voucher returns the row as created; the ledger set the cache
        credit = payments.draw(voucher, Patient(id=plan.id), amount, keep_unapplied=keep, memo=memo)
        if apply:
            payments.apply_to_splits(credit, payments.auto_plan(credit, credit.unapplied))
            payments.settle_remainder(credit)
        return credit

    def task_statements(self, day) -> None:
        """The monthly statement run, by the statement run's own rules (:func:`statements.statement_run`:
        minimum amount due after the credit on account, interval, final notice, then the Patient
        balance queue); each patient sent one then pays (or not) the way they do."""
        rng = self.rng
        rules = self.rules
        run = statements.statement_run(rules)
        oldest = dict(ChargeSplit.select(ChargeSplit.patient, fn.MIN(Charge.dos)).join(Charge)
                      .where(ChargeSplit.patient.in_([m["patient_id"] for m in run["generated"]])
                             & (ChargeSplit.payer == self.pseudo.id) & (ChargeSplit.balance > 0))
                      .group_by(ChargeSplit.patient).tuples()) if run["generated"] else {}
        for made in run["generated"]:
            pid = made["patient_id"]
            plan = self.by_id[pid]
            self.counts["statements"] += 1
            plan.last_statement = day
            plan.unpaid_statements = made["unpaid_statements"]
            if plan.payment_due_on and plan.payment_due_on >= day:
                continue
            b = plan.behaviour
            if b == "prompt" and rng.random() < 0.85:
                plan.payment_due_on = self.later(day, 6, 24)
                self.at(plan.payment_due_on, 30, "pay", plan.idx, "full")
            elif b == "slow" and rng.random() < 0.6:
                plan.payment_due_on = self.later(day, 15, 40)
                self.at(plan.payment_due_on, 30, "pay", plan.idx, "part")
            elif b == "overpay":
                plan.payment_due_on = self.later(day, 5, 20)
                self.at(plan.payment_due_on, 30, "pay", plan.idx, "over")
            elif b == "never" and plan.unpaid_statements >= rules.final_notice_after \
                    and (day - oldest[pid]).days > 150 and rng.random() < 0.4 \
                    and self.counts["bad_debt_planned"] < 1 + len(self.pats) // 80:
                self.counts["bad_debt_planned"] += 1
                self.at(self.later(day, 3, 12), 40, "bad_debt", plan.idx)

    def task_pay(self, day, pat_idx, how) -> None:
        """A patient pays by mail after a statement: in ``full``, in ``part``, or ``over`` what is owed."""
        rng = self.rng
        plan = self.pats[pat_idx]
        plan.payment_due_on = None
        if plan.behaviour == "gone":
            return
        # the clerk first uses money the patient already has on account
        for credit in Credit.select().where((Credit.patient == plan.id) & (Credit.unapplied > 0)).order_by(Credit.id):
            payments.apply_to_splits(credit, payments.auto_plan(credit, credit.unapplied),
                                     memo=f"unapplied credit {credit.id} applied")
        total = sum(s.balance for s in payments.open_splits_for(plan.id, self.pseudo.id))
        if total <= 0:
            return
        keep = False
        if how == "full":
            amount = total
        elif how == "part":
            amount = min(total, max(10_00, total // 2 // 500 * 500))
        else:  # a round amount, more than owed
            amount = (total // 20_00 + 1) * 20_00
            keep = rng.random() < 0.6
        self.patient_payment(plan, amount, keep=keep, apply=True, memo="payment by mail")
        self.counts["patient_payments"] += 1
        if amount >= total and plan.unpaid_statements:
            if plan.unpaid_statements >= self.rules.final_notice_after:
                Encounter.update(queue=None).where(
                    (Encounter.patient == plan.id) & (Encounter.queue == self.queues["patient_balance"].id)).execute()
            plan.unpaid_statements = 0
            Patient.update(unpaid_statements=0).where(Patient.id == plan.id).execute()
