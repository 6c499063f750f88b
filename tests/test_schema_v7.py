"""Schema v7 (what a professional claim carries) on a database written at v6.

A v6 database is made the honest way: the v7 columns are taken off the models (so the
version 1 step creates the v6 tables), steps 1-6 run, and rows are written with the models
as v6 code had them, including the ledger through a workflow. ``claimdesk db upgrade`` must
then keep every row and value, fill the new columns sensibly and leave ``verify`` clean.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import peewee
import pytest

from claimdesk.core import clock, db, ledger, migrations, workflow
from claimdesk.core.context import as_user
from claimdesk.core.models import (
    Charge, ChargeSplit, Coverage, Encounter, Patient, Payer, Provider, SchemaVersion, ServiceCode, User,
)
from claimdesk.core.services import charge_entry, verify

#: What v7 added to each model (the columns v6 did not have).
V7_FIELDS = {model: [name for name, _ddl in migrations._V7_COLUMNS[model._meta.table_name]]
             for model in (Patient, Payer, Coverage, Provider, Encounter, Charge)}
V7_CHARGE_INDEX = (("encounter", "control_no"), True)


def _field_name(model, column: str) -> str:
    return next(f.name for f in model._meta.sorted_fields if f.column_name == column)


@contextlib.contextmanager
def models_as_at_v6():
    """The models without their v7 fields (and the v7 index), restored afterwards."""
    taken = {}
    for model, columns in V7_FIELDS.items():
        for column in columns:
            name = _field_name(model, column)
            taken[model, name] = model._meta.fields[name]
            model._meta.remove_field(name)
    Charge._meta.indexes.remove(V7_CHARGE_INDEX)
    try:
        yield
    finally:
        Charge._meta.indexes.append(V7_CHARGE_INDEX)
        for (model, name), field in taken.items():
            model._meta.add_field(name, field)


def test_the_models_come_back_whole_after_standing_in_for_v6():
    before = {m: [f.name for f in m._meta.sorted_fields] for m in V7_FIELDS}
    with models_as_at_v6():
        assert "claim_no" not in Encounter._meta.fields and "sex" not in Patient._meta.fields
    assert {m: [f.name for f in m._meta.sorted_fields] for m in V7_FIELDS} == before
    assert V7_CHARGE_INDEX in Charge._meta.indexes


def write_v6_books() -> dict:
    """Reference rows and an encounter of three charges (two on line 2, as old data can have),
    charged through a workflow; what the test compares."""
    with db.write_transaction():
        User.create(username="tester", role="supervisor")
        payer = Payer.create(name="Acme Health", kind="commercial", payer_code="ACME1",
                             address="PO Box 1000, Salem, OR 97301")
        mcare = Payer.create(name="Medicare Part B", kind="medicare", payer_code="MCR01", address="somewhere")
        doc = Provider.create(name="Elena Marsh, MD", npi="1234567893")
        office = Provider.create(name="Office", kind="administrative")
        code = ServiceCode.create(code="99213", default_fee=110_00)
        pat = Patient.create(account_no="A000001", last_name="Doe", first_name="Jan", dob=dt.date(1970, 1, 2))
        own = Coverage.create(patient=pat, payer=mcare, member_id="1EG4TE5MK73", subscriber="Doe, Jan")
        spouse = Coverage.create(patient=pat, payer=payer, member_id="XYZ1", subscriber="Doe, John",
                                 relationship="spouse")
        enc = Encounter.create(patient=pat, provider=doc, dos=dt.date(2026, 1, 5), created_at=clock.now())
        lines = [Charge.create(encounter=enc, patient=pat, line_no=n, service_code=code, fee=fee, provider=doc,
                               dos=enc.dos) for n, fee in ((1, 110_00), (2, 40_00), (2, 12_00))]
        splits = [ChargeSplit.create(charge=ch, rank="primary", payer=payer, patient=pat) for ch in lines]

    def charge():
        ledger.post("charge", [ln for ch, sp in zip(lines, splits) for ln in (
            ledger.Line("AR", ch.fee, split_id=sp.id, charge_id=ch.id, patient_id=pat.id, payer_id=payer.id),
            ledger.Line("REVENUE", -ch.fee, charge_id=ch.id, patient_id=pat.id, provider_id=doc.id))],
            user="tester", encounter_id=enc.id, patient_id=pat.id)
        return {}

    with as_user("tester"):
        workflow.run("test.v6", charge)
    return {"encounter": enc.id, "charges": [c.id for c in lines], "coverages": (own.id, spouse.id),
            "providers": (doc.id, office.id), "payers": (payer.id, mcare.id)}


def rows_of_v6_columns() -> dict:
    """Every row of the tables v7 changed, in their v6 columns only (but a payer's address, which
    v7 splits into its parts: checked on its own)."""
    out = {}
    for model, new in V7_FIELDS.items():
        table = model._meta.table_name
        cols = [c.name for c in db.database.get_columns(table)
                if c.name not in new and (table, c.name) != ("payer", "address")]
        out[table] = db.database.execute_sql(
            f'SELECT {", ".join(chr(34) + c + chr(34) for c in sorted(cols))} FROM "{table}" ORDER BY id').fetchall()
    return out


@pytest.fixture
def v6_database(db_url):
    db.connect(db_url)
    try:
        with models_as_at_v6():
            for version in range(1, 7):
                with db.write_transaction():
                    migrations.MIGRATIONS[version]()
                    SchemaVersion.create(version=version, upgraded_at=clock.now())
            made = write_v6_books()
        assert migrations.current_version() == 6
        yield made
    finally:
        db.close()


def test_upgrading_v6_to_v7_keeps_every_row_and_fills_the_claim_fields(v6_database):
    made = v6_database
    before = rows_of_v6_columns()
    assert "claim_no" not in {c.name for c in db.database.get_columns("encounter")}

    assert migrations.upgrade() == list(range(7, migrations.CURRENT_VERSION + 1))  # v7, and what came after
    migrations.check()
    assert rows_of_v6_columns() == before  # nothing lost, nothing else changed

    enc = Encounter.get_by_id(made["encounter"])
    assert (enc.claim_no, enc.place_of_service, enc.diagnoses, enc.frequency) == (f"CD{enc.id}", "11", "", "1")
    first, second, third = (Charge.get_by_id(i) for i in made["charges"])
    assert (first.control_no, second.control_no, third.control_no) == ("1", "2", f"2-{third.id}")
    assert {c.status for c in (first, second, third)} == {"active"}
    own, spouse = (Coverage.get_by_id(i) for i in made["coverages"])
    assert (own.plan_type, own.subscriber_last_name) == ("MB", "")
    assert (spouse.plan_type, spouse.subscriber_last_name, spouse.subscriber_first_name) == ("CI", "Doe", "John")
    doc, office = (Provider.get_by_id(i) for i in made["providers"])
    assert (doc.entity, doc.last_name, doc.first_name) == ("person", "Marsh", "Elena")
    assert (office.entity, office.last_name) == ("organization", "Office")
    acme, mcare = (Payer.get_by_id(i) for i in made["payers"])
    assert (acme.address, acme.city, acme.state, acme.zip) == ("PO Box 1000", "Salem", "OR", "97301")
    assert (mcare.address, mcare.city) == ("somewhere", "")  # not in the one-line shape: left as it was
    assert Patient.get().sex == "U"
    assert verify.verify() == []

    with pytest.raises(peewee.IntegrityError), db.write_transaction():  # the new unique indexes hold
        Charge.update(control_no="1").where(Charge.id == second.id).execute()
    with as_user("tester"):  # and the upgraded database takes new work
        res = charge_entry.add_charge({"encounter_id": enc.id, "code": "99213"})
    assert (res["line_no"], res["control_no"]) == (4, "4")
    assert verify.verify() == []


# --- schema v8: what the 837P import keeps ----------------------------------------------------------
V8_TABLES = ("imported_file", "imported_claim")
V8_INDEXES = {"coverage": "coverage_member_id_upper", "patient": "patient_dob"}


@pytest.fixture
def v7_database(db_url):
    """A database at schema v7 (steps 1-7: the v8 tables are not among the models step 1 creates)
    with a patient, a coverage and an encounter entered through the services."""
    db.connect(db_url)
    try:
        for version in range(1, 8):
            with db.write_transaction():
                migrations.MIGRATIONS[version]()
                SchemaVersion.create(version=version, upgraded_at=clock.now())
        with db.write_transaction():
            User.create(username="tester", role="supervisor")
        with as_user("tester"):
            yield write_v7_books()
    finally:
        db.close()


def write_v7_books() -> dict:
    from claimdesk.core.services import coverages, patients
    from claimdesk.core.services import reference_data as ref

    payer = ref.add_payer({"name": "Acme Health", "payer_code": "ACME1"})
    doc = ref.add_provider({"last_name": "Marsh", "first_name": "Elena", "npi": "1234567893"})
    ref.add_code({"code": "99213", "default_fee": "110.00"})
    pat = patients.add_patient({"last_name": "Doe", "first_name": "Jan", "dob": "1970-01-02"})
    coverages.add_coverage({"patient_id": pat["patient_id"], "payer_id": payer["payer_id"], "member_id": "xyz1"})
    enc = charge_entry.add_encounter({"patient_id": pat["patient_id"], "provider_id": doc["provider_id"],
                                      "dos": "2026-01-05", "diagnoses": ["E11.9"], "charges": [{"code": "99213"}]})
    return {"patient": pat["patient_id"], "encounter": enc["encounter_id"]}


def _indexes(table: str) -> set[str]:
    return {ix.name for ix in db.database.get_indexes(table)}


def test_upgrading_v7_to_v8_adds_the_import_tables_and_indexes_and_keeps_every_row(v7_database):
    assert migrations.current_version() == 7
    assert not any(db.database.table_exists(t) for t in V8_TABLES)
    tables = ("patient", "coverage", "encounter", "charge", "charge_split", "journal_entry", "posting", "audit_event")
    before = {t: db.database.execute_sql(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in tables}

    assert migrations.upgrade() == list(range(8, migrations.CURRENT_VERSION + 1))  # v8, and what came after
    migrations.check()
    assert all(db.database.table_exists(t) for t in V8_TABLES)
    for table, index in V8_INDEXES.items():
        assert index in _indexes(table)
    after = {t: db.database.execute_sql(f'SELECT * FROM "{t}" ORDER BY id').fetchall() for t in tables}
    events, kept = after.pop("audit_event"), before.pop("audit_event")
    assert after == before
    width = len(kept[0])  # (v10 adds the client column, and records the users on file: user.baseline)
    assert [row[:width] for row in events[:len(kept)]] == kept
    assert [row[3] for row in events[len(kept):]] == ["user.baseline"]
    assert verify.verify() == []

    # the upgraded database imports a claim of its own patient (member id matched whatever its case)
    from claimdesk.core.services import claim_import
    from tests.x12gen import Address, Person, make_claims, write_837p

    (claim,) = make_claims(1, seed=3)
    claim.subscriber = Person("DOE", "JAN", dt.date(1970, 1, 2), "F", Address("1 ELM ST", "SALEM", "OR", "97301"),
                              "XYZ1")
    claim.payer.payer_id = "ACME1"
    with as_user("tester"):
        report = claim_import.import_files([("one.837", write_837p([claim]))])
    (done,) = report.files
    assert (len(done.imported), done.tallies["patients"].matched, done.tallies["payers"].matched) == (1, 1, 1)
    enc = Encounter.get_by_id(done.imported[0].encounter_id)
    assert enc.patient_id == v7_database["patient"]
    assert verify.verify() == []
