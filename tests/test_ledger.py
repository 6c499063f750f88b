"""The ledger refuses unbalanced entries, keeps caches, and is append-only."""

from __future__ import annotations

import contextlib
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


def test_many_cached_balances_move_at_once_whatever_the_size_of_the_amounts(database):
    """Amounts as Cents of every size in one entry (on PostgreSQL they travel as one array: a
    small last one must not make the array too narrow for the large ones)."""
    from claimdesk.core.money import Cents

    with db.write_transaction():
        first = _split()
        other = ChargeSplit.create(charge=first.charge_id, rank="primary", payer=Payer.create(name="Big Payer"),
                                   patient=first.patient_id)
        ledger.post("charge", [ledger.ar(first, Cents(3_417_600)), ledger.ar(other, Cents(5)),
                               ledger.Line("REVENUE", Cents(-3_417_605), charge_id=first.charge_id)], user="t")
    assert ChargeSplit.get_by_id(first.id).balance == 3_417_600 and ChargeSplit.get_by_id(other.id).balance == 5


def test_split_cannot_go_below_zero(database):
    with db.write_transaction():
        split = _split()
    with pytest.raises(LedgerError, match="below zero"):
        with db.write_transaction():
            ledger.post("adj", [ledger.ar(split, -5), ledger.Line("WRITEOFF", 5)], user="t")


def test_charges_open_their_splits_with_the_fee_and_verify_agrees(database):
    """New charge lines: each split is written with its fee as balance and the ledger does not
    move it again (``splits_opened``); the balances and fees are what the postings say."""
    from claimdesk.core.posting.charges import NewCharge, post_charges
    from claimdesk.core.services import verify

    with db.write_transaction():
        split = _split(fee=0)
        enc = Encounter.get_by_id(Charge.get_by_id(split.charge_id).encounter_id)
        lines = [NewCharge(enc.id, enc.patient_id, Charge.get_by_id(split.charge_id).service_code_id, 1, fee,
                           enc.provider_id, enc.dos) for fee in (125_00, 0, 40_50)]
        made = post_charges(lines, memo="visit")
    assert [ChargeSplit.get_by_id(m.split_id).balance for m in made] == [125_00, 0, 40_50]
    assert made[0].entry_id == made[2].entry_id and made[1].entry_id is None
    assert sorted(p.amount for p in Posting.select().where(Posting.account == "AR")) == [40_50, 125_00]
    assert verify.check_splits() == [] and verify.check_charges() == []  # (what the postings say)


@pytest.mark.parametrize("amounts, refusal", [((-5,), "would go below zero"), ((300, 200), "opened twice")])
def test_opening_splits_refuses_a_negative_line_or_one_split_twice_and_writes_nothing(database, amounts, refusal):
    with db.write_transaction():
        split = _split()
    lines = [ledger.ar(split, cents) for cents in amounts] + [ledger.Line("REVENUE", -sum(amounts))]
    with pytest.raises(LedgerError, match=refusal):
        with db.write_transaction():
            ledger.post_many("charge", [ledger.EntryToPost(lines)], user="t", splits_opened=True)
    assert JournalEntry.select().count() == 0 and ChargeSplit.get_by_id(split.id).balance == 0


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


def _charge_and_payments(split, payments=(2500, 1500, 1000)):
    """A $100.00 charge on ``split`` and some payments against it; the entries in order."""
    entries = [ledger.post("charge", [ledger.ar(split, 10000),
                                      ledger.Line("REVENUE", -10000, charge_id=split.charge_id)], user="t")]
    for amount in payments:
        entries.append(ledger.post("payment", [ledger.ar(split, -amount), ledger.Line("CASH", amount)], user="t"))
    return entries


@pytest.mark.parametrize("chunk", [2000, 2])
def test_reverse_many_mirrors_every_entry_and_restores_the_balance(database, monkeypatch, chunk):
    monkeypatch.setattr(ledger, "_REVERSE_CHUNK", chunk)
    monkeypatch.setattr(ledger, "_DELTA_CHUNK", chunk)
    with db.write_transaction():
        split = _split()
        other = ChargeSplit.create(charge=split.charge_id, rank="primary",
                                   payer=Payer.create(name="Acme Health", kind="commercial"),
                                   patient=split.patient_id)
        entries = _charge_and_payments(split)
        entries += _charge_and_payments(other, payments=(4000,))
    assert ChargeSplit.get_by_id(split.id).balance == 5000
    assert ChargeSplit.get_by_id(other.id).balance == 6000
    payments = [e.id for e in reversed(entries) if e.kind == "payment"]  # newest first
    with db.write_transaction():
        made = ledger.reverse_many(payments, memo="check bounced", user="t")
    assert ChargeSplit.get_by_id(split.id).balance == 10000
    assert ChargeSplit.get_by_id(other.id).balance == 10000
    assert len(made) == 4
    for original, reversal in zip(payments, made):
        rev = JournalEntry.get_by_id(reversal)
        assert rev.reverses_id == original and rev.kind == "reversal:payment" and rev.memo == "check bounced"
        mine = sorted((p.account, p.amount, p.split_id) for p in Posting.select().where(Posting.entry == reversal))
        theirs = sorted((p.account, -p.amount, p.split_id) for p in Posting.select().where(Posting.entry == original))
        assert mine == theirs
    assert made == sorted(made)  # inserted in the order given
    with pytest.raises(LedgerError, match=f"entry {payments[1]} is already reversed"):
        with db.write_transaction():
            ledger.reverse_many([payments[1]], memo="again", user="t")
    with pytest.raises(LedgerError, match="is itself a reversal"):
        with db.write_transaction():
            ledger.reverse_many([made[0]], memo="undo the undo", user="t")


