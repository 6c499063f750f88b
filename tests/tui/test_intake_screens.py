"""Clinic intake through the app, driven by keys as a clerk does it at 80x24: clinic setup
(payers, providers, service codes), patient registration with coverage, charge entry with
diagnoses picked and pointed; refusals under their fields with nothing written; and a clinic
that starts from an empty database and ends with a patient payment, in the app only."""

from __future__ import annotations

import datetime as dt

from claimdesk.core import clock, users
from claimdesk.core.context import as_user
from claimdesk.core.models import AuditEvent, Charge, Coverage, Encounter, Patient, Payer, Provider, ServiceCode
from claimdesk.core.services import balances, charge_entry, coverages, reference_data, verify

from tests import builders as b
from tests.tui import scenario
from tests.tui.helpers import choose, dialog_words, drive, press, screen_text, tab_to, type_text, words


def make_admin(username: str = "tester") -> None:
    """The person who ran ``claimdesk init`` (its admin): reference data is a supervisor's work."""
    users.bootstrap("founder", "admin")  # the one who ran init makes them an admin, audited
    with as_user("founder"):
        users.save_user({"username": username, "role": "admin"})


def small_clinic() -> dict:
    """A payer, a provider and two service codes, entered through the core (a supervisor's work)."""
    make_admin()
    with clock.frozen(scenario.TODAY):
        aetna = reference_data.add_payer({"name": "Aetna", "payer_code": "60054"})
        marsh = reference_data.add_provider({"last_name": "Marsh", "first_name": "Elena", "npi": "1234567893"})
        reference_data.add_provider({"last_name": "Lee", "first_name": "Jordan", "npi": "1245319599"})
        reference_data.add_code({"code": "99213", "description": "Office visit, established", "default_fee": "110.00"})
        reference_data.add_code({"code": "36415", "description": "Routine venipuncture", "default_fee": "12.00"})
    return {"aetna": aetna["payer_id"], "marsh": marsh["provider_id"]}


def writes(action: str) -> int:
    return AuditEvent.select().where(AuditEvent.action == action).count()


# --- the steps a clerk takes -------------------------------------------------------------------------
async def register_patient(pilot, last: str, first: str, dob: str) -> None:
    """Home -> Patient registration (n), a new patient (F4), the names and birth date, F2."""
    await press(pilot, "n", "f4")
    await type_text(pilot, last)
    await tab_to(pilot, "pt-first_name")
    await type_text(pilot, first)
    await tab_to(pilot, "pt-dob")
    await type_text(pilot, dob)
    await press(pilot, "f2")


async def add_coverage(pilot, payer: str, member: str) -> None:
    """In registration: F8 opens the coverage dialog; the payer, the member id, F2."""
    await press(pilot, "f8")
    await choose(pilot, "cv-payer_id", payer)
    await tab_to(pilot, "cv-member_id")
    await type_text(pilot, member)
    await press(pilot, "f2")


async def add_line(pilot, code: str, pointers: list[int] = (), units: str = "") -> None:
    """In charge entry: F4, the code, units, the diagnoses ticked in order, F2."""
    await press(pilot, "f4")
    await type_text(pilot, code)
    if units:
        await tab_to(pilot, "ln-units")
        await type_text(pilot, units)
    if pointers:
        await tab_to(pilot, "ln-pointers")
        ticks = pilot.app.focused
        for n in pointers:
            ticks.highlighted = n - 1
            await press(pilot, "space")
    await press(pilot, "f2")


async def enter_encounter_header(pilot, provider: str, diagnoses: str) -> None:
    """In charge entry with the patient chosen: the provider and the diagnoses typed in order."""
    await choose(pilot, "ce-provider", provider)
    await tab_to(pilot, "ce-dx")
    await type_text(pilot, diagnoses)


