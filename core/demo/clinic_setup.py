"""The setup day: users, payers, providers, service codes, fee schedules, patients, coverages.

About ``240 * scale`` patients (fictional names from built-in lists) with coverages:
Medicare alone / with Medigap / dual with Medicaid (a few tertiary), Medicaid,
commercial (some with a spouse's plan as secondary), self-pay, a terminated
commercial plan still on later claims (invalid primary), a secondary plan never
entered on the claims (its EOB arrives anyway), a terminated secondary, workers'
comp injuries. Every profile has a few patients at any scale (:data:`.reference.PROFILES`).
"""

from __future__ import annotations

import datetime as dt
import random

from claimdesk.core import claim_rules, clock, db, users, workflow
from claimdesk.core.demo import claim_details
from claimdesk.core.demo.bulk import insert_ids
from claimdesk.core.demo.reference import (
    BASE_PATIENTS, CLINIC, CODES, COMMERCIAL, EMPLOYERS, FIRST_NAMES, LAST_NAMES, MBI_LETTERS, NPI_BASE, NPI_STEP,
    PAYERS, PCPS, PROFILES, PROVIDER_DETAILS, PROVIDERS, STREET_KINDS, STREETS, TOWNS, USERS, WC_CARRIERS,
)
from claimdesk.core.demo.schedule import add_months, at_time
from claimdesk.core.demo.state import PatientPlan
from claimdesk.core.errors import Refused
from claimdesk.core.models import Coverage, Patient, Payer, Provider, ServiceCode, WorkQueue
from claimdesk.core.services.common import patient_payer


def member_id(rng: random.Random, kind: str) -> str:
    """A member id shaped like the payer kind's (Medicare MBI, Medicaid, commercial)."""
    if kind == "medicare":  # MBI shape (1EG4-TE5-MK73 without the dashes)
        a, an = MBI_LETTERS, MBI_LETTERS + "0123456789"
        return (f"{rng.randint(1, 9)}{rng.choice(a)}{rng.choice(an)}{rng.randint(0, 9)}{rng.choice(a)}"
                f"{rng.choice(an)}{rng.randint(0, 9)}{rng.choice(a)}{rng.choice(a)}{rng.randint(0, 9)}"
                f"{rng.randint(0, 9)}")
    if kind == "medicaid":
        return f"MC{rng.randint(10_000_000, 99_999_999)}"
    prefix = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    return f"{prefix}{rng.randint(100_000_000, 999_999_999)}"


