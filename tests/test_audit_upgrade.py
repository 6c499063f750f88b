"""Schema v3 on a database written before it, and what the postings digest covers.

A v2 database is made the honest way: books written by today's workflows are turned back
into what v2 code wrote (the hash over the v2 fields, no digest column, no entry links,
schema version 2); ``claimdesk db upgrade`` must then bring it to v3 with ``verify``
clean and saying which events carry no digest.
"""

from __future__ import annotations

import json

import pytest

from claimdesk.core import db, migrations, workflow
from claimdesk.core.cli import main
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, JournalEntry, Posting
from claimdesk.core.models.audit import AuditEntry
from claimdesk.core.services import common, payments

from tests import builders as b
from tests.conftest import register, empty_config
from tests.test_verify_tamper import bypass_guard, sql


def cli(url: str, capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", url, *args], user="tester")
    out, err = capsys.readouterr()
    return code, out, err


def write_books() -> int:
    """A charge, a check and a credit, each by a workflow; the patient id."""
    pat = b.patient()
    b.encounter(pat, [90_00])
    voucher = b.voucher(None, 50_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": voucher, "amount": "50.00"})
    return pat.id


def back_to_schema_v2() -> None:
    """What v2 code would have left: v2 hashes, no v3 columns, no entry links, version 2."""
    bypass_guard("audit_event")
    prev = ""
    for ev in AuditEvent.select().order_by(AuditEvent.id):
        ev.hash_version = 1
        ev.prev_hash = prev
        prev = workflow.event_hash(prev, workflow.hashed_fields(ev))
        sql("UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?", (ev.prev_hash, prev, ev.id))
    sql("DROP TABLE audit_entry")
    sql("ALTER TABLE audit_event DROP COLUMN hash_version")
    sql("ALTER TABLE audit_event DROP COLUMN postings_digest")
    migrations._install_guards(("audit_event",))
    if db.is_postgres():
        sql("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    sql("DELETE FROM schema_version WHERE version >= 3")


@pytest.fixture
def v2_books(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_NOW", "2026-03-10T10:00:00")
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    db.connect(db_url)
    migrations.upgrade()
    register("tester")
    with as_user("tester"):
        pid = write_books()
        old_events = AuditEvent.select().count()
        back_to_schema_v2()
        yield db_url, pid, old_events
    db.close()


def test_upgrading_a_v2_database_keeps_verify_clean_and_says_what_has_no_digest(v2_books, capsys):
    url, pid, old_events = v2_books
    code, _, err = cli(url, capsys, "verify")
    assert code == 5 and "claimdesk db upgrade" in err  # a v2 database is refused until upgraded
    code, out, _ = cli(url, capsys, "--json", "db", "upgrade")
    assert code == 0 and json.loads(out)["applied"] == list(range(3, migrations.CURRENT_VERSION + 1))
    code, out, _ = cli(url, capsys, "verify")
    assert code == 0, out
    assert f"note: {old_events} audit event(s) written before schema v3 carry no postings digest" in out
    listed = sorted(e for ev in AuditEvent.select() for e in ev.entries)
    assert listed and sorted(r.entry_id for r in AuditEntry.select()) == listed  # links filled in
    with as_user("tester"):
        payments.create_voucher({"payer_id": common.patient_payer().id, "method": "check", "amount": "5.00",
                                 "details": {"check_number": "77"}})
    newest = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert newest.hash_version == workflow.HASH_VERSION and newest.postings_digest
    data = json.loads(cli(url, capsys, "--json", "verify")[1])
    assert data["ok"] and data["events_without_digest"] == old_events and data["head"]["audit_id"] == newest.id


def test_an_edited_pre_v3_event_is_still_named_after_the_upgrade(v2_books, capsys):
    url, _, _ = v2_books
    assert cli(url, capsys, "db", "upgrade")[0] == 0
    first = AuditEvent.select().order_by(AuditEvent.id).first()
    bypass_guard("audit_event")
    sql("UPDATE audit_event SET reason = 'nothing to see' WHERE id = ?", (first.id,))
    code, out, _ = cli(url, capsys, "verify")
    assert code == 1 and f"audit event {first.id} was altered (hash mismatch)" in out


def test_the_postings_digest_names_every_column_of_postings_and_journal_entries():
    """A new ledger column must join the digest (with a new hash version), or tampering with it goes unseen."""
    posting = {f.column_name for f in Posting._meta.sorted_fields}
    entry = {f.column_name for f in JournalEntry._meta.sorted_fields} - {"id"}
    assert set(workflow.POSTING_DIGEST_COLUMNS) == posting
    assert set(workflow.ENTRY_DIGEST_COLUMNS) == entry


def test_the_digest_is_of_what_the_database_holds(database):
    """The digest a workflow records is recomputed from the rows, and moves when any of them moves."""
    pat = b.patient()
    b.encounter(pat, [90_00, 10_00])
    ev = AuditEvent.select().where(AuditEvent.action == "test.encounter").get()
    assert ev.postings_digest == workflow.postings_digest(ev.entries) != workflow.EMPTY_DIGEST
    assert workflow.postings_digest(ev.entries[:1]) != ev.postings_digest
