"""The ledger: the only code that writes journal entries and postings.

Double entry, append-only. :func:`post` refuses an entry whose postings do not
sum to zero, refuses to overdraw a voucher, over-apply a credit or push a
charge split below zero, and keeps the three cached balances (split balance,
voucher undistributed, credit unapplied) in step with the postings.
Corrections are :func:`reverse` entries linked to what they reverse
(:func:`reverse_many` reverses a whole set at once, set-based).

Chart of accounts and sign convention: docs/ledger.md.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections import defaultdict

from claimdesk.core import clock, db
from claimdesk.core.errors import LedgerError
from claimdesk.core.models import (
    ChargeSplit,
    Credit,
    Daysheet,
    JournalEntry,
    Posting,
    Voucher,
)

#: account -> what its balance means (debit positive, credit negative).
ACCOUNTS = {
    "AR": "Receivable per charge split: debit balance = open amount the split's payer (or the patient) owes",
    "REVENUE": "Gross charges: credit balance = fees charged",
    "CASH": "Money received on vouchers: debit balance = money in the bank from that voucher",
    "UNDISTRIBUTED": "Voucher money not drawn by any credit: credit balance, the payer's money",
    "UNAPPLIED": "Credit money not applied to charges: credit balance, that patient's money",
    "CONTRACTUAL": "Contractual (CO) adjustments: debit balance, never billed to anyone",
    "WRITEOFF": "Write-offs (insurance and patient reasons): debit balance",
    "PAYER_LEVEL": "Payer-level money on a voucher, on no claim (835 PLB recoupments, interest, forwarding "
                   "balances; a reversed payment's money carried to the payer's later check): debit = the "
                   "payer kept it from this voucher, credit = the payer added it",
}

_entries_made: contextvars.ContextVar[list | None] = contextvars.ContextVar("entries", default=None)


@dataclasses.dataclass
class Line:
    """One posting to be made: account, signed cents, and its dimensions (ids)."""

    account: str
    amount: int
    split_id: int | None = None
    voucher_id: int | None = None
    credit_id: int | None = None
    credit_split_id: int | None = None
    charge_id: int | None = None
    patient_id: int | None = None
    payer_id: int | None = None
    provider_id: int | None = None
    reason_code: str = ""


# Convenience constructors: the accounts as verbs.
def ar(split: ChargeSplit, amount: int, reason_code: str = "", **dims) -> Line:
    """A posting to a charge split's receivable (dimensions taken from the split)."""
    return on_charge("AR", split, amount, reason_code, **dims)


def on_charge(account: str, split: ChargeSplit, amount: int, reason_code: str = "", **dims) -> Line:
    """A posting to another account about a charge split (payment, adjustment). (The split's
    ids are read from its data: an 835 or a day of visits makes hundreds of thousands.)"""
    data = split.__data__
    return Line(account, amount, split_id=data["id"], charge_id=data["charge"], patient_id=data["patient"],
                payer_id=data["payer"], reason_code=reason_code, **dims)


def undistributed(voucher: Voucher, amount: int, **dims) -> Line:
    """A posting to a voucher's undistributed money (the payer's)."""
    return Line("UNDISTRIBUTED", amount, voucher_id=voucher.id, payer_id=voucher.payer_id, **dims)


def unapplied(credit: Credit, amount: int, **dims) -> Line:
    """A posting to a credit's unapplied money (the patient's)."""
    dims.setdefault("patient_id", credit.patient_id)
    dims.setdefault("payer_id", credit.payer_id)
    return Line("UNAPPLIED", amount, credit_id=credit.id, voucher_id=credit.voucher_id, **dims)


def current_daysheet() -> Daysheet:
    """Today's daysheet, opened on first use; a closed one refuses new entries."""
    return Daysheet.get_by_id(_daysheet_id())


def _daysheet_id() -> int:
    """Today's open daysheet id (one indexed read per transaction; opened on first use of
    the day). Closing a daysheet waits for the write lock, so within one write transaction
    an open daysheet stays open: the id is read once per transaction."""
    day = clock.today()
    cache = db.transaction_cache()
    if cache.get("daysheet_day") == day:
        return cache["daysheet_id"]
    row = db.sql("SELECT id, status FROM daysheet WHERE day = {p}", [day]).fetchone()
    opened = row is None
    if opened:  # two clerks may open the day at once: insert-or-ignore, then read
        Daysheet.insert(day=day, status="open").on_conflict_ignore().execute()
        row = db.sql("SELECT id, status FROM daysheet WHERE day = {p}", [day]).fetchone()
    if row[1] != "open":
        raise LedgerError(f"the daysheet for {day.isoformat()} is closed; it takes no new entries")
    if not opened:  # (a day opened here could still be rolled back by a savepoint)
        cache.update(daysheet_day=day, daysheet_id=row[0])
    return row[0]


