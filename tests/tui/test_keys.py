"""Function keys mean one thing on every screen, and every screen's footer fits at 80 columns."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.screen import Screen
from textual.widgets._footer import FooterKey
from textual.widgets._toast import Toast

from claimdesk.tui import keys, screens
from tests.tui import scenario
from tests.tui.helpers import choose, drive, press, screen_text, settle
from tests.tui.test_money_screens import open_credit_for


def _screen_classes():
    for info in pkgutil.iter_modules(screens.__path__):
        module = importlib.import_module(f"{screens.__name__}.{info.name}")
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                yield cls


def test_every_function_key_keeps_its_one_meaning_on_every_screen():
    """A screen that bound F5 to "post" (or F6 to Unapplied on one screen and Regenerate on the
    next) would fail here: each F-key binding must come from tui/keys.py, under its meaning."""
    seen: dict[str, set[str]] = {}
    classes = list(_screen_classes())
    assert len(classes) > 25
    for cls in classes:
        numbers = [int(b.key[1:]) for b in cls.BINDINGS
                   if not isinstance(b, tuple) and b.key.startswith("f") and b.key[1:].isdigit()]
        assert numbers == sorted(numbers), f"{cls.__name__}: the footer lists F{numbers} out of order"
        for binding in cls.BINDINGS:
            key = binding[0] if isinstance(binding, tuple) else binding.key
            if not (key.startswith("f") and key[1:].isdigit()):
                continue
            meaning = keys.MEANINGS.get(key, ("?", ""))[0]
            assert getattr(binding, "id", None) == f"claimdesk.{meaning}", \
                f"{cls.__name__}: {key} ({binding.description!r}) is not bound through tui/keys.py"
            seen.setdefault(key, set()).add(cls.__name__)
    # every meaning is used somewhere, so the table in tui/keys.py is the app's, not a wish list
    assert set(seen) == set(keys.MEANINGS)


SCREENS = {
    "advanced": lambda app: app.open_advanced(), "credit": lambda app: app.open_credit("check"),
    "checks": lambda app: app.open_checks(), "batch posting": lambda app: app.open_batch_posting(),
    "ledger": lambda app: app.open_ledger(), "inbox": lambda app: app.open_inbox(),
    "audit": lambda app: app.open_audit(), "plugins": lambda app: app.open_plugins(),
    "daysheet": lambda app: app.open_daysheet(), "zero splits": lambda app: app.open_zero_splits(),
    "claim batches": lambda app: app.open_claim_batches(), "aging": lambda app: app.open_aging(),
    "statements": lambda app: app.open_statements(), "registration": lambda app: app.open_registration(),
    "charge entry": lambda app: app.open_charge_entry(), "clinic setup": lambda app: app.open_clinic_setup(),
    "import 837": lambda app: app.open_claim_import(), "post ERA": lambda app: app.open_era_import(),
    "ERA exceptions": lambda app: app.open_era_exceptions(),
}


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_the_footer_shows_every_key_within_80_columns(database, name):
    """At 80x24 (an SSH terminal) every key the footer offers is drawn whole inside the screen."""
    scenario.build()
    seen = {}

    async def flow(pilot):
        SCREENS[name](pilot.app)
        await settle(pilot)
        shown = list(pilot.app.screen.query(FooterKey))
        # the command palette's key is docked at the right: the screen's keys must end before it
        docked = [k.region.x for k in shown if k.key == "ctrl+p"]
        seen["limit"] = min(docked, default=80)
        seen["keys"] = [(k.key, k.description, k.region.right) for k in shown if k.key != "ctrl+p"]

    drive(flow)
    assert seen["keys"], f"{name}: no footer keys"
    wide = [(key, desc, right) for key, desc, right in seen["keys"] if right > seen["limit"]]
    assert not wide, f"{name}: footer keys hidden past column {seen['limit']}: {wide}"


@pytest.mark.parametrize("ansi", [True, False], ids=["8-colour", "full-colour"])
def test_fields_are_visible_and_the_focused_one_stands_out(database, ansi):
    """TERM=linux or vt100 gives the ANSI theme, where a borderless field would have the
    screen's own background: every field must differ from the screen, and the focused input
    or dropdown from the others."""
    scenario.build()
    seen = {}

    def look(pilot, label):
        screen = pilot.app.screen
        seen[label] = {"screen": screen.rich_style.bgcolor,
                       "fields": [(w, w.has_focus or (w.parent is not None and w.parent.has_focus), w.rich_style.bgcolor)
                                  for w in screen.query("Input, SelectCurrent")]}

    async def flow(pilot):
        pilot.app.open_credit("check")
        await settle(pilot)
        look(pilot, "input focused")
        pilot.app.screen.query_one("Select").focus()
        await settle(pilot)
        look(pilot, "select focused")

    drive(flow, ansi=ansi)
    for label, info in seen.items():
        focused = [bg for _w, has, bg in info["fields"] if has]
        others = {bg for _w, has, bg in info["fields"] if not has}
        assert len(focused) == 1 and len(others) >= 1, label
        assert focused[0] not in others, f"{label}: the focused field looks like the others"
        if ansi:
            assert info["screen"] not in others | {focused[0]}, f"{label}: a field has the screen's background"


def test_a_notification_does_not_cover_the_result_at_80x24(database):
    """Posting a credit writes the result on the screen and says so in a notification: the
    notification must not sit on the result text."""
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await open_credit_for(pilot, "Reyes")  # her insurer's check: a result of several lines
        await choose(pilot, "payer", "Aetna")
        await choose(pilot, "voucher", f"#{clinic.aetna_check} ")
        await press(pilot, "f2")
        await settle(pilot)
        seen["result"] = app.screen.query_one("#credit-result").region
        seen["toasts"] = [t.region for t in app.screen.query(Toast)]
        seen["text"] = screen_text(app)

    drive(flow, notifications=True)
    assert seen["toasts"], "no notification was shown"
    assert "Voucher #1 undistributed now 0.00" in seen["text"]
    for toast in seen["toasts"]:
        assert not toast.overlaps(seen["result"]), (toast, seen["result"])
