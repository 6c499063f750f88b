"""The clerk's action tasks: advanced actions, messages to the admin, a returned check.

Advanced actions run exactly as the Advanced Actions tool runs them, through the
plugin host by key (the core imports no plugin): ``actions.applies`` first (skipped
when the action no longer applies), then ``actions.apply`` ("Primary Payer is
Invalid" applied to a few claims, "Add Primary Payer" when the new card arrives,
non-billable claims, bad debt, "None of the options above" messages). Also: the
administrator's answers (open, answered, closed), a returned patient check with its
RCFEE fee (the built-in "flat" fee policy, by key, through ``returns.return_check``),
and zero-fee splits marked paid.
"""

from __future__ import annotations

from collections import defaultdict

from claimdesk.core.context import as_user
from claimdesk.core.demo.reference import ANSWERS, CLERK, DEMO_USER, MESSAGES, OFFICE, PAYERS, SUPERVISOR
from claimdesk.core.demo.state import RANK_BIT, EncounterState
from claimdesk.core.models import Charge, ChargeSplit, Coverage, Credit, Encounter, Voucher
from claimdesk.core.services import actions, claims, messages, returns


class ClerkActions:
    """The clerk's actions (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def run_action(self, key: str, enc_id: int, data: dict, user: str = CLERK) -> dict:
        """Apply the advanced action ``key`` exactly as the Advanced Actions tool does (``actions.apply``).

        Skipped (``{"skipped": True}``) when the action no longer applies to the encounter.
        """
        if not actions.applies(enc_id, key):
            return {"skipped": True}
        with as_user(user):
            res = actions.apply(enc_id, key, data)
        self.counts["actions"] += 1
        return res

    def task_primary_invalid(self, day, enc_id) -> None:
        """PR-27/CO-109: the old card is no longer valid; the claim goes to the "Patient" placeholder."""
        state = self.encs[enc_id]
        if "primary" not in state.payers:
            return
        res = self.run_action("primary_invalid", enc_id,
                              {"confirm": True, "reason": "coverage terminated (PR-27); no new plan yet"})
        if not res.get("skipped"):
            state.payers.pop("primary")
            self.unqueue(enc_id, "denied")
            card = state.pat.new_card
            if card and self.rng.random() < 0.5:  # the patient brings the new card in later
                self.at(self.later(day, 10, 30), 40, "add_primary", enc_id)

    def task_add_primary(self, day, enc_id) -> None:
        """The patient's new card arrived: "Add Primary Payer" puts the new plan on the claim."""
        state = self.encs[enc_id]
        key, cov_id, member = state.pat.new_card
        cov = Coverage.get_by_id(cov_id)
        res = self.run_action("add_primary", enc_id, {
            "payer_id": self.payer[key].id, "member_id": member, "group_no": cov.group_no,
            "subscriber": cov.subscriber, "relationship": cov.relationship,
            "effective_from": cov.effective_from.isoformat() if cov.effective_from else None})
        if not res.get("skipped"):
            state.payers["primary"] = key
            state.remitted &= ~RANK_BIT["primary"]
            state.scenario = ""  # the new plan pays like any other

    def task_non_billable(self, day, enc_id) -> None:
        """A courtesy visit: a supervisor makes the claim non-billable."""
        self.make_non_billable(enc_id, "courtesy visit (staff family), per the office manager")

    def make_non_billable(self, enc_id: int, reason: str) -> None:
        """The "non_billable" action, as a supervisor, for ``reason``."""
        res = self.run_action("non_billable", enc_id, {"confirm": True, "reason": reason}, user=SUPERVISOR)
        if not res.get("skipped"):
            self.encs[enc_id].billable = False

    def task_bad_debt(self, day, pat_idx) -> None:
        """A patient who never pays: each encounter's balance is written off as bad debt (collections)."""
        plan = self.pats[pat_idx]
        rows = (ChargeSplit.select(Charge.encounter, ChargeSplit.balance).join(Charge)
                .where((ChargeSplit.patient == plan.id) & (ChargeSplit.payer == self.pseudo.id)
                       & (ChargeSplit.balance > 0)).order_by(Charge.encounter).tuples())
        per_enc: dict[int, int] = defaultdict(int)
        for enc_id, bal in rows:
            per_enc[enc_id] += bal
        for enc_id, bal in per_enc.items():
            self.run_action("patient_writeoff_bad_debt", enc_id,
                            {"amount": f"{bal // 100}.{bal % 100:02d}", "note": "sent to Cascade Collections"},
                            user=SUPERVISOR)
            self.unqueue(enc_id, "patient_balance")
        plan.behaviour = "gone"

    def task_message(self, day, enc_id, topic) -> None:
        """"None of the options above": a clerk's question to the administrator."""
        rng = self.rng
        state = self.encs.get(enc_id)
        subject, body = MESSAGES[topic]
        primary = state.payers.get("primary") if state else None
        other = state.pat.off_file if state else None
        text = body.format(payer=PAYERS[primary]["name"] if primary else "The payer",
                           other=PAYERS[other[0]]["name"] if other else "", member=other[2] if other else "",
                           term=state.pat.term_date.isoformat() if state and state.pat.term_date else "")
        res = self.run_action("none_of_the_above", enc_id, {"subject": subject, "note": text})
        msg_id = res.get("report", {}).get("message_id")
        if msg_id and (self.today - day).days > 10 and rng.random() < 0.75:
            self.at(self.later(day, 1, 6), 40, "answer", msg_id, topic, rng.random() < 0.5)
        elif msg_id:
            Encounter.update(queue=self.queues["admin"].id).where(
                (Encounter.id == enc_id) & Encounter.queue.is_null()).execute()

    def task_answer(self, day, msg_id, topic, close) -> None:
        """The administrator answers a clerk's message (and maybe closes it)."""
        with as_user(DEMO_USER):
            messages.answer({"message_id": msg_id, "answer": ANSWERS[topic], "close": close})

    def task_returned_check(self, day, pat_idx) -> None:
        """The patient's latest check bounced: flagged returned, with the RCFEE fee to "Office"."""
        plan = self.pats[pat_idx]
        checks = (Voucher.select(Voucher, Credit.patient).join(Credit, on=(Credit.voucher == Voucher.id))
                  .where((Voucher.method == "check") & (Voucher.payer == self.pseudo.id)
                         & (Voucher.status == "active")).order_by(Voucher.id.desc()))
        voucher = checks.where(Credit.patient == plan.id).first()
        if voucher is None:  # that patient paid cash lately: another patient's recent check bounces
            recent = list(checks.limit(10))
            if not recent:
                return
            voucher = self.rng.choice(recent)
            plan = self.by_id[voucher.credit.patient_id]
        with as_user(CLERK):  # the built-in "flat" fee policy, by key
            res = returns.return_check({
                "voucher_id": voucher.id, "reason": "NSF - insufficient funds", "fee_policy": "flat",
                "fee": {"service_code": "RCFEE", "provider_id": self.providers[OFFICE].id, "amount": "35.00"},
                "patient_id": plan.id})
        self.counts["returned_checks"] += 1
        if res.get("fee_charge_id"):
            ch = Charge.get_by_id(res["fee_charge_id"])
            self.encs[ch.encounter_id] = EncounterState(ch.encounter_id, plan, day, {},
                                                        ((ch.id, "RCFEE", 1, ch.fee),))
            self.at(self.later(day, 1, 1), 40, "message", ch.encounter_id, "returned")
        plan.behaviour = "slow"

    def task_mark_zero_paid(self, day, enc_id) -> None:
        """Outstanding Zero Splits: the clerk marks a zero-fee primary paid; the secondary is queued."""
        state = self.encs[enc_id]
        Charge.update(primary_marked_paid=True).where(
            Charge.id.in_([c[0] for c in state.charges if c[3] == 0])).execute()
        if "secondary" in state.payers:
            claims.queue(Encounter(id=enc_id), self.payer[state.payers["secondary"]], "secondary")