# The hot path writes with plain SQL built once from the models: peewee's query
# building cost more than the database work (see docs/benchmarks.md).
_ENTRY_COLS = ("posted_at", "posted_on", "daysheet", "kind", "memo", "created_by", "reverses",
               "encounter", "patient")
_POSTING_COLS = ("entry", "account", "amount", "split", "charge", "patient", "payer", "voucher", "credit",
                 "credit_split", "provider", "reason_code")
_CACHES = {  # cached balance -> (table, column, refusal)
    "split": ("charge_split", "balance", "charge split {} would go below zero"),
    "voucher": ("voucher", "undistributed", "voucher {} does not have enough undistributed money"),
    "credit": ("credit", "unapplied", "credit {} does not have enough unapplied money"),
}


def _columns(model, names) -> list[str]:
    return [model._meta.fields[n].column_name for n in names]


#: Postings per INSERT (stays under the drivers' parameter limits).
_POSTING_CHUNK = 2000


def _entry_params(values: dict) -> list:
    fields = JournalEntry._meta.fields
    return [fields[n].db_value(values[n]) for n in _ENTRY_COLS]


def _posting_params(lines: list[Line]) -> list:
    """The postings' values in column order, the entry id left out. Ints, texts and NULLs go
    to the driver as they are (every posting column but the entry is one of those)."""
    return [v for ln in lines for v in (ln.account, ln.amount, ln.split_id, ln.charge_id, ln.patient_id,
                                        ln.payer_id, ln.voucher_id, ln.credit_id, ln.credit_split_id,
                                        ln.provider_id, ln.reason_code)]


def _insert_entry(values: dict, lines: list[Line]) -> int:
    """Insert the entry and its postings; the entry's id.

    On PostgreSQL an entry of up to one chunk of postings is one statement (the postings
    take the id from a data-modifying ``WITH``): each round trip to the server counts on
    the hot paths. SQLite, in process, runs the two plain INSERTs.
    """
    entry_cols = ", ".join(_columns(JournalEntry, _ENTRY_COLS))
    entry_marks = ", ".join(["{p}"] * len(_ENTRY_COLS))
    posting_cols = ", ".join(_columns(Posting, _POSTING_COLS))
    if db.is_postgres() and len(lines) <= _POSTING_CHUNK:
        row = "(" + ", ".join(_PG_POSTING_TYPES) + ")"
        names = ", ".join(_columns(Posting, _POSTING_COLS[1:]))
        return db.sql(
            f"WITH e AS (INSERT INTO journal_entry ({entry_cols}) VALUES ({entry_marks}) RETURNING id) "
            f"INSERT INTO posting ({posting_cols}) SELECT e.id, v.* FROM e, "
            f"(VALUES {', '.join([row] * len(lines))}) AS v({names}) RETURNING entry_id",
            _entry_params(values) + _posting_params(lines)).fetchone()[0]
    entry_id = db.sql(f"INSERT INTO journal_entry ({entry_cols}) VALUES ({entry_marks}) RETURNING id",
                      _entry_params(values)).fetchone()[0]
    one = "({p}, " + ", ".join(["{p}"] * (len(_POSTING_COLS) - 1)) + ")"
    for start in range(0, len(lines), _POSTING_CHUNK):
        chunk = lines[start:start + _POSTING_CHUNK]
        per_line = len(_POSTING_COLS) - 1
        flat = _posting_params(chunk)
        params = [v for i in range(len(chunk)) for v in (entry_id, *flat[i * per_line:(i + 1) * per_line])]
        db.sql(f"INSERT INTO posting ({posting_cols}) VALUES " + ", ".join([one] * len(chunk)), params)
    return entry_id


#: Typed placeholders for one posting row in a ``VALUES`` list on PostgreSQL (an untyped
#: NULL there would be text): every column after the entry id.
_PG_POSTING_TYPES = ("CAST({p} AS TEXT)", "CAST({p} AS BIGINT)", *["CAST({p} AS BIGINT)"] * 8,
                     "CAST({p} AS TEXT)")


