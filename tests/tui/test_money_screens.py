"""Credit entry, applying unapplied money and payer checks through the screens, driven by
keys as a clerk does it; the database shows the effect."""

from __future__ import annotations

from claimdesk.core import clock
from claimdesk.core.models import AuditEvent, Credit, Voucher
from claimdesk.core.services import balances, payments

from tests import builders as b
from tests.tui import scenario
from tests.tui.helpers import choose, drive, press, screen_text, tab_to, tick_row, type_text, words


async def open_credit_for(pilot, who: str) -> None:
    await press(pilot, "c")
    await type_text(pilot, who)
    await press(pilot, "enter")


async def open_credits_tab(pilot, who: str) -> None:
    """The patient ledger of ``who``, on its Credits tab."""
    await press(pilot, "l")
    await type_text(pilot, who)
    await press(pilot, "enter", "3")


def credits_posted() -> int:
    return AuditEvent.select().where(AuditEvent.action == "credit.post").count()


def test_no_voucher_is_picked_for_the_clerk_and_f2_twice_posts_once(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        seen["opened"] = words(screen_text(app))
        await press(pilot, "f2")  # no voucher chosen: nothing is posted, the voucher field says why
        seen["refused"] = words(screen_text(app))
        await choose(pilot, "voucher", f"#{clinic.cash} cash")
        seen["chosen"] = words(screen_text(app))
        await press(pilot, "f2")
        seen["posted"] = words(screen_text(app))
        await press(pilot, "f2")  # again: the voucher is cleared after a post, so nothing more is drawn
        seen["again"] = words(screen_text(app))

    drive(flow)
    assert "Voucher choose the voucher…" in seen["opened"] and "Amount" in seen["opened"]
    assert "! choose the voucher the money comes from (or New to record one)" in seen["refused"]
    assert "40.00 of 40.00 undistributed" in seen["chosen"]
    assert "drawn 40.00, applied 40.00, unapplied 0.00, back to voucher 0.00" in seen["posted"]
    assert "paid 40.00, open now 80.00" in seen["posted"]
    assert "! choose the voucher the money comes from" in seen["again"]
    assert credits_posted() == 1 and Credit.select().count() == 1
    assert balances.patient_balance(clinic.sam.id).patient_due == 80_00
    assert balances.voucher_undistributed(clinic.cash) == 0


def test_apply_credit_with_nothing_ticked_asks_first_then_keeps_it_unapplied(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, str(clinic.sam.id))
        await choose(pilot, "voucher", f"#{clinic.cash} cash")
        await tab_to(pilot, "amount")
        await press(pilot, "end", *["backspace"] * 8)  # the clerk types over the default amount
        await type_text(pilot, "99.00")  # more than the voucher holds
        await press(pilot, "f2")
        seen["refused"] = words(screen_text(app))
        await press(pilot, *["backspace"] * 5)
        await type_text(pilot, "40.00")
        await tab_to(pilot, "keep")
        await press(pilot, "space")  # keep the unapplied amount on the credit
        await press(pilot, "f3")  # Apply Credit with no charge ticked: asked first
        seen["asked"] = words(screen_text(app))
        await press(pilot, "y")
        seen["kept"] = words(screen_text(app))

    drive(flow)
    assert "! Amount: 99.00 is more than the voucher's undistributed 40.00" in seen["refused"]
    assert "No charge is ticked [x]. Post the credit unapplied?" in seen["asked"]
    assert "All 40.00 stays unapplied on the patient's account" in seen["asked"]
    assert "unapplied 40.00" in seen["kept"]
    credit = Credit.get()
    assert balances.credit_unapplied(credit.id) == 40_00
    assert balances.patient_balance(clinic.sam.id).unapplied == 40_00
    assert balances.patient_balance(clinic.sam.id).patient_due == 120_00


def test_auto_apply_with_keep_unapplied_keeps_the_rest_on_the_account(database):
    """A 150.00 cash payment on Sam's 120.00: auto-apply pays the charge, and with
    keep-unapplied the 30.00 left stays on his account instead of going back to the voucher."""
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        big = b.voucher(None, 150_00, method="cash")
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        await choose(pilot, "voucher", f"#{big} cash")
        seen["form"] = words(screen_text(app))
        await tab_to(pilot, "keep")
        await press(pilot, "space")
        seen["ticked"] = words(screen_text(app))
        await press(pilot, "f2")
        seen["posted"] = words(screen_text(app))

    drive(flow)
    assert "150.00 of 150.00 undistributed" in seen["form"]
    assert f"[ ] charge {clinic.charges[clinic.self_pay.id][0].id}" in seen["form"]  # not ticked, and it says so
    assert "▐X▌ Keep unapplied amount on this credit" in seen["ticked"]
    assert "applied 120.00, unapplied 30.00" in seen["posted"]
    credit = Credit.get()
    assert credit.keep_unapplied and balances.credit_unapplied(credit.id) == 30_00
    sam = balances.patient_balance(clinic.sam.id)
    assert (sam.patient_due, sam.unapplied) == (0, 30_00)
    assert balances.voucher_undistributed(big) == 0


def test_new_voucher_on_the_fly_then_apply_to_the_ticked_charge(database):
    clinic = scenario.build()
    charge = clinic.charges[clinic.self_pay.id][0]

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        scr = app.screen
        await choose(pilot, "method", "Check")
        await press(pilot, "f4")
        assert app.screen is not scr
        await type_text(pilot, "25.00")  # the dialog opens on its first field, the amount
        await tab_to(pilot, "vd-check_number")
        await type_text(pilot, "7788")
        await press(pilot, "f2")
        assert app.screen is scr
        assert scr.query_one("#amount").value == "25.00"
        await tick_row(pilot, "charges", f"charge {charge.id}")
        await press(pilot, "f3")

    drive(flow)
    v = Voucher.select().where(Voucher.reference == "7788").get()
    assert (v.amount, v.method, v.undistributed) == (25_00, "check", 0)
    assert balances.patient_balance(clinic.sam.id).patient_due == 95_00


def test_applying_unapplied_money_later_from_the_ledger(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        posted = payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "30.00",
                                       "apply": "none"})
    charge = clinic.charges[clinic.self_pay.id][0]
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credits_tab(pilot, "Ortiz")
        seen["credits"] = words(screen_text(app))
        await press(pilot, "enter")  # on the credit holding money
        seen["dialog"] = words(screen_text(app))
        await press(pilot, "f3")  # nothing ticked: refused in the dialog
        seen["nothing"] = words(screen_text(app))
        await tick_row(pilot, "ua-charges", f"#{charge.id}")
        await press(pilot, "f3")
        seen["applied"] = words(screen_text(app))

    drive(flow)
    assert f"Credit #{posted['credit_id']}: 30.00 unapplied. Enter applies it" in seen["credits"]
    assert "Apply unapplied money: Ortiz, Sam" in seen["dialog"] and "30.00 unapplied" in seen["dialog"]
    assert f"[ ] #{charge.id}" in seen["dialog"]
    assert "f2 Auto-apply" in seen["dialog"]  # the dialog's own keys in the footer
    assert "! tick [x] the charges to pay first" in seen["nothing"]
    assert f"✔ Credit #{posted['credit_id']}: applied 30.00, unapplied left 0.00." in seen["applied"]
    assert "Unapplied 0.00" in seen["applied"]
    assert balances.credit_unapplied(posted["credit_id"]) == 0
    assert balances.patient_balance(clinic.sam.id).patient_due == 90_00
    assert AuditEvent.select().where(AuditEvent.action == "credit.apply").count() == 1


