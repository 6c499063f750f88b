"""Entering a clinic's own work from the command line: ``payer``, ``provider``, ``code``,
``patient``, ``coverage``, ``encounter add``, ``charge add|void``; and the whole way from an
empty database to a payment on the clinic's own patient with ``verify`` clean (both engines)."""

from __future__ import annotations

import json

from claimdesk.core.models import AuditEvent, Patient

from tests.test_payments_cli import fixed_clock, one_line_error  # noqa: F401 (fixed_clock: autouse, the same NOW)

ADMIN = "admin"  # the cli fixture's first user (an admin, so a supervisor too)


def refused(cli, *args, code: int, says: str, user: str = "tester") -> None:
    """The command fails with ``code`` and one line saying ``says``; no audit event is written."""
    events = AuditEvent.select().count()
    got, out, err = cli(*args, user=user)
    assert got == code, err
    assert says in one_line_error(err)
    assert out == "" and AuditEvent.select().count() == events


def reference(cli) -> dict:
    """A payer, a doctor and two codes, entered by a supervisor; their ids."""
    payer = cli.json("payer", "add", "--name", "Acme Health", "--payer-code", "ACME1", "--address", "PO Box 1",
                     "--city", "Salem", "--state", "OR", "--zip", "97301", user=ADMIN)
    doc = cli.json("provider", "add", "--last-name", "Marsh", "--first-name", "Elena", "--npi", "1234567893",
                   "--taxonomy", "207Q00000X", user=ADMIN)
    visit = cli.json("code", "add", "--code", "99213", "--default-fee", "110.00", "--description", "Office visit",
                     user=ADMIN)
    lab = cli.json("code", "add", "--code", "36415", "--default-fee", "12.00", user=ADMIN)
    assert (visit["kind"], visit["default_fee"], lab["default_fee"]) == ("cpt", "110.00", "12.00")
    return {"payer": str(payer["payer_id"]), "doc": str(doc["provider_id"])}


def test_from_an_empty_database_to_a_payment_on_the_clinics_own_patient(cli, tmp_path):
    ids = reference(cli)
    pat = cli.json("patient", "add", "--last-name", "Doe", "--first-name", "Jan", "--dob", "1970-01-02",
                   "--sex", "F", "--address", "12 Elm St", "--city", "Riverbend", "--state", "OR", "--zip", "97402")
    assert pat["account_no"] == "A000001"
    pid = str(pat["patient_id"])
    cov = cli.json("coverage", "add", "--patient-id", pid, "--payer-id", ids["payer"], "--member-id", "XYZ123",
                   "--relationship", "spouse", "--subscriber-last-name", "Doe", "--subscriber-first-name", "John",
                   "--subscriber-dob", "1968-04-05")
    assert (cov["plan_type"], cov["relationship_code"], cov["subscriber"]) == ("CI", "01", "Doe, John")

    charges = tmp_path / "charges.json"
    charges.write_text(json.dumps([{"code": "99213", "modifiers": ["25"], "pointers": [1, 2]},
                                   {"code": "36415", "pointers": [1]}]))
    enc = cli.json("encounter", "add", "--patient-id", pid, "--provider-id", ids["doc"], "--dos", "2026-03-02",
                   "--diagnoses", "E11.9,I10", "--charges", f"@{charges}")
    assert (enc["claim_no"], enc["total"], enc["claim_queued"]) == (f"CD{enc['encounter_id']}", "122.00", True)
    visit, lab = enc["charges"]
    assert (visit["fee"], visit["modifiers"], visit["pointers"], lab["fee"]) == ("110.00", ["25"], [1, 2], "12.00")

    voucher = cli.json("voucher", "create", "--payer", ids["payer"], "--method", "check", "--amount", "110.00",
                       "--details", '{"check_number": "4411"}')
    credit = cli.json("credit", "post", "--patient", pid, "--voucher", str(voucher["voucher_id"]),
                      "--apply", f"{visit['charge_id']}:110.00")
    assert credit["credit"]["applied_total"] == "110.00"

    checked = cli.json("verify")
    assert (checked["ok"], checked["violations"]) == (True, [])
    shown = cli.json("patient", "show", pid)
    assert (shown["balance"]["insurance_pending"], shown["balance"]["patient_due"]) == ("12.00", "0.00")
    detail = cli.json("encounter", "show", str(enc["encounter_id"]))
    assert detail["balance"] == "12.00" and detail["diagnoses"] == ["E11.9", "I10"]
    assert {c["charge_id"]: c["balance"] for c in detail["charges"]} == {visit["charge_id"]: "0.00",
                                                                         lab["charge_id"]: "12.00"}
    assert [c["control_no"] for c in detail["charges"]] == ["1", "2"]
    text = cli.ok("encounter", "show", str(enc["encounter_id"]))
    assert f"claim number     CD{enc['encounter_id']}" in text and "1. E11.9, 2. I10" in text