def post(kind: str, lines: list[Line], *, memo: str = "", user: str,
         encounter_id: int | None = None, patient_id: int | None = None,
         reverses: JournalEntry | None = None) -> JournalEntry:
    """Write one balanced journal entry and its postings; keep cached balances.

    Must run inside a write transaction. Zero-amount lines are dropped; an entry
    with no lines left, or whose lines do not sum to zero, is refused.
    """
    if db.database.obj.transaction_depth() == 0:
        raise LedgerError("ledger.post must run inside a write transaction")
    lines = _checked(kind, lines)
    now = clock.now()
    values = {"posted_at": now, "posted_on": now.date(), "daysheet": _daysheet_id(), "kind": kind,
              "memo": memo[:250], "created_by": user, "reverses": reverses.id if reverses else None,
              "encounter": encounter_id, "patient": patient_id}
    entry_id = _insert_entry(values, lines)
    _apply_to_caches(lines)
    entry = JournalEntry(id=entry_id, **values)
    entry._dirty.clear()
    made = _entries_made.get()
    if made is not None:
        made.append(entry.id)
    return entry


def _checked(kind: str, lines: list[Line]) -> list[Line]:
    """An entry's non-zero lines, refused unless they are integer cents on known accounts with
    the dimension each account needs, and sum to zero."""
    lines = [ln for ln in lines if ln.amount != 0]
    if not lines:
        raise LedgerError(f"{kind}: an entry needs at least one non-zero posting")
    for ln in lines:
        if not isinstance(ln.amount, int) or isinstance(ln.amount, bool):
            raise LedgerError(f"{kind}: posting amounts must be integer cents, got {ln.amount!r}")
        if ln.account not in ACCOUNTS:
            raise LedgerError(f"{kind}: unknown account {ln.account!r}")
        if ln.account == "AR" and ln.split_id is None:
            raise LedgerError(f"{kind}: an AR posting needs a charge split")
        if ln.account == "UNDISTRIBUTED" and ln.voucher_id is None:
            raise LedgerError(f"{kind}: an UNDISTRIBUTED posting needs a voucher")
        if ln.account == "PAYER_LEVEL" and ln.voucher_id is None:
            raise LedgerError(f"{kind}: a PAYER_LEVEL posting needs a voucher")
        if ln.account == "UNAPPLIED" and ln.credit_id is None:
            raise LedgerError(f"{kind}: an UNAPPLIED posting needs a credit")
    total = sum(ln.amount for ln in lines)
    if total != 0:
        raise LedgerError(f"{kind}: entry does not balance (off by {total} cents)")
    return lines


@dataclasses.dataclass(frozen=True, slots=True)
class EntryToPost:
    """One entry of :func:`post_many`: its lines, memo, and the encounter and patient it names."""

    lines: list[Line]
    memo: str = ""
    encounter_id: int | None = None
    patient_id: int | None = None


#: Journal entries per multi-row INSERT in :func:`post_many`.
_ENTRY_CHUNK = 1000


def post_many(kind: str, entries: list[EntryToPost], *, user: str) -> list[int]:
    """Write one balanced journal entry per item of ``entries`` (each checked as :func:`post`
    checks one), set-based: a few multi-row INSERTs whatever their number, the cached balances
    moved once by all of them. The entries' ids, in order. For work whose entries must each
    belong to their own audit event (an imported file's claims); must run inside a write
    transaction."""
    if db.database.obj.transaction_depth() == 0:
        raise LedgerError("ledger.post_many must run inside a write transaction")
    if not entries:
        return []
    checked = [_checked(kind, e.lines) for e in entries]
    now = clock.now()
    shared = {"posted_at": now, "posted_on": now.date(), "daysheet": _daysheet_id(), "kind": kind,
              "created_by": user, "reverses": None}
    entry_cols = ", ".join(_columns(JournalEntry, _ENTRY_COLS))
    one_entry = "(" + ", ".join(["{p}"] * len(_ENTRY_COLS)) + ")"
    ids: list[int] = []
    for start in range(0, len(entries), _ENTRY_CHUNK):
        part = entries[start:start + _ENTRY_CHUNK]
        params: list = []
        for e in part:
            values = {**shared, "memo": e.memo[:250], "encounter": e.encounter_id, "patient": e.patient_id}
            params += _entry_params(values)
        rows = db.sql(f"INSERT INTO journal_entry ({entry_cols}) VALUES " + ", ".join([one_entry] * len(part))
                      + " RETURNING id", params).fetchall()
        ids += sorted(r[0] for r in rows)  # (ids are handed out in VALUES order)
    posting_cols = ", ".join(_columns(Posting, _POSTING_COLS))
    one = "(" + ", ".join(["{p}"] * len(_POSTING_COLS)) + ")"
    flat = [(entry_id, ln) for entry_id, lines in zip(ids, checked) for ln in lines]
    for start in range(0, len(flat), _POSTING_CHUNK):
        chunk = flat[start:start + _POSTING_CHUNK]
        params = []
        for entry_id, ln in chunk:
            params.append(entry_id)
            params += _posting_params([ln])
        db.sql(f"INSERT INTO posting ({posting_cols}) VALUES " + ", ".join([one] * len(chunk)), params)
    _apply_to_caches([ln for lines in checked for ln in lines])
    made = _entries_made.get()
    if made is not None:
        made.extend(ids)
    return ids


