"""Daysheets: every entry belongs to the day's sheet; a closed sheet takes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import clock
from claimdesk.core.errors import LedgerError, Refused
from claimdesk.core.models import JournalEntry
from claimdesk.core.services import actions, balances, daysheets, payments, returns
from claimdesk.core.services.verify import verify

from tests import builders as b

DAY = dt.date(2026, 4, 1)


def test_entries_land_on_the_days_sheet_and_closed_sheet_refuses(database):
    with clock.frozen(DAY):
        pat = b.patient()
        b.encounter(pat, [50_00])
        summary = daysheets.daysheet_summary()
        assert summary["status"] == "open" and summary["by_kind"]["charge"]["ar_change"] == 50_00
        daysheets.close_daysheet()
        with pytest.raises(LedgerError, match="closed"):
            b.voucher(None, 10_00, method="cash")
        with pytest.raises(Refused, match="already closed"):
            daysheets.close_daysheet()
    assert {e.daysheet.day for e in JournalEntry.select()} == {DAY}
    with clock.frozen(DAY + dt.timedelta(days=1)):
        b.voucher(None, 10_00, method="cash")  # tomorrow's sheet is open
    assert verify() == []


def test_provider_activity_shows_charges_payments_reversals_and_fees(database):
    with clock.frozen(DAY):
        pat = b.patient()
        b.encounter(pat, [100_00])
        office = b.provider("Office", kind="administrative")
        b.code("RCFEE", 0)
        vid = b.voucher(None, 100_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
        returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat",
                              "fee": {"service_code": "RCFEE", "amount": "30.00", "provider_id": office.id}})
    rows = {r["provider"]: r for r in daysheets.provider_activity(DAY, DAY)}
    assert rows["Dr. Rivera"]["charges"] == 100_00
    assert rows["Dr. Rivera"]["payments"] == 100_00
    assert rows["Dr. Rivera"]["reversals"] == 100_00  # the payment undone: owed rose $100
    # The fee charge is in its own column only, so no column counts it twice.
    assert (rows["Office"]["charges"], rows["Office"]["returned_check_fees"]) == (0, 30_00)


def _net_ar(row: dict) -> int:
    return row["charges"] + row["returned_check_fees"] - row["payments"] - row["adjustments"] + row["reversals"]


def test_provider_activity_reversals_are_the_rise_in_what_is_owed(database):
    """A returned $50 payment and an undone $110 write-off both raise what is owed: both
    count +; the columns add up to the change in the provider's receivable."""
    with clock.frozen(DAY):
        pat = b.patient()
        enc, _ = b.encounter(pat, [110_00])
        (paid,) = b.encounter(pat, [50_00])[1]
        actions.apply(enc.id, "non_billable", {"confirm": True})  # writes off $110
        actions.apply(enc.id, "billable", {"confirm": True})  # undone: owed again
        vid = b.voucher(None, 50_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "apply": "manual",
                              "applications": [{"charge_id": paid.id}]})
        returns.return_check({"voucher_id": vid, "reason": "NSF"})
    (row,) = daysheets.provider_activity(DAY, DAY)
    assert (row["charges"], row["payments"], row["adjustments"], row["reversals"], row["returned_check_fees"]) == (
        160_00, 50_00, 110_00, 110_00 + 50_00, 0)
    assert _net_ar(row) == balances.patient_balance(pat.id).patient_due == 160_00


def test_provider_activity_csv_total_counts_a_returned_check_fee_once(database):
    with clock.frozen(DAY):
        pat = b.patient()
        b.encounter(pat, [100_00])
        office = b.provider("Office", kind="administrative")
        b.code("RCFEE", 0)
        vid = b.voucher(None, 40_00)
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
        returns.return_check({"voucher_id": vid, "reason": "NSF", "fee_policy": "flat",
                              "fee": {"service_code": "RCFEE", "amount": "25.00", "provider_id": office.id}})
    rows = daysheets.provider_activity(DAY, DAY)
    assert daysheets.provider_activity_csv(rows).splitlines() == [
        "provider_id,provider,charges,payments,adjustments,reversals,returned_check_fees",
        f"{b.provider().id},Dr. Rivera,100.00,40.00,0.00,40.00,0.00",
        f"{office.id},Office,0.00,0.00,0.00,0.00,25.00",
        ",TOTAL,100.00,40.00,0.00,40.00,25.00"]
    assert sum(_net_ar(r) for r in rows) == balances.patient_balance(pat.id).patient_due == 125_00


