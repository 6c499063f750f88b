"""Patient ledger, admin inbox, audit log, plugins, daysheet, queues and the command palette."""

from __future__ import annotations

import re

from claimdesk.api import hookimpl
from claimdesk.core import clock, db
from claimdesk.core.models import AdminMessage, Daysheet, Patient, User
from claimdesk.core.plugins.host import PluginHost, reset_host
from claimdesk.core.services import actions, payments

from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, tab_to, type_text, words


def test_patient_ledger_shows_running_balance_credits_and_unapplied(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "40.00",
                              "apply": "none"})
    seen = {}

    async def flow(pilot):
        await press(pilot, "l")
        await type_text(pilot, "Ortiz")
        await press(pilot, "enter")
        seen["activity"] = words(screen_text(pilot.app))
        await press(pilot, "3")  # the Credits tab
        seen["credits"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Patient owes 120.00 With insurers 0.00 Unapplied 40.00 Net due 80.00" in seen["activity"]
    assert "+120.00 120.00" in seen["activity"]
    assert "#1 #2 Patient cash 2026-04-01 40.00 0.00 40.00" in seen["credits"]  # from the patient, in cash


def test_inbox_answer_needs_an_admin_and_then_closes(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        actions.apply(clinic.self_pay.id, "none_of_the_above", {"subject": "Which payer?", "note": "two cards"})
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "i")
        seen["list"] = words(screen_text(app))
        await press(pilot, "enter")
        seen["read"] = words(screen_text(app))
        await press(pilot, "a")
        await type_text(pilot, "Use Aetna")
        await press(pilot, "f2")
        seen["refused"] = words(screen_text(app))
        with db.write_transaction():
            User.get_or_create(username="tester", defaults={"role": "clerk"})
            User.update(role="admin").where(User.username == "tester").execute()
        await tab_to(pilot, "close")
        await press(pilot, "space", "f2")
        seen["answered"] = words(screen_text(app))

    drive(flow)
    assert "1 message(s), 1 open" in seen["list"] and "Which payer?" in seen["list"]
    assert "two cards" in seen["read"]
    assert "! answering admin messages needs" in seen["refused"] and "tester is a clerk" in seen["refused"]
    assert "Answer (tester): Use Aetna" in seen["answered"]
    msg = AdminMessage.get()
    assert (msg.status, msg.answer, msg.read) == ("closed", "Use Aetna", True)


def test_audit_log_lists_and_filters_events(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "u")
        seen["all"] = words(screen_text(pilot.app))
        await press(pilot, "f6")
        await type_text(pilot, "eob")
        await press(pilot, "enter")
        seen["eob"] = words(screen_text(pilot.app))

    drive(flow)
    from claimdesk.core.models import AuditEvent

    every = AuditEvent.select().count()  # as many as the clinic's set-up audited, all listed
    eob = AuditEvent.select().where(AuditEvent.action.contains("eob")).count()
    assert eob == 2 and every > eob
    assert "voucher.create" in seen["all"] and f"{every} event(s) shown" in seen["all"]
    assert "voucher.create" not in seen["eob"] and f"{eob} event(s) shown" in seen["eob"]


class Broken:
    """A plugin whose action list raises: reported and skipped, the app keeps running."""

    @hookimpl
    def claimdesk_advanced_actions(self):
        raise RuntimeError("database of rules missing")


def test_plugins_screen_lists_loaded_and_failed_plugins(database):
    host = PluginHost().load_entrypoints()
    host.register(Broken(), "clinic_rules", distribution="clinic-rules", version="0.3")
    reset_host(host)
    seen = {}

    async def flow(pilot):
        await press(pilot, "p")
        seen["text"] = words(screen_text(pilot.app))

    try:
        drive(flow)
    finally:
        reset_host(None)
    assert "1 failed (skipped, the rest keep working)" in seen["text"]
    assert "✘ clinic_rules (describe): RuntimeError: database of rules missing" in seen["text"]
    assert "action_add_primary built-in action add_primary" in seen["text"]


def test_daysheet_totals_and_closing_it(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "d")
        seen["sheet"] = words(screen_text(pilot.app))
        await tab_to(pilot, "ds-from")
        await press(pilot, "end", *["backspace"] * 10)
        await type_text(pilot, "April 1")
        await press(pilot, "enter")
        seen["bad"] = words(screen_text(pilot.app))
        await press(pilot, *["backspace"] * 7)
        await type_text(pilot, "2026-04-01")
        await press(pilot, "f2", "y")
        seen["closed"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Daysheet 2026-04-01: open, 6 entries" in seen["sheet"]
    assert "charge 4 +350.00" in seen["sheet"] and "Dr. Rivera 350.00 0.00" in seen["sheet"]
    assert "! from: April 1 is not a date (YYYY-MM-DD)" in seen["bad"]
    assert "Daysheet 2026-04-01: closed" in seen["closed"]
    assert Daysheet.get().status == "closed"


def test_queue_lists_encounters_and_opens_advanced_actions(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "enter")  # Denied is the first queue
        seen["queue"] = words(screen_text(pilot.app))
        await press(pilot, "enter")
        seen["advanced"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Queue Denied: 2 encounter(s)" in seen["queue"] and "Reyes, Dana" in seen["queue"]
    assert f"Encounter {clinic.denied[0].id} Reyes, Dana" in seen["advanced"]


def test_command_palette_lists_plugin_actions_and_opens_them(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "ctrl+p")
        await type_text(pilot, "negotiate")
        seen["palette"] = words(screen_text(pilot.app))
        await press(pilot, "enter")
        await type_text(pilot, str(clinic.self_pay.id))
        await press(pilot, "enter")
        seen["form"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Action: Patient called to negotiate the balance" in seen["palette"]
    assert "Patient called to negotiate the balance Encounter 3" in seen["form"]


def test_command_palette_finds_an_action_by_its_keywords(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "ctrl+p")
        await type_text(pilot, "collections")  # not in any title: the bad-debt action's keyword
        seen["palette"] = words(screen_text(pilot.app))

    drive(flow)
    assert "Action: Patient Write-Off, bad debt" in seen["palette"]


def test_sixteen_colour_terminal_draws_home(database):
    """A terminal with only the 16 ANSI colours (old SSH clients) gets the ANSI theme, and Home."""
    scenario.build()
    seen = {}

    async def flow(pilot):
        seen["theme"] = pilot.app.theme
        seen["home"] = words(screen_text(pilot.app))

    drive(flow, ansi=True)
    assert seen["theme"].startswith(("ansi", "textual-ansi"))
    for text in ("Work queues", "Denied", "Advanced Actions", "2 encounters in work queues · 0 open admin messages"):
        assert text in seen["home"]


def test_a_name_too_long_for_its_column_ends_with_an_ellipsis(database):
    """A cut name must not pass for a whole one: "Worthington-Fairbanks-Oyela…", never
    "Worthington-Fairbanks-Oyelaran, Ma" read as her name."""
    clinic = scenario.build()
    Patient.update(last_name="Worthington-Fairbanks-Oyelaran", first_name="Magdalena").where(
        Patient.id == clinic.dana.id).execute()
    seen = {}

    async def flow(pilot):
        await press(pilot, "enter")  # the Denied queue: her two encounters
        seen["queue"] = words(screen_text(pilot.app))

    drive(flow)
    assert re.search(r"Worthington-Fairbanks-Oye\w*…", seen["queue"])
    assert "Worthington-Fairbanks-Oyelaran, Magdalena" not in seen["queue"]
