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
    "era_exceptions": "ERA exceptions",
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


#: The columns schema v7 adds (what a professional claim carries): table -> (column, SQL type).
_V7_COLUMNS = {
    "patient": (("sex", "VARCHAR(255) NOT NULL DEFAULT 'U'"),),
    "payer": tuple((c, "VARCHAR(255) NOT NULL DEFAULT ''") for c in ("city", "state", "zip")),
    "coverage": (("plan_type", "VARCHAR(255) NOT NULL DEFAULT ''"),
                 ("subscriber_last_name", "VARCHAR(255) NOT NULL DEFAULT ''"),
                 ("subscriber_first_name", "VARCHAR(255) NOT NULL DEFAULT ''"),
                 ("subscriber_dob", "DATE"),
                 ("subscriber_sex", "VARCHAR(255) NOT NULL DEFAULT 'U'"),
                 *((f"subscriber_{c}", "VARCHAR(255) NOT NULL DEFAULT ''")
                   for c in ("address", "city", "state", "zip"))),
    "provider": (("entity", "VARCHAR(255) NOT NULL DEFAULT 'person'"),
                 *((c, "VARCHAR(255) NOT NULL DEFAULT ''") for c in ("last_name", "first_name", "taxonomy", "tax_id",
                                                                    "address", "city", "state", "zip"))),
    "encounter": (("place_of_service", "VARCHAR(255) NOT NULL DEFAULT '11'"),
                  ("diagnoses", "VARCHAR(255) NOT NULL DEFAULT ''"),
                  ("referring_provider_id", "INTEGER REFERENCES provider (id)"),
                  ("claim_no", "VARCHAR(255)"),
                  ("frequency", "VARCHAR(255) NOT NULL DEFAULT '1'")),
    "charge": (("modifiers", "VARCHAR(255) NOT NULL DEFAULT ''"),
               ("diagnosis_pointers", "VARCHAR(255) NOT NULL DEFAULT ''"),
               ("control_no", "VARCHAR(255)"),
               ("status", "VARCHAR(255) NOT NULL DEFAULT 'active'")),
}


def _v7() -> None:
    """What a professional claim carries: patient sex; payer city/state/zip; the coverage's plan
    type and subscriber person; the provider's entity, names, taxonomy, tax id and address; the
    encounter's place of service, diagnoses, referring provider, claim number and frequency; the
    charge's modifiers, diagnosis pointers, line control number and status.

    Existing rows get: a claim number per encounter (``CD`` + its id), a control number per
    charge (its line number; ``line-id`` for a line number repeated on one encounter), a plan
    type by payer kind, subscriber names split from ``subscriber`` ("Last, First") where the
    subscriber is not the patient, provider names split (an administrative provider becomes an
    organization), and payer addresses written on one line split into street, city, state, zip.
    """
    from claimdesk.core.models import Charge, Encounter

    for table, columns in _V7_COLUMNS.items():
        have = {c.name for c in db.database.get_columns(table)}
        for name, ddl in columns:
            if name not in have:
                db.database.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {ddl}')
    db.sql("UPDATE encounter SET claim_no = 'CD' || CAST(id AS TEXT) WHERE claim_no IS NULL")
    db.sql("UPDATE charge SET control_no = CASE WHEN id = (SELECT MIN(c2.id) FROM charge c2 "
           "WHERE c2.encounter_id = charge.encounter_id AND c2.line_no = charge.line_no) "
           "THEN CAST(line_no AS TEXT) ELSE CAST(line_no AS TEXT) || '-' || CAST(id AS TEXT) END "
           "WHERE control_no IS NULL")
    db.sql("UPDATE coverage SET plan_type = CASE (SELECT kind FROM payer WHERE payer.id = coverage.payer_id) "
           "WHEN 'medicare' THEN 'MB' WHEN 'medicaid' THEN 'MC' WHEN 'commercial' THEN 'CI' "
           "WHEN 'workers_comp' THEN 'WC' ELSE '' END WHERE plan_type = ''")
    _v7_split_names()
    Encounter._schema.create_indexes(safe=True)
    Charge._schema.create_indexes(safe=True)


