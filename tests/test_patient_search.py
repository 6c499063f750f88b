"""Searching patients by part of a name (trigram indexes: PostgreSQL schema v12, SQLite FTS5 v13)."""

from __future__ import annotations

import pytest

from claimdesk.core import db
from claimdesk.core.services import patient_views

from tests import builders as b


def test_a_name_search_finds_the_patients_in_name_order_with_what_each_owes(database):
    castle = b.patient("Castleton", "Ann")
    b.encounter(castle, [80_00])
    b.patient("Newcastle", "Bo")
    b.patient("Smith", "Castlemaine")
    b.patient("Jones", "Ed")
    found = patient_views.find_patients("castle")
    assert [r["name"] for r in found] == ["Castleton, Ann", "Newcastle, Bo", "Smith, Castlemaine"]
    assert [r["insurance_pending"] + r["patient_due"] for r in found] == [80_00, 0, 0]
    assert patient_views.find_patients("ca") [:1] == found[:1]  # (two letters: the plain search)
    assert patient_views.find_patients("zzq") == []


def test_a_number_beyond_postgresqls_ids_finds_nothing_rather_than_failing(database):
    # Ids are 32-bit on PostgreSQL, 64-bit on SQLite; one limit (validation.MAX_ID) serves both.
    from claimdesk.core.errors import NotFound
    from claimdesk.core.services import common, payment_views, zero_splits

    b.patient("Vance", "Ida")
    for number in (2**31, 2**40, 2**62, "²", "9" * 5000):  # ("²" a digit to Python; 5,000 nines too long for int())
        assert patient_views.find_patients(str(number)) == []
        assert zero_splits.outstanding(str(number)) == []
        assert payment_views.voucher_search(str(number), include_used=True)["rows"] == []
        if isinstance(number, str):
            continue
        with pytest.raises(NotFound, match=f"no patient with id {number}"):
            common.get(patient_views.Patient, number, "patient")
    assert [r["name"] for r in patient_views.find_patients("vance")] == ["Vance, Ida"]


def test_postgresql_finds_a_name_through_its_trigram_index(database, backend):
    if backend != "postgresql":
        pytest.skip("PostgreSQL's trigram indexes (SQLite's FTS5 table: the test below)")
    names = {row[0] for row in db.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'patient'")}
    assert {"patient_last_name_trigram", "patient_first_name_trigram", "patient_account_no_trigram"} <= names
    b.patient("Castleton", "Ann")
    query = patient_views._containing(patient_views.Patient.select(), "castle", 50)
    sql, params = query.sql()
    with db.database.atomic():
        db.sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in db.database.execute_sql("EXPLAIN " + sql, params))
    assert "patient_last_name_trigram" in plan


