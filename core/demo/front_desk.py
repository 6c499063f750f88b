"""The front desk: each day's visits become encounters, charges and queued claims.

Visits on working days with charges at the fee schedule; the primary's claim is
queued for the evening batch. Then copays are taken at check-in (kept unapplied
until the EOB), self-pay patients pay at the visit, a few claims are marked
non-billable, recent high-complexity visits go to the Review queue.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core import clock
from claimdesk.core.claim_rules import join_codes
from claimdesk.core.demo import claim_details, fast_posting
from claimdesk.core.demo.reference import CODES, EM_CODES, OFFICE, PAYERS, PT_PROVIDER
from claimdesk.core.demo.state import EncounterState, PatientPlan, Visit
from claimdesk.core.models import INSURANCE_RANKS, Encounter
from claimdesk.core.services import billing, claims, encounters

#: The office's own fee codes (never on a claim line: no modifiers, no diagnosis pointers).
OFFICE_CODES = frozenset(code for code, (_d, kind, _f, _a) in CODES.items() if kind == "office")


class FrontDesk:
    """The front desk (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def do_visits(self, day: dt.date, items: list[tuple]) -> dict:
        """The day's visits (``(plan, kind)`` pairs): written, then what follows each at the desk."""
        visits = [self.with_claim(self.plan_visit(day, plan, kind)) for plan, kind in items]
        (self.post_visits_fast if self.fast else self.post_visits_exact)(day, visits)
        for v in visits:
            self.after_visit(day, v)
        return {"encounters": len(visits), "charges": sum(len(v.state.charges) for v in visits)}

    def plan_visit(self, day: dt.date, plan: PatientPlan, kind: str) -> Visit:
        """What the front desk bills for this visit: provider, payers, claim type, charges, scenario."""
        codes = self.charges_for(plan, kind, day)
        if kind == "noshow":
            return Visit(plan, kind, self.providers[OFFICE], [], "medical", None, codes, "")
        if kind.startswith("wc_"):
            prov = self.providers[PT_PROVIDER if kind == "wc_pt" else plan.pcp]
            return Visit(plan, kind, prov, [plan.wc[:2]], "workers_comp", "workers_comp", codes, "")
        scenario = ""
        if kind == "should_be_wc":
            scenario = "should_be_wc"
        elif plan.profile == "terminated" and day > plan.term_date:
            scenario = "invalid_primary"  # the front desk still bills the old card
        elif plan.profile == "secondary_terminated" and day > plan.term_date:
            scenario = "secondary_terminated"
        elif plan.profile == "secondary_off_file":
            scenario = "off_file"
        prov = self.providers[PT_PROVIDER if kind == "pt" else plan.pcp]
        return Visit(plan, kind, prov, list(plan.slots), "medical", None, codes, scenario)

    def with_claim(self, v: Visit) -> Visit:
        """What the visit's claim carries besides money: diagnoses, modifiers and pointers per line,
        the referring provider (the patient's own doctor sends them to physical therapy)."""
        codes = [code for code, _units in v.codes]
        v.diagnoses = tuple(claim_details.visit_diagnoses(self.claim_rng, v.kind, codes))
        v.marks = claim_details.line_marks(v.kind, codes, list(v.diagnoses), OFFICE_CODES)
        v.referring = self.providers[v.plan.pcp] if v.kind in ("pt", "wc_pt") else None
        return v

    def post_visits_exact(self, day: dt.date, visits: list[Visit]) -> None:
        """One visit at a time through billing.create_encounter / add_charge / claims.queue."""
        for v in visits:
            enc = billing.create_encounter(
                patient=v.plan.id, provider=v.provider, dos=day, claim_type=v.claim_type,
                payers=[(self.payer[k], c) for k, c in v.slots], queue=self.queues[v.queue] if v.queue else None,
                diagnoses=v.diagnoses, referring_provider_id=v.referring.id if v.referring else None)
            charges = []
            for (code, units), (mods, pointers) in zip(v.codes, v.marks):
                ch = billing.add_charge(enc, self.codes[code], units=units, provider=v.provider,
                                        modifiers=join_codes(mods), diagnosis_pointers=join_codes(pointers))
                charges.append((ch.id, code, units, ch.fee))
            if v.slots:
                claims.queue(enc, self.payer[v.slots[0][0]], "primary")
            self.new_state(v, enc.id, charges)

    def post_visits_fast(self, day: dt.date, visits: list[Visit]) -> None:
        """The same rows and balances in a few statements (:func:`.fast_posting.post_visits_fast`)."""
        posted = fast_posting.post_visits_fast(day, [encounters.NewEncounter(
            v.plan.id, v.provider.id, day,
            tuple(encounters.NewLine(self.codes[code].id, units, CODES[code][2] * units, modifiers=mods,
                                     pointers=pointers) for (code, units), (mods, pointers) in zip(v.codes, v.marks)),
            tuple((self.payer[key].id, cov) for key, cov in v.slots), v.claim_type,
            self.queues[v.queue].id if v.queue else None, diagnoses=v.diagnoses,
            referring_provider_id=v.referring.id if v.referring else None)
            for v in visits])
        for v, (enc_id, charge_ids) in zip(visits, posted):
            self.new_state(v, enc_id, [(cid, code, units, CODES[code][2] * units)
                                       for cid, (code, units) in zip(charge_ids, v.codes)])

    def new_state(self, v: Visit, enc_id: int, charges: list) -> None:
        """Remember the written encounter (``charges``: ``(charge id, code, units, fee)``)."""
        v.state = EncounterState(enc_id, v.plan, clock.today(),
                                 {r: k for r, (k, _c) in zip(INSURANCE_RANKS, v.slots)}, tuple(charges), v.scenario)
        self.encs[enc_id] = v.state
        self.counts["charges"] += len(charges)

    def after_visit(self, day: dt.date, v: Visit) -> None:
        """Copay at check-in, self-pay money, and the follow-up a visit may plan (the draws' order matters)."""
        rng = self.rng
        state = v.state
        primary = state.payers.get("primary")
        copay = PAYERS[primary]["copay"] if primary else 0
        if copay and any(c[1] in EM_CODES for c in state.charges) and rng.random() < 0.65:
            credit = self.patient_payment(v.plan, copay, keep=True, apply=False, memo="copay at check-in")
            state.copay_credit = credit.id
            if rng.random() < 0.02 and self.counts["disputes"] < 2 + len(self.pats) // 100:
                self.counts["disputes"] += 1
                self.at(self.later(day, 35, 60), 40, "message", state.id, "dispute")
        elif not state.payers and rng.random() < 0.55:
            total = sum(c[3] for c in state.charges)
            amount = total if rng.random() < 0.6 else min(total, rng.choice([20_00, 40_00, 50_00]))
            if amount:
                self.patient_payment(v.plan, amount, keep=False, apply=True, memo="paid at the visit")
        if v.kind not in ("noshow",) and rng.random() < 0.004 + (0.004 if not state.payers else 0):
            self.at(self.later(day, 2, 10), 40, "non_billable", state.id)
        if any(c[1] == "99215" for c in state.charges) and (self.today - day).days < 30 and rng.random() < 0.5:
            Encounter.update(queue=self.queues["review"].id).where(Encounter.id == state.id).execute()
        if v.kind == "should_be_wc":
            self.at(self.later(day, 35, 45), 40, "message", state.id, "work_injury")