# --- registration -------------------------------------------------------------------------------------
def test_register_a_patient_then_their_coverage(database):
    clinic = small_clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await register_patient(pilot, "Reyes", "Dana", "1980-02-29")
        seen["registered"] = words(screen_text(app))
        await add_coverage(pilot, "Aetna", "W123456789")
        seen["covered"] = words(screen_text(app))

    drive(flow)
    dana = Patient.get()
    assert "✔ Registered Reyes, Dana: patient #" in seen["registered"]
    assert f"Patient #{dana.id} · account {dana.account_no}" in seen["registered"]
    assert "+ Add coverage" in seen["registered"]
    assert "✔ Coverage added: Aetna, member W123456789, plan CI." in seen["covered"]
    assert "1. Aetna · CI · member W123456789 · self" in seen["covered"]
    cov = Coverage.get()
    assert (cov.patient_id, cov.payer_id, cov.member_id, cov.relationship) == (dana.id, clinic["aetna"], "W123456789",
                                                                                 "self")
    assert (dana.last_name, dana.first_name, dana.dob) == ("Reyes", "Dana", dt.date(1980, 2, 29))


def test_edit_a_found_patient_changes_only_what_was_typed(database):
    scenario.build()  # Dana Reyes (A1001) and Sam Ortiz (A1002)
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "n")
        await type_text(pilot, "A1002")
        await press(pilot, "enter")  # one match: opened at once
        seen["found"] = words(screen_text(app))
        await tab_to(pilot, "pt-phone")
        await type_text(pilot, "541-555-0100")
        await press(pilot, "f2")
        seen["saved"] = words(screen_text(app))

    drive(flow)
    assert "Patient #" in seen["found"] and "account A1002" in seen["found"] and "Ortiz" in seen["found"]
    assert "✔ Saved Ortiz, Sam: changed phone." in seen["saved"]
    assert Patient.get(Patient.account_no == "A1002").phone == "541-555-0100"
    assert writes("patient.edit") == 1


def test_refusal_is_shown_under_its_field_and_nothing_is_written(database):
    small_clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await register_patient(pilot, "Reyes", "Dana", "2031-01-01")  # born in the future
        seen["future"] = screen_text(app)
        seen["focus"] = app.focused.id
        await press(pilot, *["backspace"] * 10)
        await type_text(pilot, "1980-02-29")
        await tab_to(pilot, "pt-state")
        await type_text(pilot, "Oregon")
        await press(pilot, "f2")
        seen["state"] = screen_text(app)

    drive(flow)
    lines = seen["future"].splitlines()
    row = next(i for i, line in enumerate(lines) if "Birth date" in line and "2031-01-01" in line)
    assert "! Birth date: the date of birth 2031-01-01 is in the future" in lines[row + 1]  # right under it
    assert seen["focus"] == "pt-dob"
    lines = seen["state"].splitlines()
    row = next(i for i, line in enumerate(lines) if line.lstrip().startswith("City"))
    assert "! State: a state is its 2-letter postal code like OR" in words(lines[row + 1])
    assert "Not saved: see the field marked with !" in seen["state"]
    assert Patient.select().count() == 0 and writes("patient.add") == 0


def test_same_name_and_birth_date_is_a_warning_the_clerk_answers(database):
    small_clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await register_patient(pilot, "Reyes", "Dana", "1980-02-29")
        await press(pilot, "escape")
        await register_patient(pilot, "reyes", "dana", "1980-02-29")  # the same person, typed again
        seen["asked"] = dialog_words(screen_text(app))
        await press(pilot, "n")  # Back: nothing written, the form says why
        seen["back"] = words(screen_text(app))
        await press(pilot, "f2", "y")  # another person after all (twins): register anyway
        seen["anyway"] = words(screen_text(app))

    drive(flow)
    first = Patient.select().order_by(Patient.id).first()
    assert f"Patient #{first.id} has the same name and birth date" in seen["asked"]
    assert f"Account: {first.account_no}" in seen["asked"] and "Register anyway (y)" in seen["asked"]
    assert (f"! Birth date: same name and birth date as patient #{first.id} (Reyes, Dana, account "
            f"{first.account_no}); F6 finds that patient") in seen["back"]
    assert "✔ Registered reyes, dana: patient #" in seen["anyway"]
    assert Patient.select().count() == 2 and writes("patient.add") == 2


