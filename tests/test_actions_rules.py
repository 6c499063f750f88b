"""Advanced Actions rules an audit found broken, each checked the way a clerk would notice:
the same action on other encounters, the supervisor limit on insurance write-offs, money owed
by the placeholder payer "Patient", a tertiary payer moving up, queue removal, broken plugins,
write-off reasons, and the smaller cases (one charge owed by two insurers, workers' comp to
medical). Every refusal leaves nothing written."""

from __future__ import annotations

import datetime as dt
import json
import types

import pytest
from marshmallow import Schema, fields, validates

from claimdesk.api import Action, WriteoffReason, hookimpl
from claimdesk.core import users
from claimdesk.core.context import as_user
from claimdesk.core.errors import InputError, PermissionDenied, Refused
from claimdesk.core.models import (
    AdminMessage, AuditEvent, Encounter, JournalEntry,
)
from claimdesk.core.plugins.host import PluginHost, get_host, reset_host
from claimdesk.core.services import actions, balances, billing, claims, eobs
from claimdesk.core.services.verify import verify

from tests import builders as b

COURTESY_5 = {"amount": "5.00", "reason": "COURTESY"}
NOTE = {"subject": "Which plan?", "note": "The card shows two plans"}


def offered(enc_id: int) -> list[str]:
    return [o["key"] for o in actions.assess(enc_id)["offers"]]


def written() -> tuple[int, int, int]:
    """What a refused action must not have added: journal entries, audit events, admin messages."""
    return JournalEntry.select().count(), AuditEvent.select().count(), AdminMessage.select().count()


def supervisor(name: str = "boss") -> str:
    users.bootstrap(name, "supervisor")
    return name


def writeoff_limit(monkeypatch, tmp_path, cents: int) -> None:
    cfg = tmp_path / "limit.toml"
    cfg.write_text(f"[writeoffs]\nsupervisor_limit_cents = {cents}\n")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))


def late_charge(enc_id: int, fee: int):
    code = b.code("99214")
    return b.audited(lambda: billing.add_charge(Encounter.get_by_id(enc_id), code, fee=fee))


@pytest.fixture
def plugin():
    """Register plugin objects on the live host for one test; unregistered afterwards."""
    host, names = get_host(), []

    def register(obj, name):
        assert host.register(obj, name), host.failures
        names.append(name)

    yield register
    for name in names:
        host.unregister(name)


def actions_plugin(*items: Action):
    mod = types.ModuleType("clinic_actions")
    mod.claimdesk_advanced_actions = hookimpl(lambda: list(items))
    return mod


# --- 1. the same action on the patient's other encounters ----------------------------------
def test_also_refuses_another_patients_encounter_and_writes_nothing_there(database):
    ann, bob = b.patient("Ames", "Ann"), b.patient("Bell", "Bob")
    first, _ = b.encounter(ann, [50_00])
    mine, _ = b.encounter(ann, [30_00])
    theirs, _ = b.encounter(bob, [20_00])
    actions.apply(first.id, "patient_writeoff_office", COURTESY_5)
    assert [o["encounter_id"] for o in actions.other_encounters(first.id, "patient_writeoff_office")] == [mine.id]

    res = actions.apply_to_others("patient_writeoff_office", [str(theirs.id), f" {mine.id} ", first.id],
                                  COURTESY_5, first=first.id)

    assert [(r["encounter_id"], r["ok"]) for r in res] == [(theirs.id, False), (mine.id, True), (first.id, False)]
    assert "another patient" in res[0]["error"] and "just applied" in res[2]["error"]
    assert balances.patient_balance(bob.id).patient_due == 20_00
    assert not AuditEvent.select().where(AuditEvent.encounter == theirs.id).exists()
    assert (balances.encounter_balance(first.id), balances.encounter_balance(mine.id)) == (45_00, 25_00)
    assert res[1]["result"]["same_as"] == first.id
    assert verify() == []


