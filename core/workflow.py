"""Run one workflow: one transaction, one audit event, then tell the plugins.

Every service that changes data goes through :func:`run`. It opens the write
transaction (retrying lock conflicts), collects the journal entries posted, writes
a hash-chained :class:`~claimdesk.core.models.AuditEvent` with who, when, what,
why and the validated inputs, and honours idempotency keys: a retried submit
returns the first result, a replay with a different payload is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import types
from decimal import Decimal
from typing import Any, Callable

from claimdesk.core import clock, db, ledger, users
from claimdesk.core.context import current_client, current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import AuditEvent
from claimdesk.core.money import Cents
from claimdesk.core.posting.bulk import insert_ids
from claimdesk.core.plugins.records import AppliedEvent

_PG_AUDIT_LOCK = 7_340_001


def jsonable(value: Any) -> Any:
    """Validated inputs made JSON-safe for the audit trail (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def event_hash(prev_hash: str, fields: dict) -> str:
    """The chain hash of an audit event: sha256(prev hash + canonical fields)."""
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


#: The hash version this code writes; verify knows 1 (before schema v3), 2 and 3 (v10: the client).
HASH_VERSION = 3
#: Every hash version verify accepts (from 2 on, events carry a postings digest).
HASH_VERSIONS = (1, 2, 3)


def hashed_fields(ev: AuditEvent) -> dict:
    """The audit fields the chain hash covers (which depends on ``ev.hash_version``)."""
    fields = {
        "at": ev.at.isoformat(sep=" ") if hasattr(ev.at, "isoformat") else str(ev.at),
        "user": ev.user, "action": ev.action,
        "encounter": ev.encounter_id, "patient": ev.patient_id,
        "inputs": ev.inputs, "entries": ev.entries, "reason": ev.reason,
    }
    if ev.hash_version == 1:  # written before schema v3: keeps covering what it covered
        return fields
    fields = {**fields, "hash_version": ev.hash_version, "result": ev.result,
              "idempotency_key": ev.idempotency_key, "payload_hash": ev.payload_hash,
              "postings_digest": ev.postings_digest}
    if isinstance(ev.hash_version, int) and ev.hash_version >= 3:
        fields["client"] = ev.client
    return fields


# What a postings digest (hash version 2) covers, per posting in posting-id order: every
# column of the posting and of its journal entry. Frozen: a new ledger column needs a new
# hash version (tests/test_audit_upgrade.py fails until the lists name every column).
POSTING_DIGEST_COLUMNS = ("id", "entry_id", "account", "amount", "split_id", "charge_id", "patient_id",
                          "payer_id", "voucher_id", "credit_id", "credit_split_id", "provider_id", "reason_code")
ENTRY_DIGEST_COLUMNS = ("kind", "reverses_id", "encounter_id", "patient_id", "daysheet_id", "posted_on",
                        "posted_at", "created_by", "memo")
_DATES = ("posted_on", "posted_at")  # read as the database's text (the same text on every read)
_DIGEST_SQL = ("SELECT " + ", ".join([f"p.{c}" for c in POSTING_DIGEST_COLUMNS]
                                     + [f"CAST(e.{c} AS TEXT)" if c in _DATES else f"e.{c}"
                                        for c in ENTRY_DIGEST_COLUMNS])
               + " FROM posting p JOIN journal_entry e ON e.id = p.entry_id WHERE p.entry_id {ids} AND e.id {ids}"
               " ORDER BY p.id")
EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()


def posting_rows(entry_ids: list[int]):
    """The digest rows of the postings of ``entry_ids``, in posting-id order (one query; a cursor).
    Column 1 of each row is the posting's entry id.

    Both tables are narrowed by the ids: given only the postings' side, PostgreSQL guesses
    dozens of postings an entry and, in a clinic of a few thousand entries, hash-joins every
    journal entry (4.7 ms a write at 8,000 entries, against 0.06 ms by the two indexes)."""
    among, params = db.ids_in(entry_ids)
    return db.sql(_DIGEST_SQL.format(ids=among), params * 2)


def digest_line(row) -> str:
    """One posting row as the digest hashes it (the driver's row tuple, repr'd, one line)."""
    return f"{row!r}\n"


def postings_digest(entry_ids: list[int]) -> str:
    """sha256 over what ``entry_ids`` posted, read back from the database (one SELECT)."""
    if not entry_ids:
        return EMPTY_DIGEST
    rows = posting_rows(entry_ids).fetchall()
    return hashlib.sha256("".join([f"{r!r}\n" for r in rows]).encode()).hexdigest()


def postings_digests(entry_lists: list[list[int]]) -> list[str]:
    """:func:`postings_digest` of each list of entry ids, all read with one SELECT."""
    owners: dict[int, list[int]] = {}
    for i, entries in enumerate(entry_lists):
        for e in entries:
            owners.setdefault(e, []).append(i)
    hashers = [hashlib.sha256() for _ in entry_lists]
    if owners:
        for row in posting_rows(list(owners)):
            line = digest_line(row).encode()
            for i in owners[row[1]]:
                hashers[i].update(line)
    return [h.hexdigest() for h in hashers]


def _link_entries(audit_id: int, entry_ids: list[int]) -> None:
    """One ``audit_entry`` row per entry (one statement; the unique index refuses a second owner)."""
    _link_pairs([(audit_id, e) for e in entry_ids])


def _link_pairs(pairs: list[tuple[int, int]]) -> None:
    """``audit_entry`` rows (audit id, entry id), one statement per 10,000."""
    for start in range(0, len(pairs), 10_000):
        part = pairs[start:start + 10_000]
        if db.is_postgres():
            db.sql("INSERT INTO audit_entry (audit_id, entry_id) SELECT unnest(CAST({p} AS BIGINT[])), "
                   "unnest(CAST({p} AS BIGINT[]))",
                   [db.pg_array([a for a, _ in part], "BIGINT"), db.pg_array([e for _, e in part], "BIGINT")])
        else:
            db.sql("INSERT INTO audit_entry (audit_id, entry_id) SELECT json_extract(value, '$[0]'), "
                   "json_extract(value, '$[1]') FROM json_each({p})", [json.dumps(part)])


def _stored(value: Any) -> Any:
    """``value`` as the JSON column gives it back (what the hash must cover)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


#: Key of a stored result listing where its amounts were (:class:`Cents`): JSON keeps a plain
#: number, so a result replayed for a retried submit gets its amounts typed again from it.
MONEY_PATHS = "_cents"


def money_paths(value: Any, path: tuple = ()) -> list[list]:
    """The paths (keys and list indexes) of every :class:`Cents` inside ``value``."""
    if isinstance(value, Cents):
        return [list(path)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in money_paths(v, path + (str(k),))]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in money_paths(v, path + (i,))]
    return []


def with_money(stored: dict) -> dict:
    """A stored result with its amounts as :class:`Cents` again (and without the path list)."""
    out = json.loads(json.dumps(stored))
    for path in out.pop(MONEY_PATHS, []):
        *parents, last = path
        holder = out
        try:
            for key in parents:
                holder = holder[key]
            holder[last] = Cents(holder[last])
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return out


def _stored_result(result: dict, typed_money: bool) -> dict:
    stored = _stored(result)
    paths = money_paths(result) if typed_money else []
    if paths:
        stored[MONEY_PATHS] = paths
    return stored


def _chain_head() -> str:
    """The hash of the newest audit event ("" for none), read under the chain's lock (PostgreSQL:
    an advisory lock held to the end of the transaction; SQLite already holds the write lock)."""
    if db.is_postgres():
        db.database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_AUDIT_LOCK,))
    last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
    return last.hash if last else ""


def _append(ev: AuditEvent, entries: list[int], *, commit: bool) -> None:
    """Write ``ev`` at the head of the chain with its journal entries linked to it; ``commit``: the
    workflow's transaction is its own (not a caller's, nor a savepoint in one) and ends here.

    On PostgreSQL the chain's lock is held from here to the commit, and every writer waits for
    it: so after taking it one statement reads the head, writes the event with its hash
    (sha256 of the head's hash and the event's canonical fields, the same text :func:`event_hash`
    hashes) and links the entries, instead of three round trips and the hashing in between;
    and that statement is sent with the lock's and, with ``commit``, the ``COMMIT``, in one
    pipeline (:func:`db.pipelined`): the lock is held for the server's work only, never while
    this process waits for its turn on a busy machine to send the next statement (with 32 clerks on two cores, a third of them were waiting for
    it). The append is the workflow's last write. (The head is read by a statement of its own,
    after the lock's: it sees what was committed once the lock is held.)"""
    if not db.is_postgres():
        _chained(ev, _chain_head()).save()
        _link_entries(ev.id, entries)
        return
    fields = AuditEvent._meta.fields
    values = [fields[name].db_value(ev.__data__.get(name)) for name in _APPENDED]
    cols = ", ".join(f'"{fields[name].column_name}"' for name in _APPENDED)
    ends = [("COMMIT", None)] if commit else []
    _, event, *_ = db.pipelined(
        ("SELECT pg_advisory_xact_lock({p})", (_PG_AUDIT_LOCK,)),
        ("WITH head AS (SELECT COALESCE((SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1), '') AS prev), "
        f"ev AS (INSERT INTO audit_event ({cols}, prev_hash, hash) VALUES ({', '.join(['{p}'] * len(values))}, "
        "(SELECT prev FROM head), encode(sha256(convert_to((SELECT prev FROM head) || CAST({p} AS TEXT), 'UTF8')), "
        "'hex')) RETURNING id, prev_hash, hash), "
        "links AS (INSERT INTO audit_entry (audit_id, entry_id) SELECT ev.id, unnest(CAST({p} AS BIGINT[])) FROM ev) "
        "SELECT id, prev_hash, hash FROM ev",
        [*values, _canonical(hashed_fields(ev)), db.pg_array(entries, "BIGINT")]), *ends)
    ev.id, ev.prev_hash, ev.hash = event.fetchone()


