"""Outstanding Zero Splits, claim batches, aging and statements through the screens."""

from __future__ import annotations

import pytest
from claimdesk.core import clock
from claimdesk.core.models import AgingRow, Charge, Claim, Patient, Statement

from tests import builders as b
from tests.tui import scenario
from tests.tui.helpers import drive, press, screen_text, settle, type_text, words
from tests.conftest import empty_config


@pytest.fixture(autouse=True)
def hermetic_config(monkeypatch, tmp_path):
    """No user config file; exports go to a temp dir."""
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
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
    assert "1 zero-fee charge(s) waiting" in seen["list"] and f"[ ] {charge.id} {enc.id}" in seen["list"]
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
        await press(pilot, "f7")
        seen["patient"] = words(screen_text(pilot.app))

    drive(flow)
    assert "! no aging snapshot for 2026-04-01" in seen["none"] and "press F9" in seen["none"]
    assert "Aging as of 2026-04-01 by payer; open A/R 350.00" in seen["payer"]
    assert "Point in time: balances on that date." in seen["payer"]
    assert "Aetna 230.00" in seen["payer"] and "TOTAL 350.00" in seen["payer"]
    assert "Reyes, Dana 230.00" in seen["patient"] and "Ortiz, Sam 120.00" in seen["patient"]
    assert AgingRow.select().count() >= 2


