"""Advanced Actions on the demo database, driven through the screens by keys the way a clerk
works (open the encounter, arrow to the action, fill the guided form, F2, y), asserting what
the database holds afterwards: amounts, payers, coverage, billable flag and the audit log.

The demo is built once per session (tests/demo_cache.py) and copied for each test; the
encounters are found by asking the core which actions apply, not by fixed numbers.
"""

from __future__ import annotations

import pytest
from peewee import fn

from claimdesk.core.models import Adjustment, AuditEvent, Charge, ChargeSplit, Coverage, Encounter, EncounterPayer, Payer
from claimdesk.core.services import actions, balances

from tests import demo_cache
from tests.tui.helpers import choose, drive, press, screen_text, tab_to, type_text, words
from tests.conftest import empty_config

# the demo is one SQLite file copied per test: one engine
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def demo(backend, tmp_path_factory, tmp_path, monkeypatch):
    """A private copy of the demo clinic, as its clerk, at the demo's "today"."""
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    path, summary = demo_cache.template(tmp_path_factory)
    with demo_cache.opened_copy(path, tmp_path):
        yield summary


def encounter_where(key: str, ok=lambda eid: True, limit: int = 600) -> int:
    """The first active demo encounter the action ``key`` applies to (and ``ok`` accepts)."""
    for (eid,) in Encounter.select(Encounter.id).where(Encounter.status == "active").order_by(Encounter.id) \
            .limit(limit).tuples():
        if key in {o["key"] for o in actions.assess(eid)["offers"]} and ok(eid):
            return eid
    raise AssertionError(f"no demo encounter where {key} applies")


async def open_action(pilot, encounter_id: int, key: str) -> None:
    """Home, a (Advanced Actions), the encounter ID, Enter, Down to the action, Enter."""
    await press(pilot, "a")
    await type_text(pilot, str(encounter_id))
    await press(pilot, "enter")
    offers = pilot.app.screen.query_one("#offers")
    keys = [offers.get_option_at_index(i).id for i in range(offers.option_count)]
    await press(pilot, *["down"] * keys.index(key), "enter")


def audit_counts() -> dict[str, int]:
    """Audit events by action so far (the demo's own history included)."""
    return dict(AuditEvent.select(AuditEvent.action, fn.COUNT(AuditEvent.id)).group_by(AuditEvent.action).tuples())


def new_actions(before: dict[str, int]) -> dict[str, int]:
    """The advanced actions audited since ``before``, and how many times each."""
    after = audit_counts()
    return {k.removeprefix("action."): n - before.get(k, 0) for k, n in after.items()
            if k.startswith("action.") and n != before.get(k, 0)}


def open_by_rank(eid: int) -> dict[str, int]:
    return {rank: int(total) for rank, total in ChargeSplit.select(ChargeSplit.rank, fn.SUM(ChargeSplit.balance))
            .join(Charge).where(Charge.encounter == eid).group_by(ChargeSplit.rank).tuples()}


def test_insurance_writeoff_of_one_code_through_the_row_editor(demo):
    eid = encounter_where("insurance_writeoff")
    code_row = actions.form(eid, "insurance_writeoff")[0]["fields"][0]["choices"][0]
    charge_id, label = int(code_row[0]), code_row[1]  # e.g. "85025 primary 22.00"
    rank, amount = label.split()[-2], int(round(float(label.split()[-1].replace(",", "")) * 100))
    before = open_by_rank(eid)
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "insurance_writeoff")
        seen["form"] = words(screen_text(pilot.app))
        await press(pilot, "space")  # the form opens on the first code's tick
        await choose(pilot, "act-lines-r0-reason", "Charge exceeds fee schedule")
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "Codes to write off," in seen["form"] and f"▐ ▌ {label}" in seen["form"]  # one tick per code
    assert f"{label}: Charge exceeds fee schedule" in seen["confirm"]
    assert "✔ Applied: Insurance Write-Off" in seen["result"]
    assert f"Lines: charge #{charge_id} {rank}" in seen["result"]  # a record, not "1 item(s)"
    adj = Adjustment.get((Adjustment.charge == charge_id) & (Adjustment.kind == "insurance_writeoff"))
    assert (adj.group_code + adj.reason_code, adj.amount) == ("CO45", amount)
    assert open_by_rank(eid)[rank] == before[rank] - amount
    assert new_actions(before_audit) == {"insurance_writeoff": 1}


