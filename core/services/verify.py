"""``claimdesk verify``: recompute every balance from the ledger and check the invariants.

Each check is one set-based query, so it runs on a million charges in seconds.
A clean database returns no violations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types

from peewee import SQL, fn

from claimdesk.core import db, workflow
from claimdesk.core.errors import InputError
from claimdesk.core.models import (
    AgingRow, Charge, ChargeSplit, Credit, JournalEntry, Posting, Voucher,
)


@dataclasses.dataclass
class Violation:
    """One broken invariant, said plainly."""

    check: str
    message: str

    def as_dict(self) -> dict:
        return {"check": self.check, "message": self.message}


def _sums(account: str, dim):
    return dict(Posting.select(dim, fn.SUM(Posting.amount)).where(
        (Posting.account == account) & dim.is_null(False)).group_by(dim).tuples())


def check_entries() -> list[Violation]:
    """Every entry balances to zero and has postings; all debits equal all credits."""
    out = [Violation("balanced", f"journal entry {e} does not balance (off by {s} cents)")
           for e, s in Posting.select(Posting.entry, fn.SUM(Posting.amount)).group_by(Posting.entry)
           .having(fn.SUM(Posting.amount) != 0).tuples()]
    empty = (JournalEntry.select(JournalEntry.id)
             .where(~fn.EXISTS(Posting.select(SQL("1")).where(Posting.entry == JournalEntry.id))))
    out += [Violation("balanced", f"journal entry {e.id} has no postings") for e in empty]
    total = Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).scalar() or 0
    if total:
        out.append(Violation("balanced", f"total debits and credits differ by {total} cents"))
    return out


def check_splits() -> list[Violation]:
    """Cached split balances equal their AR postings; none below zero."""
    ledger_bal = _sums("AR", Posting.split)
    out = []
    for sid, cached in ChargeSplit.select(ChargeSplit.id, ChargeSplit.balance).tuples():
        real = int(ledger_bal.get(sid, 0))
        if real != cached:
            out.append(Violation("split", f"charge split {sid}: cached balance {cached} != ledger {real}"))
        if real < 0:
            out.append(Violation("split", f"charge split {sid} is below zero ({real})"))
    return out


def check_charges() -> list[Violation]:
    """fee = payments + adjustments + write-offs + open balance, for every charge; a void
    charge's revenue is zero (its charge entry reversed)."""
    out = []
    revenue = _sums("REVENUE", Posting.charge)
    net = dict(Posting.select(Posting.charge, fn.SUM(Posting.amount)).where(Posting.charge.is_null(False))
               .group_by(Posting.charge).tuples())
    for cid, fee, status in Charge.select(Charge.id, Charge.fee, Charge.status).tuples():
        expected = 0 if status == "void" else fee
        if int(-revenue.get(cid, 0)) != expected:
            void = " (void)" if status == "void" else ""
            out.append(Violation("charge", f"charge {cid}{void}: fee {expected} but revenue posted "
                                           f"{-revenue.get(cid, 0)}"))
        if int(net.get(cid, 0)) != 0:
            out.append(Violation("charge", f"charge {cid}: fee != payments + adjustments + open balance "
                                           f"(off by {net.get(cid)} cents)"))
    return out


def check_vouchers() -> list[Violation]:
    """amount = drawn by credits + undistributed (>= 0) − payer-level money (835 PLB and carried
    reversals: what the payer kept is a debit); cache equals the ledger."""
    out = []
    undist = _sums("UNDISTRIBUTED", Posting.voucher)
    cash = _sums("CASH", Posting.voucher)
    payer_level = _sums("PAYER_LEVEL", Posting.voucher)
    payable = _sums("REFUNDS_PAYABLE", Posting.voucher)  # refunds and recoupments held (credit balance)
    refunded = _refunded_cash()
    drawn = dict(Posting.select(Posting.voucher, fn.SUM(Posting.amount))
                 .where((Posting.account == "UNAPPLIED") & Posting.credit_split.is_null(True))
                 .group_by(Posting.voucher).tuples())
    for vid, amount, cached, status in Voucher.select(
            Voucher.id, Voucher.amount, Voucher.undistributed, Voucher.status).tuples():
        u = -int(undist.get(vid, 0))
        c = int(cash.get(vid, 0))
        d = -int(drawn.get(vid, 0))
        kept = int(payer_level.get(vid, 0))
        held = -int(payable.get(vid, 0))
        out_cash = refunded.get(vid, 0)  # (refunds paid out of this voucher's money: negative)
        if u != cached:
            out.append(Violation("voucher", f"voucher {vid}: cached undistributed {cached} != ledger {u}"))
        if u < 0:
            out.append(Violation("voucher", f"voucher {vid}: undistributed below zero ({u})"))
        expected = (0 if status == "returned" else amount) + out_cash
        if c != expected:
            refund_text = f" - refunded {-out_cash}" if out_cash else ""
            out.append(Violation("voucher", f"voucher {vid}: cash {c} != amount {amount if status != 'returned' else 0}"
                                            f"{refund_text}"))
        if c != d + u - kept + held:
            kept_text = f" - payer-level {kept}" if kept else ""
            held_text = f" + refunds payable {held}" if held else ""
            out.append(Violation("voucher", f"voucher {vid}: amount {c} != drawn {d} + undistributed {u}{kept_text}"
                                            f"{held_text}"))
    return out


