"""``claimdesk verify`` catches data changed behind the ledger's back; the triggers stop it in the first place."""

from __future__ import annotations

import peewee
import pytest

from claimdesk.core import db, schema
from claimdesk.core.cli import main
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, ChargeSplit, Posting
from claimdesk.core.services import payments

from tests import builders as b
from tests.conftest import register


@pytest.fixture
def books(db_url, monkeypatch, tmp_path):
    """A little ledger (a charge, a check, a credit paying part of it); yields the database URL."""
    monkeypatch.setenv("CLAIMDESK_NOW", "2026-03-10T10:00:00")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(tmp_path / "no-config.toml"))
    db.connect(db_url)
    schema.upgrade()
    register("tester")
    with as_user("tester"):
        pat = b.patient()
        b.encounter(pat, [110_00, 40_00])
        voucher = b.voucher(None, 100_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": voucher, "amount": "60.00"})
        yield db_url
    db.close()


def verify(url: str, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--db", url, "verify"])
    return code, capsys.readouterr().out


def bypass_guard(table: str) -> None:
    """Switch off the append-only trigger of ``table`` (what an attacker with DB access could do)."""
    if db.is_postgres():
        db.database.execute_sql(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        db.database.execute_sql(f"DROP TRIGGER {table}_no_update")


def ar_posting() -> Posting:
    return Posting.select().where(Posting.account == "AR").order_by(Posting.id).first()


def test_clean_books_verify_with_exit_code_0(books, capsys):
    code, out = verify(books, capsys)
    assert code == 0 and "0 violations" in out


def test_an_edited_posting_amount_is_named_by_verify(books, capsys):
    posting = ar_posting()
    bypass_guard("posting")
    db.database.execute_sql("UPDATE posting SET amount = amount + 100 WHERE id = %s" if db.is_postgres()
                            else "UPDATE posting SET amount = amount + 100 WHERE id = ?", (posting.id,))
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


@pytest.mark.parametrize("statement", ["UPDATE posting SET amount = amount + 100 WHERE id = {id}",
                                       "DELETE FROM posting WHERE id = {id}"])
def test_the_database_refuses_to_change_a_posting(books, capsys, statement):
    posting = ar_posting()
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with db.database.atomic():
            db.database.execute_sql(statement.format(id=int(posting.id)))
    assert Posting.get_by_id(posting.id).amount == posting.amount
    assert verify(books, capsys)[0] == 0
