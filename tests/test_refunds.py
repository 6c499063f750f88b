"""Refunds (issue 20): a patient's credit, a payer's double payment, refused above what is held,
supervisor approval above the limit, reversal, and a payer recoupment matched with a later
check's PLB WO; ``verify`` clean after each step, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import types

import pytest

from claimdesk.core import ledger
from claimdesk.core.context import as_user
from claimdesk.core.errors import InputError, PermissionDenied, Refused
from claimdesk.core.models import AuditEvent, Credit, Voucher
from claimdesk.core.models.refunds import Refund
from claimdesk.core.services import balances, credit_balances, payments, refunds
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register


def _patient_with_credit(paid: int = 100_00, fee: int = 60_00):
    """A patient who paid ``paid`` on a ``fee`` charge, the rest kept unapplied: (patient, credit id, voucher id)."""
    pat = b.patient(last="Overpaid")
    b.encounter(pat, [fee])
    vid = b.voucher(None, paid)
    res = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    return pat, res["credit_id"], vid


def _refund_patient(pat, amount: str, **extra) -> dict:
    return refunds.add_refund({"payee": "patient", "patient_id": pat.id, "amount": amount, "method": "check",
                               "details": {"check_number": "5001"}, "reason": "patient overpaid", **extra})


def _account(kind: str, ident: int) -> dict | None:
    return next((a for a in credit_balances.report()["accounts"] if (a["kind"], a["id"]) == (kind, ident)), None)


@pytest.fixture
def limit_25(tmp_path, monkeypatch):
    """``[refunds] supervisor_above = "25.00"`` in the config file."""
    path = tmp_path / "refunds.toml"
    path.write_text('[refunds]\nsupervisor_above = "25.00"\n', encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    return path


def test_refund_of_a_patient_credit(database):
    pat, credit_id, vid = _patient_with_credit()
    acc = _account("patient", pat.id)
    assert (acc["holds"], acc["balance_due"], acc["net"]) == (40_00, 0, -40_00)
    assert verify() == []

    res = _refund_patient(pat, "40.00")
    assert (res["status"], res["amount"], res["method"], res["reference"]) == ("issued", 40_00, "check", "5001")
    assert res["needs_approval"] is False
    assert [(s["kind"], s["id"], s["taken"]) for s in res["sources"]] == [("credit", credit_id, 40_00)]
    assert balances.credit_unapplied(credit_id) == 0 and Credit.get_by_id(credit_id).unapplied == 0
    assert _account("patient", pat.id) is None  # the patient holds nothing any more
    assert balances.patient_balance(pat.id).patient_due == 0
    # the money left the bank from the voucher it came in on: 100.00 in, 40.00 back out
    cash = sum(p.amount for p in ledger.Posting.select().where((ledger.Posting.account == "CASH")
                                                               & (ledger.Posting.voucher == vid)))
    assert cash == 60_00
    assert AuditEvent.get_by_id(res["audit_id"]).action == "refund.add"
    assert verify() == []


def test_refund_of_a_payer_double_payment(database):
    aetna = b.payer("Aetna")
    pat = b.patient(last="Twice")
    _enc, (charge,) = b.encounter(pat, [100_00], payers=[aetna])
    first = b.voucher(aetna, 100_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": first})
    assert balances.charge_balance(charge.id) == 0
    second = b.voucher(aetna, 100_00)  # the same claim paid again: nothing is open, the money stays the payer's
    acc = _account("payer", aetna.id)
    assert (acc["holds"], [s["id"] for s in acc["sources"]]) == (100_00, [second])
    assert verify() == []

    res = refunds.add_refund({"payee": "payer", "payer_id": aetna.id, "amount": "100.00", "method": "eft",
                              "details": {"trace_number": "RF-778"}, "reason": "claim paid twice"})
    assert (res["status"], res["amount"], res["reference"], res["payee_name"]) == ("issued", 100_00, "RF-778", "Aetna")
    assert balances.voucher_undistributed(second) == 0 and Voucher.get_by_id(second).undistributed == 0
    assert _account("payer", aetna.id) is None
    assert balances.charge_balance(charge.id) == 0  # the first payment still pays the claim
    assert verify() == []


def test_a_refund_above_what_the_account_holds_is_refused_and_nothing_is_written(database):
    pat, credit_id, _vid = _patient_with_credit()
    events = AuditEvent.select().count()
    with pytest.raises(Refused) as exc:
        _refund_patient(pat, "40.01")
    assert exc.value.field == "amount"
    assert "40.01 is more than" in exc.value.message and "holds only 40.00" in exc.value.message
    assert Credit.get_by_id(credit_id).unapplied == 40_00
    assert (Refund.select().count(), AuditEvent.select().count()) == (0, events)
    # a payer that holds nothing, an unknown method, a method that cannot pay a payer, missing details
    aetna = b.payer("Aetna")
    with pytest.raises(Refused) as exc:
        refunds.add_refund({"payee": "payer", "payer_id": aetna.id, "amount": "1.00", "method": "check",
                            "details": {"check_number": "1"}, "reason": "x"})
    assert exc.value.field == "amount" and "holds no money" in exc.value.message
    with pytest.raises(InputError) as exc:
        _refund_patient(pat, "10.00", method="wire")
    assert exc.value.field == "method"
    with pytest.raises(InputError) as exc:
        refunds.add_refund({"payee": "payer", "payer_id": aetna.id, "amount": "1.00", "method": "card",
                            "details": {"last4": "1234", "auth_code": "A"}, "reason": "x"})
    assert exc.value.field == "method" and "cannot pay a payer" in exc.value.message
    with pytest.raises(InputError) as exc:
        _refund_patient(pat, "10.00", details={})
    assert exc.value.field == "details.check_number"
    with pytest.raises(InputError) as exc:
        refunds.add_refund({"payee": "patient", "amount": "1.00", "method": "check",
                            "details": {"check_number": "1"}, "reason": "x"})
    assert exc.value.field == "patient_id"
    # another patient's credit is not this patient's money
    other, other_credit, _v = _patient_with_credit()
    with pytest.raises(Refused) as exc:
        _refund_patient(pat, "1.00", credit_id=other_credit)
    assert exc.value.field == "credit_id"
    assert Refund.select().count() == 0
    assert verify() == []


def test_a_clerk_s_refund_above_the_limit_waits_for_a_supervisor(database, limit_25):
    register("boss", role="supervisor")
    pat, credit_id, _vid = _patient_with_credit()
    assert refunds.supervisor_above() == 25_00
    res = _refund_patient(pat, "40.00")
    assert (res["status"], res["needs_approval"], res["supervisor_above"]) == ("awaiting_approval", True, 25_00)
    # the money is held for the refund: nobody can apply it meanwhile
    assert Credit.get_by_id(credit_id).unapplied == 0
    assert verify() == []
    with pytest.raises(PermissionDenied):
        refunds.approve(res["refund_id"])
    assert Refund.get_by_id(res["refund_id"]).status == "awaiting_approval"
    with as_user("boss"):
        done = refunds.approve(res["refund_id"])
    assert (done["status"], done["approved_by"], done["issued_on"]) == ("issued", "boss", res["requested_on"])
    assert verify() == []
    with as_user("boss"), pytest.raises(Refused) as exc:
        refunds.approve(res["refund_id"])
    assert exc.value.field == "refund_id"
    # a supervisor's own refund above the limit is issued at once; one under it by a clerk too
    pat2, _c2, _v2 = _patient_with_credit()
    with as_user("boss"):
        assert _refund_patient(pat2, "30.00")["status"] == "issued"
    assert _refund_patient(pat2, "10.00")["status"] == "issued"
    assert verify() == []


def test_a_refund_is_reversed_by_reversing_entries(database, limit_25):
    pat, credit_id, _vid = _patient_with_credit()
    issued = _refund_patient(pat, "20.00")
    waiting = _refund_patient(pat, "20.00", reference="REQ-2")
    assert Credit.get_by_id(credit_id).unapplied == 0
    # the refund check was never cashed: reversed, its 20.00 is the patient's again
    res = refunds.reverse({"refund_id": issued["refund_id"], "reason": "check voided"})
    assert (res["status"], res["reverse_reason"]) == ("reversed", "check voided")
    assert Credit.get_by_id(credit_id).unapplied == 20_00
    assert verify() == []
    # a request above the limit refused: reversed, its money back too
    refunds.reverse({"refund_id": waiting["refund_id"], "reason": "not approved"})
    assert Credit.get_by_id(credit_id).unapplied == 40_00
    assert _account("patient", pat.id)["holds"] == 40_00
    with pytest.raises(Refused) as exc:
        refunds.reverse({"refund_id": issued["refund_id"], "reason": "again"})
    assert exc.value.field == "refund_id"
    assert [r["status"] for r in refunds.list_refunds()] == ["reversed", "reversed"]
    assert verify() == []


def _later_check_with_recovery(payer, paid: int, recovered: int, reference: str):
    """A later 835 payment from ``payer``: ``paid`` cents sent, ``recovered`` kept back as PLB WO
    naming ``reference`` (as the ERA import posts it); the voucher's id."""
    from claimdesk.core.services import era_post

    remit = types.SimpleNamespace(
        amount=paid, method="CHK", trace_number="TRN-9", date=dt.date(2026, 4, 1), trace_payer_id="",
        provider_adjustments=[types.SimpleNamespace(reason="WO", reference=reference, amount=recovered,
                                                    provider_id="1234567893", fiscal_date=dt.date(2026, 12, 31))])

    def make():
        voucher = era_post.voucher_for(remit, payer.id)
        era_post.receive(remit, voucher)
        return voucher.id

    return b.audited(make, "era.import")