def _v7_split_names() -> None:
    """Schema v7 on existing reference rows: subscriber and provider names in parts, payer
    addresses in parts (a few rows each; read and written one by one)."""
    from claimdesk.core import claim_rules

    for cid, text in db.sql("SELECT id, subscriber FROM coverage WHERE relationship <> 'self' "
                            "AND subscriber <> '' AND subscriber_last_name = ''").fetchall():
        last, _, first = text.partition(",")
        db.sql("UPDATE coverage SET subscriber_last_name = {p}, subscriber_first_name = {p} WHERE id = {p}",
               [last.strip(), first.strip(), cid])
    for pid, name, kind in db.sql("SELECT id, name, kind FROM provider WHERE last_name = ''").fetchall():
        if kind == "administrative":
            db.sql("UPDATE provider SET entity = 'organization', last_name = {p} WHERE id = {p}", [name, pid])
            continue
        words = name.partition(",")[0].split()  # "Elena Marsh, MD" -> Elena / Marsh
        if words:
            db.sql("UPDATE provider SET last_name = {p}, first_name = {p} WHERE id = {p}",
                   [words[-1], " ".join(words[:-1]), pid])
    for pid, address in db.sql("SELECT id, address FROM payer WHERE city = '' AND address <> ''").fetchall():
        parts = claim_rules.split_address(address)
        if parts:
            db.sql("UPDATE payer SET address = {p}, city = {p}, state = {p}, zip = {p} WHERE id = {p}",
                   [*parts, pid])


def _v8() -> None:
    """837P import: ``imported_file`` (each file once, by digest) and ``imported_claim`` (each
    claim once, by claim number, with the encounter it became and its audit event); and the two
    indexes matching a file's patients reads: coverages by member id (as upper case) and patients
    by date of birth."""
    from claimdesk.core.models.imports import ImportedClaim, ImportedFile

    ImportedFile.create_table(safe=True)
    ImportedClaim.create_table(safe=True)
    db.sql("CREATE INDEX IF NOT EXISTS coverage_member_id_upper ON coverage (UPPER(member_id))")
    db.sql("CREATE INDEX IF NOT EXISTS patient_dob ON patient (dob)")


def _v9() -> None:
    """835 remittances: ``era_file``, ``era_payment`` (each payment once: payer + trace + amount)
    and ``era_claim`` (what became of each claim), and the ERA exceptions work queue."""
    from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment

    for model in (RemitFile, RemitPayment, RemitClaim):
        model.create_table(safe=True)
    WorkQueue.get_or_create(key="era_exceptions", defaults={"name": STANDARD_QUEUES["era_exceptions"]})


def _v10() -> None:
    """837P export: ``claim_file`` (each file written for a batch, with its control number),
    ``x12_control`` (the counter of interchange control numbers, starting at 0), the claim's
    ``voids`` flag (a void request, frequency 8), the audit event's ``client`` (the SSH client
    the user worked from; hash version 3 covers it) and the user's ``passphrase`` (its scrypt hash:
    what unlocks the idle app). The users on file are recorded in a ``user.baseline`` audit event:
    from here on every user change is audited and ``verify`` holds the user table to it."""
    from claimdesk.core.models.exports import ClaimFile, ControlCounter

    ClaimFile.create_table(safe=True)
    ControlCounter.create_table(safe=True)
    if "voids" not in {c.name for c in db.database.get_columns("claim")}:
        db.database.execute_sql('ALTER TABLE "claim" ADD COLUMN "voids" BOOLEAN NOT NULL DEFAULT FALSE')
    if "passphrase" not in {c.name for c in db.database.get_columns("user")}:
        db.database.execute_sql("""ALTER TABLE "user" ADD COLUMN passphrase VARCHAR(255) NOT NULL DEFAULT ''""")
    if "client" not in {c.name for c in db.database.get_columns("audit_event")}:  # (the update trigger never fires)
        db.database.execute_sql("ALTER TABLE audit_event ADD COLUMN client VARCHAR(255) NOT NULL DEFAULT ''")
    from claimdesk.core import workflow
    from claimdesk.core.models import User

    on_file = [{"username": u.username, "role": u.role, "active": u.active} for u in User.select().order_by(User.id)]
    if on_file:  # from here on verify holds the user table to the audit trail: these are where it starts
        workflow.record_system("user.baseline", {"users": on_file})
    ControlCounter.get_or_create(name="interchange", defaults={"last": 0})


