"""The money engine (core/posting): one rule, one function, whoever calls it.

- the next insurer's claim is queued once, whichever way a primary split reaches zero
  (a payment, an adjustment, a patient-responsibility transfer, a batch), and never for
  an encounter that is not billable;
- a whole check of EOBs posted at once (the ERA path) leaves the same books as the same
  EOBs posted one at a time (manual entry);
- many charges posted at once leave the same rows and balances as ``billing.add_charge``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import db
from claimdesk.core.models import Charge, ChargeSplit, Claim, Credit, Encounter, EobLine, Voucher
from claimdesk.core.posting import charges as posting_charges, eobs as posting_eobs
from claimdesk.core.services import adjustments, balances, batch_posting, billing, eobs, payments
from claimdesk.core.services.verify import verify

from tests import builders as b


def _split(charge_id: int, rank: str) -> ChargeSplit:
    return ChargeSplit.get((ChargeSplit.charge == charge_id) & (ChargeSplit.rank == rank))


def _claims(enc_id: int) -> list[tuple]:
    return [(c.payer.name, c.rank, c.status) for c in Claim.select().where(Claim.encounter == enc_id).order_by(Claim.id)]


def _pay_off(how: str, pat, enc, charge, aetna) -> None:
    """Zero ``charge``'s primary (Aetna) split ``how``."""
    owed = _split(charge.id, "primary").balance
    if how == "payment":
        payments.post_credit({"patient_id": pat.id, "voucher_id": b.voucher(aetna, owed), "apply": "manual",
                              "applications": [{"charge_id": charge.id}]})
    elif how == "adjustment":
        split = _split(charge.id, "primary")
        b.audited(lambda: adjustments.adjust(split, owed, kind="contractual", reason_code="45", group_code="CO"))
    elif how == "transfer":
        eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
            {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "2",
                                                      "amount": f"{owed // 100}.{owed % 100:02d}"}]}]})
    else:  # a batch line of exactly what the charge's primary owes (it is the patient's oldest)
        batch_posting.post_credit_batch({"voucher_id": b.voucher(aetna, owed), "lines": [
            {"patient_id": pat.id, "amount": f"{owed // 100}.{owed % 100:02d}"}]})


@pytest.mark.parametrize("how", ["payment", "adjustment", "transfer", "batch"])
def test_a_primary_reaching_zero_queues_the_secondary_once(database, how):
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    pat = b.patient()
    enc, (first, second) = b.encounter(pat, [100_00, 60_00], payers=[aetna, medicare], dos=dt.date(2026, 3, 2))
    # the patient's share of each charge is with Medicare now; Aetna still owes the rest
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": c.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "10.00"}]}
        for c in (first, second)]})
    assert _claims(enc.id) == []
    _pay_off(how, pat, enc, first, aetna)
    assert _split(first.id, "primary").balance == 0
    assert _claims(enc.id) == [("Medicare", "secondary", "queued")]
    _pay_off(how, pat, enc, second, aetna)  # the second charge too: still one claim
    assert _claims(enc.id) == [("Medicare", "secondary", "queued")]
    assert verify() == []


@pytest.mark.parametrize("how", ["payment", "adjustment", "transfer", "batch"])
def test_a_non_billable_encounter_is_not_queued(database, how):
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    pat = b.patient()
    enc, (charge,) = b.encounter(pat, [100_00], payers=[aetna, medicare])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "10.00"}]}]})
    with db.write_transaction():
        Encounter.update(billable=False).where(Encounter.id == enc.id).execute()
    _pay_off(how, pat, enc, charge, aetna)
    assert _split(charge.id, "primary").balance == 0 and _split(charge.id, "secondary").balance > 0
    assert _claims(enc.id) == []


def _twin_clinic(tag: str):
    """Three encounters owing Aetna (Medicare second on two of them)."""
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    out = []
    for i, (fees, payers) in enumerate((([120_00, 40_00], [aetna, medicare]), ([80_00], [aetna]),
                                        ([200_00, 15_00], [aetna, medicare]))):
        pat = b.patient(last=f"{tag}-{i}")
        enc, charges = b.encounter(pat, fees, payers=payers, dos=dt.date(2026, 2, 1 + i))
        out.append((pat, enc, charges))
    return aetna, out


