"""CARC/RARC labels (shipped, and a clinic's list named in the config file) and denial routing
(the claimdesk_denial_routes hook, the built-in standard routes, [[era.routes]] in the config)."""

from __future__ import annotations

import types

import pytest

from claimdesk.api import DenialRoute, hookimpl
from claimdesk.core import config
from claimdesk.core.plugins import host as hostmod
from claimdesk.core.plugins.host import CARC_PATTERN, PluginHost, get_host, reset_host
from claimdesk.core.services import denial_routing, reason_codes, views
from tests.conftest import empty_config


@pytest.fixture(autouse=True)
def fresh_tables():
    """Labels read afresh in each test (the tables are cached per config file)."""
    reason_codes.reload()
    yield
    reason_codes.reload()


@pytest.fixture
def use_host():
    """Make a host the process-wide one for one test; the previous one is put back afterwards."""
    before = hostmod._host

    def use(host: PluginHost) -> PluginHost:
        reset_host(host)
        return host

    yield use
    reset_host(before)


def _settings(tmp_path, monkeypatch, text: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    return config.load(db=str(tmp_path / "x.db"), user="tester")


def _routes_plugin(*routes: DenialRoute, name: str = "clinic_routes") -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.CLAIMDESK_API = "1.2"
    mod.claimdesk_denial_routes = hookimpl(lambda: list(routes))
    return mod


# --- labels --------------------------------------------------------------------------------------
def test_shipped_tables_hold_the_common_codes_with_short_labels():
    carc, rarc = reason_codes.shipped("CARC"), reason_codes.shipped("RARC")
    assert len(carc) >= 120 and len(rarc) >= 60
    assert {"1", "16", "45", "97", "197", "253", "B7", "P1"} <= set(carc)
    assert {"MA01", "MA130", "M15", "N130", "N781"} <= set(rarc)
    assert all(CARC_PATTERN.match(c) for c in carc)
    assert all(0 < len(label) <= 60 for label in [*carc.values(), *rarc.values()])


def test_labels_and_descriptions(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    assert reason_codes.carc_label("45") == "Charge exceeds fee schedule/maximum allowable"
    assert reason_codes.carc_label(" b7 ") == reason_codes.carc_label("B7") != ""
    assert reason_codes.carc_label("999") == "" and reason_codes.rarc_label("N9999") == ""
    assert reason_codes.rarc_label("N130").startswith("See plan benefit")
    assert reason_codes.describe("CO", "45") == "CO-45 Charge exceeds fee schedule/maximum allowable"
    assert reason_codes.describe("pr", "27") == "PR-27 Expenses incurred after coverage terminated"
    assert reason_codes.describe("CO", "999") == "CO-999"
    assert reason_codes.describe("", "29") == "29 Time limit for filing has expired"
    assert reason_codes.describe_remark("ma130").startswith("MA130 Unprocessable")
    assert reason_codes.describe_remark("N9999") == "N9999"


def test_a_clinic_list_from_the_config_file_wins_and_adds(tmp_path, monkeypatch):
    (tmp_path / "codes.csv").write_text("kind,code,label\n"
                                        "CARC,45,Over our contracted rate\n"
                                        "\n"
                                        "rarc,n999,A remark only our payers use\n")
    settings = _settings(tmp_path, monkeypatch, '[era]\nreason_codes = "codes.csv"\n')
    assert settings.reason_codes_file == tmp_path / "codes.csv"
    assert reason_codes.describe("CO", "45") == "CO-45 Over our contracted rate"
    assert reason_codes.rarc_label("N999") == "A remark only our payers use"
    assert reason_codes.carc_label("16") == "Claim lacks information or has billing errors"


@pytest.mark.parametrize("csv_text, says", [
    ("kind,code,label\nCARC,45,Fine\nXARC,16,Bad kind\n", "line 3 of .*kind must be CARC or RARC"),
    ("CARC,4500,Too long a code\n", "line 1 .*'4500' is not a CARC code"),
    ("RARC,45,Not a remark\n", "line 1 .*'45' is not a RARC code"),
    ("CARC,45\n", "line 1 .*expected 3 columns"),
    ("CARC,45,\n", "line 1 .*CARC 45 has no label"),
    ("CARC,45,One\nCARC,45,Two\n", "line 2 .*CARC 45 is already on line 1"),
])
def test_a_bad_clinic_list_is_refused_naming_the_key_and_line(tmp_path, monkeypatch, csv_text, says):
    (tmp_path / "codes.csv").write_text(csv_text)
    with pytest.raises(config.ConfigError, match=says) as exc:
        _settings(tmp_path, monkeypatch, '[era]\nreason_codes = "codes.csv"\n')
    assert "[era] reason_codes" in str(exc.value)


@pytest.mark.parametrize("toml, says", [
    ('[era]\nreason_codes = "missing.csv"\n', "cannot read .*missing.csv"),
    ("[era]\nreason_codes = 5\n", "must be a string"),
    ('[era]\nreason_codes = ""\n', "must name a CSV file"),
    ('[era]\nroutes = "CO-16"\n', r"must be rows written \[\[era.routes\]\]"),
    ('era = 1\n', "must be a table"),
])
def test_bad_era_keys_are_refused_naming_the_key(tmp_path, monkeypatch, toml, says):
    with pytest.raises(config.ConfigError, match=says) as exc:
        _settings(tmp_path, monkeypatch, toml)
    assert "[era]" in str(exc.value)


# --- denial routing ------------------------------------------------------------------------------
def test_standard_routes(database, use_host):
    host = use_host(PluginHost().load_entrypoints())
    assert host.failures == []
    assert host.owner("claimdesk_denial_routes", "CO-16") == "denial_routes_standard"
    assert denial_routing.route([("CO", "16")]) == "review"
    assert denial_routing.route([("CO", "197")]) == denial_routing.route([("OA", "22")]) == "review"
    assert denial_routing.route([("PR", "27")]) == denial_routing.route([("CO", "27")]) == "review"
    assert denial_routing.route([("CO", "19")]) == "workers_comp"
    assert denial_routing.route([("CO", "29")]) == denial_routing.route([("CO", "50")]) == "denied"
    assert denial_routing.route([("CO", "45"), ("PR", "1")]) == "denied"  # no route: denied
    assert denial_routing.route([]) == "denied"
    # the most specific rule wins, whichever adjustment it is on
    assert denial_routing.route([("CO", "50"), ("PR", "27")]) == "denied"
    assert denial_routing.route([("CO", "45"), ("PR", "27")]) == "review"


def test_a_plugin_adds_routes_and_a_duplicate_is_reported_keeping_the_first(database, use_host):
    host = use_host(PluginHost().load_entrypoints())
    assert host.register(_routes_plugin(
        DenialRoute("CO", "admin", "Any other contractual denial"),
        DenialRoute("PR-1", "patient_balance"),
        DenialRoute("CO-16", "admin", "ours"),
        DenialRoute("OA-18", "collections"),
    ), "clinic_routes")
    route = denial_routing.route
    assert route([("CO", "45")]) == "admin"  # the group rule
    assert route([("CO", "45"), ("OA", "22")]) == "review"  # a reason rule beats a group rule
    assert route([("CO", "16"), ("PR", "1")]) == "review"  # equally specific: the first adjustment's
    assert route([("PR", "1"), ("CO", "16")]) == "patient_balance"
    assert denial_routing.matching_route([("PR", "1")]) == DenialRoute("PR-1", "patient_balance")
    # a queue the database does not have: denied
    assert route([("OA", "18")]) == "denied"
    assert route([("OA", "18")], queues={"collections"}) == "collections"
    # CO-16 was the standard plugin's first: kept, the clash named
    assert route([("CO", "16")]) == "review"
    assert host.conflicts("claimdesk_denial_routes", "CO-16") == ["denial_routes_standard", "clinic_routes"]
    (failure,) = [f for f in host.failures if f.name == "clinic_routes"]
    assert "'CO-16'" in failure.error and "denial_routes_standard" in failure.error
    report = views.plugins_report(host)
    adds = {p["name"]: p["contributes"] for p in report["plugins"]}
    assert "denial route CO-16" in adds["denial_routes_standard"] and "denial route CO" in adds["clinic_routes"]


def test_a_malformed_route_is_the_plugins_failure():
    host = PluginHost().load_entrypoints()
    host.register(_routes_plugin(DenialRoute("CO-16X", "review")), "clinic_bad_routes")
    assert "CO-16" in {r.code for r in host.denial_routes()}
    (failure,) = [f for f in host.failures if f.name == "clinic_bad_routes"]
    assert "code must be a group and reason" in failure.error


def test_config_routes_join_and_bad_ones_are_reported(tmp_path, monkeypatch, database, use_host):
    settings = _settings(tmp_path, monkeypatch, """
        [[era.routes]]
        code = "PR-27"
        queue = "patient_balance"
        label = "Coverage ended: bill the patient"

        [[era.routes]]
        code = "CO-16"
        queue = "admin"

        [[era.routes]]
        code = "XX-1"
        queue = "review"

        [[era.routes]]
        code = "CO-4"
        queue = "Front Desk"

        [[era.routes]]
        code = "CO-5"
        queu = "review"
        """.replace("\n        ", "\n"))
    assert settings.extra_denial_routes[0] == {"code": "PR-27", "queue": "patient_balance",
                                               "label": "Coverage ended: bill the patient"}
    reset_host(None)
    host = use_host(get_host(settings))
    assert denial_routing.route([("PR", "27")]) == "patient_balance"  # beats the standard "27"
    assert denial_routing.route([("CO", "27")]) == "review"
    assert denial_routing.route([("CO", "16")]) == "review"  # the standard route was first
    assert host.owner("claimdesk_denial_routes", "PR-27") == "config"
    errors = " | ".join(f.error for f in host.failures if f.name == "config")
    assert "'CO-16'" in errors and "denial_routes_standard" in errors and "the config file" in errors
    assert "'XX-1': code must be a group and reason" in errors
    assert "queue must be a work queue key" in errors and "'Front Desk'" in errors
    assert "unexpected keyword argument 'queu'" in errors