def test_statement_for_one_patient_and_refusal_for_insurance_only(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "s")
        await type_text(pilot, str(clinic.dana.id))  # all still pending with Aetna: never billed to the patient
        await press(pilot, "enter")
        seen["refused"] = words(screen_text(pilot.app))
        await press(pilot, "backspace")
        await type_text(pilot, str(clinic.sam.id))
        await press(pilot, "enter")
        seen["asked"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        seen["made"] = words(screen_text(pilot.app))
        await press(pilot, "shift+tab", "enter")  # again the same day: it asks, says what it voids; No keeps it
        seen["again"] = words(screen_text(pilot.app))
        await press(pilot, "n")

    drive(flow)
    assert "has no patient balance to bill" in seen["refused"]
    assert f"Make a statement for patient #{clinic.sam.id} now?" in seen["asked"] and "Owes now: 120.00" in seen["asked"]
    assert "Voids:" not in seen["asked"]
    first = Statement.get(Statement.patient == clinic.sam.id)
    again = seen["again"]
    assert f"Voids: statement #{first.id} of 2026-04-01" in again and "(0 days ago)" in again
    assert "Run rule: the statement run would skip this patient" in again and "less than 30 days" in again
    assert [s.status for s in Statement.select().where(Statement.patient == clinic.sam.id)] == ["active"]
    assert f"for patient #{clinic.sam.id}: due 120.00" in seen["made"]
    stmt = Statement.get(Statement.patient == clinic.sam.id)
    assert (stmt.status, stmt.amount_due) == ("active", 120_00)
    assert not Statement.select().where(Statement.patient == clinic.dana.id).exists()


def test_marking_zero_splits_without_a_secondary_says_nothing_will_be_queued(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        b.encounter(clinic.sam, [0], payers=[clinic.aetna])  # no secondary insurer
    seen = {}

    async def flow(pilot):
        await press(pilot, "z", "space", "m")
        seen["confirm"] = words(screen_text(pilot.app).replace("█", " "))
        await press(pilot, "y")

    drive(flow)
    assert "1 charge(s) have no secondary payer: marked paid, nothing queued." in seen["confirm"]
    assert "will be queued" not in seen["confirm"] and "Their secondary claims are queued" not in seen["confirm"]
    assert not Claim.select().where(Claim.rank == "secondary").exists()


def test_shift_range_tags_three_zero_splits_and_the_result_shows_above_the_list(database):
    clinic = scenario.build()
    cigna = b.payer("Cigna")
    with clock.frozen(scenario.TODAY):
        charges = [b.encounter(clinic.sam, [0], payers=[clinic.aetna, cigna])[1][0] for _ in range(4)]
    seen = {}

    async def flow(pilot):
        await press(pilot, "z", "space", "shift+down", "shift+down")
        seen["tagged"] = words(screen_text(pilot.app))
        await press(pilot, "shift+up")  # the range shrinks: the row it leaves is untagged again
        seen["shrunk"] = words(screen_text(pilot.app))
        await press(pilot, "shift+down", "m")
        seen["confirm"] = words(screen_text(pilot.app).replace("█", " "))  # the dialog's text, its frame left out
        await press(pilot, "y")
        seen["marked"] = screen_text(pilot.app)

    drive(flow)
    ids = [c.id for c in charges]
    assert "3 tagged" in seen["tagged"] and all(f"[x] {i} " in seen["tagged"] for i in ids[:3])
    assert f"[ ] {ids[3]} " in seen["tagged"]
    assert "2 tagged" in seen["shrunk"] and f"[ ] {ids[2]} " in seen["shrunk"]
    assert "Mark the primary paid on 3 charge(s)?" in seen["confirm"]
    assert "3 secondary claim(s) will be queued for the next batch: Cigna (encounter" in seen["confirm"]
    lines = seen["marked"].splitlines()
    result = next(i for i, ln in enumerate(lines) if "✔ Marked primary paid" in ln)
    header = next(i for i, ln in enumerate(lines) if "Charge" in ln and "Secondary" in ln)
    assert result < header  # above the list, where it is seen
    assert "1 zero-fee charge(s) waiting" in words(seen["marked"])
    assert [Charge.get_by_id(i).primary_marked_paid for i in ids] == [True, True, True, False]
    queued = Claim.select().where((Claim.rank == "secondary") & (Claim.status == "queued")).count()
    assert queued == 3


def test_a_patients_statement_viewed_then_regenerated_with_a_reason(database):
    clinic = scenario.build()
    from claimdesk.core.services import statements

    with clock.frozen(scenario.TODAY):
        first = statements.generate_for(clinic.sam.id)["statement_id"]
    seen = {}

    async def flow(pilot):
        await press(pilot, "l")
        await type_text(pilot, "Ortiz")
        await press(pilot, "enter", "5")  # the Statements tab
        seen["tab"] = words(screen_text(pilot.app))
        await press(pilot, "enter")  # shows the statement as it prints
        seen["view"] = screen_text(pilot.app)
        await press(pilot, "r")
        await type_text(pilot, "address corrected")
        seen["dialog"] = words(screen_text(pilot.app))
        await press(pilot, "f2")
        seen["new"] = words(screen_text(pilot.app))
        await press(pilot, "escape")
        seen["back"] = words(screen_text(pilot.app))

    drive(flow)
    assert f"#{first} 2026-04-01 active 120.00" in seen["tab"] and "Enter shows it" in seen["tab"]
    assert "PATIENT STATEMENT" in seen["view"] and "AMOUNT DUE" in seen["view"]
    assert f"Statement #{first} (active) for Sam Ortiz (A1002)" in words(seen["view"])
    assert "Regenerate the statement of patient" in seen["dialog"] and "f2 Regenerate" in seen["dialog"]
    old = Statement.get_by_id(first)
    new = Statement.get((Statement.patient == clinic.sam.id) & (Statement.status == "active"))
    assert (old.status, old.void_reason) == ("void", "address corrected")
    assert new.id != first and new.amount_due == 120_00
    assert f"Statement #{new.id} (active)" in seen["new"]
    assert f"#{first} 2026-04-01 void" in seen["back"] and f"#{new.id} 2026-04-01 active" in seen["back"]


def test_statements_screen_lists_a_patients_statements_and_opens_one(database):
    clinic = scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "s")
        await type_text(pilot, str(clinic.sam.id))
        await press(pilot, "enter", "y")  # that patient's statement now (asked first), listed below
        seen["made"] = words(screen_text(pilot.app))
        await press(pilot, "enter")  # the list has the focus: Enter shows it
        seen["view"] = words(screen_text(pilot.app))

    drive(flow)
    stmt = Statement.get(Statement.patient == clinic.sam.id)
    assert f"✔ Statement #{stmt.id} for patient #{clinic.sam.id}: due 120.00" in seen["made"]
    assert f"#{stmt.id} #{clinic.sam.id} Ortiz, Sam 2026-04-01 active 120.00" in seen["made"]
    assert "PATIENT STATEMENT" in seen["view"] and "r Regenerate" in seen["view"]


def test_a_patient_id_too_long_to_be_one_is_refused_on_the_statements_screen(database):
    """Twenty-five nines in the Patient field: Regenerate says to type the patient's ID and
    Enter names the field and the ids there are, under the field; nothing is made, nothing breaks."""
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "s")
        await type_text(pilot, "9" * 25)
        await press(pilot, "f2")
        seen["regenerate"] = words(screen_text(pilot.app))
        await press(pilot, "enter")
        seen["enter"] = words(screen_text(pilot.app))

    drive(flow)
    assert "! type the patient's ID (digits)" in seen["regenerate"]
    assert "Regenerate the statement of patient" not in seen["regenerate"]
    assert "! patient_id: must be a positive id (1 to 4611686018427387904)" in seen["enter"]
    assert Statement.select().count() == 0


