"""The public plugin API: plugins import only ``claimdesk.api``; the API version a plugin needs is
checked; hooks go through pluggy (wrappers, tryfirst); the twins are one factory each."""

from __future__ import annotations

import ast
import types
from pathlib import Path

import pytest

from claimdesk.api import (
    API_VERSION, Action, AppliedEvent, ConfirmForm, PaymentMethod, hookimpl,
)
from claimdesk.core.plugins.host import PluginHost
from claimdesk.core.services import actions, balances, views

from tests import builders as b

ROOT = Path(__file__).resolve().parents[1]


def _claimdesk_imports(path: Path, root: Path = ROOT) -> list[str]:
    """Every ``claimdesk`` module a file imports, with its line (relative imports count as the
    plugin package's own and are allowed)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "claimdesk"]
        else:
            continue
        found += [f"{path.relative_to(root)}:{node.lineno} {n}" for n in names
                  if n == "claimdesk" or n.startswith("claimdesk.")]
    return found


def test_plugins_and_the_template_import_only_the_public_api():
    files = sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "plugin_template").rglob("*.py"))
    assert len(files) > 20
    bad = [imp for f in files for imp in _claimdesk_imports(f)
           if not imp.split(" ")[1] in ("claimdesk.api", "claimdesk.api.testing")]
    assert bad == []


def test_the_import_check_catches_a_core_import(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from claimdesk.core.models import Patient\nimport claimdesk.core.ledger\nfrom claimdesk import api\n")
    assert _claimdesk_imports(sneaky, tmp_path) == ["sneaky.py:1 claimdesk.core.models", "sneaky.py:2 claimdesk.core.ledger",
                                          "sneaky.py:3 claimdesk", "sneaky.py:3 claimdesk.api"]


def test_every_builtin_declares_the_api_it_needs():
    host = PluginHost().load_entrypoints()
    assert host.failures == []
    needs = {"action_primary_denied": "1.1", "action_secondary_denied": "1.1",  # SplitView.contractual, ctx.may
             "denial_routes_standard": "1.2",  # DenialRoute
             "writeoff_standard": "1.3",  # WriteoffReason.required_role
             "refund_card": "1.4", "refund_check": "1.4", "refund_eft": "1.4"}  # RefundMethod
    assert {p.name: p.api for p in host.plugins if p.builtin} == {
        p.name: needs.get(p.name, "1.0") for p in host.plugins if p.builtin}
    assert len(host.actions()) == 19


def _plugin(name: str, needs: str | None) -> types.ModuleType:
    mod = types.ModuleType(name)
    if needs is not None:
        mod.CLAIMDESK_API = needs
    mod.claimdesk_payment_methods = hookimpl(lambda: [PaymentMethod(key=f"{name}_pay", label=name)])
    return mod


@pytest.mark.parametrize("needs, loads", [
    ("1.0", True), (None, True), ("1.0.3", True), ("1.1", True), ("1.2", True), ("1.3", True),
    ("1.4", True), ("1.5", False), ("2.0", False), ("0.9", False), ("one", False),
])
def test_a_plugin_needing_another_api_is_refused_with_a_clear_line(needs, loads):
    host = PluginHost().load_entrypoints()
    assert host.register(_plugin("clinic_pay", needs), "clinic_pay") is loads
    report = views.plugins_report(host)
    assert report["api_version"] == API_VERSION
    methods = {m.key for m in host.payment_methods()}
    if loads:
        assert "clinic_pay_pay" in methods and report["failures"] == []
        return
    (failure,) = report["failures"]
    assert failure["name"] == "clinic_pay" and failure["stage"] == "version"
    assert str(needs) in failure["error"] and API_VERSION in failure["error"]
    assert "clinic_pay_pay" not in methods and "cash" in methods  # the rest keeps working


def test_the_cli_lists_a_refused_plugin_and_still_works(cli, monkeypatch):
    host = PluginHost().load_entrypoints()
    host.register(_plugin("future_pay", "1.7"), "future_pay")
    monkeypatch.setattr("claimdesk.core.cli.cmd_system.get_host", lambda settings=None: host)
    code, out, _ = cli("plugins")
    assert code == 0
    assert f"claimdesk plugin API {API_VERSION}" in out
    assert "future_pay (version): needs the claimdesk plugin API 1.7" in out


# --- hooks go through pluggy: wrappers and tryfirst work as pluggy documents ------------------
class Wrapper:
    """A clinic's plugin that renames one built-in action and hides another, with a new-style
    hook wrapper around every other plugin's actions."""

    @hookimpl(wrapper=True)
    def claimdesk_advanced_actions(self):
        offered = yield
        out = []
        for group in offered:
            kept = [a for a in group if a.key != "negotiate_balance"]
            out.append([Action(**{**a.__dict__, "title": "Our self-pay"}) if a.key == "self_pay" else a
                        for a in kept])
        return out


