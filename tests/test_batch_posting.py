"""Batch posting: one payer check spread over many patients in one workflow.

The batch must leave every balance a clerk sees exactly where posting the same lines
one by one with ``payments.post_credit`` leaves it (on a twin clinic in the same
database), write nothing on a bad line or an overdraw, and keep ``verify`` clean.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from claimdesk.core import db
from claimdesk.core.errors import InputError, NotFound, Refused
from claimdesk.core.models import (
    AuditEvent, ChargeSplit, Claim, Credit, CreditSplit, Encounter, JournalEntry, Posting, Voucher,
)
from claimdesk.core.posting import allocation, bulk
from claimdesk.core.services import balances, batch_posting, eobs, patient_views, payments, returns
from claimdesk.core.services.verify import verify

from tests import builders as b


def _aetna_medicare():
    return b.payer("Aetna"), b.payer("Medicare", "medicare")


def _clinic(tag: str) -> list[dict]:
    """Five patients owing Aetna (and Medicare as secondary on some charges), built the
    same way for each ``tag`` so two clinics are twins. Per patient: its charges in order."""
    aetna, medicare = _aetna_medicare()
    out = []
    # 0: three charges over three months, the oldest paid first
    p = b.patient(last=f"{tag}-Ames")
    ch = [b.encounter(p, [fee], payers=[aetna], dos=dt.date(2026, m, 5))[1][0]
          for m, fee in ((3, 30_00), (1, 20_00), (2, 25_00))]
    out.append({"patient": p, "charges": ch})
    # 1: one charge, Aetna primary + Medicare secondary, the EOB already moved 15.00 to Medicare
    p = b.patient(last=f"{tag}-Burke")
    enc, (c1, c2) = b.encounter(p, [60_00, 40_00], payers=[aetna, medicare], dos=dt.date(2026, 2, 1))
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": c1.id, "adjustments": [{"group_code": "PR", "reason_code": "2", "amount": "15.00"}]}]})
    out.append({"patient": p, "charges": [c1, c2]})
    # 2: owes Aetna nothing (self-pay only): the money cannot be applied
    p = b.patient(last=f"{tag}-Cole")
    out.append({"patient": p, "charges": b.encounter(p, [50_00], dos=dt.date(2026, 1, 9))[1]})
    # 3: two charges on one date, one on a removed encounter (never paid by auto-apply)
    p = b.patient(last=f"{tag}-Diaz")
    enc_gone, (gone,) = b.encounter(p, [10_00], payers=[aetna], dos=dt.date(2025, 12, 1))
    with db.write_transaction():
        Encounter.update(status="removed").where(Encounter.id == enc_gone.id).execute()
    _, ch = b.encounter(p, [12_00, 8_00], payers=[aetna], dos=dt.date(2026, 1, 2))
    out.append({"patient": p, "charges": [gone, *ch]})
    # 4: a big balance, paid in part
    p = b.patient(last=f"{tag}-Eng")
    out.append({"patient": p, "charges": b.encounter(p, [500_00], payers=[aetna], dos=dt.date(2026, 4, 1))[1]})
    return out


# (patient index, amount): Ames twice (the second sees what the first paid), Burke pays off the
# primary (Medicare's claim is queued), Cole's money has nowhere to go, Diaz overpays, Eng in part.
LINES = [(0, "25.00"), (1, "45.00"), (2, "10.00"), (0, "40.00"), (3, "30.00"), (4, "123.45"), (1, "5.00")]
TOTAL = 278_45


def _lines(clinic, lines=LINES):
    return [{"patient_id": clinic[i]["patient"].id, "amount": amount} for i, amount in lines]


def _seen(clinic, credit_ids, voucher_id) -> dict:
    """What a clerk sees: every split's balance, each patient's balance summary and ledger
    totals, each credit's drawn/applied/unapplied, the voucher's undistributed money and
    the claims queued, in the clinic's order (ids left out, so twins compare equal)."""
    splits = [[(s.rank, s.payer.name, s.balance, balances.split_balance(s.id))
               for s in ChargeSplit.select().where(ChargeSplit.charge == c.id).order_by(ChargeSplit.id)]
              for pt in clinic for c in pt["charges"]]
    pats = []
    for pt in clinic:
        led = patient_views.patient_ledger(pt["patient"].id)
        pats.append((led["balance"], led["ledger"][-1]["running_balance"] if led["ledger"] else 0,
                     [(c["drawn"], c["applied"], c["unapplied"]) for c in led["credits"]]))
    creds = [(Credit.get_by_id(c).unapplied, balances.credit_drawn(c), balances.credit_applied(c),
              balances.credit_unapplied(c), CreditSplit.select().where(CreditSplit.credit == c).count())
             for c in credit_ids]
    queued = sorted((c.payer.name, c.rank, c.status) for pt in clinic for c in Claim.select().join(Encounter)
                    .where(Encounter.patient == pt["patient"].id))
    return {"splits": splits, "patients": pats, "credits": creds, "queued": queued,
            "voucher": (balances.voucher_undistributed(voucher_id), Voucher.get_by_id(voucher_id).undistributed)}