def test_also_reports_ids_that_are_not_numbers_as_typed_and_goes_on(database):
    pat = b.patient()
    first, _ = b.encounter(pat, [50_00])
    mine, _ = b.encounter(pat, [30_00])
    actions.apply(first.id, "patient_writeoff_office", COURTESY_5)

    res = actions.apply_to_others("patient_writeoff_office", ["²", "E99999999999", f"E{mine.id}"], COURTESY_5,
                                  first=first.id)

    assert [(r["encounter_id"], r["ok"]) for r in res] == [("²", False), (99999999999, False), (mine.id, True)]
    assert "not an encounter ID" in res[0]["error"] and "no encounter with ID 99999999999" in res[1]["error"]
    assert balances.encounter_balance(mine.id) == 25_00
    assert verify() == []


def test_also_refuses_an_action_that_is_not_repeatable(database):
    pat = b.patient()
    first, _ = b.encounter(pat, [10_00])
    other, _ = b.encounter(pat, [10_00])
    actions.apply(first.id, "none_of_the_above", NOTE)
    assert actions.other_encounters(first.id, "none_of_the_above") == []
    before = written()

    (res,) = actions.apply_to_others("none_of_the_above", [other.id], NOTE, first=first.id)

    assert (res["encounter_id"], res["ok"]) == (other.id, False) and "one encounter at a time" in res["error"]
    assert written() == before
    assert AdminMessage.select().where(AdminMessage.encounter == other.id).count() == 0


def test_cli_also_is_checked_before_anything_is_applied_so_a_retry_never_applies_twice(cli):
    ann, bob = b.patient("Ames", "Ann"), b.patient("Bell", "Bob")
    first, _ = b.encounter(ann, [50_00])
    mine, _ = b.encounter(ann, [30_00])
    theirs, _ = b.encounter(bob, [20_00])
    apply = ("actions", "apply", str(first.id), "patient_writeoff_office", "--data", json.dumps(COURTESY_5))

    for also, word, exit_code in ((f"{theirs.id}, {mine.id}", "another patient", 4), (f"{mine.id}, 99999", "99999", 3),
                                  (f"{mine.id},{mine.id}", "twice", 4), (str(first.id), "being applied", 4)):
        # a script retried after the refusal: still nothing applied, never twice
        for _attempt in range(2):
            code, out, err = cli(*apply, "--also", also, "--json")
            assert code == exit_code and out == "", (also, err)
            assert err.startswith("claimdesk: error: also: ") and word in err and "nothing was applied" in err
        assert cli.json("patient", "show", str(ann.id))["balance"]["patient_due"] == "80.00"
    assert cli.json("patient", "show", str(bob.id))["balance"]["patient_due"] == "20.00"

    res = cli.json(*apply, "--also", str(mine.id))
    assert [(o["encounter_id"], o["ok"]) for o in res["others"]] == [(mine.id, True)]
    assert cli.json("patient", "show", str(ann.id))["balance"]["patient_due"] == "70.00"

    code, _, err = cli("actions", "apply", str(first.id), "none_of_the_above", "--data", json.dumps(NOTE),
                       "--also", str(mine.id))
    assert code == 2 and "also" in err and "one encounter at a time" in err
    assert AdminMessage.select().count() == 0  # refused before anything was applied


# --- 2. the supervisor limit on writing off insurance balance lives in the core ------------
def test_non_billable_over_the_limit_of_insurance_balance_needs_a_supervisor(database, tmp_path, monkeypatch):
    writeoff_limit(monkeypatch, tmp_path, 100_00)
    boss = supervisor()
    aetna = b.payer("Aetna")
    pat = b.patient()
    enc, _ = b.encounter(pat, [318_00], payers=[aetna])
    before = written()

    with pytest.raises(PermissionDenied, match=r"318\.00 of insurance balance .*100\.00.* needs a supervisor"):
        actions.apply(enc.id, "non_billable", {"confirm": True})

    assert written() == before
    assert balances.payer_balance(aetna.id) == 318_00 and Encounter.get_by_id(enc.id).billable
    with as_user(boss):
        res = actions.apply(enc.id, "non_billable", {"confirm": True})
    assert res["report"]["written_off"] == 318_00 and balances.payer_balance(aetna.id) == 0
    # only patient money on the claim: a clerk marks it non-billable whatever the amount
    other, _ = b.encounter(pat, [900_00])
    actions.apply(other.id, "non_billable", {"confirm": True})
    assert balances.patient_balance(pat.id).patient_due == 0
    assert verify() == []