def _v11() -> None:
    """Money given back and paid over time: the ``refund`` table (refunds and recoupments,
    docs/ledger.md, "Refunds"; the ledger's new account ``REFUNDS_PAYABLE`` needs no table of its
    own) and the ``payment_plan`` table (a missed instalment puts the plan's encounters on the
    Patient balance queue, tagged "Plan missed": no queue of its own)."""
    from claimdesk.core.models.plans import PaymentPlan
    from claimdesk.core.models.refunds import Refund

    Refund.create_table(safe=True)
    PaymentPlan.create_table(safe=True)


#: The patient columns a name search looks inside ("part of a name or an account number").
NAME_SEARCH_COLUMNS = ("last_name", "first_name", "account_no")


def _v12() -> None:
    """PostgreSQL: trigram indexes for the patient search. A clerk types part of a name, which
    the search looks for anywhere inside the names and account numbers (``LOWER(x) LIKE
    '%text%'``): no ordinary index helps, and at 94,000 patients each search read the whole
    table (150-220 ms; five times as long with five times the patients). ``pg_trgm`` (shipped
    with PostgreSQL, a trusted extension since 13: the database's owner may add it) indexes
    every three letters of ``LOWER(column)``, so the same query finds its rows through the
    indexes. Where the extension cannot be added the search works as before, by reading the
    table. SQLite: nothing (no such index; a SQLite desk's patients are far fewer)."""
    if not db.is_postgres():
        return
    try:
        with db.database.atomic():  # (a savepoint: a refusal leaves the upgrade's transaction usable)
            db.database.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 - not allowed here: searches read the table, as before
        return
    for column in NAME_SEARCH_COLUMNS:
        db.database.execute_sql(f"CREATE INDEX IF NOT EXISTS patient_{column}_trigram ON patient "
                                f"USING gin (LOWER({column}) gin_trgm_ops)")


#: SQLite: the full-text table (FTS5, trigram) that indexes the patient columns a search looks in.
NAME_SEARCH_TABLE = "patient_name_search"


def _v13() -> None:
    """SQLite: the patient search through a trigram index, as PostgreSQL's (v12). A name search
    read the whole patient table and tested every name (91 ms at 94,000 patients, most of a
    lookup's time); an FTS5 table with the ``trigram`` tokenizer (SQLite 3.34+) over the same
    columns, kept by triggers on ``patient``, finds the few patients holding the text first (4 ms).
    It holds no data of its own (``content='patient'``: the index only). Where the SQLite has no
    FTS5 the search works as before, by reading the table. PostgreSQL: nothing."""
    if db.is_postgres():
        return
    cols = ", ".join(NAME_SEARCH_COLUMNS)
    old, new = ", ".join(f"old.{c}" for c in NAME_SEARCH_COLUMNS), ", ".join(f"new.{c}" for c in NAME_SEARCH_COLUMNS)
    t = NAME_SEARCH_TABLE
    try:
        with db.database.atomic():  # (a savepoint: no FTS5 here leaves the upgrade's transaction usable)
            db.database.execute_sql(f"CREATE VIRTUAL TABLE IF NOT EXISTS {t} USING fts5({cols}, "
                                    f"content='patient', content_rowid='id', tokenize='trigram')")
    except Exception:  # noqa: BLE001 - no FTS5 (or no trigram tokenizer): searches read the table
        return
    db.database.execute_sql(f"INSERT INTO {t}({t}) VALUES ('rebuild')")
    forget = f"INSERT INTO {t}({t}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {t}(rowid, {cols}) VALUES (new.id, {new});"
    for name, when, body in (("ai", "AFTER INSERT", learn), ("ad", "AFTER DELETE", forget),
                             ("au", f"AFTER UPDATE OF {cols}", forget + " " + learn)):
        db.database.execute_sql(f"CREATE TRIGGER IF NOT EXISTS {t}_{name} {when} ON patient BEGIN {body} END")


