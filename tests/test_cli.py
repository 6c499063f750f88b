"""The ``claimdesk`` command line, run in-process through ``main([...])`` (and once as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from claimdesk.core import db, migrations
from claimdesk.core.cli import main
from claimdesk.core.models import AuditEvent, Voucher
from claimdesk.core.services.common import patient_payer

from tests import builders as b
from tests.clirunner import Cli
from tests.conftest import empty_config

NOW = "2026-03-10T10:00:00"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch, tmp_path):
    """Fixed time; no stray config file or CLAIMDESK_DB from the machine."""
    monkeypatch.setenv("CLAIMDESK_NOW", NOW)
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    monkeypatch.delenv("CLAIMDESK_DB", raising=False)


def one_line_error(err: str) -> str:
    """The error output is exactly one line, without a traceback."""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("claimdesk: error: ")
    return lines[0]


# --- init, status, verify, plugins ------------------------------------------------
def test_init_registers_the_first_admin_and_only_admins_add_users(db_url, capsys):
    run = Cli(db_url, capsys)
    assert "admin registered as admin" in run.ok("init", user="admin")
    assert "registered" not in run.ok("init", user="someone")  # only the first user is made admin
    assert run.ok("users", "add", "tester", "--role", "clerk", user="admin").strip() == "added tester as clerk"
    code, _, err = run("users", "add", "mallory", "--role", "admin", user="someone")
    assert code == 4 and "not a claimdesk user" in one_line_error(err)


def test_init_then_status_and_verify_report_an_empty_clean_database(db_url, capsys):
    run = Cli(db_url, capsys)
    code, out, err = run("db", "status", "--json")
    assert code == 0 and json.loads(out)["schema_version"] == 0
    code, out, err = run("verify")
    assert code == 5
    assert "claimdesk db upgrade" in one_line_error(err)

    code, out, err = run("init")
    assert code == 0 and f"schema version {migrations.CURRENT_VERSION}" in out
    status = run.json("db", "status")
    assert status["schema_version"] == migrations.CURRENT_VERSION and status["up_to_date"] is True
    assert (status["patients"], status["encounters"], status["charges"], status["postings"]) == (0, 0, 0, 0)
    checked = run.json("verify")
    assert (checked["ok"], checked["violations"]) == (True, [])
    code, out, _ = run("init")
    assert code == 0 and "already up to date" in out


def test_global_options_work_after_the_command(db_url, capsys):
    capsys.readouterr()
    assert main(["init", "--db", db_url]) == 0
    capsys.readouterr()
    assert main(["db", "status", "--json", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == migrations.CURRENT_VERSION


def test_plugins_lists_the_builtin_plugins_with_their_hooks(capsys):
    assert main(["plugins", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_name = {p["name"]: p for p in report["plugins"]}
    assert {"pay_cash", "pay_check", "fee_none", "action_non_billable", "writeoff_standard"} <= set(by_name)
    assert by_name["pay_cash"]["distribution"] == "claimdesk"
    assert by_name["pay_cash"]["hooks"] == ["claimdesk_payment_methods"]
    assert "payment method cash" in by_name["pay_cash"]["contributes"]
    assert "action non_billable" in by_name["action_non_billable"]["contributes"]
    assert report["failures"] == []
    assert main(["plugins"]) == 0
    assert "pay_check" in capsys.readouterr().out


# --- show commands --------------------------------------------------------------------
def test_encounter_show_gives_charges_splits_and_balances_to_the_cent(cli):
    pat = b.patient("Quill", "Ada")
    apex = b.payer("Apex Health")
    enc, charges = b.encounter(pat, [110_00, 25_50], payers=[apex])
    shown = cli.json("encounter", "show", f"E{enc.id}")
    assert shown["patient"] == "Quill, Ada"
    assert shown["payers"] == [{"rank": "primary", "payer_id": apex.id, "payer": "Apex Health",
                                "placeholder": False, "replaced_payer": None}]
    assert [c["fee"] for c in shown["charges"]] == ["110.00", "25.50"]
    assert [(s["rank"], s["balance"]) for s in shown["charges"][1]["splits"]] == [("primary", "25.50")]
    assert shown["balance"] == "135.50"
    assert shown["balance_by_rank"] == {"primary": "135.50"}
    code, out, _ = cli("encounter", "show", str(enc.id))
    assert code == 0 and "Quill, Ada" in out and "135.50" in out and "Apex Health" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_patient_show_has_ledger_with_running_balance_and_find_by_name(cli):
    pat = b.patient("Quill", "Ada")
    b.encounter(pat, [110_00])
    voucher = b.voucher(None, 40_00)
    assert cli("credit", "post", "--patient", str(pat.id), "--voucher", str(voucher), "--amount", "30.00")[0] == 0
    shown = cli.json("patient", "show", str(pat.id))
    assert shown["balance"] == {"patient_due": "80.00", "insurance_pending": "0.00", "unapplied": "0.00",
                                "total_ar": "80.00", "net_due": "80.00"}
    assert [r["running_balance"] for r in shown["ledger"]][0] == "110.00"
    assert shown["ledger"][-1]["running_balance"] == "80.00"
    assert sum(int(r["amount"].replace(".", "")) for r in shown["ledger"]) == 80_00
    found = cli.json("patient", "find", "quil")
    assert [(p["patient_id"], p["patient_due"]) for p in found] == [(pat.id, "80.00")]
    assert cli.json("patient", "find", pat.account_no)[0]["name"] == "Quill, Ada"
    assert cli.json("patient", "find", "nobody-here") == []


# --- advanced actions -------------------------------------------------------------------
def test_actions_list_describe_and_apply_through_json(cli):
    pat = b.patient()
    enc, _ = b.encounter(pat, [110_00, 40_00])
    listed = cli.json("actions", "list", str(enc.id))
    keys = [o["key"] for o in listed["offers"]]
    assert "non_billable" in keys and "none_of_the_above" in keys and "billable" not in keys
    form = cli.json("actions", "describe", str(enc.id), "non_billable")
    assert [f["name"] for f in form["fields"]] == ["confirm", "reason"]

    code, out, err = cli("actions", "apply", str(enc.id), "non_billable", "--data", "{}")
    assert code == 2 and one_line_error(err).startswith("claimdesk: error: confirm: ")

    res = cli.json("actions", "apply", str(enc.id), "non_billable", "--data", '{"confirm": true}')
    assert res["result"]["report"]["written_off"] == "150.00"
    assert res["result"]["before"]["patient_due"] == "150.00"
    assert res["result"]["after"]["patient_due"] == "0.00"
    assert "billable" in [o["key"] for o in cli.json("actions", "list", str(enc.id))["offers"]]

    res = cli.json("actions", "apply", str(enc.id), "billable", "--data", '{"confirm": true}')
    assert res["result"]["after"]["encounter_total"] == "150.00"
    assert cli.json("verify")["ok"] is True


def test_actions_apply_also_to_the_patients_other_encounters(cli):
    pat = b.patient()
    first, _ = b.encounter(pat, [50_00])
    second, _ = b.encounter(pat, [20_00])
    res = cli.json("actions", "apply", str(first.id), "non_billable", "--data", '{"confirm": true}',
                   "--also", "all")
    assert [(o["encounter_id"], o["ok"]) for o in res["others"]] == [(second.id, True)]
    assert res["others"][0]["result"]["report"]["written_off"] == "20.00"
    assert cli.json("patient", "show", str(pat.id))["balance"]["patient_due"] == "0.00"


def test_actions_apply_removes_from_queue_and_applies_to_listed_encounters(cli):
    from claimdesk.core.models import Encounter, WorkQueue

    pat = b.patient()
    first, _ = b.encounter(pat, [50_00])
    second, _ = b.encounter(pat, [20_00])
    third, _ = b.encounter(pat, [5_00])
    with db.write_transaction():
        Encounter.update(queue=WorkQueue.get(WorkQueue.key == "review")).where(Encounter.id == first.id).execute()
    code, _, err = cli("actions", "apply", str(first.id), "non_billable", "--data", '{"confirm": true}',
                       "--remove-from-queue", "--also", f"{second.id}, 99999")
    assert code == 3 and "99999" in err  # --also is checked first: nothing applied, a retry applies once
    assert cli.json("encounter", "show", str(first.id))["queue"] == "review"
    assert cli.json("patient", "show", str(pat.id))["balance"]["patient_due"] == "75.00"
    res = cli.json("actions", "apply", str(first.id), "non_billable", "--data", '{"confirm": true}',
                   "--remove-from-queue", "--also", str(second.id))
    assert res["removed_from_queue"]["removed_from"] == "review"
    assert cli.json("encounter", "show", str(first.id))["queue"] is None
    assert [(o["encounter_id"], o["ok"]) for o in res["others"]] == [(second.id, True)]
    code, out, err = cli("actions", "apply", str(third.id), "non_billable", "--data", '{"confirm": true}',
                         "--also", str(first.id))
    assert code == 4  # the action does not fit encounter 1 any more: refused before anything is applied
    assert cli.json("patient", "show", str(pat.id))["balance"]["patient_due"] == "5.00"


def test_the_queue_answer_holds_for_the_other_encounters_and_queue_commands_list_and_remove(cli):
    from claimdesk.core.models import Encounter, WorkQueue

    pat = b.patient(last="Queue")
    first, _ = b.encounter(pat, [50_00])
    second, _ = b.encounter(pat, [20_00])
    third, _ = b.encounter(pat, [7_25])
    with db.write_transaction():
        Encounter.update(queue=WorkQueue.get(WorkQueue.key == "review")).where(
            Encounter.id.in_([first.id, second.id, third.id])).execute()
    listed = cli.json("queue", "list", "review")
    assert (listed["total"], [r["balance"] for r in listed["rows"]]) == (3, ["50.00", "20.00", "7.25"])
    assert {q["key"]: q["count"] for q in cli.json("queue", "list")}["review"] == 3

    res = cli.json("actions", "apply", str(first.id), "non_billable", "--data", '{"confirm": true}',
                   "--remove-from-queue", "--also", str(second.id))
    assert [(o["encounter_id"], o["removed_from_queue"]) for o in res["others"]] == [(second.id, "review")]
    assert [r["encounter_id"] for r in cli.json("queue", "list", "review")["rows"]] == [third.id]

    out = cli.ok("queue", "remove", str(third.id), "--reason", "paid at the desk")
    assert f"encounter {third.id} removed from queue review" in out
    assert cli.json("queue", "list", "review")["total"] == 0
    from claimdesk.core.models import AuditEvent
    event = AuditEvent.select().where(AuditEvent.action == "queue.remove").order_by(AuditEvent.id.desc()).get()
    assert (event.encounter_id, event.reason) == (third.id, "paid at the desk")
    code, _out, err = cli("queue", "remove", str(third.id))
    assert code != 0 and "not on a work queue" in err
    code, _out, err = cli("queue", "list", "nosuch")
    assert code != 0 and "no queue 'nosuch'" in err


def test_actions_apply_dry_run_shows_what_it_would_do_with_the_others_and_writes_nothing(cli):
    from claimdesk.core.models import Encounter, WorkQueue

    pat = b.patient(last="Dry")
    first, _ = b.encounter(pat, [50_00])
    second, _ = b.encounter(pat, [20_00])
    with db.write_transaction():
        Encounter.update(queue=WorkQueue.get(WorkQueue.key == "review")).where(
            Encounter.id.in_([first.id, second.id])).execute()
    events = AuditEvent.select().count()
    args = ("actions", "apply", str(first.id), "non_billable", "--data", '{"confirm": true}',
            "--remove-from-queue", "--also", "all", "--dry-run")
    out = cli.ok(*args)
    assert out.startswith("dry run, nothing written\nwould apply non_billable to encounter")
    assert "audit" not in out and "would be removed from queue review" in out
    assert f"encounter {second.id}: would be applied, would be removed from queue review" in out
    res = cli.json(*args)
    assert res["dry_run"] is True and res["result"]["audit_id"] is None
    assert (res["result"]["before"]["patient_due"], res["result"]["after"]["patient_due"]) == ("70.00", "20.00")
    assert res["removed_from_queue"]["removed_from"] == "review"
    [other] = res["others"]  # seen after the first: the patient owes only its 20.00 then
    assert (other["encounter_id"], other["result"]["before"]["patient_due"]) == (second.id, "20.00")
    assert AuditEvent.select().count() == events
    assert cli.json("patient", "show", str(pat.id))["balance"]["patient_due"] == "70.00"
    assert [cli.json("encounter", "show", str(e.id))["queue"] for e in (first, second)] == ["review", "review"]
    code, _, err = cli("actions", "apply", str(first.id), "non_billable", "--data", "{}", "--dry-run")
    assert code == 2 and one_line_error(err).startswith("claimdesk: error: confirm: ")
    applied = cli.json(*args[:-1])
    assert applied["result"]["after"] == res["result"]["after"]
    assert applied["others"][0]["result"]["after"] == other["result"]["after"]


def test_none_of_the_above_message_is_read_answered_and_closed(cli):
    pat = b.patient()
    enc, _ = b.encounter(pat, [10_00])
    cli.json("actions", "apply", str(enc.id), "none_of_the_above", "--data",
             '{"subject": "Which payer?", "note": "Card shows two plans"}')
    inbox = cli.json("messages", "list", "--status", "open")
    assert [(m["encounter_id"], m["subject"], m["read"]) for m in inbox] == [(enc.id, "Which payer?", False)]
    mid = str(inbox[0]["id"])
    assert cli.json("messages", "read", mid)["read"] is True
    code, _, err = cli("messages", "answer", mid, "--text", "Use Apex")
    assert code == 4 and "admin" in one_line_error(err)
    assert cli.json("messages", "answer", mid, "--text", "Use Apex", user="admin")["status"] == "answered"
    assert cli.json("messages", "close", mid)["status"] == "closed"
    code, _, err = cli("messages", "close", mid)
    assert code == 4 and "already closed" in one_line_error(err)


# --- payments ---------------------------------------------------------------------------
def test_voucher_credit_and_returned_check_to_the_cent(cli):
    pat = b.patient()
    _, (charge,) = b.encounter(pat, [110_00])
    payer = str(patient_payer().id)
    v = cli.json("voucher", "create", "--payer", payer, "--method", "check", "--amount", "50.00",
                 "--details", '{"check_number": "4411"}')
    assert (v["amount"], v["undistributed"]) == ("50.00", "50.00")
    vid = str(v["voucher_id"])

    res = cli.json("credit", "post", "--patient", str(pat.id), "--payer", payer, "--voucher", vid,
                   "--amount", "30.00")["credit"]
    assert res["applied"] == [{"charge_id": charge.id, "split_id": res["applied"][0]["split_id"],
                               "rank": "patient", "amount": "30.00", "balance_after": "80.00"}]
    assert (res["drawn"], res["unapplied"], res["voucher_undistributed"]) == ("30.00", "0.00", "20.00")
    listed = cli.json("voucher", "list", "--payer", payer)["vouchers"]
    assert [(x["voucher_id"], x["amount"], x["undistributed"]) for x in listed] == [(int(vid), "50.00", "20.00")]

    ret = cli.json("check", "return", vid, "--reason", "NSF")
    assert ret["returned_amount"] == "50.00"
    assert ret["balance_increase_by_patient"] == {str(pat.id): "30.00"}
    shown = cli.json("patient", "show", str(pat.id))
    assert shown["balance"]["patient_due"] == "110.00"
    assert shown["ledger"][-1]["running_balance"] == "110.00"
    assert cli.json("voucher", "list")["vouchers"][0]["status"] == "returned"
    code, _, err = cli("check", "return", vid, "--reason", "again")
    assert code == 4 and "already returned" in one_line_error(err)
    assert cli.json("verify")["ok"] is True


def test_credit_on_a_new_voucher_manual_apply_and_later_apply_unapplied(cli):
    pat = b.patient()
    _, (c1, c2) = b.encounter(pat, [60_00, 45_00])
    payer = str(patient_payer().id)
    out = cli.json("credit", "post", "--patient", str(pat.id), "--payer", payer, "--new-voucher", "cash",
                   "--amount", "70.00", "--apply", f"{c2.id}:20.00", "--keep-unapplied")
    assert out["voucher"]["amount"] == "70.00"
    credit = out["credit"]
    assert [(a["charge_id"], a["amount"]) for a in credit["applied"]] == [(c2.id, "20.00")]
    assert (credit["unapplied"], credit["voucher_undistributed"]) == ("50.00", "0.00")

    later = cli.json("credit", "apply-unapplied", "--credit", str(credit["credit_id"]), "--patient", str(pat.id))
    assert [(a["charge_id"], a["amount"], a["balance_after"]) for a in later["applied"]] == [
        (c1.id, "50.00", "10.00")]
    assert later["unapplied"] == "0.00"
    bal = cli.json("patient", "show", str(pat.id))["balance"]
    assert (bal["patient_due"], bal["unapplied"]) == ("35.00", "0.00")


def test_bad_amount_names_the_field_and_writes_nothing(cli):
    pat = b.patient()
    b.encounter(pat, [110_00])
    audits = AuditEvent.select().count()
    code, out, err = cli("voucher", "create", "--payer", str(patient_payer().id), "--method", "cash",
                         "--amount", "1.234")
    assert code == 2 and out == ""
    assert one_line_error(err).startswith("claimdesk: error: amount: ")
    code, _, err = cli("credit", "post", "--patient", str(pat.id), "--payer", str(patient_payer().id),
                       "--new-voucher", "cash", "--amount", "1.234")
    assert code == 2 and "amount" in one_line_error(err)
    assert Voucher.select().count() == 0 and AuditEvent.select().count() == audits
    assert cli.json("voucher", "list")["vouchers"] == []


def test_errors_are_one_line_with_their_exit_codes(cli):
    code, _, err = cli("encounter", "show", "999")
    assert code == 3 and "no encounter with ID 999" in one_line_error(err)
    code, _, err = cli("actions", "list", "abc")
    assert code == 3 and "encounter_id" in one_line_error(err)
    code, _, err = cli("voucher", "create", "--payer", "1", "--method", "bitcoin", "--amount", "5.00")
    assert code == 2 and "method" in one_line_error(err)
    code, _, err = cli("eob", "post", "--data", "{not json")
    assert code == 2 and "data: not valid JSON" in one_line_error(err)
    code, _, err = cli("frobnicate")
    assert code == 2 and "invalid choice" in one_line_error(err)
    code, _, err = cli("voucher")
    assert code == 2 and "create" in one_line_error(err)
    b.patient()
    code, _, err = cli("demo")
    assert code == 4 and "already has patients" in one_line_error(err)


# --- books --------------------------------------------------------------------------
def test_eob_daysheet_provider_activity_and_audit(cli):
    pat = b.patient()
    apex = b.payer("Apex Health")
    enc, (charge,) = b.encounter(pat, [110_00], payers=[apex])
    vid = b.voucher(apex, 80_00)
    eob = {"encounter_id": enc.id, "payer_id": apex.id, "voucher_id": vid,
           "lines": [{"charge_id": charge.id, "allowed": "80.00", "paid": "80.00",
                      "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "30.00"}]}]}
    res = cli.json("eob", "post", "--data", json.dumps(eob))
    assert res["paid"] == "80.00" and res["lines"][0]["split_balance"] == "0.00"
    assert cli.json("encounter", "show", str(enc.id))["balance"] == "0.00"

    sheet = cli.json("daysheet", "show")
    assert sheet["day"] == NOW[:10] and sheet["status"] == "open"
    assert sheet["by_kind"]["charge"]["ar_change"] == "110.00"
    activity = cli.json("provider", "activity", "--from", "2026-03-01", "--to", "2026-03-31")["providers"]
    assert [(r["charges"], r["payments"], r["adjustments"]) for r in activity] == [("110.00", "80.00", "30.00")]
    code, _, err = cli("provider", "activity", "--from", "2026-03-31", "--to", "2026-03-01")
    assert code == 4 and one_line_error(err).startswith("claimdesk: error: to: the end date is before the start date")
    text = cli.ok("daysheet", "show")  # the day's entries, one line each
    assert "AR change" in text and " charge " in text and "110.00" in text
    code, _, err = cli("daysheet", "close", "--date", "2026-03-11")  # tomorrow (2099: a bad date, exit 2)
    assert code == 4 and one_line_error(err).startswith("claimdesk: error: date: ")

    events = cli.json("audit", "--encounter", str(enc.id))
    assert [e["action"] for e in events] == ["eob.post", "test.encounter"]  # the builder posts its charge in a workflow
    assert cli.json("audit", "--limit", "1")[0]["action"] == "eob.post"
    assert cli.json("audit", "--user", "nobody") == []

    assert cli.json("daysheet", "close")["status"] == "closed"
    code, _, err = cli("voucher", "create", "--payer", str(apex.id), "--method", "cash", "--amount", "5.00")
    assert code == 4 and "closed" in one_line_error(err)
    code, _, err = cli("daysheet", "show", "--date", "yesterday")
    assert code == 2 and one_line_error(err).startswith("claimdesk: error: date: ")


# --- the installed console script -------------------------------------------------------
def test_console_script_runs_as_a_real_process(db_url, tmp_path):
    exe = Path(sys.executable).parent / "claimdesk"
    env = {"CLAIMDESK_NOW": NOW, "CLAIMDESK_CONFIG": empty_config(tmp_path), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}

    def run(*args):
        return subprocess.run([str(exe), "--db", db_url, *args], capture_output=True, text=True, env=env,
                              timeout=120)

    missing = run("encounter", "show", "1")
    assert missing.returncode == 5 and "claimdesk db upgrade" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run("init").returncode == 0
    status = run("db", "status", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["patients"] == 0
    bad = run("voucher", "create", "--payer", "1", "--method", "cash", "--amount", "1.234")
    assert bad.returncode == 2 and bad.stderr.startswith("claimdesk: error: amount: ")
    assert run("verify").returncode == 0


# --- no command: the app ---------------------------------------------------------------
def test_no_command_opens_the_tui_with_the_resolved_settings(monkeypatch, tmp_path, capsys):
    import types

    seen = {}
    fake = types.ModuleType("claimdesk.tui.app")
    fake.run = lambda settings: seen.setdefault("settings", settings) and 0
    monkeypatch.setitem(sys.modules, "claimdesk.tui.app", fake)
    assert main(["--db", str(tmp_path / "x.db")], user="dana") == 0
    assert (seen["settings"].db_url, seen["settings"].user) == (str(tmp_path / "x.db"), "dana")

    monkeypatch.setitem(sys.modules, "claimdesk.tui.app", None)  # the app is not installed
    assert main(["--db", str(tmp_path / "x.db")]) != 0
    assert "the app (TUI) is not available" in one_line_error(capsys.readouterr().err)


def test_debug_adds_the_traceback(cli):
    code, _, err = cli("encounter", "show", "999", "--debug")
    assert code == 3 and "Traceback" in err
    assert err.strip().splitlines()[-1] == "claimdesk: error: encounter_id: no encounter with ID 999"


def test_unknown_users_may_read_but_not_write_and_only_admins_manage_users(cli):
    pat = b.patient()
    enc, _ = b.encounter(pat, [10_00])
    assert cli.json("encounter", "show", str(enc.id), user="stranger")["encounter_id"] == enc.id
    code, _, err = cli("actions", "apply", str(enc.id), "none_of_the_above", "--data",
                       '{"subject": "s", "note": "n"}', user="stranger")
    assert code == 4 and "'stranger' is not a claimdesk user" in one_line_error(err)
    code, _, err = cli("users", "add", "stranger", "--role", "admin")
    assert code == 4 and "managing users needs an admin" in one_line_error(err)
    assert [u["username"] for u in cli.json("users", "list")] == ["admin", "tester"]
    cli.json("users", "add", "stranger", "--role", "clerk", user="admin")
    code, _, err = cli("actions", "apply", str(enc.id), "none_of_the_above", "--data",
                       '{"subject": "s", "note": "n"}', user="stranger")
    assert code == 0, err
    cli.json("users", "deactivate", "stranger", user="admin")
    code, _, err = cli("actions", "apply", str(enc.id), "none_of_the_above", "--data",
                       '{"subject": "s2", "note": "n"}', user="stranger")
    assert code == 4
    code, _, err = cli("users", "deactivate", "admin", user="admin")
    assert code == 4 and "your own admin rights" in one_line_error(err)


def test_no_command_opens_the_app_without_building_every_command(monkeypatch, tmp_path):
    import claimdesk.core.cli as cli

    opened = []
    monkeypatch.setattr(cli, "_run_tui", lambda settings: opened.append((settings.db_url, settings.user)) or 0)
    monkeypatch.setattr(cli, "build_parser", lambda: pytest.fail("the full parser was built for the app"))
    assert cli.main(["--db", str(tmp_path / "x.db")], user="ann") == 0
    assert opened == [(str(tmp_path / "x.db"), "ann")]


# --- clear errors instead of "unexpected ..." ------------------------------------------
HUGE = "99999999999999999999"


@pytest.mark.parametrize("args, field", [
    (("patient", "show", HUGE), "patient_id"),
    (("credit", "post", "--patient", "1", "--voucher", HUGE), "voucher_id"),
    (("credit", "post", "--patient", "1", "--payer", "1", "--voucher", HUGE), "voucher_id"),
    (("credit", "post", "--patient", HUGE, "--payer", "1", "--new-voucher", "cash", "--amount", "5.00"), "patient_id"),
    (("voucher", "list", "--payer", HUGE), "payer_id"),
    (("check", "return", HUGE, "--reason", "NSF"), "voucher_id"),
])
def test_ids_too_large_for_the_database_are_refused_naming_the_field(cli, args, field):
    code, out, err = cli(*args)
    assert code == 2 and out == ""
    assert one_line_error(err) == f"claimdesk: error: {field}: must be a positive id (1 to {2**62})"
    assert Voucher.select().count() == 0


def _with_config(monkeypatch, tmp_path, text: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))
    return cfg


def test_a_config_file_with_a_toml_syntax_error_names_the_file_and_line(monkeypatch, tmp_path, capsys):
    cfg = _with_config(monkeypatch, tmp_path, 'user = "dana"\n[plugins\ndisabled = []\n')
    assert main(["--db", str(tmp_path / "x.db"), "db", "status"]) == 2
    assert one_line_error(capsys.readouterr().err) == (
        f"claimdesk: error: config file {cfg}: not valid TOML: Expected ']' at the end of a table "
        "declaration (line 2 column 9)")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("text, says", [
    ('[plugins]\ndisabled = "pay_card"\n',
     '[plugins] disabled: must be a list of names like ["pay_card"], got a string \'pay_card\''),
    ('plugins = "pay_card"\n', "[plugins]: must be a table, got a string"),
    ('[aging]\nbasis = "weekly"\n', "[aging] basis: must be one of 'service', 'last_activity', got 'weekly'"),
    ('[writeoffs]\nsupervisor_limit_cents = "500"\n',
     "[writeoffs] supervisor_limit_cents: must be a whole number, got a string '500'"),
])
def test_a_config_value_of_the_wrong_kind_names_the_key(monkeypatch, tmp_path, capsys, text, says):
    cfg = _with_config(monkeypatch, tmp_path, text)
    assert main(["--db", str(tmp_path / "x.db"), "plugins"]) == 2
    assert one_line_error(capsys.readouterr().err) == f"claimdesk: error: config file {cfg}: {says}"


def test_a_config_list_of_disabled_plugins_still_disables_them(monkeypatch, tmp_path, capsys):
    from claimdesk.core.plugins import host

    _with_config(monkeypatch, tmp_path, '[plugins]\ndisabled = ["pay_card"]\n')
    monkeypatch.setattr(host, "_host", None)  # this process loads its plugins again, with this config
    assert main(["plugins", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = {p["name"] for p in report["plugins"]}
    assert report["skipped"] == ["pay_card"] and "pay_card" not in names and "pay_cash" in names


@pytest.mark.parametrize("where", ["proc", "under_a_file"])
def test_a_database_file_that_cannot_be_created_is_one_clear_line(tmp_path, capsys, where):
    if where == "proc":
        path = Path("/proc/claimdesk-test.db")
    else:
        (tmp_path / "plain-file").write_text("")
        path = tmp_path / "plain-file" / "x.db"
    assert main(["--db", str(path), "db", "status"]) == 5
    line = one_line_error(capsys.readouterr().err)
    assert line.startswith(f"claimdesk: error: cannot create the database file {path}: "), line


def test_db_status_of_a_newer_database_says_to_upgrade_the_program(cli):
    from claimdesk.core import clock
    from claimdesk.core.models import SchemaVersion

    with db.write_transaction():
        SchemaVersion.create(version=migrations.CURRENT_VERSION + 1, upgraded_at=clock.now())
    status = cli.json("db", "status")
    assert (status["schema_version"], status["up_to_date"], status["action"]) == (
        migrations.CURRENT_VERSION + 1, False, "upgrade_claimdesk")
    text = cli.ok("db", "status")
    assert "upgrade claimdesk (the program), not the database" in text
    assert "claimdesk db upgrade" not in text
    code, _, err = cli("db", "upgrade")
    assert code == 5 and "upgrade claimdesk" in one_line_error(err)
