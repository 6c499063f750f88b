"""The schedule of visits for the whole window, and the charges of each visit.

Planned up front, before the first day: each patient's visit dates by profile (new,
established, annual wellness, nurse, no-show, a block of physical therapy,
workers' comp first visit and follow-ups, a visit that should have been workers'
comp), the monthly statement runs, a returned patient check, and the last day's
checks. The charges of a visit are drawn when it happens.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core.demo.schedule import add_months
from claimdesk.core.demo.state import PatientPlan


class VisitPlanning:
    """Planning visits (a mixin of :class:`~.simulation.ClinicSimulation`)."""

    def plan_visits(self) -> None:
        """Every patient's visits over the window, by profile (and a few that should be workers' comp)."""
        rng = self.rng
        days = self.workdays
        for plan in self.pats:
            p = plan.profile
            lo, hi = {"medicare": (4, 11), "medicare_medigap": (4, 11), "dual": (4, 10), "tertiary": (5, 10),
                      "medicaid": (2, 8), "self_pay": (1, 4), "workers_comp": (1, 3)}.get(p, (2, 7))
            dates = sorted({rng.choice(days) for _ in range(rng.randint(lo, hi))})
            if plan.term_date:  # visits on both sides of the coverage end date
                after = [d for d in days[:-1] if d > plan.term_date + dt.timedelta(days=7)]
                before = [d for d in days if d < plan.term_date]
                dates = [d for d in dates if d < plan.term_date] or [rng.choice(before)]
                dates = sorted(set(dates) | {rng.choice(after) for _ in range(rng.randint(2, 4))})
            new_patient = rng.random() < 0.35
            for i, d in enumerate(dates):
                r = rng.random()
                if i == 0 and new_patient:
                    kind = "new"
                elif r < 0.04:
                    kind = "nurse"
                elif r < 0.07:
                    kind = "noshow"
                elif p in ("medicare", "medicare_medigap", "dual", "tertiary") and r < 0.17:
                    kind = "awv"
                else:
                    kind = "est"
                self.at(d, 10, "visit", plan, kind)
            if rng.random() < 0.08 and p != "self_pay":  # a block of physical therapy
                first = rng.choice(days[:-40])
                for k in range(rng.randint(4, 8)):
                    self.at(self.next_workday(first + dt.timedelta(days=7 * k + rng.randint(0, 2))), 10,
                            "visit", plan, "pt")
            if plan.wc:
                d = self.next_workday(plan.wc[2] + dt.timedelta(days=rng.randint(1, 3)))
                self.at(d, 10, "visit", plan, "wc_first")
                for k in range(rng.randint(4, 8)):
                    self.at(self.next_workday(d + dt.timedelta(days=7 * (k + 1) + rng.randint(0, 2))), 10,
                            "visit", plan, "wc_follow" if k % 3 == 0 else "wc_pt")
        commercial = [p for p in self.pats if p.profile == "commercial"]
        for plan in rng.sample(commercial, min(len(commercial), 1 + len(self.pats) // 300)):
            self.at(rng.choice(days[-min(120, len(days) // 2):-45]), 10, "visit", plan, "should_be_wc")

    def plan_specials(self) -> None:
        """A returned patient check, the monthly statement runs, the last day's checks."""
        rng = self.rng
        # a returned patient check about two months ago
        candidates = [p for p in self.pats if p.behaviour in ("prompt", "overpay")]
        if candidates:
            self.at(self.next_workday(self.today - dt.timedelta(days=60)), 40, "returned_check",
                    rng.choice(candidates).idx)
        # monthly statement runs: the first working day on or after the 3rd
        month = self.start.replace(day=3)
        while month <= self.today:
            self.at(self.next_workday(month), 50, "statements")
            month = add_months(month, 1)
        self.at(self.workdays[-1], 45, "finish")

    def charges_for(self, plan: PatientPlan, kind: str, dos: dt.date) -> list[tuple[str, int]]:
        """The visit's ``(code, units)`` by kind of visit, with labs, injections and vaccines drawn."""
        rng = self.rng
        if kind == "nurse":
            return [("99211-NC", 1)]
        if kind == "noshow":
            return [("NOSHOW", 1)]
        if kind in ("pt", "wc_pt"):
            out = [("97110", rng.randint(2, 4))]
            if rng.random() < 0.5:
                out.append(("97140", rng.randint(1, 2)))
            return out
        if kind == "wc_first":
            out = [(rng.choice(["99203", "99204"]), 1)]
            return out + ([("20610", 1), ("J1030", 1)] if rng.random() < 0.4 else [])
        if kind == "wc_follow":
            return [(rng.choice(["99213", "99214"]), 1)]
        if kind == "should_be_wc":
            return [("99214", 1), ("20610", 1), ("J1030", 1)]
        if kind == "new":
            out = [(rng.choices(["99202", "99203", "99204"], [15, 50, 35])[0], 1)]
        elif kind == "awv":
            out = [("G0439", 1)]
        else:
            out = [(rng.choices(["99212", "99213", "99214", "99215"], [10, 50, 32, 8])[0], 1)]
        if rng.random() < 0.16:
            out.append(("36415", 1))
            out += [(c, 1) for c in rng.sample(["85025", "80053", "83036"], rng.randint(1, 2))]
        if rng.random() < 0.10:
            out.append(("81002", 1))
        if (dos - plan.dob).days > 50 * 365 and rng.random() < 0.08:
            out.append(("93000", 1))
        if rng.random() < 0.06:
            out += [("20610", 1), ("J1030", 1)]
        if dos.month >= 9 and rng.random() < 0.3:
            out += [("90471", 1), ("90686", 1)]
        if plan.profile in ("medicare", "medicare_medigap", "dual", "tertiary") and rng.random() < 0.3:
            out.append(("G8553", 1))
        return out
