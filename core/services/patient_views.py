"""Read models about patients (CLI and TUI): finding one, its balances, its ledger.

Plain dicts, amounts in integer cents; nothing here writes. Balances come from
:mod:`claimdesk.core.services.balances`; the running balances are sums of the
postings the ledger holds, computed here so no screen or command adds money up.
"""

from __future__ import annotations

import datetime as dt
import operator
from functools import reduce

from peewee import JOIN, SQL, Select, Table, Value, fn

from claimdesk.core import db
from claimdesk.core.errors import InputError
from claimdesk.core.models import (
    Adjustment, Charge, ChargeSplit, Coverage, Credit, Encounter, JournalEntry, Patient, Payer, Posting, ServiceCode,
    Statement,
)
from claimdesk.core.prepared import Prepared
from claimdesk.core.services import balances
from claimdesk.core.services.common import get
from claimdesk.core.services.views import iso
from claimdesk.core.validation import typed_id


# --- finding patients -------------------------------------------------------------
def find_patients(text: str = "", limit: int = 50, *, dob: dt.date | None = None,
                  member_id: str = "") -> list[dict]:
    """Patients matching what a clerk typed, at most ``limit``.

    ``text``: the patient with that ID, account number or member id, or born on that date
    (2026-03-02 or 03/02/2026), when there is one; otherwise every patient whose account
    number, last name or first name contains it (case-insensitive; "last, first" matches
    both parts). ``dob`` and ``member_id`` narrow the search (and may be given alone). Each
    row carries the patient's due and insurance-pending balances.
    """
    needle = (text or "").strip()
    member = (member_id or "").strip().upper()
    if not (needle or dob or member):
        raise InputError({"text": ["type part of a name, an account number or a member id (or give a date of birth)"]})
    base = Patient.select()
    if dob is not None:
        base = base.where(Patient.dob == dob)
    if member:
        base = base.where(Patient.id.in_(_with_member_id(member)))
    by_name = base.order_by(*db.name_order(Patient.last_name, Patient.first_name), Patient.id)
    narrowed = dob is not None or bool(member)
    found = (_exact_matches(needle, base, narrowed) or list(_containing(base, needle, limit))) if needle \
        else list(by_name.limit(limit))
    found = found[:limit]
    owed = balances.patient_balances([p.id for p in found])
    out = []
    for p in found:
        bal = owed[p.id]
        out.append({"patient_id": p.id, "account_no": p.account_no, "name": p.name, "dob": iso(p.dob),
                    "patient_due": bal.patient_due, "insurance_pending": bal.insurance_pending})
    return out


def _with_member_id(member: str):
    """The ids of patients holding a coverage with this member id (any case)."""
    return Coverage.select(Coverage.patient).where(fn.UPPER(Coverage.member_id) == member)


def _typed_date(needle: str) -> dt.date | None:
    """``needle`` as a date when it is one (2026-03-02 or 03/02/2026)."""
    for shape in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(needle, shape).date()
        except ValueError:
            continue
    return None


def _exact_matches(needle: str, base, narrowed: bool) -> list[Patient]:
    """Among ``base``: the patient whose ID is ``needle``, those whose account number or a member
    id is ``needle``, and those born on the day it names, in that order (each in name order).
    ``narrowed``: ``base`` has conditions of its own (a birth date, a member id); without them
    the query is a prepared one (its SQL built once for each kind of needle: every lookup
    by account number runs it)."""
    key = needle.upper()
    pid = typed_id(needle)
    day = _typed_date(needle)
    if narrowed:
        return list(_exact_query(base, key, pid, day))
    shape = (pid is not None, day is not None)
    prepared = _EXACT.get(shape)
    if prepared is None:
        prepared = _EXACT[shape] = Prepared(_exact_build(*shape))
    return prepared.rows(key, pid, day)


def _exact_query(base, key, pid, day):
    """:func:`_exact_matches`' query. One query: each kind of match is its own indexed lookup
    (a ``UNION ALL`` of patient ids, each with its place in the order); the patients are read
    once, ordered by their first hit. (One ``WHERE`` with the kinds OR-ed together reads the
    whole patient table on PostgreSQL.) ``pid``/``day`` None: no such kind of match."""
    hits = []
    if pid is not None:
        hits.append(Patient.select(Patient.id, Value(0)).where(Patient.id == pid))
    hits.append(Patient.select(Patient.id, Value(1)).where(Patient.account_no == key))
    hits.append(_with_member_id(key).select_extend(Value(2)))
    if day is not None:
        hits.append(Patient.select(Patient.id, Value(3)).where(Patient.dob == day))
    found = reduce(operator.add, hits).cte("hit", columns=("pid", "kind"))
    first = (Select([found], [found.c.pid, fn.MIN(found.c.kind).alias("kind")]).group_by(found.c.pid)
             .alias("first"))
    return (base.join(first, on=(Patient.id == first.c.pid)).with_cte(found)
            .order_by(first.c.kind, *db.name_order(Patient.last_name, Patient.first_name), Patient.id))


