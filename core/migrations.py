"""Creating and upgrading the database tables; the append-only guards; reference rows.

The schema version lives in the ``schema_version`` table. ``MIGRATIONS`` maps a
version to the step that brings the database to it; each step runs in its own
transaction (``playhouse.migrate`` does not wrap itself). A database at a newer
version than this code knows is refused.
"""

from __future__ import annotations

from claimdesk.core import clock, db
from claimdesk.core.db import StorageError
from claimdesk.core.models import (
    ALL_MODELS,
    INACTIVE_PAYER,
    PATIENT_PAYER,
    Payer,
    SchemaVersion,
    WorkQueue,
)

#: The tables whose rows may never change once written (``audit_entry`` since v3).
APPEND_ONLY = ("journal_entry", "posting", "audit_event", "audit_entry")
_V1_APPEND_ONLY = APPEND_ONLY[:3]

#: Work queues every clinic starts with: key -> name.
STANDARD_QUEUES = {
    "denied": "Denied",
    "needs_secondary": "Needs secondary",
    "patient_balance": "Patient balance",
    "admin": "Admin",
    "review": "Review",
    "workers_comp": "Workers' comp",
}


def _v1() -> None:
    db.database.create_tables(ALL_MODELS)
    _install_guards(_V1_APPEND_ONLY)
    _seed_reference_rows()


def _v2() -> None:
    """Work queues read in queue order: index encounter (queue, status, dos, id)."""
    from claimdesk.core.models import Encounter

    Encounter._schema.create_indexes(safe=True)


def _v3() -> None:
    """Tamper evidence: audit events hash every column and a digest of their postings.

    Adds ``audit_event.hash_version`` (1 for the events already there: their hash keeps
    covering what it covered) and ``audit_event.postings_digest`` (none for them), and the
    ``audit_entry`` table (entry -> the event that made it, append-only), filled from the
    existing events' entry lists. A fresh database already has the columns (v1 creates
    tables from today's models), so each step checks first.
    """
    from claimdesk.core.models.audit import AuditEntry

    have = {c.name for c in db.database.get_columns("audit_event")}
    if "hash_version" not in have:  # a plain ADD COLUMN: the update trigger never fires
        db.database.execute_sql("ALTER TABLE audit_event ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1")
    if "postings_digest" not in have:
        db.database.execute_sql("ALTER TABLE audit_event ADD COLUMN postings_digest VARCHAR(255)")
    AuditEntry.create_table(safe=True)
    if not AuditEntry.select().exists():
        _link_existing_entries(AuditEntry)
    _install_guards(("audit_entry",))


def _link_existing_entries(link) -> None:
    """One audit_entry row per entry an existing event lists (an entry that does not exist,
    or that a second event also lists, is left for ``verify`` to name)."""
    from claimdesk.core.models import AuditEvent, JournalEntry

    owner: dict[int, int] = {}
    for audit_id, entries in AuditEvent.select(AuditEvent.id, AuditEvent.entries).order_by(AuditEvent.id).tuples():
        for entry_id in entries or ():
            if isinstance(entry_id, int) and not isinstance(entry_id, bool):
                owner.setdefault(entry_id, audit_id)
    listed = sorted(owner)
    for start in range(0, len(listed), 2000):
        chunk = listed[start:start + 2000]
        found = [i for (i,) in JournalEntry.select(JournalEntry.id).where(JournalEntry.id.in_(chunk)).tuples()]
        if found:
            link.insert_many([(owner[i], i) for i in sorted(found)], fields=[link.audit, link.entry]).execute()


def _v4() -> None:
    """Auto-apply reads a patient's charges oldest first: index charge (patient, dos, id)."""
    from claimdesk.core.models import Charge

    Charge._schema.create_indexes(safe=True)


def _v5() -> None:
    """Cheaper postings: voucher, credit, credit split and provider indexes become partial (only
    the postings that have one); (account, patient) and (patient) become one (patient, account)."""
    from claimdesk.core.models import Posting

    for old in ("posting_voucher_id", "posting_credit_id", "posting_credit_split_id", "posting_provider_id",
                "posting_patient_id", "posting_account_patient_id"):
        db.database.execute_sql(f"DROP INDEX IF EXISTS {old}")
    Posting._schema.create_indexes(safe=True)


def _v6() -> None:
    """The Outstanding Zero Splits list reads zero-fee charges by date: partial index
    charge (dos, id) WHERE fee = 0."""
    from claimdesk.core.models import Charge

    Charge._schema.create_indexes(safe=True)


#: version -> migration step. Append new versions; never edit an old one.
MIGRATIONS = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6}
CURRENT_VERSION = max(MIGRATIONS)


def _install_guards(tables: tuple[str, ...]) -> None:
    """Triggers that make ``tables``' rows (ledger and audit) immutable on both engines."""
    if db.is_postgres():
        db.database.execute_sql("""
            CREATE OR REPLACE FUNCTION claimdesk_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'claimdesk: %% rows are append-only', TG_TABLE_NAME; END;
            $$ LANGUAGE plpgsql""")
        for table in tables:
            db.database.execute_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            db.database.execute_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION claimdesk_append_only()")
    else:
        for table in tables:
            for op in ("UPDATE", "DELETE"):
                db.database.execute_sql(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'claimdesk: {table} rows are append-only'); END")


def _seed_reference_rows() -> None:
    for name, kind in ((PATIENT_PAYER, "patient"), (INACTIVE_PAYER, "inactive")):
        Payer.get_or_create(name=name, defaults={"kind": kind})
    for key, name in STANDARD_QUEUES.items():
        WorkQueue.get_or_create(key=key, defaults={"name": name})


def current_version() -> int:
    """The database's schema version (0 for an empty database)."""
    if not SchemaVersion.table_exists():
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade() -> list[int]:
    """Bring the database to :data:`CURRENT_VERSION`; return the versions applied."""
    have = current_version()
    if have > CURRENT_VERSION:
        raise StorageError(
            f"this database is at schema version {have}, newer than this claimdesk "
            f"understands ({CURRENT_VERSION}); upgrade claimdesk")
    applied = []
    for version in range(have + 1, CURRENT_VERSION + 1):
        with db.write_transaction():
            MIGRATIONS[version]()
            SchemaVersion.create(version=version, upgraded_at=clock.now())
        applied.append(version)
    return applied


def check() -> None:
    """Refuse to work on a database that is missing its schema or is too new."""
    have = current_version()
    if have > CURRENT_VERSION:
        upgrade()  # raises the clear "newer" message
    if have < CURRENT_VERSION:
        raise StorageError(
            f"the database schema is at version {have}, this claimdesk needs "
            f"{CURRENT_VERSION}: run `claimdesk db upgrade` (or `claimdesk init`)")
