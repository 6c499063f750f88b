"""Advanced Actions through the screens: open an encounter, pick, fill, confirm, apply,
answer the queue question and apply to the patient's other encounters."""

from __future__ import annotations

from textual.widgets import OptionList

from claimdesk.core.models import AdminMessage, AuditEvent, Encounter, Statement
from claimdesk.core.services import balances

from tests.tui import scenario
from tests.tui.helpers import dialog_words, drive, press, screen_text, settle, tab_to, type_text, words


def pick(app, key: str) -> int:
    """Index of the offered action ``key`` in the offers list."""
    offers = app.screen.query_one("#offers", OptionList)
    return [offers.get_option_at_index(i).id for i in range(offers.option_count)].index(key)


def test_bill_patient_then_remove_from_queue_then_apply_to_other_encounter(database):
    clinic = scenario.build()
    first, second = clinic.denied
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "a")
        assert app.focused.id == "encounter-id"
        await type_text(pilot, str(first.id))
        await press(pilot, "enter")
        text = screen_text(app)
        assert "Reyes, Dana" in text and "Open: primary 150.00" in text
        assert "Primary denied, need to bill patient" in text
        for _ in range(pick(app, "primary_denied_bill_patient")):
            await press(pilot, "down")
        assert "the bill amount" in screen_text(app)  # what it will do, shown before choosing
        await press(pilot, "enter")
        # the guided form: the denied codes (none picked = all) and the confirm box
        assert "Denied codes" in screen_text(app)
        await press(pilot, "f2")
        # nothing ticked: the review refuses next to the Confirm field, no confirm opens, nothing written
        assert "! Confirm: tick confirm to apply" in screen_text(app)
        assert type(app.screen).__name__ == "ActionFormScreen"
        assert balances.patient_balance(clinic.dana.id).patient_due == 0
        await tab_to(pilot, "act-confirm")  # the clerk Tabs to Confirm and ticks it with Space
        await press(pilot, "space")
        seen["ticked"] = screen_text(app)
        await press(pilot, "f2")
        seen["confirm"] = dialog_words(screen_text(app))
        await press(pilot, "y")
        seen["result"] = screen_text(app)
        await press(pilot, "y")  # remove from queue
        seen["others"] = screen_text(app)
        seen["unticked"] = screen_text(app)
        await press(pilot, "space")  # tick the other encounter: the row says so without colour
        seen["tick"] = screen_text(app)
        seen["statement"] = Statement.get((Statement.patient == clinic.dana.id) & (Statement.status == "active")).id
        await press(pilot, "f2")  # what it would do there, asked before anything posts
        seen["others_confirm"] = dialog_words(screen_text(app))
        seen["before_yes"] = balances.patient_balance(clinic.dana.id).patient_due
        await press(pilot, "y")  # and apply
        seen["applied"] = screen_text(app)

    drive(flow)
    assert "Apply to encounter" in seen["confirm"] and "Confirm: yes" in seen["confirm"]
    assert "What will happen: Patient owes: 0.00 → 150.00 With insurers: 230.00 → 80.00" in seen["confirm"]
    assert "Statements: 1 new" in seen["confirm"] and "—" not in seen["confirm"]
    assert (f"Encounter {second.id} (2026-03-09): patient owes 150.00 → 230.00; with insurers 80.00 → 0.00; "
            f"statements 1 new, #{seen['statement']} voided; off the Denied queue") in seen["others_confirm"]
    assert seen["before_yes"] == 150_00  # nothing posted for it until Yes
    assert "patient            0.00  150.00" in seen["result"]
    assert "Statements made: #" in seen["result"]
    assert "▐X▌ Confirm" in seen["ticked"]
    assert f"✔ Encounter {first.id} removed from the Denied queue." in seen["others"]
    assert f"[ ] Encounter {second.id}" in seen["unticked"] and f"[x] Encounter {second.id}" in seen["tick"]
    assert "queue Denied" in seen["unticked"]  # the queue's title, not its key
    assert (f"Encounter {second.id}: applied; patient owes 150.00 → 230.00" in seen["applied"]
            and "taken off the denied queue" in words(seen["applied"]))  # the clerk's queue answer holds for it
    # the database: both encounters billed to the patient, first off the queue, one active statement
    assert balances.patient_balance(clinic.dana.id).patient_due == 230_00
    assert balances.patient_balance(clinic.dana.id).insurance_pending == 0
    assert Encounter.get_by_id(first.id).queue_id is None
    assert Encounter.get_by_id(second.id).queue_id is None
    active = Statement.select().where((Statement.patient == clinic.dana.id) & (Statement.status == "active"))
    assert [s.amount_due for s in active] == [230_00]
    assert AuditEvent.select().where(AuditEvent.action == "action.primary_denied_bill_patient").count() == 2


def test_unknown_encounter_shows_error_next_to_the_field(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "a")
        await type_text(pilot, "9999")
        await press(pilot, "enter")
        seen["text"] = screen_text(pilot.app)
        seen["focus"] = pilot.app.focused.id

    drive(flow)
    assert "! no encounter with ID 9999" in seen["text"]
    assert "Traceback" not in seen["text"]
    assert seen["focus"] == "encounter-id"


