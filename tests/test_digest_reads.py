"""Recording a workflow's audit event reads back only the postings and entries it covers.

Every write ends by reading its own postings back for the event's postings digest
(``workflow.posting_rows``). That read must stay an index lookup of the few entries asked
for, on a clinic of any size: given only the postings' side, PostgreSQL guessed dozens of
postings an entry and, on a clinic of some thousand entries, hash-joined every journal entry
on every write (4.7 ms of server time a write, most of a clerk's workflow).
"""

from __future__ import annotations

import json

import pytest

from claimdesk.core import db, workflow
from claimdesk.core.models import JournalEntry

from tests import demo_cache


@pytest.fixture
def clinic(backend, request, tmp_path_factory, tmp_path):
    """A private copy of the default demo clinic (thousands of journal entries) on this test's engine."""
    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    with demo_cache.opened_copy(demo_cache.template(tmp_path_factory, pg=pg)[0], tmp_path):
        yield


def _digest_sql(entry_ids: list[int], monkeypatch) -> tuple[str, list]:
    """The statement (``{p}`` marks) and parameters ``workflow.posting_rows`` runs for ``entry_ids``."""
    seen = []
    with monkeypatch.context() as m:
        m.setattr(db, "sql", lambda template, params=(): seen.append((template, list(params))))
        workflow.posting_rows(entry_ids)
    return seen[0]


def test_the_digest_reads_only_the_entries_it_covers(clinic, backend, monkeypatch):
    entries = JournalEntry.select().count()
    assert entries > 5_000  # a clinic big enough for a whole-table read to be what a planner picks
    newest = [e.id for e in JournalEntry.select(JournalEntry.id).order_by(JournalEntry.id.desc()).limit(2)]
    sql, params = _digest_sql(newest, monkeypatch)
    if backend == "postgresql":
        db.sql("ANALYZE posting")
        db.sql("ANALYZE journal_entry")
        plan = db.sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        nodes, todo = [], [plan[0]["Plan"]]
        while todo:
            node = todo.pop()
            nodes.append(node)
            todo.extend(node.get("Plans", []))
        entry_reads = [n for n in nodes if n.get("Relation Name") == "journal_entry"]
        assert [n["Node Type"] for n in entry_reads] == ["Index Scan"]
        assert sum(n["Actual Rows"] * n["Actual Loops"] for n in entry_reads) == len(newest)
    else:
        plan = " | ".join(str(r[-1]) for r in db.sql("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN e" not in plan and "SCAN journal_entry" not in plan, plan
    # and the digest is still of those entries' postings, in posting-id order
    rows = list(workflow.posting_rows(newest))
    assert rows and {r[1] for r in rows} == set(newest)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