def _remits(clinic) -> list[list[dict]]:
    """What Aetna's check says for each encounter: payments, CO-45, PR (to Medicare or the
    patient), a denial, and a payment larger than Aetna's split after an earlier PR."""
    (_p0, _e0, (a, b_)), (_p1, _e1, (c,)), (_p2, _e2, (d, e)) = clinic
    return [
        [{"charge_id": a.id, "allowed": 100_00, "paid": 80_00, "denied": False, "denial_code": "",
          "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": 20_00},
                          {"group_code": "PR", "reason_code": "2", "amount": 20_00}]},
         {"charge_id": b_.id, "allowed": 0, "paid": 0, "denied": True, "denial_code": "CO-109", "adjustments": []}],
        [{"charge_id": c.id, "allowed": 80_00, "paid": 50_00, "denied": False, "denial_code": "",
          "adjustments": [{"group_code": "PR", "reason_code": "3", "amount": 30_00}]}],
        [{"charge_id": d.id, "allowed": 200_00, "paid": 190_00, "denied": False, "denial_code": "",
          "adjustments": [{"group_code": "OA", "reason_code": "23", "amount": 10_00}]},
         {"charge_id": e.id, "allowed": 15_00, "paid": 15_00, "denied": False, "denial_code": "", "adjustments": []}],
    ]


def _books(clinic, voucher_id: int) -> dict:
    """What a clerk sees, ids of the clinic left out (so twins compare equal)."""
    def pos(charge_id):
        return [(s.rank, s.payer.name, s.balance, s.denied, s.denial_code)
                for s in ChargeSplit.select().where(ChargeSplit.charge == charge_id).order_by(ChargeSplit.rank)]

    return {"splits": [pos(c.id) for _p, _e, charges in clinic for c in charges],
            "patients": [balances.patient_balance(p.id).as_dict() for p, _e, _c in clinic],
            "claims": [_claims(e.id) for _p, e, _c in clinic],
            "queues": [Encounter.get_by_id(e.id).queue_id for _p, e, _c in clinic],
            "credits": sorted((Credit.get_by_id(c.id).unapplied, balances.credit_applied(c.id))
                              for c in Credit.select().where(Credit.voucher == voucher_id)),
            "eob_lines": sorted((ln.paid, ln.allowed, ln.denied) for _p, e, _c in clinic
                                for ln in EobLine.select().join(EobLine.eob.rel_model).where(
                                    EobLine.eob.rel_model.encounter == e.id)),
            "voucher": (Voucher.get_by_id(voucher_id).undistributed, balances.voucher_undistributed(voucher_id))}


def test_a_check_of_eobs_posts_the_same_books_as_each_eob_on_its_own(database):
    aetna, one_by_one = _twin_clinic("O")
    _aetna, at_once = _twin_clinic("A")
    for clinic in (one_by_one, at_once):  # Medicare already has a share of one charge: the check
        _p, enc, (charge, _other) = clinic[2]  # pays Aetna more than it owes there (pulled back)
        eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
            {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "50.00"}]}]})
    paid = sum(ln["paid"] for eob in _remits(at_once) for ln in eob)
    v_one, v_all = b.voucher(aetna, paid + 5_00), b.voucher(aetna, paid + 5_00)

    for (_p, enc, _c), lines in zip(one_by_one, _remits(one_by_one)):
        eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": v_one,
                       "lines": [{**ln, "allowed": f"{ln['allowed'] / 100:.2f}", "paid": f"{ln['paid'] / 100:.2f}",
                                  "adjustments": [{**a, "amount": f"{a['amount'] / 100:.2f}"}
                                                  for a in ln["adjustments"]]} for ln in lines]})

    def post_check():
        voucher = Voucher.get_by_id(v_all)
        return posting_eobs.post_eobs(aetna.id, voucher, [
            posting_eobs.EobToPost(enc.id, pat.id, "primary", lines, claim_ref=f"ERA-{i}")
            for i, ((pat, enc, _c), lines) in enumerate(zip(at_once, _remits(at_once)))])

    results = b.audited(post_check)
    assert [r["paid"] for r in results] == [80_00, 50_00, 205_00]
    assert [r["denied"] for r in results] == [True, False, False]
    assert _books(one_by_one, v_one) == _books(at_once, v_all)
    assert _claims(at_once[0][1].id) == [("Medicare", "secondary", "queued")]
    assert verify() == []


