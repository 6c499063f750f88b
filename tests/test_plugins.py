"""Plugin discovery through the entry-point group: built-ins, broken plugins, disabling, conflicts,
and the plugin_template installed as a real distribution."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claimdesk.core.errors import PermissionDenied
from claimdesk.core.models import AuditEvent
from claimdesk.core.plugins.host import PluginHost, reset_host
from claimdesk.core.services import actions, balances

from tests import builders as b

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_KEYS = {
    "claimdesk_payment_methods": {"cash", "check", "card", "eft", "money_order"},
    "claimdesk_fee_policies": {"none", "flat", "percent"},
}


def _fake_distribution(site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """A minimal installed distribution on ``site``: dist-info with entry points, plus modules."""
    info = site / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[claimdesk]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
    for mod, source in modules.items():
        (site / f"{mod}.py").write_text(textwrap.dedent(source))


def test_builtins_are_discovered_through_the_entry_point_group():
    host = PluginHost().load_entrypoints()
    names = {p.name: p for p in host.plugins}
    assert host.failures == []
    assert names["pay_cash"].distribution == "claimdesk" and names["pay_cash"].builtin
    assert names["pay_cash"].hooks == ["claimdesk_payment_methods"]
    assert {m.key for m in host.payment_methods()} >= BUILTIN_KEYS["claimdesk_payment_methods"]
    assert {f.key for f in host.fee_policies()} >= BUILTIN_KEYS["claimdesk_fee_policies"]
    assert len(host.actions()) == 19
    assert {"CO29", "CO50", "CO45"} <= {r.code for r in host.writeoff_reasons("insurance")}
    assert {"COURTESY", "BAD_DEBT"} <= {r.code for r in host.writeoff_reasons("patient")}


def test_pluggy_is_shown_only_a_plugins_hook_functions_and_finds_every_one():
    # (what pluggy walks when registering: the hooks, not every attribute of the wrapper)
    host = PluginHost().load_entrypoints()
    registered = host.pm.get_plugins()
    assert len(registered) == len(host.plugins) > 20
    for obj in registered:
        called_by = sorted(caller.name for caller in host.pm.get_hookcallers(obj))
        assert sorted(dir(obj)) == called_by and called_by
        assert all(name.startswith("claimdesk_") for name in called_by)


def test_broken_plugins_are_reported_and_the_rest_keeps_working(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "clinic-broken", {
        "broken_import": "clinic_broken_import",
        "unknown_hook": "clinic_unknown_hook",
        "bad_records": "clinic_bad_records",
    }, {
        "clinic_broken_import": "raise RuntimeError('boom while importing')\n",
        "clinic_unknown_hook": """
            from claimdesk.api import hookimpl

            @hookimpl
            def claimdesk_no_such_hook():
                return []
        """,
        "clinic_bad_records": """
            from claimdesk.api import hookimpl

            @hookimpl
            def claimdesk_payment_methods():
                return ["not a PaymentMethod"]
        """,
    })
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost().load_entrypoints()
    failures = {f.name: f for f in host.failures}
    assert failures["broken_import"].stage == "import"
    assert "boom while importing" in failures["broken_import"].error
    assert failures["unknown_hook"].stage == "register"
    assert "claimdesk_no_such_hook" in failures["unknown_hook"].error
    methods = {m.key for m in host.payment_methods()}  # collecting reports the malformed one
    assert "expected PaymentMethod" in {f.name: f for f in host.failures}["bad_records"].error
    assert methods >= BUILTIN_KEYS["claimdesk_payment_methods"]
    assert len(host.actions()) == 19


def test_a_plugin_disabled_by_config_is_skipped():
    host = PluginHost(disabled={"pay_card"}).load_entrypoints()
    assert "pay_card" in host.skipped
    assert "card" not in {m.key for m in host.payment_methods()}


def test_a_duplicate_key_is_a_failure_naming_both_plugins():
    import types

    from claimdesk.api import PaymentMethod, hookimpl

    mod = types.ModuleType("clinic_cash")
    mod.claimdesk_payment_methods = hookimpl(lambda: [PaymentMethod(key="cash", label="Our cash")])
    host = PluginHost().load_entrypoints()
    host.register(mod, "clinic_cash")
    assert host.get("claimdesk_payment_methods", "cash").label == "Cash"
    (failure,) = [f for f in host.failures if f.name == "clinic_cash"]
    assert "'cash'" in failure.error and "pay_cash" in failure.error


def test_config_writeoff_reasons_join_and_bad_ones_are_reported():
    host = PluginHost(extra_writeoff_reasons=[
        {"code": "CHARITY", "label": "Charity care", "kind": "patient"},
        {"code": "COURTESY", "label": "dup", "kind": "patient"},
        {"code": "ODD", "label": "odd", "kind": "insurance", "group_code": "XX"},
    ]).load_entrypoints()
    assert "CHARITY" in {r.code for r in host.writeoff_reasons("patient")}
    errors = " | ".join(f.error for f in host.failures if f.name == "config")
    assert "COURTESY" in errors and "writeoff_standard" in errors and "XX" in errors


@pytest.fixture(scope="module")
def template_site(tmp_path_factory) -> Path:
    """plugin_template built as a wheel and installed into a private site dir."""
    work = tmp_path_factory.mktemp("template")
    src = work / "src"
    shutil.copytree(ROOT / "plugin_template", src, ignore=shutil.ignore_patterns("*.egg-info", "build"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(src)],
                   check=True, capture_output=True)
    (wheel,) = (work / "dist").glob("claimdesk_prompt_pay-*.whl")
    site = work / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True)
    return site


def test_plugin_template_installed_is_discovered_offered_applied_and_audited(database, template_site, monkeypatch):
    monkeypatch.syspath_prepend(str(template_site))
    host = PluginHost().load_entrypoints()
    reset_host(host)
    try:
        info = {p.name: p for p in host.plugins}["prompt_pay"]
        assert (info.distribution, info.version, info.builtin) == ("claimdesk-prompt-pay", "0.1.0", False)
        pat = b.patient()
        enc, _ = b.encounter(pat, [120_00, 80_00])
        offers = [o["key"] for o in actions.assess(enc.id)["offers"]]
        assert "prompt_pay_discount" in offers
        result = actions.apply(enc.id, "prompt_pay_discount", {"percent": "10", "confirm": True})
        assert balances.encounter_balance(enc.id) == 180_00
        assert AuditEvent.get_by_id(result["audit_id"]).action == "action.prompt_pay_discount"
    finally:
        reset_host(None)


def test_plugin_template_own_tests_pass_with_the_core_fixtures(template_site, tmp_path):
    tests = tmp_path / "tests"
    shutil.copytree(ROOT / "plugin_template" / "tests", tests)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {**os.environ, "PYTHONPATH": str(template_site)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_plugin_template_discounts_money_the_placeholder_primary_owes(database, template_site, monkeypatch):
    """What the patient owes is counted by payer, not rank: money owed by the placeholder primary
    "Patient" (kept at rank primary by data written before the rule) is discounted in full from
    the splits it was computed from (the template used to compute from all of it and write off
    only rank-"patient" splits: refused, or short)."""
    monkeypatch.syspath_prepend(str(template_site))
    reset_host(PluginHost().load_entrypoints())
    try:
        enc, _ = b.owed_at_placeholder_primary(60_00)
        result = actions.apply(enc.id, "prompt_pay_discount", {"percent": "10", "confirm": True})
        assert result["report"]["discount"] == 6_00
        assert [(ln["rank"], ln["amount"]) for ln in result["report"]["lines"]] == [("primary", 6_00)]
        assert balances.encounter_balance(enc.id) == 54_00
    finally:
        reset_host(None)


# --- built-ins win; replacing one is the clinic's explicit, loud choice ---------------------------
CLAIMANT = """
    from claimdesk.api import Action, ConfirmForm, FeePolicy, PaymentMethod, WriteoffReason, hookimpl

    CLAIMDESK_API = "1.3"

    def _apply(ctx, data):
        return {"lines": ctx.ops.write_off(ctx.patient_splits(), 10_00, "BAD_DEBT", kind="bad_debt")}

    @hookimpl
    def claimdesk_advanced_actions():
        return [Action(key="patient_writeoff_bad_debt", title="Our bad debt", when="", steps=(),
                       applies=lambda ctx: ctx.patient_balance > 0, apply=_apply, schema=ConfirmForm,
                       required_role="clerk")]

    @hookimpl
    def claimdesk_payment_methods():
        return [PaymentMethod(key="cash", label="Our cash")]

    @hookimpl
    def claimdesk_fee_policies():
        return [FeePolicy(key="flat", label="Our flat fee", fee_cents=lambda returned, data: 99_00)]

    @hookimpl
    def claimdesk_writeoff_reasons():
        return [WriteoffReason(code="BAD_DEBT", label="Our bad debt", kind="patient", required_role="clerk")]
