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


#: v15 drops these (another index begins with each column): table -> (index, its column).
_LED = {"charge": (("charge_encounter_id", "encounter_id"), ("charge_patient_id", "patient_id")),
        "charge_split": (("charge_split_charge_id", "charge_id"),),
        "encounter": (("encounter_queue_id", "queue_id"),),
        "encounter_payer": (("encounter_payer_encounter_id", "encounter_id"),)}


def test_upgrading_a_version_14_database_drops_the_indexes_a_longer_one_begins_with(db_url):
    db.connect(db_url)
    try:
        with db.write_transaction():  # schema version 14 as it was: a single-column index on each
            migrations.MIGRATIONS[1]()
            for table, pairs in _LED.items():
                for name, col in pairs:
                    db.database.execute_sql(f"CREATE INDEX {name} ON {table} ({col})")
            SchemaVersion.create(version=14, upgraded_at=clock.now())
        assert "charge_encounter_id" in _index_names("charge")
        assert migrations.upgrade() == [15, 16]
        for table, pairs in _LED.items():
            assert not {name for name, _col in pairs} & _index_names(table)
        migrations.check()
        if not db.is_postgres():  # the lookups by those columns still go through an index
            for table, pairs in _LED.items():
                for _name, col in pairs:
                    plan = " ".join(str(r[-1]) for r in db.database.execute_sql(
                        f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE {col} = 1"))
                    assert "USING INDEX" in plan, (table, col, plan)
    finally:
        db.close()


def test_upgrading_a_version_15_database_gives_every_payer_no_era_ids(db_url):
    """v16 adds ``payer.remit_ids`` (the other ids a payer's 835s carry): the payers on file have
    none, and a payer added afterwards without them is stored with none too (the column's default)."""
    db.connect(db_url)
    try:
        with db.write_transaction():  # schema version 15 as it was: no remit_ids column
            migrations.MIGRATIONS[1]()
            db.database.execute_sql("ALTER TABLE payer DROP COLUMN remit_ids")
            db.database.execute_sql("INSERT INTO payer (name, kind, payer_code, address, city, state, zip, phone) "
                                    "VALUES ('Acme Health', 'commercial', 'ACME1', '', '', '', '', '')")
            SchemaVersion.create(version=15, upgraded_at=clock.now())
        assert migrations.upgrade() == [16]
        migrations.check()
        assert db.sql("SELECT remit_ids FROM payer WHERE payer_code = 'ACME1'").fetchone() == ("",)
        with db.write_transaction():
            db.database.execute_sql("INSERT INTO payer (name, kind, payer_code, address, city, state, zip, phone) "
                                    "VALUES ('Beta Care', 'commercial', 'BETA1', '', '', '', '', '')")
        assert db.sql("SELECT remit_ids FROM payer WHERE payer_code = 'BETA1'").fetchone() == ("",)
    finally:
        db.close()


# --- a database this user may read but not write ------------------------------------------------
READS = (["verify"], ["db", "status"], ["patient", "find", "Doe"], ["patient", "show", "{patient}"],
         ["encounter", "show", "{encounter}"], ["actions", "list", "{encounter}"], ["voucher", "list"],
         ["daysheet", "show", "--date", "2026-03-10"], ["audit", "--limit", "5"],
         ["provider", "activity", "--from", "2026-03-01", "--to", "2026-03-31"])
WRITES = (["voucher", "create", "--payer", "{payer}", "--method", "cash", "--amount", "3.00"],
          ["daysheet", "close", "--date", "2026-03-09"],
          ["patient", "add", "--last-name", "Roe", "--first-name", "Al", "--dob", "1980-01-02"],
          ["credit", "post", "--patient", "{patient}", "--voucher", "{voucher}", "--amount", "1.00"])


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() != 0
                    or not __import__("shutil").which("useradd"),
                    reason="another OS account to open the file with needs root and useradd")
@pytest.mark.parametrize("how", ["file", "folder", "folder-open-by-its-owner"])
def test_a_read_only_database_answers_lookups_and_refuses_changes_by_name(request, how):
    """A SQLite file this clerk may read but not write (``chmod 0444``; a folder they cannot write,
    with or without the owner's ``-wal``/``-shm`` there): lookups, reports and ``verify`` work;
    every change is refused with "the database is read-only for you: <path>" (exit 2), and nothing
    is written. Run as another OS account (root writes whatever the modes say)."""
    import datetime as dt
    import grp
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from claimdesk.core.cli import build_parser, main
    from claimdesk.core.context import as_user
    from claimdesk.core.models import AuditEvent, Patient

    from tests import builders as b
    from tests.conftest import empty_config, record_outcome, register
    from tests.test_several_clerks import CLERKS, GROUP, as_login, ensure_accounts

    ensure_accounts()
    clerk = CLERKS[0]
    tmp_path = Path(tempfile.mkdtemp(prefix="cd-readonly-"))  # (pytest's own is root's alone: 0700)
    request.addfinalizer(lambda: shutil.rmtree(tmp_path, ignore_errors=True))
    top = tmp_path / "clinic"
    top.mkdir()
    path = top / "claimdesk.db"
    db.connect(str(path))
    try:
        migrations.upgrade()
        register(clerk)  # a claimdesk user: the refusal is the file's, not the role's
        with as_user(clerk), clock.frozen(dt.datetime(2026, 3, 10, 9)):
            pat = b.patient("Doe", "Jane")
            payer = b.payer("Medicare", "medicare")
            enc, _ = b.encounter(pat, [100_00], payers=[payer])
            vid = b.voucher(payer, 50_00)
        before = (AuditEvent.select().count(), Patient.select().count())
    finally:
        db.close()
    ids = {"patient": pat.id, "encounter": enc.id, "payer": payer.id, "voucher": vid}
    env = {"CLAIMDESK_CONFIG": empty_config(tmp_path), "CLAIMDESK_NOW": "2026-03-10T10:00:00",
           "PATH": "/usr/bin:/bin"}
    os.chmod(env["CLAIMDESK_CONFIG"], 0o644)
    for folder in (tmp_path, top):
        os.chmod(folder, 0o755)

    # every module the commands use loaded before a child drops root (the stdlib may be where
    # the clerk cannot read): each command run once, as root, on a scratch copy
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    shutil.copy(path, scratch / "claimdesk.db")
    build_parser()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for argv in READS + WRITES:
            main(["--db", str(scratch / "claimdesk.db"), *(a.format(**ids) for a in argv)], user=clerk)
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.update({k: v})

    if how == "file":  # the file read-only; its folder the clerks' (they could make -wal/-shm there)
        os.chmod(path, 0o444)
        os.chown(top, 0, grp.getgrnam(GROUP).gr_gid)
        os.chmod(top, 0o2775)
    else:  # a folder the clerk cannot write: no -wal/-shm can be made there
        os.chmod(path, 0o644)
    owner = None
    if how == "folder-open-by-its-owner":  # the owner working at the same time: -wal and -shm exist
        import sqlite3

        owner = sqlite3.connect(path)
        owner.execute("PRAGMA journal_mode=wal")
        owner.execute("SELECT count(*) FROM patient").fetchone()
        assert (top / "claimdesk.db-shm").exists()
    try:
        for argv in READS:
            argv = [a.format(**ids) for a in argv]
            code, err = as_login(clerk, "--db", str(path), *argv, env=env)
            assert code == 0, (argv, err)
        for argv in WRITES:
            argv = [a.format(**ids) for a in argv]
            code, err = as_login(clerk, "--db", str(path), *argv, env=env)
            said = (code, err.strip()) == (2, f"claimdesk: error: the database is read-only for you: {path} "
                                              "(lookups, reports and verify work; to make changes, ask whoever "
                                              "keeps it for write access to the file and its folder)")
            record_outcome("write to a read-only database", f"{how}: {' '.join(argv[:2])}",
                           "refused" if said else "accepted" if code == 0 else "unclear", "sqlite")
            assert said, (argv, code, err)
    finally:
        if owner is not None:
            owner.close()
        os.chmod(path, 0o600)
    db.connect(str(path))
    try:
        assert (AuditEvent.select().count(), Patient.select().count()) == before == (3, 1)  # nothing written
    finally:
        db.close()