def _exact_build(with_id: bool, with_day: bool):
    """The prepared query's build for an un-narrowed search whose needle is (or is not) an ID
    and a date; its arguments the needle's upper case, the ID and the date (unused when not)."""
    def build(key, pid, day):
        return _exact_query(Patient.select(), key, pid if with_id else None, day if with_day else None)
    return build


# (needle is an ID, needle is a date) -> the prepared query of an un-narrowed search
_EXACT: dict[tuple[bool, bool], Prepared] = {}


def _containing(base, needle: str, limit: int):
    """The first ``limit`` patients of ``base``, in name order, whose names or account number
    contain ``needle``.

    For three letters or more the matching patients are found first, through the trigram
    indexes (PostgreSQL: schema v12; SQLite: the FTS5 table of v13), with their names; the
    first ``limit`` of them by name are picked there, and only those are read whole. Left to
    itself the planner walks the name index in order hoping to meet 50 matches soon, and reads
    every patient when few or none match (PostgreSQL: 190 ms at 94,000 patients, for no rows;
    SQLite: 91 ms a search). The index narrows; the same condition decides."""
    by_name = base.order_by(*db.name_order(Patient.last_name, Patient.first_name), Patient.id)
    narrowing = _trigram_narrowing(needle)
    if narrowing is None:
        return by_name.where(_contains(needle)).limit(limit)
    found = (base.select(Patient.id, Patient.last_name, Patient.first_name).where(_contains(needle), *narrowing)
             .cte("found", materialized=True))
    first = found.select_from(found.c.id).order_by(*db.name_order(found.c.last_name, found.c.first_name), found.c.id).limit(limit)
    return by_name.where(Patient.id.in_(first)).with_cte(found)


def _trigram_narrowing(needle: str) -> list | None:
    """What lets a trigram index find the patients :func:`_contains` matches: no further
    condition on PostgreSQL (its indexes serve :func:`_contains` itself), on SQLite the patients
    the FTS5 table finds; None when no index can (fewer than three letters; a SQLite without
    the FTS5 table)."""
    from claimdesk.core.migrations import NAME_SEARCH_TABLE

    text = needle.strip()
    last = text.split(",", 1)[0].strip() if "," in text else text
    if len(text) < 3 or len(last) < 3:
        return None
    if db.is_postgres():
        return []
    if not db.database.table_exists(NAME_SEARCH_TABLE):
        return None

    def phrase(s: str) -> str:  # FTS5: the text itself, quoted (a quote in it doubled)
        return '"' + s.replace('"', '""') + '"'
    match = phrase(text) + (f" OR last_name : {phrase(last)}" if "," in text else "")
    fts = Table(NAME_SEARCH_TABLE, ("rowid",))
    return [Patient.id.in_(fts.select(fts.rowid).where(SQL(f"{NAME_SEARCH_TABLE} MATCH ?", [match])))]


def _contains(needle: str):
    """The condition: account number or a name contains ``needle`` (:func:`db.contains_text`:
    case-insensitive in every alphabet); "last, first" matches both parts."""
    has = db.contains_text
    cond = has(Patient.account_no, needle) | has(Patient.last_name, needle) | has(Patient.first_name, needle)
    if "," in needle:
        last, first = (s.strip() for s in needle.split(",", 1))
        cond = cond | (has(Patient.last_name, last) & has(Patient.first_name, first))
    return cond


# --- one patient ------------------------------------------------------------------
def patient_names(ids: list[int], chunk: int = 1000) -> dict[int, str]:
    """``{patient id: "Last, First"}`` for those of ``ids`` that exist (read ``chunk`` ids a query)."""
    out: dict[int, str] = {}
    for start in range(0, len(ids), chunk):
        for p in (Patient.select(Patient.id, Patient.last_name, Patient.first_name)
                  .where(Patient.id.in_(ids[start:start + chunk]))):
            out[p.id] = p.name
    return out


def patient_summary(patient_id) -> dict:
    """Who the patient is (ID, account number, name, birth date, bad debt) and the balance summary
    (patient due, insurance pending, unapplied, total AR, net due)."""
    patient = get(Patient, patient_id, "patient", field="patient_id")
    return {"patient_id": patient.id, "account_no": patient.account_no, "name": patient.name,
            "dob": iso(patient.dob), "bad_debt": patient.bad_debt,
            "balance": balances.patient_balance(patient.id).as_dict()}


def patient_ledger(patient_id) -> dict:
    """A patient's whole account: the summary plus encounters, ledger, activity, charges, credits,
    adjustments and statements.

    ``ledger``: every posting on AR and UNAPPLIED in date order with a running
    balance of what the account owes net of unapplied money (its last value equals
    ``total_ar - unapplied``). ``activity``: each journal entry's change to AR with
    the running AR (its last value equals ``total_ar``).
    """
    summary = patient_summary(patient_id)
    pid = summary["patient_id"]
    return {**summary, "encounters": _encounters(pid), "ledger": _ledger_rows(pid), "activity": _ar_activity(pid),
            "charges": _charges(pid), "credits": _credits(pid), "adjustments": _adjustments(pid),
            "statements": _statements(pid)}


