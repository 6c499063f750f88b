"""``claimdesk verify`` catches data changed behind the ledger's back; the triggers stop it in the first place.

Each tamper test plays an attacker with write access to the database: it switches off
the append-only triggers, changes rows the way an edit or a hand-written SQL statement
would, keeps every cached balance in step where it can (so only the audit trail can
tell), and asks ``claimdesk verify`` (the CLI, in-process) what it sees.
"""

from __future__ import annotations

import json

import peewee
import pytest

from claimdesk.core import db, ledger, migrations, workflow
from claimdesk.core.cli import main
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, Charge, ChargeSplit, JournalEntry, Patient, Posting
from claimdesk.core.services import payments

from tests import builders as b
from tests.conftest import register, empty_config


@pytest.fixture
def books(db_url, monkeypatch, tmp_path):
    """A little ledger (a charge, a check, a credit paying part of it); yields the database URL.

    Every entry is made by an audited workflow (the encounter too), as in production."""
    monkeypatch.setenv("CLAIMDESK_NOW", "2026-03-10T10:00:00")
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    db.connect(db_url)
    migrations.upgrade()
    register("tester")
    with as_user("tester"):
        pat = b.patient()
        b.patient("Roe", "Kim")  # a second patient for postings to be moved to
        b.encounter(pat, [110_00, 40_00])
        voucher = b.voucher(None, 100_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": voucher, "amount": "60.00"},
                             idempotency_key="submit-1")
        yield db_url
    db.close()


