"""A realistic, deterministic demo clinic, built through the real core services.

Usage (the CLI ``claimdesk demo [--seed N] [--scale N]`` calls this)::

    from claimdesk.core import db, migrations, demo
    db.connect("demo.db"); migrations.upgrade()
    summary = demo.build(seed=1, scale=1.0)          # today defaults to DEFAULT_TODAY

:func:`build` needs a connected, upgraded database with no patients yet. It
simulates 18 months of a small family practice ending at ``today``, one business
day at a time, with the clock frozen to that day (journal entries, daysheets and
audit events carry the simulated dates) and the user ``demo`` (an admin; clerk
work is done as ``clerk1``, supervisor work as ``super1``):

* reference data: users, Medicare, Medicaid, four commercial plans, a Medigap
  supplement, two workers' comp carriers, clinical providers and the
  administrative provider "Office", CPT/HCPCS codes with realistic fees, office fee
  codes (RCFEE returned-check fee, NOSHOW, RECORDS) and zero-fee codes (G8553,
  99211-NC);
* about ``240 * scale`` patients (fictional names from built-in lists) with
  coverages: Medicare alone / with Medigap / dual with Medicaid (a few tertiary),
  Medicaid, commercial (some with a spouse's plan as secondary), self-pay, a
  terminated commercial plan still on later claims (invalid primary), a secondary
  plan never entered on the claims (its EOB arrives anyway), a terminated
  secondary, workers' comp injuries;
* visits on working days with charges at the fee schedule, claims queued and sent
  in a daily batch, payer remits on each payer's check days: EOBs with payments,
  CO-45 contractual adjustments, PR-1/PR-2/PR-3 patient responsibility moved to the
  next payer or the patient, OA-23 on secondary remits, denials (CO-50, CO-16,
  CO-29, CO-97, CO-197, PR-27, CO-109, CO-19, CO-214, CO-22, CO-27) left on the
  split flagged denied, checks with undistributed remainders;
* copays taken at check-in (kept unapplied until the EOB), self-pay money at the
  visit, monthly patient statements and patient payments by cash or check (auto
  apply; some overpay and keep the money unapplied, some leave it on the voucher);
* clerk follow-up: corrected claims resubmitted, insurance write-offs, denials
  billed to the patient, "Primary Payer is Invalid" applied to a few claims,
  non-billable claims, bad debt, a returned patient check with its RCFEE fee,
  zero-fee splits marked paid, admin messages (open, answered, closed), and work
  queues (denied, needs_secondary, patient_balance, admin, review, workers_comp).

Every money movement goes through :mod:`claimdesk.core.ledger` via the same
service functions production uses (``billing.add_charge``, ``payments.make_voucher``
/ ``draw`` / ``apply_to_splits`` / ``settle_remainder``, ``eobs.post_lines``,
``adjustments.adjust``, the action plugins' ``apply``). Each phase of a simulated
day is one :func:`claimdesk.core.workflow.run` (audited, hash-chained); a day is
one write transaction. The same ``seed``, ``scale`` and ``today`` always give the
same rows. ``scale`` may be fractional (tests use 0.1); it grows the patient count
linearly (about 10 charges per patient), so 1M charges is about ``scale=390``.

Scale above 1 (:mod:`claimdesk.core.demo_scale`): simulating day by day runs at about
150 charges per CPU second, so a bigger clinic is made of ``ceil(scale)`` identical
*blocks*: the base block is simulated as above at ``scale / ceil(scale)`` (exactly 1
for a whole scale, between 0.5 and 1 for a fractional one: 2.5 is three blocks of
0.83), then copied ``ceil(scale) - 1`` times set-based in SQL (``INSERT ... SELECT``
with shifted ids; one ``demo.replicate`` audit event). So the patient count is still
about ``240 * scale``. Whole blocks, because a copy cut along patient lines would
split journal entries, vouchers and claim batches that span several patients; each
block is a complete, balanced clinic. Copies share the reference data, dates and
daysheets; their account numbers carry the block number (``A000017-2``).
Returned-check fees use the built-in "flat" fee policy (plugins/fee_flat.py); advanced
actions run through ``actions.apply`` as the Advanced Actions tool does. On the last day
:meth:`_Builder.ensure_cases` makes sure even a tiny clinic has a claim on the "Patient"
placeholder primary (for "Add Primary Payer") and a non-billable claim (for "billable").
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import time
from collections import defaultdict
from typing import Callable

from peewee import fn

from claimdesk.core import clock, db, demo_scale, ledger, workflow
from claimdesk.core.config import StatementRules
from claimdesk.core.context import as_user, current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    INSURANCE_RANKS, Adjustment, AdminMessage, AuditEvent, Charge, ChargeSplit, Claim, ClaimBatch,
    Coverage, Credit, CreditSplit, Daysheet, Encounter, EncounterPayer, Eob, EobAdjustment, EobLine,
    JournalEntry, Patient, Payer, Posting, Provider, ServiceCode, Statement, StatementLine, User, Voucher,
    WorkQueue,
)
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import (
    aging, billing, claims, daysheets, encounter_ops as ops, eobs, messages, payments, statements,
)

DEFAULT_SEED = 1
#: The demo's "today": the last simulated day (a Monday).
DEFAULT_TODAY = dt.date(2026, 11, 2)
MONTHS = 18
#: Patients at scale 1.
BASE_PATIENTS = 240
#: Daysheets older than this many days before ``today`` are closed.
OPEN_DAYSHEET_DAYS = 7

DEMO_USER = "demo"
CLERK = "clerk1"
SUPERVISOR = "super1"

# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------
USERS = [
    (DEMO_USER, "Demo Administrator", "admin"),
    (CLERK, "Casey Morgan", "clerk"),
    ("clerk2", "Robin Patel", "clerk"),
    (SUPERVISOR, "Jordan Alvarez", "supervisor"),
]

#: key -> payer settings. ratio = allowed as % of fee; deductible per calendar year
#: (dict by year, cents); copay on E/M lines (cents); coins = coinsurance % after
#: the deductible; remit = weekdays the payer's checks arrive; lag = days from claim
#: sent to remit; deny = % of claims with a random denial.
PAYERS = {
    "medicare": dict(name="Medicare Part B", kind="medicare", code="MCR01", ratio=54,
                     deductible={2025: 257_00, 2026: 283_00}, copay=0, coins=20,
                     remit=(1, 3), lag=(14, 21), deny=4, phone="(800) 555-0101",
                     address="PO Box 1000, Capital City, OR 97301"),
    "medicaid": dict(name="State Medicaid", kind="medicaid", code="MCD01", ratio=41,
                     deductible={}, copay=0, coins=0, remit=(2,), lag=(18, 40), deny=6,
                     phone="(800) 555-0102", address="PO Box 2000, Capital City, OR 97301"),
    "evergreen": dict(name="Evergreen Blue PPO", kind="commercial", code="EBP10", ratio=72,
                      deductible={2025: 750_00, 2026: 800_00}, copay=30_00, coins=20,
                      remit=(0,), lag=(15, 30), deny=5, phone="(800) 555-0110",
                      address="PO Box 3100, Portland, OR 97208"),
    "apex": dict(name="Apex Health Plan", kind="commercial", code="APX22", ratio=68,
                 deductible={2025: 1000_00, 2026: 1200_00}, copay=25_00, coins=20,
                 remit=(2,), lag=(18, 35), deny=7, phone="(800) 555-0111",
                 address="PO Box 4100, Salem, OR 97309"),
    "united": dict(name="United Mutual Health", kind="commercial", code="UMH31", ratio=75,
                   deductible={2025: 500_00, 2026: 500_00}, copay=40_00, coins=10,
                   remit=(4,), lag=(20, 40), deny=6, phone="(800) 555-0112",
                   address="PO Box 5100, Eugene, OR 97440"),
    "cedar": dict(name="Cedar Care HMO", kind="commercial", code="CCH44", ratio=64,
                  deductible={}, copay=20_00, coins=0, remit=(3,), lag=(21, 45), deny=8,
                  phone="(800) 555-0113", address="PO Box 6100, Bend, OR 97708"),
    "medigap": dict(name="Liberty Medigap Supplement", kind="commercial", code="LMS50", ratio=100,
                    deductible={}, copay=0, coins=0, remit=(0, 3), lag=(10, 20), deny=2,
                    phone="(800) 555-0114", address="PO Box 7100, Medford, OR 97501"),
    "keystone_wc": dict(name="Keystone Workers' Comp Insurance", kind="workers_comp", code="KWC01",
                        ratio=88, deductible={}, copay=0, coins=0, remit=(4,), lag=(30, 55), deny=0,
                        phone="(800) 555-0120", address="PO Box 8100, Portland, OR 97208"),
    "harbor_wc": dict(name="Harborline Casualty Workers' Comp", kind="workers_comp", code="HWC02",
                      ratio=85, deductible={}, copay=0, coins=0, remit=(1,), lag=(35, 60), deny=0,
                      phone="(800) 555-0121", address="PO Box 9100, Salem, OR 97309"),
}
COMMERCIAL = ("evergreen", "apex", "united", "cedar")
WC_CARRIERS = ("keystone_wc", "harbor_wc")

PROVIDERS = [
    ("Elena Marsh, MD", "clinical"),
    ("Samuel Ortiz, DO", "clinical"),
    ("Priya Natarajan, NP", "clinical"),
    ("Jordan Lee, PT", "clinical"),
    ("Office", "administrative"),
]
PCPS = (0, 0, 1, 1, 2)  # index into PROVIDERS, weighted
PT_PROVIDER = 3
OFFICE = 4

#: code -> (description, kind, fee in cents, allowed factor % of the payer ratio)
CODES = {
    "99202": ("Office visit, new patient, straightforward", "cpt", 95_00, 100),
    "99203": ("Office visit, new patient, low complexity", "cpt", 150_00, 100),
    "99204": ("Office visit, new patient, moderate complexity", "cpt", 230_00, 100),
    "99212": ("Office visit, established, straightforward", "cpt", 75_00, 100),
    "99213": ("Office visit, established, low complexity", "cpt", 110_00, 100),
    "99214": ("Office visit, established, moderate complexity", "cpt", 165_00, 100),
    "99215": ("Office visit, established, high complexity", "cpt", 225_00, 100),
    "G0439": ("Annual wellness visit, subsequent", "hcpcs", 175_00, 100),
    "97110": ("Therapeutic exercise, each 15 minutes", "cpt", 45_00, 95),
    "97140": ("Manual therapy, each 15 minutes", "cpt", 48_00, 95),
    "36415": ("Routine venipuncture", "cpt", 12_00, 60),
    "81002": ("Urinalysis, non-automated, without microscopy", "cpt", 10_00, 60),
    "85025": ("Complete blood count (CBC) with differential", "cpt", 22_00, 55),
    "80053": ("Comprehensive metabolic panel", "cpt", 32_00, 50),
    "83036": ("Hemoglobin A1c", "cpt", 28_00, 55),
    "93000": ("Electrocardiogram, 12 lead, with interpretation", "cpt", 60_00, 50),
    "20610": ("Arthrocentesis/injection, major joint", "cpt", 135_00, 80),
    "J1030": ("Methylprednisolone acetate, 40 mg", "hcpcs", 18_00, 40),
    "90471": ("Immunization administration, one vaccine", "cpt", 25_00, 90),
    "90686": ("Influenza vaccine, quadrivalent, preservative free", "cpt", 38_00, 90),
    "G8553": ("Quality reporting: prescription(s) sent via e-prescribing", "hcpcs", 0, 0),
    "99211-NC": ("Nurse visit, no charge (blood pressure check)", "office", 0, 0),
    "RCFEE": ("Returned check fee", "office", 35_00, 0),
    "NOSHOW": ("Missed appointment fee", "office", 25_00, 0),
    "RECORDS": ("Copy of medical records", "office", 15_00, 0),
}
EM_CODES = frozenset({"99202", "99203", "99204", "99212", "99213", "99214", "99215", "G0439"})

FIRST_NAMES = [
    "Avery", "Blake", "Camila", "Dorothy", "Elias", "Fatima", "Gideon", "Harriet", "Imani", "Jasper",
    "Keiko", "Lionel", "Marisol", "Nolan", "Odette", "Percy", "Quinn", "Rosalind", "Silas", "Tamsin",
    "Ulises", "Vivian", "Wendell", "Ximena", "Yusuf", "Zelda", "Agnes", "Bernard", "Cora", "Desmond",
    "Esme", "Felix", "Gloria", "Hector", "Iris", "Julian", "Kendra", "Leonard", "Mabel", "Nadia",
    "Otis", "Pearl", "Rafael", "Sadie", "Thaddeus", "Una", "Vernon", "Wilma", "Arlo", "Beatrix",
    "Cyrus", "Delphine", "Emmett", "Flora", "Gus", "Hazel", "Ivan", "June", "Kai", "Lorena",
    "Milo", "Nell", "Orson", "Priscilla", "Reuben", "Stella", "Tobias", "Vera", "Walter", "Yvette",
]
LAST_NAMES = [
    "Abernathy", "Birchwood", "Castellano", "Dunmore", "Eastwick", "Fairbanks", "Galloway", "Hollister",
    "Ingleby", "Jaramillo", "Kettering", "Lindqvist", "Marchetti", "Northcott", "Okonkwo", "Pemberton",
    "Quintero", "Ravenscroft", "Sandoval", "Thistlewood", "Underhill", "Valdivia", "Whitcombe", "Yarborough",
    "Zamora", "Ashdown", "Brightwater", "Coldiron", "Delacroix", "Ellsworth", "Fenwick", "Greenhalgh",
    "Hathaway", "Iverson", "Juarez", "Kowalczyk", "Larkspur", "Merriweather", "Nakamura", "Oyelaran",
    "Prudhomme", "Rosenthal", "Stroud", "Tiernan", "Umberger", "Vasquez", "Winterbourne", "Yamada",
    "Achterberg", "Beaumont", "Chandrasekar", "Duquesne", "Esposito", "Fitzwilliam", "Gutierrez", "Holloway",
]
STREETS = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir", "Hawthorn", "Juniper", "Laurel", "Madrona",
           "Oak", "Pine", "Spruce", "Willow", "Sycamore", "Maple", "Aspen", "Hemlock"]
STREET_KINDS = ["St", "Ave", "Ln", "Rd", "Ct", "Way", "Dr", "Pl"]
TOWNS = [("Millbrook", "97401"), ("Riverbend", "97402"), ("Cedar Hollow", "97405"), ("Fernridge", "97408"),
         ("Oakmont", "97477"), ("Pine Crossing", "97478")]
EMPLOYERS = ["Riverside Logistics", "Summit Builders", "Harborview Freight", "Greenleaf Grocers",
             "Northway Manufacturing", "Bluewater Packaging"]
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"

#: patient profile -> (weight per 1000, minimum count at any scale)
PROFILES = {
    "medicare": (90, 3),
    "medicare_medigap": (110, 3),
    "dual": (45, 3),
    "tertiary": (15, 2),
    "medicaid": (140, 3),
    "commercial": (370, 5),
    "commercial_secondary": (65, 3),
    "self_pay": (85, 5),
    "terminated": (30, 3),
    "secondary_off_file": (20, 2),
    "secondary_terminated": (15, 2),
    "workers_comp": (15, 2),
}

#: random denials: code -> (whole claim?, follow-up)
DENIALS = {
    "CO-16": (True, "resubmit"),      # missing information: corrected claim
    "CO-50": (False, "bill_or_writeoff"),  # not medically necessary
    "CO-29": (True, "writeoff"),      # timely filing limit expired
    "CO-97": (False, "writeoff"),     # bundled into another service
    "CO-197": (True, "writeoff"),     # precertification absent
}


# ---------------------------------------------------------------------------
# Simulation state (plain Python; the database holds the truth)
# ---------------------------------------------------------------------------
@dataclasses.dataclass(eq=False, slots=True)
class _Pat:
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
class _Enc:
    id: int
    pat: _Pat
    dos: dt.date
    payers: dict          # rank -> payer key (kept in step with the encounter's payer list)
    charges: tuple        # ((charge id, code, units, fee), ...)
    scenario: str = ""
    copay_credit: int | None = None
    pr: dict | None = None  # charge id -> (deductible, coinsurance, copay) from the primary EOB
    billable: bool = True
    remitted: int = 0       # bit per rank already answered
    resend: int = 0         # bit per rank resubmitted since


RANK_BIT = {"primary": 1, "secondary": 2, "tertiary": 4}


@dataclasses.dataclass(eq=False, slots=True)
class _Visit:
    plan: _Pat
    kind: str
    provider: Provider
    slots: list
    claim_type: str
    queue: str | None
    codes: list           # [(code, units)]
    scenario: str
    state: _Enc | None = None


@dataclasses.dataclass(order=True, slots=True)
class _Task:
    order: int
    seq: int
    kind: str = dataclasses.field(compare=False)
    args: tuple = dataclasses.field(compare=False, default=())


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

MESSAGES = {
    "work_injury": ("Work injury?",
                    "Patient says this shoulder injury happened at work (lifting at the warehouse). "
                    "{payer} denied the claim CO-19 (work related). Do we have the employer's workers' "
                    "comp carrier and claim number, or should I call the employer?"),
    "off_file": ("Secondary EOB but no secondary on file",
                 "We received an EOB and a check from {other} for this visit, but the claim has no "
                 "secondary payer. The card on file for the spouse's plan is {other}, member {member}. "
                 "OK to add it as secondary and post the EOB?"),
    "terminated": ("Coverage terminated",
                   "{payer} says coverage ended {term}. The patient has not given us a new card yet. "
                   "Should these visits go to self-pay or do we wait?"),
    "co50": ("Appeal or bill patient?",
             "{payer} denied a line as not medically necessary (CO-50). The note supports it. "
             "I billed the patient for now; should we appeal instead?"),
    "dispute": ("Patient disputes balance",
                "Patient called: says the copay was paid at check-in and the statement is wrong. "
                "Can you review the credits on this account?"),
    "returned": ("Returned check fee",
                 "The patient's check came back NSF. I flagged it returned and added the $35.00 "
                 "returned check fee (RCFEE, provider Office). Please confirm that is our policy."),
}
ANSWERS = {
    "work_injury": "Yes - convert it to a workers' comp claim once the employer sends the claim number.",
    "off_file": "Yes, add the secondary from the card on file and post the EOB.",
    "terminated": "Wait 30 days for a new card, then bill as self-pay.",
    "co50": "Billing the patient is fine for this code; no appeal.",
    "dispute": "The copay is on an unapplied credit; apply it to this visit.",
    "returned": "Confirmed, $35 is our returned check fee.",
}


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def _holidays(year: int) -> set[dt.date]:
    thanksgiving = dt.date(year, 11, 1)
    thanksgiving += dt.timedelta(days=(3 - thanksgiving.weekday()) % 7 + 21)
    return {dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 12, 25), thanksgiving}


def _at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm))


_MISSING = object()


def _insert_rows(model, rows: list[dict], *, ids: bool, chunk: int = 250) -> list[int]:
    """Insert ``rows`` (field name -> value) with a few multi-row INSERTs; new ids in row order.

    Values go through each field's ``db_value`` and missing fields get the model
    default, exactly as ``Model.insert_many`` would; only the SQL is built once per
    chunk instead of per value (peewee's SQL generation dominates bulk inserts).
    Ids of one multi-row INSERT are handed out in VALUES order on both engines, so
    the sorted RETURNING ids line up with the rows.
    """
    fields = [f for f in model._meta.sorted_fields if f.name != "id"]
    cols = ", ".join(f'"{f.column_name}"' for f in fields)
    one = "(" + ", ".join([db.database.param] * len(fields)) + ")"
    head = f'INSERT INTO "{model._meta.table_name}" ({cols}) VALUES '
    out: list[int] = []
    for i in range(0, len(rows), chunk):
        part = rows[i:i + chunk]
        params = []
        for row in part:
            for f in fields:
                value = row.get(f.name, _MISSING)
                if value is _MISSING:
                    value = f.default() if callable(f.default) else f.default
                params.append(f.db_value(value))
        sql = head + ", ".join([one] * len(part)) + (' RETURNING "id"' if ids else "")
        cursor = db.database.execute_sql(sql, params)
        if ids:
            out += sorted(r[0] for r in cursor.fetchall())
    return out


def _insert_ids(model, rows: list[dict]) -> list[int]:
    return _insert_rows(model, rows, ids=True)


def _insert(model, rows: list[dict]) -> None:
    _insert_rows(model, rows, ids=False)


#: Postings per journal entry when the demo batches (13 columns each stay well under
#: SQLite's 32,766 bound parameters per statement).
ENTRY_LINES = 1000


def _post_groups(kind: str, groups: list[tuple[list, int | None, int | None]], *, memo: str, user: str) -> int:
    """Post balanced groups of lines through ``ledger.post``, several groups per entry.

    ``groups``: ``(lines, encounter_id, patient_id)``, each group balanced on its own;
    groups are packed in order into entries of at most :data:`ENTRY_LINES` postings, and
    an entry names the encounter / patient when all its groups share one. Returns the
    number of entries posted.
    """
    posted, chunk, encs, pats = 0, [], set(), set()

    def flush():
        nonlocal posted, chunk, encs, pats
        if chunk:
            ledger.post(kind, chunk, memo=memo, user=user, encounter_id=_one(encs), patient_id=_one(pats))
            posted += 1
        chunk, encs, pats = [], set(), set()

    for lines, enc_id, pat_id in groups:
        if not lines:
            continue
        if chunk and len(chunk) + len(lines) > ENTRY_LINES:
            flush()
        chunk = chunk + list(lines)
        encs.add(enc_id)
        pats.add(pat_id)
    flush()
    return posted


def _one(values: set):
    """The single value of a set, or None when there are several (entry-level dimension)."""
    return next(iter(values)) if len(values) == 1 else None


def _npi(base: int) -> str:
    """A 10-digit NPI with a valid check digit (Luhn over the 80840 prefix)."""
    body = f"{base:09d}"[-9:]
    total = 0
    for i, d in enumerate(int(c) for c in reversed("80840" + body)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def _member_id(rng: random.Random, kind: str) -> str:
    if kind == "medicare":  # MBI shape (1EG4-TE5-MK73 without the dashes)
        a, an = MBI_LETTERS, MBI_LETTERS + "0123456789"
        return (f"{rng.randint(1, 9)}{rng.choice(a)}{rng.choice(an)}{rng.randint(0, 9)}{rng.choice(a)}"
                f"{rng.choice(an)}{rng.randint(0, 9)}{rng.choice(a)}{rng.choice(a)}{rng.randint(0, 9)}"
                f"{rng.randint(0, 9)}")
    if kind == "medicaid":
        return f"MC{rng.randint(10_000_000, 99_999_999)}"
    prefix = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
    return f"{prefix}{rng.randint(100_000_000, 999_999_999)}"


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------
class _Builder:
    def __init__(self, seed: int, scale: float, today: dt.date, months: int, fast: bool,
                 progress: Callable[[dt.date, int, int], None] | None, copies: int = 0):
        self.seed, self.scale, self.today, self.months, self.fast = seed, scale, today, months, fast
        self.copies, self.replicate_seconds = copies, None  # scale > 1: SQL copies of the base clinic
        self.start = _add_months(today, -months)
        self.rng = random.Random(seed)
        self.progress = progress
        hol = set().union(*(_holidays(y) for y in range(self.start.year, today.year + 1)))
        span = (today - self.start).days + 1
        self.workdays = [d for d in (self.start + dt.timedelta(n) for n in range(span))
                         if d.weekday() < 5 and d not in hol]
        self.workday_set = set(self.workdays)
        self.tasks: dict[dt.date, list[_Task]] = defaultdict(list)
        self.seq = 0
        self.encs: dict[int, _Enc] = {}
        self.pats: list[_Pat] = []
        self.by_id: dict[int, _Pat] = {}
        self.check_no: dict[str, int] = {}
        self.counts: dict[str, int] = defaultdict(int)
        self.patient_check_no = 1000
        self.rules = StatementRules()
        self.pay_labels: dict[tuple, str] = {}

    # -- scheduling --------------------------------------------------------------
    def day_at(self, percent: int) -> dt.date:
        """The calendar day ``percent`` % of the way through the simulated window."""
        return self.start + dt.timedelta(days=(self.today - self.start).days * percent // 100)

    def at(self, day: dt.date, order: int, kind: str, *args) -> None:
        """Schedule work on ``day`` (dropped when after today)."""
        if day > self.today:
            return
        self.seq += 1
        self.tasks[day].append(_Task(order, self.seq, kind, args))

    def later(self, day: dt.date, lo: int, hi: int) -> dt.date:
        """A working day ``lo``..``hi`` days after ``day``."""
        return self.next_workday(day + dt.timedelta(days=self.rng.randint(lo, hi)))

    def next_workday(self, day: dt.date) -> dt.date:
        while day not in self.workday_set and day <= self.today:
            day += dt.timedelta(days=1)
        return day

    def remit_day(self, key: str, day: dt.date) -> dt.date:
        weekdays = PAYERS[key]["remit"]
        for _ in range(21):
            if day.weekday() in weekdays and day in self.workday_set:
                return day
            day += dt.timedelta(days=1)
        return day

    # -- run -------------------------------------------------------------------------
    def run(self) -> dict:
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
                with clock.frozen(_at(self.today, 19)):
                    demo_scale.replicate(self.copies)
                self.replicate_seconds = time.perf_counter() - t1
        return self.summary(time.perf_counter() - t0)

    def run_day(self, day: dt.date) -> None:
        tasks = sorted(self.tasks.pop(day, []))
        with db.write_transaction():
            with clock.frozen(_at(day, 18)):
                workflow.run("demo.day", lambda: self.day_body(day, tasks), notify=False,
                             inputs={"day": day, "seed": self.seed, "scale": self.scale, "fast": self.fast})
            if day < self.today - dt.timedelta(days=OPEN_DAYSHEET_DAYS) and \
                    Daysheet.select().where(Daysheet.day == day).exists():
                with clock.frozen(_at(day, 18, 30)):
                    daysheets.close_daysheet(day)

    def day_body(self, day: dt.date, tasks: list[_Task]) -> dict:
        by_phase: dict[int, list[_Task]] = defaultdict(list)
        for t in tasks:
            by_phase[t.order].append(t)
        done: dict = {}
        for order, (hh, mm, name) in PHASES.items():
            todo = by_phase.get(order, [])
            with clock.frozen(_at(day, hh, mm)):
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

    # -- setup -------------------------------------------------------------------------
    def setup(self) -> None:
        if Patient.select().exists():
            raise Refused("the demo clinic needs an empty database (this one already has patients)")
        with db.write_transaction(), clock.frozen(_at(self.start - dt.timedelta(days=1), 8)):
            for username, full, role in USERS:  # first: only registered users may write
                User.get_or_create(username=username, defaults={"full_name": full, "role": role})
            workflow.run("demo.setup", self._setup_body, notify=False,
                         inputs={"seed": self.seed, "scale": self.scale, "today": self.today})

    def _setup_body(self) -> dict:
        self.payer = {key: Payer.create(name=cfg["name"], kind=cfg["kind"], payer_code=cfg["code"],
                                        address=cfg["address"], phone=cfg["phone"])
                      for key, cfg in PAYERS.items()}
        self.payer_key = {p.id: k for k, p in self.payer.items()}
        self.pseudo = patient_payer()
        self.providers = [Provider.create(name=name, kind=kind, npi=_npi(1_234_500 + 37 * i))
                          for i, (name, kind) in enumerate(PROVIDERS)]
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

    def make_patients(self) -> None:
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
                "address": f"{rng.randint(100, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
                "city": town, "state": "OR", "zip": zipc, "phone": f"(541) 555-01{rng.randint(0, 99):02d}",
            })
            behaviour = rng.choices(["prompt", "slow", "never", "overpay"], [62, 18, 12, 8])[0]
            if profile == "secondary_off_file":
                behaviour = "never"  # waiting for their insurance to sort it out
            plans.append(_Pat(i, 0, first, last, dob, profile, behaviour, rng.choice(PCPS), []))
        for plan, pid in zip(plans, _insert_ids(Patient, rows)):
            plan.id = pid
        self.pats = plans
        self.by_id = {p.id: p for p in plans}
        cov_rows, cov_owner = [], []

        def cover(plan: _Pat, key: str, role: str | None, *, start=None, end=None, member=None,
                  group=None, relationship=None, subscriber=None, active=True):
            kind = PAYERS[key]["kind"]
            member = member or _member_id(rng, kind)
            child = (self.today - plan.dob).days < 18 * 365 and kind not in ("medicaid", "workers_comp")
            rel = relationship or ("child" if child else "self")
            sub = subscriber or (f"{plan.last}, {rng.choice(FIRST_NAMES)}" if rel == "child"
                                 else f"{plan.last}, {plan.first}")
            cov_rows.append({
                "patient": plan.id, "payer": self.payer[key].id, "member_id": member,
                "group_no": group if group is not None else ("" if kind in ("medicare", "medicaid")
                                                               else f"GRP-{rng.randint(10000, 99999)}"),
                "subscriber": sub, "relationship": rel,
                "effective_from": start or _add_months(self.start, -rng.randint(6, 60)).replace(day=1),
                "effective_to": end, "active": active,
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
        for cid, (plan, key, role, member) in zip(_insert_ids(Coverage, cov_rows), cov_owner):
            if role in ("primary", "secondary", "tertiary"):
                plan.slots.append((key, cid))
            elif role == "off_file":
                plan.off_file = (key, cid, member)
            elif role == "wc":
                plan.wc = (key, cid, plan.wc[2])
            elif role is None:
                plan.new_card = (key, cid, member)

    # -- the schedule of visits ----------------------------------------------------------
    def plan_visits(self) -> None:
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
            month = _add_months(month, 1)
        self.at(self.workdays[-1], 45, "finish")

    def charges_for(self, plan: _Pat, kind: str, dos: dt.date) -> list[tuple[str, int]]:
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

    # -- front desk: visits, charges, copays ------------------------------------------------
    def do_visits(self, day: dt.date, items: list[tuple]) -> dict:
        visits = [self.plan_visit(day, plan, kind) for plan, kind in items]
        (self.post_visits_fast if self.fast else self.post_visits_exact)(day, visits)
        for v in visits:
            self.after_visit(day, v)
        return {"encounters": len(visits), "charges": sum(len(v.state.charges) for v in visits)}

    def plan_visit(self, day: dt.date, plan: _Pat, kind: str) -> _Visit:
        codes = self.charges_for(plan, kind, day)
        if kind == "noshow":
            return _Visit(plan, kind, self.providers[OFFICE], [], "medical", None, codes, "")
        if kind.startswith("wc_"):
            prov = self.providers[PT_PROVIDER if kind == "wc_pt" else plan.pcp]
            return _Visit(plan, kind, prov, [plan.wc[:2]], "workers_comp", "workers_comp", codes, "")
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
        return _Visit(plan, kind, prov, list(plan.slots), "medical", None, codes, scenario)

    def post_visits_exact(self, day: dt.date, visits: list[_Visit]) -> None:
        """One visit at a time through billing.create_encounter / add_charge / claims.queue."""
        for v in visits:
            enc = billing.create_encounter(
                patient=v.plan.id, provider=v.provider, dos=day, claim_type=v.claim_type,
                payers=[(self.payer[k], c) for k, c in v.slots], queue=self.queues[v.queue] if v.queue else None)
            charges = []
            for code, units in v.codes:
                ch = billing.add_charge(enc, self.codes[code], units=units, provider=v.provider)
                charges.append((ch.id, code, units, ch.fee))
            if v.slots:
                claims.queue(enc, self.payer[v.slots[0][0]], "primary")
            self.new_state(v, enc.id, charges)

    def post_visits_fast(self, day: dt.date, visits: list[_Visit]) -> None:
        """The same rows and entries in a few statements: one "charge" entry per encounter."""
        now, user = clock.now(), current_user()
        enc_ids = _insert_ids(Encounter, [{
            "patient": v.plan.id, "provider": v.provider.id, "dos": day, "claim_type": v.claim_type,
            "queue": self.queues[v.queue].id if v.queue else None, "created_at": now} for v in visits])
        slot_rows, charge_rows, claim_rows = [], [], []
        for v, eid in zip(visits, enc_ids):
            for rank, (key, cov) in zip(INSURANCE_RANKS, v.slots):
                slot_rows.append({"encounter": eid, "rank": rank, "payer": self.payer[key].id, "coverage": cov})
            for line_no, (code, units) in enumerate(v.codes, 1):
                charge_rows.append({"encounter": eid, "patient": v.plan.id, "line_no": line_no,
                                    "service_code": self.codes[code].id, "units": units,
                                    "fee": CODES[code][2] * units, "provider": v.provider.id, "dos": day})
            if v.slots:
                claim_rows.append({"encounter": eid, "payer": self.payer[v.slots[0][0]].id, "rank": "primary",
                                   "status": "queued", "queued_at": now})
        _insert(EncounterPayer, slot_rows)
        charge_ids = iter(_insert_ids(Charge, charge_rows))
        split_rows, per_visit = [], []
        for v in visits:
            payer_id = self.payer[v.slots[0][0]].id if v.slots else self.pseudo.id
            rank = "primary" if v.slots else "patient"
            charges = [(next(charge_ids), code, units, CODES[code][2] * units) for code, units in v.codes]
            per_visit.append((charges, rank, payer_id))
            split_rows += [{"charge": c[0], "rank": rank, "payer": payer_id, "patient": v.plan.id} for c in charges]
        split_ids = iter(_insert_ids(ChargeSplit, split_rows))
        groups = []
        for v, eid, (charges, rank, payer_id) in zip(visits, enc_ids, per_visit):
            lines = []
            for cid, code, units, fee in charges:
                sid = next(split_ids)
                if fee:
                    lines += [ledger.Line("AR", fee, split_id=sid, charge_id=cid, patient_id=v.plan.id,
                                          payer_id=payer_id),
                              ledger.Line("REVENUE", -fee, charge_id=cid, patient_id=v.plan.id,
                                          provider_id=v.provider.id)]
            groups.append((lines, eid, v.plan.id))
            self.new_state(v, eid, charges)
        _post_groups("charge", groups, memo=f"front desk {day:%Y-%m-%d}: {len(visits)} encounter(s)", user=user)
        _insert(Claim, claim_rows)

    def new_state(self, v: _Visit, enc_id: int, charges: list) -> None:
        v.state = _Enc(enc_id, v.plan, clock.today(),
                       {r: k for r, (k, _c) in zip(INSURANCE_RANKS, v.slots)}, tuple(charges), v.scenario)
        self.encs[enc_id] = v.state
        self.counts["charges"] += len(charges)

    def after_visit(self, day: dt.date, v: _Visit) -> None:
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

    def patient_payment(self, plan: _Pat, amount: int, *, keep: bool, apply: bool, memo: str) -> Credit:
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

    # -- claims ---------------------------------------------------------------------------
    def claim_batch(self, day: dt.date) -> dict:
        rng = self.rng
        rows = list(Claim.select(Claim.id, Claim.encounter, Claim.payer, Claim.rank)
                    .where(Claim.status == "queued").order_by(Claim.id).tuples())
        if not rows:
            return {}
        batch = ClaimBatch.create(created_at=clock.now(), created_by=DEMO_USER,
                                  export_path=f"batches/{day:%Y%m%d}.837")
        ids = [r[0] for r in rows]
        for i in range(0, len(ids), 500):
            Claim.update(status="sent", sent_at=clock.now(), batch=batch.id).where(
                Claim.id.in_(ids[i:i + 500])).execute()
        for _cid, enc_id, payer_id, rank in rows:
            key = self.payer_key.get(payer_id)
            if key is None or enc_id not in self.encs:
                continue
            if rng.random() < (0.07 if rank != "primary" else 0.01):
                continue  # never answered: material for "Resend Secondary Claim" and follow-up
            lo, hi = PAYERS[key]["lag"]
            self.at(self.remit_day(key, day + dt.timedelta(days=rng.randint(lo, hi))), 20, "remit",
                    key, enc_id, rank)
        return {"batch_id": batch.id, "claims_sent": len(rows)}

    # -- remits: payer checks and EOBs ------------------------------------------------------
    def do_remits(self, day: dt.date, todo: list[_Task]) -> dict:
        by_payer: dict[str, list] = defaultdict(list)
        out: dict = {}
        for t in todo:
            if t.kind == "remit":
                by_payer[t.args[0]].append(t.args[1:])
        for key in sorted(by_payer, key=list(PAYERS).index):
            out[key] = self.remit(day, key, by_payer[key])
        for t in todo:
            if t.kind != "remit":
                getattr(self, "task_" + t.kind)(day, *t.args)
        return out

    def remit(self, day: dt.date, key: str, items: list) -> dict:
        """One payer's check (or a zero-pay remit) with the EOBs it explains."""
        rng = self.rng
        payer = self.payer[key]
        planned, seen, todo = [], set(), []
        for enc_id, rank in items:
            state = self.encs[enc_id]
            if (enc_id, rank) in seen or state.payers.get(rank) != key or not state.billable:
                continue  # a duplicate, or the payer left the claim since (advanced action)
            seen.add((enc_id, rank))
            todo.append((state, rank))
        # this payer's splits on every charge of the check, in one query
        ids = [c[0] for state, _r in todo for c in state.charges]
        by_rank: dict[tuple, ChargeSplit] = {}
        for i in range(0, len(ids), 500):
            for sp in ChargeSplit.select().where(ChargeSplit.charge.in_(ids[i:i + 500])
                                                 & (ChargeSplit.payer == payer.id)):
                by_rank[sp.charge_id, sp.rank] = sp
        for state, rank in todo:
            splits = {c[0]: by_rank[c[0], rank] for c in state.charges if (c[0], rank) in by_rank}
            bit = RANK_BIT[rank]
            if state.remitted & bit and not state.resend & bit and not sum(sp.balance for sp in splits.values()):
                continue  # a second claim with nothing left to explain
            state.resend &= ~bit
            lines = self.eob_lines(state, key, rank, splits)
            if lines:
                state.remitted |= bit
                planned.append((state, rank, lines, splits))
        paid = sum(ln["paid"] for p in planned for ln in p[2])
        extra = 0
        if paid and rng.random() < 0.08:  # the check also pays claims not on these EOBs
            extra = rng.randint(15, 300) * 100 + rng.choice([0, 25, 50, 75])
        voucher = None
        if paid + extra:
            num = self.next_check(key)
            voucher = payments.make_voucher(payer, "check", paid + extra, reference=num,
                                            details={"check_number": num})
            voucher.undistributed = paid + extra
        refs = [f"{PAYERS[key]['code']}{day:%y%j}{s.id:07d}{rank[0].upper()}" for s, rank, _l, _s in planned]
        if self.fast:
            results = self.post_eobs_fast(day, key, voucher, planned, refs)
        else:
            results = []
            for (state, rank, lines, _s), ref in zip(planned, refs):
                eob = Eob.create(encounter=state.id, payer=payer, rank=rank, voucher=voucher,
                                 received_on=day, claim_ref=ref)
                results.append(eobs.post_lines(eob, Encounter.get_by_id(state.id), payer, rank, lines,
                                               voucher if paid else None))
                voucher and setattr(voucher, "undistributed", voucher.undistributed - results[-1]["paid"])
        for (state, rank, _l, _s), result in zip(planned, results):
            self.after_eob(day, state, rank, key, result)
        self.counts["eobs"] += len(planned)
        return {"voucher_id": voucher.id if voucher else None, "eobs": len(planned), "paid": paid,
                "undistributed": extra}

    def post_eobs_fast(self, day: dt.date, key: str, voucher: Voucher | None, planned: list,
                       refs: list[str]) -> list[dict]:
        """Post a check's EOBs as eobs.post_lines would, with one entry per kind for the whole check.

        Same rows (EOBs, lines, adjustments, credits, credit splits, adjustments,
        splits) and the same balances; entries: "credit" (draws), "payment",
        "contractual", "transfer" (PR), each through ledger.post.
        """
        now, user = clock.now(), current_user()
        payer = self.payer[key]
        eob_ids = _insert_ids(Eob, [{"encounter": s.id, "payer": payer.id, "rank": rank,
                                     "voucher": voucher.id if voucher else None, "received_on": day,
                                     "claim_ref": ref} for (s, rank, _l, _sp), ref in zip(planned, refs)])
        line_rows = [{"eob": eid, "charge": ln["charge_id"], "allowed": ln["allowed"], "paid": ln["paid"],
                      "denied": ln["denied"], "denial_code": ln["denial_code"]}
                     for (_s, _r, lines, _sp), eid in zip(planned, eob_ids) for ln in lines]
        line_ids = iter(_insert_ids(EobLine, line_rows))
        adj_rows = []
        for _s, _r, lines, _sp in planned:
            for ln in lines:
                lid = next(line_ids)
                adj_rows += [{"line": lid, **a} for a in ln["adjustments"]]
        _insert(EobAdjustment, adj_rows)
        # paid: one credit per EOB drawn from the check, applied to its splits
        payers_eobs = [(p, eid) for p, eid in zip(planned, eob_ids) if any(ln["paid"] for ln in p[2])]
        credit_ids = _insert_ids(Credit, [{
            "patient": p[0].pat.id, "payer": payer.id, "voucher": voucher.id, "method": voucher.method,
            "keep_unapplied": False, "unapplied": 0, "posted_on": day, "memo": f"EOB {eid}",
            "created_at": now, "created_by": user} for p, eid in payers_eobs])
        credit_of = {eid: cid for (_p, eid), cid in zip(payers_eobs, credit_ids)}
        if credit_ids:
            draws = []
            for (p, eid), cid in zip(payers_eobs, credit_ids):
                amount = sum(ln["paid"] for ln in p[2])
                draws.append(([ledger.undistributed(voucher, amount),
                               ledger.Line("UNAPPLIED", -amount, credit_id=cid, voucher_id=voucher.id,
                                           patient_id=p[0].pat.id, payer_id=payer.id)], p[0].id, p[0].pat.id))
            _post_groups("credit", draws, memo=f"voucher {voucher.id}: {len(credit_ids)} EOB credit(s)", user=user)
        cs_rows, cs_keys = [], []
        for (state, rank, lines, splits), eid in zip(planned, eob_ids):
            for ln in lines:
                if ln["paid"]:
                    cs_rows.append({"credit": credit_of[eid], "charge": ln["charge_id"],
                                    "split": splits[ln["charge_id"]].id, "created_at": now})
                    cs_keys.append((credit_of[eid], splits[ln["charge_id"]], ln["paid"], state))
        pay_groups = []
        for cs_id, (cid, split, amount, state) in zip(_insert_ids(CreditSplit, cs_rows), cs_keys):
            pay_groups.append(([ledger.on_charge("UNAPPLIED", split, amount, credit_id=cid, voucher_id=voucher.id,
                                                 credit_split_id=cs_id),
                                ledger.ar(split, -amount, credit_split_id=cs_id)], state.id, state.pat.id))
        if pay_groups:
            _post_groups("payment", pay_groups, memo=f"voucher {voucher.id}: EOB payments", user=user)
        # CO/OA/PI: contractual adjustments
        adj_rows, adj_groups = [], []
        for (state, rank, lines, splits), eid in zip(planned, eob_ids):
            for ln in lines:
                for a in ln["adjustments"]:
                    if a["group_code"] == "PR":
                        continue
                    split, code = splits[ln["charge_id"]], f"{a['group_code']}-{a['reason_code']}"
                    adj_rows.append({"charge": ln["charge_id"], "split": split.id, "kind": "contractual",
                                     "reason_code": a["reason_code"], "group_code": a["group_code"],
                                     "amount": a["amount"], "memo": f"EOB {eid}", "created_at": now,
                                     "created_by": user})
                    adj_groups.append(([ledger.on_charge("CONTRACTUAL", split, a["amount"], code),
                                        ledger.ar(split, -a["amount"], code)], state.id, state.pat.id))
        _insert(Adjustment, adj_rows)
        _post_groups("contractual", adj_groups, memo=f"{payer.name}: EOB contractual adjustments", user=user)
        # PR: moved to the next responsible rank; the next insurer's claim is queued
        moves = []
        for state, rank, lines, splits in planned:
            target = self.following_rank(state, rank)
            tpayer = self.payer[state.payers[target]].id if target != "patient" else self.pseudo.id
            for ln in lines:
                prs = [a for a in ln["adjustments"] if a["group_code"] == "PR"]
                if prs:
                    moves.append((state, splits[ln["charge_id"]], target, tpayer, prs))
        if moves:
            have = {(s.charge_id, s.rank, s.payer_id): s for s in ChargeSplit.select().where(
                ChargeSplit.charge.in_(sorted({m[1].charge_id for m in moves})))}
            new = []
            for state, src, target, tpayer, _prs in moves:
                k = (src.charge_id, target, tpayer)
                if k not in have:
                    have[k] = None
                    new.append((k, state.pat.id))
            rows = [{"charge": c, "rank": r, "payer": p, "patient": pid} for (c, r, p), pid in new]
            for (k, pid), sid in zip(new, _insert_ids(ChargeSplit, rows)):
                have[k] = ChargeSplit(id=sid, charge=k[0], rank=k[1], payer=k[2], patient=pid, balance=0)
            tr_groups, queue = [], []
            for state, src, target, tpayer, prs in moves:
                dst = have[(src.charge_id, target, tpayer)]
                tr_lines = []
                for a in prs:
                    code = f"PR-{a['reason_code']}"
                    tr_lines += [ledger.ar(src, -a["amount"], code), ledger.ar(dst, a["amount"], code)]
                tr_groups.append((tr_lines, state.id, state.pat.id))
                if target != "patient" and (state, target) not in queue:
                    queue.append((state, target))
            _post_groups("transfer", tr_groups, memo=f"{payer.name}: EOB patient responsibility", user=user)
            for state, target in queue:
                claims.queue(Encounter(id=state.id), self.payer[state.payers[target]], target)
        # denials: the split keeps its balance, flagged; the encounter goes to the Denied queue
        results, denied_by_code, denied_encs = [], defaultdict(list), []
        for state, rank, lines, splits in planned:
            any_denied = False
            for ln in lines:
                if ln["denied"]:
                    any_denied = True
                    denied_by_code[ln["denial_code"]].append(splits[ln["charge_id"]].id)
            if any_denied:
                denied_encs.append(state.id)
            results.append({"paid": sum(ln["paid"] for ln in lines), "denied": any_denied})
        for code, ids in denied_by_code.items():
            ChargeSplit.update(denied=True, denial_code=code).where(ChargeSplit.id.in_(ids)).execute()
        if denied_encs:
            Encounter.update(queue=self.queues["denied"].id).where(Encounter.id.in_(denied_encs)).execute()
        if voucher is not None:
            voucher.undistributed -= sum(r["paid"] for r in results)
        return results

    def following_rank(self, state: _Enc, rank: str) -> str:
        """billing.following_rank on the simulation's copy of the payer list."""
        for later in ("secondary", "tertiary", "patient")[("primary", "secondary", "tertiary").index(rank):]:
            if later == "patient" or later in state.payers:
                return later
        return "patient"

    def next_check(self, key: str) -> str:
        if key not in self.check_no:
            self.check_no[key] = self.rng.randint(10_000, 90_000) * 100
        self.check_no[key] += self.rng.randint(1, 9)
        return f"{self.check_no[key]:08d}"

    def eob_lines(self, state: _Enc, key: str, rank: str, splits: dict) -> list[dict]:
        """What the payer says about each charge (allowed, paid, CO/PR/OA, denial)."""
        rng = self.rng
        denial = None
        if rank == "primary":
            if state.scenario == "invalid_primary":
                denial = ("PR-27" if rng.random() < 0.65 else "CO-109", True)
            elif state.scenario == "should_be_wc":
                denial = ("CO-19", True)
            elif key in WC_CARRIERS:
                if rng.random() < 0.08:
                    denial = ("CO-214", True)
            elif rng.random() * 100 < PAYERS[key]["deny"]:
                code = rng.choices(list(DENIALS), [30, 30, 10, 15, 15])[0]
                denial = (code, DENIALS[code][0])
        elif state.scenario == "secondary_terminated" and rank == "secondary":
            denial = ("CO-27", True)
        elif rng.random() < 0.03:
            denial = (rng.choice(["CO-22", "CO-16"]), True)
        denied_line = None
        if denial and not denial[1]:  # one line: a non-visit service if there is one
            cands = [c for c in state.charges if c[3] and c[1] not in EM_CODES] or [c for c in state.charges if c[3]]
            denied_line = rng.choice(cands)[0] if cands else None
        lines, pr_parts, em_done = [], {}, False
        for cid, code, units, _fee in state.charges:
            split = splits.get(cid)
            bal = split.balance if split else 0
            if split is None or (rank != "primary" and bal <= 0):
                continue
            if denial and (denial[1] or cid == denied_line) and bal > 0:
                lines.append({"charge_id": cid, "allowed": 0, "paid": 0, "denied": True,
                              "denial_code": denial[0], "adjustments": []})
            elif bal == 0:  # a zero-fee line: reported, nothing paid
                lines.append({"charge_id": cid, "allowed": 0, "paid": 0, "denied": False, "denial_code": "",
                              "adjustments": []})
            elif rank == "primary":
                line, pr_parts[cid] = self.primary_line(state, key, cid, code, units, bal, em_done)
                em_done = em_done or code in EM_CODES
                lines.append(line)
            else:
                lines.append(self.secondary_line(state, key, rank, cid, bal))
        if rank == "primary":
            state.pr = pr_parts
        if denial and any(ln["denied"] for ln in lines):
            self.plan_denial_followup(state, rank, key, denial[0])
        return lines

    def primary_line(self, state: _Enc, key: str, cid: int, code: str, units: int, bal: int,
                     em_done: bool) -> tuple[dict, tuple]:
        cfg = PAYERS[key]
        allowed = min(bal, self.allowed[key, code] * units)
        adj = [{"group_code": "CO", "reason_code": "45", "amount": bal - allowed}] if bal > allowed else []
        ded = coins = copay = 0
        rest = allowed
        year_ded = cfg["deductible"].get(state.dos.year, 0)
        if year_ded and rest:
            used = state.pat.deductible.get((key, state.dos.year), 0)
            ded = min(rest, max(0, year_ded - used))
            state.pat.deductible[key, state.dos.year] = used + ded
            rest -= ded
        if cfg["copay"] and code in EM_CODES and not em_done and rest:
            copay = min(rest, cfg["copay"])
            rest -= copay
        elif cfg["coins"] and rest:
            coins = rest * cfg["coins"] // 100
            rest -= coins
        adj += [{"group_code": "PR", "reason_code": r, "amount": a}
                for r, a in (("1", ded), ("2", coins), ("3", copay)) if a]
        return ({"charge_id": cid, "allowed": allowed, "paid": rest, "denied": False, "denial_code": "",
                 "adjustments": adj}, (ded, coins, copay))

    def secondary_line(self, state: _Enc, key: str, rank: str, cid: int, bal: int) -> dict:
        adj = []
        if key == "medigap":  # plan G: pays all but the Part B deductible
            ded = min(bal, (state.pr or {}).get(cid, (0, 0, 0))[0])
            paid = bal - ded
            if ded:
                adj.append({"group_code": "PR", "reason_code": "1", "amount": ded})
        elif PAYERS[key]["kind"] == "medicaid":  # up to its own rate; the rest is the prior payer's effect
            paid = bal * (55 if rank == "tertiary" else 45) // 100
            if bal - paid:
                adj.append({"group_code": "OA", "reason_code": "23", "amount": bal - paid})
        else:
            paid, oa = bal * 80 // 100, bal * 5 // 100
            if oa:
                adj.append({"group_code": "OA", "reason_code": "23", "amount": oa})
            if bal - paid - oa:
                adj.append({"group_code": "PR", "reason_code": "2", "amount": bal - paid - oa})
        return {"charge_id": cid, "allowed": bal, "paid": paid, "denied": False, "denial_code": "",
                "adjustments": adj}

    def after_eob(self, day: dt.date, state: _Enc, rank: str, key: str, result: dict) -> None:
        rng = self.rng
        if key in WC_CARRIERS and not result["denied"]:
            self._unqueue(state.id, "workers_comp")
        if state.copay_credit:
            self.apply_copay(state)
        if rank == "primary" and "secondary" in state.payers and any(c[3] == 0 for c in state.charges) \
                and rng.random() < 0.35:
            self.at(self.later(day, 10, 40), 40, "mark_zero_paid", state.id)
        if state.scenario == "off_file" and rank == "primary" and not result["denied"] and state.pr:
            pr = sum(sum(p) for p in state.pr.values())
            if pr and rng.random() < 0.7:
                okey = state.pat.off_file[0]
                self.at(self.remit_day(okey, day + dt.timedelta(days=rng.randint(12, 28))), 20,
                        "orphan_check", state.id, pr * 80 // 100)

    def apply_copay(self, state: _Enc) -> None:
        """The copay taken at check-in pays the patient share the EOB moved to the patient."""
        credit = Credit.get_by_id(state.copay_credit)
        if credit.unapplied <= 0:
            state.copay_credit = None
            return
        ids = [c[0] for c in state.charges]
        plan, left = [], credit.unapplied
        for s in ChargeSplit.select().where(ChargeSplit.charge.in_(ids) & (ChargeSplit.rank == "patient")
                                            & (ChargeSplit.balance > 0)).order_by(ChargeSplit.id):
            take = min(left, s.balance)
            if take:
                plan.append((s, take))
                left -= take
        if plan:
            payments.apply_to_splits(credit, plan, memo=f"copay applied to encounter {state.id}")

    def task_orphan_check(self, day: dt.date, enc_id: int, amount: int) -> None:
        """A secondary's check for a claim with no secondary on file: it stays undistributed."""
        state = self.encs[enc_id]
        key = state.pat.off_file[0]
        num = self.next_check(key)
        payments.make_voucher(self.payer[key], "check", amount, reference=num, details={"check_number": num})
        Encounter.update(queue=self.queues["needs_secondary"].id).where(Encounter.id == enc_id).execute()
        if self.rng.random() < 0.6:
            self.at(self.later(day, 1, 4), 40, "message", enc_id, "off_file")

    # -- denials and clerk follow-up ----------------------------------------------------------
    def plan_denial_followup(self, state: _Enc, rank: str, key: str, code: str) -> None:
        rng = self.rng
        day = clock.today()
        if code in ("PR-27", "CO-109"):
            if rng.random() < 0.35:
                self.at(self.later(day, 20, 60), 40, "primary_invalid", state.id)
            elif rng.random() < 0.3:
                self.at(self.later(day, 3, 10), 40, "message", state.id, "terminated")
            return
        if code in ("CO-19", "CO-214", "CO-27", "CO-22") or rng.random() < 0.35:
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

    def _unqueue(self, enc_id: int, key: str) -> None:
        Encounter.update(queue=None).where((Encounter.id == enc_id)
                                           & (Encounter.queue == self.queues[key].id)).execute()

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
        self._unqueue(enc_id, "denied")

    def task_ins_writeoff(self, day, enc_id, rank, code) -> None:
        enc = Encounter.get_by_id(enc_id)
        splits = ops.open_splits(enc, rank, denied=True)
        if splits:
            with as_user(SUPERVISOR):
                ops.write_off(splits, sum(s.balance for s in splits), kind="insurance_writeoff",
                              reason_code=code.split("-")[1], group_code="CO", memo=f"denied {code}: written off")
            self._unqueue(enc_id, "denied")

    def task_bill_patient(self, day, enc_id, rank) -> None:
        enc = Encounter.get_by_id(enc_id)
        if ops.open_splits(enc, rank, denied=True):
            with as_user(CLERK):
                ops.bill_denied_to_patient(enc, rank, None)
            self._unqueue(enc_id, "denied")

    def run_action(self, key: str, module, enc_id: int, data: dict, user: str = CLERK) -> dict:
        """Apply an advanced action exactly as the Advanced Actions tool does (``actions.apply``).

        Skipped (``{"skipped": True}``) when the action no longer applies to the encounter.
        """
        from claimdesk.core.services import actions

        if not module.ACTION.applies(actions.ActionContext(Encounter.get_by_id(enc_id))):
            return {"skipped": True}
        with as_user(user):
            res = actions.apply(enc_id, key, data)
        self.counts["actions"] += 1
        return res

    def task_primary_invalid(self, day, enc_id) -> None:
        """PR-27/CO-109: the old card is no longer valid; the claim goes to the "Patient" placeholder."""
        from claimdesk.plugins import action_primary_invalid

        state = self.encs[enc_id]
        if "primary" not in state.payers:
            return
        res = self.run_action("primary_invalid", action_primary_invalid, enc_id,
                              {"confirm": True, "reason": "coverage terminated (PR-27); no new plan yet"})
        if not res.get("skipped"):
            state.payers.pop("primary")
            self._unqueue(enc_id, "denied")
            card = state.pat.new_card
            if card and self.rng.random() < 0.5:  # the patient brings the new card in later
                self.at(self.later(day, 10, 30), 40, "add_primary", enc_id)

    def task_add_primary(self, day, enc_id) -> None:
        """The patient's new card arrived: "Add Primary Payer" puts the new plan on the claim."""
        from claimdesk.plugins import action_add_primary

        state = self.encs[enc_id]
        key, cov_id, member = state.pat.new_card
        cov = Coverage.get_by_id(cov_id)
        res = self.run_action("add_primary", action_add_primary, enc_id, {
            "payer_id": self.payer[key].id, "member_id": member, "group_no": cov.group_no,
            "subscriber": cov.subscriber, "relationship": cov.relationship,
            "effective_from": cov.effective_from.isoformat() if cov.effective_from else None})
        if not res.get("skipped"):
            state.payers["primary"] = key
            state.remitted &= ~RANK_BIT["primary"]
            state.scenario = ""  # the new plan pays like any other

    def task_non_billable(self, day, enc_id) -> None:
        from claimdesk.plugins import action_non_billable

        res = self.run_action("non_billable", action_non_billable, enc_id,
                              {"confirm": True, "reason": "courtesy visit (staff family), per the office manager"},
                              user=SUPERVISOR)
        if not res.get("skipped"):
            self.encs[enc_id].billable = False

    def task_bad_debt(self, day, pat_idx) -> None:
        from claimdesk.plugins import action_bad_debt

        plan = self.pats[pat_idx]
        rows = (ChargeSplit.select(Charge.encounter, ChargeSplit.balance).join(Charge)
                .where((ChargeSplit.patient == plan.id) & (ChargeSplit.payer == self.pseudo.id)
                       & (ChargeSplit.balance > 0)).order_by(Charge.encounter).tuples())
        per_enc: dict[int, int] = defaultdict(int)
        for enc_id, bal in rows:
            per_enc[enc_id] += bal
        for enc_id, bal in per_enc.items():
            self.run_action("patient_writeoff_bad_debt", action_bad_debt, enc_id,
                            {"amount": f"{bal // 100}.{bal % 100:02d}", "note": "sent to Cascade Collections"},
                            user=SUPERVISOR)
            self._unqueue(enc_id, "patient_balance")
        plan.behaviour = "gone"

    def task_message(self, day, enc_id, topic) -> None:
        """"None of the options above": a clerk's question to the administrator."""
        from claimdesk.plugins import action_admin_message

        rng = self.rng
        state = self.encs.get(enc_id)
        subject, body = MESSAGES[topic]
        primary = state.payers.get("primary") if state else None
        other = state.pat.off_file if state else None
        text = body.format(payer=PAYERS[primary]["name"] if primary else "The payer",
                           other=PAYERS[other[0]]["name"] if other else "", member=other[2] if other else "",
                           term=state.pat.term_date.isoformat() if state and state.pat.term_date else "")
        res = self.run_action("none_of_the_above", action_admin_message, enc_id, {"subject": subject, "note": text})
        msg_id = res.get("report", {}).get("message_id")
        if msg_id and (self.today - day).days > 10 and rng.random() < 0.75:
            self.at(self.later(day, 1, 6), 40, "answer", msg_id, topic, rng.random() < 0.5)
        elif msg_id:
            Encounter.update(queue=self.queues["admin"].id).where(
                (Encounter.id == enc_id) & Encounter.queue.is_null()).execute()

    def task_answer(self, day, msg_id, topic, close) -> None:
        with as_user(DEMO_USER):
            messages.answer({"message_id": msg_id, "answer": ANSWERS[topic], "close": close})

    def task_returned_check(self, day, pat_idx) -> None:
        """The patient's latest check bounced: flagged returned, with the RCFEE fee to "Office"."""
        from claimdesk.core.services import returns

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
        with as_user(CLERK):  # the built-in "flat" fee policy (plugins/fee_flat.py)
            res = returns.return_check({
                "voucher_id": voucher.id, "reason": "NSF - insufficient funds", "fee_policy": "flat",
                "fee": {"service_code": "RCFEE", "provider_id": self.providers[OFFICE].id, "amount": "35.00"},
                "patient_id": plan.id})
        self.counts["returned_checks"] += 1
        if res.get("fee_charge_id"):
            ch = Charge.get_by_id(res["fee_charge_id"])
            self.encs[ch.encounter_id] = _Enc(ch.encounter_id, plan, day, {}, ((ch.id, "RCFEE", 1, ch.fee),))
            self.at(self.later(day, 1, 1), 40, "message", ch.encounter_id, "returned")
        plan.behaviour = "slow"

    def task_mark_zero_paid(self, day, enc_id) -> None:
        """Outstanding Zero Splits: the clerk marks a zero-fee primary paid; the secondary is queued."""
        state = self.encs[enc_id]
        Charge.update(primary_marked_paid=True).where(
            Charge.id.in_([c[0] for c in state.charges if c[3] == 0])).execute()
        if "secondary" in state.payers:
            claims.queue(Encounter(id=enc_id), self.payer[state.payers["secondary"]], "secondary")

    def task_finish(self, day) -> None:
        """The last day: make sure the review and admin queues have work even in a tiny clinic."""
        recent = (Encounter.select(Encounter.id).join(Charge, on=(Charge.encounter == Encounter.id))
                  .join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                  .where(Encounter.queue.is_null() & ServiceCode.code.in_(["99214", "99215", "99204"])
                         & (Encounter.status == "active"))
                  .order_by(Encounter.dos.desc(), Encounter.id.desc()).limit(6))
        ids = sorted({e.id for e in recent})
        q = self.queues
        self.ensure_cases(day)
        if ids and not Encounter.select().where(Encounter.queue == q["review"].id).exists():
            Encounter.update(queue=q["review"].id).where(Encounter.id.in_(ids[-2:])).execute()
        if not Encounter.select().where(Encounter.queue == q["admin"].id).exists():
            waiting = (AdminMessage.select(AdminMessage.encounter).join(Encounter)
                       .where((AdminMessage.status == "open") & Encounter.queue.is_null()))
            if not Encounter.update(queue=q["admin"].id).where(Encounter.id.in_(waiting)).execute() and ids:
                self.task_message(day, ids[0], "dispute")
        if not Encounter.select().where(Encounter.queue == q["workers_comp"].id).exists():
            wc = (Encounter.select(Encounter.id).where((Encounter.claim_type == "workers_comp")
                                                       & (Encounter.status == "active"))
                  .order_by(Encounter.dos.desc(), Encounter.id.desc()).first())
            if wc is not None:
                Encounter.update(queue=q["workers_comp"].id).where(Encounter.id == wc.id).execute()

    def ensure_cases(self, day) -> None:
        """Even a tiny clinic leaves a claim on the "Patient" placeholder and a non-billable claim."""
        pseudo = self.pseudo.id
        placeholder = (EncounterPayer.select().join(Encounter)
                       .where(EncounterPayer.placeholder & (EncounterPayer.rank == "primary")
                              & (EncounterPayer.payer == pseudo) & (Encounter.status == "active")))
        if not placeholder.exists():
            denied = (Encounter.select(Encounter.id).join(Charge).join(ChargeSplit)
                      .where((ChargeSplit.rank == "primary") & ChargeSplit.denied & (ChargeSplit.balance > 0)
                             & ChargeSplit.denial_code.in_(["PR-27", "CO-109"]) & (Encounter.status == "active"))
                      .order_by(Encounter.dos, Encounter.id).first())
            if denied is not None:
                self.task_primary_invalid(day, denied.id)
        if not Encounter.select().where(Encounter.billable == False).exists():  # noqa: E712
            noshow = (Encounter.select(Encounter.id).join(Charge).join(ServiceCode)
                      .switch(Charge).join(ChargeSplit)
                      .where((ServiceCode.code == "NOSHOW") & (ChargeSplit.balance > 0)
                             & (Encounter.status == "active"))
                      .order_by(Encounter.dos.desc(), Encounter.id.desc()).first())
            if noshow is not None:  # the office waives a missed-appointment fee
                from claimdesk.plugins import action_non_billable

                if not self.run_action("non_billable", action_non_billable, noshow.id,
                                       {"confirm": True, "reason": "no-show fee waived (first miss)"},
                                       user=SUPERVISOR).get("skipped"):
                    self.encs[noshow.id].billable = False

    # -- statements and patient payments ---------------------------------------------------------
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
            self.statements_bulk(run)
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

    def statements_bulk(self, run: list[tuple[int, bool, str]]) -> None:
        """``statements.generate`` for many patients at once: the same statements and lines.

        Per patient: the active statement is voided ("regenerated"); the new one lists the
        patient-responsibility balances on billable active encounters (oldest first), the
        payments received since the last statement, the aging buckets, and the amount due
        (patient balance less unapplied money, not below zero).
        """
        today, now, user, pseudo = clock.today(), clock.now(), current_user(), self.pseudo.id
        for i in range(0, len(run), 400):
            part = run[i:i + 400]
            pids = [p[0] for p in part]
            old: dict[int, tuple[int, dt.date]] = {}
            for sid, pid, gen in (Statement.select(Statement.id, Statement.patient, Statement.generated_on)
                                  .where(Statement.patient.in_(pids) & (Statement.status == "active"))
                                  .order_by(Statement.id).tuples()):
                old[pid] = (sid, gen)
            if old:
                Statement.update(status="void", voided_at=now, void_reason="regenerated").where(
                    Statement.id.in_([v[0] for v in old.values()])).execute()
            charges: dict[int, list] = defaultdict(list)
            for row in (ChargeSplit.select(ChargeSplit.patient, Charge.encounter, Charge.id, Charge.dos,
                                           ServiceCode.code, ServiceCode.description, ChargeSplit.balance)
                        .join(Charge).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                        .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
                        .where(ChargeSplit.patient.in_(pids) & (ChargeSplit.payer == pseudo)
                               & (ChargeSplit.balance > 0) & Encounter.billable & (Encounter.status == "active"))
                        .order_by(Charge.dos, Charge.id).tuples()):
                charges[row[0]].append(row[1:])
            applied = dict(Posting.select(Posting.credit, fn.SUM(Posting.amount)).join(
                Credit, on=(Posting.credit == Credit.id)).where(
                Credit.patient.in_(pids) & (Posting.account == "UNAPPLIED")
                & Posting.credit_split.is_null(False)).group_by(Posting.credit).tuples())
            paid: dict[int, list] = defaultdict(list)
            for cid, pid, posted_on, payer_id, method in (
                    Credit.select(Credit.id, Credit.patient, Credit.posted_on, Credit.payer, Credit.method)
                    .where(Credit.patient.in_(pids)).order_by(Credit.posted_on, Credit.id).tuples()):
                since = old.get(pid, (None, None))[1]
                if (since is None or posted_on >= since) and applied.get(cid):
                    if (payer_id, method) not in self.pay_labels:  # the statement service's wording
                        self.pay_labels[payer_id, method] = statements._payment_label(
                            Credit(payer=payer_id, method=method))[:120]
                    paid[pid].append((posted_on, self.pay_labels[payer_id, method], int(applied[cid])))
            due: dict[int, int] = defaultdict(int)
            for pid, account, payer_id, total in (
                    Posting.select(Posting.patient, Posting.account, Posting.payer, fn.SUM(Posting.amount))
                    .where(Posting.patient.in_(pids) & Posting.account.in_(["AR", "UNAPPLIED"]))
                    .group_by(Posting.patient, Posting.account, Posting.payer).tuples()):
                if account == "UNAPPLIED" or payer_id == pseudo:
                    due[pid] += int(total)  # patient AR, less unapplied money (a credit balance)
            ids = _insert_ids(Statement, [{
                "patient": pid, "generated_on": today, "generated_at": now, "generated_by": user,
                "message": message, "final_notice": final, "amount_due": max(due[pid], 0)}
                for pid, final, message in part])
            lines = []
            for sid, (pid, _f, _m) in zip(ids, part):
                dated = []
                for enc_id, charge_id, dos, code, desc, bal in charges[pid]:
                    lines.append({"statement": sid, "encounter": enc_id, "charge": charge_id, "line_date": dos,
                                  "description": f"{code} {desc}"[:120], "amount": bal, "kind": "charge"})
                    dated.append((dos, bal))
                for posted_on, label, amount in paid[pid]:
                    lines.append({"statement": sid, "encounter": None, "charge": None, "line_date": posted_on,
                                  "description": label, "amount": -amount, "kind": "payment"})
                buckets = aging.bucketize(dated, today)
                lines += [{"statement": sid, "encounter": None, "charge": None, "line_date": today,
                           "description": f"Aging {aging.BUCKET_LABELS[key]}", "amount": buckets[key],
                           "kind": "aging"} for key in aging.BUCKETS]
            _insert(StatementLine, lines)

    def task_pay(self, day, pat_idx, how) -> None:
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

    # -- the summary ------------------------------------------------------------------------------
    def summary(self, seconds: float) -> dict:
        def count(model, *where):
            return model.select().where(*where).count() if where else model.select().count()

        pseudo = self.pseudo.id
        patient_ar = int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(
            (Posting.account == "AR") & (Posting.payer == pseudo)).scalar() or 0)
        total_ar = int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(
            Posting.account == "AR").scalar() or 0)
        charges = count(Charge)
        return {
            "seed": self.seed, "scale": round(self.scale * (self.copies + 1), 6), "months": self.months,
            "fast": self.fast,
            "today": self.today.isoformat(),
            "start": self.start.isoformat(), "working_days": len(self.workdays),
            "users": count(User), "patients": count(Patient), "payers": count(Payer),
            "payer_kinds": dict(sorted(Payer.select(Payer.kind, fn.COUNT(Payer.id)).group_by(Payer.kind).tuples())),
            "providers": count(Provider),
            "administrative_providers": count(Provider, Provider.kind == "administrative"),
            "service_codes": count(ServiceCode), "coverages": count(Coverage),
            "encounters": count(Encounter),
            "workers_comp_encounters": count(Encounter, Encounter.claim_type == "workers_comp"),
            "non_billable_encounters": count(Encounter, Encounter.billable == False),  # noqa: E712
            "charges": charges, "zero_fee_charges": count(Charge, Charge.fee == 0),
            "charge_splits": count(ChargeSplit),
            "denied_open_splits": count(ChargeSplit, ChargeSplit.denied == True, ChargeSplit.balance > 0),  # noqa: E712
            "secondary_splits": count(ChargeSplit, ChargeSplit.rank == "secondary"),
            "tertiary_splits": count(ChargeSplit, ChargeSplit.rank == "tertiary"),
            "eobs": count(Eob), "vouchers": count(Voucher),
            "vouchers_with_undistributed": count(Voucher, Voucher.undistributed > 0, Voucher.status == "active"),
            "undistributed_total": int(Voucher.select(fn.COALESCE(fn.SUM(Voucher.undistributed), 0)).scalar() or 0),
            "returned_vouchers": count(Voucher, Voucher.status == "returned"),
            "credits": count(Credit), "credits_with_unapplied": count(Credit, Credit.unapplied > 0),
            "unapplied_total": int(Credit.select(fn.COALESCE(fn.SUM(Credit.unapplied), 0)).scalar() or 0),
            "statements": count(Statement), "admin_messages": count(AdminMessage),
            "open_admin_messages": count(AdminMessage, AdminMessage.status == "open"),
            "claims_queued": count(Claim, Claim.status == "queued"),
            "claims_sent": count(Claim, Claim.status == "sent"),
            "queues": {q.key: count(Encounter, Encounter.queue == q.id)
                       for q in WorkQueue.select().order_by(WorkQueue.id)},
            "journal_entries": count(JournalEntry), "postings": count(Posting),
            "audit_events": count(AuditEvent),
            "total_ar": total_ar, "patient_ar": patient_ar, "insurance_ar": total_ar - patient_ar,
            "base_scale": self.scale, "copies": self.copies,
            "replicate_seconds": round(self.replicate_seconds, 2) if self.copies else 0.0,
            "seconds": round(seconds, 2),
            "charges_per_second": round(charges / seconds, 1) if seconds else None,
        }