def _apply_to_caches(lines: list[Line]) -> None:
    splits: dict[int, int] = defaultdict(int)
    vouchers: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    for ln in lines:
        if ln.account == "AR":
            splits[ln.split_id] += ln.amount
        elif ln.account == "UNDISTRIBUTED":
            vouchers[ln.voucher_id] -= ln.amount
        elif ln.account == "UNAPPLIED":
            credits[ln.credit_id] -= ln.amount
    for what, deltas in (("split", splits), ("voucher", vouchers), ("credit", credits)):
        _apply_deltas(what, deltas)


#: Rows per set-based cache update (two parameters each).
_DELTA_CHUNK = 2000


def _apply_deltas(what: str, deltas: dict[int, int]) -> None:
    """Add ``deltas`` (id -> cents) to one cached balance, refusing any that would go below zero.

    The guard is in the statement itself, so two clerks cannot race a read-then-write;
    many ids are updated set-based (one ``UPDATE ... FROM`` per chunk).
    """
    table, column, refusal = _CACHES[what]
    items = [(ident, delta) for ident, delta in deltas.items() if delta]
    if len(items) == 1:
        ident, delta = items[0]
        if db.sql(f"UPDATE {table} SET {column} = {column} + {{p}} WHERE id = {{p}} "
                f"AND {column} + {{p}} >= 0", [delta, ident, delta]).rowcount != 1:
            raise LedgerError(refusal.format(ident))
        return
    for start in range(0, len(items), _DELTA_CHUNK):
        chunk = items[start:start + _DELTA_CHUNK]
        if db.is_postgres():  # two array parameters (see db.ids_in)
            source = "SELECT unnest(CAST({p} AS BIGINT[])) AS id, unnest(CAST({p} AS BIGINT[])) AS delta"
            # (plain ints: psycopg types a list of an int subclass, Cents, by its last element)
            params = [[int(i) for i, _ in chunk], [int(d) for _, d in chunk]]
        else:
            source = "SELECT column1 AS id, column2 AS delta FROM (VALUES " + ", ".join(["({p}, {p})"] * len(chunk)) + ") AS v"
            params = [v for pair in chunk for v in pair]
        # (not a WITH: Python's sqlite3 reports no rowcount for a statement starting with WITH)
        done = db.sql(f"UPDATE {table} SET {column} = {table}.{column} + d.delta FROM ({source}) AS d "
                      f"WHERE {table}.id = d.id AND {table}.{column} + d.delta >= 0", params).rowcount
        if done != len(chunk):
            among, among_params = db.ids_in([ident for ident, _ in chunk])
            found = {r[0]: r[1] for r in db.sql(f"SELECT id, {column} FROM {table} WHERE id {among}", among_params)}
            bad = next((i for i, d in chunk if i not in found or found[i] < 0 or found[i] + d < 0), chunk[0][0])
            raise LedgerError(refusal.format(bad))


def reverse(entry: JournalEntry, *, memo: str, user: str) -> JournalEntry:
    """Post the mirror image of ``entry``, linked to it; an entry reverses once."""
    return JournalEntry.get_by_id(reverse_many([entry.id], memo=memo, user=user)[0])


#: Entries reversed per statement by :func:`reverse_many`.
_REVERSE_CHUNK = 2000