def test_the_limit_counts_every_insurance_write_off_of_an_action_even_a_clinic_plugins(
        database, tmp_path, monkeypatch, plugin):
    writeoff_limit(monkeypatch, tmp_path, 100_00)
    boss = supervisor()

    def in_two_halves(ctx, data):  # two write-offs of 60.00, each under the limit
        for split in ctx.insurance_splits():
            ctx.ops.write_off([split], split.balance, ctx.writeoff_reason("CO45", "insurance"))
        return {"done": True}

    plugin(actions_plugin(Action(key="clinic_halves", title="Halves", when="", steps=(),
                                 applies=lambda ctx: ctx.insurance_balance > 0, apply=in_two_halves)),
           "clinic_halves_plugin")
    aetna = b.payer("Aetna")
    enc, _ = b.encounter(b.patient(), [60_00, 60_00], payers=[aetna])
    before = written()

    with pytest.raises(PermissionDenied, match=r"120\.00 of insurance balance"):
        actions.apply(enc.id, "clinic_halves", {})

    assert written() == before and balances.payer_balance(aetna.id) == 120_00
    with as_user(boss):
        actions.apply(enc.id, "clinic_halves", {})
    assert balances.payer_balance(aetna.id) == 0
    assert verify() == []


# --- 2b. roles: a write-off reason's role and the limit on patient balance, checked in the core
@pytest.mark.parametrize("reason", ["BAD_DEBT", "NEGOTIATED"])
def test_a_clerk_cannot_book_a_supervisors_reason_through_the_office_write_off(cli, reason):
    pat = b.patient()
    enc, _ = b.encounter(pat, [80_00])
    boss = supervisor()
    data = json.dumps({"amount": "19.00", "reason": reason})
    before = written()

    code, out, err = cli("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", data)

    assert (code, out) == (4, "") and err.startswith("claimdesk: error: reason: ")
    assert f"'{reason}'" in err and "needs a supervisor" in err and "tester is a clerk" in err
    assert written() == before and balances.encounter_balance(enc.id) == 80_00
    # the form does not offer them to a clerk either; a supervisor may use them
    (field,) = [f for f in json.loads(cli.ok("actions", "describe", str(enc.id), "patient_writeoff_office",
                                             "--json"))["fields"] if f["name"] == "reason"]
    assert reason not in [c[0] for c in field["choices"]]
    cli.ok("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", data, user=boss)
    assert balances.encounter_balance(enc.id) == 61_00


def test_a_clinic_action_cannot_book_bad_debt_for_a_clerk_either(database, plugin):
    """Whatever action asks (a clinic's clerk-level one), bad debt needs a supervisor: by its
    reason, and by its kind."""
    def under_reason(ctx, data):
        return {"lines": ctx.ops.write_off(ctx.patient_splits(), 10_00, ctx.writeoff_reason("BAD_DEBT", "patient"))}

    def as_code(ctx, data):
        return {"lines": ctx.ops.write_off(ctx.patient_splits(), 10_00, "BAD_DEBT", kind="patient_writeoff")}

    def as_own_record(ctx, data):  # a record of its own saying a clerk may: not lower than the built-in
        mine = WriteoffReason(code="BAD_DEBT", label="Ours", kind="patient", required_role="clerk")
        return {"lines": ctx.ops.write_off(ctx.patient_splits(), 10_00, mine)}

    def as_kind(ctx, data):
        return {"lines": ctx.ops.write_off(ctx.patient_splits(), 10_00, "COURTESY", kind="bad_debt")}

    plugin(actions_plugin(*[Action(key=f"clinic_{fn.__name__}", title=fn.__name__, when="", steps=(),
                                   applies=lambda ctx: ctx.patient_balance > 0, apply=fn)
                            for fn in (under_reason, as_code, as_own_record, as_kind)]), "clinic_bad_debt")
    enc, _ = b.encounter(b.patient(), [80_00])
    boss = supervisor()
    before = written()
    for fn in ("under_reason", "as_code", "as_own_record", "as_kind"):
        with pytest.raises(PermissionDenied, match="needs a supervisor"):
            actions.apply(enc.id, f"clinic_{fn}", {})
    assert written() == before and balances.encounter_balance(enc.id) == 80_00
    with as_user(boss):
        actions.apply(enc.id, "clinic_as_own_record", {})
    assert balances.encounter_balance(enc.id) == 70_00