def build(seed: int = DEFAULT_SEED, scale: float = 1.0, today: dt.date | str | None = None, *,
          months: int = MONTHS, fast: bool = True,
          progress: Callable[[dt.date, int, int], None] | None = None) -> dict:
    """Build the demo clinic into the connected, upgraded and empty database; return a summary.

    - ``seed``: the random seed; the same seed, scale, today and ``fast`` give identical rows.
    - ``scale``: clinic size; 1 is about 240 patients and 2,600 charges over 18 months, N is
      N times that (fractions allowed; a few patients of every profile at any scale).
      Above 1, ``ceil(scale)`` copies of a base clinic at ``scale / ceil(scale)`` (see the
      module docstring): 1M charges is about ``scale=390`` and takes minutes, not hours.
    - ``today``: the last simulated day (a date or ISO text), default :data:`DEFAULT_TODAY`.
    - ``months``: length of the simulated history (default 18; at least 6; tests use less).
    - ``fast`` (default): the day's encounters, charges and splits, and each payer check's
      EOBs, credits and adjustments are written with a few multi-row inserts, and their
      money with a few ``ledger.post`` calls (entries of at most :data:`ENTRY_LINES`
      postings: charges per front-desk day, and per check one for credits, payments,
      contractual adjustments and PR transfers); the monthly statement run is written
      in bulk with the wording and rules of ``statements.generate``. ``fast=False`` goes
      one call at a time through ``billing.add_charge``, ``eobs.post_lines`` and
      ``statements.generate``: the same rows, balances and statements, finer-grained
      entries, slower (tests compare the two).
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
    return _Builder(int(seed), float(scale) / blocks, today, months, bool(fast), progress, blocks - 1).run()