"""


@pytest.fixture
def claimant(tmp_path, monkeypatch):
    """A clinic's package, ``aaa_clinic`` (registered before every built-in by name), that gives
    an action key, a payment method, a fee policy and a write-off reason the built-ins use."""
    _fake_distribution(tmp_path, "aaa-clinic", {"aaa_clinic": "aaa_clinic"}, {"aaa_clinic": CLAIMANT})
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "aaa_clinic"
    sys.modules.pop("aaa_clinic", None)


def test_a_plugin_cannot_replace_a_builtin_and_the_builtin_is_not_the_failed_one(claimant):
    host = PluginHost().load_entrypoints()
    assert host.get("claimdesk_payment_methods", "cash").label == "Cash"
    assert host.get("claimdesk_fee_policies", "flat").label != "Our flat fee"
    assert host.get("claimdesk_writeoff_reasons", "BAD_DEBT").label == "Bad debt (uncollectible)"
    assert host.get("claimdesk_advanced_actions", "patient_writeoff_bad_debt").title == "Patient Write-Off, bad debt"
    assert host.owner("claimdesk_payment_methods", "cash") == "pay_cash"
    failed = {f.name for f in host.failures}
    assert failed == {"aaa_clinic"}  # the plugin's contributions are refused, not the built-ins'
    errors = [f.error for f in host.failures]
    assert len(errors) == 4 and all("[plugins] replace" in e and "aaa_clinic" in e for e in errors)
    assert any("'cash'" in e and "pay_cash" in e for e in errors)
    # a built-in's code defined again is still the built-in's to use (not ambiguous)
    assert not host.ambiguous("claimdesk_writeoff_reasons", "BAD_DEBT") and host.replacements() == []


def test_the_clinic_may_let_a_plugin_replace_builtins_loudly_and_never_with_a_lesser_role(claimant, database):
    host = PluginHost(replace=[claimant]).load_entrypoints()
    reset_host(host)
    try:
        assert host.get("claimdesk_payment_methods", "cash").label == "Our cash"
        assert host.get("claimdesk_fee_policies", "flat").label == "Our flat fee"
        assert host.replaced("claimdesk_payment_methods", "cash") == "pay_cash"
        notices = host.replacements()
        assert len(notices) == 4 and all(n.name == claimant and n.stage == "replaces" for n in notices)
        assert all(n.error.startswith("REPLACES the built-in") for n in notices)
        # a replacement needs at least the built-in's role: bad debt stays a supervisor's
        action = host.get("claimdesk_advanced_actions", "patient_writeoff_bad_debt")
        reason = host.get("claimdesk_writeoff_reasons", "BAD_DEBT")
        assert (action.title, action.required_role) == ("Our bad debt", "supervisor")
        assert (reason.label, reason.required_role) == ("Our bad debt", "supervisor")
        assert any("still needs a supervisor" in n.error for n in notices)
        enc, _ = b.encounter(b.patient(), [80_00])
        with pytest.raises(PermissionDenied):
            actions.apply(enc.id, "patient_writeoff_bad_debt", {"confirm": True})
        with pytest.raises(PermissionDenied) as err:
            actions.apply(enc.id, "patient_writeoff_office", {"amount": "5.00", "reason": "BAD_DEBT"})
        assert err.value.field == "reason"
        assert balances.encounter_balance(enc.id) == 80_00
    finally:
        reset_host(None)


def test_claimdesk_plugins_and_the_plugins_screen_say_a_builtin_is_replaced(claimant, cli, tmp_path):
    from claimdesk.tui.screens.plugins import failures_text

    (tmp_path / "no-config.toml").write_text(f'[plugins]\ndisabled = []\nreplace = ["{claimant}"]\n')
    reset_host(None)
    try:
        out = cli.ok("plugins")
        assert "REPLACED BUILT-INS (the config file's [plugins] replace):" in out and "\nfailures:" not in out
        assert "aaa_clinic: REPLACES the built-in payment method 'cash' of plugin 'pay_cash'" in out
        report = cli.json("plugins")
        assert report["failures"] == [] and len(report["replaced"]) == 4
        text = failures_text(report).plain
        assert "BUILT-IN(S) REPLACED" in text and "REPLACES the built-in write-off reason 'BAD_DEBT'" in text
        assert "No plugin failed." in text
        (tmp_path / "no-config.toml").write_text('[plugins]\nreplace = "aaa_clinic"\n')
        reset_host(None)
        code, _, err = cli("plugins")
        assert code == 2 and "[plugins] replace" in err and "list of plugin names" in err
    finally:
        reset_host(None)