def _encounters(pid: int) -> list[dict]:
    return [{"encounter_id": e.id, "dos": iso(e.dos), "status": e.status,
             "queue": e.queue.key if e.queue_id else None, "balance": balances.encounter_balance(e.id)}
            for e in Encounter.select().where(Encounter.patient == pid).order_by(Encounter.dos, Encounter.id)]


def _ledger_rows(pid: int) -> list[dict]:
    rows, running = [], 0
    query = (Posting.select(Posting, JournalEntry, Payer)
             .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
             .switch(Posting).join(Payer, JOIN.LEFT_OUTER, on=(Posting.payer == Payer.id))
             .where((Posting.patient == pid) & Posting.account.in_(["AR", "UNAPPLIED"]))
             .order_by(JournalEntry.posted_on, JournalEntry.id, Posting.id))
    for p in query:
        running += p.amount
        rows.append({"date": iso(p.entry.posted_on), "entry_id": p.entry_id, "kind": p.entry.kind,
                     "account": p.account, "charge_id": p.charge_id, "credit_id": p.credit_id,
                     "payer": p.payer.name if p.payer_id else None, "memo": p.entry.memo,
                     "reason_code": p.reason_code, "amount": p.amount, "running_balance": running})
    return rows


def _ar_activity(pid: int) -> list[dict]:
    activity, running = [], 0
    rows = (Posting.select(JournalEntry.id, JournalEntry.posted_on, JournalEntry.kind, JournalEntry.memo,
                           JournalEntry.reverses, fn.SUM(Posting.amount))
            .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
            .where((Posting.patient == pid) & (Posting.account == "AR"))
            .group_by(JournalEntry.id, JournalEntry.posted_on, JournalEntry.kind, JournalEntry.memo,
                      JournalEntry.reverses)
            .order_by(JournalEntry.id).tuples())
    for entry_id, posted_on, kind, memo, reverses, change in rows:
        running += int(change)
        activity.append({"entry_id": entry_id, "date": posted_on.isoformat(), "kind": kind, "memo": memo,
                         "reversal": reverses is not None, "change": int(change), "running": running})
    return activity


def _charges(pid: int) -> list[dict]:
    splits: dict[int, list[dict]] = {}
    for s in (ChargeSplit.select(ChargeSplit, Payer).join(Payer, on=(ChargeSplit.payer == Payer.id))
              .switch(ChargeSplit).join(Charge, on=(ChargeSplit.charge == Charge.id))
              .where(Charge.patient == pid).order_by(ChargeSplit.id)):
        splits.setdefault(s.charge_id, []).append(
            {"rank": s.rank, "payer_id": s.payer_id, "payer": s.payer.name, "balance": s.balance,
             "denied": s.denied})
    open_ = balances.patient_charge_balances(pid)
    return [{"charge_id": ch.id, "encounter_id": ch.encounter_id, "dos": ch.dos.isoformat(),
             "code": ch.service_code.code, "fee": ch.fee, "kind": ch.kind, "splits": splits.get(ch.id, []),
             "balance": open_.get(ch.id, 0)}
            for ch in (Charge.select(Charge, ServiceCode)
                       .join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                       .where(Charge.patient == pid).order_by(Charge.dos, Charge.id))]


def _credits(pid: int) -> list[dict]:
    credits = list(Credit.select(Credit, Payer.id, Payer.name).join(Payer, on=(Credit.payer == Payer.id))
                   .where(Credit.patient == pid).order_by(Credit.id))
    money = balances.credit_money([c.id for c in credits])
    return [{"credit_id": c.id, "voucher_id": c.voucher_id, "payer_id": c.payer_id, "payer": c.payer.name,
             "method": c.method, "posted_on": c.posted_on.isoformat(), **money[c.id]}
            for c in credits]


def _adjustments(pid: int) -> list[dict]:
    return [{"charge_id": a.charge_id, "kind": a.kind, "reason": f"{a.group_code}-{a.reason_code}".strip("-"),
             "amount": a.amount, "date": a.created_at.date().isoformat(), "memo": a.memo}
            for a in Adjustment.select().join(Charge, on=(Adjustment.charge == Charge.id))
            .where(Charge.patient == pid).order_by(Adjustment.id)]


def statements_by_id(ids: list[int]) -> list[dict]:
    """The statements with these numbers (e.g. those a billing run made), in number order:
    date, status, amount due, void reason."""
    if not ids:
        return []
    return [_statement_row(s) for s in Statement.select().where(Statement.id.in_(ids)).order_by(Statement.id)]


def _statements(pid: int) -> list[dict]:
    return [_statement_row(s) for s in Statement.select().where(Statement.patient == pid).order_by(Statement.id)]


def _statement_row(s: Statement) -> dict:
    return {"id": s.id, "generated_on": s.generated_on.isoformat(), "status": s.status,
            "amount_due": s.amount_due, "void_reason": s.void_reason}
