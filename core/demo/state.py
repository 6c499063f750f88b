"""The simulation's own bookkeeping: plain Python, the database holds the truth.

The simulation keeps per patient what the front desk knows (profile, payment
behaviour, the coverages it bills) and per encounter what it needs to answer the
next remit (payers by rank, charges, the primary's patient responsibility), so it
does not ask the database for them every time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from claimdesk.core.models import Provider


@dataclasses.dataclass(eq=False, slots=True)
class PatientPlan:
    """A patient as the simulation sees them: profile, payment behaviour, coverages billed."""

    idx: int
    id: int
    first: str
    last: str
    dob: dt.date
    profile: str
    behaviour: str                    # prompt | slow | never | overpay | gone
    pcp: int
    slots: list                       # [(payer key, coverage id)] as the front desk bills them
    wc: tuple | None = None           # (carrier key, coverage id, injury date)
    term_date: dt.date | None = None  # end of the primary (or secondary) coverage
    off_file: tuple | None = None     # (payer key, coverage id, member id): secondary never on claims
    new_card: tuple | None = None     # (payer key, coverage id, member id): a plan not yet on the claims
    deductible: dict = dataclasses.field(default_factory=dict)
    unpaid_statements: int = 0
    payment_due_on: dt.date | None = None
    last_statement: dt.date | None = None


@dataclasses.dataclass(eq=False, slots=True)
class EncounterState:
    """An encounter as the simulation follows it: payers by rank, charges, what was remitted."""

    id: int
    pat: PatientPlan
    dos: dt.date
    payers: dict          # rank -> payer key (kept in step with the encounter's payer list)
    charges: tuple        # ((charge id, code, units, fee), ...)
    scenario: str = ""
    copay_credit: int | None = None
    pr: dict | None = None  # charge id -> (deductible, coinsurance, copay) from the primary EOB
    billable: bool = True
    remitted: int = 0       # bit per rank already answered
    resend: int = 0         # bit per rank resubmitted since


#: rank -> its bit in EncounterState.remitted / .resend
RANK_BIT = {"primary": 1, "secondary": 2, "tertiary": 4}


@dataclasses.dataclass(eq=False, slots=True)
class Visit:
    """A visit the front desk is about to write (``state`` once it is written)."""

    plan: PatientPlan
    kind: str
    provider: Provider
    slots: list
    claim_type: str
    queue: str | None
    codes: list           # [(code, units)]
    scenario: str
    state: EncounterState | None = None
    diagnoses: tuple = ()  # stored form (no dots), in order
    marks: list = dataclasses.field(default_factory=list)  # per code (modifiers, pointers)
    referring: Provider | None = None


@dataclasses.dataclass(order=True, slots=True)
class Task:
    """Work scheduled on a day: the phase (``order``), then first scheduled first."""

    order: int
    seq: int
    kind: str = dataclasses.field(compare=False)
    args: tuple = dataclasses.field(compare=False, default=())