def _refunded_cash() -> dict[int, int]:
    """voucher id -> the CASH the refunds issued from its money took out (negative): the issue
    entries of the refunds issued (a reversed refund's issue and its reversal net to nothing;
    check_refunds holds each refund's status to its entries)."""
    if not db.database.table_exists("refund"):  # (a database before schema v11)
        return {}
    rows = db.sql("SELECT p.voucher_id, SUM(p.amount) FROM refund r JOIN posting p ON p.entry_id = r.settle_entry_id "
                  "WHERE r.status = 'issued' AND p.account = 'CASH' AND p.voucher_id IS NOT NULL "
                  "GROUP BY p.voucher_id")
    return {vid: int(total) for vid, total in rows}


def _entry_sums(entry_ids: list[int]) -> dict[tuple[int, str], int]:
    """(entry id, account) -> the sum of its postings, for ``entry_ids`` (read by the entry index)."""
    out: dict[tuple[int, str], int] = {}
    for start in range(0, len(entry_ids), 2000):
        among, params = db.ids_in(entry_ids[start:start + 2000])
        for entry_id, account, total in db.sql(f"SELECT entry_id, account, SUM(amount) FROM posting "
                                               f"WHERE entry_id {among} GROUP BY entry_id, account", params):
            out[(entry_id, account)] = int(total)
    return out


def _reversals_of(entry_ids: list[int]) -> dict[int, int]:
    """original entry id -> the entry reversing it, for those of ``entry_ids`` reversed."""
    out: dict[int, int] = {}
    for start in range(0, len(entry_ids), 2000):
        among, params = db.ids_in(entry_ids[start:start + 2000])
        out.update({orig: rid for rid, orig in db.sql(
            f"SELECT id, reverses_id FROM journal_entry WHERE reverses_id {among}", params)})
    return out


def check_refunds() -> list[Violation]:
    """Every refund is what its entries did: its request moved its amount into REFUNDS_PAYABLE;
    an issued one paid it out of CASH, a recouped one carried it to PAYER_LEVEL; a reversed one
    has its entries reversed; one awaiting (approval or recoupment) still holds it. REFUNDS_PAYABLE
    holds exactly what the refunds awaiting hold, and only refund entries (and their reversals)
    touch it."""
    if not db.database.table_exists("refund"):  # (a database before schema v11)
        return []
    out: list[Violation] = []
    refunds = db.sql("SELECT id, status, amount, request_entry_id, settle_entry_id FROM refund ORDER BY id").fetchall()
    owned = sorted({e for r in refunds for e in r[3:] if e is not None})
    sums = _entry_sums(owned)
    reversed_by = _reversals_of(owned)
    held_total = 0
    for rid, status, amount, request, settle in refunds:
        if request is None or sums.get((request, "REFUNDS_PAYABLE"), 0) != -amount:
            out.append(Violation("refund", f"refund {rid}: its request entry does not move {amount} cents into "
                                           f"REFUNDS_PAYABLE"))
        if status in ("issued", "recouped"):
            account = "CASH" if status == "issued" else "PAYER_LEVEL"
            if settle is None or sums.get((settle, "REFUNDS_PAYABLE"), 0) != amount \
                    or sums.get((settle, account), 0) != -amount:
                out.append(Violation("refund", f"refund {rid} ({status}): its entry does not pay {amount} cents out "
                                               f"of REFUNDS_PAYABLE to {account}"))
        elif status == "reversed":
            if any(e is not None and e not in reversed_by for e in (request, settle)):
                out.append(Violation("refund", f"refund {rid} is marked reversed but its entries are not"))
        else:
            held_total += amount
            if settle is not None:
                out.append(Violation("refund", f"refund {rid} ({status}) has a settling entry {settle}"))
        if status != "reversed" and any(e in reversed_by for e in (request, settle) if e is not None):
            out.append(Violation("refund", f"refund {rid} is {status} but its entries were reversed"))
    allowed = set(owned) | set(reversed_by.values())
    total, stray = 0, []
    for entry_id, amount in db.sql("SELECT entry_id, SUM(amount) FROM posting WHERE account = 'REFUNDS_PAYABLE' "
                                   "GROUP BY entry_id ORDER BY entry_id"):
        total += int(amount)
        if entry_id not in allowed:
            stray.append(entry_id)
    if -total != held_total:
        out.append(Violation("refund", f"REFUNDS_PAYABLE holds {-total} cents but the refunds awaiting hold "
                                       f"{held_total}"))
    if stray:
        out.append(Violation("refund", f"journal entr{'y' if len(stray) == 1 else 'ies'} "
                                       f"{_named(stray[:_NAMED], len(stray))} move REFUNDS_PAYABLE money but belong "
                                       f"to no refund"))
    return out


