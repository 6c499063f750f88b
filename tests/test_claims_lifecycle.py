"""Automatic secondary and tertiary claims, claim batches with their export, resending."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from claimdesk.core import clock
from claimdesk.core.errors import InputError, NotFound, Refused
from claimdesk.core.models import Claim, ClaimBatch, ChargeSplit
from claimdesk.core.posting import next_claims
from claimdesk.core.services import balances, claims, eobs, payments
from claimdesk.core.services.verify import verify

from tests import builders as b

DAY = dt.date(2026, 4, 1)


def _split(charge, rank):
    return ChargeSplit.get((ChargeSplit.charge == charge.id) & (ChargeSplit.rank == rank))


def _queued(enc, rank):
    return [(c.payer.name, c.rank) for c in Claim.select().where(
        (Claim.encounter == enc.id) & (Claim.rank == rank) & (Claim.status == "queued"))]


def _three_payers():
    return b.payer("Aetna"), b.payer("Medicare", "medicare"), b.payer("Medicaid", "medicaid")


def test_primary_payment_zeroing_the_split_queues_secondary_then_tertiary(database):
    aetna, medicare, medicaid = _three_payers()
    pat = b.patient()
    enc, (charge,) = b.encounter(pat, [100_00], payers=[aetna, medicare, medicaid])
    v1 = b.voucher(aetna, 80_00)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": v1, "lines": [
        {"charge_id": charge.id, "allowed": "90.00", "paid": "80.00", "adjustments": [
            {"group_code": "CO", "reason_code": "45", "amount": "10.00"},
            {"group_code": "PR", "reason_code": "2", "amount": "10.00"}]}]})
    assert _split(charge, "primary").balance == 0
    assert _split(charge, "secondary").balance == 10_00
    assert _queued(enc, "secondary") == [("Medicare", "secondary")]
    assert _queued(enc, "tertiary") == []

    v2 = b.voucher(medicare, 6_00)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": medicare.id, "voucher_id": v2, "lines": [
        {"charge_id": charge.id, "paid": "6.00", "adjustments": [
            {"group_code": "PR", "reason_code": "1", "amount": "4.00"}]}]})
    assert _split(charge, "secondary").balance == 0
    assert _split(charge, "tertiary").balance == 4_00
    assert _queued(enc, "tertiary") == [("Medicaid", "tertiary")]

    eobs.post_eob({"encounter_id": enc.id, "payer_id": medicaid.id, "lines": [
        {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "3", "amount": "4.00"}]}]})
    assert balances.patient_balance(pat.id).patient_due == 4_00
    assert balances.patient_balance(pat.id).insurance_pending == 0
    assert verify() == []


def test_payment_after_an_earlier_transfer_queues_the_secondary_for_the_next_batch(database, tmp_path):
    aetna, medicare, _ = _three_payers()
    pat = b.patient()
    enc, (charge,) = b.encounter(pat, [100_00], payers=[aetna, medicare])
    # the primary's first EOB only moves the patient share on; the primary still owes 70.00
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "30.00"}]}]})
    assert _split(charge, "primary").balance == 70_00
    assert _queued(enc, "secondary") == []
    # then the primary's check pays the rest: the primary split reaches zero through a payment
    payments.post_credit({"patient_id": pat.id, "voucher_id": b.voucher(aetna, 70_00)})
    assert _split(charge, "primary").balance == 0
    assert len(_queued(enc, "secondary")) == 1  # queued the moment the payment zeroed the primary
    with clock.frozen(DAY):
        res = claims.build_batch(out_dir=tmp_path)
    sent = {bt["payer"]: bt for bt in res["batches"]}
    assert sent["Medicare"]["claims"] == 1
    assert sent["Medicare"]["total_due"] == 30_00
    claim = Claim.get(Claim.encounter == enc.id, Claim.rank == "secondary")
    assert (claim.status, claim.batch_id, claim.sent_at) == ("sent", sent["Medicare"]["batch_id"],
                                                            dt.datetime(2026, 4, 1, 9, 0))
    # once sent, the sweep does not queue it again
    assert claims.queue_ready() == []
    assert verify() == []


def test_the_next_insurer_is_queued_once_when_a_split_reaches_zero(database):
    aetna, medicare, _ = _three_payers()
    pat = b.patient()
    enc, (charge,) = b.encounter(pat, [50_00], payers=[aetna, medicare])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": charge.id, "adjustments": [{"group_code": "PR", "reason_code": "1", "amount": "20.00"}]}]})
    from claimdesk.core import db

    with db.write_transaction():
        assert next_claims.queue_due([_split(charge, "primary").id]) == []  # the primary still owes 30.00
    payments.post_credit({"patient_id": pat.id, "voucher_id": b.voucher(aetna, 30_00)})
    (claim,) = Claim.select().where(Claim.encounter == enc.id, Claim.rank == "secondary")  # the payment queued it
    assert (claim.payer.name, claim.status) == ("Medicare", "queued")
    with db.write_transaction():  # asked again: the same claim, not a second one
        assert next_claims.queue_due([_split(charge, "primary").id]) == [claim.id]
    assert len(_queued(enc, "secondary")) == 1


def test_batch_per_payer_writes_a_readable_export_and_marks_claims_sent(database, tmp_path):
    aetna, medicare, _ = _three_payers()
    p1, p2 = b.patient("Ames", "Ann"), b.patient("Bell", "Bob")
    e1, _ = b.encounter(p1, [100_00, 25_50], payers=[aetna], codes=["99213", "36415"])
    e2, _ = b.encounter(p2, [80_00], payers=[medicare])
    from claimdesk.core import db
    with db.write_transaction():
        for enc, payer in ((e1, aetna), (e2, medicare)):
            claims.queue(enc, payer, "primary")
    with clock.frozen(DAY):
        res = claims.build_batch(out_dir=tmp_path)
    assert res["claims_sent"] == 2
    assert [bt["payer"] for bt in res["batches"]] == ["Aetna", "Medicare"]
    aetna_batch = res["batches"][0]
    doc = json.loads(open(aetna_batch["json"]).read())
    assert doc["payer"]["name"] == "Aetna"
    assert doc["total_due"] == "125.50"
    (claim,) = doc["claims"]
    assert claim["patient"]["last_name"] == "Ames"
    assert [(ln["code"], ln["fee"], ln["due"]) for ln in claim["lines"]] == [
        ("99213", "100.00", "100.00"), ("36415", "25.50", "25.50")]
    rows = list(csv.DictReader(open(aetna_batch["csv"], newline="")))
    assert [(r["code"], r["due"], r["patient"]) for r in rows] == [
        ("99213", "100.00", "Ames, Ann"), ("36415", "25.50", "Ames, Ann")]
    assert ClaimBatch.get_by_id(aetna_batch["batch_id"]).export_path == aetna_batch["json"]
    assert claims.queued().count() == 0
    # nothing queued: the next run makes no batch
    assert claims.build_batch(out_dir=tmp_path)["batches"] == []
    assert verify() == []


def test_batch_for_one_payer_leaves_the_others_queued(database, tmp_path):
    aetna, medicare, _ = _three_payers()
    e1, _ = b.encounter(b.patient(), [10_00], payers=[aetna])
    e2, _ = b.encounter(b.patient(), [20_00], payers=[medicare])
    from claimdesk.core import db
    with db.write_transaction():
        claims.queue(e1, aetna, "primary")
        claims.queue(e2, medicare, "primary")
    assert (claims.queued_count(), claims.queued_count(medicare.id)) == (2, 1)
    assert [c["payer"] for c in claims.queued_list(limit=1)] == ["Aetna"]  # by payer name, first page
    res = claims.build_batch(medicare.id, out_dir=tmp_path)
    assert [bt["payer"] for bt in res["batches"]] == ["Medicare"]
    assert [c.payer.name for c in claims.queued()] == ["Aetna"]
    with pytest.raises(NotFound) as err:
        claims.build_batch(9999, out_dir=tmp_path)
    assert err.value.field == "payer_id"
    with pytest.raises(InputError) as err:
        claims.build_batch("abc", out_dir=tmp_path)
    assert err.value.field == "payer_id"


def test_a_sent_claim_can_be_queued_again_and_records_each_send(database, tmp_path):
    aetna, medicare, _ = _three_payers()
    enc, _ = b.encounter(b.patient(), [60_00], payers=[aetna])
    from claimdesk.core import db
    with db.write_transaction():
        first = claims.queue(enc, aetna, "primary")
    with pytest.raises(Refused, match="only a sent claim"):
        claims.requeue(first.id)
    with clock.frozen(DAY):
        b1 = claims.build_batch(out_dir=tmp_path)["batches"][0]["batch_id"]
    res = claims.requeue(first.id, "no response after 45 days")
    again = Claim.get_by_id(res["claim_id"])
    assert (again.status, again.resend, res["requeued_from"]) == ("queued", True, first.id)
    with pytest.raises(Refused, match="already has a primary claim queued"):
        claims.requeue(first.id)
    with clock.frozen(DAY + dt.timedelta(days=45)):
        out = claims.build_batch(out_dir=tmp_path)
    b2 = out["batches"][0]["batch_id"]
    doc = json.loads(open(out["batches"][0]["json"]).read())
    assert doc["claims"][0]["resend"] is True
    hist = claims.history(enc.id)
    assert [(h["status"], h["batch_id"], h["resend"]) for h in hist] == [("sent", b1, False), ("sent", b2, True)]
    assert [h["sent_at"].date() for h in hist] == [DAY, DAY + dt.timedelta(days=45)]
    with pytest.raises(NotFound):
        claims.requeue(424242)
    assert verify() == []


def test_cli_batch_queued_and_requeue(cli, tmp_path):
    aetna = b.payer("Aetna")
    enc, _ = b.encounter(b.patient("Ames", "Ann"), [60_00], payers=[aetna])
    from claimdesk.core import db
    with db.write_transaction():
        claims.queue(enc, aetna, "primary")
    code, out, _ = cli("claims", "queued")
    assert code == 0 and "Aetna" in out and "Ames, Ann" in out
    code, out, err = cli("claims", "batch", "--out", str(tmp_path / "x"), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["claims_sent"] == 1 and res["batches"][0]["total_due"] == "60.00"
    assert json.loads(open(res["batches"][0]["json"]).read())["claims"][0]["encounter_id"] == enc.id
    code, out, _ = cli("claims", "batch", "--out", str(tmp_path / "x"))
    assert code == 0 and "no claims queued" in out
    claim_id = res["batches"][0]["claim_ids"][0]
    code, out, _ = cli("claims", "requeue", str(claim_id), "--reason", "no answer")
    assert code == 0 and f"claim {claim_id} queued again" in out
    code, _, err = cli("claims", "requeue", str(claim_id))
    assert code == 4 and "already has a primary claim queued" in err
    code, _, err = cli("claims", "requeue", "abc")
    assert code == 2 and "claim_id" in err