def test_each_command_says_what_it_did_and_edits_only_what_is_given(cli, tmp_path):
    ids = reference(cli)
    assert cli.ok("payer", "edit", ids["payer"], "--phone", "(800) 555-0110", user=ADMIN).strip() == (
        f"payer {ids['payer']} (Acme Health (payer id ACME1)): phone")
    assert "provider" in cli.ok("provider", "edit", ids["doc"], "--tax-id", "93-1234567", user=ADMIN)
    out = cli.ok("patient", "add", "--data", json.dumps({"last_name": "Roe", "first_name": "Al", "dob": "1980-01-01"}))
    assert out.strip() == "patient 1 added: Roe, Al, account A000001"
    edited = cli.ok("patient", "edit", "1", "--phone", "555-0101").strip()
    assert edited == "patient 1 (Roe, Al, account A000001): phone"
    cli.ok("coverage", "add", "--patient-id", "1", "--payer-id", ids["payer"], "--member-id", "M1")
    assert "member M2" in cli.ok("coverage", "edit", "1", "--member-id", "M2")
    (found,) = cli.json("patient", "find", "--member-id", "m2")
    assert found["name"] == "Roe, Al"
    assert [p["name"] for p in cli.json("patient", "find", "--dob", "1980-01-01")] == ["Roe, Al"]

    data = tmp_path / "visit.json"
    data.write_text(json.dumps({"patient_id": 1, "provider_id": int(ids["doc"]), "dos": "2026-03-02",
                                "diagnoses": ["J06.9"], "charges": [{"code": "99213"}]}))
    out = cli.ok("encounter", "add", "--data", f"@{data}", "--place-of-service", "02")
    assert "encounter 1 added for patient 1: claim CD1, 1 charge(s), total 110.00; primary claim queued" in out
    added = cli.json("charge", "add", "1", "--code", "36415", "--units", "2", "--pointers", "1")
    assert (added["line_no"], added["fee"], added["control_no"]) == (2, "24.00", "2")
    assert cli.ok("charge", "add", "1", "--code", "36415").startswith("charge 3 added to encounter 1: line 3")
    voided = cli.json("charge", "void", str(added["charge_id"]), "--reason", "one stick only", user=ADMIN)
    assert voided["voided_fee"] == "24.00" and len(voided["reversing_entries"]) == 1
    assert "VOID" in cli.ok("encounter", "show", "1")
    assert cli.json("verify")["ok"]


def test_refusals_are_one_line_naming_the_field_and_write_nothing(cli):
    ids = reference(cli)
    refused(cli, "payer", "add", "--name", "Beta", "--payer-code", "B1", code=4, says="needs a supervisor")
    refused(cli, "provider", "add", "--last-name", "Ortiz", "--first-name", "Sam", "--npi", "1234567890",
            code=2, says="npi: 1234567890 is not a valid NPI", user=ADMIN)
    refused(cli, "code", "add", "--code", "RCFEE", code=4, says="code: ", user=ADMIN)
    refused(cli, "patient", "add", "--last-name", "Doe", "--first-name", "Jan", "--dob", "1970-13-01",
            code=2, says="dob: must be a date")
    refused(cli, "patient", "add", "--data", "{not json", code=2, says="data: not valid JSON")
    cli.ok("patient", "add", "--last-name", "Doe", "--first-name", "Jan", "--dob", "1970-01-02")
    refused(cli, "patient", "edit", "1", code=2, says="give at least one field")
    refused(cli, "coverage", "add", "--patient-id", "1", "--payer-id", ids["payer"], "--member-id", "M1",
            "--relationship", "child", code=4, says="subscriber_last_name: the subscriber is the patient's child")
    refused(cli, "encounter", "add", "--patient-id", "1", "--provider-id", ids["doc"], "--dos", "2026-03-02",
            "--diagnoses", "E11.9", "--charges", '[{"code": "99213", "pointers": [2]}]',
            code=4, says="charges.0.pointers: points at diagnosis 2")
    refused(cli, "encounter", "add", "--patient-id", "1", "--provider-id", ids["doc"], "--dos", "2026-03-02",
            "--diagnoses", "E11.9", "--charges", '[{"code": "99213", "fee": "1.005"}]',
            code=2, says="charges.0.fee: has more than 2 decimals")
    refused(cli, "encounter", "add", "--patient-id", "1", "--provider-id", ids["doc"], "--dos", "2026-03-02",
            "--diagnoses", "E11,9", "--charges", '[{"code": "99213"}]', code=2, says="diagnoses.1: '9' is not")
    refused(cli, "charge", "add", "77", "--code", "99213", code=3, says="encounter_id: no encounter with id 77")
    refused(cli, "charge", "void", "1", "--reason", "x", code=4, says="voiding a charge needs a supervisor")
    assert Patient.select().count() == 1