def check_credits() -> list[Violation]:
    """drawn = applied + unapplied (>= 0); cache equals the ledger."""
    out = []
    unapplied = _sums("UNAPPLIED", Posting.credit)
    for cid, cached in Credit.select(Credit.id, Credit.unapplied).tuples():
        u = -int(unapplied.get(cid, 0))
        if u != cached:
            out.append(Violation("credit", f"credit {cid}: cached unapplied {cached} != ledger {u}"))
        if u < 0:
            out.append(Violation("credit", f"credit {cid}: applied more than it drew (unapplied {u})"))
    return out


def check_reversals() -> list[Violation]:
    """A reversal mirrors what it reverses, and never reverses a reversal."""
    out = []
    pairs = JournalEntry.select(JournalEntry.id, JournalEntry.reverses).where(JournalEntry.reverses.is_null(False))
    for rid, oid in pairs.tuples():
        orig = JournalEntry.get_or_none(JournalEntry.id == oid)
        if orig is None:
            out.append(Violation("reversal", f"entry {rid} reverses missing entry {oid}"))
            continue
        if orig.reverses_id is not None:
            out.append(Violation("reversal", f"entry {rid} reverses entry {oid}, itself a reversal"))

        def shape(eid, sign):
            return sorted((p.account, sign * p.amount, p.split_id, p.voucher_id, p.credit_id, p.charge_id)
                          for p in Posting.select().where(Posting.entry == eid))

        if shape(rid, 1) != shape(oid, -1):
            out.append(Violation("reversal", f"entry {rid} does not mirror entry {oid}"))
    return out


def check_aging() -> list[Violation]:
    """Every aging row's buckets add up to its total."""
    rows = AgingRow.select().where(
        (AgingRow.current + AgingRow.days_31_60 + AgingRow.days_61_90 + AgingRow.days_91_120
         + AgingRow.over_120) != AgingRow.total)
    return [Violation("aging", f"aging row {r.id}: buckets do not add up to total") for r in rows]


def check_imports() -> list[Violation]:
    """Every claim imported from an 837P file names the encounter it became, that encounter holds
    its claim number, and the audit event that imported it is that encounter's ``claim.import``."""
    if not db.database.table_exists("imported_claim"):  # (a database before schema v8)
        return []
    rows = db.sql("SELECT ic.claim_no, ic.encounter_id, ic.audit_id, e.claim_no, a.action, a.encounter_id "
                  "FROM imported_claim ic LEFT JOIN encounter e ON e.id = ic.encounter_id "
                  "LEFT JOIN audit_event a ON a.id = ic.audit_id "
                  "WHERE e.claim_no IS NULL OR e.claim_no <> ic.claim_no OR a.action IS NULL "
                  "OR a.action <> 'claim.import' OR a.encounter_id IS NULL OR a.encounter_id <> ic.encounter_id "
                  f"ORDER BY ic.id LIMIT {_NAMED}")
    out = []
    for claim_no, encounter_id, audit_id, held, action, audited in rows:
        if held != claim_no:
            out.append(Violation("import", f"imported claim {claim_no}: encounter {encounter_id} holds claim number "
                                           f"{held!r}"))
        else:
            out.append(Violation("import", f"imported claim {claim_no}: audit event {audit_id} ({action or 'missing'}) "
                                           f"is not the import of encounter {encounter_id}"))
    return out