def test_coverage_refusal_is_under_its_field_and_writes_nothing(database):
    small_clinic()
    with clock.frozen(scenario.TODAY):
        b.patient("Reyes")
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "n")
        await type_text(pilot, "Reyes")
        await press(pilot, "enter", "f8")
        await choose(pilot, "cv-payer_id", "Aetna")
        await choose(pilot, "cv-relationship", "spouse")  # the subscriber is someone else: name them
        await press(pilot, "f2")
        seen["member"] = dialog_words(screen_text(app))
        await tab_to(pilot, "cv-member_id")
        await type_text(pilot, "W1")
        await press(pilot, "f2")
        seen["subscriber"] = dialog_words(screen_text(app))
        seen["focus"] = app.focused.id

    drive(flow)
    assert "! Member ID: fill this in" in seen["member"]
    assert "! Last name: the subscriber is the patient's spouse: give their name" in seen["subscriber"]
    assert seen["focus"] == "cv-subscriber_last_name"
    assert Coverage.select().count() == 0 and writes("coverage.add") == 0


# --- charge entry -------------------------------------------------------------------------------------
def insured_patient(clinic: dict):
    with clock.frozen(scenario.TODAY):
        pat = b.patient("Reyes")
        coverages.add_coverage({"patient_id": pat.id, "payer_id": clinic["aetna"], "member_id": "W123456789"})
    return pat


def test_an_encounter_with_two_lines_and_diagnoses_pointed(database):
    clinic = small_clinic()
    pat = insured_patient(clinic)
    seen = {}

    async def flow(pilot):
        app = pilot.app
        app.open_charge_entry(pat.id)
        await press(pilot)
        await enter_encounter_header(pilot, "Elena Marsh", "e11.9 I10")
        seen["dx"] = words(screen_text(app))
        await add_line(pilot, "99213", pointers=[2, 1])  # points at I10 first, then E11.9
        await add_line(pilot, "36415", units="2", pointers=[1])
        seen["lines"] = screen_text(app)
        await press(pilot, "f2")
        seen["review"] = dialog_words(screen_text(app))
        await press(pilot, "y")
        seen["saved"] = words(screen_text(app))

    drive(flow)
    assert "1 E11.9 · 2 I10" in seen["dx"]
    assert ("# Code Units Fee Points at Service 1 99213 1 110.00 2,1 Office visit, established "
            "2 36415 2 24.00 1 Routine venipuncture + Add line (F4)") in words(seen["lines"])
    assert "2 lines · total 134.00" in words(seen["lines"])
    review = seen["review"]
    assert "Save this encounter for Reyes, Jan?" in review
    assert "Date · place: 2026-04-01 · 11 Office" in review
    assert "Diagnoses: 1 E11.9 · 2 I10" in review
    assert "Line 1: 99213 ×1 110.00 dx 2,1 Office visit, established" in review
    assert "Line 2: 36415 ×2 24.00 dx 1 Routine venipuncture" in review
    assert "Total: 134.00" in review and "Billed first: Aetna" in review
    enc = Encounter.get()
    assert (f"✔ Encounter #{enc.id} saved, claim number {enc.claim_no}: 2 lines, total 134.00; billed first: "
            "Aetna (claim queued for the next batch).") in seen["saved"]
    assert "No lines yet: F4 adds one." in seen["saved"]  # the next encounter starts empty
    assert enc.diagnosis_list() == ["E119", "I10"] and enc.provider_id == clinic["marsh"]
    charges = list(Charge.select().where(Charge.encounter == enc.id).order_by(Charge.line_no))
    assert [(c.service_code.code, c.units, c.fee, c.diagnosis_pointers) for c in charges] == [
        ("99213", 1, 110_00, "2,1"), ("36415", 2, 24_00, "1")]
    assert balances.patient_balance(pat.id).insurance_pending == 134_00
    assert verify.verify() == []


