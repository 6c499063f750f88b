"""Searching patients by part of a name (schema v12: trigram indexes on PostgreSQL)."""

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


def test_postgresql_finds_a_name_through_its_trigram_index(database, backend):
    if backend != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's (SQLite reads the table)")
    names = {row[0] for row in db.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'patient'")}
    assert {"patient_last_name_trigram", "patient_first_name_trigram", "patient_account_no_trigram"} <= names
    b.patient("Castleton", "Ann")
    query = patient_views._containing(patient_views.Patient.select(), "castle")
    sql, params = query.sql()
    with db.database.atomic():
        db.sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in db.database.execute_sql("EXPLAIN " + sql, params))
    assert "patient_last_name_trigram" in plan