#: Events whose entries' postings are re-read per query when recomputing digests.
_DIGEST_CHUNK_ENTRIES = 20_000
#: Entries named one by one before a check says "and N more".
_NAMED = 20
_AUDIT_COLUMNS = ("id", "at", "user", "action", "encounter_id", "patient_id", "inputs", "entries", "result",
                  "reason", "idempotency_key", "payload_hash", "prev_hash", "hash", "hash_version",
                  "postings_digest", "client")
_JSON_COLUMNS = ("inputs", "entries", "result")


@dataclasses.dataclass
class AuditSummary:
    """What the audit checks saw: how many events, the chain head, and what was not digest-checked."""

    events: int = 0
    head: tuple[int, str] | None = None
    undigested: int = 0  # events written before schema v3 (hash version 1): no postings digest

    def head_text(self) -> str:
        return f"{self.head[0]}:{self.head[1]}" if self.head else "(no audit events)"


@dataclasses.dataclass
class Report:
    """``verify``'s full answer: the violations plus the audit summary."""

    violations: list[Violation]
    audit: AuditSummary

    @property
    def ok(self) -> bool:
        return not self.violations


def parse_head(text: str) -> tuple[int | None, str]:
    """A kept chain head, ``HASH`` or ``ID:HASH`` (as ``claimdesk verify`` prints it)."""
    raw = (text or "").strip()
    ident, _, digest = raw.rpartition(":")
    digest = digest.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise InputError({"expect_head": ["must be the chain head verify printed: ID:HASH or HASH "
                                          "(HASH is 64 hexadecimal characters)"]})
    if not ident:
        return None, digest
    if not ident.isascii() or not ident.isdigit() or len(ident) > 18 or int(ident) < 1:
        raise InputError({"expect_head": [f"the audit id before ':' must be a whole number, got {ident[:40]!r}"]})
    return int(ident), digest


def _named(ids: list[int], total: int) -> str:
    more = f" and {total - len(ids)} more" if total > len(ids) else ""
    return ", ".join(map(str, ids)) + more


def _events():
    """Every audit event in id order, JSON columns parsed leniently (an edit may have broken them)."""
    cols = ", ".join(f'"{c}"' for c in _AUDIT_COLUMNS)
    cursor = db.sql(f"SELECT {cols} FROM audit_event ORDER BY id")
    for row in cursor:
        ev = types.SimpleNamespace(**dict(zip(_AUDIT_COLUMNS, row)), bad_json=[])
        for col in _JSON_COLUMNS:
            try:
                setattr(ev, col, json.loads(getattr(ev, col)) if getattr(ev, col) is not None else None)
            except (TypeError, ValueError):
                ev.bad_json.append(col)
        yield ev


def _replicated_ranges(ev) -> list[tuple[int, int]]:
    """Journal-entry id ranges (lo, hi] a ``demo.replicate`` event made by copying the base block
    (see core/demo/scale_up.py: copy k of entry i is i + k * M)."""
    if ev.action != "demo.replicate" or not isinstance(ev.result, dict):
        return []
    base, copies = (ev.result.get("base_max_ids") or {}).get("journal_entry"), ev.result.get("copies")
    if type(base) is not int or type(copies) is not int or base < 1 or copies < 1:
        return []
    return [(base, base * (copies + 1))]