def test_reverse_many_that_would_push_a_balance_below_zero_writes_nothing(database):
    with db.write_transaction():
        split = _split()
        charge, pay = _charge_and_payments(split, payments=(10000,))
    before = (JournalEntry.select().count(), Posting.select().count())
    with pytest.raises(LedgerError, match=f"charge split {split.id} would go below zero"):
        with db.write_transaction():  # reversing the charge alone would leave -$100.00 owed
            ledger.reverse_many([charge.id], memo="wrong charge", user="t")
    assert (JournalEntry.select().count(), Posting.select().count()) == before
    assert ChargeSplit.get_by_id(split.id).balance == 0


def _two_splits():
    """Two splits of one charge (the patient's and a payer's), nothing owed yet."""
    first = _split()
    other = ChargeSplit.create(charge=first.charge_id, rank="primary", payer=Payer.create(name="Some Payer"),
                               patient=first.patient_id)
    return first, other


def _charge(split, cents):
    return [ledger.ar(split, cents), ledger.Line("REVENUE", -cents, charge_id=split.charge_id)]


def test_one_entry_that_would_take_a_balance_below_zero_writes_nothing_and_names_it(database):
    """The entry and its balances' guarded moves go to the server together (PostgreSQL: one
    pipeline): a move the guard refuses, the only one or the second of two caches, or one split
    of two on one cache, refuses the entry, naming that balance; nothing of it is kept, and the
    next entry posts as usual."""
    with db.write_transaction():
        first, other = _two_splits()
        ledger.post("charge", _charge(first, 10000) + _charge(other, 500), user="t")
    before = (JournalEntry.select().count(), Posting.select().count())
    refused = [
        ([ledger.ar(other, -600), ledger.Line("WRITEOFF", 600)], other),  # one move: refused
        ([ledger.ar(first, -9000), ledger.ar(other, -600), ledger.Line("WRITEOFF", 9600)], other),  # one of two
        ([ledger.ar(first, 600), ledger.ar(other, -600)], other),  # a transfer from a split that lacks it
    ]
    for lines, short in refused:
        with pytest.raises(LedgerError, match=f"charge split {short.id} would go below zero"):
            with db.write_transaction():
                ledger.post("adj", lines, user="t")
        assert (JournalEntry.select().count(), Posting.select().count()) == before
        assert [ChargeSplit.get_by_id(s.id).balance for s in (first, other)] == [10000, 500]
    with db.write_transaction():
        ledger.post("adj", [ledger.ar(first, -9000), ledger.ar(other, -500), ledger.Line("WRITEOFF", 9500)], user="t")
    assert [ChargeSplit.get_by_id(s.id).balance for s in (first, other)] == [1000, 0]
    assert JournalEntry.select().count() == before[0] + 1


def test_deferred_balances_move_once_by_the_net_of_the_entries(database):
    """Inside ``balances_deferred`` the entries are written at once and the cached balances move
    when the block ends, to what posting them one by one gives."""
    with db.write_transaction():
        first, other = _two_splits()
        ledger.post("charge", _charge(first, 10000) + _charge(other, 500), user="t")
    with db.write_transaction():
        with ledger.balances_deferred():
            ledger.post("transfer", [ledger.ar(first, -3000), ledger.ar(other, 3000)], user="t")
            ledger.post("adj", [ledger.ar(other, -3500), ledger.Line("WRITEOFF", 3500)], user="t")
            ledger.post("adj", [ledger.ar(first, -7000), ledger.Line("WRITEOFF", 7000)], user="t")
            assert ChargeSplit.get_by_id(first.id).balance == 10000  # (held back)
        assert ChargeSplit.get_by_id(first.id).balance == 0 and ChargeSplit.get_by_id(other.id).balance == 0
    assert JournalEntry.select().count() == 4 and Posting.select().count() == 10


