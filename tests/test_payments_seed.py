"""The examples of payments-sos.txt, to the cent."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import AuditEvent, ChargeSplit, Credit, Voucher
from claimdesk.core.posting import allocation
from claimdesk.core.services import balances, patient_views, payment_views, payments
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services.verify import verify

from tests import builders as b


def _three_charges(pat, fees):
    """Three self-pay encounters on consecutive months, oldest first."""
    return [b.encounter(pat, [fee], dos=dt.date(2026, m, 10))[1][0] for m, fee in zip((1, 2, 3), fees)]


def test_auto_apply_pays_oldest_first_partial_on_last(database):
    pat = b.patient()
    charges = _three_charges(pat, [40_00, 36_00, 24_00])  # $100 in all
    vid = b.voucher(None, 50_00, method="cash", receipt_number="R1")
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid})  # amount defaults to $50
    assert [(a["charge_id"], a["amount"]) for a in res["applied"]] == [
        (charges[0].id, 40_00), (charges[1].id, 10_00)]
    assert balances.charge_balance(charges[0].id) == 0
    assert balances.charge_balance(charges[1].id) == 26_00
    assert balances.patient_balance(pat.id).patient_due == 100_00 - 50_00
    assert verify() == []


def test_seed_fifty_dollars_over_88_two_paid_twelve_partial(database):
    pat = b.patient()
    charges = _three_charges(pat, [20_00, 18_00, 50_00])  # outstanding $88
    vid = b.voucher(None, 50_00, method="cash")
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "apply": "auto"})
    assert [a["amount"] for a in res["applied"]] == [20_00, 18_00, 12_00]
    assert [balances.charge_balance(c.id) for c in charges] == [0, 0, 38_00]
    assert res["unapplied"] == 0 and res["voucher_undistributed"] == 0


@pytest.mark.parametrize("keep", [True, False])
def test_seed_150_over_138_keeps_or_returns_twelve(database, keep):
    pat = b.patient()
    charges = _three_charges(pat, [50_00, 40_00, 48_00])  # outstanding $138
    vid = b.voucher(None, 150_00, method="cash")
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": keep})
    assert res["applied_total"] == 138_00
    assert all(balances.charge_balance(c.id) == 0 for c in charges)
    if keep:
        assert res["unapplied"] == 12_00 and balances.credit_unapplied(res["credit_id"]) == 12_00
        assert (res["drawn"], res["returned_to_voucher"]) == (150_00, 0)
        assert balances.voucher_undistributed(vid) == 0
        assert balances.patient_balance(pat.id).unapplied == 12_00
    else:
        assert res["unapplied"] == 0 and res["returned_to_voucher"] == 12_00
        assert res["drawn"] == 138_00
        assert balances.voucher_undistributed(vid) == 12_00
        assert [v["voucher_id"] for v in payment_views.payer_vouchers(None)] == [vid]
    assert verify() == []


@pytest.mark.parametrize("keep, drawn, unapplied, back", [(True, 60_00, 45_00, 0), (False, 15_00, 0, 45_00)])
@pytest.mark.parametrize("apply", ["auto", "manual"])
def test_credit_result_says_what_was_drawn_kept_and_sent_back(database, keep, drawn, unapplied, back, apply):
    """$60 over one $15 charge: kept, the $45 stays on the credit (nothing back to the
    voucher); not kept, only $15 stays drawn and $45 goes back. The result matches the books."""
    pat = b.patient()
    (ch,) = b.encounter(pat, [15_00])[1]
    vid = b.voucher(None, 60_00, method="cash")
    data = {"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": keep, "apply": apply}
    if apply == "manual":
        data["applications"] = [{"charge_id": ch.id}]
    res = payments.post_credit(data)
    assert (res["drawn"], res["applied_total"], res["unapplied"], res["returned_to_voucher"]) == (
        drawn, 15_00, unapplied, back)
    assert res["voucher_undistributed"] == back == balances.voucher_undistributed(vid)
    assert balances.credit_drawn(res["credit_id"]) == drawn
    assert balances.credit_unapplied(res["credit_id"]) == unapplied
    assert res["drawn"] == res["applied_total"] + res["unapplied"]
    assert verify() == []


def _medicare_patients(medicare):
    pats = [b.patient(last=n) for n in ("Ames", "Burke", "Cole")]
    encs = [b.encounter(p, [100_00], payers=[medicare])[1][0] for p in pats]
    return pats, encs


def test_seed_medicare_500_check_pays_three_patients_through_undistributed(database):
    medicare = b.payer("Medicare", "medicare")
    pats, charges = _medicare_patients(medicare)
    vid = b.voucher(medicare, 500_00)
    assert Voucher.get_by_id(vid).undistributed == 500_00
    for pat, ch in zip(pats, charges):
        res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": "100.00"})
        assert res["applied_total"] == 100_00
        assert balances.charge_balance(ch.id) == 0
    assert balances.voucher_undistributed(vid) == 200_00
    assert balances.payer_balance(medicare.id) == 0
    assert verify() == []


def test_seed_medicare_wrong_path_leaves_400_unapplied_to_patient_one(database):
    medicare = b.payer("Medicare", "medicare")
    pats, charges = _medicare_patients(medicare)
    vid = b.voucher(medicare, 500_00)
    res = payments.post_credit({"patient_id": pats[0].id, "voucher_id": vid, "amount": "500.00",
                                "keep_unapplied": True})
    assert res["applied_total"] == 100_00
    assert res["unapplied"] == 400_00
    assert balances.voucher_undistributed(vid) == 0
    with pytest.raises(Refused, match="no undistributed money"):
        payments.post_credit({"patient_id": pats[1].id, "voucher_id": vid})
    # The $400 is patient one's only: it cannot pay patient two's charge.
    with pytest.raises(Refused, match="belongs to patient"):
        payments.apply_unapplied({"credit_id": res["credit_id"], "patient_id": pats[1].id})
    with pytest.raises(Refused, match="another patient"):
        payments.apply_unapplied({"credit_id": res["credit_id"], "patient_id": pats[0].id, "apply": "manual",
                                  "applications": [{"charge_id": charges[1].id}]})
    assert balances.charge_balance(charges[1].id) == 100_00
    assert verify() == []


def test_unapplied_money_applies_later_to_same_patient(database):
    pat = b.patient()
    vid = b.voucher(None, 30_00, method="cash")
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    assert res["unapplied"] == 30_00  # nothing open yet
    audits = AuditEvent.select().count()
    with pytest.raises(Refused) as nothing_open:  # nothing to pay yet: refused, not an empty workflow
        payments.apply_unapplied({"credit_id": res["credit_id"], "patient_id": pat.id})
    assert nothing_open.value.field == "credit_id" and "stays unapplied" in str(nothing_open.value)
    assert AuditEvent.select().count() == audits
    (ch,) = b.encounter(pat, [45_00])[1]
    later = payments.apply_unapplied({"credit_id": res["credit_id"], "patient_id": pat.id})
    assert later["applied_total"] == 30_00 and later["unapplied"] == 0
    assert balances.charge_balance(ch.id) == 15_00
    ledger_credit = patient_views.patient_ledger(pat.id)["credits"][0]
    assert (ledger_credit["payer"], ledger_credit["drawn"], ledger_credit["applied"], ledger_credit["unapplied"]) == (
        "Patient", 30_00, 30_00, 0)
    assert verify() == []


def test_manual_apply_pays_the_chosen_charge_first(database):
    pat = b.patient()
    charges = _three_charges(pat, [20_00, 18_00, 50_00])
    vid = b.voucher(None, 50_00, method="cash")
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "apply": "manual",
                                "applications": [{"charge_id": charges[2].id}]})
    assert [(a["charge_id"], a["amount"]) for a in res["applied"]] == [(charges[2].id, 50_00)]
    assert [balances.charge_balance(c.id) for c in charges] == [20_00, 18_00, 0]


def test_credit_cannot_exceed_voucher_and_nothing_is_written(database):
    pat = b.patient()
    b.encounter(pat, [80_00])
    vid = b.voucher(None, 50_00, method="cash")
    before = Credit.select().count()
    with pytest.raises(Refused) as err:
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": "50.01"})
    assert err.value.field == "amount"
    assert Credit.select().count() == before
    assert balances.voucher_undistributed(vid) == 50_00


@pytest.mark.parametrize("amount", ["12.345", "-5.00", "NaN", "Infinity", "1e9", 12.5, "twelve"])
def test_bad_amounts_are_refused_naming_the_field(database, amount):
    pat = b.patient()
    vid = b.voucher(None, 50_00, method="cash")
    with pytest.raises(InputError) as err:
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": amount})
    assert err.value.field == "amount"
    assert Credit.select().count() == 0


def test_voucher_made_on_the_fly_persists_when_credit_entry_is_abandoned(database):
    medicare = b.payer("Medicare", "medicare")
    pat, other = b.patient(), b.patient(last="Other")
    (mine,) = b.encounter(pat, [80_00], payers=[medicare])[1]
    (theirs,) = b.encounter(other, [90_00], payers=[medicare])[1]
    # Credit entry: the clerk makes the check on the fly...
    vid = payments.create_voucher({"payer_id": medicare.id, "method": "check", "amount": "500.00",
                                   "details": {"check_number": "7001"}})["voucher_id"]
    # ...then picks the other patient's charge: refused, and the clerk abandons the entry.
    with pytest.raises(Refused, match="another patient"):
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "apply": "manual",
                              "applications": [{"charge_id": theirs.id}]})
    assert Credit.select().count() == 0
    # The check is still there with all its money, and later pays the patient's charge.
    assert [(v["voucher_id"], v["undistributed"]) for v in payment_views.payer_vouchers(medicare.id)] == [(vid, 500_00)]
    assert balances.voucher_undistributed(vid) == 500_00
    assert [balances.charge_balance(mine.id), balances.charge_balance(theirs.id)] == [80_00, 90_00]
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": "80.00"})
    assert balances.voucher_undistributed(vid) == 420_00
    assert verify() == []


def test_unknown_payment_method_is_refused(database):
    medicare = b.payer("Medicare", "medicare")
    with pytest.raises(InputError) as err:
        payments.create_voucher({"payer_id": medicare.id, "method": "bitcoin", "amount": "5.00"})
    assert err.value.field == "method"


def test_idempotent_submit_posts_once_and_replay_with_other_payload_is_refused(database):
    pat = b.patient()
    b.encounter(pat, [80_00])
    vid = b.voucher(None, 50_00, method="cash")
    data = {"patient_id": pat.id, "voucher_id": vid, "amount": "20.00"}
    first = payments.post_credit(data, idempotency_key="k1")
    again = payments.post_credit(data, idempotency_key="k1")
    assert again["credit_id"] == first["credit_id"]
    assert Credit.select().count() == 1
    with pytest.raises(Refused, match="already used"):
        payments.post_credit({**data, "amount": "21.00"}, idempotency_key="k1")
    assert balances.voucher_undistributed(vid) == 30_00
    assert ChargeSplit.select().where(ChargeSplit.balance == 60_00).count() == 1


def test_a_submit_whose_audit_event_cannot_be_written_leaves_nothing_and_the_desk_works_on(
        database, monkeypatch):
    """Two clerks' submits with one key, racing: the second one's own check saw no event yet
    (made so here), so its audit event, the workflow's last write, is refused by the key's
    unique index. Then nothing of that submit is kept (no credit, the check untouched), the
    clerk gets the database's refusal, and the next submit posts as usual."""
    import peewee

    pat = b.patient()
    b.encounter(pat, [80_00])
    vid = b.voucher(None, 50_00, method="cash")
    data = {"patient_id": pat.id, "voucher_id": vid, "amount": "20.00"}
    payments.post_credit(data, idempotency_key="k1")
    monkeypatch.setattr(AuditEvent, "get_or_none", classmethod(lambda cls, *a, **k: None))
    with pytest.raises(peewee.IntegrityError):
        payments.post_credit(data, idempotency_key="k1")
    assert Credit.select().count() == 1
    assert balances.voucher_undistributed(vid) == 30_00
    monkeypatch.undo()
    payments.post_credit({**data, "amount": "5.00"}, idempotency_key="k2")
    assert Credit.select().count() == 2
    assert balances.voucher_undistributed(vid) == 25_00
    assert ChargeSplit.select().where(ChargeSplit.balance == 55_00).count() == 1
    assert verify() == []


