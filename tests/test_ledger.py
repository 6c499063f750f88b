"""The ledger refuses unbalanced entries, keeps caches, and is append-only."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from claimdesk.core import db, ledger
from claimdesk.core.errors import LedgerError
from claimdesk.core.models import (
    Charge, ChargeSplit, Encounter, JournalEntry, Patient, Payer, Posting, Provider, ServiceCode,
)


def _split(fee=10000):
    pat = Patient.create(account_no="A1", last_name="Doe", first_name="Jan")
    prov = Provider.create(name="Dr. A")
    code = ServiceCode.create(code="99213", default_fee=fee)
    enc = Encounter.create(patient=pat, provider=prov, dos=dt.date(2026, 1, 5), created_at=dt.datetime(2026, 1, 5))
    ch = Charge.create(encounter=enc, patient=pat, service_code=code, fee=fee, provider=prov, dos=enc.dos)
    payer = Payer.get(Payer.name == "Patient")
    return ChargeSplit.create(charge=ch, rank="patient", payer=payer, patient=pat)


def test_unbalanced_entry_is_refused_and_nothing_written(database):
    with db.write_transaction():
        split = _split()
    with pytest.raises(LedgerError, match="does not balance"):
        with db.write_transaction():
            ledger.post("charge", [ledger.ar(split, 100), ledger.Line("REVENUE", -99)], user="t")
    assert JournalEntry.select().count() == 0
    assert Posting.select().count() == 0


def test_balanced_entry_updates_split_cache_and_reversal_restores_it(database):
    with db.write_transaction():
        split = _split()
        entry = ledger.post("charge", [ledger.ar(split, 10000), ledger.Line("REVENUE", -10000, charge_id=split.charge_id)], user="t")
    assert ChargeSplit.get_by_id(split.id).balance == 10000
    with db.write_transaction():
        rev = ledger.reverse(entry, memo="keyed twice", user="t")
    assert rev.reverses_id == entry.id
    assert ChargeSplit.get_by_id(split.id).balance == 0
    with pytest.raises(LedgerError, match="already reversed"):
        with db.write_transaction():
            ledger.reverse(entry, memo="again", user="t")


def test_split_cannot_go_below_zero(database):
    with db.write_transaction():
        split = _split()
    with pytest.raises(LedgerError, match="below zero"):
        with db.write_transaction():
            ledger.post("adj", [ledger.ar(split, -5), ledger.Line("WRITEOFF", 5)], user="t")


def test_postings_are_append_only(database):
    with db.write_transaction():
        split = _split()
        ledger.post("charge", [ledger.ar(split, 500), ledger.Line("REVENUE", -500)], user="t")
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with db.write_transaction():
            Posting.update(amount=1).execute()
    with pytest.raises(peewee.DatabaseError, match="append-only"):
        with db.write_transaction():
            Posting.delete().execute()
    assert sorted(p.amount for p in Posting.select()) == [-500, 500]