def _one_by_one(clinic, voucher_id, lines=LINES, **opts) -> list[int]:
    ids = []
    for line in _lines(clinic, lines):
        res = payments.post_credit({**line, "voucher_id": voucher_id, **opts})
        ids.append(res["credit_id"])
    return ids


def _counts() -> tuple:
    return (Credit.select().count(), CreditSplit.select().count(), JournalEntry.select().count(),
            Posting.select().count(), AuditEvent.select().count(), Claim.select().count())


@pytest.mark.parametrize("opts", [{}, {"keep_unapplied": True}, {"apply": "none"}],
                         ids=["return-remainder", "keep-unapplied", "no-apply"])
def test_batch_leaves_the_same_balances_as_posting_each_line_with_post_credit(database, opts):
    aetna, _ = _aetna_medicare()
    batch_clinic, twin_clinic = _clinic("B"), _clinic("T")
    vb, vt = b.voucher(aetna, 400_00), b.voucher(aetna, 400_00)

    entries_before = JournalEntry.select().count()
    res = batch_posting.post_credit_batch({"voucher_id": vb, "lines": _lines(batch_clinic), **opts})
    # one workflow: one audit event, a journal entry per kind
    assert JournalEntry.select().count() - entries_before == len(res["entries"]) <= 3
    twin_ids = _one_by_one(twin_clinic, vt, **opts)

    assert _seen(batch_clinic, res["credit_ids"], vb) == _seen(twin_clinic, twin_ids, vt)
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert ev.action == "credit.post_batch" and ev.entries == res["entries"]
    assert (ev.inputs["voucher_id"], ev.inputs["lines"], ev.inputs["total"]) == (vb, 7, TOTAL)
    assert ev.result["credit_ids"] == res["credit_ids"]
    assert verify() == []


def test_batch_amounts_a_clerk_sees(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    res = batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic), "memo": "ERA 0042"})
    per_line = [(c["amount"], c["applied"], c["unapplied"], c["returned_to_voucher"]) for c in res["credits"]]
    assert per_line == [
        (25_00, 25_00, 0, 0),          # Ames: Jan 20.00 paid, Feb 5.00 of 25.00
        (45_00, 45_00, 0, 0),          # Burke: primary 45.00 paid off (15.00 went to Medicare)
        (10_00, 0, 0, 10_00),          # Cole owes Aetna nothing: back to the check
        (40_00, 40_00, 0, 0),          # Ames again: Feb 20.00 left + Mar 20.00 of 30.00
        (30_00, 20_00, 0, 10_00),      # Diaz: 12.00 + 8.00 (the removed encounter is not paid)
        (123_45, 123_45, 0, 0),        # Eng: in part
        (5_00, 5_00, 0, 0),            # Burke's second charge
    ]
    assert (res["total"], res["applied_total"], res["returned_to_voucher"], res["drawn"]) == (
        278_45, 258_45, 20_00, 258_45)
    assert res["voucher_undistributed"] == 300_00 - 258_45 == balances.voucher_undistributed(vid)
    ames = [balances.charge_balance(c.id) for c in clinic[0]["charges"]]  # Mar, Jan, Feb
    assert ames == [10_00, 0, 0]
    burke = clinic[1]["charges"][0]
    sec = ChargeSplit.get((ChargeSplit.charge == burke.id) & (ChargeSplit.rank == "secondary"))
    assert sec.balance == 15_00
    assert [(c.payer.name, c.rank) for c in Claim.select().where(Claim.status == "queued")
            .join(Encounter).where(Encounter.patient == clinic[1]["patient"].id)] == [("Medicare", "secondary")]
    assert balances.charge_balance(clinic[3]["charges"][0].id) == 10_00
    assert balances.charge_balance(clinic[4]["charges"][0].id) == 500_00 - 123_45
    assert balances.patient_balance(clinic[4]["patient"].id).insurance_pending == 376_55
    assert Credit.get_by_id(res["credit_ids"][0]).memo == "ERA 0042"
    # the patient's ledger screen shows the batch's postings with their credit
    rows = patient_views.patient_ledger(clinic[2]["patient"].id)["ledger"]
    assert [(r["kind"], r["account"], r["amount"], r["credit_id"]) for r in rows if r["kind"] != "charge"] == [
        ("credit", "UNAPPLIED", -10_00, res["credit_ids"][2]),
        ("credit_return", "UNAPPLIED", 10_00, res["credit_ids"][2])]
    assert verify() == []


def test_a_patients_lines_apply_in_order_each_seeing_what_the_earlier_consumed(database):
    aetna, _ = _aetna_medicare()
    pat = b.patient()
    charges = [b.encounter(pat, [fee], payers=[aetna], dos=dt.date(2026, m, 1))[1][0]
               for m, fee in ((1, 10_00), (2, 10_00), (3, 10_00))]
    vid = b.voucher(aetna, 100_00)
    res = batch_posting.post_credit_batch({"voucher_id": vid, "lines": [
        {"patient_id": pat.id, "amount": a} for a in ("15.00", "10.00", "20.00")]})
    assert [(c["applied"], c["returned_to_voucher"]) for c in res["credits"]] == [
        (15_00, 0), (10_00, 0), (5_00, 15_00)]
    paid = [[(cs.charge_id, balances.credit_split_amount(cs.id)) for cs in
             CreditSplit.select().where(CreditSplit.credit == cid).order_by(CreditSplit.id)]
            for cid in res["credit_ids"]]
    ids = [c.id for c in charges]
    assert paid == [[(ids[0], 10_00), (ids[1], 5_00)], [(ids[1], 5_00), (ids[2], 5_00)], [(ids[2], 5_00)]]
    assert [balances.charge_balance(i) for i in ids] == [0, 0, 0]
    assert res["voucher_undistributed"] == 100_00 - 30_00
    assert verify() == []