def test_charge_entry_refusals_are_under_their_fields_and_nothing_is_written(database):
    clinic = small_clinic()
    pat = insured_patient(clinic)
    seen = {}

    async def flow(pilot):
        app = pilot.app
        app.open_charge_entry(pat.id)
        await press(pilot)
        await press(pilot, "f4")
        await type_text(pilot, "99999")  # not on the code list: the line dialog refuses it
        await press(pilot, "f2")
        seen["code"] = dialog_words(screen_text(app))
        await press(pilot, *["backspace"] * 5)
        await type_text(pilot, "99213")
        await tab_to(pilot, "ln-units")
        app.focused.value = "9" * 5000  # (pasted: too long a number for int())
        await press(pilot, "f2")
        seen["units"] = dialog_words(screen_text(app))
        app.focused.value = ""
        await press(pilot, "f2")
        await press(pilot, "f2")  # review: no provider, and a claim to Aetna needs a diagnosis
        seen["provider"] = words(screen_text(app))
        await choose(pilot, "ce-provider", "Elena Marsh")
        await press(pilot, "f2")
        seen["diagnosis"] = words(screen_text(app))
        seen["focus"] = app.focused.id
        await type_text(pilot, "E11.9, XYZ")
        await press(pilot, "f2")
        seen["bad_dx"] = words(screen_text(app))

    drive(flow)
    assert "! Code: no service code '99999'" in seen["code"]
    assert "! Units: must be a whole number" in seen["units"]
    assert "! Provider: fill this in" in seen["provider"]
    assert "! Diagnoses: a claim to an insurer needs at least one diagnosis (ICD-10-CM, like E11.9)" in seen[
        "diagnosis"]
    assert seen["focus"] == "ce-dx"
    assert "! Diagnosis 2: 'XYZ' is not an ICD-10-CM code (like E11.9 or I10)" in seen["bad_dx"]
    assert "Not saved: see the field marked with !" in seen["bad_dx"]
    assert Encounter.select().count() == 0 and Charge.select().count() == 0 and writes("encounter.add") == 0


def test_a_line_is_changed_with_enter_and_removed_with_delete(database):
    clinic = small_clinic()
    pat = insured_patient(clinic)
    seen = {}

    async def flow(pilot):
        app = pilot.app
        app.open_charge_entry(pat.id)
        await press(pilot)
        await add_line(pilot, "99213")
        await add_line(pilot, "36415")
        lines = app.focused
        lines.highlighted = 1
        await press(pilot, "enter")  # line 2 opens with what was entered
        await tab_to(pilot, "ln-units")
        await type_text(pilot, "3")
        await press(pilot, "f2")
        seen["changed"] = words(screen_text(app))
        lines.highlighted = 0
        await press(pilot, "delete")
        seen["removed"] = words(screen_text(app))

    drive(flow)
    assert "2 36415 3 36.00" in seen["changed"] and "2 lines · total 146.00" in seen["changed"]
    assert "1 36415 3 36.00" in seen["removed"] and "1 line · total 36.00" in seen["removed"]
    assert "99213" not in seen["removed"].split("Service", 1)[1].split("+ Add line")[0]
    assert Encounter.select().count() == 0  # nothing is written before the review's Save