def test_one_patients_money_reaches_the_same_splits_as_a_batch_would(database):
    """The auto-apply order, read a page at a time for one patient (a credit entry), stops at
    the same splits as the running total over many patients (batch posting)."""
    import random

    rng = random.Random(7)
    payer = b.payer("Aetna")
    pats = [b.patient() for _ in range(3)]
    for pat in pats:  # many open charges (more than one page), some on the same day, some paid
        for day in range(1, 13):
            fees = [rng.choice([0, 5_00, 12_34, 40_00]) for _ in range(rng.randint(1, 2))]
            b.encounter(pat, fees, payers=[payer] if day % 3 else [], dos=dt.date(2026, 1, day))
    check = b.voucher(None, 30_00)
    payments.post_credit({"patient_id": pats[0].id, "voucher_id": check})  # pays some oldest first
    for payer_id in (payer.id, patient_payer().id):
        for amount in (1, 5_00, 5_01, 60_00, 250_00, 10_000_00):
            one = {p.id: allocation.reachable_splits(payer_id, {p.id: amount}).get(p.id, []) for p in pats}
            many = allocation.reachable_splits(payer_id, {p.id: amount for p in pats}, chunk=2)
            assert one == {p.id: many.get(p.id, []) for p in pats}, (payer_id, amount)
    assert len(allocation.reachable_splits(payer.id, {pats[1].id: 10_000_00})[pats[1].id]) > 8  # past a page