class Listener:
    def __init__(self, name: str, heard: list):
        self.name, self.heard = name, heard

    def claimdesk_action_applied(self, event):
        self.heard.append((self.name, event.action))


def _listener(name: str, heard: list, **opts):
    obj = Listener(name, heard)
    fn = hookimpl(**opts)(lambda event: obj.claimdesk_action_applied(event))
    return types.SimpleNamespace(claimdesk_action_applied=fn, __name__=name)


@pytest.fixture
def host(claimdesk_host):
    """The plugin host of this test (the fixture claimdesk ships for plugin authors)."""
    return claimdesk_host


def test_a_hook_wrapper_changes_what_every_plugin_offers(database, host):
    host.replace.add("clinic_wrapper")  # the clinic's [plugins] replace: it may change a built-in
    assert host.register(Wrapper(), "clinic_wrapper")
    keys = {a.key: a for a in host.actions()}
    assert "negotiate_balance" not in keys and keys["self_pay"].title == "Our self-pay"
    assert len(keys) == 18
    assert host.owner("claimdesk_advanced_actions", "self_pay") == "clinic_wrapper"  # its record now
    assert host.owner("claimdesk_advanced_actions", "add_primary") == "action_add_primary"
    enc, _ = b.encounter(b.patient(), [40_00])
    offers = {o["key"]: o["title"] for o in actions.assess(enc.id)["offers"]}
    assert offers["self_pay"] == "Our self-pay" and "negotiate_balance" not in offers
    (notice,) = [f for f in host.failures if f.name == "clinic_wrapper"]
    assert notice.stage == "replaces" and "'self_pay'" in notice.error and "action_self_pay" in notice.error
    host.unregister("clinic_wrapper")
    assert len(host.actions()) == 19


def test_a_hook_wrapper_cannot_change_a_builtin_without_the_clinics_leave(database, host):
    assert host.register(Wrapper(), "clinic_wrapper")
    keys = {a.key: a for a in host.actions()}
    assert keys["self_pay"].title != "Our self-pay"  # the built-in's record stays
    assert host.owner("claimdesk_advanced_actions", "self_pay") == "action_self_pay"
    assert "negotiate_balance" not in keys  # hiding one is still the wrapper's to do
    (failure,) = [f for f in host.failures if f.name == "clinic_wrapper"]
    assert failure.stage == "describe" and "'self_pay'" in failure.error and "[plugins] replace" in failure.error


def test_tryfirst_and_trylast_order_the_listeners(database, host):
    heard: list = []
    host.register(_listener("late", heard, trylast=True), "late")
    host.register(_listener("plain", heard), "plain")
    host.register(_listener("early", heard, tryfirst=True), "early")
    enc, _ = b.encounter(b.patient(), [40_00])
    actions.apply(enc.id, "self_pay", {"confirm": True})
    assert heard == [("early", "action.self_pay"), ("plain", "action.self_pay"), ("late", "action.self_pay")]


def test_a_listener_that_raises_is_reported_and_the_others_still_hear(database, host):
    heard: list = []

    def boom(event):
        raise RuntimeError("notify service down")

    host.register(types.SimpleNamespace(claimdesk_action_applied=hookimpl(tryfirst=True)(boom), __name__="boom"),
                  "boom")
    host.register(_listener("plain", heard), "plain")
    enc, _ = b.encounter(b.patient(), [40_00])
    res = actions.apply(enc.id, "self_pay", {"confirm": True})
    assert res["after"]["payers"] == {"primary": "Patient"}  # committed whatever the listener did
    assert heard == [("plain", "action.self_pay")]
    (failure,) = [f for f in host.failures if f.name == "boom"]
    assert failure.stage == "event" and "notify service down" in failure.error


