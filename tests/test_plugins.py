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