#: The audit event's columns :func:`_append` writes from the event (the chain's two it makes itself).
_APPENDED = ("at", "user", "action", "encounter", "patient", "inputs", "entries", "result", "reason",
             "idempotency_key", "payload_hash", "hash_version", "postings_digest", "client")


def _chained(ev: AuditEvent, prev_hash: str) -> AuditEvent:
    """``ev`` linked after the event whose hash is ``prev_hash``, with its own hash."""
    ev.prev_hash = prev_hash
    ev.hash = event_hash(prev_hash, hashed_fields(ev))
    return ev


def record_system(action: str, inputs: dict) -> int:
    """An audit event for what claimdesk itself does outside a person's workflow (the first admin
    ``init`` registers, the users on file when schema v10 came), recorded under the current
    user with no writer check and no journal entries; its id. Inside the caller's transaction."""
    inputs = jsonable(inputs)
    with db.write_transaction():
        ev = _chained(AuditEvent(
            at=clock.now(), user=current_user(), action=action, inputs=inputs, entries=[], result={}, reason="",
            payload_hash=_payload_hash(action, inputs, None), hash_version=HASH_VERSION,
            postings_digest=postings_digest([]), client=current_client(),
        ), _chain_head())
        ev.save()
    return ev.id


def _payload_hash(action: str, inputs: dict, encounter_id: int | None) -> str:
    return hashlib.sha256(_canonical({"action": action, "inputs": inputs,
                                      "encounter": encounter_id}).encode()).hexdigest()