def test_postgresql_lists_names_in_order_through_the_name_order_index(database, backend):
    """Two letters (no trigram index serves them): PostgreSQL can walk the patients in the order
    lists show them (schema v14) and stop at the first 50 that match, rather than sort them all."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's index in ICU's order (SQLite has none: its order calls Python)")
    b.patient("Ángel", "Ann")
    query = patient_views._containing(patient_views.Patient.select(), "an", 50)
    sql, params = query.sql()
    with db.database.atomic():
        for what in ("seqscan", "bitmapscan", "sort"):
            db.sql(f"SET LOCAL enable_{what} = off")
        plan = "\n".join(r[0] for r in db.database.execute_sql("EXPLAIN " + sql, params))
    assert "patient_name_order" in plan and "Sort" not in plan


def test_sqlite_finds_a_name_through_its_fts5_table_kept_by_the_patient_triggers(database, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's FTS5 table (PostgreSQL's trigram indexes: the test above)")
    from claimdesk.core.models import Patient

    ann = b.patient("Castleton", "Ann")
    query = patient_views._containing(Patient.select(), "castle", 50)
    plan = " ".join(str(r[-1]) for r in db.database.execute_sql("EXPLAIN QUERY PLAN " + query.sql()[0],
                                                                  query.sql()[1]))
    assert "VIRTUAL TABLE INDEX 0:M" in plan  # (the FTS5 table, by MATCH)
    assert [r["name"] for r in patient_views.find_patients("ASTLE")] == ["Castleton, Ann"]
    Patient.update(last_name="Rivers").where(Patient.id == ann.id).execute()  # (the triggers keep the index)
    assert patient_views.find_patients("castle") == []
    assert [r["name"] for r in patient_views.find_patients("iver")] == ["Rivers, Ann"]
    Patient.delete().where(Patient.id == ann.id).execute()
    assert patient_views.find_patients("iver") == []


@pytest.mark.parametrize("needle", ["castle", "CASTLE", "stle", "ann", "smith, castle", "smith, c", "sm, castle",
                                    "a0", "o'neil", 'say "hi"', "new castle", "%", "a_c", "zzq"])
def test_a_search_through_the_index_finds_the_same_patients_as_reading_the_table(database, monkeypatch, needle):
    import datetime as dt

    for n, (last, first) in enumerate((("Castleton", "Ann"), ("Newcastle", "Bo"), ("Smith", "Castlemaine"),
                                       ("O'Neil", "Ann"), ("Say \"Hi\"", "Jo"), ("New Castle", "Ed"),
                                       ("A_C", "Pct%"), ("Smith", "Cy"), ("Castle", "Al"))):
        b.patient(last, first, dob=dt.date(1970, 1, 1 + n % 2))
    searches = [{}, {"limit": 2}, {"dob": dt.date(1970, 1, 2)}]
    through_index = [patient_views.find_patients(needle, **kw) for kw in searches]
    monkeypatch.setattr(patient_views, "_trigram_narrowing", lambda needle: None)
    assert through_index == [patient_views.find_patients(needle, **kw) for kw in searches]
    if needle == "castle":
        assert [r["name"] for r in through_index[1]] == ["Castle, Al", "Castleton, Ann"]
    if needle == "smith, c":
        assert [r["name"] for r in through_index[0]] == ["Smith, Castlemaine", "Smith, Cy"]


def test_wildcards_typed_are_letters_and_case_is_ignored_in_every_alphabet(database):
    """A clerk's ``%`` or ``_`` is looked for as typed (never a wildcard); upper and lower case
    are the same letter, accented ones too, on both engines (SQLite's own LOWER folds A-Z only:
    "Élodie", typed exactly, found nobody there)."""
    b.patient("Abc", "Ann")
    b.patient("A_C", "Bo")
    b.patient("Pct", "100%")
    b.patient("Ørsted", "Élodie")
    b.patient("Zoë", "Max")
    b.patient("Back\\slash", "Cy")

    def names(text):
        return [r["name"] for r in patient_views.find_patients(text)]
    assert names("a_c") == ["A_C, Bo"]
    assert names("0%") == ["Pct, 100%"]
    assert names("k\\s") == ["Back\\slash, Cy"]
    assert names("ABC") == ["Abc, Ann"]
    assert names("ØRST") == names("ørst") == names("Ørsted") == ["Ørsted, Élodie"]
    assert names("ÉLOD") == names("élodie") == names("Élodie") == ["Ørsted, Élodie"]
    assert names("ZOË") == names("zoë") == ["Zoë, Max"]
    assert names("zoe") == []  # (an accent is a letter of its own)


def test_names_come_in_the_order_a_clerk_looks_for_them_case_and_accents_aside(database):
    """A list of patients by name is alphabetical by the letters, on both engines and whichever
    way the search found them: "Ángel" among the A's and "de la Cruz" among the D's, where the
    byte order of their characters put both after "Zimmerman"; "Mcallister" before "McDonald"."""
    import datetime as dt

    born = dt.date(1961, 4, 5)
    for last in ("Zimmerman", "de la Cruz", "McDonald", "Ángel", "Mcallister", "Østergaard", "Baker", "O'Brien",
                 "Obama", "Smith-Jones", "Smithers", "Dean", "Angel"):
        b.patient(last, "Annika", dob=born)
    alphabetical = ["Angel", "Ángel", "Baker", "de la Cruz", "Dean", "Mcallister", "McDonald", "O'Brien", "Obama",
                    "Østergaard", "Smith-Jones", "Smithers", "Zimmerman"]

    def lasts(rows):
        return [r["name"].split(",")[0] for r in rows]
    assert lasts(patient_views.find_patients("annika")) == alphabetical  # (through the trigram index / FTS5)
    assert lasts(patient_views.find_patients("ka")) == alphabetical  # (two letters: the table read)
    assert lasts(patient_views.find_patients(born.isoformat())) == alphabetical  # (born that day)
    assert lasts(patient_views.find_patients(dob=born)) == alphabetical
    assert lasts(patient_views.find_patients("ka", limit=3)) == alphabetical[:3]  # (the first three by name)


def test_payer_and_provider_pickers_list_names_alphabetically_case_and_accents_aside(database):
    """Every picker of payers or providers (registration, setup, the payment screens, an action's
    form, the claims waiting by payer) is alphabetical like the patient lists: "aetna Better Health"
    and "Épargne Mutuelle" in their places, not after "Zenith Mutual" as byte order had them."""
    from claimdesk.core.models import Encounter
    from claimdesk.core.services import claims, intake_views, payment_views
    from claimdesk.core.services.actions import ActionContext

    for name in ("Zenith Mutual", "aetna Better Health", "Épargne Mutuelle", "Blue Shield", "Emerald Care"):
        b.payer(name)
    for name in ("Dr. Zhou", "dr. adams", "Dr. Émile Roux", "Dr. Baker"):
        b.provider(name)
    payers = ["aetna Better Health", "Blue Shield", "Emerald Care", "Épargne Mutuelle", "Zenith Mutual"]
    providers = ["dr. adams", "Dr. Baker", "Dr. Émile Roux", "Dr. Zhou"]

    def names(rows, key="name"):
        return [r[key] for r in rows]
    assert names(intake_views.registration_choices()["payers"]) == payers
    assert names(intake_views.setup_lists()["payers"]) == payers
    assert names(intake_views.setup_lists()["providers"]) == providers
    assert names(intake_views.entry_choices()["rendering"]) == providers
    assert names(payment_views.paying_payers()) == ["Patient"] + payers
    assert [label.split(" (")[0] for _, label in payment_views.fee_choices()["provider_id"]] == providers
    enc, _ = b.encounter(b.patient("Quinn", "Ada"), payers=[b.payer("Emerald Care")])
    assert [p.name for p in ActionContext(Encounter.get_by_id(enc.id)).insurance_payers()] == payers
    for name in ("Zenith Mutual", "aetna Better Health", "Épargne Mutuelle"):
        b.audited(lambda: claims.queue(enc, b.payer(name), "secondary"), "test.queue")
    assert [c["payer"] for c in claims.queued_list()] == ["aetna Better Health", "Épargne Mutuelle", "Zenith Mutual"]
