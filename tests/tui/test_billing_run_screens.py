"""Outstanding Zero Splits, claim batches, aging and statements through the screens."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from claimdesk.core import clock
from claimdesk.core.models import AgingRow, Charge, Claim, Statement

from tests import builders as b
from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, words


@pytest.fixture(autouse=True)
def hermetic_config(monkeypatch, tmp_path):
    """No user config file; exports go to a temp dir."""
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CLAIMDESK_EXPORT_DIR", str(tmp_path / "exports"))


def zero_fee_encounter(clinic):
    """A zero-fee charge with Aetna primary and Cigna secondary (on the Zero Splits list)."""
    with clock.frozen(scenario.TODAY):
        enc, (charge,) = b.encounter(clinic.sam, [0], payers=[clinic.aetna, b.payer("Cigna")])
    return enc, charge


def test_mark_zero_split_primary_paid_then_build_the_claim_batch(database):
    clinic = scenario.build()
    enc, charge = zero_fee_encounter(clinic)
    seen = {}

    async def flow(pilot):
        await press(pilot, "z")
        seen["list"] = words(screen_text(pilot.app))
        await press(pilot, "space", "m", "y")
        seen["marked"] = words(screen_text(pilot.app))
        await press(pilot, "escape", "b")
        seen["queued"] = words(screen_text(pilot.app))
        await press(pilot, "b", "y")
        seen["sent"] = words(screen_text(pilot.app))

    drive(flow)
    assert "1 zero-fee charge(s) waiting" in seen["list"] and f"charge {charge.id}" in seen["list"]
    assert f"✔ Marked primary paid: charge {charge.id}" in seen["marked"]
    assert "Secondary claims queued: #" in seen["marked"] and "Cigna" in seen["marked"]
    assert "Cigna secondary" in seen["queued"]
    assert "✔ 1 claim(s) sent in 1 batch(es)" in seen["sent"]
    assert Charge.get_by_id(charge.id).primary_marked_paid
    claim = Claim.get((Claim.encounter == enc.id) & (Claim.rank == "secondary"))
    assert claim.status == "sent" and claim.batch_id is not None


def test_aging_asks_to_recalculate_then_shows_the_buckets(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "g")
        seen["none"] = words(screen_text(pilot.app))
        await press(pilot, "f9")
        seen["payer"] = words(screen_text(pilot.app))
        await press(pilot, "f3")
        seen["patient"] = words(screen_text(pilot.app))

    drive(flow)
    assert "! no aging snapshot for 2026-04-01" in seen["none"] and "press F9" in seen["none"]
    assert "Aging as of 2026-04-01 by payer; open A/R 350.00" in seen["payer"]
    assert "Aetna 230.00" in seen["payer"] and "TOTAL 350.00" in seen["payer"]
    assert "Reyes, Dana 230.00" in seen["patient"] and "Ortiz, Sam 120.00" in seen["patient"]
    assert AgingRow.select().count() >= 2


def test_statement_for_one_patient_and_refusal_for_insurance_only(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "s")
        box = pilot.app.screen.query_one("#st-patient", Input)
        box.value = str(clinic.dana.id)  # all still pending with Aetna: never billed to the patient
        await press(pilot, "enter")
        seen["refused"] = words(screen_text(pilot.app))
        box.value = str(clinic.sam.id)
        await press(pilot, "enter")
        seen["made"] = words(screen_text(pilot.app))

    drive(flow)
    assert "has no patient balance to bill" in seen["refused"]
    assert f"for patient #{clinic.sam.id}: due 120.00" in seen["made"]
    stmt = Statement.get(Statement.patient == clinic.sam.id)
    assert (stmt.status, stmt.amount_due) == ("active", 120_00)
    assert not Statement.select().where(Statement.patient == clinic.dana.id).exists()