@dataclasses.dataclass
class Step:
    """One audited item of a set-based workflow (:func:`record_steps`): its inputs, the journal
    entries it posted, what it did, and the encounter and patient it is about."""

    inputs: dict
    entries: list[int]
    result: dict
    encounter_id: int | None = None
    patient_id: int | None = None
    reason: str = ""


def record_steps(action: str, steps: list[Step]) -> list[int]:
    """One hash-chained audit event per step, in order, written set-based (a few statements
    whatever their number) inside the caller's write transaction: each as :func:`run` writes
    one (who, when, inputs, result, its entries with their postings digest, linked to it),
    without an idempotency key. The events' ids. For many items that must each be audited on
    their own (an imported file's claims); the caller's own :func:`run` tells the plugins."""
    if db.database.obj.transaction_depth() == 0:
        raise RuntimeError("workflow.record_steps must run inside a write transaction")
    if not steps:
        return []
    user = users.require_writer()
    digests = postings_digests([step.entries for step in steps])
    at, prev, client = clock.now(), _chain_head(), current_client()
    rows = []
    for step, digest in zip(steps, digests):
        inputs, entries = jsonable(step.inputs), list(step.entries)
        result_text = _json_column({**step.result, "entries": entries})
        ev = types.SimpleNamespace(  # (the fields hashed_fields reads, as an AuditEvent holds them)
            at=at, user=user, action=action, encounter_id=step.encounter_id, patient_id=step.patient_id,
            inputs=inputs, entries=entries, result=json.loads(result_text),  # (as the column gives it back)
            reason=step.reason[:250], idempotency_key=None,
            payload_hash=_payload_hash(action, inputs, step.encounter_id), hash_version=HASH_VERSION,
            postings_digest=digest, prev_hash=prev, client=client)
        ev.hash = prev = event_hash(prev, hashed_fields(ev))
        rows.append((at, user, action, ev.encounter_id, ev.patient_id, _json_column(inputs), _json_column(entries),
                     result_text, ev.reason, None, ev.payload_hash, ev.prev_hash, ev.hash, HASH_VERSION, digest,
                     client))
    ids = insert_ids(AuditEvent, _EVENT_FIELDS, rows)
    _link_pairs([(audit_id, e) for audit_id, step in zip(ids, steps) for e in step.entries])
    return ids


