"""The Credit balances screen (issue 20) at 80x24: opened from Home by f and from the palette,
sorted by age or amount, F2 refunds the highlighted account after a confirm, F5 reloads, Esc
goes back; the database shows the refund and ``verify`` stays clean."""

from __future__ import annotations

import datetime as dt

from claimdesk.core import clock
from claimdesk.core.models import Credit
from claimdesk.core.models.refunds import Refund
from claimdesk.core.services import payments
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.tui.helpers import drive, press, screen_text, tab_to, type_text, words


def _clinic():
    """A patient holding 40.00 since 2026-03-02 and a payer holding 150.00 since 2026-03-20."""
    with clock.frozen(dt.datetime(2026, 3, 2, 9, 0)):
        pat = b.patient(last="Overpaid")
        b.encounter(pat, [60_00])
        vid = b.voucher(None, 100_00)
        credit = payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    with clock.frozen(dt.datetime(2026, 3, 20, 9, 0)):
        aetna = b.payer("Aetna")
        b.voucher(aetna, 150_00)
    return pat, credit["credit_id"]


def test_the_credit_balances_screen_refunds_a_patient_after_a_confirm(database):
    pat, credit_id = _clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "f")
        seen["opened"] = screen_text(app)
        await press(pilot, "o")
        seen["by_amount"] = words(screen_text(app))
        await press(pilot, "o")  # back to oldest first: the patient is highlighted
        await press(pilot, "f2")
        seen["dialog"] = screen_text(app)
        await tab_to(pilot, "details-check_number")
        await type_text(pilot, "5001")
        await press(pilot, "f2")  # no reason: said under the field, nothing asked, nothing written
        seen["no_reason"] = words(screen_text(app))
        await tab_to(pilot, "reason")
        await type_text(pilot, "patient overpaid")
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(app))
        await press(pilot, "y")
        seen["done"] = words(screen_text(app))
        await press(pilot, "f5")
        seen["reloaded"] = words(screen_text(app))
        await press(pilot, "escape")
        seen["home"] = words(screen_text(app))

    drive(flow)
    import os
    if os.environ.get("SHOW_SCREENS"):
        print(seen["opened"]); print(seen["dialog"]); print(seen["confirm"]); print(seen["done"])
    lines = seen["opened"].splitlines()
    assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
    opened = words(seen["opened"])
    assert "1 patient(s), 1 payer(s) hold 190.00; oldest first" in opened
    assert "Overpaid, Jan" in opened and "40.00" in opened and "2026-03-02" in opened and "30d" in opened
    assert "Aetna" in opened and "150.00" in opened and "12d" in opened
    assert opened.index("Overpaid, Jan") < opened.index("Aetna")
    assert "largest first" in seen["by_amount"]
    assert seen["by_amount"].index("Aetna") < seen["by_amount"].index("Overpaid, Jan")
    dialog = words(seen["dialog"])
    assert "Refund Overpaid, Jan (patient #" in dialog and "holds 40.00" in dialog and "Refund check" in dialog
    assert "Reason: " in seen["no_reason"] and "Refund 40.00?" not in seen["no_reason"]
    assert "Refund 40.00?" in seen["confirm"] and "credit #" in seen["confirm"]
    assert "The money leaves the account and the bank now." in seen["confirm"]
    assert "0 patient(s), 1 payer(s) hold 150.00" in seen["reloaded"]
    assert "Work queues" in seen["home"]
    refund = Refund.get()  # (its id: PostgreSQL spent one on the preview, rolled back)
    assert f"✔ Refund #{refund.id}: 40.00 to Overpaid, Jan, issued by check 5001." in seen["done"]
    assert (refund.amount, refund.status, refund.reference, refund.reason) == (40_00, "issued", "5001",
                                                                               "patient overpaid")
    assert Credit.get_by_id(credit_id).unapplied == 0
    assert verify() == []


def test_a_refund_above_what_is_held_is_refused_under_the_amount(database):
    _clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "f", "f2")
        amount = app.focused
        amount.value = ""
        await type_text(pilot, "40.01")
        await tab_to(pilot, "details-check_number")
        await type_text(pilot, "5001")
        await tab_to(pilot, "reason")
        await type_text(pilot, "overpaid")
        await press(pilot, "f2")
        seen["refused"] = words(screen_text(app))

    drive(flow)
    assert "Amount: 40.01 is more than patient" in seen["refused"] and "holds only 40.00" in seen["refused"]
    assert Refund.select().count() == 0
    assert verify() == []