def test_diagnoses_picked_from_the_patients_earlier_ones(database):
    clinic = small_clinic()
    pat = insured_patient(clinic)
    with clock.frozen(scenario.TODAY):
        charge_entry.add_encounter({"patient_id": pat.id, "provider_id": clinic["marsh"], "dos": "2026-03-02",
                                    "diagnoses": ["M54.50", "R51.9"], "charges": [{"code": "99213"}]})
    seen = {}

    async def flow(pilot):
        app = pilot.app
        app.open_charge_entry(pat.id)
        await press(pilot)
        await tab_to(pilot, "ce-dx")
        await type_text(pilot, "E11.9")
        await press(pilot, "f8")
        seen["picker"] = dialog_words(screen_text(app))
        ticks = app.focused
        ticks.highlighted = 2  # R51.9 second
        await press(pilot, "space")
        seen["ticked"] = dialog_words(screen_text(app))
        await press(pilot, "f2")
        seen["back"] = words(screen_text(app))

    drive(flow)
    assert "[1] E11.9 entered [ ] M54.50 this patient before [ ] R51.9 this patient before" in seen["picker"]
    assert "[2] R51.9" in seen["ticked"]
    assert "1 E11.9 · 2 R51.9" in seen["back"]


def test_intake_entries_on_home_and_in_the_palette(database, monkeypatch):
    from claimdesk.tui import app as app_module

    monkeypatch.setattr(app_module, "claim_import_available", lambda: False)  # a claimdesk without the 837 screen
    scenario.build()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        seen["home"] = words(screen_text(app))
        await press(pilot, "h")
        seen["charges"] = app.screen.TITLE
        await press(pilot, "escape", "t")
        seen["setup"] = app.screen.TITLE
        await press(pilot, "escape", "m")  # no import screen installed yet: nothing opens
        seen["import"] = app.screen.TITLE
        await press(pilot, "ctrl+p")
        await type_text(pilot, "superbill")
        seen["palette"] = words(screen_text(app))

    drive(flow)
    assert "Patient registration · coverage n" in seen["home"] and "Charge entry · new encounter h" in seen["home"]
    assert "Import 837 claim file" not in seen["home"]
    assert (seen["charges"], seen["setup"], seen["import"]) == ("Charge entry", "Clinic setup", "claimdesk")
    assert "Charge entry" in seen["palette"]


# --- clinic setup ---------------------------------------------------------------------------------------
def test_a_clerk_is_told_clinic_setup_is_a_supervisors_work(database):
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "t", "n")
        await type_text(pilot, "Aetna")
        await tab_to(pilot, "rf-payer_code")
        await type_text(pilot, "60054")
        await press(pilot, "f2")
        seen["refused"] = dialog_words(screen_text(app))

    drive(flow)
    assert "! changing payers needs a supervisor; tester is a clerk" in seen["refused"]
    assert Payer.select().where(Payer.name == "Aetna").count() == 0


def test_change_a_service_codes_fee(database):
    small_clinic()
    seen = {}

    async def flow(pilot):
        app = pilot.app
        await press(pilot, "t", "3")
        seen["codes"] = words(screen_text(app))
        await press(pilot, "down", "enter")  # 99213 (after 36415)
        await tab_to(pilot, "rf-default_fee")
        await press(pilot, *["backspace"] * 6)
        await type_text(pilot, "115.00")
        await press(pilot, "f2")
        seen["changed"] = words(screen_text(app))

    drive(flow)
    assert "36415 cpt 12.00 Routine venipuncture 99213 cpt 110.00 Office visit, established" in seen["codes"]
    assert "✔ Changed service code #" in seen["changed"] and ": fee." in seen["changed"]
    assert "99213 cpt 115.00 Office visit, established" in seen["changed"]
    assert ServiceCode.get(ServiceCode.code == "99213").default_fee == 115_00