def test_a_payer_overpayment_recouped_from_a_later_check(database):
    aetna = b.payer("Aetna")
    pat = b.patient(last="Recoup")
    enc, _charges = b.encounter(pat, [100_00], payers=[aetna])
    first = b.voucher(aetna, 100_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": first})
    second = b.voucher(aetna, 100_00)
    res = refunds.recoup({"payer_id": aetna.id, "amount": "100.00", "reason": "paid twice",
                          "encounter_id": enc.id})
    assert (res["kind"], res["status"], res["claim_ref"]) == ("recoupment", "awaiting_recoupment", enc.claim_no)
    assert Voucher.get_by_id(second).undistributed == 0 and _account("payer", aetna.id) is None
    assert verify() == []
    # a check that recovered less than the recoupment is refused
    small = _later_check_with_recovery(aetna, 50_00, 40_00, "OTHER")
    with pytest.raises(Refused) as exc:
        refunds.match_recoupment({"refund_id": res["refund_id"], "voucher_id": small})
    assert exc.value.field == "voucher_id"
    later = _later_check_with_recovery(aetna, 200_00, 100_00, enc.claim_no)
    cands = refunds.recoupment_candidates(res["refund_id"])
    assert [(c["voucher_id"], c["names_claim"]) for c in cands] == [(later, True)]
    done = refunds.match_recoupment({"refund_id": res["refund_id"], "voucher_id": later})
    assert (done["status"], done["recouped_by_voucher"]) == ("recouped", later)
    assert refunds.recovered_on(later) == (100_00, 100_00)
    with pytest.raises(Refused):
        refunds.reverse({"refund_id": res["refund_id"], "reason": "no"})
    assert verify() == []


def test_verify_names_a_refund_whose_row_disagrees_with_its_entries(database):
    pat, _credit_id, _vid = _patient_with_credit()
    res = _refund_patient(pat, "40.00")
    from claimdesk.core import db

    with db.write_transaction():
        Refund.update(amount=30_00).where(Refund.id == res["refund_id"]).execute()
    problems = [v.message for v in verify() if v.check == "refund"]
    assert any(f"refund {res['refund_id']}" in m for m in problems)


def test_a_check_whose_money_was_refunded_cannot_be_returned_until_the_refund_is_reversed(database):
    from claimdesk.core.services import returns

    pat, credit_id, vid = _patient_with_credit()
    res = _refund_patient(pat, "40.00")
    with pytest.raises(Refused) as exc:
        returns.return_check({"voucher_id": vid, "reason": "NSF"})
    assert exc.value.field == "voucher_id" and f"refund {res['refund_id']}" in exc.value.message
    refunds.reverse({"refund_id": res["refund_id"], "reason": "refund check stopped: the patient's check bounced"})
    returns.return_check({"voucher_id": vid, "reason": "NSF"})
    assert Credit.get_by_id(credit_id).unapplied == 0
    assert balances.patient_balance(pat.id).patient_due == 60_00
    assert verify() == []


def test_the_835_import_matches_a_recoupment_its_plb_wo_takes_back(database):
    """A recoupment recorded for a claim; the payer's next 835 recovers exactly that (PLB WO naming
    the claim): the import matches it, the held money is carried to that check, books clean."""
    from claimdesk.core.models import Payer
    from claimdesk.core.services import era_import
    from tests.test_era_import import load_claims
    from tests.x12gen835 import remittances_by_payer, write_835

    claims = load_claims(4)
    remittances = remittances_by_payer(claims, plb=True)
    first = remittances[0]
    (wo,) = [a for a in first.provider_adjustments if a.reason == "WO"]
    payer = Payer.get(Payer.payer_code == first.payer.payer_id)
    held = b.voucher(payer, int(wo.amount))  # the payer's earlier overpayment, still undistributed
    res = refunds.recoup({"payer_id": payer.id, "amount": f"{wo.amount / 100:.2f}", "reason": "paid twice",
                          "claim_ref": wo.reference})
    assert Voucher.get_by_id(held).undistributed == 0
    report = era_import.import_files([("remit.835", write_835(remittances))])
    assert report.ok
    done = Refund.get_by_id(res["refund_id"])
    assert done.status == "recouped" and done.recouped_by_id == report.payments[0].voucher_id
    assert refunds.recovered_on(done.recouped_by_id) == (int(wo.amount), int(wo.amount))
    assert verify() == []


def test_a_patient_check_never_posted_is_refunded_to_the_patient_named(database):
    from claimdesk.core.services.common import patient_payer

    pat = b.patient(last="Walkin")
    vid = b.voucher(None, 30_00)  # received, never drawn onto an account
    acc = _account("payer", patient_payer().id)
    assert acc["holds"] == 30_00  # the pseudo payer Patient: nobody's yet
    with pytest.raises(Refused) as exc:
        refunds.add_refund({"payee": "payer", "payer_id": patient_payer().id, "amount": "30.00", "method": "check",
                            "details": {"check_number": "1"}, "reason": "x"})
    assert exc.value.field == "payer_id"
    with pytest.raises(Refused) as exc:
        _refund_patient(pat, "30.00")  # not the patient's money until the clerk names the voucher
    assert exc.value.field == "amount"
    res = _refund_patient(pat, "30.00", voucher_id=vid)
    assert res["status"] == "issued" and Voucher.get_by_id(vid).undistributed == 0
    assert verify() == []