def test_the_palette_finds_credit_balances_by_refund_and_opens_it(database):
    _clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "ctrl+p")
        await type_text(pilot, "refund")
        seen["palette"] = words(screen_text(app))
        await press(pilot, "enter")
        seen["screen"] = (app.screen.TITLE, words(screen_text(app)))

    drive(flow)
    assert "Credit balances and refunds" in seen["palette"]
    assert seen["screen"][0] == "Credit balances" and "hold 190.00" in seen["screen"][1]


def test_the_payment_plans_screen_makes_a_plan_and_checks_missed_instalments(database):
    from claimdesk.core.models import Encounter
    from claimdesk.core.services import plans

    pat = b.patient(last="Planned")
    with clock.frozen(dt.datetime(2026, 3, 2, 9, 0)):
        enc, _charges = b.encounter(pat, [300_00], dos=dt.date(2026, 3, 2))
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "w")
        seen["opened"] = words(screen_text(app))
        await press(pilot, "f4")
        await type_text(pilot, str(pat.id))
        await press(pilot, "tab")
        await type_text(pilot, "500.00")
        await press(pilot, "f2")  # more than the balance: refused in the dialog, nothing made
        seen["refused"] = words(screen_text(app))
        await tab_to(pilot, "amount")
        app.focused.value = ""
        await type_text(pilot, "100.00")
        await tab_to(pilot, "start_on")
        await type_text(pilot, "2026-03-01")
        await press(pilot, "f2")
        seen["made"] = screen_text(app)
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(app))
        await press(pilot, "y")
        seen["checked"] = words(screen_text(app))

    drive(flow)  # (today is 2026-04-01: the instalments of March 1 and April 1 are due, March's missed)
    assert "0 active plan(s)" in seen["opened"]
    assert "Amount: an instalment of 500.00 pays the whole 300.00 at once" in seen["refused"]
    made = seen["made"]
    assert all(len(line) <= 80 for line in made.splitlines()) and len(made.splitlines()) == 24
    assert "✔ Plan #1: 300.00 in 3 instalment(s) of 100.00 monthly from 2026-03-01; 200.00 due now." in words(made)
    assert "Check every plan for missed instalments?" in seen["confirm"]
    assert "1 plan(s) missed an instalment (to Patient balance)" in seen["checked"]
    assert plans.MISSED_TAG in Encounter.get_by_id(enc.id).tags
    assert verify() == []


def test_a_supervisor_approves_a_held_refund_from_the_refunds_list(database, tmp_path, monkeypatch):
    from claimdesk.core.context import as_user
    from claimdesk.core.services import refunds

    from tests.conftest import register

    path = tmp_path / "limit.toml"
    path.write_text('[refunds]\nsupervisor_above = "25.00"\n', encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    pat, _credit_id = _clinic()
    held = refunds.add_refund({"payee": "patient", "patient_id": pat.id, "amount": "40.00", "method": "check",
                               "details": {"check_number": "77"}, "reason": "overpaid"})
    assert held["status"] == "awaiting_approval"
    register("boss", role="supervisor")
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "f", "f7")
        seen["clerk_list"] = screen_text(app)
        await press(pilot, "f2", "y")
        seen["clerk_refused"] = words(screen_text(app))

    drive(flow)  # as the clerk: the core refuses the approval
    assert "1 refund(s), 1 awaiting a supervisor (40.00)" in words(seen["clerk_list"])
    assert all(len(line) <= 80 for line in seen["clerk_list"].splitlines())
    assert "Not done: approving refund" in seen["clerk_refused"] and "needs a supervisor" in seen["clerk_refused"]
    assert Refund.get_by_id(held["refund_id"]).status == "awaiting_approval"

    async def boss_flow(pilot):
        await press(pilot, "f", "f7", "f2")
        seen["confirm"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        seen["approved"] = words(screen_text(pilot.app))

    with as_user("boss"):
        drive(boss_flow)
    assert f"Approve refund #{held['refund_id']}? It is issued now." in seen["confirm"]
    assert f"✔ Refund #{held['refund_id']}: 40.00 to Overpaid, Jan approved by boss and issued." in seen["approved"]
    assert Refund.get_by_id(held["refund_id"]).status == "issued"
    assert verify() == []


def test_home_lists_credit_balances_and_payment_plans_and_opens_them(database):
    """A clerk who does not know the keys finds both on Home's menu."""
    _clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        menu = app.screen.query_one("#menu")
        for name in ("credit_balances", "payment_plans"):
            menu.highlighted = next(i for i in range(menu.option_count) if menu.get_option_at_index(i).id == name)
            menu.focus()
            await press(pilot, "enter")
            seen[name] = type(app.screen).__name__
            await press(pilot, "escape")

    drive(flow)
    assert seen == {**seen, "credit_balances": "CreditBalancesScreen", "payment_plans": "PaymentPlansScreen"}