# --- an empty database to a patient payment, in the app only --------------------------------------------
def test_empty_database_to_a_patient_payment_in_the_app_only(database):
    make_admin()  # `claimdesk init` made its runner the admin; everything after is done in the app
    seen = {}

    async def flow(pilot):
        app = pilot.app
        seen["home"] = words(screen_text(app))
        await press(pilot, "t", "n")  # Clinic setup: a payer
        await type_text(pilot, "Aetna")
        await tab_to(pilot, "rf-payer_code")
        await type_text(pilot, "60054")
        await press(pilot, "f2", "2", "n")  # a provider
        await type_text(pilot, "Marsh")
        await tab_to(pilot, "rf-first_name")
        await type_text(pilot, "Elena")
        await tab_to(pilot, "rf-npi")
        await type_text(pilot, "1234567893")
        await press(pilot, "f2")
        for code, description, fee in (("99213", "Office visit, established", "110.00"),
                                       ("36415", "Routine venipuncture", "12.00")):
            await press(pilot, "3", "n")  # the service codes
            await type_text(pilot, code)
            await tab_to(pilot, "rf-description")
            await type_text(pilot, description)
            await tab_to(pilot, "rf-default_fee")
            await type_text(pilot, fee)
            await press(pilot, "f2")
        seen["setup"] = words(screen_text(app))
        await press(pilot, "escape")
        await register_patient(pilot, "Reyes", "Dana", "1980-02-29")
        await add_coverage(pilot, "Aetna", "W123456789")
        await press(pilot, "f7")  # on to charge entry for her
        await enter_encounter_header(pilot, "Elena Marsh", "E11.9")
        await choose(pilot, "ce-billed", "Self-pay")  # this visit she pays herself
        await add_line(pilot, "99213")
        await add_line(pilot, "36415")
        await press(pilot, "f2")
        seen["review"] = dialog_words(screen_text(app))
        await press(pilot, "y")
        seen["saved"] = words(screen_text(app))
        app.go_home()
        await press(pilot, "c")  # Credit entry: she pays 100.00 cash
        await type_text(pilot, "Reyes")
        await press(pilot, "enter")
        await choose(pilot, "method", "Cash")
        await press(pilot, "f4")
        await type_text(pilot, "100.00")
        await press(pilot, "f2")
        await press(pilot, "f2")  # Auto-Apply
        seen["paid"] = words(screen_text(app))
        app.go_home()
        await press(pilot, "l")
        await type_text(pilot, "Reyes")
        await press(pilot, "enter")
        seen["ledger"] = words(screen_text(app))

    drive(flow)
    assert "No provider or service code yet: press t for Clinic setup" in seen["home"]
    assert "✔ Added service code #" in seen["setup"] and "36415 cpt 12.00 Routine venipuncture" in seen["setup"]
    assert "Billed first: Patient (self-pay)" in seen["review"] and "Total: 122.00" in seen["review"]
    assert "2 lines, total 122.00; billed first: Patient (self-pay)." in seen["saved"]
    assert "drawn 100.00, applied 100.00, unapplied 0.00" in seen["paid"]
    dana = Patient.get()
    assert f"Reyes, Dana #{dana.id} ({dana.account_no}) Patient owes 22.00" in seen["ledger"]
    bal = balances.patient_balance(dana.id)
    assert (bal.patient_due, bal.insurance_pending, bal.unapplied) == (22_00, 0, 0)
    assert Payer.select().where(Payer.kind == "commercial").count() == 1
    assert (Provider.select().count(), ServiceCode.select().count(), Coverage.select().count()) == (1, 2, 1)
    assert verify.verify() == []  # the books are clean


def test_import_entry_on_home_and_in_the_palette_opens_the_import_screen(database):
    """The 837 import screen is installed: Home lists it, m opens it, the palette finds it (while
    it is missing the entry is hidden and m does nothing: checked above)."""
    seen = {}

    async def flow(pilot):
        app = pilot.app
        seen["home"] = words(screen_text(app))
        await press(pilot, "m")
        seen["import"] = (app.screen.TITLE, words(screen_text(app)))
        await press(pilot, "escape", "ctrl+p")
        await type_text(pilot, "837")
        seen["palette"] = words(screen_text(app))

    drive(flow)
    assert "Import 837 claim file m" in seen["home"]
    assert seen["import"][0] == "Import 837 claim files" and "press Enter or F5 to preview" in seen["import"][1]
    assert "Import 837 claim file" in seen["palette"]