def test_find_a_check_and_return_it_with_a_flat_fee(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash})
    assert balances.patient_balance(clinic.sam.id).patient_due == 80_00
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "k", "a")  # all active vouchers: the cash one is fully used
        seen["list"] = words(screen_text(app))
        await press(pilot, "f6")
        await type_text(pilot, "cash 40.00")
        await press(pilot, "enter")
        seen["found"] = words(screen_text(app))
        await press(pilot, "r")
        await type_text(pilot, "NSF")
        await choose(pilot, "policy", "Flat fee")
        await choose(pilot, "fee-service_code", "99213")
        await choose(pilot, "fee-provider_id", "Rivera")
        await tab_to(pilot, "fee-amount")
        await type_text(pilot, "25.00")
        seen["dialog"] = words(screen_text(app))
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(app))
        await press(pilot, "y")
        seen["done"] = words(screen_text(app))

    drive(flow)
    assert "#2 cash" in seen["list"] and "40.00" in seen["list"]
    assert "1 of 2 active voucher(s) match" in seen["found"] and "#1 check" not in seen["found"]
    assert "Service code *" in seen["dialog"] and "Provider *" in seen["dialog"]
    assert "Provider id" not in seen["dialog"] and "f2 Return check" in seen["dialog"]
    assert "Return this check?" in seen["confirm"] and "NSF" in seen["confirm"]
    # what will happen, from the core's own return rolled back: one credit, Sam owes 40.00 more
    assert "Credits reversed: 1" in seen["confirm"] and f"#{clinic.sam.id} +40.00" in seen["confirm"]
    assert "Fee charged: 25.00" in seen["confirm"]
    assert "Voucher #2 returned" in seen["done"] and "fee 25.00" in seen["done"]
    assert Voucher.get_by_id(clinic.cash).status == "returned"
    assert balances.patient_balance(clinic.sam.id).patient_due == 120_00 + 25_00