def run_verify(url: str, capsys, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", url, "verify", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def verify(url: str, capsys, *extra: str) -> tuple[int, str]:
    code, out, _ = run_verify(url, capsys, *extra)
    return code, out


def verify_json(url: str, capsys, *extra: str) -> dict:
    capsys.readouterr()
    main(["--db", url, "--json", "verify", *extra])
    return json.loads(capsys.readouterr().out)


def sql(statement: str, params=()) -> None:
    db.database.execute_sql(statement.replace("?", db.database.obj.param), params)


def bypass_guard(table: str) -> None:
    """Switch off the append-only triggers of ``table`` (what an attacker with DB access could do)."""
    if db.is_postgres():
        sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        sql(f"DROP TRIGGER {table}_no_update")
        sql(f"DROP TRIGGER {table}_no_delete")


def ar_posting() -> Posting:
    return Posting.select().where(Posting.account == "AR").order_by(Posting.id).first()


def event_of(action: str) -> AuditEvent:
    return AuditEvent.get(AuditEvent.action == action)


def digest_violation(event: AuditEvent) -> str:
    return f"audit event {event.id}: its journal entries' postings are not what it recorded"


def test_clean_books_verify_with_exit_code_0_and_print_the_chain_head(books, capsys):
    code, out = verify(books, capsys)
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert code == 0 and "0 violations" in out
    assert f"audit chain head: {last.id}:{last.hash}" in out
    assert "before schema v3" not in out  # every event here carries its digest
    data = verify_json(books, capsys)
    assert data["ok"] is True and data["head"] == {"audit_id": last.id, "hash": last.hash}


def test_an_edited_posting_amount_is_named_by_verify(books, capsys):
    posting = ar_posting()
    bypass_guard("posting")
    sql("UPDATE posting SET amount = amount + 100 WHERE id = ?", (posting.id,))
    code, out = verify(books, capsys)
    assert code == 1
    assert f"journal entry {posting.entry_id} does not balance (off by 100 cents)" in out
    assert f"charge split {posting.split_id}: cached balance" in out
    assert "total debits and credits differ by 100 cents" in out


def test_an_edited_cached_split_balance_is_named_by_verify(books, capsys):
    split = ChargeSplit.select().order_by(ChargeSplit.id).first()
    ChargeSplit.update(balance=ChargeSplit.balance - 1).where(ChargeSplit.id == split.id).execute()
    code, out = verify(books, capsys)
    assert code == 1
    assert f"charge split {split.id}: cached balance {split.balance - 1} != ledger {split.balance}" in out


def test_an_edited_audit_event_breaks_the_hash_chain(books, capsys):
    event = AuditEvent.select().order_by(AuditEvent.id).first()
    bypass_guard("audit_event")
    AuditEvent.update(user="mallory").where(AuditEvent.id == event.id).execute()
    code, out = verify(books, capsys)
    assert code == 1 and f"audit event {event.id} was altered (hash mismatch)" in out


@pytest.mark.parametrize("column, value", [
    ("result", json.dumps({"credit_id": 999, "entries": []})),
    ("idempotency_key", "someone-elses-submit"),
    ("payload_hash", "0" * 64),
])
def test_an_edited_result_submit_key_or_payload_hash_breaks_the_hash_chain(books, capsys, column, value):
    event = event_of("credit.post")
    bypass_guard("audit_event")
    sql(f"UPDATE audit_event SET {column} = ? WHERE id = ?", (value, event.id))
    code, out = verify(books, capsys)
    assert code == 1
    assert f"audit event {event.id} was altered (hash mismatch)" in out


def test_a_result_edited_into_broken_json_is_named_not_a_crash(books, capsys):
    event = event_of("credit.post")
    bypass_guard("audit_event")
    sql("UPDATE audit_event SET result = ? WHERE id = ?", ("{not json", event.id))
    code, out, err = run_verify(books, capsys)
    assert code == 1 and "Traceback" not in err
    assert f"audit event {event.id} was altered (result is not valid JSON)" in out


def test_a_dollar_added_to_a_charge_with_every_balance_kept_in_step_is_named_by_the_digest(books, capsys):
    """AR +100 and REVENUE -100 on the charge entry, the fee and split balance raised to match:
    every balance check passes; only the postings digest of the event that made it can tell."""
    charge = Charge.select().order_by(Charge.id).first()
    entry = Posting.get((Posting.charge == charge.id) & (Posting.account == "REVENUE")).entry_id
    bypass_guard("posting")
    sql("UPDATE posting SET amount = amount + 100 WHERE entry_id = ? AND account = 'AR'", (entry,))
    sql("UPDATE posting SET amount = amount - 100 WHERE entry_id = ? AND account = 'REVENUE'", (entry,))
    Charge.update(fee=Charge.fee + 100).where(Charge.id == charge.id).execute()
    split = Posting.get((Posting.entry == entry) & (Posting.account == "AR")).split_id
    ChargeSplit.update(balance=ChargeSplit.balance + 100).where(ChargeSplit.id == split).execute()
    data = verify_json(books, capsys)
    assert [v["message"] for v in data["violations"]] == [
        "the append-only guard of posting is missing or switched off (its rows could be rewritten): restore it "
        "with `claimdesk db upgrade`",
        digest_violation(event_of("test.encounter")) + " (postings digest mismatch)"]


def test_an_entry_moved_to_another_patient_is_named_by_the_digest(books, capsys):
    payment = Posting.select().where(Posting.account == "UNAPPLIED").order_by(Posting.id.desc()).first()
    stranger = Patient.select().order_by(Patient.id.desc()).first()  # the fixture's second patient
    assert stranger.id != payment.patient_id
    bypass_guard("posting")
    sql("UPDATE posting SET patient_id = ? WHERE entry_id = ?", (stranger.id, payment.entry_id))
    code, out = verify(books, capsys)
    assert code == 1
    assert digest_violation(event_of("credit.post")) in out


def test_a_changed_entry_kind_is_named_by_the_digest(books, capsys):
    entry = JournalEntry.select().where(JournalEntry.kind == "payment").first()
    bypass_guard("journal_entry")
    sql("UPDATE journal_entry SET kind = 'adjustment' WHERE id = ?", (entry.id,))
    code, out = verify(books, capsys)
    assert code == 1
    assert digest_violation(event_of("credit.post")) in out


def delete_last_event() -> AuditEvent:
    """Cut the tail of the chain: the last event and its entry links (triggers off)."""
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    bypass_guard("audit_entry")
    bypass_guard("audit_event")
    sql("DELETE FROM audit_entry WHERE audit_id = ?", (last.id,))
    sql("DELETE FROM audit_event WHERE id = ?", (last.id,))
    return last


def test_the_last_audit_event_deleted_leaves_its_entries_without_an_owner(books, capsys):
    gone = delete_last_event()
    assert gone.action == "credit.post" and gone.entries
    code, out = verify(books, capsys)
    assert code == 1
    listed = ", ".join(map(str, sorted(gone.entries)))
    assert f"journal entries {listed} belong to no audit event" in out


def test_a_kept_head_catches_a_cut_tail_even_of_an_event_with_no_entries(books, capsys):
    with as_user("tester"):
        workflow.run("test.note", lambda: {})  # a workflow that posts nothing
    kept = verify_json(books, capsys)["head"]
    head = f"{kept['audit_id']}:{kept['hash']}"
    assert verify(books, capsys, "--expect-head", head)[0] == 0
    gone = delete_last_event()
    assert gone.entries == []
    code, out = verify(books, capsys)
    assert code == 1 and "the append-only guard of audit_event is missing" in out  # the way in is seen...
    db.connect(books)
    migrations.upgrade()  # ...but once the guard is back, without the kept head nothing can tell
    assert verify(books, capsys)[0] == 0
    code, out = verify(books, capsys, "--expect-head", head)
    assert code == 1
    assert f"the audit chain no longer holds the head you kept ({head})" in out


def test_a_kept_head_still_verifies_after_more_work(books, capsys):
    kept = verify_json(books, capsys)["head"]
    with as_user("tester"):
        b.voucher(None, 5_00)
    assert verify(books, capsys, "--expect-head", kept["hash"])[0] == 0
    assert verify(books, capsys, "--expect-head", f"{kept['audit_id']}:{kept['hash']}")[0] == 0


def test_a_kept_head_with_the_wrong_id_is_named(books, capsys):
    kept = verify_json(books, capsys)["head"]
    code, out = verify(books, capsys, "--expect-head", f"{kept['audit_id'] - 1}:{kept['hash']}")
    assert code == 1
    assert f"audit event {kept['audit_id'] - 1} is not the head you kept: its hash differs" in out


@pytest.mark.parametrize("bad", ["", "abc", "12:xyz", "x:" + "a" * 64, "0:" + "a" * 64, "a" * 63, "a" * 65 + "'"])
def test_a_malformed_kept_head_is_refused_in_one_line(books, capsys, bad):
    code, out, err = run_verify(books, capsys, "--expect-head", bad)
    assert code == 2 and out == ""
    assert err.startswith("claimdesk: error: expect_head:") and err.count("\n") == 1


def test_an_event_downgraded_to_the_pre_v3_hash_is_named(books, capsys):
    """The last event rewritten as if written before v3 (no digest), its hash recomputed to match."""
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    last.hash_version, last.postings_digest = 1, None
    forged = workflow.event_hash(last.prev_hash, workflow.hashed_fields(last))
    bypass_guard("audit_event")
    sql("UPDATE audit_event SET hash_version = 1, postings_digest = NULL, hash = ? WHERE id = ?", (forged, last.id))
    code, out = verify(books, capsys)
    assert code == 1
    assert f"audit event {last.id} claims the pre-v3 hash format after newer events (downgraded)" in out


def test_an_entry_link_moved_to_another_event_is_named(books, capsys):
    credit = event_of("credit.post")
    voucher = event_of("voucher.create")
    moved = credit.entries[0]
    bypass_guard("audit_entry")
    sql("UPDATE audit_entry SET audit_id = ? WHERE entry_id = ?", (voucher.id, moved))
    code, out = verify(books, capsys)
    assert code == 1
    assert f"audit event {credit.id} lists entries {moved} not linked to it" in out
    assert f"audit event {voucher.id} is linked to entries {moved} it does not list" in out


def test_an_entry_written_outside_any_workflow_is_named(books, capsys):
    split = ChargeSplit.select().order_by(ChargeSplit.id).first()
    with as_user("tester"), db.write_transaction():
        entry = ledger.post("adjustment", [ledger.ar(split, -1_00), ledger.on_charge("WRITEOFF", split, 1_00)],
                            user="tester")
    code, out = verify(books, capsys)
    assert code == 1
    assert f"journal entry {entry.id} belongs to no audit event" in out


@pytest.mark.parametrize("table, statement", [
    ("posting", "UPDATE posting SET amount = amount + 100 WHERE id = {id}"),
    ("posting", "DELETE FROM posting WHERE id = {id}"),
    ("audit_entry", "UPDATE audit_entry SET audit_id = audit_id WHERE id = {id}"),
    ("audit_entry", "DELETE FROM audit_entry WHERE id = {id}"),
])
def test_the_database_refuses_to_change_ledger_and_audit_rows(books, capsys, table, statement):
    row = db.database.execute_sql(f"SELECT MIN(id), COUNT(*) FROM {table}").fetchone()
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with db.database.atomic():
            db.database.execute_sql(statement.format(id=int(row[0])))
    assert db.database.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == row[1]
    assert verify(books, capsys)[0] == 0


def test_a_guard_dropped_or_switched_off_is_named_and_upgrade_puts_it_back(books, capsys):
    """Nothing rewritten yet: only the missing guard tells that someone opened the way."""
    bypass_guard("audit_entry")
    code, out = verify(books, capsys)
    assert code == 1 and "the append-only guard of audit_entry is missing or switched off" in out
    migrations.upgrade()
    assert verify(books, capsys)[0] == 0
