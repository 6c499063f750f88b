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

import contextlib
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
from claimdesk.core.db import pg_array
from claimdesk.core.posting.bulk import insert_ids

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
    "REFUNDS_PAYABLE": "Money owed back (refunds and recoupments not yet paid out or taken back): credit "
                       "balance, per voucher the money came from",
}

_entries_made: contextvars.ContextVar[list | None] = contextvars.ContextVar("entries", default=None)
#: The cached-balance moves :func:`post` holds back inside :func:`balances_deferred`: per cache,
#: id -> [net change, lowest running change]; and the entries they are held for.
_deferred: contextvars.ContextVar[dict | None] = contextvars.ContextVar("deferred_balances", default=None)


@dataclasses.dataclass(slots=True)
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
    if dims:
        return Line(account, amount, split_id=data["id"], charge_id=data["charge"], patient_id=data["patient"],
                    payer_id=data["payer"], reason_code=reason_code, **dims)
    # (positional, in field order: account, amount, split, voucher, credit, credit split, charge, patient,
    # payer, provider, reason code)
    return Line(account, amount, data["id"], None, None, None, data["charge"], data["patient"], data["payer"], None,
                reason_code)


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


def _entry_params(values: dict) -> list:
    fields = JournalEntry._meta.fields
    return [fields[n].db_value(values[n]) for n in _ENTRY_COLS]


def _posting_row(entry_id: int, ln: Line) -> tuple:
    """One posting's values in column order (``_POSTING_COLS``). Ints, texts
    and NULLs go to the driver as they are (every posting column is one of those)."""
    return (entry_id, ln.account, ln.amount, ln.split_id, ln.charge_id, ln.patient_id, ln.payer_id, ln.voucher_id,
            ln.credit_id, ln.credit_split_id, ln.provider_id, ln.reason_code)


def _insert_entry(values: dict, lines: list[Line], updates: list[_Update] = ()) -> int:
    """Insert the entry and its postings, then run ``updates`` (its cached balances' guarded
    moves, each refused as :func:`_apply_deltas` refuses it); the entry's id.

    On PostgreSQL the entry and all its postings are one statement (the postings take the id
    from a data-modifying ``WITH``, their values in one array parameter per column), sent with
    the updates in one pipeline (:func:`db.pipelined`): each round trip to the server, and
    each parameter psycopg adapts, counts on the hot paths (with many clerks on one machine,
    each round trip is two processes taking turns on the CPU). SQLite, in process, runs the
    two plain INSERTs (the postings multi-row, :func:`insert_ids`), then the updates.
    """
    entry_cols = ", ".join(_columns(JournalEntry, _ENTRY_COLS))
    entry_marks = ", ".join(["{p}"] * len(_ENTRY_COLS))
    posting_cols = ", ".join(_columns(Posting, _POSTING_COLS))
    if db.is_postgres():
        insert = (f"WITH e AS (INSERT INTO journal_entry ({entry_cols}) VALUES ({entry_marks}) RETURNING id), "
                  f"p AS (INSERT INTO posting ({posting_cols}) SELECT e.id, {_PG_POSTING_NAMES} FROM e, "
                  f"unnest({_PG_POSTING_ARRAYS}) WITH ORDINALITY AS v({_PG_POSTING_NAMES}, n) ORDER BY v.n) "
                  "SELECT id FROM e", _entry_params(values) + _posting_arrays(lines))
        if not updates:  # (balances held back: one statement, no pipeline to set up)
            return db.sql(*insert).fetchone()[0]
        entry, *moved = db.pipelined(insert, *[(u.sql, u.params) for u in updates])
        for update, cursor in zip(updates, moved):
            _checked_update(update, cursor)
        return entry.fetchone()[0]
    entry_id = db.sql(f"INSERT INTO journal_entry ({entry_cols}) VALUES ({entry_marks}) RETURNING id",
                      _entry_params(values)).fetchone()[0]
    insert_ids(Posting, _POSTING_COLS, [_posting_row(entry_id, ln) for ln in lines], ids=False)
    for update in updates:
        _run_update(update)
    return entry_id


