"""Returned (bounced) checks: credits and splits go to zero, balances rise, fee policies."""

from __future__ import annotations

import pytest

from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Charge, Credit, CreditSplit, JournalEntry, Voucher
from claimdesk.core.services import balances, payments, returns
from claimdesk.core.services.verify import verify

from tests import builders as b


def _paid_by_check(n_patients=2):
    """A patient check paying charges of ``n_patients`` patients... one patient per check here."""
    pats, charges = [], []
    for i in range(n_patients):
        pat = b.patient(last=f"P{i}")
        charges.append(b.encounter(pat, [60_00, 40_00])[1])
        pats.append(pat)
    return pats, charges


def test_returning_a_payer_check_zeroes_every_credit_and_split(database):
    aetna = b.payer("Aetna")
    pats = [b.patient(last=n) for n in ("Ames", "Burke")]
    charges = [b.encounter(p, [100_00], payers=[aetna])[1][0] for p in pats]
    vid = b.voucher(aetna, 300_00)
    credits = [payments.post_credit({"patient_id": p.id, "voucher_id": vid, "amount": "100.00"})["credit_id"]
               for p in pats]
    assert balances.payer_balance(aetna.id) == 0
    res = returns.return_check({"voucher_id": vid, "reason": "NSF - insufficient funds"})
    assert res["returned_amount"] == 300_00
    assert sorted(res["credits_zeroed"]) == sorted(credits)
    for cid in credits:
        assert balances.credit_drawn(cid) == 0 and balances.credit_applied(cid) == 0
        assert all(balances.credit_split_amount(cs.id) == 0
                   for cs in CreditSplit.select().where(CreditSplit.credit == cid))
    assert [balances.charge_balance(c.id) for c in charges] == [100_00, 100_00]
    assert balances.payer_balance(aetna.id) == 200_00  # as if the payment had never been made
    assert balances.voucher_undistributed(vid) == 0
    assert Voucher.get_by_id(vid).status == "returned"
    memos = {e.memo for e in JournalEntry.select().where(JournalEntry.patient == pats[0].id)
             if e.reverses_id}
    assert any("NSF - insufficient funds" in m for m in memos)
    assert verify() == []


def test_patient_balance_rises_by_exactly_what_was_reversed(database):
    pat = b.patient()
    b.encounter(pat, [60_00, 40_00])
    vid = b.voucher(None, 70_00)
    before = balances.patient_balance(pat.id).patient_due
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
    assert balances.patient_balance(pat.id).patient_due == before - 70_00
    res = returns.return_check({"voucher_id": vid, "reason": "account closed"})
    assert res["balance_increase_by_patient"] == {str(pat.id): 70_00}
    assert balances.patient_balance(pat.id).patient_due == before
    assert verify() == []


def test_flat_fee_policy_charges_the_fee_to_the_office_provider(database):
    pat = b.patient()
    b.encounter(pat, [60_00])
    office = b.provider("Office Office", kind="administrative")
    b.code("RCFEE", 0)
    vid = b.voucher(None, 60_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
    res = returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat",
                                "fee": {"service_code": "RCFEE", "amount": "25.00", "provider_id": office.id}})
    fee = Charge.get_by_id(res["fee_charge_id"])
    assert (fee.fee, fee.provider_id, fee.kind) == (25_00, office.id, "returned_check_fee")
    assert balances.patient_balance(pat.id).patient_due == 60_00 + 25_00
    assert verify() == []


def test_percent_fee_policy_clamps_to_minimum(database):
    pat = b.patient()
    b.encounter(pat, [300_00])
    office = b.provider("Office Office", kind="administrative")
    b.code("RCFEE", 0)
    vid = b.voucher(None, 300_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
    res = returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "percent",
                                "fee": {"service_code": "RCFEE", "provider_id": office.id, "percent": "5",
                                        "minimum": "25.00", "maximum": "40.00"}})
    assert res["fee"] == 25_00


