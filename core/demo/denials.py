"""Denial follow-up: corrected claims, insurance write-offs, denials billed to the patient.

About a third of the random denials are left in the Denied queue for the advanced
actions; the rest are followed up by the clerk as :data:`.reference.DENIALS` says:
CO-16 resubmitted as a corrected claim, CO-50 billed to the patient (or written
off), the others written off by a supervisor. PR-27/CO-109 (coverage terminated)
go to "Primary Payer is Invalid" (:mod:`.clerk_actions`) or a message to the admin.
"""

from __future__ import annotations

from claimdesk.core import clock
from claimdesk.core.context import as_user
from claimdesk.core.demo.reference import CLERK, DENIALS, SUPERVISOR
from claimdesk.core.demo.state import RANK_BIT, EncounterState
from claimdesk.core.models import ChargeSplit, Encounter
from claimdesk.core.services import claims, encounter_ops as ops


class DenialFollowUp:
    """Denial follow-up (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def plan_denial_followup(self, state: EncounterState, rank: str, key: str, code: str) -> None:
        """Schedule what the clerk does about payer ``key``'s denial ``code`` of the claim at ``rank``."""
        rng = self.rng
        day = clock.today()
        if code in ("PR-27", "CO-109") and rank == "primary":
            if rng.random() < 0.35:
                self.at(self.later(day, 20, 60), 40, "primary_invalid", state.id)
            elif rng.random() < 0.3:
                self.at(self.later(day, 3, 10), 40, "message", state.id, "terminated")
            return
        if code in ("CO-19", "CO-214", "PR-27", "CO-22") or rng.random() < 0.35:
            return  # left in the Denied queue for the advanced actions
        follow = DENIALS.get(code, (True, "writeoff"))[1]
        when = self.later(day, 5, 25)
        if follow == "resubmit":
            self.at(when, 40, "resubmit", state.id, rank, key)
        elif follow == "bill_or_writeoff" and rng.random() < 0.5:
            self.at(when, 40, "bill_patient", state.id, rank)
            if rng.random() < 0.3:
                self.at(self.later(day, 2, 4), 40, "message", state.id, "co50")
        else:
            self.at(when, 40, "ins_writeoff", state.id, rank, code)

    def task_resubmit(self, day, enc_id, rank, key) -> None:
        """A corrected claim (CO-16): the denial flag is cleared and the claim re-queued."""
        state = self.encs[enc_id]
        if state.payers.get(rank) != key or not state.billable:
            return
        ids = [c[0] for c in state.charges]
        ChargeSplit.update(denied=False, denial_code="").where(
            ChargeSplit.charge.in_(ids) & (ChargeSplit.rank == rank) & ChargeSplit.denied).execute()
        with as_user(CLERK):
            claims.queue(Encounter(id=enc_id), self.payer[key], rank, resend=True)
        state.resend |= RANK_BIT[rank]
        self.unqueue(enc_id, "denied")

    def task_ins_writeoff(self, day, enc_id, rank, code) -> None:
        """A supervisor writes the denied balance off to the insurance (CO and the denial's reason)."""
        enc = Encounter.get_by_id(enc_id)
        splits = ops.open_splits(enc, rank, denied=True)
        if splits:
            with as_user(SUPERVISOR):
                ops.write_off(splits, sum(s.balance for s in splits), kind="insurance_writeoff",
                              reason_code=code.split("-")[1], group_code="CO", memo=f"denied {code}: written off")
            self.unqueue(enc_id, "denied")

    def task_bill_patient(self, day, enc_id, rank) -> None:
        """The denied balance (CO-50, not medically necessary) is billed to the patient: a
        contractual denial, so by a supervisor, on the waiver the patient signed."""
        enc = Encounter.get_by_id(enc_id)
        if ops.open_splits(enc, rank, denied=True):
            with as_user(SUPERVISOR):
                ops.bill_denied_to_patient(enc, rank, None, override_reason="patient signed an ABN (waiver)")
            self.unqueue(enc_id, "denied")
