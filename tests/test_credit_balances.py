"""The credit balance report (issue 20), the CLI around refunds, and the schema v10 -> v11
upgrade; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import clock, db, migrations
from claimdesk.core.context import as_user
from claimdesk.core.errors import InputError
from claimdesk.core.models import SchemaVersion
from claimdesk.core.services import credit_balances, eobs, payments, refunds
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register


def _holdings():
    """A patient holding 40.00 since 2026-03-02 and a payer holding 100.00 since 2026-03-10 (its
    check paid the claim twice), seen on 2026-04-01."""
    aetna = b.payer("Aetna")
    with clock.frozen(dt.datetime(2026, 3, 2, 9, 0)):
        pat = b.patient(last="Credit")
        b.encounter(pat, [60_00])
        vid = b.voucher(None, 100_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    with clock.frozen(dt.datetime(2026, 3, 10, 9, 0)):
        other = b.patient(last="Insured")
        b.encounter(other, [100_00], payers=[aetna])
        payments.post_credit({"patient_id": other.id, "voucher_id": b.voucher(aetna, 100_00)})
        second = payments.create_voucher({"payer_id": aetna.id, "method": "check", "amount": "100.00",
                                          "received_on": "2026-03-10", "details": {"check_number": "77"}})
    return pat, aetna, second["voucher_id"]


def test_the_report_lists_patients_and_payers_holding_money_with_their_age(database):
    pat, aetna, second = _holdings()
    rep = credit_balances.report(as_of=dt.date(2026, 4, 1))
    by = {(a["kind"], a["id"]): a for a in rep["accounts"]}
    patient, payer = by[("patient", pat.id)], by[("payer", aetna.id)]
    assert (patient["holds"], patient["since"], patient["age_days"], patient["net"]) == (40_00, "2026-03-02", 30, -40_00)
    assert (payer["holds"], payer["since"], payer["age_days"], payer["name"]) == (100_00, "2026-03-10", 22, "Aetna")
    assert [s["id"] for s in payer["sources"]] == [second]
    assert [a["kind"] for a in rep["accounts"]] == ["patient", "payer"]  # oldest first
    assert [a["kind"] for a in credit_balances.report(sort="amount", as_of=dt.date(2026, 4, 1))["accounts"]] \
        == ["payer", "patient"]  # largest first
    assert rep["total"] == 140_00 and (rep["patients"], rep["payers"]) == (1, 1)
    with pytest.raises(InputError) as exc:
        credit_balances.report(sort="name")
    assert exc.value.field == "sort"
    csv_text = credit_balances.to_csv(rep)
    assert csv_text.splitlines()[0].startswith("kind,id,account_no,name,holds,since,age_days")
    assert f"patient,{pat.id},{pat.account_no},\"Credit, Jan\",40.00,2026-03-02,30" in csv_text
    assert verify() == []


def test_a_claim_paid_twice_by_eob_is_flagged_on_the_payer(database):
    aetna = b.payer("Aetna")
    pat = b.patient(last="Flag")
    enc, (charge,) = b.encounter(pat, [100_00, ], payers=[aetna])
    # the payer allowed 70.00 and paid 80.00 (its adjustment explains the rest)
    vid = b.voucher(aetna, 80_00)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": vid,
                   "lines": [{"charge_id": charge.id, "allowed": "70.00", "paid": "80.00",
                              "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "20.00"}]}]})
    acc = next(a for a in credit_balances.report()["accounts"] if a["kind"] == "payer")
    assert acc["holds"] == 0 and acc["overpaid_total"] == 10_00
    assert [(o["charge_id"], o["why"], o["over"]) for o in acc["overpaid"]] == [(charge.id, "paid more than allowed",
                                                                                 10_00)]
    assert verify() == []


def test_cli_credit_balances_and_refunds(cli):
    pat, aetna, second = _holdings()
    data = cli.json("credit", "balances", "--sort", "amount")
    assert [(a["kind"], a["holds"]) for a in data["accounts"]] == [("payer", "100.00"), ("patient", "40.00")]
    assert data["total"] == "140.00"
    out = cli.ok("credit", "balances", "--csv")
    assert out.splitlines()[0].startswith("kind,id,account_no,name,holds")
    text = cli.ok("credit", "balances")
    assert "Credit, Jan" in text and "40.00" in text and "hold 140.00" in text

    res = cli.json("refund", "add", "--patient", str(pat.id), "--amount", "40.00", "--method", "check",
                   "--details", '{"check_number": "5001"}', "--reason", "overpaid")
    assert (res["status"], res["amount"], res["reference"]) == ("issued", "40.00", "5001")
    code, _out, err = cli("refund", "add", "--payer", str(aetna.id), "--amount", "100.01", "--method", "eft",
                          "--details", '{"trace_number": "T1"}', "--reason", "paid twice")
    assert code == 4 and "amount:" in err and "holds only 100.00" in err
    code, _out, err = cli("refund", "add", "--payer", str(aetna.id), "--amount", "abc", "--method", "eft",
                          "--reason", "paid twice")
    assert code == 2 and "amount:" in err
    res = cli.json("refund", "add", "--payer", str(aetna.id), "--amount", "100.00", "--method", "eft",
                   "--details", '{"trace_number": "T1"}', "--reason", "paid twice", "--voucher", str(second))
    assert res["status"] == "issued" and res["sources"][0]["taken"] == "100.00"
    listed = cli.json("refund", "list")["refunds"]
    assert [(r["payee"], r["amount"]) for r in listed] == [("payer", "100.00"), ("patient", "40.00")]
    assert cli.json("credit", "balances")["accounts"] == []
    rev = cli.json("refund", "reverse", str(listed[1]["refund_id"]), "--reason", "check lost")
    assert rev["status"] == "reversed"
    assert [a["holds"] for a in cli.json("credit", "balances")["accounts"]] == ["40.00"]
    assert {m["key"] for m in cli.json("refund", "methods")["methods"]} >= {"check", "card", "eft"}
    code, out, err = cli("verify")
    assert code == 0, out + err


def test_upgrading_v10_to_v11_adds_the_refund_table_and_keeps_the_books(db_url):
    db.connect(db_url)
    try:
        with db.write_transaction():  # a database made by claimdesk at schema version 10
            for version in range(1, 11):
                migrations.MIGRATIONS[version]()
                SchemaVersion.create(version=version, upgraded_at=clock.now())
        register("tester")
        with as_user("tester"):
            pat = b.patient(last="Before")
            b.encounter(pat, [60_00])
            vid = b.voucher(None, 100_00)
            payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
        assert not db.database.table_exists("refund")
        assert verify() == []
        assert migrations.upgrade() == list(range(11, migrations.CURRENT_VERSION + 1))  # v11, and what came after
        migrations.check()
        assert db.database.table_exists("refund")
        from claimdesk.core.services import patient_views  # (v13 indexed the patients already there)
        assert [r["patient_id"] for r in patient_views.find_patients("efor")] == [pat.id]
        assert verify() == []
        with as_user("tester"):
            res = refunds.add_refund({"payee": "patient", "patient_id": pat.id, "amount": "40.00", "method": "check",
                                      "details": {"check_number": "9"}, "reason": "overpaid before the upgrade"})
        assert res["status"] == "issued"
        assert verify() == []
    finally:
        db.close()