def _posting_arrays(lines: list[Line]) -> list[str]:
    """The postings' values as one array literal per column (the entry id left out): the
    parameters of the PostgreSQL insert (see :func:`~claimdesk.core.db.pg_array`)."""
    ints = "BIGINT"
    return [pg_array([ln.account for ln in lines], "TEXT"), pg_array([ln.amount for ln in lines], ints),
            pg_array([ln.split_id for ln in lines], ints), pg_array([ln.charge_id for ln in lines], ints),
            pg_array([ln.patient_id for ln in lines], ints), pg_array([ln.payer_id for ln in lines], ints),
            pg_array([ln.voucher_id for ln in lines], ints), pg_array([ln.credit_id for ln in lines], ints),
            pg_array([ln.credit_split_id for ln in lines], ints), pg_array([ln.provider_id for ln in lines], ints),
            pg_array([ln.reason_code for ln in lines], "TEXT")]


#: The PostgreSQL insert's array parameters, one per posting column after the entry id, and
#: the names it gives their elements.
_PG_POSTING_ARRAYS = ", ".join(["CAST({p} AS TEXT[])"] + ["CAST({p} AS BIGINT[])"] * 9 + ["CAST({p} AS TEXT[])"])
_PG_POSTING_NAMES = "account, amount, split_id, charge_id, patient_id, payer_id, voucher_id, credit_id, " \
                    "credit_split_id, provider_id, reason_code"


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
    pending = _deferred.get()
    if pending is None:
        entry_id = _insert_entry(values, lines, _cache_updates(lines))
    else:
        entry_id = _insert_entry(values, lines)
        _hold(pending, lines)
        pending["entries"].append(entry_id)
    entry = JournalEntry(id=entry_id, **values)
    entry._dirty.clear()
    made = _entries_made.get()
    if made is not None:
        made.append(entry.id)
    return entry


#: account -> (the dimension its postings must carry, the refusal without it).
_DIMENSION_NEEDED = {
    "AR": ("split_id", "an AR posting needs a charge split"),
    "UNAPPLIED": ("credit_id", "an UNAPPLIED posting needs a credit"),
    "UNDISTRIBUTED": ("voucher_id", "an UNDISTRIBUTED posting needs a voucher"),
    "PAYER_LEVEL": ("voucher_id", "a PAYER_LEVEL posting needs a voucher"),
    "REFUNDS_PAYABLE": ("voucher_id", "a REFUNDS_PAYABLE posting needs a voucher"),
}


def _checked(kind: str, lines: list[Line]) -> list[Line]:
    """An entry's non-zero lines, refused unless they are integer cents on known accounts with
    the dimension each account needs, and sum to zero."""
    lines = [ln for ln in lines if ln.amount != 0]
    if not lines:
        raise LedgerError(f"{kind}: an entry needs at least one non-zero posting")
    total = 0
    for ln in lines:
        amount = ln.amount
        if type(amount) is not int:
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise LedgerError(f"{kind}: posting amounts must be integer cents, got {amount!r}")
            amount = int(amount)  # (Cents: its arithmetic is Python code)
        account = ln.account
        need = _DIMENSION_NEEDED.get(account)
        if need is not None:
            if getattr(ln, need[0]) is None:
                raise LedgerError(f"{kind}: {need[1]}")
        elif account not in ACCOUNTS:
            raise LedgerError(f"{kind}: unknown account {account!r}")
        total += amount
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