def test_many_charges_at_once_match_add_charge_one_at_a_time(database):
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    code, prov = b.code("99213"), b.provider()
    encounters = {}
    for tag in ("one", "many"):
        made = []
        for payers in ([aetna, medicare], [], [aetna]):
            enc, _ = b.encounter(b.patient(last=tag), [10_00], payers=payers)
            made.append(enc)
        encounters[tag] = made
    fees = [(0, 25_00), (1, 0), (2, 40_00), (0, 5_00), (1, 12_00)]

    b.audited(lambda: [billing.add_charge(encounters["one"][i], code, fee=fee, provider=prov) for i, fee in fees])
    b.audited(lambda: posting_charges.post_charges([
        posting_charges.NewCharge(encounters["many"][i].id, encounters["many"][i].patient_id, code.id, 1, fee,
                                  prov.id, encounters["many"][i].dos) for i, fee in fees], memo="five charges"))

    def rows(tag):
        return [[(c.line_no, c.fee, [(s.rank, s.payer.name, s.balance) for s in c.splits])
                 for c in Charge.select().where(Charge.encounter == e.id).order_by(Charge.line_no)]
                for e in encounters[tag]]

    assert rows("one") == rows("many")
    assert [balances.encounter_balance(e.id) for e in encounters["one"]] == [
        balances.encounter_balance(e.id) for e in encounters["many"]]
    assert verify() == []


def test_a_check_of_eobs_reports_each_split_balance_as_the_ledger_keeps_it(database):
    """The steps of a check (balance pulled back from a later rank, payments, adjustments,
    PR moved on to a split made for it) share one object per split, whose balance each keeps,
    and the ledger moves each cached balance once, by the net: both say the same."""
    aetna, clinic = _twin_clinic("S")
    _p, enc, (charge, _other) = clinic[2]  # Medicare has a share of this one: the check pulls it back
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "50.00"}]}]})
    voucher_id = b.voucher(aetna, sum(ln["paid"] for eob in _remits(clinic) for ln in eob))
    results = b.audited(lambda: posting_eobs.post_eobs(aetna.id, Voucher.get_by_id(voucher_id), [
        posting_eobs.EobToPost(enc.id, pat.id, "primary", lines)
        for (pat, enc, _c), lines in zip(clinic, _remits(clinic))]))
    reported = [(ln["charge_id"], ln["split_balance"]) for r in results for ln in r["lines"]]
    assert reported == [(cid, _split(cid, "primary").balance) for cid, _b in reported]
    assert Voucher.get_by_id(voucher_id).undistributed == 0
    assert all(c.unapplied == 0 for c in Credit.select().where(Credit.voucher == voucher_id))
    assert verify() == []


def test_an_eob_for_no_such_encounter_or_payer_or_a_payer_not_on_the_claim_is_refused_naming_the_field(database):
    """An EOB keyed by hand is refused, naming the field and writing nothing, when its encounter
    or payer does not exist or the payer is not on the encounter's payer list; the rank it posts
    at is the one its payer holds (secondary here)."""
    from claimdesk.core.errors import NotFound, Refused
    from claimdesk.core.models import Eob, JournalEntry

    aetna, medicare, cigna = b.payer("Aetna"), b.payer("Medicare", "medicare"), b.payer("Cigna")
    pat = b.patient()
    enc, (charge,) = b.encounter(pat, [100_00], payers=[aetna, medicare])
    line = [{"charge_id": charge.id, "paid": "10.00"}]
    before = (Eob.select().count(), JournalEntry.select().count())
    cases = [({"encounter_id": 999_999, "payer_id": aetna.id}, NotFound, "encounter_id", "no encounter with id 999999"),
             ({"encounter_id": enc.id, "payer_id": 999_999}, NotFound, "payer_id", "no payer with id 999999"),
             ({"encounter_id": enc.id, "payer_id": cigna.id}, Refused, "payer_id",
              f"payer 'Cigna' is not on encounter {enc.id}'s payer list")]
    for data, error, field, says in cases:
        with pytest.raises(error) as refused:
            eobs.post_eob({**data, "lines": line})
        assert (refused.value.field, str(refused.value)) == (field, f"{field}: {says}")
    assert (Eob.select().count(), JournalEntry.select().count()) == before
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [{"charge_id": charge.id, "adjustments": [
        {"group_code": "PR", "reason_code": "1", "amount": "20.00"}]}]})  # (Medicare owes 20.00 now)
    out = eobs.post_eob({"encounter_id": enc.id, "payer_id": medicare.id, "voucher_id": b.voucher(medicare, 10_00),
                         "lines": line})
    assert (out["rank"], out["patient_id"]) == ("secondary", pat.id)
    assert _split(charge.id, "secondary").balance == 10_00
    assert verify() == []