@pytest.mark.parametrize("bad, field", [
    ({"amount": "12.345"}, "lines.3.amount"),
    ({"amount": "-1.00"}, "lines.3.amount"),
    ({"amount": "0.00"}, "lines.3.amount"),
    ({"amount": 12.5}, "lines.3.amount"),
    ({"patient_id": "x"}, "lines.3.patient_id"),
    ({"memo": "a\x00b"}, "lines.3.memo"),
])
def test_a_bad_line_writes_nothing_and_names_the_field(database, bad, field):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 400_00)
    lines = _lines(clinic)
    lines[3] = {**lines[3], **bad}
    before = _counts()
    with pytest.raises(InputError) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": lines})
    assert err.value.field == field
    assert _counts() == before and balances.voucher_undistributed(vid) == 400_00


@pytest.mark.parametrize("data, field", [
    ({"lines": []}, "lines"),
    ({"lines": "1,2.00"}, "lines"),
    ({"apply": "manual"}, "apply"),
    ({"voucher_id": None}, "voucher_id"),
])
def test_bad_batch_fields_name_the_field(database, data, field):
    aetna, _ = _aetna_medicare()
    pat = b.patient()
    vid = b.voucher(aetna, 10_00)
    with pytest.raises(InputError) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": [{"patient_id": pat.id, "amount": "1.00"}],
                                         **data})
    assert err.value.field == field


def test_an_unknown_patient_is_not_found_naming_its_line_and_nothing_is_written(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 400_00)
    lines = _lines(clinic)
    lines[5] = {**lines[5], "patient_id": 999_999}
    before = _counts()
    with pytest.raises(NotFound) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": lines})
    assert err.value.field == "lines.5.patient_id"
    assert _counts() == before


def test_overdrawing_the_voucher_is_refused_and_nothing_is_written(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, TOTAL - 1)  # one cent short
    before = _counts()
    with pytest.raises(Refused) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)})
    assert err.value.field == "voucher_id"
    assert "278.45" in str(err.value) and "278.44" in str(err.value)
    assert _counts() == before
    assert balances.voucher_undistributed(vid) == TOTAL - 1
    # exactly enough is fine, and the remainders come back to the check
    vid2 = b.voucher(aetna, TOTAL)
    res = batch_posting.post_credit_batch({"voucher_id": vid2, "lines": _lines(clinic)})
    assert res["voucher_undistributed"] == 20_00
    assert verify() == []


def test_a_returned_voucher_cannot_fund_a_batch(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 400_00)
    returns.return_check({"voucher_id": vid, "reason": "NSF"})
    with pytest.raises(Refused) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)})
    assert err.value.field == "voucher_id"
    with pytest.raises(NotFound) as err:
        batch_posting.post_credit_batch({"voucher_id": 987_654, "lines": _lines(clinic)})
    assert err.value.field == "voucher_id"


def test_returning_the_batch_check_puts_every_balance_back(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 400_00)
    before = [balances.patient_balance(pt["patient"].id).as_dict() for pt in clinic]
    res = batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)})
    out = returns.return_check({"voucher_id": vid, "reason": "NSF"})
    assert sorted(out["credits_zeroed"]) == sorted(res["credit_ids"])
    assert [balances.patient_balance(pt["patient"].id).as_dict() for pt in clinic] == before
    assert all(balances.credit_drawn(c) == 0 for c in res["credit_ids"])
    assert verify() == []


def test_a_retried_submit_posts_once_and_other_lines_under_the_same_key_are_refused(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 400_00)
    first = batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)}, idempotency_key="era-42")
    again = batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)}, idempotency_key="era-42")
    assert again["credit_ids"] == first["credit_ids"] and again["audit_id"] == first["audit_id"]
    other = _lines(clinic)
    other[0], other[1] = other[1], other[0]  # same count and total, other lines
    with pytest.raises(Refused) as err:
        batch_posting.post_credit_batch({"voucher_id": vid, "lines": other}, idempotency_key="era-42")
    assert err.value.field == "idempotency_key"
    assert Credit.select().count() == len(LINES)


def test_many_lines_in_chunks_match_one_by_one(database, monkeypatch):
    """More lines and patients than one SQL chunk (the chunk is made small here)."""
    monkeypatch.setattr(allocation, "CHUNK", 4)
    monkeypatch.setattr(bulk, "CHUNK", 4)
    aetna, _ = _aetna_medicare()
    clinics = [_clinic(f"B{i}") for i in range(3)], [_clinic(f"T{i}") for i in range(3)]
    flat = [[pt for c in side for pt in c] for side in clinics]
    lines = [(i, f"{(i * 7) % 40 + 3}.{i % 100:02d}") for i in range(len(flat[0]))] * 2
    vb, vt = b.voucher(aetna, 2000_00), b.voucher(aetna, 2000_00)
    res = batch_posting.post_credit_batch({"voucher_id": vb, "lines": _lines(flat[0], lines)})
    twin = _one_by_one(flat[1], vt, lines)
    assert len(res["credit_ids"]) == 30
    assert _seen(flat[0], res["credit_ids"], vb) == _seen(flat[1], twin, vt)
    assert verify() == []