def test_patient_write_offs_over_the_limit_need_a_supervisor(cli, tmp_path):
    (tmp_path / "no-config.toml").write_text("[writeoffs]\nsupervisor_limit_cents = 10000\n")  # the cli's config
    pat = b.patient()
    enc, _ = b.encounter(pat, [318_00])
    boss = supervisor()
    big = json.dumps({"amount": "318.00", "reason": "COURTESY"})
    before = written()

    code, out, err = cli("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", big)

    assert (code, out) == (4, "")
    assert "318.00 of patient balance" in err and "100.00" in err and "needs a supervisor" in err
    # a negotiated balance forgives money too
    code, _, err = cli("actions", "apply", str(enc.id), "negotiate_balance", "--data", '{"final_balance": "18.00"}')
    assert code == 4 and "300.00 of patient balance" in err
    assert written() == before and balances.encounter_balance(enc.id) == 318_00
    # under the limit a clerk may; over it a supervisor
    cli.ok("actions", "apply", str(enc.id), "patient_writeoff_office", "--data",
           json.dumps({"amount": "100.00", "reason": "COURTESY"}))
    cli.ok("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", big.replace("318", "218"), user=boss)
    assert balances.encounter_balance(enc.id) == 0
    assert verify() == []


# --- 3. money owed by the placeholder payer "Patient" is the patient's ----------------------
def test_after_self_pay_a_late_charge_is_the_patients_and_insurance_write_off_is_not_offered(database):
    pat = b.patient()
    enc, _ = b.encounter(pat, [40_00])
    actions.apply(enc.id, "self_pay", {"confirm": True})

    late_charge(enc.id, 60_00)

    bal = balances.patient_balance(pat.id)
    assert (bal.patient_due, bal.insurance_pending) == (100_00, 0)
    offers = offered(enc.id)
    assert "insurance_writeoff" not in offers and "negotiate_balance" in offers
    res = actions.apply(enc.id, "negotiate_balance", {"final_balance": "70.00"})
    assert (res["report"]["previous_balance"], res["report"]["adjusted"]) == (100_00, 30_00)
    assert res["after"]["encounter_by_rank"] == {"patient": 70_00}
    assert balances.patient_balance(pat.id).patient_due == 70_00
    assert verify() == []


def test_patient_money_sitting_at_the_placeholder_primary_rank_is_still_the_patients(database):
    """Data written before the fix: a charge owed by "Patient" at rank primary."""
    enc, _ = b.owed_at_placeholder_primary(60_00)
    pat = Encounter.get_by_id(enc.id).patient

    assert "insurance_writeoff" not in offered(enc.id)
    res = actions.apply(enc.id, "patient_writeoff_office", {"amount": "60.00", "reason": "HARDSHIP"})
    assert res["before"]["encounter_by_rank"] == {"patient": 60_00}
    assert res["report"]["written_off"] == 60_00 and balances.patient_balance(pat.id).patient_due == 0
    assert verify() == []


def test_after_primary_invalid_a_late_charge_is_billed_to_the_secondary(database, tmp_path):
    medicare, aetna = b.payer("Medicare", "medicare"), b.payer("Aetna")
    pat, enc, _ = b.denied([medicare, aetna])
    actions.apply(enc.id, "primary_invalid", {"confirm": True})

    late_charge(enc.id, 30_00)

    assert balances.payer_balance(aetna.id) == 180_00
    assert balances.patient_balance(pat.id).patient_due == 0
    batch = claims.build_batch(out_dir=tmp_path)
    assert [(x["payer"], x["claims"], x["total_due"]) for x in batch["batches"]] == [("Aetna", 1, 180_00)]
    assert verify() == []


