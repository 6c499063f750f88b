"""SVG snapshots of every screen at 80x24, and the main screens at 120x40, with fixed data
and a frozen clock.

Update after an intended change with ``pytest tests/tui/test_snapshots.py --snapshot-update``
and look at the report before committing the new SVGs.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input

from claimdesk.core import clock
from claimdesk.core.services import actions, payments, zero_splits
from claimdesk.tui.app import ClaimdeskApp

from tests import builders as b
from tests.tui import scenario
from tests.tui.helpers import choose, press, settle, tab_to, type_text
from tests.conftest import empty_config

# one engine is enough for pictures: the data and ids are the same on both
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

SIZE = (80, 24)
WIDE = (120, 40)


def steps(*keys: str, then=None):
    """A run_before that presses keys (waiting for each service call) and stops the cursor blinking."""
    async def run_before(pilot):
        await settle(pilot)
        for key in keys:
            if key.startswith("type:"):
                await type_text(pilot, key[5:])
            else:
                await press(pilot, key)
        if then is not None:
            await then(pilot)
            await settle(pilot)
        for box in pilot.app.screen.query(Input):
            box.cursor_blink = False
        await pilot.pause()
    return run_before


def snap(snap_compare, *keys: str, then=None, ansi: bool = False, size=SIZE) -> bool:
    with clock.frozen(scenario.TODAY):
        return snap_compare(ClaimdeskApp(ansi=ansi), terminal_size=size, run_before=steps(*keys, then=then))


def test_home(database, snap_compare):
    scenario.build()
    assert snap(snap_compare)


def test_home_16_colours(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, ansi=True)


def test_queue(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "enter")


def test_advanced_actions_offers(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "a", "type:1", "enter")


def test_advanced_actions_error_next_to_field(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "a", "type:12x", "enter")


def test_action_form_rows_and_choices(database, snap_compare):
    scenario.build()

    async def pick_writeoff(pilot):
        pilot.app.open_advanced(1, "insurance_writeoff")

    assert snap(snap_compare, then=pick_writeoff)


def test_action_confirm(database, snap_compare):
    scenario.build()

    async def fill(pilot):
        pilot.app.open_advanced(3, "negotiate_balance")
        await settle(pilot)
        await type_text(pilot, "90.00")  # the form opens on the final balance
        await press(pilot, "f2")

    assert snap(snap_compare, then=fill)


def test_action_result_and_queue_question(database, snap_compare):
    scenario.build()

    assert snap(snap_compare, then=bill_patient)


async def bill_patient(pilot):
    """Dana's first denied encounter billed to her: Confirm ticked with the keyboard, F2, y."""
    pilot.app.open_advanced(1, "primary_denied_bill_patient")
    await settle(pilot)
    await tab_to(pilot, "act-confirm")
    await press(pilot, "space", "f2", "y")


def test_action_result_after_the_queue_answer(database, snap_compare):
    scenario.build()

    async def answer(pilot):
        await bill_patient(pilot)
        await press(pilot, "y")  # yes, remove it from the Denied queue: the other encounters follow

    assert snap(snap_compare, then=answer)


def test_other_encounters_ticked(database, snap_compare):
    scenario.build()

    async def tick(pilot):
        await bill_patient(pilot)
        await press(pilot, "n", "space")  # keep it on the queue; tick the other encounter: [x]

    assert snap(snap_compare, then=tick)


def test_credit_entry(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "c", "type:Ortiz", "enter")


def test_new_voucher_dialog(database, snap_compare):
    scenario.build()

    async def new(pilot):
        pilot.app.open_credit("check", 2)
        await settle(pilot)
        await press(pilot, "f4")

    assert snap(snap_compare, then=new)


def test_payer_checks(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "k")


def test_return_check_dialog(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "k", "r", "type:NSF")


def test_patient_ledger(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "30.00"})
    assert snap(snap_compare, "l", "type:2", "enter")