def test_returning_twice_is_refused_and_returned_check_cannot_fund_credits(database):
    pat = b.patient()
    b.encounter(pat, [60_00])
    vid = b.voucher(None, 100_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": "10.00"})
    returns.return_check({"voucher_id": vid, "reason": "NSF"})
    entries = JournalEntry.select().count()
    with pytest.raises(Refused, match="already returned"):
        returns.return_check({"voucher_id": vid, "reason": "again"})
    with pytest.raises(Refused):
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "amount": "1.00"})
    assert JournalEntry.select().count() == entries
    assert Credit.select().count() == 1


def test_fee_with_bad_input_writes_nothing(database):
    pat = b.patient()
    b.encounter(pat, [60_00])
    vid = b.voucher(None, 60_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
    entries = JournalEntry.select().count()
    with pytest.raises(InputError) as err:
        returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat",
                              "fee": {"service_code": "RCFEE", "amount": "-1", "provider_id": 1}})
    assert err.value.field.startswith("fee")
    assert JournalEntry.select().count() == entries
    assert Voucher.get_by_id(vid).status == "active"


def test_returning_a_check_kept_partly_unapplied_reports_the_net_rise(database):
    """$60 check: $15 applied, $45 kept unapplied. Returned, the patient owes $15 more on
    charges and loses the $45 of unapplied money: the net balance rises $60."""
    pat = b.patient()
    (ch,) = b.encounter(pat, [15_00])[1]
    vid = b.voucher(None, 60_00)
    before = balances.patient_balance(pat.id)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    paid = balances.patient_balance(pat.id)
    assert (paid.patient_due, paid.unapplied, paid.net_due) == (0, 45_00, -45_00)
    res = returns.return_check({"voucher_id": vid, "reason": "NSF"})
    after = balances.patient_balance(pat.id)
    assert res["ar_increase_by_patient"] == {str(pat.id): 15_00}
    assert res["unapplied_removed_by_patient"] == {str(pat.id): 45_00}
    assert res["balance_increase_by_patient"] == {str(pat.id): 60_00} == {str(pat.id): after.net_due - paid.net_due}
    assert (after.patient_due, after.unapplied, after.net_due) == (before.patient_due, 0, 15_00)
    assert balances.charge_balance(ch.id) == 15_00
    assert verify() == []


def _fee(office):
    return {"service_code": "RCFEE", "amount": "25.00", "provider_id": office.id}


def test_the_fee_goes_only_to_a_patient_the_check_paid(database):
    paid_pat, stranger = b.patient(last="Paid"), b.patient(last="Stranger")
    b.encounter(paid_pat, [60_00])
    office = b.provider("Office Office", kind="administrative")
    b.code("RCFEE", 0)
    vid = b.voucher(None, 60_00)
    payments.post_credit({"patient_id": paid_pat.id, "voucher_id": vid})
    entries = JournalEntry.select().count()
    with pytest.raises(Refused, match=f"never paid patient {stranger.id}'s account") as err:
        returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat", "fee": _fee(office),
                              "patient_id": stranger.id})
    assert err.value.field == "patient_id"
    assert JournalEntry.select().count() == entries and Voucher.get_by_id(vid).status == "active"
    assert balances.patient_balance(stranger.id).patient_due == 0
    res = returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat", "fee": _fee(office),
                                "patient_id": paid_pat.id})
    assert Charge.get_by_id(res["fee_charge_id"]).patient_id == paid_pat.id
    assert balances.patient_balance(paid_pat.id).patient_due == 60_00 + 25_00
    assert verify() == []


def test_a_fee_on_a_check_that_paid_two_patients_needs_the_patient_named(database):
    aetna = b.payer("Aetna")
    pats = [b.patient(last=n) for n in ("Ames", "Burke")]
    for p in pats:
        b.encounter(p, [100_00], payers=[aetna])
    office = b.provider("Office Office", kind="administrative")
    b.code("RCFEE", 0)
    vid = b.voucher(aetna, 200_00)
    for p in pats:
        payments.post_credit({"patient_id": p.id, "voucher_id": vid, "amount": "100.00"})
    with pytest.raises(InputError) as err:
        returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat", "fee": _fee(office)})
    assert err.value.field == "patient_id" and Voucher.get_by_id(vid).status == "active"
    res = returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat", "fee": _fee(office),
                                "patient_id": pats[1].id})
    assert res["balance_increase_by_patient"] == {str(pats[0].id): 100_00, str(pats[1].id): 100_00}
    assert [balances.patient_balance(p.id).total_ar for p in pats] == [100_00, 125_00]