# --- 4. a tertiary moving up takes what it owes along ----------------------------------------
def test_secondary_invalid_moves_the_tertiary_up_with_its_own_balance(database, tmp_path):
    aetna, blue, cigna = b.payer("Aetna"), b.payer("Blue Shield"), b.payer("Cigna")
    pat = b.patient()
    enc, (c1, c2) = b.encounter(pat, [100_00, 50_00], payers=[aetna, blue, cigna])
    pr = lambda amount: [{"group_code": "PR", "reason_code": "2", "amount": amount}]  # noqa: E731
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": b.voucher(aetna, 90_00),
                   "lines": [{"charge_id": c1.id, "paid": "60.00", "adjustments": pr("40.00")},
                             {"charge_id": c2.id, "paid": "30.00", "adjustments": pr("20.00")}]})
    eobs.post_eob({"encounter_id": enc.id, "payer_id": blue.id, "voucher_id": b.voucher(blue, 10_00),
                   "lines": [{"charge_id": c2.id, "paid": "10.00", "adjustments": pr("10.00")}]})
    sent = claims.build_batch(out_dir=tmp_path / "first")
    assert sorted((x["payer"], x["total_due"]) for x in sent["batches"]) == [("Blue Shield", 40_00), ("Cigna", 10_00)]

    res = actions.apply(enc.id, "secondary_invalid", {"confirm": True})

    assert res["after"]["payers"] == {"primary": "Aetna", "secondary": "Cigna"}
    assert (res["report"]["balance_moved"], res["report"]["promoted_balance"]) == (40_00, 10_00)
    assert res["after"]["encounter_by_rank"] == {"primary": 0, "secondary": 50_00, "tertiary": 0}
    assert balances.payer_balance(cigna.id) == 50_00 and balances.payer_balance(blue.id) == 0
    batch = claims.build_batch(out_dir=tmp_path / "second")
    assert [(x["payer"], x["total_due"]) for x in batch["batches"]] == [("Cigna", 50_00)]
    assert balances.patient_balance(pat.id).patient_due == 0
    assert verify() == []


# --- 6. queue removal only where the action offers it ----------------------------------------
def test_queue_removal_is_refused_after_an_action_that_does_not_offer_it(database):
    pat, enc, _ = b.denied([b.payer("Aetna")])
    actions.apply(enc.id, "none_of_the_above", NOTE)
    before = written()

    with pytest.raises(Refused, match="does not offer") as err:
        actions.remove_from_queue(enc.id, after_action="none_of_the_above")

    assert err.value.field == "remove_from_queue" and written() == before
    assert Encounter.get_by_id(enc.id).queue.key == "denied"
    actions.apply(enc.id, "primary_denied_bill_patient", {"confirm": True})
    res = actions.remove_from_queue(enc.id, after_action="primary_denied_bill_patient")
    assert res["removed_from"] == "denied" and Encounter.get_by_id(enc.id).queue_id is None


def test_cli_remove_from_queue_refused_for_an_action_without_it(cli):
    aetna = b.payer("Aetna")
    pat = b.patient()
    enc, (ch,) = b.encounter(pat, [80_00], payers=[aetna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id,
                   "lines": [{"charge_id": ch.id, "denied": True, "denial_code": "16"}]})

    code, _, err = cli("actions", "apply", str(enc.id), "none_of_the_above", "--data", json.dumps(NOTE),
                       "--remove-from-queue")

    assert code == 2 and "remove_from_queue" in err
    assert cli.json("encounter", "show", str(enc.id))["queue"] == "denied"
    assert AdminMessage.select().count() == 0  # refused before the action ran


# --- 7. a broken action plugin is reported, naming it; nothing is written --------------------
class SchemaBreaksOnInit(Schema):
    def __init__(self, *args, **kwargs):
        raise RuntimeError("schema bug")


class ValidatorBreaks(Schema):
    amount = fields.String(required=True)

    @validates("amount")
    def check(self, value, **kwargs):
        raise RuntimeError("validator bug")


class Opaque:
    pass


def _writes_then_returns(value):
    def apply(ctx, data):
        ctx.ops.write_off(ctx.patient_splits(), 10_00, ctx.writeoff_reason("COURTESY", "patient"))
        return value
    return apply