class _AuditChecker:
    """One pass over the events in id order: chain, hash, postings digest, entry ownership."""

    def __init__(self, expect_head: str | None):
        self.expected = parse_head(expect_head) if expect_head is not None else None
        self.head_found = False
        self.out: list[Violation] = []
        self.summary = AuditSummary()
        self.ranges: list[tuple[int, int, int]] = []  # (lo, hi, audit id) of replicated entries
        self.pending: list = []
        self.pending_entries = 0

    def run(self) -> tuple[list[Violation], AuditSummary]:
        prev, newest_version = "", 0
        for ev in _events():
            self.summary.events += 1
            if ev.prev_hash != prev:
                self.out.append(Violation("audit", f"audit event {ev.id} does not link to the event before it"))
            if ev.bad_json:
                self.out.append(Violation("audit", f"audit event {ev.id} was altered ({', '.join(ev.bad_json)} "
                                                   f"is not valid JSON)"))
            elif ev.hash_version not in workflow.HASH_VERSIONS:
                self.out.append(Violation("audit", f"audit event {ev.id} has an unknown hash version "
                                                   f"{ev.hash_version!r} (altered)"))
            elif workflow.event_hash(ev.prev_hash, workflow.hashed_fields(ev)) != ev.hash:
                self.out.append(Violation("audit", f"audit event {ev.id} was altered (hash mismatch)"))
            if ev.hash_version == 1:
                self.summary.undigested += 1
                if newest_version > 1:
                    self.out.append(Violation("audit", f"audit event {ev.id} claims the pre-v3 hash format "
                                                       f"after newer events (downgraded)"))
            elif isinstance(ev.hash_version, int):
                newest_version = max(newest_version, ev.hash_version)
            self._check_head(ev)
            self.ranges += [(lo, hi, ev.id) for lo, hi in _replicated_ranges(ev)]
            entries = ev.entries if isinstance(ev.entries, list) else []
            self.pending.append((ev, entries))
            self.pending_entries += len(entries)
            if self.pending_entries >= _DIGEST_CHUNK_ENTRIES:
                self._flush()
            prev = ev.hash
            self.summary.head = (ev.id, ev.hash)
        self._flush()
        if self.expected is not None and not self.head_found:
            ident, digest = self.expected
            kept = f"{ident}:{digest}" if ident else digest
            self.out.append(Violation("audit", f"the audit chain no longer holds the head you kept ({kept}): "
                                               f"events were removed from its end or rewritten"))
        self._check_owners()
        return self.out, self.summary

    def _check_head(self, ev) -> None:
        if self.expected is None or self.head_found:
            return
        ident, digest = self.expected
        if ev.hash == digest:
            self.head_found = True
            if ident is not None and ident != ev.id:
                self.out.append(Violation("audit", f"the head you kept names audit event {ident}, but its hash "
                                                   f"is on audit event {ev.id} (events renumbered)"))
        elif ident == ev.id:
            self.head_found = True
            self.out.append(Violation("audit", f"audit event {ev.id} is not the head you kept: its hash differs "
                                               f"(the chain was rewritten from there)"))

    def _flush(self) -> None:
        """Recompute the digests and compare the entry links of the pending events."""
        if not self.pending:
            return
        events, self.pending, self.pending_entries = self.pending, [], 0
        lo, hi = events[0][0].id, events[-1][0].id
        links: dict[int, list[int]] = {}
        for audit_id, entry_id in db.sql("SELECT audit_id, entry_id FROM audit_entry WHERE audit_id >= {p} "
                                         "AND audit_id <= {p} ORDER BY audit_id, entry_id", [lo, hi]):
            links.setdefault(audit_id, []).append(entry_id)
        owners: dict[int, list[int]] = {}
        digested = [(ev, entries) for ev, entries in events if ev.hash_version != 1]
        for ev, entries in digested:
            for e in entries:
                owners.setdefault(e, []).append(ev.id)
        hashers = {ev.id: hashlib.sha256() for ev, _ in digested}
        ids = [e for e in owners if type(e) is int]
        if ids:
            for row in workflow.posting_rows(ids):
                line = workflow.digest_line(row).encode()
                for audit_id in owners.get(row[1], ()):
                    hashers[audit_id].update(line)
        for ev, _ in digested:
            if hashers[ev.id].hexdigest() != ev.postings_digest:
                self.out.append(Violation("audit", f"audit event {ev.id}: its journal entries' postings are not "
                                                   f"what it recorded (postings digest mismatch)"))
        for ev, entries in events:
            listed = sorted(e for e in entries if type(e) is int)
            linked = links.get(ev.id, [])
            if listed != linked:
                missing = sorted(set(listed) - set(linked))
                extra = sorted(set(linked) - set(listed))
                what = []
                if missing:
                    what.append(f"lists entries {_named(missing[:_NAMED], len(missing))} not linked to it")
                if extra:
                    what.append(f"is linked to entries {_named(extra[:_NAMED], len(extra))} it does not list")
                self.out.append(Violation("audit", f"audit event {ev.id} " + " and ".join(what or ["disagrees "
                                                   "with its entry links"])))

    def _check_owners(self) -> None:
        """Every journal entry belongs to exactly one audit event."""
        outside = "".join(" AND NOT (je.id > {p} AND je.id <= {p})" for _ in self.ranges)
        params = [v for lo, hi, _ in self.ranges for v in (lo, hi)]
        base = ("FROM journal_entry je WHERE NOT EXISTS (SELECT 1 FROM audit_entry ae WHERE ae.entry_id = je.id)"
                + outside)
        total = db.sql("SELECT COUNT(*) " + base, params).fetchone()[0]
        if total:
            ids = [r[0] for r in db.sql("SELECT je.id " + base + f" ORDER BY je.id LIMIT {_NAMED}", params)]
            self.out.append(Violation("audit", f"journal entr{'y' if total == 1 else 'ies'} "
                                               f"{_named(ids, total)} belong{'s' if total == 1 else ''} to no audit "
                                               f"event (written outside a workflow, or the event was deleted)"))
        for lo, hi, audit_id in self.ranges:
            twice = db.sql("SELECT entry_id, audit_id FROM audit_entry WHERE entry_id > {p} AND entry_id <= {p} "
                           f"ORDER BY entry_id LIMIT {_NAMED}", [lo, hi]).fetchall()
            for entry_id, other in twice:
                self.out.append(Violation("audit", f"journal entry {entry_id} belongs to audit event {other} and "
                                                   f"to the demo copy of audit event {audit_id}"))


