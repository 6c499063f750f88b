"""The read models the CLI and the TUI share (core/services/*views.py): what a clerk sees, to the cent."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import clock, db
from claimdesk.core.errors import InputError, NotFound
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import actions, messages, patient_views, payment_views, payments, statements, views

from tests import builders as b
from tests.tui import scenario


def quill_with_two_credits():
    """Ada Quill: charges 110.37 + 25.50; a 40.01 check: 30.01 auto-applied, 10.00 kept unapplied."""
    with clock.frozen(scenario.TODAY):
        pat = b.patient("Quill", "Ada")
        b.encounter(pat, [110_37, 25_50])
        check = b.voucher(None, 40_01)
        payments.post_credit({"patient_id": pat.id, "voucher_id": check, "amount": "30.01"})
        payments.post_credit({"patient_id": pat.id, "voucher_id": check, "apply": "none"})
    return pat, check


# --- work queues and home ----------------------------------------------------------------
def test_queue_counts_and_queue_encounters_oldest_first_with_balances(database):
    clinic = scenario.build()
    counts = {q["key"]: q["count"] for q in views.queue_counts()}
    assert counts["denied"] == 2 and counts["needs_secondary"] == 0
    queue = views.queue_encounters("denied")
    assert (queue["name"], queue["total"]) == ("Denied", 2)
    assert [(r["encounter_id"], r["patient"], r["dos"], r["balance"]) for r in queue["rows"]] == [
        (clinic.denied[0].id, "Reyes, Dana", "2026-03-02", 150_00),
        (clinic.denied[1].id, "Reyes, Dana", "2026-03-09", 80_00)]
    first_only = views.queue_encounters("denied", limit=1)
    assert len(first_only["rows"]) == 1 and first_only["total"] == 2
    assert views.queue_encounters("no-such-queue") == {"key": "no-such-queue", "name": "no-such-queue",
                                                       "rows": [], "total": 0}


def test_desk_summary_and_encounter_header(database):
    clinic = scenario.build()
    summary = views.desk_summary()
    assert (summary["queued"], summary["open_messages"]) == (2, 0)
    assert summary["queues"] == views.queue_counts()
    with db.write_transaction():
        messages.send(clinic.denied[0], "Write off?", "Timely filing")
    actions.remove_from_queue(f"E{clinic.denied[1].id}", reason="worked")
    summary = views.desk_summary()
    assert (summary["queued"], summary["open_messages"]) == (1, 1)
    head = views.encounter_header(f"E{clinic.denied[0].id}")
    assert (head["patient"], head["account_no"], head["dos"], head["queue"]) == ("Reyes, Dana", "A1001",
                                                                              "2026-03-02", "Denied")
    assert head["payers"] == {"primary": "Aetna"} and head["by_rank"] == {"primary": 150_00}


def test_menu_facts_and_plugins_report_agree_on_the_loaded_plugins(database):
    facts = views.menu_facts()
    report = views.plugins_report()
    assert facts["plugins"] == len(report["plugins"]) and facts["failures"] == len(report["failures"])
    assert "cash" in [m["key"] for m in facts["methods"]]
    contributed = [c for p in report["plugins"] for c in p["contributes"]]
    assert "payment method cash" in contributed
    assert {a["key"] for a in facts["actions"]} == {c.split(" ")[-1] for c in contributed if c.startswith("action ")}


# --- patients ------------------------------------------------------------------------------
def test_patient_ledger_running_balances_to_the_cent(database):
    pat, _ = quill_with_two_credits()
    led = patient_views.patient_ledger(pat.id)
    assert led["balance"] == {"patient_due": 105_86, "insurance_pending": 0, "unapplied": 10_00,
                              "total_ar": 105_86, "net_due": 95_86}
    # AR activity per journal entry: the two charges, then the applied credit
    assert [(a["kind"], a["change"], a["running"]) for a in led["activity"]] == [
        ("charge", 110_37, 110_37), ("charge", 25_50, 135_87), ("payment", -30_01, 105_86)]
    # every AR and unapplied posting: running is what the account owes net of unapplied money
    assert [(r["account"], r["amount"], r["running_balance"]) for r in led["ledger"]] == [
        ("AR", 110_37, 110_37), ("AR", 25_50, 135_87), ("UNAPPLIED", -30_01, 105_86),
        ("UNAPPLIED", 30_01, 135_87), ("AR", -30_01, 105_86), ("UNAPPLIED", -10_00, 95_86)]
    assert led["ledger"][-1]["running_balance"] == led["balance"]["total_ar"] - led["balance"]["unapplied"]
    assert [(c["fee"], c["balance"], [(s["rank"], s["balance"]) for s in c["splits"]]) for c in led["charges"]] == [
        (110_37, 80_36, [("patient", 80_36)]), (25_50, 25_50, [("patient", 25_50)])]
    assert [(c["drawn"], c["applied"], c["unapplied"]) for c in led["credits"]] == [(30_01, 30_01, 0),
                                                                                   (10_00, 0, 10_00)]
    patient_payer_id = patient_payer().id  # each credit and split names its payer, by id too
    assert {c["payer_id"] for c in led["credits"]} == {s["payer_id"] for c in led["charges"]
                                                       for s in c["splits"]} == {patient_payer_id}
    assert [e["balance"] for e in led["encounters"]] == [105_86]
    assert led["adjustments"] == [] and led["statements"] == []


def test_patient_summary_and_an_unknown_patient(database):
    pat, _ = quill_with_two_credits()
    summary = patient_views.patient_summary(str(pat.id))
    assert (summary["name"], summary["account_no"], summary["dob"]) == ("Quill, Ada", pat.account_no, "1970-01-01")
    assert summary["balance"]["net_due"] == 95_86
    with pytest.raises(NotFound):
        patient_views.patient_ledger(pat.id + 999)


def test_find_patients_exact_id_or_account_wins_else_names_contain_the_text(database):
    clinic = scenario.build()
    b.patient("Quill", "Ada")
    assert [p["name"] for p in patient_views.find_patients(str(clinic.sam.id))] == ["Ortiz, Sam"]
    assert [p["name"] for p in patient_views.find_patients("a1001")] == ["Reyes, Dana"]
    assert [p["name"] for p in patient_views.find_patients("  ort ")] == ["Ortiz, Sam"]
    assert [p["name"] for p in patient_views.find_patients("reyes, da")] == ["Reyes, Dana"]
    assert [p["name"] for p in patient_views.find_patients("A", limit=2)] == ["Ortiz, Sam", "Quill, Ada"]
    sam = patient_views.find_patients("Ortiz")[0]
    assert (sam["patient_due"], sam["insurance_pending"]) == (120_00, 0)
    assert patient_views.find_patients("nobody-here") == []
    assert patient_views.find_patients("99999999999999999999") == []  # no integer overflow on PostgreSQL
    assert patient_views.find_patients("²") == []  # a digit, but not an ID
    with pytest.raises(InputError):
        patient_views.find_patients("   ")


def test_statements_by_id_and_in_the_patient_ledger(database):
    pat, _ = quill_with_two_credits()
    with clock.frozen(scenario.TODAY):
        first = statements.generate_for(pat.id)["statement_id"]
        second = statements.generate_for(pat.id)["statement_id"]
    made = patient_views.statements_by_id([second, first])
    assert [(s["id"], s["status"], s["amount_due"]) for s in made] == [(first, "void", 95_86),
                                                                       (second, "active", 95_86)]
    assert made[0]["void_reason"] == "replaced by a new statement"
    assert patient_views.patient_ledger(pat.id)["statements"] == made
    assert patient_views.statements_by_id([]) == []


# --- payers and vouchers ------------------------------------------------------------------
def test_payers_vouchers_and_open_charges_for_credit_entry(database):
    clinic = scenario.build()
    payers = payment_views.paying_payers()
    assert [p["name"] for p in payers] == ["Patient", "Aetna"]
    patient_payer = payers[0]["id"]
    cash = payment_views.payer_vouchers(patient_payer)
    assert [(v["voucher_id"], v["method"], v["undistributed"]) for v in cash] == [(clinic.cash, "cash", 40_00)]
    assert payment_views.payer_vouchers(patient_payer, "check") == []
    assert [(c["code"], c["rank"], c["balance"]) for c in payment_views.open_charges(clinic.sam.id, patient_payer)] \
        == [("99213", "patient", 120_00)]
    assert payment_views.open_charges(clinic.sam.id, clinic.aetna.id) == []


def test_active_vouchers_hide_used_ones_unless_asked_and_match_the_cli_list(database):
    pat, check = quill_with_two_credits()
    with clock.frozen(dt.date(2026, 4, 2)):
        cash = b.voucher(None, 12_34, method="cash")
    assert [v["voucher_id"] for v in payment_views.active_vouchers()] == [cash]
    every = payment_views.active_vouchers(include_used=True)
    assert [(v["voucher_id"], v["amount"], v["undistributed"]) for v in every] == [(cash, 12_34, 12_34),
                                                                                   (check, 40_01, 0)]
    assert every == payment_views.voucher_list()  # the same rows as ``voucher list``


def test_voucher_search_finds_by_number_reference_payer_or_amount_in_sql(database):
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    a1 = b.voucher(aetna, 150_00, check_number="55501")
    a2 = b.voucher(aetna, 75_25, check_number="55502")
    m1 = b.voucher(medicare, 75_25, method="eft", trace_number="EFT-9_1")
    everyone = payment_views.voucher_search()
    assert (everyone["total"], everyone["undistributed"]) == (3, 300_50)
    assert [v["voucher_id"] for v in everyone["rows"]] == [m1, a2, a1]  # newest first

    def found(text, **kw):
        return [v["voucher_id"] for v in payment_views.voucher_search(text, **kw)["rows"]]

    assert found(f"#{a2}") == [a2] and found(str(m1)) == [m1]
    assert found("55501") == [a1]  # the check number
    assert found("aetna") == [a2, a1] and found("AETNA 75.25") == [a2]  # every word must match
    assert found("75.25") == [m1, a2] and found("75.25", oldest_first=True) == [a2, m1]
    assert found("EFT-9_1") == [m1] and found("%") == [] and found("55_0") == []  # % and _ are plain text
    assert found("nobody") == []
    small = payment_views.voucher_search(limit=2)
    assert (len(small["rows"]), small["total"]) == (2, 3)
    assert payment_views.payer_vouchers(aetna.id, limit=1)[0]["voucher_id"] == a1  # oldest first


def test_fee_choices_list_providers_and_service_codes(database):
    scenario.build()
    choices = payment_views.fee_choices()
    assert any(label.startswith("Dr. Rivera") for _, label in choices["provider_id"])
    assert ("99213", "99213") in choices["service_code"]


# --- audit -----------------------------------------------------------------------------------
def test_audit_events_filter_by_action_encounter_and_user_newest_first(database):
    clinic = scenario.build()
    quill_with_two_credits()
    credits = views.audit_events(action="credit", limit=200)
    assert [e["action"] for e in credits] == ["credit.post", "credit.post"]
    assert credits[0]["audit_id"] > credits[1]["audit_id"]
    assert credits[0]["inputs"]["apply"] == "none" and credits[0]["at"].startswith("2026-04-01 ")
    assert len(views.audit_events(limit=1)) == 1
    on_enc = views.audit_events(encounter_id=clinic.denied[0].id)
    # those naming it (the denial) and those that posted to its charges (the set-up's charges)
    assert [(e["action"], e["encounter_id"]) for e in on_enc] == [("eob.post", clinic.denied[0].id),
                                                                  ("test.encounter", None)]
    assert views.audit_events(user="nobody") == []