def _v14() -> None:
    """PostgreSQL: an index of the patients in the order lists show them by name
    (:func:`claimdesk.core.db.name_order`: ICU's root collation, case and accents aside), so a
    search of one or two letters, which no trigram index serves, walks the names in that order
    and stops at the first 50 that match (2.3 ms at 94,000 patients, where sorting every match
    took 67 ms). Only on a server built with ICU (without it lists order by ``lower()``, which no
    index here serves). SQLite: nothing (its order calls Python for names beyond ASCII: no
    index can hold it)."""
    c = db.pg_name_collation() if db.is_postgres() else None
    if c is None:
        return
    db.database.execute_sql(f'CREATE INDEX IF NOT EXISTS patient_name_order ON patient '
                            f'(last_name COLLATE "{c}", first_name COLLATE "{c}", id)')


#: Single-column indexes that another index on the same table begins with (v15): the longer one
#: finds the same rows, and every insert (and every move of a split's balance) kept both.
_LED_INDEXES = ("charge_encounter_id", "charge_patient_id", "charge_split_charge_id", "encounter_queue_id",
                "encounter_payer_encounter_id")


def _v15() -> None:
    """Cheaper writes: drop the single-column indexes another index begins with (a charge's
    encounter and patient, a split's charge, an encounter's queue, a payer slot's encounter;
    :data:`_LED_INDEXES`). A split's balance is in its open-splits index, so every payment moved
    it into each of the split's indexes: one fewer for each. Lookups by those columns use the
    longer index (charge by encounter and control number, by patient and date; split by charge,
    rank and payer; encounter by queue, status and date; payer slot by encounter and rank)."""
    for name in _LED_INDEXES:
        db.database.execute_sql(f"DROP INDEX IF EXISTS {name}")


def _v16() -> None:
    """A payer's ``remit_ids``: the other ids its 835 remittances name it by (REF*2U, N1*PR04 or
    TRN03), when they are not the payer id its claims carry (docs/era.md, "Matching")."""
    if "remit_ids" not in {c.name for c in db.database.get_columns("payer")}:
        db.database.execute_sql("ALTER TABLE payer ADD COLUMN remit_ids VARCHAR(255) NOT NULL DEFAULT ''")


#: version -> migration step. Append new versions; never edit an old one.
MIGRATIONS = {1: _v1, 2: _v2, 3: _v3, 4: _v4, 5: _v5, 6: _v6, 7: _v7, 8: _v8, 9: _v9, 10: _v10, 11: _v11,
              12: _v12, 13: _v13, 14: _v14, 15: _v15, 16: _v16}
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
    if have == 0:
        _refuse_foreign_tables()
    applied = []
    for version in range(have + 1, CURRENT_VERSION + 1):
        with db.write_transaction():
            MIGRATIONS[version]()
            SchemaVersion.create(version=version, upgraded_at=clock.now())
        applied.append(version)
    with db.write_transaction():  # (again: a guard someone dropped or switched off is back)
        _install_guards(tuple(t for t in APPEND_ONLY if db.database.table_exists(t)))
    from claimdesk.core import db_roles

    db_roles.install()  # PostgreSQL: what each role may do, on every table there is now
    return applied


def _refuse_foreign_tables() -> None:
    """A database with tables but no claimdesk schema is someone else's: claimdesk never writes its
    tables into it."""
    tables = sorted(t for t in db.database.get_tables() if not t.startswith("sqlite_"))
    if tables:
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        raise StorageError(f"this database is not claimdesk's: it holds other tables ({shown}) and no claimdesk "
                           "schema; give an empty database or a claimdesk one")


def check() -> None:
    """Refuse to work on a database that is missing its schema or is too new."""
    have = current_version()
    if have > CURRENT_VERSION:
        upgrade()  # raises the clear "newer" message
    if have < CURRENT_VERSION:
        raise StorageError(
            f"the database schema is at version {have}, this claimdesk needs "
            f"{CURRENT_VERSION}: run `claimdesk db upgrade` (or `claimdesk init`)")