# --- preview: what posting would do, nothing written ------------------------------------------
@pytest.mark.parametrize("opts", [{}, {"keep_unapplied": True}, {"apply": "none"}],
                         ids=["return-remainder", "keep-unapplied", "no-apply"])
def test_preview_reports_what_posting_then_does_and_writes_nothing(database, opts):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    data = {"voucher_id": vid, "lines": _lines(clinic), "memo": "ERA 7", **opts}
    before = _counts()
    seen = batch_posting.preview(data)
    assert _counts() == before and balances.voucher_undistributed(vid) == 300_00
    assert seen["refusals"] == [] and seen["voucher"]["payer"] == "Aetna"
    res = batch_posting.post_credit_batch(data)
    for key in ("lines", "patients", "total", "drawn", "applied_total", "unapplied", "returned_to_voucher",
                "splits_paid"):
        assert seen[key] == res[key], key
    assert seen["voucher_undistributed"] == 300_00 and seen["voucher_undistributed_after"] == res["voucher_undistributed"]
    per_line = ("patient_id", "amount", "applied", "unapplied", "returned_to_voucher")
    assert [[c[k] for k in per_line] for c in seen["credits"]] == [[c[k] for k in per_line] for c in res["credits"]]
    # which charges each line pays: what the credit splits show after posting
    paid = [[(cs.charge_id, balances.credit_split_amount(cs.id)) for cs in
             CreditSplit.select().where(CreditSplit.credit == cid).order_by(CreditSplit.id)]
            for cid in res["credit_ids"]]
    assert [[(a["charge_id"], a["amount"]) for a in c["applications"]] for c in seen["credits"]] == paid


