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