class ClinicSetup:
    """The setup day (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def setup(self) -> None:
        """The users, then the rest of the setup day in one audited workflow (the day before the window)."""
        if Patient.select().exists():
            raise Refused("the demo clinic needs an empty database (this one already has patients)")
        with db.write_transaction(), clock.frozen(at_time(self.start - dt.timedelta(days=1), 8)):
            for username, full, role in USERS:  # first: only registered users may write
                users.bootstrap(username, role, full)
            workflow.run("demo.setup", self._setup_body, notify=False,
                         inputs={"seed": self.seed, "scale": self.scale, "today": self.today})

    def _setup_body(self) -> dict:
        """Payers, providers, service codes, the payers' fee schedules, the patients."""
        self.payer = {key: Payer.create(name=cfg["name"], kind=cfg["kind"], payer_code=cfg["code"],
                                        **dict(zip(("address", "city", "state", "zip"),
                                                   claim_rules.split_address(cfg["address"]))),
                                        phone=cfg["phone"])
                      for key, cfg in PAYERS.items()}
        self.payer_key = {p.id: k for k, p in self.payer.items()}
        self.pseudo = patient_payer()
        self.providers = [self.make_provider(i, name, kind) for i, (name, kind) in enumerate(PROVIDERS)]
        self.codes = {code: ServiceCode.create(code=code, description=desc, kind=kind, default_fee=fee)
                      for code, (desc, kind, fee, _f) in CODES.items()}
        self.queues = {q.key: q for q in WorkQueue.select()}
        # fee schedules: what each payer allows per code (the same every time, as in life)
        self.allowed = {}
        for key, cfg in PAYERS.items():
            for code, (_d, _k, fee, factor) in CODES.items():
                jitter = 100 + (sum(map(ord, key + code)) % 11) - 5
                self.allowed[key, code] = min(fee, fee * cfg["ratio"] * factor * jitter // 1_000_000)
        self.make_patients()
        return {"patients": len(self.pats)}

    @staticmethod
    def make_provider(i: int, name: str, kind: str) -> Provider:
        """Provider ``i`` of :data:`.reference.PROVIDERS`, billing under the clinic's tax id, at its address."""
        last, first, taxonomy = PROVIDER_DETAILS[name]
        return Provider.create(
            name=name, kind=kind, npi=claim_rules.make_npi(NPI_BASE + NPI_STEP * i),
            entity="organization" if kind == "administrative" else "person", last_name=last, first_name=first,
            taxonomy=taxonomy, tax_id=claim_rules.check_tax_id(CLINIC["tax_id"]), address=CLINIC["address"],
            city=CLINIC["city"], state=CLINIC["state"], zip=claim_rules.check_zip(CLINIC["zip"]))

    def make_patients(self) -> None:
        """The patients (profiles, names, behaviour) and their coverages, as the front desk knows them."""
        rng = self.rng
        n = max(12, round(BASE_PATIENTS * self.scale))
        profiles: list[str] = []
        for name, (weight, minimum) in PROFILES.items():
            profiles += [name] * max(minimum, round(n * weight / 1000))
        profiles += ["commercial"] * (n - len(profiles))
        rng.shuffle(profiles)
        rows, plans = [], []
        for i, profile in enumerate(profiles):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if profile in ("medicare", "medicare_medigap", "dual", "tertiary"):
                age = rng.randint(65, 93)
            elif profile == "medicaid":
                age = rng.choice([rng.randint(1, 17), rng.randint(18, 64)])
            elif profile == "workers_comp":
                age = rng.randint(22, 60)
            else:
                age = rng.randint(2, 64)
            dob = self.today - dt.timedelta(days=age * 365 + rng.randint(0, 364))
            town, zipc = rng.choice(TOWNS)
            rows.append({
                "account_no": f"A{i + 1:06d}", "last_name": last, "first_name": first, "dob": dob,
                "sex": claim_details.sex(self.claim_rng),
                "address": f"{rng.randint(100, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                "city": town, "state": "OR", "zip": zipc, "phone": f"(541) 555-01{rng.randint(0, 99):02d}",
            })
            behaviour = rng.choices(["prompt", "slow", "never", "overpay"], [62, 18, 12, 8])[0]
            if profile == "secondary_off_file":
                behaviour = "never"  # waiting for their insurance to sort it out
            plans.append(PatientPlan(i, 0, first, last, dob, profile, behaviour, rng.choice(PCPS), []))
        for plan, pid in zip(plans, insert_ids(Patient, rows)):
            plan.id = pid
        self.pats = plans
        self.by_id = {p.id: p for p in plans}
        cov_rows, cov_owner = [], []

        def cover(plan: PatientPlan, key: str, role: str | None, *, start=None, end=None, member=None,
                  group=None, relationship=None, subscriber=None, active=True):
            kind = PAYERS[key]["kind"]
            member = member or member_id(rng, kind)
            child = (self.today - plan.dob).days < 18 * 365 and kind not in ("medicaid", "workers_comp")
            rel = relationship or ("child" if child else "self")
            if rel == "spouse" and (self.today - plan.dob).days < 18 * 365:
                rel = "child"  # a minor's second plan is a parent's
            sub = subscriber or (f"{plan.last}, {rng.choice(FIRST_NAMES)}" if rel == "child"
                                 else f"{plan.last}, {plan.first}")
            cov_rows.append({
                "patient": plan.id, "payer": self.payer[key].id, "member_id": member,
                "group_no": group if group is not None else ("" if kind in ("medicare", "medicaid")
                                                               else f"GRP-{rng.randint(10000, 99999)}"),
                "subscriber": sub, "relationship": rel,
                "effective_from": start or add_months(self.start, -rng.randint(6, 60)).replace(day=1),
                "effective_to": end, "active": active, "plan_type": claim_rules.plan_type_for(kind),
                **claim_details.subscriber_person(self.claim_rng, sub, rel, rows[plan.idx], plan.dob),
            })
            cov_owner.append((plan, key, role, member))

        for plan in plans:
            p = plan.profile
            if p in ("medicare", "medicare_medigap", "dual", "tertiary"):
                cover(plan, "medicare", "primary")
                if p in ("medicare_medigap", "tertiary"):
                    cover(plan, "medigap", "secondary")
                if p in ("dual", "tertiary"):
                    cover(plan, "medicaid", "secondary" if p == "dual" else "tertiary")
            elif p == "medicaid":
                cover(plan, "medicaid", "primary")
            elif p == "commercial":
                cover(plan, rng.choice(COMMERCIAL), "primary")
            elif p in ("commercial_secondary", "secondary_off_file", "secondary_terminated"):
                a, b = rng.sample(COMMERCIAL, 2)
                cover(plan, a, "primary")
                end = None
                if p == "secondary_terminated":
                    plan.term_date = end = self.day_at(rng.randint(22, 70))
                cover(plan, b, "off_file" if p == "secondary_off_file" else "secondary", end=end,
                      active=end is None, relationship="spouse",
                      subscriber=f"{plan.last}, {rng.choice(FIRST_NAMES)}")
            elif p == "terminated":
                plan.term_date = self.day_at(rng.randint(27, 73))
                a, b = rng.sample(COMMERCIAL, 2)
                cover(plan, a, "primary", end=plan.term_date, active=False)
                if rng.random() < 0.6:  # the patient brought a new card later; not on the claims yet
                    cover(plan, b, None, start=plan.term_date + dt.timedelta(days=1))
            elif p == "workers_comp":
                cover(plan, rng.choice(COMMERCIAL), "primary")
                late = not any(p.wc for p in plans)  # one injury recent enough to still be open
                injury = self.day_at(rng.randint(90, 94) if late else rng.randint(11, 77))
                employer = rng.choice(EMPLOYERS)
                cover(plan, rng.choice(WC_CARRIERS), "wc", start=injury, relationship="self",
                      member=f"WC{injury:%y}-{rng.randint(1000, 99999):05d}", group=employer,
                      subscriber=employer)
                plan.wc = (None, None, injury)
            # self_pay: no coverage at all
        for cid, (plan, key, role, member) in zip(insert_ids(Coverage, cov_rows), cov_owner):
            if role in ("primary", "secondary", "tertiary"):
                plan.slots.append((key, cid))
            elif role == "off_file":
                plan.off_file = (key, cid, member)
            elif role == "wc":
                plan.wc = (key, cid, plan.wc[2])
            elif role is None:
                plan.new_card = (key, cid, member)