def test_preview_names_the_charges_a_line_pays(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    seen = batch_posting.preview({"voucher_id": vid, "lines": _lines(clinic, [(0, "25.00")])})
    jan, feb = clinic[0]["charges"][1], clinic[0]["charges"][2]  # Ames: oldest first, partial on the last
    assert seen["credits"][0]["applications"] == [
        {"charge_id": jan.id, "encounter_id": jan.encounter_id, "service_code": "99213", "dos": "2026-01-05",
         "rank": "primary", "amount": 20_00},
        {"charge_id": feb.id, "encounter_id": feb.encounter_id, "service_code": "99213", "dos": "2026-02-05",
         "rank": "primary", "amount": 5_00}]
    assert batch_posting.applications_text(seen["credits"][0]["applications"]) == (
        f"enc {jan.encounter_id} 99213 01-05 20.00; enc {feb.encounter_id} 99213 02-05 5.00")
    assert (seen["applied_total"], seen["returned_to_voucher"], seen["voucher_undistributed_after"]) == (
        25_00, 0, 275_00)


def test_preview_warns_about_every_line_that_applies_nothing(database):
    """The issue's check: posted to three patients who owe that payer nothing, it applied 0.00
    and left 92.00 on the voucher without a word. The preview now says so, per line and in sum."""
    aetna, _ = _aetna_medicare()
    pats = [b.patient(last=f"Owes-Nothing-{i}") for i in range(3)]
    b.encounter(pats[0], [50_00], dos=dt.date(2026, 1, 9))  # self-pay: owes the patient payer, not Aetna
    vid = b.voucher(aetna, 92_00)
    lines = [{"patient_id": p.id, "amount": a} for p, a in zip(pats, ("30.00", "40.00", "22.00"))]
    seen = batch_posting.preview({"voucher_id": vid, "lines": lines})
    assert (seen["applied_total"], seen["returned_to_voucher"], seen["voucher_undistributed_after"]) == (
        0, 92_00, 92_00)
    assert seen["warning"] == "3 lines apply nothing: 92.00 goes back to the voucher"
    assert seen["warnings"] == [
        f"line 1 (patient {pats[0].id}, 30.00): applies nothing: the patient owes Aetna nothing; "
        "30.00 goes back to the voucher",
        f"line 2 (patient {pats[1].id}, 40.00): applies nothing: the patient owes Aetna nothing; "
        "40.00 goes back to the voucher",
        f"line 3 (patient {pats[2].id}, 22.00): applies nothing: the patient owes Aetna nothing; "
        "22.00 goes back to the voucher"]
    assert [c["warnings"] for c in seen["credits"]] == [[w] for w in seen["warnings"]]
    assert seen["refusals"] == []  # a warning, not a refusal: posting it is the clerk's call
    # kept on the accounts instead, the warning says where the money stays
    kept = batch_posting.preview({"voucher_id": vid, "lines": lines[:1], "keep_unapplied": True})
    assert kept["warnings"] == [f"line 1 (patient {pats[0].id}, 30.00): applies nothing: the patient owes Aetna "
                                "nothing; 30.00 stays unapplied on the patient's account"]
    assert kept["warning"] == "1 line applies nothing: 30.00 stays unapplied on the patients' accounts"
    # drawing without applying is what the clerk asked for: no warning
    assert batch_posting.preview({"voucher_id": vid, "lines": lines, "apply": "none"})["warnings"] == []


def test_preview_per_line_plan_of_a_mixed_batch_is_what_posting_then_does(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    pat = b.patient(last="Paid-Up")
    (owed,) = b.encounter(pat, [10_00], payers=[aetna], dos=dt.date(2026, 3, 1))[1]
    vid = b.voucher(aetna, 400_00)
    # Cole (line 3) owes Aetna nothing; the last patient's second line finds the first paid it all
    lines = _lines(clinic) + [{"patient_id": pat.id, "amount": "10.00"}, {"patient_id": pat.id, "amount": "4.00"}]
    seen = batch_posting.preview({"voucher_id": vid, "lines": lines})
    rows = [(c["where"], c["amount"], c["applied"], c["returned_to_voucher"], len(c["applications"]), c["warnings"])
            for c in seen["credits"]]
    cole, diaz = clinic[2]["patient"].id, clinic[3]["patient"].id
    assert rows == [
        ("line 1", 25_00, 25_00, 0, 2, []), ("line 2", 45_00, 45_00, 0, 1, []),
        ("line 3", 10_00, 0, 10_00, 0, [f"line 3 (patient {cole}, 10.00): applies nothing: the patient owes Aetna "
                                        "nothing; 10.00 goes back to the voucher"]),
        ("line 4", 40_00, 40_00, 0, 2, []),
        ("line 5", 30_00, 20_00, 10_00, 2, []),  # Diaz pays in part: no warning, 10.00 back
        ("line 6", 123_45, 123_45, 0, 1, []), ("line 7", 5_00, 5_00, 0, 1, []),
        ("line 8", 10_00, 10_00, 0, 1, []),
        ("line 9", 4_00, 0, 4_00, 0, [f"line 9 (patient {pat.id}, 4.00): applies nothing: the patient's earlier "
                                      "line(s) pay all they owe Aetna; 4.00 goes back to the voucher"])]
    assert seen["warning"] == "2 lines apply nothing: 14.00 goes back to the voucher"
    assert diaz and seen["credits"][7]["applications"][0]["charge_id"] == owed.id
    res = batch_posting.post_credit_batch({"voucher_id": vid, "lines": lines})
    assert [(c["applied"], c["returned_to_voucher"]) for c in res["credits"]] == [
        (c["applied"], c["returned_to_voucher"]) for c in seen["credits"]]
    assert balances.voucher_undistributed(vid) == seen["voucher_undistributed_after"]
    assert verify() == []


def test_posting_uses_the_plan_the_preview_shows(database, monkeypatch):
    """One plan for both: posting hands the money engine the allocations :func:`plan` made."""
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    planned = []
    real = batch_posting.plan

    def spy(payer_id, clean):
        planned.append(real(payer_id, clean))
        return planned[-1]

    monkeypatch.setattr(batch_posting, "plan", spy)
    seen = batch_posting.preview({"voucher_id": vid, "lines": _lines(clinic)})
    res = batch_posting.post_credit_batch({"voucher_id": vid, "lines": _lines(clinic)})
    assert len(planned) == 2
    assert [(a.line, a.split.id, a.amount) for a in planned[0].allocations] == [
        (a.line, a.split.id, a.amount) for a in planned[1].allocations]
    assert res["splits_paid"] == seen["splits_paid"] == len(planned[1].allocations)


# --- typed or pasted lines -------------------------------------------------------------------
def test_typed_lines_are_previewed_and_posted_naming_the_lines_as_typed(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    ames, cole = clinic[0]["patient"].id, clinic[2]["patient"].id
    vid = b.voucher(aetna, 100_00)
    text = f"patient_id,amount,memo\n{ames},25.00,copay\n\n  {cole} , 10.00 ,\"box 3, late\"\n"
    seen = batch_posting.preview({"voucher_id": vid, "text": text})
    assert [(c["where"], c["patient_id"], c["amount"], c["memo"], c["applied"]) for c in seen["credits"]] == [
        ("line 2", ames, 25_00, "copay", 25_00), ("line 4", cole, 10_00, "box 3, late", 0)]
    assert seen["warnings"] == [f"line 4 (patient {cole}, 10.00): applies nothing: the patient owes Aetna nothing; "
                                "10.00 goes back to the voucher"]
    assert seen["source"] == "typed lines" and seen["posted_before"] is None
    res = batch_posting.post_credit_batch({"voucher_id": vid, "text": text})
    assert (res["applied_total"], res["returned_to_voucher"], res["voucher_undistributed"]) == (25_00, 10_00, 75_00)
    assert [Credit.get_by_id(c).memo for c in res["credit_ids"]] == ["copay", "box 3, late"]
    assert AuditEvent.get_by_id(res["audit_id"]).inputs["file_sha256"]

    # the same lines again, typed otherwise (no header, other spacing, 25 for 25.00): refused unless meant
    again = f"{ames},25,copay\n{cole},10.00,\"box 3, late\"\n"
    before = _counts()
    with pytest.raises(batch_posting.AlreadyPosted) as caught:
        batch_posting.post_credit_batch({"voucher_id": vid, "text": again})
    assert caught.value.field == "lines"
    assert caught.value.message.startswith("these lines were posted before: the same lines (sha256 ")
    assert f"went to voucher {vid}" in caught.value.message and f"audit {res['audit_id']}" in caught.value.message
    assert _counts() == before
    shown = batch_posting.preview({"voucher_id": vid, "text": again})
    assert shown["posted_before"]["audit_id"] == res["audit_id"] and shown["refusals"][0]["field"] == "lines"
    assert batch_posting.preview({"voucher_id": vid, "text": again}, again=True)["refusals"] == []
    assert batch_posting.post_credit_batch({"voucher_id": vid, "text": again}, again=True)["lines"] == 2
    # other lines are not a repeat
    assert batch_posting.post_credit_batch({"voucher_id": vid, "text": f"{ames},1.00"})["total"] == 1_00
    assert verify() == []


@pytest.mark.parametrize("text, errors", [
    ("1042,25.00\n1043,1.005", {"line 2, amount": "2 decimals"}),
    ("patient_id,amount,memo\n\nabc,5.00", {"line 3, patient": "must be a whole-number id"}),
    ("1042,5.00\n1043", {"line 2, amount": "missing: type patient_id,amount,memo, e.g. 1042,25.00,copay"}),
    ("1042,1,000.00", {"line 1, amount": "1,000.00 would read as amount 1 and memo 000.00; write amounts "
                                         "without thousands separators (1000.00)"}),
    ("1042,5.00,a,b", {"line 1": "4 fields, more than patient_id,amount,memo: quote a memo with commas"}),
    ("1042,0.00\n1042,-3.00,x\n1042,5.00,\x00", {"line 1, amount": "more than 0.00", "line 2, amount": "",
                                                 "line 3, memo": "control character"}),
    ("patient_id,amt\n1,2.00", {"line 1": "the header must name patient_id,amount[,memo]"}),
    ("\n  \n", {"lines": "type or paste at least one line: patient_id,amount,memo"}),
    ("patient_id,amount,memo\n", {"lines": "at least one line under the header"}),
])
def test_typed_lines_with_errors_name_each_line_and_field_in_the_clerks_words(text, errors):
    with pytest.raises(InputError) as caught:
        batch_posting.parse_text(text)
    flat = caught.value.flat()
    assert list(flat) == list(errors)
    for field, words in errors.items():
        assert words in flat[field][0], (field, flat[field])
    assert not any(k.startswith("lines.") for k in flat)
    assert str(caught.value).startswith(f"{next(iter(errors))}: ")


def test_typed_lines_read_a_header_in_any_order_tabs_and_blank_lines():
    lines = batch_posting.parse_text("memo\tamount\tpatient_id\n\nERA 1\t1,250.00\t7\n\t3.00\t8\n")
    assert list(lines) == [{"patient_id": "7", "amount": "1,250.00", "memo": "ERA 1"},
                           {"patient_id": "8", "amount": "3.00"}]
    assert lines.places == ["line 3", "line 4"] and lines.where(1) == "line 4"
    same = batch_posting.parse_text("7\t1250\tERA 1\n8\t3\n")
    assert same.sha256 == lines.sha256  # the same lines, typed otherwise
    assert batch_posting.parse_text("7,1250.00,ERA 2\n8,3\n").sha256 != lines.sha256


def test_a_typed_line_the_service_refuses_is_named_by_its_line(database):
    aetna, _ = _aetna_medicare()
    pat = b.patient()
    b.encounter(pat, [5_00], payers=[aetna])
    vid = b.voucher(aetna, 10_00)
    text = f"patient_id,amount\n{pat.id},1.00\n999999,2.00\n"
    before = _counts()
    with pytest.raises(NotFound) as caught:
        batch_posting.post_credit_batch({"voucher_id": vid, "text": text})
    assert (caught.value.field, caught.value.message) == ("line 3, patient", "no patient with id 999999")
    seen = batch_posting.preview({"voucher_id": vid, "text": text})
    assert seen["refusals"] == [{"field": "line 3, patient", "message": "no patient with id 999999",
                                 "kind": "not_found"}]
    assert seen["warnings"] == []  # the refusal says it: no warning besides
    with pytest.raises(InputError) as bad:
        batch_posting.preview({"voucher_id": vid, "text": text, "lines": []})
    assert bad.value.field == "text"
    assert _counts() == before


def test_preview_reports_the_refusals_posting_would_raise(database):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    lines = _lines(clinic)
    lines[5] = {**lines[5], "patient_id": 999_999}
    short = b.voucher(aetna, 100_00)
    before = _counts()
    seen = batch_posting.preview({"voucher_id": short, "lines": lines})
    assert _counts() == before
    with pytest.raises(Refused) as err:  # posting raises the first
        batch_posting.post_credit_batch({"voucher_id": short, "lines": lines})
    assert seen["refusals"] == [
        {"field": "voucher_id", "message": err.value.message, "kind": "refused"},
        {"field": "lines.5.patient_id", "message": "no patient with id 999999", "kind": "not_found"}]
    assert seen["credits"][5]["applied"] == 0 and seen["credits"][0]["applied"] == 25_00  # still previewed

    returned = b.voucher(aetna, 400_00)
    returns.return_check({"voucher_id": returned, "reason": "NSF"})
    before = _counts()
    assert [r["message"] for r in batch_posting.preview({"voucher_id": returned, "lines": _lines(clinic)})
            ["refusals"]] == [f"voucher {returned} was returned; it cannot fund credits"]
    missing = batch_posting.preview({"voucher_id": 987_654, "lines": _lines(clinic)})
    assert missing["voucher"] is None and missing["refusals"] == [
        {"field": "voucher_id", "message": "no voucher with id 987654", "kind": "not_found"}]
    assert missing["applied_total"] == 0 and missing["returned_to_voucher"] == TOTAL
    with pytest.raises(InputError) as bad:  # bad input is refused as posting refuses it
        batch_posting.preview({"voucher_id": short, "lines": [{**lines[0], "amount": "1.005"}]})
    assert bad.value.field == "lines.0.amount"
    assert _counts() == before


# --- the command line -----------------------------------------------------------------
def test_cli_post_batch_from_a_csv_file(cli, tmp_path):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    csv_file = tmp_path / "era.csv"
    csv_file.write_text("patient_id,amount,memo\n" + "".join(
        f"{ln['patient_id']},{ln['amount']},line {i}\n" for i, ln in enumerate(_lines(clinic))))
    out = cli.json("payments", "post-batch", "--voucher", str(vid), "--file", str(csv_file))
    assert (out["lines"], out["total"], out["applied_total"], out["returned_to_voucher"],
            out["voucher_undistributed"]) == (7, "278.45", "258.45", "20.00", "41.55")
    assert [(c["amount"], c["applied"], c["returned_to_voucher"]) for c in out["credits"]][:3] == [
        ("25.00", "25.00", "0.00"), ("45.00", "45.00", "0.00"), ("10.00", "0.00", "10.00")]
    assert Credit.get_by_id(out["credit_ids"][4]).memo == "line 4"
    assert verify() == []

    vid2 = b.voucher(aetna, 50_00)
    code, _, err = cli("payments", "post-batch", "--voucher", str(vid2), "--file", str(csv_file), "--again")
    assert code == 4 and "voucher_id" in err and "278.45" in err


def test_the_same_file_posted_twice_is_refused_unless_confirmed(cli, tmp_path):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid, vid2 = b.voucher(aetna, 300_00), b.voucher(aetna, 300_00)
    csv_file = tmp_path / "era.csv"
    csv_file.write_text("patient_id,amount\n" + "".join(f"{ln['patient_id']},{ln['amount']}\n"
                                                        for ln in _lines(clinic)))
    first = cli.json("payments", "post-batch", "--voucher", str(vid), "--file", str(csv_file))
    assert first["total"] == "278.45"
    before = _counts()

    # the same bytes again (a retried script, a clerk posting yesterday's file): on any voucher
    for voucher in (vid, vid2):
        code, out, err = cli("payments", "post-batch", "--voucher", str(voucher), "--file", str(csv_file))
        assert code == 4 and out == ""
        assert err.startswith("claimdesk: error: file: era.csv was posted before") and "--again" in err
        assert f"voucher {vid}" in err and f"audit {first['audit_id']}" in err and "tester" in err
    assert _counts() == before
    # the dry run says so too
    code, out, _ = cli("payments", "post-batch", "--voucher", str(vid2), "--file", str(csv_file), "--dry-run")
    assert code == 4 and "file: era.csv was posted before" in out and "--again" in out
    assert _counts() == before

    again = cli.json("payments", "post-batch", "--voucher", str(vid2), "--file", str(csv_file), "--again")
    assert again["total"] == "278.45" and again["credit_ids"] != first["credit_ids"]
    ev = AuditEvent.get_by_id(again["audit_id"])
    assert ev.inputs["again"] is True and ev.inputs["file_sha256"] == AuditEvent.get_by_id(
        first["audit_id"]).inputs["file_sha256"]
    other = tmp_path / "other.csv"  # another file is not a repeat
    other.write_text(f"patient_id,amount\n{clinic[0]['patient'].id},1.00\n")
    assert cli.json("payments", "post-batch", "--voucher", str(vid2), "--file", str(other))["total"] == "1.00"
    assert verify() == []


def test_a_retried_submit_of_a_file_still_returns_the_first_result(database, tmp_path):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    path = tmp_path / "era.json"
    path.write_text(json.dumps(_lines(clinic)))
    lines = batch_posting.read_lines(str(path))
    data = {"voucher_id": vid, "lines": list(lines)}
    first = batch_posting.post_credit_batch(data, idempotency_key="k1", file_sha256=lines.sha256)
    again = batch_posting.post_credit_batch(data, idempotency_key="k1", file_sha256=lines.sha256)
    assert again["audit_id"] == first["audit_id"]
    with pytest.raises(batch_posting.AlreadyPosted) as caught:
        batch_posting.post_credit_batch(data, idempotency_key="k2", file_sha256=lines.sha256, file_name=lines.name)
    assert caught.value.field == "file" and "era.json was posted before" in caught.value.message
    preview = batch_posting.preview(data, file_sha256=lines.sha256)
    assert preview["posted_before"]["audit_id"] == first["audit_id"] and preview["refusals"][0]["field"] == "file"
    assert [r["field"] for r in batch_posting.preview(data, file_sha256=lines.sha256, again=True)["refusals"]] \
        == ["voucher_id"]  # (the check has 41.55 left: only that)


def test_cli_post_batch_text_json_file_and_errors(cli, tmp_path):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    lines = _lines(clinic, [(0, "25.00"), (2, "10.00")])
    js = tmp_path / "lines.json"
    js.write_text(json.dumps(lines))
    text = cli.ok("payments", "post-batch", "--voucher", str(vid), "--file", str(js), "--no-apply")
    assert "2 credits for 2 patients: 35.00 drawn, 0.00 applied" in text
    assert Credit.select().where(Credit.unapplied == 25_00).count() == 1  # kept unapplied: no apply

    bad = tmp_path / "bad.csv"
    bad.write_text(f"patient_id,amount\n{clinic[0]['patient'].id},1.00\n{clinic[1]['patient'].id},1.005\n")
    before = Credit.select().count()
    code, _, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", str(bad))
    assert code == 2 and "lines.1.amount" in err and "row 3" in err
    code, _, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", str(tmp_path / "none.csv"))
    assert code == 2 and "file" in err
    cols = tmp_path / "cols.csv"
    cols.write_text("patient,amt\n1,2.00\n")
    code, _, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", str(cols))
    assert code == 2 and "patient_id" in err
    assert Credit.select().count() == before


def test_cli_post_batch_dry_run_shows_the_charges_and_posts_nothing(cli, tmp_path):
    aetna, _ = _aetna_medicare()
    clinic = _clinic("B")
    vid = b.voucher(aetna, 300_00)
    csv_file = tmp_path / "era.csv"
    csv_file.write_text("patient_id,amount\n" + "".join(f"{ln['patient_id']},{ln['amount']}\n"
                                                        for ln in _lines(clinic)))
    before = _counts()
    text = cli.ok("payments", "post-batch", "--voucher", str(vid), "--file", str(csv_file), "--dry-run")
    assert "dry run, nothing posted: voucher" in text and "258.45 applied" in text
    jan, feb = clinic[0]["charges"][1], clinic[0]["charges"][2]
    cole = clinic[2]["patient"].id
    rows = [" ".join(line.split()) for line in text.splitlines()]
    # per line (numbered by the file's rows): what it applies, to which charges, what goes back
    assert "row patient amount applied to voucher applied to" in rows
    assert f"2 {clinic[0]['patient'].id} 25.00 25.00 0.00 enc {jan.encounter_id} 99213 01-05 20.00 +1" in rows
    assert all(len(line) <= 80 for line in text.splitlines()[1:10])  # the table fits an 80-column terminal
    assert f"4 {cole} 10.00 0.00 10.00 ! applies nothing" in rows
    # every charge paid, whole
    assert f"2 {jan.id} {jan.encounter_id} 99213 2026-01-05 primary 20.00" in rows
    assert f"2 {feb.id} {feb.encounter_id} 99213 2026-02-05 primary 5.00" in rows
    assert "voucher undistributed 41.55" in rows
    assert rows[-2:] == ["warning: 1 line applies nothing: 10.00 goes back to the voucher",
                         f"row 4 of era.csv (patient {cole}, 10.00): applies nothing: the patient owes Aetna "
                         "nothing; 10.00 goes back to the voucher"]
    out = cli.json("payments", "post-batch", "--voucher", str(vid), "--file", str(csv_file), "--dry-run")
    assert (out["applied_total"], out["returned_to_voucher"], out["refusals"]) == ("258.45", "20.00", [])
    assert out["credits"][0]["applications"][0] == {
        "charge_id": jan.id, "encounter_id": jan.encounter_id, "service_code": "99213", "dos": "2026-01-05",
        "rank": "primary", "amount": "20.00"}
    assert (out["credits"][2]["where"], out["credits"][2]["returned_to_voucher"]) == ("row 4 of era.csv", "10.00")
    assert out["credits"][2]["warnings"] == out["warnings"] == [rows[-1]]
    assert out["warning"] == "1 line applies nothing: 10.00 goes back to the voucher"
    assert _counts() == before

    short = b.voucher(aetna, 50_00)
    csv_file.write_text(csv_file.read_text() + "999999,1.00\n")
    before = _counts()
    code, out, _ = cli("payments", "post-batch", "--voucher", str(short), "--file", str(csv_file), "--dry-run")
    assert code == 4 and "posting would be refused:" in out
    assert "voucher_id: the batch totals 279.45" in out
    assert "lines.7.patient_id: no patient with id 999999 (row 9 of era.csv)" in out
    assert _counts() == before


def test_a_csv_row_with_more_fields_than_its_header_is_refused_naming_the_row(tmp_path):
    """An unquoted "1,000.00" would otherwise post 1.00: the file is refused, nothing read."""
    from claimdesk.core.errors import InputError
    from claimdesk.core.services.batch_posting import read_lines

    path = tmp_path / "era.csv"
    path.write_text("patient_id,amount\n7,25.00\n8,1,000.00\n")
    with pytest.raises(InputError) as caught:
        read_lines(str(path))
    message = caught.value.messages["file"][0]
    assert "row 3 of era.csv has more fields than the header" in message