def test_admin_inbox(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        actions.apply(clinic.self_pay.id, "none_of_the_above", {"subject": "Which payer?", "note": "two cards"})
    assert snap(snap_compare, "i", "enter")


def test_audit_log(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "u")


def test_plugins(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "p")


def test_daysheet(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "d")


def test_command_palette(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "ctrl+p", "type:write-off")


def test_outstanding_zero_splits(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        b.encounter(clinic.sam, [0], payers=[clinic.aetna, b.payer("Cigna")], dos=scenario.TODAY)
    assert snap(snap_compare, "z")


def test_claim_batches(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        _enc, (charge,) = b.encounter(clinic.sam, [0], payers=[clinic.aetna, b.payer("Cigna")], dos=scenario.TODAY)
        zero_splits.mark_primary_paid([charge.id])
    assert snap(snap_compare, "b")


def test_aging(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    scenario.build()
    assert snap(snap_compare, "g", "f9")


def test_statements(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    scenario.build()
    assert snap(snap_compare, "s", "f9", "y")


# --- the main screens on a bigger terminal (120x40) ------------------------------------
def test_wide_home(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, size=WIDE)


def test_wide_advanced_actions_offers(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "a", "type:1", "enter", size=WIDE)


def test_wide_credit_entry(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "c", "type:Ortiz", "enter", size=WIDE)


def test_wide_payer_checks(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "k", size=WIDE)


def test_wide_patient_ledger(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "30.00"})
    assert snap(snap_compare, "l", "type:2", "enter", size=WIDE)


def test_credit_entry_after_posting(database, snap_compare):
    scenario.build()

    async def post(pilot):
        await choose(pilot, "voucher", "#2 cash")
        await press(pilot, "f2")

    assert snap(snap_compare, "c", "type:Ortiz", "enter", then=post)


def test_apply_unapplied_dialog(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "30.00",
                              "apply": "none"})
    assert snap(snap_compare, "l", "type:2", "enter", "3", "enter", "space")


def test_payer_checks_find(database, snap_compare):
    scenario.build()
    assert snap(snap_compare, "k", "a", "f6", "type:aetna", "enter")


def test_return_check_dialog_with_flat_fee_fields(database, snap_compare):
    scenario.build()

    async def flat(pilot):
        await choose(pilot, "policy", "Flat fee")

    assert snap(snap_compare, "k", "r", "type:NSF", then=flat)


def test_inbox_answer_dialog(database, snap_compare):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        actions.apply(clinic.self_pay.id, "none_of_the_above", {"subject": "Which payer?", "note": "two cards"})
    assert snap(snap_compare, "i", "enter", "a", "type:Use Aetna")


def test_zero_splits_after_marking(database, snap_compare):
    clinic = scenario.build()
    cigna = b.payer("Cigna")
    with clock.frozen(scenario.TODAY):
        for _ in range(3):
            b.encounter(clinic.sam, [0], payers=[clinic.aetna, cigna], dos=scenario.TODAY)
    assert snap(snap_compare, "z", "space", "shift+down", "m", "y")


def test_aging_by_patient(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    scenario.build()
    assert snap(snap_compare, "g", "f9", "f7")


def test_aging_without_a_snapshot(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    scenario.build()
    assert snap(snap_compare, "g")


def ledger_with_money(clinic) -> None:
    """Sam: a 30.00 cash credit applied, a statement; Dana: one code written off."""
    from claimdesk.core.services import statements

    with clock.frozen(scenario.TODAY):
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "30.00"})
        statements.generate_for(clinic.sam.id)
        statements.regenerate(clinic.sam.id, "address corrected")
        payments.post_credit({"patient_id": clinic.sam.id, "voucher_id": clinic.cash, "amount": "10.00",
                              "apply": "none"})


@pytest.mark.parametrize("tab", ["2", "3", "4", "5"])
def test_patient_ledger_tabs(database, snap_compare, tab):
    clinic = scenario.build()
    ledger_with_money(clinic)
    with clock.frozen(scenario.TODAY):
        actions.apply(clinic.self_pay.id, "negotiate_balance", {"final_balance": "70.00", "note": "agreed by phone"})
    assert snap(snap_compare, "l", "type:2", "enter", tab)


def test_statement_view(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    clinic = scenario.build()
    ledger_with_money(clinic)
    assert snap(snap_compare, "l", "type:2", "enter", "5", "end", "enter")


def test_statement_run_confirm(database, snap_compare, monkeypatch, tmp_path):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    scenario.build()
    assert snap(snap_compare, "s", "f9")


def test_plugins_with_a_failure(database, snap_compare):
    from claimdesk.core.plugins.host import PluginHost, reset_host

    from tests.tui.broken_plugin import Broken

    scenario.build()
    host = PluginHost().load_entrypoints()
    host.register(Broken(), "clinic_rules", distribution="clinic-rules", version="0.3")
    reset_host(host)
    try:
        assert snap(snap_compare, "p")
    finally:
        reset_host(None)


# --- intake: registration, coverage, charge entry, clinic setup ------------------------------------
def test_home_empty_database(database, snap_compare):
    assert snap(snap_compare)


def test_patient_registration(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "n", "type:A1001", "enter")


def test_patient_registration_refusal(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "n", "f4", "type:Ortiz", "tab", "type:Sam", "tab", "type:2031-01-01", "f2")


def test_duplicate_patient_warning(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "n", "f4", "type:Reyes", "tab", "type:Dana", "tab", "type:1980-02-29", "f2")


def test_coverage_dialog(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "n", "type:A1001", "enter", then=edit_first_coverage)


async def edit_first_coverage(pilot):
    """Enter on Dana's first coverage (her husband's Aetna policy): its subscriber shows."""
    await tab_to(pilot, "pt-coverages")
    await press(pilot, "enter")


async def fill_encounter(pilot):
    """Charge entry for Dana: Elena Marsh, referred by Jordan Lee, two diagnoses, two lines pointed."""
    await choose(pilot, "ce-provider", "Elena Marsh")
    await choose(pilot, "ce-referring", "Jordan Lee")
    await tab_to(pilot, "ce-dx")
    await type_text(pilot, "E11.9, R51.9")
    for code, pointers in (("99213", [2, 1]), ("83036", [1])):
        await press(pilot, "f4")
        await type_text(pilot, code)
        await tab_to(pilot, "ln-pointers")
        for n in pointers:
            pilot.app.focused.highlighted = n - 1
            await press(pilot, "space")
        await press(pilot, "f2")


def test_charge_entry(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "h", "type:A1001", "enter", then=fill_encounter)


def test_charge_line_dialog(database, snap_compare):
    scenario.intake()

    async def line(pilot):
        await fill_encounter(pilot)
        await press(pilot, "f4")
        await type_text(pilot, "36415")
        await tab_to(pilot, "ln-units")
        await type_text(pilot, "2")
        await tab_to(pilot, "ln-pointers")
        await press(pilot, "down", "space")

    assert snap(snap_compare, "h", "type:A1001", "enter", then=line)


def test_charge_entry_review(database, snap_compare):
    scenario.intake()

    async def review(pilot):
        await fill_encounter(pilot)
        await press(pilot, "f2")

    assert snap(snap_compare, "h", "type:A1001", "enter", then=review)


def test_charge_entry_saved(database, snap_compare):
    scenario.intake()

    async def save(pilot):
        await fill_encounter(pilot)
        await press(pilot, "f2", "y")

    assert snap(snap_compare, "h", "type:A1001", "enter", then=save)


def test_diagnosis_picker(database, snap_compare):
    scenario.intake()
    assert snap(snap_compare, "h", "type:A1001", "enter", "f8", "space")


def test_clinic_setup(database, snap_compare):
    scenario.intake(with_patient=False)
    assert snap(snap_compare, "t", "3")


def test_clinic_setup_provider_refused(database, snap_compare):
    scenario.intake(with_patient=False)
    assert snap(snap_compare, "t", "2", "n", "type:Okafor", "tab", "type:Ada", "tab", "tab", "tab", "tab",
                "type:1234567890", "f2")


def test_clinic_setup_empty_database(database, snap_compare):
    assert snap(snap_compare, "t")


# --- 837 claim file import ------------------------------------------------------------------------------
def claim_file(folder, monkeypatch) -> None:
    """``claims.837`` in the working folder: five claims (dependants, a secondary), the fourth refused."""
    from tests.x12gen import make_claims, write_837p

    monkeypatch.chdir(folder)
    (folder / "claims.837").write_text(write_837p(make_claims(5, seed=31, bad=(3,), dependants=True, secondary=True)))


def test_claim_import_preview(database, snap_compare, tmp_path, monkeypatch):
    claim_file(tmp_path, monkeypatch)
    assert snap(snap_compare, "m", "type:claims.837", "enter", "tab", "down", "down", "down")


def test_claim_import_result(database, snap_compare, tmp_path, monkeypatch):
    claim_file(tmp_path, monkeypatch)
    assert snap(snap_compare, "m", "type:claims.837", "enter", "f2", "y")
