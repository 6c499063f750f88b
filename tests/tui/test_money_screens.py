"""Credit entry and payer checks through the screens; the database shows the effect."""

from __future__ import annotations

from textual.widgets import Checkbox, Input, Select, SelectionList

from claimdesk.core.models import Credit, Voucher
from claimdesk.core.services import balances

from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, settle, type_text, words


async def open_credit_for(pilot, who: str) -> None:
    await press(pilot, "c")
    await type_text(pilot, who)
    await press(pilot, "enter")


def test_auto_apply_pays_oldest_first_and_sends_the_rest_back(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        scr = app.screen
        assert scr.query_one("#voucher", Select).value == clinic.cash
        assert scr.query_one("#amount", Input).value == "40.00"  # the voucher's undistributed money
        seen["before"] = words(screen_text(app))
        await press(pilot, "f2")
        seen["after"] = words(screen_text(app))

    drive(flow)
    assert "Ortiz, Sam" in seen["before"] and "owes 120.00" in seen["before"]
    assert "drawn 40.00, applied 40.00, unapplied 0.00, back to voucher 0.00" in seen["after"]
    assert "paid 40.00, open now 80.00" in seen["after"]
    assert balances.patient_balance(clinic.sam.id).patient_due == 80_00
    assert balances.voucher_undistributed(clinic.cash) == 0


def test_apply_credit_keep_unapplied_and_amount_refusal(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, str(clinic.sam.id))
        scr = app.screen
        scr.query_one("#amount", Input).value = "99.00"  # more than the voucher holds
        await press(pilot, "f2")
        seen["refused"] = words(screen_text(app))
        scr.query_one("#amount", Input).value = "40.00"
        scr.query_one("#keep", Checkbox).value = True
        await press(pilot, "f3")  # Apply Credit with no charge ticked: all stays unapplied, kept
        seen["kept"] = words(screen_text(app))

    drive(flow)
    assert "! amount: amount 99.00 is more than the voucher's undistributed 40.00" in seen["refused"]
    assert "unapplied 40.00" in seen["kept"]
    credit = Credit.get()
    assert balances.credit_unapplied(credit.id) == 40_00
    assert balances.patient_balance(clinic.sam.id).unapplied == 40_00
    assert balances.patient_balance(clinic.sam.id).patient_due == 120_00


def test_new_voucher_on_the_fly_then_manual_apply(database):
    clinic = scenario.build()

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        scr = app.screen
        scr.query_one("#method", Select).value = "check"
        await settle(pilot)
        await press(pilot, "f4")
        dialog = app.screen
        dialog.query_one("#vb-amount", Input).value = "25.00"
        dialog.query_one("#vd-check_number", Input).value = "7788"
        await press(pilot, "f2")
        assert app.screen is scr
        new_id = scr.query_one("#voucher", Select).value
        assert new_id != clinic.cash and scr.query_one("#amount", Input).value == "25.00"
        charges = scr.query_one("#charges", SelectionList)
        charges.select(clinic.charges[clinic.self_pay.id][0].id)
        await press(pilot, "f3")

    drive(flow)
    v = Voucher.select().where(Voucher.reference == "7788").get()
    assert (v.amount, v.method, v.undistributed) == (25_00, "check", 0)
    assert balances.patient_balance(clinic.sam.id).patient_due == 95_00


def test_return_check_with_flat_fee_reverses_the_credit(database):
    clinic = scenario.build()
    from claimdesk.core import clock
    from claimdesk.core.services import payments

    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash})
    assert balances.patient_balance(clinic.sam.id).patient_due == 80_00
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "k", "a")  # all active vouchers: the cash one is fully used
        seen["list"] = words(screen_text(app))
        table = app.screen.query_one("#checks-table")
        row = [r["voucher_id"] for r in app.screen.rows].index(clinic.cash)
        table.move_cursor(row=row)
        await press(pilot, "r")
        dialog = app.screen
        await type_text(pilot, "NSF")
        dialog.query_one("#policy", Select).value = "flat"
        await settle(pilot)
        dialog.query_one("#fee-service_code", Select).value = "99213"
        dialog.query_one("#fee-provider_id", Select).value = dialog.query_one("#fee-provider_id", Select)._options[1][1]
        dialog.query_one("#fee-amount", Input).value = "25.00"
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(app))
        await press(pilot, "y")
        seen["done"] = words(screen_text(app))

    drive(flow)
    assert "#2" in seen["list"] and "40.00" in seen["list"]
    assert "Return this check?" in seen["confirm"] and "NSF" in seen["confirm"]
    assert "Voucher #2 returned" in seen["done"] and "fee 25.00" in seen["done"]
    assert Voucher.get_by_id(clinic.cash).status == "returned"
    assert balances.patient_balance(clinic.sam.id).patient_due == 120_00 + 25_00
