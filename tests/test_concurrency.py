"""Several clerks (processes) working at once, released together by a barrier.

1. Four clerks draw on one check: it is never overdrawn.
2. Four clerks, each with a check of their own, auto-apply credits to the same
   patient's open charges: no split below zero, no update lost, every cent accounted for.
"""

from __future__ import annotations

import multiprocessing as mp

from peewee import fn

from claimdesk.core import db, migrations
from claimdesk.core.context import as_user
from claimdesk.core.models import ChargeSplit, Credit, Posting, Voucher
from claimdesk.core.services import balances
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register
from tests.concurrency_worker import auto_apply_many, draw_many

CLERKS = 4
ATTEMPTS = 12  # 48 tries at $1.00 against a $30.00 check


def run_clerks(target, url: str, per_clerk: list[tuple]) -> list[dict]:
    """Start one process per clerk (``target(url, clerk, barrier, results, *args)``); all pass one
    barrier after connecting, so their work overlaps; return what each reported."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(per_clerk)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, f"clerk{i}", barrier, results, *args))
             for i, args in enumerate(per_clerk)]
    for p in procs:
        p.start()
    out = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    crashes = [r["crash"] for r in out if "crash" in r]
    assert not crashes, crashes[0]
    return sorted(out, key=lambda r: r["clerk"])


def setup(url: str):
    db.connect(url)
    migrations.upgrade()
    register("setup", *[f"clerk{i}" for i in range(CLERKS)])
    return as_user("setup")


def test_concurrent_clerks_never_overdraw_a_voucher(db_url):
    with setup(db_url):
        pat = b.patient()
        vid = b.voucher(b.payer("Medicare", "medicare"), 30_00)
    db.close()
    results = run_clerks(draw_many, db_url, [(pat.id, vid, ATTEMPTS)] * CLERKS)
    db.connect(db_url)
    posted = sum(r["posted"] for r in results)
    assert posted == 30
    assert sum(r["refused"] for r in results) == CLERKS * ATTEMPTS - 30
    assert balances.voucher_undistributed(vid) == 0
    assert Credit.select().where(Credit.voucher == vid).count() == 30
    assert sum(balances.credit_unapplied(c.id) for c in Credit.select()) == 30_00
    assert verify() == []


FEES = [30_00, 25_00, 20_00, 15_00, 10_00]  # $100.00 open, self-pay
CHECK = 30_00  # each clerk's own patient check: $120.00 in all
CREDITS = 10  # per clerk, $3.00 each


def test_concurrent_auto_apply_on_one_patients_charges_loses_nothing(db_url, backend):
    with setup(db_url):
        pat = b.patient()
        made = {"charges": [c.id for c in b.encounter(pat, FEES)[1]]}  # (an audited workflow)
        checks = [b.voucher(None, CHECK) for _ in range(CLERKS)]
    db.close()
    # clerks 0 and 2 keep what is left on the patient's account; 1 and 3 send it back to their check
    results = run_clerks(auto_apply_many, db_url,
                         [(pat.id, checks[i], CREDITS, "3.00", i % 2 == 0) for i in range(CLERKS)])
    db.connect(db_url)
    applied = sum(r["applied"] for r in results)
    refusals = [m for r in results for m in r["refusals"]]
    # SQLite serializes writers (BEGIN IMMEDIATE); on PostgreSQL a credit entry locks its patient
    # first, so clerks paying the same patient wait for each other: nobody is refused.
    assert refusals == []
    splits = list(ChargeSplit.select().where(ChargeSplit.charge.in_(made["charges"])))
    assert all(s.balance >= 0 for s in splits)
    # no lost update: what the clerks were told was applied is what the ledger holds, to the cent
    paid = -(Posting.select(fn.SUM(Posting.amount)).where(
        (Posting.account == "AR") & Posting.charge.in_(made["charges"]) & (Posting.amount < 0)).scalar() or 0)
    assert paid == applied
    assert sum(s.balance for s in splits) == sum(FEES) - applied
    if not refusals:  # $120.00 offered oldest first against $100.00 open: all of it paid
        assert applied == sum(FEES)
    # every cent of the four checks: applied, kept on the account, or still on a check
    kept = sum(balances.credit_unapplied(c.id) for c in Credit.select())
    assert kept == sum(r["kept"] for r in results if int(r["clerk"][-1]) % 2 == 0)
    undistributed = sum(v.undistributed for v in Voucher.select().where(Voucher.id.in_(checks)))
    assert applied + kept + undistributed == CLERKS * CHECK
    assert sum(r["posted"] for r in results) + len(refusals) == CLERKS * CREDITS
    assert verify() == []
