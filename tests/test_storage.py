"""Storage: the SQLite file is private, WAL is on, and schema versions are enforced."""

from __future__ import annotations

import stat

import pytest

from claimdesk.core import clock, db, migrations
from claimdesk.core.db import StorageError
from claimdesk.core.models import SchemaVersion


def test_sqlite_file_is_created_readable_by_its_owner_only_in_wal_mode(tmp_path):
    path = tmp_path / "clinic" / "claimdesk.db"
    db.connect(str(path))
    try:
        migrations.upgrade()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert db.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_a_newer_schema_is_refused_and_an_older_one_asks_for_upgrade(db_url):
    db.connect(db_url)
    try:
        with pytest.raises(StorageError, match="run `claimdesk db upgrade`"):
            migrations.check()
        assert migrations.upgrade() == list(range(1, migrations.CURRENT_VERSION + 1))
        migrations.check()
        assert migrations.upgrade() == []
        with db.write_transaction():
            SchemaVersion.create(version=migrations.CURRENT_VERSION + 1, upgraded_at=clock.now())
        with pytest.raises(StorageError, match="newer than this claimdesk understands"):
            migrations.check()
    finally:
        db.close()


def _index_names(table: str) -> set[str]:
    return {ix.name for ix in db.database.get_indexes(table)}


def test_upgrading_a_version_1_database_adds_the_work_queue_index(db_url):
    db.connect(db_url)
    try:
        with db.write_transaction():  # a database made by claimdesk at schema version 1
            migrations.MIGRATIONS[1]()
            db.database.execute_sql("DROP INDEX encounter_queue_id_status_dos_id")
            SchemaVersion.create(version=1, upgraded_at=clock.now())
        assert "encounter_queue_id_status_dos_id" not in _index_names("encounter")
        assert migrations.upgrade() == list(range(2, migrations.CURRENT_VERSION + 1))
        assert "encounter_queue_id_status_dos_id" in _index_names("encounter")
        migrations.check()
    finally:
        db.close()


def test_upgrading_a_version_4_database_makes_the_posting_indexes_partial(db_url):
    db.connect(db_url)
    try:
        with db.write_transaction():  # schema version 4 as it was: full single-column posting indexes
            migrations.MIGRATIONS[1]()
            for name in ("posting_voucher_id_set", "posting_credit_id_set", "posting_credit_split_id_set",
                         "posting_provider_id_set", "posting_patient_id_account"):
                db.database.execute_sql(f"DROP INDEX {name}")
            for col in ("voucher_id", "credit_id", "credit_split_id", "provider_id", "patient_id"):
                db.database.execute_sql(f"CREATE INDEX posting_{col} ON posting ({col})")
            db.database.execute_sql("CREATE INDEX posting_account_patient_id ON posting (account, patient_id)")
            SchemaVersion.create(version=4, upgraded_at=clock.now())
        assert migrations.upgrade() == list(range(5, migrations.CURRENT_VERSION + 1))
        names = _index_names("posting")
        assert {"posting_voucher_id_set", "posting_credit_id_set", "posting_credit_split_id_set",
                "posting_provider_id_set", "posting_patient_id_account"} <= names
        assert not names & {"posting_voucher_id", "posting_credit_id", "posting_credit_split_id",
                            "posting_provider_id", "posting_patient_id", "posting_account_patient_id"}
        migrations.check()
    finally:
        db.close()
