"""A realistic, deterministic demo clinic, built through the real core services.

Usage (the CLI ``claimdesk demo [--seed N] [--scale N]`` calls this)::

    from claimdesk.core import db, migrations, demo
    db.connect("demo.db"); migrations.upgrade()
    summary = demo.build(seed=1, scale=1.0)          # today defaults to DEFAULT_TODAY

:func:`build` needs a connected, upgraded database with no patients yet. It
simulates 18 months of a small family practice ending at ``today``, one business
day at a time, with the clock frozen to that day (journal entries, daysheets and
audit events carry the simulated dates) and the user ``demo`` (an admin; clerk
work is done as ``clerk1``, supervisor work as ``super1``). One module per job:

* :mod:`.reference`: users, payers, providers, service codes and fees, names,
  patient profiles, denial codes, the clerk's messages;
* :mod:`.clinic_setup`: the setup day (reference rows, about ``240 * scale``
  patients with their coverages); :mod:`.visit_plans`: the schedule of visits;
* :mod:`.simulation`: the day loop (phases of a day, one audited transaction a
  day), combining :mod:`.front_desk` (visits, charges, copays),
  :mod:`.remits` and :mod:`.payer_answers` (claim batches, payer checks, EOBs),
  :mod:`.denials` and :mod:`.clerk_actions` (the clerk's follow-up and advanced
  actions), :mod:`.patient_billing` (patient payments, monthly statements) and
  :mod:`.last_day`; :mod:`.schedule` and :mod:`.state` are its calendar and memory;
* :mod:`.bulk`, :mod:`.fast_posting`: the set-based writes of the fast path (the
  monthly statement run is the statement run's own, set-based in both paths); :mod:`.scale_up`: the SQL copies for ``scale`` above 1;
  :mod:`.summary`: what :func:`build` returns.

Every money movement goes through :mod:`claimdesk.core.ledger` via the same
service functions production uses (``billing.add_charge``, ``payments.make_voucher``
/ ``draw`` / ``apply_to_splits`` / ``settle_remainder``, ``eobs.post_lines``,
``adjustments.adjust``, the action plugins' ``apply`` through the plugin host).
Each phase of a simulated day is one :func:`claimdesk.core.workflow.run` (audited,
hash-chained); a day is one write transaction. The same ``seed``, ``scale`` and
``today`` always give the same rows. ``scale`` may be fractional (tests use 0.1); it
grows the patient count linearly (about 10 charges per patient), so 1M charges is
about ``scale=390``; above 1 the clinic is made of simulated blocks copied in SQL
(see :mod:`.scale_up`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from claimdesk.core.demo.reference import (
    CLERK,
    DEFAULT_SEED,
    DEFAULT_TODAY,
    DEMO_USER,
    MONTHS,
    SUPERVISOR,
)
from claimdesk.core.demo.simulation import ClinicSimulation
from claimdesk.core.errors import Refused

__all__ = ["CLERK", "DEFAULT_SEED", "DEFAULT_TODAY", "DEMO_USER", "MONTHS", "SUPERVISOR", "build"]

#: The simulation class under the name tests use to run parts of a build.
_Builder = ClinicSimulation


def build(seed: int = DEFAULT_SEED, scale: float = 1.0, today: dt.date | str | None = None, *,
          months: int = MONTHS, fast: bool = True,
          progress: Callable[[dt.date, int, int], None] | None = None) -> dict:
    """Build the demo clinic into the connected, upgraded and empty database; return a summary.

    - ``seed``: the random seed; the same seed, scale, today and ``fast`` give identical rows.
    - ``scale``: clinic size; 1 is about 240 patients and 2,600 charges over 18 months, N is
      N times that (fractions allowed; a few patients of every profile at any scale).
      Above 1, ``ceil(scale)`` copies of a base clinic at ``scale / ceil(scale)`` (see
      :mod:`.scale_up`): 1M charges is about ``scale=390`` and takes minutes, not hours.
    - ``today``: the last simulated day (a date or ISO text), default :data:`DEFAULT_TODAY`.
    - ``months``: length of the simulated history (default 18; at least 6; tests use less).
    - ``fast`` (default): the day's encounters, charges and splits, and each payer check's
      EOBs, credits and adjustments are written set-based by the money engine
      (:mod:`claimdesk.core.posting`), one entry per kind (the day's charges; per check
      credits, payments, contractual adjustments and transfers). ``fast=False`` goes one
      call at a time through ``billing.add_charge`` and ``eobs.post_lines``: the same rows,
      balances and statements, finer-grained entries, slower (tests compare the two). The
      monthly statement run is ``statements.statement_run`` in both: the statement run's
      rules and statements.
    - ``progress(day, done, total)``: called after each simulated working day.

    The summary has counts (patients, payers and payer kinds, providers, coverages,
    encounters, charges and zero-fee charges, splits (open denied, secondary, tertiary),
    EOBs, vouchers (with undistributed money), credits (with unapplied money),
    statements, admin messages, claims, encounters per work queue, entries, postings,
    audit events), A/R in cents (total, patient, insurance), ``base_scale`` and ``copies``
    (the simulated block and how many SQL copies were added; ``scale`` is the whole
    clinic's), ``replicate_seconds``, and ``seconds`` / ``charges_per_second`` overall.
    """
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    today = today or DEFAULT_TODAY
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0 or scale > 10_000:
        raise Refused(f"scale must be a number above 0, got {scale!r}", field="scale")
    if isinstance(months, bool) or not isinstance(months, int) or not 6 <= months <= 120:
        raise Refused(f"months must be a whole number from 6 to 120, got {months!r}", field="months")
    blocks = math.ceil(scale) if scale > 1 else 1
    return ClinicSimulation(int(seed), float(scale) / blocks, today, months, bool(fast), progress,
                            blocks - 1).run()