def test_none_of_the_above_sends_a_message_to_the_inbox(database):
    clinic = scenario.build()
    enc = clinic.self_pay

    async def flow(pilot):
        app = pilot.app
        app.open_advanced(enc.id, "none_of_the_above")
        await settle(pilot)
        await tab_to(pilot, "act-subject")
        await type_text(pilot, "Which payer?")
        await tab_to(pilot, "act-note")
        await type_text(pilot, "Card shows two plans")
        await press(pilot, "f2", "y")
        assert "✔ Applied: None of the options above" in screen_text(app)

    drive(flow)
    msg = AdminMessage.get()
    assert (msg.encounter_id, msg.subject, msg.status) == (enc.id, "Which payer?", "open")


def test_escape_goes_back_but_never_closes_home(database):
    scenario.build()
    seen = {}

    async def flow(pilot):
        await press(pilot, "a", "escape", "escape", "escape")
        seen["text"] = screen_text(pilot.app)

    drive(flow)
    assert "Work queues" in seen["text"] and "Workflows" in seen["text"]


class CancelledWorker:
    is_cancelled = True


def test_cancelled_apply_to_others_stops_before_the_next_encounter(database):
    from textual.worker import active_worker

    from claimdesk.core.services import actions
    from claimdesk.tui.screens.base import worker_cancelled

    clinic = scenario.build()
    token = active_worker.set(CancelledWorker())
    try:
        first, *others = clinic.denied
        results = actions.apply_to_others("primary_denied_bill_patient", [e.id for e in others], {"confirm": True},
                                          first=first.id, idempotency_key="key-1", cancelled=worker_cancelled)
    finally:
        active_worker.reset(token)
    assert [r["error"] for r in results] == ["cancelled before it was applied"] * len(others)
    assert balances.patient_balance(clinic.dana.id).patient_due == 0


def test_add_primary_payer_picked_from_the_dropdown(database):
    """After "Primary Payer is Invalid" put the placeholder "Patient" in, the clerk adds the
    primary back: the payer is chosen in the dropdown with the keyboard, the balance returns
    to it and its claim is queued."""
    from claimdesk.core import clock
    from claimdesk.core.models import Claim, EncounterPayer
    from claimdesk.core.services import actions

    from tests.tui.helpers import choose

    clinic = scenario.build()
    first = clinic.denied[0]
    with clock.frozen(scenario.TODAY):
        actions.apply(first.id, "primary_invalid", {"confirm": True})
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "a")
        await type_text(pilot, str(first.id))
        await press(pilot, "enter")
        await press(pilot, *["down"] * pick(app, "add_primary"), "enter")
        seen["form"] = words(screen_text(app))
        await choose(pilot, "act-payer_id", "Aetna")
        await tab_to(pilot, "act-member_id")
        await type_text(pilot, "AET-100")
        await press(pilot, "f2", "y")
        seen["result"] = words(screen_text(app))

    drive(flow)
    assert "Payer *" in seen["form"] and "Payer id" not in seen["form"]
    assert "Primary payer: Aetna" in seen["result"] and "Balance moved: 150.00" in seen["result"]
    slot = EncounterPayer.get((EncounterPayer.encounter == first.id) & (EncounterPayer.rank == "primary"))
    assert slot.payer_id == clinic.aetna.id and not slot.placeholder
    assert balances.patient_balance(clinic.dana.id).insurance_pending == 230_00
    assert Claim.select().where((Claim.encounter == first.id) & (Claim.status == "queued")).exists()


def test_review_names_each_empty_required_field_by_its_label_and_opens_no_confirm(database):
    """F2 checks every field first: a required field left empty is named under it as the form
    labels it, in plain words, and no confirm opens; correcting a field takes its line away; then
    the confirm shows the inputs as labelled (no "—") and what will happen, nothing posted yet."""
    from claimdesk.core import clock
    from claimdesk.core.services import actions

    from tests.tui.helpers import choose

    clinic = scenario.build()
    first = clinic.denied[0]
    with clock.frozen(scenario.TODAY):
        actions.apply(first.id, "primary_invalid", {"confirm": True})
    events = AuditEvent.select().count()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        app.open_advanced(first.id, "add_primary")
        await settle(pilot)
        await press(pilot, "f2")
        seen["refused"] = screen_text(app)
        seen["screen"] = type(app.screen).__name__
        await choose(pilot, "act-payer_id", "Aetna")
        seen["payer_fixed"] = screen_text(app)
        await tab_to(pilot, "act-member_id")
        await type_text(pilot, "AET-100")
        seen["member_fixed"] = screen_text(app)
        await press(pilot, "f2")
        seen["confirm"] = dialog_words(screen_text(app))
        seen["pending"] = balances.patient_balance(clinic.dana.id).insurance_pending

    drive(flow)
    lines = seen["refused"].splitlines()
    payer_row = next(i for i, line in enumerate(lines) if "Payer *" in line)
    assert "! Payer: fill this in" in lines[payer_row + 1]  # right under it, as the form labels it
    assert "! Member ID: fill this in" in seen["refused"]
    assert "Missing data" not in seen["refused"] and "payer_id" not in seen["refused"]
    assert seen["screen"] == "ActionFormScreen" and AuditEvent.select().count() == events
    assert "! Payer:" not in seen["payer_fixed"] and "! Member ID: fill this in" in seen["payer_fixed"]
    assert "! Member ID" not in seen["member_fixed"]
    assert "Payer: Aetna Member ID: AET-100" in seen["confirm"] and "—" not in seen["confirm"]
    assert ("What will happen: Patient owes: 150.00 → 0.00 With insurers: 80.00 → 230.00 "
            "Payers: primary Patient → primary Aetna") in seen["confirm"]
    assert seen["pending"] == 80_00  # only previewed: nothing posted before Yes
