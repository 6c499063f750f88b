"""A clerk's process killed with SIGKILL in the middle of a transaction: every workflow is complete or absent.

The worker (tests/crash_worker.py) runs workflow after workflow (patient checks,
credits, EOBs, returned checks) and kills itself right after the N-th SQL statement
that runs inside a transaction, N drawn by this test from a seeded random. Reopening
the database must show clean books (``verify``), every journal entry owned by an
audit event (no half workflow), every audit event's entries present, and exactly the
workflows the worker reported committed: the one in flight is gone without a trace.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from claimdesk.core import db, migrations
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, JournalEntry, Voucher
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register

ROOT = Path(__file__).resolve().parents[1]
KILLS = 10  # per backend
SEED = 20261125
MAX_STATEMENTS = 400  # a kill lands after 1..400 statements: somewhere in the first ~25 workflows


def _owned_entries() -> set[int]:
    return {e for (entries,) in AuditEvent.select(AuditEvent.entries).tuples() for e in entries}


def test_sigkill_mid_transaction_leaves_every_workflow_complete_or_absent(db_url):
    db.connect(db_url)
    migrations.upgrade()
    register("setup", "crash-clerk")
    with as_user("setup"):
        pat = b.patient()
        medicare = b.payer("Medicare", "medicare")
        b.encounter(pat, [5_000_00, 90_00], payers=[medicare])  # (an audited workflow)
    db.close()
    rng = random.Random(SEED)
    reported_total, kills = 0, []
    for _ in range(KILLS):
        kill_after = rng.randint(1, MAX_STATEMENTS)
        proc = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", db_url, str(pat.id), str(medicare.id),
                                 str(kill_after)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, err  # it killed itself, mid-transaction
        seen = sum(1 for line in out.splitlines() if line.startswith("done "))
        reported_total += seen
        kills.append((kill_after, seen))
        db.connect(db_url)
        assert verify() == [], kills
        entries = {e.id for e in JournalEntry.select(JournalEntry.id)}
        owned = _owned_entries()
        assert entries == owned, "a journal entry without its audit event, or an event without its entries"
        workflows = AuditEvent.select().where(AuditEvent.user == "crash-clerk").count()
        assert workflows == reported_total, kills  # every reported commit is there; the one in flight is not
        db.close()
    assert len(kills) == KILLS and len({n for n, _ in kills}) > 1
    db.connect(db_url)
    assert Voucher.select().where(Voucher.status == "returned").count() > 0  # the stream reached the returns
    db.close()