def test_add_secondary_payer_picked_from_the_dropdown(demo):
    eid = encounter_where("add_secondary")
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "add_secondary")
        await choose(pilot, "act-payer_id", "Liberty Medigap Supplement")
        await tab_to(pilot, "act-member_id")
        await type_text(pilot, "LMS-4471")
        await press(pilot, "f2")
        seen["confirm"] = words(screen_text(pilot.app))
        await press(pilot, "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "Payer: Liberty Medigap Supplement" in seen["confirm"] and "Member ID: LMS-4471" in seen["confirm"]
    assert "Secondary payer: Liberty Medigap Supplement" in seen["result"]
    slot = EncounterPayer.get((EncounterPayer.encounter == eid) & (EncounterPayer.rank == "secondary"))
    assert slot.payer.name == "Liberty Medigap Supplement"
    assert Coverage.get_by_id(slot.coverage_id).member_id == "LMS-4471"
    assert new_actions(before_audit) == {"add_secondary": 1}


def test_negotiated_balance_adjusts_the_difference(demo):
    eid = encounter_where("negotiate_balance", ok=lambda e: open_by_rank(e).get("patient", 0) > 10_00)
    owed = open_by_rank(eid)["patient"]
    final = owed - 10_00
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "negotiate_balance")
        await type_text(pilot, f"{final / 100:.2f}")  # the form opens on the final balance
        await press(pilot, "f2", "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "✔ Applied: Patient called to negotiate the balance" in seen["result"]
    assert "Adjusted: 10.00" in seen["result"]
    assert open_by_rank(eid)["patient"] == final
    assert Adjustment.select().where(Adjustment.kind == "negotiated").count() >= 1
    assert new_actions(before_audit) == {"negotiate_balance": 1}


def test_patient_writeoff_requested_by_the_office(demo):
    eid = encounter_where("patient_writeoff_office", ok=lambda e: open_by_rank(e).get("patient", 0) > 5_00)
    pid = Encounter.get_by_id(eid).patient_id
    due = balances.patient_balance(pid).patient_due
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "patient_writeoff_office")
        await type_text(pilot, "5.00")
        await choose(pilot, "act-reason", "Small balance")
        await press(pilot, "f2", "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "Written off: 5.00" in seen["result"] and "Reason: SMALL_BAL" in seen["result"]
    assert balances.patient_balance(pid).patient_due == due - 5_00
    assert new_actions(before_audit) == {"patient_writeoff_office": 1}


def test_non_billable_then_billable_again(demo):
    eid = encounter_where("non_billable", ok=lambda e: sum(open_by_rank(e).values()) > 0)
    before = sum(open_by_rank(eid).values())
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "non_billable")
        await press(pilot, "space", "f2", "y")  # the form opens on Confirm: ticked, reviewed, applied
        seen["non_billable"] = words(screen_text(pilot.app))
        seen["flag_after_first"] = Encounter.get_by_id(eid).billable
        await press(pilot, "escape")  # Done: Advanced Actions reloads the encounter
        seen["reloaded"] = words(screen_text(pilot.app))
        offers = pilot.app.screen.query_one("#offers")
        keys = [offers.get_option_at_index(i).id for i in range(offers.option_count)]
        await press(pilot, *["down"] * keys.index("billable"), "enter")
        await press(pilot, "space", "f2", "y")
        seen["billable"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "Billable: yes → no" in seen["non_billable"] and not seen["flag_after_first"]
    assert f"Encounter {eid}" in seen["reloaded"] and "non-billable" in seen["reloaded"]
    assert "Billable: no → yes" in seen["billable"]
    assert Encounter.get_by_id(eid).billable
    assert sum(open_by_rank(eid).values()) == before  # the written-off balance is restored
    assert new_actions(before_audit) == {"non_billable": 1, "billable": 1}


def test_update_secondary_insurance_info_saves_what_was_typed(demo):
    eid = encounter_where("update_secondary_info")
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "update_secondary_info")
        await type_text(pilot, "NEW-9001")  # the form opens on Member ID
        await tab_to(pilot, "act-group_no")
        await type_text(pilot, "GRP-77")
        await choose(pilot, "act-relationship", "spouse")
        await press(pilot, "f2", "y")
        seen["result"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    assert "After: member id NEW-9001, group no GRP-77" in seen["result"] and "relationship spouse" in seen["result"]
    slot = EncounterPayer.get((EncounterPayer.encounter == eid) & (EncounterPayer.rank == "secondary"))
    cov = Coverage.get_by_id(slot.coverage_id)
    assert (cov.member_id, cov.group_no, cov.relationship) == ("NEW-9001", "GRP-77", "spouse")
    assert new_actions(before_audit) == {"update_secondary_info": 1}


def test_workers_comp_result_names_records_and_done_opens_the_new_encounter(demo):
    eid = encounter_where("to_workers_comp")
    carrier = Payer.select().where(Payer.kind == "workers_comp").order_by(Payer.name).first()
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "to_workers_comp")
        await choose(pilot, "act-carrier_id", carrier.name)
        await tab_to(pilot, "act-confirm")
        await press(pilot, "space", "f2", "y")
        seen["result"] = words(screen_text(pilot.app))
        await press(pilot, "escape")  # Done
        seen["after"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    new = Encounter.get(Encounter.replaces == eid)
    assert f"Removed encounter: #{eid}" in seen["result"] and f"New encounter: #{new.id}" in seen["result"]
    assert "0.0" not in seen["result"].split("Removed encounter:")[1][:12]  # an id, not an amount
    assert f"Encounter {new.id} " in seen["after"] and "workers_comp" in seen["after"]
    assert Encounter.get_by_id(eid).status == "removed" and new.claim_type == "workers_comp"
    assert new_actions(before_audit) == {"to_workers_comp": 1}


def test_tick_rows_of_other_encounters_with_shift_range(demo):
    """The patient's other encounters: Space ticks one, Shift+Down extends the range, and the
    marks read without colour; F2 (then Yes) applies the action to exactly the ticked ones."""
    def has_two_others(e):
        return len(actions.other_encounters(e, "non_billable")) >= 3

    eid = encounter_where("non_billable", ok=has_two_others)
    others = [o["encounter_id"] for o in actions.other_encounters(eid, "non_billable")]
    seen = {}
    before_audit = audit_counts()

    async def flow(pilot):
        await open_action(pilot, eid, "non_billable")
        await press(pilot, "space", "f2", "y")
        if pilot.app.screen.query("#queue-yes") and pilot.app.screen.query_one("#queue-ask").display:
            await press(pilot, "n")
        await press(pilot, "space", "shift+down")
        seen["ticked"] = words(screen_text(pilot.app))
        await press(pilot, "f2", "y")  # what it would do to each is shown first; Yes applies
        seen["applied"] = words(screen_text(pilot.app))

    drive(flow, today=demo_cache.NOW)
    first, second, third = others[:3]
    assert f"[x] Encounter {first}" in seen["ticked"] and f"[x] Encounter {second}" in seen["ticked"]
    assert f"[ ] Encounter {third}" in seen["ticked"]
    assert f"✔ Encounter {first}: applied" in seen["applied"] and f"✔ Encounter {second}: applied" in seen["applied"]
    assert not Encounter.get_by_id(first).billable and not Encounter.get_by_id(second).billable
    assert Encounter.get_by_id(third).billable
    assert new_actions(before_audit) == {"non_billable": 3}
