"""Automatic logoff (issue 19, HIPAA 164.312(a)(2)(iii)): after 10 idle minutes the app hides every
patient detail behind a lock screen; the user's passphrase unlocks it, a wrong one does not; locked
10 minutes more, the app closes. The clock is the test's own (no waiting)."""

from __future__ import annotations

from claimdesk.core import users
from claimdesk.core.models import User

from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, settle, type_text, wait_until, words


def test_idle_app_locks_hides_the_patient_and_only_the_passphrase_unlocks(database):
    clinic = scenario.build()
    users.set_passphrase("correct horse battery")
    assert User.get(User.username == "tester").passphrase.startswith("scrypt$16384$8$1$")
    seen = {}

    async def flow(pilot):
        app, now = pilot.app, [1000.0]
        app.idle_clock = lambda: now[0]
        app.last_input = now[0]
        app.open_ledger(clinic.sam.id)
        await settle(pilot)
        seen["ledger"] = screen_text(app)
        now[0] += 9 * 60
        app.look_at_idle_time()
        await settle(pilot)
        seen["at 9 minutes"] = screen_text(app)
        await press(pilot, "down")  # a key: the clerk is there
        now[0] += 9 * 60
        app.look_at_idle_time()
        await settle(pilot)
        seen["9 minutes after a key"] = screen_text(app)
        now[0] += 60
        app.look_at_idle_time()
        await wait_until(pilot, lambda: "claimdesk is locked" in screen_text(app), "the lock screen")
        seen["locked"] = words(screen_text(app))
        await press(pilot, "escape", "ctrl+p")
        seen["escape and palette"] = screen_text(app)
        await type_text(pilot, "wrong guess")
        await press(pilot, "enter")
        seen["wrong"] = words(screen_text(app))
        await type_text(pilot, "correct horse battery")
        await press(pilot, "enter")
        await wait_until(pilot, lambda: "Ortiz, Sam" in screen_text(app), "the ledger again")
        seen["unlocked"] = screen_text(app)
        now[0] += 10 * 60
        app.look_at_idle_time()
        await settle(pilot)
        now[0] += 10 * 60
        app.look_at_idle_time()
        await settle(pilot)
        seen["closed"] = [str(r) for r in app._exit_renderables]  # (what exit prints as the app closes)

    drive(flow)
    assert "Ortiz, Sam" in seen["ledger"]
    assert "Ortiz, Sam" in seen["at 9 minutes"] and "Ortiz, Sam" in seen["9 minutes after a key"]
    assert "claimdesk is locked: nobody touched it for 10 minute(s)." in seen["locked"]
    assert "Ortiz" not in seen["locked"] and "tester, type your passphrase" in seen["locked"]
    assert "claimdesk is locked" in seen["escape and palette"] and "Ortiz" not in seen["escape and palette"]
    assert "✘ Wrong passphrase (4 tries left)." in seen["wrong"] and "Ortiz" not in seen["wrong"]
    assert "Ortiz, Sam" in seen["unlocked"] and "locked" not in seen["unlocked"]
    assert seen["closed"] == ["claimdesk closed: locked for 10 minute(s)."]


def test_without_a_passphrase_the_lock_only_lets_the_user_quit(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app, now = pilot.app, [0.0]
        app.idle_clock = lambda: now[0]
        app.last_input = now[0]
        app.open_ledger(clinic.sam.id)
        await settle(pilot)
        now[0] += 600
        app.look_at_idle_time()
        await wait_until(pilot, lambda: "claimdesk is locked" in screen_text(app), "the lock screen")
        seen["locked"] = words(screen_text(app))
        await press(pilot, "enter", "escape")
        seen["after keys"] = screen_text(app)

    drive(flow)
    assert "tester has no passphrase yet, so only Ctrl+Q (quit) is left" in seen["locked"]
    assert "Ortiz" not in seen["after keys"] and "claimdesk is locked" in seen["after keys"]