def test_the_unapplied_dialog_lists_only_charges_the_credits_payer_owes_on(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        _, (aetna_charge,) = b.encounter(clinic.sam, [60_00], payers=[clinic.aetna], dos=scenario.TODAY)
        from_aetna = payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.aetna_check,
                                           "amount": "20.00", "apply": "none", "keep_unapplied": True})
        from_sam = payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash,
                                         "amount": "10.00", "apply": "none", "keep_unapplied": True})
    self_pay_charge = clinic.charges[clinic.self_pay.id][0]
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credits_tab(pilot, "Ortiz")
        await press(pilot, "enter")  # the first credit: Aetna's money
        seen["aetna"] = words(screen_text(app))
        await choose(pilot, "ua-credit", f"#{from_sam['credit_id']} ")
        seen["sam"] = words(screen_text(app))

    drive(flow)
    assert f"[ ] #{aetna_charge.id}" in seen["aetna"] and f"#{self_pay_charge.id}" not in seen["aetna"]
    assert f"[ ] #{self_pay_charge.id}" in seen["sam"] and f"#{aetna_charge.id} " not in seen["sam"]
    assert balances.credit_unapplied(from_aetna["credit_id"]) == 20_00


def test_the_return_dialog_checks_every_field_before_it_asks(database):
    """A flat fee with no provider: the dialog says so under the field, in its label's words,
    and no "Return this check?" (with "Provider: —") is asked; nothing is returned."""
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash})
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "k", "a", "f6")
        await type_text(pilot, "cash 40.00")
        await press(pilot, "enter", "r")
        await type_text(pilot, "NSF")
        await choose(pilot, "policy", "Flat fee")
        await choose(pilot, "fee-service_code", "99213")
        await tab_to(pilot, "fee-amount")
        await type_text(pilot, "25.00")
        await press(pilot, "f2")
        seen["refused"] = (type(app.screen).__name__, words(screen_text(app)))
        await choose(pilot, "fee-provider_id", "Rivera")
        seen["corrected"] = words(screen_text(app))
        await press(pilot, "f2")
        seen["confirm"] = (type(app.screen).__name__, words(screen_text(app)))

    drive(flow)
    screen, text = seen["refused"]
    assert screen == "ReturnCheckScreen" and "Return this check?" not in text
    assert "Provider" in text and "fill this in" in text and "provider_id" not in text
    assert "Missing data" not in text
    assert "fill this in" not in seen["corrected"]  # the message goes once the field is set
    screen, text = seen["confirm"]
    assert screen == "ConfirmScreen" and "Return this check?" in text and ": —" not in text
    assert Voucher.get_by_id(clinic.cash).status != "returned"


def test_a_bad_amount_is_said_under_the_field_in_its_label_and_goes_when_corrected(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Ortiz")
        await choose(pilot, "voucher", f"#{clinic.cash} cash")
        await tab_to(pilot, "amount")
        await press(pilot, *["backspace"] * 8)
        await type_text(pilot, "12.345")
        await press(pilot, "f2")
        seen["refused"] = words(screen_text(app))
        await press(pilot, "backspace")
        seen["corrected"] = words(screen_text(app))

    drive(flow)
    assert "Amount: has more than 2 decimals" in seen["refused"]
    assert "amount:" not in seen["refused"] and "must be an amount like 12.50:" not in seen["refused"]
    assert "has more than 2 decimals" not in seen["corrected"]
    assert credits_posted() == 0