def test_a_wrapper_that_raises_is_reported_and_the_hook_works_without_it(host):
    class Broken:
        @hookimpl(wrapper=True)
        def claimdesk_writeoff_reasons(self):
            yield
            raise RuntimeError("wrapper bug")

    host.register(Broken(), "broken_wrapper")
    assert "COURTESY" in {r.code for r in host.writeoff_reasons("patient")}
    (failure,) = [f for f in host.failures if f.name == "broken_wrapper"]
    assert "wrapper bug" in failure.error


def test_an_event_is_the_applied_event_record(database, host):
    got: list = []
    host.register(types.SimpleNamespace(claimdesk_action_applied=hookimpl(lambda event: got.append(event)),
                                        __name__="rec"), "rec")
    enc, _ = b.encounter(b.patient(), [40_00])
    res = actions.apply(enc.id, "self_pay", {"confirm": True})
    (event,) = got
    assert isinstance(event, AppliedEvent) and event.audit_id == res["audit_id"] and event.encounter_id == enc.id


# --- the twins are one factory each --------------------------------------------------------
@pytest.mark.parametrize("module, keys", [
    ("action_bill_denied", ("primary_denied_bill_patient", "secondary_denied_bill_patient")),
    ("action_payer_invalid", ("primary_invalid", "secondary_invalid")),
    ("action_add_payer", ("add_primary", "add_secondary")),
])
def test_each_pair_of_twins_is_built_by_one_factory(module, keys):
    import importlib.metadata as md

    host = PluginHost().load_entrypoints()
    owners = {host.owner("claimdesk_advanced_actions", k) for k in keys}
    assert len(owners) == 2  # still two plugins (two entry points) a clinic can disable one by one
    eps = {ep.name: ep for ep in md.entry_points(group="claimdesk")}
    assert {eps[o].module for o in owners} == {f"claimdesk.plugins.{module}"}
    assert (ROOT / "plugins" / f"{module}.py").read_text().count("Action(") == 1


# --- a plugin written against the API: only ctx and ctx.ops -------------------------------
def _courtesy(ctx, data):
    reason = ctx.writeoff_reason("COURTESY", "patient")
    return {"written_off": data["amount"], "lines": ctx.ops.write_off(ctx.patient_splits(), data["amount"], reason)}


def test_an_api_only_action_is_audited_and_reports_money_by_type(database, host):
    from claimdesk.api import AmountForm, Cents

    host.register(types.SimpleNamespace(__name__="courtesy", CLAIMDESK_API="1.0", claimdesk_advanced_actions=hookimpl(
        lambda: [Action(key="courtesy", title="Courtesy", when="w", steps=("s",),
                        applies=lambda ctx: ctx.patient_balance > 0, apply=_courtesy, schema=AmountForm)])),
                  "courtesy")
    enc, _ = b.encounter(b.patient(), [40_00, 10_00])
    res = actions.apply(enc.id, "courtesy", {"amount": "45.00", "reason": "COURTESY"}, idempotency_key="k-1")
    again = actions.apply(enc.id, "courtesy", {"amount": "45.00", "reason": "COURTESY"}, idempotency_key="k-1")
    assert again["audit_id"] == res["audit_id"]  # a retried submit: the first result, amounts still typed
    assert isinstance(again["report"]["lines"][1]["amount"], Cents) and isinstance(again["before"]["patient_due"], Cents)
    assert "_cents" not in again
    report = res["report"]
    assert report["written_off"] == 45_00 and isinstance(report["written_off"], Cents)
    assert [(ln["amount"], type(ln["amount"])) for ln in report["lines"]] == [(40_00, Cents), (5_00, Cents)]
    assert res["after"]["encounter_total"] == 5_00 and isinstance(res["after"]["patient_due"], Cents)


def test_a_plugin_cannot_book_a_contractual_adjustment(database, host):
    from claimdesk.api import Refused

    def sneaky(ctx, data):
        return {"lines": ctx.ops.write_off(ctx.insurance_splits(), 90_00, "45", kind="contractual")}

    host.register(types.SimpleNamespace(__name__="sneaky", claimdesk_advanced_actions=hookimpl(
        lambda: [Action(key="sneaky", title="Sneaky", when="w", steps=("s",), applies=lambda ctx: True,
                        apply=sneaky, schema=ConfirmForm)])), "sneaky")
    enc, _ = b.encounter(b.patient(), [100_00], payers=[b.payer("Aetna")])
    with pytest.raises(Refused) as err:
        actions.apply(enc.id, "sneaky", {"confirm": True})
    assert err.value.field == "kind"
    assert balances.encounter_balance(enc.id) == 100_00