def test_deferred_balances_refuse_a_running_total_below_zero_though_the_net_is_not(database):
    """The guard holds each entry in turn: a split taken below zero by one entry is refused
    even when a later entry of the block would bring it back (as posting them one by one)."""
    with db.write_transaction():
        first, _other = _two_splits()
        ledger.post("charge", _charge(first, 1000), user="t")
    before = (JournalEntry.select().count(), Posting.select().count())
    for deferred in (False, True):
        with (pytest.raises(LedgerError, match=f"charge split {first.id} would go below zero"),
              db.write_transaction(), ledger.balances_deferred() if deferred else contextlib.nullcontext()):
            ledger.post("adj", [ledger.ar(first, -1500), ledger.Line("WRITEOFF", 1500)], user="t")
            ledger.post("charge", _charge(first, 2000), user="t")
        assert (JournalEntry.select().count(), Posting.select().count()) == before
        assert ChargeSplit.get_by_id(first.id).balance == 1000


def test_deferred_balances_apply_nothing_when_the_block_raises(database):
    with db.write_transaction():
        first, _other = _two_splits()
        ledger.post("charge", _charge(first, 1000), user="t")
    with db.write_transaction():
        # (the caller's savepoint takes the entries back)
        with pytest.raises(RuntimeError), db.database.atomic(), ledger.balances_deferred():
            ledger.post("adj", [ledger.ar(first, -400), ledger.Line("WRITEOFF", 400)], user="t")
            raise RuntimeError("refused further on")
        ledger.post("adj", [ledger.ar(first, -1000), ledger.Line("WRITEOFF", 1000)], user="t")  # (all still there)
    assert ChargeSplit.get_by_id(first.id).balance == 0


def test_line_fields_keep_the_order_positional_constructors_use():
    """The engine's hot paths build :class:`ledger.Line` by position (ledger.on_charge,
    credits.apply, adjustments.post_adjustments)."""
    import dataclasses

    assert [f.name for f in dataclasses.fields(ledger.Line)] == [
        "account", "amount", "split_id", "voucher_id", "credit_id", "credit_split_id", "charge_id", "patient_id",
        "payer_id", "provider_id", "reason_code"]


def test_postings_and_bulk_rows_keep_every_value_as_written(database):
    """Texts that need quoting, NULLs and amounts of every size come back as written (on
    PostgreSQL the engine sends many rows as one array literal per column)."""
    from claimdesk.core.models import Adjustment
    from claimdesk.core.money import Cents
    from claimdesk.core.posting.bulk import insert_ids

    odd = ["", "NULL", 'say "hi"', "back\\slash", "{a,b}", "é, ü", " padded ", "a\nb"]
    at = dt.datetime(2026, 1, 5, 9, 30)
    with db.write_transaction():
        split = _split()
        lines = [ledger.ar(split, Cents(3_417_600 * i + 1), code) for i, code in enumerate(odd)]
        lines.append(ledger.Line("REVENUE", -sum(ln.amount for ln in lines), charge_id=split.charge_id))
        entry = ledger.post("charge", lines, user="t", memo='memo "x" {y}')
        ids = insert_ids(Adjustment, ("charge", "split", "kind", "reason_code", "group_code", "amount", "memo",
                                      "created_at", "created_by"),
                         [(split.charge_id, split.id, "writeoff", code, "", Cents(i), code, at, "t")
                          for i, code in enumerate(odd)])
    assert [(p.account, p.amount, p.reason_code, p.split_id, p.voucher_id) for p in
            Posting.select().where(Posting.entry == entry.id).order_by(Posting.id)] == [
        *[("AR", 3_417_600 * i + 1, code, split.id, None) for i, code in enumerate(odd)],
        ("REVENUE", lines[-1].amount, "", None, None)]
    assert JournalEntry.get_by_id(entry.id).memo == 'memo "x" {y}'
    assert [(a.reason_code, a.memo, a.amount, a.created_at) for a in
            Adjustment.select().where(Adjustment.id.in_(ids)).order_by(Adjustment.id)] == [
        (code, code, i, at) for i, code in enumerate(odd)]


def test_deferred_balances_refuse_to_move_for_entries_a_savepoint_took_back(database):
    """Held moves live in the block, not in the database: when a savepoint inside the block
    rolled back an entry they are held for, the block refuses rather than move balances for it."""
    with db.write_transaction():
        first, _other = _two_splits()
        ledger.post("charge", _charge(first, 1000), user="t")
    with pytest.raises(LedgerError, match="1 of the 2 entries"), db.write_transaction(), ledger.balances_deferred():
        ledger.post("adj", [ledger.ar(first, -300), ledger.Line("WRITEOFF", 300)], user="t")
        with pytest.raises(RuntimeError), db.database.atomic():
            ledger.post("adj", [ledger.ar(first, -500), ledger.Line("WRITEOFF", 500)], user="t")
            raise RuntimeError("taken back")
    assert ChargeSplit.get_by_id(first.id).balance == 1000
    assert Posting.select().where(Posting.account == "WRITEOFF").count() == 0