def post_many(kind: str, entries: list[EntryToPost], *, user: str, splits_opened: bool = False) -> list[int]:
    """Write one balanced journal entry per item of ``entries`` (each checked as :func:`post`
    checks one), set-based: a few multi-row INSERTs whatever their number, the cached balances
    moved once by all of them. The entries' ids, in order. For work whose entries must each
    belong to their own audit event (an imported file's claims); must run inside a write
    transaction.

    ``splits_opened``: each AR line is the first money on a split written in this transaction
    with the line's amount as its cached balance (new charge lines: :func:`~claimdesk.core.
    posting.charges.post_charges`), so those balances are not moved again (on PostgreSQL the
    second write of every new split cost as much as inserting them). Refused unless every AR
    line is positive and names its own split; ``claimdesk verify`` proves the balances."""
    if db.database.obj.transaction_depth() == 0:
        raise LedgerError("ledger.post_many must run inside a write transaction")
    if not entries:
        return []
    checked = [_checked(kind, e.lines) for e in entries]
    if splits_opened:
        _refuse_unless_opening([ln for lines in checked for ln in lines if ln.account == "AR"])
    now = clock.now()
    shared = {"posted_at": now, "posted_on": now.date(), "daysheet": _daysheet_id(), "kind": kind,
              "created_by": user, "reverses": None}
    values = [{**shared, "memo": e.memo[:250], "encounter": e.encounter_id, "patient": e.patient_id} for e in entries]
    moving = [ln for lines in checked for ln in lines if not (splits_opened and ln.account == "AR")]
    if len(entries) == 1:  # (as post writes one: on PostgreSQL entry, postings and updates in one round trip)
        ids = [_insert_entry(values[0], checked[0], _cache_updates(moving))]
    else:
        ids = insert_ids(JournalEntry, _ENTRY_COLS, [tuple(_entry_params(v)) for v in values])
        insert_ids(Posting, _POSTING_COLS,
                   [_posting_row(entry_id, ln) for entry_id, lines in zip(ids, checked) for ln in lines], ids=False)
        _apply_to_caches(moving)
    made = _entries_made.get()
    if made is not None:
        made.extend(ids)
    return ids


def _refuse_unless_opening(lines: list[Line]) -> None:
    """Refuse AR ``lines`` that cannot each open a split's balance (see :func:`post_many`):
    one not positive (it would take the new split below zero), or two on one split."""
    seen: set[int] = set()
    for ln in lines:
        if ln.amount <= 0:
            raise LedgerError(_CACHES["split"][2].format(ln.split_id))
        if ln.split_id in seen:
            raise LedgerError(f"charge split {ln.split_id} is opened twice")
        seen.add(ln.split_id)


def _deltas(lines: list[Line]) -> tuple[tuple[str, dict[int, int]], ...]:
    """What ``lines`` move each cached balance by: per cache, id -> cents."""
    splits: dict[int, int] = defaultdict(int)
    vouchers: dict[int, int] = defaultdict(int)
    credits: dict[int, int] = defaultdict(int)
    for ln in lines:
        account = ln.account
        if account == "AR":
            splits[ln.split_id] += ln.amount
        elif account == "UNDISTRIBUTED":
            vouchers[ln.voucher_id] -= ln.amount
        elif account == "UNAPPLIED":
            credits[ln.credit_id] -= ln.amount
    return ("split", splits), ("voucher", vouchers), ("credit", credits)


def _cache_updates(lines: list[Line]) -> list[_Update]:
    """The guarded ``UPDATE`` statements that move the cached balances ``lines`` touch."""
    return [u for what, deltas in _deltas(lines) for u in _delta_updates(what, deltas, None)]


def _apply_to_caches(lines: list[Line]) -> None:
    for update in _cache_updates(lines):
        _run_update(update)


@contextlib.contextmanager
def balances_deferred():
    """Hold back the cached balances :func:`post` keeps until the block ends, then move each
    once, by the net of the entries posted in it (one set-based ``UPDATE`` per cache instead of
    one per entry). The guard is the same: a balance is refused when the running total of the
    entries, in the order they were posted, would at any point take it below zero (the
    statement checks the balance plus the lowest running change); a refusal raises when the
    block ends, naming the first balance at fault in the order the entries first touched them.
    A balance the block's entries move and bring back without ever taking it lower (a credit
    drawn and applied in full) is left as it is, as an entry whose lines on it net to zero is.

    For work that posts several entries over the same rows inside one transaction (an EOB
    batch: payments, adjustments and transfers on the same splits, credits drawn and applied)
    and reads no cached balance back from the database before the block ends. Only
    :func:`post` holds its moves back. No savepoint inside the block may take back entries
    while the block goes on (their moves are held here, not in the database): when the block
    ends with a held entry gone, it refuses rather than move balances for it. A block inside
    another shares what it holds and moves it all when it ends. When the block raises,
    nothing held is applied (its transaction or savepoint is being rolled back)."""
    pending = _deferred.get()
    owner = pending is None
    if owner:
        pending = {"entries": [], "split": {}, "voucher": {}, "credit": {}}
        token = _deferred.set(pending)
    try:
        yield
    finally:
        if owner:
            _deferred.reset(token)
    _flush(pending)


