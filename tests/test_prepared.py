"""Prepared queries (core/prepared.py): the SQL built once per kind of database, the rows the
same as the ORM query gives, the arguments converted as peewee converts them."""

from __future__ import annotations

import pytest

from claimdesk.core.models import Charge, ChargeSplit, Encounter, Patient
from claimdesk.core.prepared import Prepared, by_id
from claimdesk.core.services import balances

from tests import builders as b


def test_a_prepared_query_gives_the_orm_querys_rows_for_each_argument(database):
    enc_a, _ = b.encounter(b.patient(), [100_00, 40_00])
    enc_b, _ = b.encounter(b.patient(), [25_00])
    builds = []

    def build(enc):
        builds.append(enc)
        return ChargeSplit.select().join(Charge, on=(ChargeSplit.charge == Charge.id)).where(
            Charge.encounter == enc).order_by(ChargeSplit.id)

    splits = Prepared(build)
    for enc in (enc_a, enc_b, enc_a):
        orm = [(s.id, s.rank, s.balance) for s in ChargeSplit.select().join(Charge, on=(
            ChargeSplit.charge == Charge.id)).where(Charge.encounter == enc.id).order_by(ChargeSplit.id)]
        assert [(s.id, s.rank, s.balance) for s in splits.rows(enc.id)] == orm
    assert sum(s.balance for s in splits.rows(enc_a.id)) == 140_00
    assert len(builds) == 1  # built once, run three times (four)


def test_arguments_are_converted_by_the_field_they_are_compared_with(database):
    patient = b.patient()
    by_account = Prepared(lambda acct: Patient.select(Patient.id).where(Patient.account_no == acct).tuples())
    assert by_account.scalar(patient.account_no) == patient.id
    assert by_account.scalar("NO-SUCH") is None
    assert by_id(Patient, str(patient.id)).id == patient.id  # "12" is the id 12, as peewee has it
    assert by_id(Patient, patient.id + 1000) is None


def test_get_by_id_still_refuses_a_missing_row(database):
    enc, _ = b.encounter(b.patient(), [10_00])
    assert Encounter.get_by_id(enc.id).patient_id == enc.patient_id
    with pytest.raises(Encounter.DoesNotExist):
        Encounter.get_by_id(enc.id + 999)


def test_balances_read_by_prepared_queries_follow_the_ledger(database):
    patient = b.patient()
    enc, (charge, _) = b.encounter(patient, [70_00, 30_00])
    assert balances.encounter_balance(enc.id) == 100_00
    assert balances.patient_balance(patient.id).total_ar == 100_00


def test_rows_are_read_the_same_at_every_call_whatever_the_first_call_found(database):
    """The row reader is worked out once (from the first call's cursor, here one with no rows)
    and kept: later calls still give model instances with their joined rows, dicts and tuples
    exactly as the ORM query does."""
    enc, _ = b.encounter(b.patient(), [100_00, 40_00])

    def query(enc_id):
        return (Charge.select(Charge, Encounter).join(Encounter, on=(Charge.encounter == Encounter.id))
                .where(Charge.encounter == enc_id).order_by(Charge.id))

    as_models, as_dicts = Prepared(query), Prepared(lambda e: query(e).dicts())
    as_tuples = Prepared(lambda e: query(e).select(Charge.id, Charge.fee, Encounter.patient).tuples())
    assert as_models.rows(enc.id + 999) == [] and as_dicts.rows(enc.id + 999) == []
    assert as_tuples.rows(enc.id + 999) == []
    for _ in range(2):
        models = as_models.rows(enc.id)
        assert [(c.fee, c.encounter.patient_id, c.encounter.id) for c in models] == [
            (c.fee, c.encounter.patient_id, c.encounter.id) for c in query(enc.id)]
        assert [c.fee for c in models] == [100_00, 40_00]
        assert as_dicts.rows(enc.id) == list(query(enc.id).dicts())
        assert as_tuples.rows(enc.id) == [(c.id, c.fee, enc.patient_id) for c in models]