def reverse_many(entry_ids: list[int], *, memo: str, user: str) -> list[int]:
    """Reverse many entries at once, set-based; return the reversing entries' ids (same order).

    Each reversal is the exact mirror of its entry (every posting negated, same
    dimensions), kind ``reversal:<kind>``, linked by ``reverses``, on today's
    daysheet; cached balances move by the net of all of them, with the same
    below-zero guards as :func:`post`. Refuses a reversal and an entry already
    reversed. Must run inside a write transaction.
    """
    if db.database.obj.transaction_depth() == 0:
        raise LedgerError("ledger.reverse_many must run inside a write transaction")
    ids = list(dict.fromkeys(int(i) for i in entry_ids))
    if not ids:
        return []
    now = clock.now()
    fields = JournalEntry._meta.fields
    consts = [fields["posted_at"].db_value(now), fields["posted_on"].db_value(now.date()), _daysheet_id(),
              memo[:250], user]
    e_cols = ", ".join(_columns(JournalEntry, _ENTRY_COLS))
    p_cols = ", ".join(_columns(Posting, _POSTING_COLS))
    p_src = ", ".join(f"p.{c}" if c != "amount" else "-p.amount"
                      for c in _columns(Posting, _POSTING_COLS)[1:])
    made: dict[int, int] = {}
    for start in range(0, len(ids), _REVERSE_CHUNK):
        chunk = ids[start:start + _REVERSE_CHUNK]
        among, among_params = db.ids_in(chunk)
        found = {r[0]: r[1] for r in db.sql(f"SELECT id, reverses_id FROM journal_entry WHERE id {among}",
                                            among_params)}
        for i in chunk:
            if i not in found:
                raise LedgerError(f"entry {i} does not exist")
            if found[i] is not None:
                raise LedgerError(f"entry {i} is itself a reversal; post a new entry instead")
        done = db.sql(f"SELECT reverses_id FROM journal_entry WHERE reverses_id {among}", among_params).fetchone()
        if done is not None:
            raise LedgerError(f"entry {done[0]} is already reversed")
        # one reversing entry per original, inserted in the order given
        select = "SELECT {p}, {p}, {p}, 'reversal:' || j.kind, {p}, {p}, j.id, j.encounter_id, j.patient_id "
        insert = f"INSERT INTO journal_entry ({e_cols}) " + select
        if db.is_postgres():
            db.sql(insert + "FROM unnest(CAST({p} AS BIGINT[])) WITH ORDINALITY AS o(id, n) "
                   "JOIN journal_entry j ON j.id = o.id ORDER BY o.n", consts + [chunk])
        else:
            order = " ".join(f"WHEN {{p}} THEN {n}" for n in range(len(chunk)))
            db.sql(insert + f"FROM journal_entry j WHERE j.id {among} ORDER BY CASE j.id {order} END",
                   consts + among_params + chunk)
        new_ids = []
        for new_id, old_id in db.sql(f"SELECT id, reverses_id FROM journal_entry WHERE reverses_id {among}",
                                     among_params):
            made[old_id] = new_id
            new_ids.append(new_id)
        # driven by the new entries' ids (SQLite: CROSS JOIN keeps that order; ~40% faster
        # on 9M postings than probing the postings by the originals' ids)
        join = "JOIN" if db.is_postgres() else "CROSS JOIN"
        made_in, made_params = db.ids_in(new_ids)
        db.sql(f"INSERT INTO posting ({p_cols}) SELECT r.id, {p_src} FROM journal_entry r {join} posting p "
               f"ON p.entry_id = r.reverses_id WHERE r.id {made_in} ORDER BY r.id, p.id", made_params)
        for what, account, key, sign in (("split", "AR", "split_id", -1), ("voucher", "UNDISTRIBUTED", "voucher_id", 1),
                                          ("credit", "UNAPPLIED", "credit_id", 1)):
            # the reversal posts -amount; a cache moves by +AR / -UNDISTRIBUTED / -UNAPPLIED
            rows = db.sql(f"SELECT {key}, SUM(amount) FROM posting WHERE entry_id {among} "
                          f"AND account = {{p}} GROUP BY {key}", among_params + [account])
            _apply_deltas(what, {k: sign * int(v) for k, v in rows if k is not None})
    result = [made[i] for i in ids]
    collected = _entries_made.get()
    if collected is not None:
        collected.extend(result)
    return result


class collect_entries:
    """Context manager collecting the ids of entries posted inside it (for audit)."""

    def __enter__(self) -> list[int]:
        self.ids: list[int] = []
        self._token = _entries_made.set(self.ids)
        return self.ids

    def __exit__(self, *exc) -> None:
        _entries_made.reset(self._token)
