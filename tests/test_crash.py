"""A clerk's process killed with SIGKILL mid-stream: every workflow is complete or absent.

The worker (tests/crash_worker.py) commits workflow after workflow; the test kills
it right after a randomly chosen commit is reported, while the next workflow is
in flight. Reopening the database must show clean books (`verify`), every journal
entry owned by an audit event (no half workflow), and at least every workflow the
worker reported.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from claimdesk.core import db, schema
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, JournalEntry
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register

ROOT = Path(__file__).resolve().parents[1]
KILLS = 4


def _owned_entries() -> set[int]:
    return {e for (entries,) in AuditEvent.select(AuditEvent.entries).tuples() for e in entries}


def test_sigkill_mid_stream_leaves_every_workflow_complete_or_absent(db_url):
    db.connect(db_url)
    schema.upgrade()
    register("setup", "crash-clerk")
    with as_user("setup"):
        pat = b.patient()
        medicare = b.payer("Medicare", "medicare")
        b.encounter(pat, [5_000_00, 90_00], payers=[medicare])  # built directly, not audited
        setup_entries = {e.id for e in JournalEntry.select(JournalEntry.id)}
    db.close()
    rng = random.Random(20261125)
    reported_total = 0
    for _ in range(KILLS):
        kill_after = rng.randint(3, 25)
        proc = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", db_url, str(pat.id), str(medicare.id)],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT.parent)})
        seen = 0
        for line in proc.stdout:
            if line.startswith("done "):
                seen += 1
                if seen == kill_after:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
        reported_total += seen
        db.connect(db_url)
        assert verify() == []
        entries = {e.id for e in JournalEntry.select(JournalEntry.id)} - setup_entries
        assert entries <= _owned_entries(), "a journal entry without its audit event: half a workflow"
        workflows = AuditEvent.select().where(AuditEvent.user == "crash-clerk").count()
        assert workflows >= reported_total  # the worker may have run ahead of what the pipe showed us
        assert _owned_entries() <= entries | setup_entries, "an audit event whose entries are missing"
        db.close()