BROKEN = {
    "schema_init": ({"schema": SchemaBreaksOnInit}, "schema", "schema bug"),
    "validator": ({"schema": ValidatorBreaks}, "schema", "validator bug"),
    "returns_list": ({"apply": _writes_then_returns(["not", "a", "dict"])}, "apply", "not a dict"),
    "returns_object": ({"apply": _writes_then_returns({"thing": Opaque()})}, "apply", "not JSON-safe"),
    "returns_nan": ({"apply": _writes_then_returns({"ratio": float("nan")})}, "apply", "not JSON-safe"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_action_plugin_fails_naming_it_and_writes_nothing(database, plugin, case):
    overrides, stage, what = BROKEN[case]
    spec = {"key": "clinic_broken", "title": "Broken", "when": "", "steps": (), "applies": lambda ctx: True,
            "apply": _writes_then_returns({"ok": True}), **overrides}
    plugin(actions_plugin(Action(**spec)), "clinic_broken_plugin")
    enc, _ = b.encounter(b.patient(), [90_00])
    before = written()

    with pytest.raises(actions.ActionFailed) as err:
        actions.apply(enc.id, "clinic_broken", {"amount": "1"})

    text = str(err.value)
    assert "clinic_broken_plugin" in text and f"failed in {stage}" in text and what in text
    assert "nothing was written" in text
    assert written() == before and balances.encounter_balance(enc.id) == 90_00
    if case == "schema_init":  # the form cannot even be drawn
        with pytest.raises(actions.ActionFailed, match="clinic_broken_plugin"):
            actions.form(enc.id, "clinic_broken")


def test_a_plugin_whose_choices_raise_fails_naming_it(database, plugin):
    plugin(actions_plugin(Action(key="clinic_choices", title="Choices", when="", steps=(),
                                 applies=lambda ctx: True, apply=lambda ctx, data: {},
                                 choices=lambda ctx: 1 // 0)), "clinic_choices_plugin")
    enc, _ = b.encounter(b.patient(), [10_00])
    with pytest.raises(actions.ActionFailed, match=r"clinic_choices_plugin\) failed in choices: ZeroDivisionError"):
        actions.form(enc.id, "clinic_choices")


# --- 8. write-off reasons: codes checked, duplicates reported and refused where used --------
def test_writeoff_reason_codes_are_checked_against_the_code_lists():
    host = PluginHost(extra_writeoff_reasons=[
        {"code": "BADCARC", "label": "Bad", "kind": "insurance", "group_code": "CO", "carc": "not a code!"},
        {"code": "NOGROUP", "label": "No group", "kind": "insurance", "carc": "45"},
        {"code": "ODD", "label": "Odd group", "kind": "insurance", "group_code": "XX", "carc": "45"},
        {"code": "CORR", "label": "Correction", "kind": "insurance", "group_code": "CR", "carc": "A1"},
        {"code": "PI14", "label": "Payer initiated", "kind": "insurance", "group_code": "PI", "carc": "P14"},
    ]).load_entrypoints()
    codes = {r.code for r in host.writeoff_reasons("insurance")}
    assert {"CORR", "PI14", "CO45"} <= codes and not {"BADCARC", "NOGROUP", "ODD"} & codes
    errors = " | ".join(f.error for f in host.failures if f.name == "config")
    assert "'not a code!' is not a claim adjustment reason code" in errors
    assert "CARC '45' needs a group code" in errors and "unknown group code 'XX'" in errors


def test_a_builtin_reason_defined_again_stays_the_builtins_and_a_clash_of_others_is_refused_when_used(database):
    clinic = types.ModuleType("clinic_reasons")
    clinic.claimdesk_writeoff_reasons = hookimpl(lambda: [
        WriteoffReason(code="CO45", label="Our contractual", kind="insurance", group_code="CO", carc="45"),
        WriteoffReason(code="CHARITY", label="Our charity", kind="patient")])
    host = PluginHost(extra_writeoff_reasons=[
        {"code": "COURTESY", "label": "Staff courtesy", "kind": "patient"},
        {"code": "CHARITY", "label": "Charity care", "kind": "patient"},
        {"code": "KIND", "label": "Kindness", "kind": "patient"},
    ]).load_entrypoints()
    host.register(clinic, "clinic_reasons")
    reset_host(host)
    try:
        kept = {r.code: r.label for r in host.writeoff_reasons()}
        assert (kept["COURTESY"], kept["CO45"]) == ("Professional courtesy", "Charge exceeds fee schedule")
        errors = [f.error for f in host.failures]
        assert any("'COURTESY'" in e and "writeoff_standard" in e and "config file" in e for e in errors)
        assert any("'CO45'" in e and "writeoff_standard" in e and "clinic_reasons" in e for e in errors)
        assert any("'CHARITY'" in e and "clinic_reasons" in e and "config file" in e for e in errors)
        pat = b.patient()
        enc, (ch,) = b.encounter(pat, [90_00])
        (reason,) = [f for f in actions.form(enc.id, "patient_writeoff_office") if f["name"] == "reason"]
        offered_codes = [c[0] for c in reason["choices"]]
        assert "KIND" in offered_codes and "COURTESY" in offered_codes and "CHARITY" not in offered_codes
        before = written()

        # two plugins' (a plugin's and the config file's) same code: neither wins, refused when used
        with pytest.raises(InputError, match="ambiguous") as err:
            actions.apply(enc.id, "patient_writeoff_office", {"amount": "5.00", "reason": "CHARITY"})

        assert err.value.field == "reason" and "clinic_reasons" in str(err.value)
        assert written() == before and balances.encounter_balance(enc.id) == 90_00
        with pytest.raises(InputError, match="unknown patient write-off reason 'NOPE'") as err:
            actions.apply(enc.id, "patient_writeoff_office", {"amount": "5.00", "reason": "NOPE"})
        assert err.value.field == "reason"
        # the built-in's codes are the built-in's
        actions.apply(enc.id, "patient_writeoff_office", COURTESY_5)
        actions.apply(enc.id, "patient_writeoff_office", {"amount": "5.00", "reason": "KIND"})
        assert balances.encounter_balance(enc.id) == 80_00

        aetna = b.payer("Aetna")
        ins, (ich,) = b.encounter(pat, [40_00], payers=[aetna])
        res = actions.apply(ins.id, "insurance_writeoff", {"lines": [{"charge_id": ich.id, "reason": "CO45"}]})
        assert res["report"]["written_off"] == 40_00 and balances.payer_balance(aetna.id) == 0
    finally:
        reset_host(None)


# --- 10. the smaller cases -------------------------------------------------------------------
def test_insurance_write_off_of_a_code_owed_by_primary_and_secondary_writes_off_both(database):
    aetna, cigna = b.payer("Aetna"), b.payer("Cigna")
    pat = b.patient()
    enc, (ch,) = b.encounter(pat, [100_00], payers=[aetna, cigna])
    eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": b.voucher(aetna, 50_00),
                   "lines": [{"charge_id": ch.id, "paid": "50.00",
                              "adjustments": [{"group_code": "PR", "reason_code": "2", "amount": "20.00"}]}]})
    assert (balances.payer_balance(aetna.id), balances.payer_balance(cigna.id)) == (30_00, 20_00)
    (lines,) = [f for f in actions.form(enc.id, "insurance_writeoff") if f["name"] == "lines"]
    (code,) = [f for f in lines["fields"] if f["name"] == "charge_id"]
    assert code["choices"] == [[str(ch.id), "99213 primary 30.00, secondary 20.00"]]

    res = actions.apply(enc.id, "insurance_writeoff", {"lines": [{"charge_id": ch.id, "reason": "CO97"}]})

    assert res["report"]["written_off"] == 50_00
    assert (balances.payer_balance(aetna.id), balances.payer_balance(cigna.id)) == (0, 0)
    assert balances.charge_balance(ch.id) == 0 and balances.patient_balance(pat.id).patient_due == 0
    assert verify() == []


def test_to_medical_needs_a_medical_payer_when_the_primary_is_a_workers_comp_carrier(database):
    carrier, aetna = b.payer("State Fund WC", "workers_comp"), b.payer("Aetna")
    pat = b.patient()
    prov, code = b.provider(), b.code("99213")

    def make():
        made = billing.create_encounter(patient=pat, provider=prov, dos=dt.date(2026, 3, 2),
                                        payers=[(carrier, None)], claim_type="workers_comp")
        billing.add_charge(made, code, fee=75_00)
        return made

    enc = b.audited(make)
    before = written()

    with pytest.raises(Refused, match="workers' comp carrier") as err:
        actions.apply(enc.id, "to_medical", {"confirm": True})

    assert err.value.field == "payer_id" and written() == before
    assert Encounter.get_by_id(enc.id).claim_type == "workers_comp"
    res = actions.apply(enc.id, "to_medical", {"confirm": True, "payer_id": aetna.id})
    assert res["after"]["payers"] == {"primary": "Aetna"} and balances.payer_balance(aetna.id) == 75_00
    assert balances.payer_balance(carrier.id) == 0
    assert verify() == []