def _flush(pending: dict) -> None:
    """Apply the held moves (see :func:`balances_deferred`) and forget them."""
    entries = pending["entries"]
    if entries:
        among, params = db.ids_in(entries)
        found = db.sql(f"SELECT COUNT(*) FROM journal_entry WHERE id {among}", params).fetchone()[0]
        if found != len(entries):
            raise LedgerError(f"{len(entries) - found} of the {len(entries)} entries whose balances were held back "
                              "were rolled back before they moved them (a savepoint inside balances_deferred)")
    for what in ("split", "voucher", "credit"):
        held = pending[what]
        moved = {ident: (net, low) for ident, (net, low) in held.items() if net or low < 0}
        held.clear()
        _apply_deltas(what, {ident: net for ident, (net, _low) in moved.items()},
                      {ident: low for ident, (_net, low) in moved.items()})
    entries.clear()


def _hold(pending: dict, lines: list[Line]) -> None:
    """Add one entry's moves to the held ones (its net per id, as :func:`_apply_deltas` would
    apply it now), keeping each id's lowest running change."""
    for what, deltas in _deltas(lines):
        held = pending[what]
        for ident, delta in deltas.items():
            if not delta:
                continue
            running = held.get(ident)
            if running is None:
                held[ident] = [delta, delta]
            else:
                net = running[0] + delta
                running[0], running[1] = net, min(running[1], net)


#: Rows per set-based cache update on SQLite (two or three parameters each).
_DELTA_CHUNK = 2000


def _apply_deltas(what: str, deltas: dict[int, int], lows: dict[int, int] | None = None) -> None:
    """Add ``deltas`` (id -> cents) to one cached balance, refusing any that would go below zero
    (with ``lows``, id -> the lowest running change of held-back entries, any whose balance plus
    that would: see :func:`balances_deferred`).

    The guard is in the statement itself, so two clerks cannot race a read-then-write;
    many ids are updated set-based (one ``UPDATE ... FROM`` per chunk).
    """
    for update in _delta_updates(what, deltas, lows):
        _run_update(update)


@dataclasses.dataclass(frozen=True, slots=True)
class _Update:
    """One guarded ``UPDATE`` of a cached balance (:func:`_delta_updates`): its SQL (``{p}``
    marks) and parameters, and the ids it must move, each with the lowest change it guards."""

    what: str
    sql: str
    params: list
    items: list[tuple[int, int, int]]  # (id, delta, low)


def _delta_updates(what: str, deltas: dict[int, int], lows: dict[int, int] | None) -> list[_Update]:
    """The guarded ``UPDATE`` statements that add ``deltas`` to one cached balance (see
    :func:`_apply_deltas`): one for a single id, else one per chunk of ids (PostgreSQL: one,
    the ids and amounts as arrays)."""
    table, column, _refusal = _CACHES[what]
    if lows is None:
        items = [(ident, delta, delta) for ident, delta in deltas.items() if delta]
    else:
        items = [(ident, delta, lows[ident]) for ident, delta in deltas.items()]
    if len(items) == 1:
        ident, delta, low = items[0]
        return [_Update(what, f"UPDATE {table} SET {column} = {column} + {{p}} WHERE id = {{p}} "
                              f"AND {column} + {{p}} >= 0", [delta, ident, low], items)]
    guarded = lows is not None  # (a low only where the moves were held back: else it is the delta)
    pg = db.is_postgres()
    step = max(len(items), 1) if pg else _DELTA_CHUNK  # (PostgreSQL: arrays, one statement whatever the size)
    updates = []
    for start in range(0, len(items), step):
        chunk = items[start:start + step]
        if pg:  # an array parameter per column (see db.ids_in), as literals (see db.pg_array)
            source = ("SELECT unnest(CAST({p} AS BIGINT[])) AS id, unnest(CAST({p} AS BIGINT[])) AS delta"
                      + (", unnest(CAST({p} AS BIGINT[])) AS low" if guarded else ""))
            params = [pg_array([i for i, _d, _l in chunk], "BIGINT"), pg_array([d for _i, d, _l in chunk], "BIGINT")]
            if guarded:
                params.append(pg_array([low for _i, _d, low in chunk], "BIGINT"))
        elif guarded:
            source = ("SELECT column1 AS id, column2 AS delta, column3 AS low FROM (VALUES "
                      + ", ".join(["({p}, {p}, {p})"] * len(chunk)) + ") AS v")
            params = [v for triple in chunk for v in triple]
        else:
            source = "SELECT column1 AS id, column2 AS delta FROM (VALUES " + ", ".join(["({p}, {p})"] * len(chunk)) + ") AS v"
            params = [v for ident, delta, _low in chunk for v in (ident, delta)]
        # (the ids it moved returned: a refusal names the first one it did not)
        updates.append(_Update(what, f"UPDATE {table} SET {column} = {table}.{column} + d.delta FROM ({source}) AS d "
                                     f"WHERE {table}.id = d.id AND {table}.{column} + d.{'low' if guarded else 'delta'} >= 0 "
                                     f"RETURNING {table}.id", params, chunk))
    return updates


