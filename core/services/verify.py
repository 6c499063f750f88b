"""``claimdesk verify``: recompute every balance from the ledger and check the invariants.

Each check is one set-based query, so it runs on a million charges in seconds.
A clean database returns no violations.
"""

from __future__ import annotations

import dataclasses

from peewee import SQL, fn

from claimdesk.core import workflow
from claimdesk.core.models import (
    AgingRow, AuditEvent, Charge, ChargeSplit, Credit, JournalEntry, Posting, Voucher,
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
    """fee = payments + adjustments + write-offs + open balance, for every charge."""
    out = []
    revenue = _sums("REVENUE", Posting.charge)
    net = dict(Posting.select(Posting.charge, fn.SUM(Posting.amount)).where(Posting.charge.is_null(False))
               .group_by(Posting.charge).tuples())
    for cid, fee in Charge.select(Charge.id, Charge.fee).tuples():
        if int(-revenue.get(cid, 0)) != fee:
            out.append(Violation("charge", f"charge {cid}: fee {fee} but revenue posted {-revenue.get(cid, 0)}"))
        if int(net.get(cid, 0)) != 0:
            out.append(Violation("charge", f"charge {cid}: fee != payments + adjustments + open balance "
                                           f"(off by {net.get(cid)} cents)"))
    return out


def check_vouchers() -> list[Violation]:
    """amount = drawn by credits + undistributed (>= 0); cache equals the ledger."""
    out = []
    undist = _sums("UNDISTRIBUTED", Posting.voucher)
    cash = _sums("CASH", Posting.voucher)
    drawn = dict(Posting.select(Posting.voucher, fn.SUM(Posting.amount))
                 .where((Posting.account == "UNAPPLIED") & Posting.credit_split.is_null(True))
                 .group_by(Posting.voucher).tuples())
    for vid, amount, cached, status in Voucher.select(
            Voucher.id, Voucher.amount, Voucher.undistributed, Voucher.status).tuples():
        u = -int(undist.get(vid, 0))
        c = int(cash.get(vid, 0))
        d = -int(drawn.get(vid, 0))
        if u != cached:
            out.append(Violation("voucher", f"voucher {vid}: cached undistributed {cached} != ledger {u}"))
        if u < 0:
            out.append(Violation("voucher", f"voucher {vid}: undistributed below zero ({u})"))
        expected = 0 if status == "returned" else amount
        if c != expected:
            out.append(Violation("voucher", f"voucher {vid}: cash {c} != amount {expected}"))
        if c != d + u:
            out.append(Violation("voucher", f"voucher {vid}: amount {c} != drawn {d} + undistributed {u}"))
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


def check_audit_chain() -> list[Violation]:
    """Audit events are hash-chained: each links to the one before and hashes true."""
    out, prev = [], ""
    for ev in AuditEvent.select().order_by(AuditEvent.id).iterator():
        if ev.prev_hash != prev:
            out.append(Violation("audit", f"audit event {ev.id} does not link to the event before it"))
        if workflow.event_hash(ev.prev_hash, workflow.hashed_fields(ev)) != ev.hash:
            out.append(Violation("audit", f"audit event {ev.id} was altered (hash mismatch)"))
        prev = ev.hash
    return out


CHECKS = (check_entries, check_splits, check_charges, check_vouchers, check_credits,
          check_reversals, check_aging, check_audit_chain)


def verify() -> list[Violation]:
    """Run every check; an empty list means the books are clean."""
    out: list[Violation] = []
    for check in CHECKS:
        out += check()
    return out
