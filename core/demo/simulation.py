"""The day-by-day simulation: the object that carries the clinic through its working days.

Each phase of a simulated day (:data:`PHASES`) runs with the clock frozen to that
hour; the day is one :func:`claimdesk.core.workflow.run` ("demo.day": audited,
hash-chained) in one write transaction, and daysheets older than a week are closed.
The jobs of the day live in the mixins this class combines, one module each. Work
lands in the queues a clerk works: denied, needs_secondary, patient_balance, admin,
review and workers_comp.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable

from claimdesk.core import clock, db, workflow
from claimdesk.core.config import StatementRules
from claimdesk.core.context import as_user
from claimdesk.core.demo import scale_up, summary
from claimdesk.core.demo.clerk_actions import ClerkActions
from claimdesk.core.demo.clinic_setup import ClinicSetup
from claimdesk.core.demo.denials import DenialFollowUp
from claimdesk.core.demo.front_desk import FrontDesk
from claimdesk.core.demo.last_day import LastDay
from claimdesk.core.demo.patient_billing import PatientBilling
from claimdesk.core.demo.payer_answers import PayerAnswers
from claimdesk.core.demo.reference import DEMO_USER, OPEN_DAYSHEET_DAYS
from claimdesk.core.demo.remits import Remits
from claimdesk.core.demo.schedule import Schedule, add_months, at_time, working_days
from claimdesk.core.demo.state import EncounterState, PatientPlan, Task
from claimdesk.core.demo.visit_plans import VisitPlanning
from claimdesk.core.models import Daysheet, Encounter
from claimdesk.core.services import daysheets

#: phase order -> (hour, minute, name) within a simulated day
PHASES = {
    10: (8, 30, "front_desk"),
    20: (10, 30, "remits"),
    30: (13, 0, "patient_payments"),
    40: (15, 0, "follow_up"),
    45: (15, 30, "follow_up"),
    50: (16, 0, "statements"),
    60: (17, 30, "claim_batch"),
}


class ClinicSimulation(Schedule, ClinicSetup, VisitPlanning, FrontDesk, Remits, PayerAnswers, DenialFollowUp,
                       ClerkActions, PatientBilling, LastDay):
    """One build of the demo clinic: ``seed``, the block's ``scale``, ``today``, ``months``, ``fast``.

    ``copies``: how many SQL copies of the simulated block :mod:`.scale_up` adds at the end.
    """

    def __init__(self, seed: int, scale: float, today: dt.date, months: int, fast: bool,
                 progress: Callable[[dt.date, int, int], None] | None, copies: int = 0):
        self.seed, self.scale, self.today, self.months, self.fast = seed, scale, today, months, fast
        self.copies, self.replicate_seconds = copies, None  # scale > 1: SQL copies of the base clinic
        self.start = add_months(today, -months)
        self.rng = random.Random(seed)
        self.claim_rng = random.Random(f"claims-{seed}")  # what claims carry besides money (claim_details)
        self.progress = progress
        self.workdays = working_days(self.start, today)
        self.workday_set = set(self.workdays)
        self.tasks: dict[dt.date, list[Task]] = defaultdict(list)
        self.seq = 0
        self.encs: dict[int, EncounterState] = {}
        self.pats: list[PatientPlan] = []
        self.by_id: dict[int, PatientPlan] = {}
        self.check_no: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)
        self.patient_check_no = 1000
        # the clinic's statement rules: its monthly run comes 28 to 33 days after the last one
        self.rules = StatementRules(minimum_interval_days=25)

    def run(self) -> dict:
        """Set up, plan, simulate every working day, copy the blocks; the summary."""
        t0 = time.perf_counter()
        with as_user(DEMO_USER):
            self.setup()
            self.plan_visits()
            self.plan_specials()
            total = len(self.workdays)
            for i, day in enumerate(self.workdays):
                self.run_day(day)
                if self.progress:
                    self.progress(day, i + 1, total)
            if self.copies:
                t1 = time.perf_counter()
                with clock.frozen(at_time(self.today, 19)):
                    scale_up.replicate(self.copies)
                self.replicate_seconds = time.perf_counter() - t1
        return summary.summarize(self, time.perf_counter() - t0)

    def run_day(self, day: dt.date) -> None:
        """One working day in one write transaction; close its daysheet when it is old enough."""
        tasks = sorted(self.tasks.pop(day, []))
        with db.write_transaction():
            with clock.frozen(at_time(day, 18)):
                workflow.run("demo.day", lambda: self.day_body(day, tasks), notify=False,
                             inputs={"day": day, "seed": self.seed, "scale": self.scale, "fast": self.fast})
            if day < self.today - dt.timedelta(days=OPEN_DAYSHEET_DAYS) and \
                    Daysheet.select().where(Daysheet.day == day).exists():
                with clock.frozen(at_time(day, 18, 30)):
                    daysheets.close_daysheet(day)

    def day_body(self, day: dt.date, tasks: list[Task]) -> dict:
        """The day's tasks phase by phase, each at its hour; what was done (the audit result)."""
        by_phase: dict[int, list[Task]] = defaultdict(list)
        for t in tasks:
            by_phase[t.order].append(t)
        done: dict = {}
        for order, (hh, mm, name) in PHASES.items():
            todo = by_phase.get(order, [])
            with clock.frozen(at_time(day, hh, mm)):
                if order == 10 and todo:
                    done[name] = self.do_visits(day, [t.args for t in todo])
                elif order == 20 and todo:
                    done[name] = self.do_remits(day, todo)
                elif order == 60 and day != self.workdays[-1]:  # today's batch has not run yet
                    sent = self.claim_batch(day)
                    if sent:
                        done[name] = sent
                elif todo:
                    counts: dict[str, int] = defaultdict(int)
                    for t in todo:
                        getattr(self, "task_" + t.kind)(day, *t.args)
                        counts[t.kind] += 1
                    done.setdefault(name, {}).update(counts)
        return {"done": done}

    def unqueue(self, enc_id: int, key: str) -> None:
        """Take the encounter out of work queue ``key`` (when it is in that queue)."""
        Encounter.update(queue=None).where((Encounter.id == enc_id)
                                           & (Encounter.queue == self.queues[key].id)).execute()
