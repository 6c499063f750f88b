"""The simulated calendar: working days, and work scheduled on them.

The clinic works Monday to Friday except New Year's Day, July 4th, Thanksgiving and
Christmas. Work is scheduled as :class:`~.state.Task` items on a day and a phase of
that day (see :data:`.simulation.PHASES`); work that would fall after ``today``
is dropped.
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core.demo.reference import PAYERS
from claimdesk.core.demo.state import Task


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months (the last day of a shorter month when needed)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def holidays(year: int) -> set[dt.date]:
    """The days the clinic is closed in ``year``."""
    thanksgiving = dt.date(year, 11, 1)
    thanksgiving += dt.timedelta(days=(3 - thanksgiving.weekday()) % 7 + 21)
    return {dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 12, 25), thanksgiving}


def at_time(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    """``day`` at ``hh:mm`` (the clock is frozen to such moments)."""
    return dt.datetime.combine(day, dt.time(hh, mm))


def working_days(start: dt.date, today: dt.date) -> list[dt.date]:
    """The clinic's working days from ``start`` to ``today``, in order."""
    hol = set().union(*(holidays(y) for y in range(start.year, today.year + 1)))
    span = (today - start).days + 1
    return [d for d in (start + dt.timedelta(n) for n in range(span)) if d.weekday() < 5 and d not in hol]


class Schedule:
    """Scheduling for the simulation (a mixin of :class:`~.simulation.ClinicSimulation`).

    Needs ``start``, ``today``, ``rng``, ``workday_set``, ``tasks`` and ``seq``.
    """

    def day_at(self, percent: int) -> dt.date:
        """The calendar day ``percent`` % of the way through the simulated window."""
        return self.start + dt.timedelta(days=(self.today - self.start).days * percent // 100)

    def at(self, day: dt.date, order: int, kind: str, *args) -> None:
        """Schedule work on ``day`` (dropped when after today)."""
        if day > self.today:
            return
        self.seq += 1
        self.tasks[day].append(Task(order, self.seq, kind, args))

    def later(self, day: dt.date, lo: int, hi: int) -> dt.date:
        """A working day ``lo``..``hi`` days after ``day``."""
        return self.next_workday(day + dt.timedelta(days=self.rng.randint(lo, hi)))

    def next_workday(self, day: dt.date) -> dt.date:
        """``day`` if the clinic works then, else the next working day (or a day after today)."""
        while day not in self.workday_set and day <= self.today:
            day += dt.timedelta(days=1)
        return day

    def remit_day(self, key: str, day: dt.date) -> dt.date:
        """The first of payer ``key``'s check days on or after ``day``."""
        weekdays = PAYERS[key]["remit"]
        for _ in range(21):
            if day.weekday() in weekdays and day in self.workday_set:
                return day
            day += dt.timedelta(days=1)
        return day
