"""The benchmark harness works end to end at a tiny size (no timing assertions).

Builds a tiny demo clinic with ``claimdesk demo``, runs every case through the core and
through its hand-written baseline in worker processes, and checks what they did.
"""

from __future__ import annotations

import json

from claimdesk.bench.__main__ import SMOKE, main


def test_smoke_run_measures_every_case_on_sqlite(tmp_path, capsys):
    out = tmp_path / "smoke.json"
    assert main(["--smoke", "--engines", "sqlite", "--tmp", str(tmp_path / "db"), "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    cases = results["engines"]["sqlite"]
    assert set(cases) == {"aging", "autoapply", "credits", "returns", "assess", "lookup", "tui_start", "tui_scroll",
                          "claim_import", "era_import", "claim_export", "clerks_1", "clerks_2",
                          "clerks_2_at_20"}
    clerks = {key: cases.pop(key) for key in ("clerks_1", "clerks_2", "clerks_2_at_20")}
    for key, measured in cases.items():
        assert "error" not in measured, (key, measured.get("error"), measured.get("core", {}).get("stderr"))
        assert len(measured["core"]["samples"]) >= 1 and len(measured["raw"]["samples"]) >= 1
        assert measured["rss_core_mb"] > 0 and measured["rss_raw_mb"] > 0

    # both sides did the same work, to the cent
    assert cases["aging"]["core"]["rows"] == cases["aging"]["raw"]["rows"] > 0
    paid = SMOKE["autoapply_repeat"] * 250_00
    assert cases["autoapply"]["core"]["applied"] == cases["autoapply"]["raw"]["applied"] == paid
    assert len(cases["credits"]["core"]["samples"]) == SMOKE["credits"]
    assert cases["returns"]["core"]["reversing_entries"] > SMOKE["return_credits"]
    assert cases["assess"]["offers_agree"] is True
    assert cases["tui_start"]["core"]["screen"] == "HomeScreen"
    assert cases["tui_scroll"]["rows_shown_by_app"] > 0
    imported = cases["claim_import"]  # the same claims in, to the cent (one does not balance: refused by both)
    assert imported["same_work"] is True
    assert (imported["core"]["imported"], imported["core"]["refused"]) == (SMOKE["import_claims"] - 1, 1)
    # the X12 files are written in the run's folder (--tmp), not over a full run's in bench/results/tmp
    assert sorted(p.name for p in (tmp_path / "db" / "claim-import").iterdir())[:2] == ["core-1.837", "raw-1.837"]
    assert (tmp_path / "db" / "era-import" / "core-1.835").is_file()
    assert imported["core"]["total"] == imported["raw"]["total"] > 0
    era = cases["era_import"]  # every claim posted by both, the same rows written, the books clean
    assert era["same_work"] is True and era["all_posted"] is True and era["verify"] == []
    export = cases["claim_export"]  # the same claims written, byte for byte but the control numbers
    assert export["same_work"] is True and export["same_files"] is True
    assert export["core"]["claims"] == SMOKE["export_claims"] and export["core"]["held_count"] == 0
    assert export["core"]["cob_segments"] > 0  # secondary claims with the primary's result among them

    assert cases["lookup"]["same_rows"] is True  # the same patients found, the same balances
    for procs, measured in ((1, clerks["clerks_1"]), (2, clerks["clerks_2"]), (2, clerks["clerks_2_at_20"])):
        level = measured["core"]  # many clerks, flat out and at a rate: nothing lost
        assert level["procs"] == procs and level["workflows"] == SMOKE["clerk_workflows"] // 2 * procs
        assert level["errors"] == 0 and measured["lost"] == [] and measured["verify"] == []
        assert set(level["by_kind"]) == {"credit", "lookup", "eob", "action"}
        # each clerk did one of each before the clock (its money and audit events in the lost check above)
        assert set(level["first_of_kind"]) == {"credit", "lookup", "eob", "action"}
    paced = clerks["clerks_2_at_20"]["core"]  # 20 workflows offered at 20 a second take about a second
    assert paced["rate"] == SMOKE["clerk_rate"] and paced["seconds"] >= 0.9
    assert "at 20/s offered" in clerks["clerks_2_at_20"]["title"]

    # the table is printed and saved next to the JSON
    printed = capsys.readouterr().out
    assert "auto-apply, patient with 30 open charges" in printed
    assert out.with_suffix(".md").read_text().startswith("| engine | measurement |")


def test_smoke_database_still_verifies_after_both_sides_wrote(tmp_path):
    """The baselines write the same kind of rows as the core: the books still add up."""
    from claimdesk.core import db
    from claimdesk.core.services import verify

    assert main(["--smoke", "--engines", "sqlite", "--cases", "autoapply,credits,returns,claim_import,claim_export",
                 "--tmp", str(tmp_path / "db"), "--out", str(tmp_path / "out.json")]) == 0
    db.connect(str(tmp_path / "db" / "work.db"))
    try:
        problems = verify.verify()
    finally:
        db.close()
    assert [str(p) for p in problems] == []