def test_a_provider_name_that_starts_like_a_formula_is_text_in_the_csv(database):
    from claimdesk.core.models import Provider

    with clock.frozen(DAY):
        b.encounter(b.patient(), [100_00])
    Provider.update(name="@SUM(1+1)*cmd|' /C calc'!A0").where(Provider.id == b.provider().id).execute()
    (row,) = daysheets.provider_activity(DAY, DAY)
    assert daysheets.provider_activity_csv([row]).splitlines()[1] == \
        f"{row['provider_id']},'@SUM(1+1)*cmd|' /C calc'!A0,100.00,0.00,0.00,0.00,0.00"


def test_provider_activity_csv_from_the_cli(cli, tmp_path):
    with clock.frozen(DAY):
        pat = b.patient()
        b.encounter(pat, [100_00, 25_50])
        payments.post_credit({"patient_id": pat.id, "voucher_id": b.voucher(None, 60_00)})
    out = cli.ok("provider", "activity", "--from", "2026-04-01", "--to", "2026-04-01", "--csv",
                 "--out", str(tmp_path / "activity.csv"))
    assert out.splitlines() == [
        "provider_id,provider,charges,payments,adjustments,reversals,returned_check_fees",
        f"{b.provider().id},Dr. Rivera,125.50,60.00,0.00,0.00,0.00",
        ",TOTAL,125.50,60.00,0.00,0.00,0.00"]
    assert (tmp_path / "activity.csv").read_text().splitlines() == out.splitlines()


def test_a_daysheet_of_a_day_still_to_come_cannot_be_closed(database):
    with clock.frozen(DAY):
        with pytest.raises(Refused, match="in the future") as err:
            daysheets.close_daysheet(DAY + dt.timedelta(days=1))
        assert err.value.field == "day"
        assert daysheets.daysheet_summary(DAY + dt.timedelta(days=1))["status"] == "not opened"
        b.voucher(None, 10_00, method="cash")  # today's sheet is untouched and open
        assert daysheets.close_daysheet(DAY)["status"] == "closed"


def test_daysheet_summary_lists_the_days_entries_with_their_ar_effect(database):
    with clock.frozen(DAY):
        pat = b.patient()
        b.encounter(pat, [50_00])
        vid = b.voucher(None, 30_00, method="cash")
        payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
        returns.return_check({"voucher_id": vid, "reason": "NSF"})
        sheet = daysheets.daysheet_summary()
    rows = [(e["kind"], e["ar_change"], e["user"]) for e in sheet["journal"]]
    assert rows[:4] == [("charge", 50_00, "tester"), ("voucher", 0, "tester"), ("credit", 0, "tester"),
                        ("payment", -30_00, "tester")]
    reversals = [e for e in sheet["journal"] if e["reverses"]]
    assert sum(e["ar_change"] for e in reversals) == 30_00
    assert all("NSF" in e["memo"] for e in reversals)
    assert len(sheet["journal"]) == sheet["entries"] and sheet["journal_truncated"] is False
    assert sum(e["ar_change"] for e in sheet["journal"]) == sum(k["ar_change"] for k in sheet["by_kind"].values())
    cut = daysheets.daysheet_summary(DAY, limit=2)
    assert [e["entry_id"] for e in cut["journal"]] == [e["entry_id"] for e in sheet["journal"][:2]]
    assert cut["journal_truncated"] is True and cut["entries"] == sheet["entries"]


def test_daysheet_close_of_a_future_date_from_the_cli(cli):
    with clock.frozen(DAY):
        code, out, err = cli("daysheet", "close", "--date", "2026-04-02")
        assert code == 4 and out == ""
        assert "2026-04-02 is in the future" in err
        assert cli.json("daysheet", "show")["status"] == "not opened"
        b.encounter(b.patient(), [50_00])
        shown = cli.json("daysheet", "show")
    assert [(e["kind"], e["ar_change"], e["user"]) for e in shown["journal"]] == [("charge", "50.00", "tester")]
