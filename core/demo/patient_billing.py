"""Patient money: payments at the desk and by mail, and the monthly statement run.

A patient's cash or check is a voucher from "Patient" and a credit drawn from it,
auto-applied or kept unapplied. Monthly patient statements follow the statement
rules (minimum balance, final notice, then the Patient balance queue); each patient
then pays the way they do: promptly, slowly, never (some end as bad debt) or more
than owed (the rest kept unapplied or left on the voucher).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from claimdesk.core.demo import fast_statements
from claimdesk.core.demo.state import PatientPlan
from claimdesk.core.models import Charge, ChargeSplit, Credit, Encounter, Patient
from claimdesk.core.services import payments, statements


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
        """The monthly statement run; each patient then pays (or not) the way they do."""
        rng = self.rng
        rules = self.rules
        pseudo = self.pseudo.id
        rows = (ChargeSplit.select(ChargeSplit.patient, ChargeSplit.balance, Charge.dos)
                .join(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
                .where((ChargeSplit.payer == pseudo) & (ChargeSplit.balance > 0) & Encounter.billable
                       & (Encounter.status == "active")).tuples())
        due: dict[int, int] = defaultdict(int)
        oldest: dict[int, dt.date] = {}
        for pid, bal, dos in rows:
            due[pid] += bal
            oldest[pid] = min(oldest.get(pid, dos), dos)
        to_queue, counters, run = [], defaultdict(list), []
        for pid in sorted(due):
            plan = self.by_id[pid]
            if due[pid] < rules.minimum_balance_cents or plan.behaviour == "gone":
                continue
            if plan.unpaid_statements > rules.final_notice_after:
                continue  # past the final notice: the account waits in the Patient balance queue
            final = plan.unpaid_statements + 1 >= rules.final_notice_after
            run.append((pid, final, "FINAL NOTICE: please pay or call us to arrange a payment plan."
                        if final else "Thank you for choosing Riverbend Family Medicine."))
            self.counts["statements"] += 1
            plan.last_statement = day
            plan.unpaid_statements += 1
            counters[plan.unpaid_statements].append(pid)
            if plan.unpaid_statements >= rules.final_notice_after:
                to_queue.append(pid)
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
        if self.fast:
            fast_statements.write_statements(run, patient_payer_id=pseudo)
        else:
            for pid, final, message in run:
                statements.generate(Patient(id=pid), final_notice=final, message=message)
        for n, pids in sorted(counters.items()):
            Patient.update(unpaid_statements=n).where(Patient.id.in_(pids)).execute()
        if to_queue:
            enc_ids = (Charge.select(Charge.encounter).join(ChargeSplit)
                       .where(ChargeSplit.patient.in_(to_queue) & (ChargeSplit.payer == pseudo)
                              & (ChargeSplit.balance > 0)))
            Encounter.update(queue=self.queues["patient_balance"].id).where(
                Encounter.id.in_(enc_ids) & Encounter.queue.is_null()).execute()

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