def _run_update(update: _Update) -> None:
    """Run one guarded ``UPDATE``, refused as :func:`_checked_update` refuses it."""
    _checked_update(update, db.sql(update.sql, update.params))


def _checked_update(update: _Update, cursor) -> None:
    """Refuse (:class:`LedgerError`, naming the first balance at fault, in ``update``'s order)
    when ``update``, run (its ``cursor``), moved fewer than all its ids: a balance would have
    gone below zero. (One id: its row count; many: the ids the statement returned.)"""
    _table, _column, refusal = _CACHES[update.what]
    if len(update.items) == 1:
        if cursor.rowcount != 1:
            raise LedgerError(refusal.format(update.items[0][0]))
        return
    moved = {row[0] for row in cursor.fetchall()}
    if len(moved) != len(update.items):
        raise LedgerError(refusal.format(next(i for i, _d, _l in update.items if i not in moved)))


def reverse(entry: JournalEntry, *, memo: str, user: str) -> JournalEntry:
    """Post the mirror image of ``entry``, linked to it; an entry reverses once."""
    return JournalEntry.get_by_id(reverse_many([entry.id], memo=memo, user=user)[0])


#: Entries reversed per statement by :func:`reverse_many`.
_REVERSE_CHUNK = 2000

#: The accounts whose cached balances a reversal moves: account -> (cache, the posting column
#: naming its row, sign of the move for the original postings' sum), applied in this order.
_REVERSED_CACHES = {"AR": ("split", "split_id", -1), "UNDISTRIBUTED": ("voucher", "voucher_id", 1),
                    "UNAPPLIED": ("credit", "credit_id", 1)}
#: Each original posting's cache row, by its account (the column :data:`_REVERSED_CACHES` names).
_REVERSED_KEY = ("CASE account " + " ".join(f"WHEN '{a}' THEN {col}" for a, (_w, col, _s) in _REVERSED_CACHES.items())
                 + " END")
_REVERSED_ACCOUNTS = ", ".join(f"'{a}'" for a in _REVERSED_CACHES)


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
                   "JOIN journal_entry j ON j.id = o.id ORDER BY o.n", consts + [pg_array(chunk, "BIGINT")])
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
        # the reversal posts -amount; a cache moves by +AR / -UNDISTRIBUTED / -UNAPPLIED
        # (the three sums in one pass over the originals' postings)
        sums: dict[str, dict[int, int]] = {account: {} for account in _REVERSED_CACHES}
        for account, key, total in db.sql(
                f"SELECT account, {_REVERSED_KEY}, SUM(amount) FROM posting WHERE entry_id {among} "
                f"AND account IN ({_REVERSED_ACCOUNTS}) GROUP BY 1, 2", among_params):
            if key is not None:
                sums[account][key] = int(total)
        for account, (what, _column, sign) in _REVERSED_CACHES.items():
            _apply_deltas(what, {k: sign * v for k, v in sums[account].items()})
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