def _secondary_queued_by_a_medicare_check():
    """Medicare pays 80.00 of a 100.00 charge by check and moves 20.00 (PR-2) to AARP, whose
    secondary claim is queued; (encounter, charge, medicare, aarp, voucher id)."""
    from claimdesk.core.services import eobs

    medicare, aarp = b.payer("Medicare", "medicare"), b.payer("AARP")
    enc, (ch,) = b.encounter(b.patient(last="Sloan"), [100_00], payers=[medicare, aarp])
    vid = b.voucher(medicare, 80_00)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": medicare.id, "voucher_id": vid,
                   "lines": [{"charge_id": ch.id, "paid": "80.00",
                              "adjustments": [{"group_code": "PR", "reason_code": "2", "amount": "20.00"}]}]})
    return enc, ch, medicare, aarp, vid


def _claims(enc):
    from claimdesk.core.models import Claim

    return [(c.payer.name, c.rank, c.status) for c in Claim.select().where(Claim.encounter == enc.id).order_by(Claim.id)]


def test_a_returned_check_takes_the_secondary_claim_it_made_due_off_the_queue(database):
    enc, ch, medicare, aarp, vid = _secondary_queued_by_a_medicare_check()
    assert _claims(enc) == [("AARP", "secondary", "queued")]

    res = returns.return_check({"voucher_id": vid, "reason": "check stopped"})

    assert _claims(enc) == [("AARP", "secondary", "void")]
    assert res["claims_voided"] and res["encounters_to_review"] == []
    assert balances.charge_balance(ch.id) == 100_00  # Medicare owes its 80.00 again, AARP still 20.00
    from claimdesk.core.services import claims
    assert claims.queued_count(aarp.id) == 0
    assert verify() == []


def test_a_returned_check_sends_an_encounter_whose_secondary_claim_went_out_to_review(database, tmp_path):
    from claimdesk.core.models import AdminMessage, Encounter
    from claimdesk.core.services import claims

    enc, _ch, medicare, aarp, vid = _secondary_queued_by_a_medicare_check()
    b.audited(lambda: claims.build_batch(aarp.id, out_dir=tmp_path))
    assert _claims(enc) == [("AARP", "secondary", "sent")]

    res = returns.return_check({"voucher_id": vid, "reason": "NSF"})

    assert res["encounters_to_review"] == [enc.id] and res["claims_voided"] == []
    assert Encounter.get_by_id(enc.id).queue.key == "review"
    (msg,) = AdminMessage.select().where(AdminMessage.encounter == enc.id)
    assert "AARP" in msg.body and "NSF" in msg.body and "owes again" in msg.body
    assert verify() == []


def test_a_returned_check_leaves_a_secondary_claim_due_on_another_charge(database):
    """The secondary claim stays when another charge is still due to it (its primary paid by a
    check that was not returned)."""
    from claimdesk.core.services import eobs

    medicare, aarp = b.payer("Medicare", "medicare"), b.payer("AARP")
    enc, (one, two) = b.encounter(b.patient(last="Tran"), [100_00, 50_00], payers=[medicare, aarp])
    kept, returned = b.voucher(medicare, 40_00), b.voucher(medicare, 80_00)
    for vid, ch, paid, pr in ((kept, two, "40.00", "10.00"), (returned, one, "80.00", "20.00")):
        eobs.post_eob({"encounter_id": enc.id, "payer_id": medicare.id, "voucher_id": vid,
                       "lines": [{"charge_id": ch.id, "paid": paid,
                                  "adjustments": [{"group_code": "PR", "reason_code": "2", "amount": pr}]}]})
    returns.return_check({"voucher_id": returned, "reason": "NSF"})
    assert _claims(enc) == [("AARP", "secondary", "queued")]