def check_audit_chain(expect_head: str | None = None) -> list[Violation]:
    """Audit events are hash-chained and hash true; their postings and entries are what they recorded;
    every journal entry belongs to exactly one of them."""
    return _AuditChecker(expect_head).run()[0]


def check_guards() -> list[Violation]:
    """The append-only guards are in place: each ledger and audit table keeps its triggers (SQLite:
    ``<table>_no_update`` and ``<table>_no_delete``; PostgreSQL: ``<table>_append_only``, enabled).
    Someone who can write the database could drop them, rewrite rows and put them back; the
    hash chain and digests name the rewrite, this names a guard left off."""
    from claimdesk.core.migrations import APPEND_ONLY

    if db.is_postgres():
        present = {t: 1 for (t,) in db.sql(
            "SELECT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
            "WHERE g.tgname = c.relname || '_append_only' AND g.tgenabled <> 'D'")}
        missing = [t for t in APPEND_ONLY if t not in present]
    else:
        names = {n for (n,) in db.sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        missing = [t for t in APPEND_ONLY if not {f"{t}_no_update", f"{t}_no_delete"} <= names]
    return [Violation("guard", f"the append-only guard of {t} is missing or switched off (its rows could be "
                               f"rewritten): restore it with `claimdesk db upgrade`") for t in missing]


def check_users() -> list[Violation]:
    """The user table is what the audited user changes made it: every user was registered by an
    audited change (``user.baseline``, ``user.bootstrap``, ``user.save``), and their role and active
    flag are those of the latest one. A role raised or an admin inserted straight into the table
    is named (the audit chain check names an event rewritten to match)."""
    from claimdesk.core.users import USER_ACTIONS

    expected: dict[str, tuple[str, bool]] = {}
    where, params = db.texts_in(list(USER_ACTIONS))
    for action, inputs in db.sql(f"SELECT action, inputs FROM audit_event WHERE action {where} ORDER BY id",
                                 params):
        try:
            data = json.loads(inputs) if isinstance(inputs, str) else inputs
            rows = data["users"] if action == "user.baseline" else [data]
            for row in rows:
                expected[row["username"]] = (row["role"], bool(row.get("active", True)))
        except (ValueError, TypeError, KeyError):
            continue  # (an altered event: the chain check names it)
    out = []
    for username, role, active in db.sql('SELECT username, role, active FROM "user" ORDER BY id'):
        state = (role, bool(active))
        if username not in expected:
            out.append(Violation("user", f"user {username} ({role}) was not added through claimdesk: no audited "
                                         f"change registers them"))
        elif expected[username] != state:
            want_role, want_active = expected[username]
            out.append(Violation("user", f"user {username} is {role}{'' if active else ' (inactive)'} in the user "
                                         f"table, but the audit trail made them {want_role}"
                                         f"{'' if want_active else ' (inactive)'}"))
    return out


CHECKS = (check_entries, check_splits, check_charges, check_vouchers, check_credits, check_refunds,
          check_reversals, check_aging, check_imports, check_guards, check_users, check_audit_chain)


def report(expect_head: str | None = None) -> Report:
    """Run every check; with ``expect_head`` (``ID:HASH`` or ``HASH`` kept off the machine) also
    check that the audit chain still holds that event, so a cut tail is caught."""
    checker = _AuditChecker(expect_head)  # a bad expect_head is refused before any work
    out: list[Violation] = []
    for check in CHECKS[:-1]:
        out += check()
    audit_out, summary = checker.run()
    return Report(out + audit_out, summary)


def verify(expect_head: str | None = None) -> list[Violation]:
    """Run every check; an empty list means the books are clean."""
    return report(expect_head).violations