#: The audit event's columns as :func:`record_steps` inserts them (its values already as stored).
_EVENT_FIELDS = ("at", "user", "action", "encounter", "patient", "inputs", "entries", "result", "reason",
                 "idempotency_key", "payload_hash", "prev_hash", "hash", "hash_version", "postings_digest", "client")


def _json_column(value: Any) -> str:
    """``value`` as a JSON column stores it (:class:`~claimdesk.core.models.base.JSONField`)."""
    return AuditEvent.inputs.db_value(value)

def run(action: str, fn: Callable[[], dict], *, inputs: dict | None = None,
        encounter_id: int | None = None, patient_id: int | None = None, reason: str = "",
        idempotency_key: str | None = None, notify: bool = True, typed_money: bool = False) -> dict:
    """Run ``fn`` as one audited, atomic workflow and return its result dict.

    The result gains ``audit_id`` and ``entries`` (journal entry ids posted). With
    ``typed_money`` the audit trail also keeps where the result's :class:`Cents` were, so a
    retried submit gets its amounts back typed (worth its cost for a result of a few dozen
    values, such as an advanced action's; not walked for a 10,000-line batch).
    """
    inputs = jsonable(inputs or {})
    user = current_user()
    payload_hash = _payload_hash(action, inputs, encounter_id)
    own = db.database.obj.transaction_depth() == 0  # (else a caller's transaction goes on after this)

    def body() -> tuple[dict, AuditEvent, bool]:
        users.require_writer()
        if idempotency_key:
            prior = AuditEvent.get_or_none(AuditEvent.idempotency_key == idempotency_key)
            if prior is not None:
                if prior.payload_hash != payload_hash:
                    raise Refused("this submit key was already used for different input; nothing was written",
                                  field="idempotency_key")
                return with_money(prior.result), prior, False
        with ledger.collect_entries() as entry_ids:
            result = fn() or {}
        entries = list(entry_ids)
        digest = postings_digest(entries)
        result = {**result, "entries": entries}
        ev = AuditEvent(
            at=clock.now(), user=user, action=action, encounter=encounter_id,
            patient=patient_id or result.get("patient_id"), inputs=inputs,
            entries=entries, result=_stored_result(result, typed_money), reason=reason[:250], idempotency_key=idempotency_key,
            payload_hash=payload_hash, hash_version=HASH_VERSION, postings_digest=digest, client=current_client())
        _append(ev, entries, commit=own)  # (the last write: it may end the transaction)
        result["audit_id"] = ev.id
        return result, ev, True

    result, ev, fresh = db.run_in_transaction(body)
    result.setdefault("audit_id", ev.id)
    if fresh and notify and db.database.obj.transaction_depth() == 0:
        from claimdesk.core.plugins.host import get_host

        get_host().notify_applied(AppliedEvent(
            action=action, user=user, encounter_id=encounter_id, patient_id=ev.patient_id,
            entry_ids=tuple(result.get("entries", ())), audit_id=ev.id, result=result))
    return result