def test_the_statement_run_lists_whom_it_skipped_and_why(database):
    clinic = scenario.build()
    with clock.frozen(scenario.TODAY):
        cy = b.patient("Cole", "Cy")
        b.encounter(cy, [3_00], codes=["NOSHOW"])  # 3.00: under the minimum of 5.00
    seen = {}

    async def flow(pilot):
        await press(pilot, "s", "f9", "y")
        seen["run"] = words(screen_text(pilot.app))
        await press(pilot, "f7")
        seen["skipped"] = words(screen_text(pilot.app))
        await press(pilot, "enter")
        seen["why"] = words(screen_text(pilot.app))
        await press(pilot, "f7")
        seen["made"] = words(screen_text(pilot.app))

    drive(flow)
    stmt = Statement.get(Statement.patient == clinic.sam.id)
    assert "✔ 1 statement(s) made, 120.00 due in all; 1 patient(s) skipped, each with the reason: F7 lists them." \
        in seen["run"]
    assert f"#{stmt.id} #{clinic.sam.id} Ortiz, Sam 2026-04-01 active 120.00" in seen["run"]
    assert f"#{cy.id} Cole, Cy amount due 3.00 is below the minimum 5.00" in seen["skipped"]
    assert f"#{cy.id} Cole, Cy ({cy.account_no}) skipped: amount due 3.00 is below the minimum 5.00." in seen["why"]
    assert f"Patient {cy.id}" in seen["why"]  # the field holds the patient: F4 or Enter goes on from there
    assert f"#{stmt.id} #{clinic.sam.id} Ortiz, Sam 2026-04-01 active 120.00" in seen["made"]
    assert not Statement.select().where(Statement.patient == cy.id).exists()


def test_a_double_enter_on_a_patient_makes_one_statement(database):
    clinic = scenario.build()

    async def flow(pilot):
        await press(pilot, "s")
        await type_text(pilot, str(clinic.sam.id))
        screen = pilot.app.screen
        screen.generate_one(str(clinic.sam.id))  # Enter, and Enter again before the answer came
        screen.generate_one(str(clinic.sam.id))
        await settle(pilot)

    drive(flow)
    assert [(s.status, s.amount_due) for s in Statement.select().where(Statement.patient == clinic.sam.id)] == [
        ("active", 120_00)]
    assert Patient.get_by_id(clinic.sam.id).unpaid_statements == 1


def test_zero_splits_filter_finds_in_sql_and_a_tag_survives_clearing_it(database):
    clinic = scenario.build()
    cigna = b.payer("Cigna")
    with clock.frozen(scenario.TODAY):
        (_, (sams,)) = b.encounter(clinic.sam, [0], payers=[clinic.aetna, cigna])
        (_, (danas,)) = b.encounter(clinic.dana, [0], payers=[clinic.aetna, cigna])
    seen = {}

    async def flow(pilot):
        await press(pilot, "z", "f6")
        await type_text(pilot, "reyes")
        await press(pilot, "enter")
        seen["filtered"] = words(screen_text(pilot.app))
        await press(pilot, "space")
        await press(pilot, "f6")
        for _ in "reyes":
            await pilot.press("backspace")
        await press(pilot, "enter")
        seen["all"] = words(screen_text(pilot.app))
        await press(pilot, "m", "y")

    drive(flow)
    assert "1 of 2 match the filter" in seen["filtered"]
    assert f"[ ] {danas.id} " in seen["filtered"] and f"] {sams.id} " not in seen["filtered"]
    assert "2 zero-fee charge(s) waiting" in seen["all"] and "1 tagged" in seen["all"]
    assert f"[x] {danas.id} " in seen["all"] and f"[ ] {sams.id} " in seen["all"]
    assert [Charge.get_by_id(c.id).primary_marked_paid for c in (danas, sams)] == [True, False]
