"""``python -m claimdesk.bench``: build the scaled database, run every case on SQLite and
PostgreSQL next to its hand-written baseline, print the table, save ``bench/results/*.json``.

Options: ``--smoke`` (tiny sizes, SQLite only unless ``--engines`` says otherwise), ``--engines sqlite,postgresql``,
``--cases aging,autoapply,...``, ``--scale S``
(``claimdesk demo --scale``; 390 is about a million charges), ``--tmp DIR`` and ``--out FILE``. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from claimdesk.bench import dataset, report
from claimdesk.bench.common import settle

CASES = ("aging", "autoapply", "credits", "returns", "assess", "lookup", "tui", "claim_import", "era_import",
         "claim_export", "clerks")
#: The cases run again on the bigger clinic (``--big-scale``), each held to 2x its figure at ``--scale``.
SCALE_CASES = ("aging", "lookup", "autoapply", "returns")

FULL = {"scale": 390.0, "aging_repeat": 5, "autoapply_charges": 1000,
        "autoapply_repeat": 30, "credits": 10_000, "return_credits": 5000, "return_repeat": 3,
        "assess_count": 60, "lookup_count": 60, "start_repeat": 5, "scroll_keys": 40, "scroll_rows": 100_000,
        "import_claims": 10_000, "import_repeat": 3, "era_claims": 10_000, "era_repeat": 3,
        "export_claims": 10_000, "export_repeat": 3, "clerk_levels": [1, 2, 4, 8, 16, 32],
        "clerk_workflows": 2400, "clerk_paced": [8, 32], "clerk_rate": 300, "big_scale": 1950.0}
SMOKE = {"scale": 0.1, "aging_repeat": 2, "autoapply_charges": 30, "autoapply_repeat": 3,
         "credits": 10, "return_credits": 5, "return_repeat": 1, "assess_count": 5, "lookup_count": 5, "start_repeat": 1,
         "scroll_keys": 3, "scroll_rows": 50, "import_claims": 40, "import_repeat": 1,
         "era_claims": 40, "era_repeat": 1, "export_claims": 40, "export_repeat": 1,
         "clerk_levels": [1, 2], "clerk_workflows": 20, "clerk_paced": [2], "clerk_rate": 20}
#: The bench's PostgreSQL server, sized for the machine as a clinic's server would be (the
#: defaults, 128 MB of shared buffers, are for a small machine; the 1M-charge clinic is 5 GB,
#: the bigger one 24 GB). Durability is off as on the test server (fsync, synchronous commit).
PG_SETTINGS = {"shared_buffers": "4GB", "effective_cache_size": "16GB", "max_wal_size": "8GB",
               "work_mem": "32MB", "maintenance_work_mem": "512MB"}
#: Time limit of one worker process (one phase of one case), seconds.
STEP_LIMIT = 3600


def worker(case: str, phase: str, url: str, args: dict, tmp: Path) -> dict:
    """Run one phase in a fresh interpreter; its result and peak RSS (or an error)."""
    arg_file = tmp / f"args-{case}-{phase}.json"
    arg_file.write_text(json.dumps(args))
    try:
        proc = subprocess.run([sys.executable, "-m", "claimdesk.bench.worker", case, phase, url, str(tmp),
                               f"@{arg_file}"],
                              capture_output=True, text=True, timeout=STEP_LIMIT)
    except subprocess.TimeoutExpired:
        return {"error": f"{case}.{phase} took longer than {STEP_LIMIT} s"}
    if proc.returncode != 0:
        return {"error": f"{case}.{phase}: " + (proc.stderr.strip().splitlines() or ["failed"])[-1],
                "stderr": proc.stderr[-4000:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _summary(title, core_out, raw_out, *, target: str, check, lower_is_better=True, display=None) -> dict:
    """Median of each side, ratio, target met?"""
    if "error" in core_out or "error" in raw_out:
        return {"title": title, "error": core_out.get("error") or raw_out.get("error"),
                "core": core_out, "raw": raw_out}
    mc = statistics.median(core_out["result"]["samples"])
    mr = statistics.median(raw_out["result"]["samples"])
    out = {"title": title, "median_core": mc, "median_raw": mr, "ratio": mc / mr if mr else None,
           "target": target, "rss_core_mb": core_out["peak_rss_mb"], "rss_raw_mb": raw_out["peak_rss_mb"],
           "core": core_out["result"], "raw": raw_out["result"]}
    for side, key in ((core_out, "rss_core_mb"), (raw_out, "rss_raw_mb")):
        if "child_peak_rss_mb" in side["result"]:  # the TUI runs in a child of the worker
            out[key] = side["result"]["child_peak_rss_mb"]
    out["met"] = check(out)
    if display:
        out.update(display(out))
    return out


def _sides(out: dict, *keys: str) -> list[dict]:
    """A step that measured both sides in one worker (``result`` keyed by side), as one step
    result per side (an error goes to each)."""
    if "error" in out:
        return [out for _ in keys]
    return [{**out, "result": out["result"][key]} for key in keys]


def _prepared(res: dict, key: str, title: str, prep: dict) -> dict | None:
    """A case's prepare phase: its result, or None with the failure recorded as ``res[key]``."""
    if "error" in prep:
        res[key] = {"title": title, "error": prep["error"]}
        return None
    return prep["result"]


def run_engine(engine: str, url: str, sizes: dict, cases: list[str], tmp: Path, log) -> dict:
    """Every selected case on one database URL."""
    res: dict = {}
    sqlite = engine == "sqlite"

    def step(case, phase, **args):
        waited = settle(url)  # (PostgreSQL: a quiet server, whatever the last phase left it to do)
        log(f"[{engine}] {case}: {phase}" + (f" (after {waited:.1f} s settling)" if waited >= 1 else ""))
        return worker(case, phase, url, args, tmp)

    if "aging" in cases:
        n = sizes["aging_repeat"]
        c, r = step("aging", "core", repeat=n + 1), step("aging", "raw", repeat=n + 1)
        for side in (c, r):  # the first run warms the cache: not counted
            if "result" in side:
                side["result"]["warmup"] = side["result"]["samples"].pop(0)
        res["aging"] = _summary(
            f"aging recalculation ({sizes['charges_built']:,} charges)", c, r,
            target="≤ 3 s on SQLite, ≤ 1.5x baseline" if sqlite else "≤ 1.5x baseline",
            check=lambda o: o["ratio"] <= 1.5 and (o["median_core"] <= 3.0 or not sqlite))
    if "autoapply" in cases:
        prep = _prepared(res, "autoapply", "auto-apply", step("autoapply", "prepare", charges=sizes["autoapply_charges"], repeat=sizes["autoapply_repeat"]))
        if prep is not None:
            p = prep
            res["autoapply"] = _summary(
                f"auto-apply, patient with {sizes['autoapply_charges']:,} open charges", 
                step("autoapply", "core", **p["core"], repeat=sizes["autoapply_repeat"]),
                step("autoapply", "raw", **p["raw"], repeat=sizes["autoapply_repeat"]),
                target="≤ 20 ms", check=lambda o: o["median_core"] <= 0.020)
    if "credits" in cases:
        prep = _prepared(res, "credits", "credits batch", step("credits", "prepare", credits=sizes["credits"]))
        if prep is not None:
            p = prep
            res["credits"] = _summary(
                f"posting {sizes['credits']:,} credits in a batch (per credit)",
                step("credits", "core", **p["core"]), step("credits", "raw", **p["raw"]),
                target="≥ 1,000 credits/s on SQLite" if sqlite else "(SQLite target only)",
                check=lambda o: (o["core"]["per_second"] >= 1000) if sqlite else None,
                display=lambda o: {"display_core": f"{o['core']['per_second']:,.0f}/s "
                                                   f"({o['median_core'] * 1000:.1f} ms each)",
                                   "display_raw": f"{o['raw']['per_second']:,.0f}/s "
                                                  f"({o['median_raw'] * 1000:.1f} ms each)",
                                   "distinct_patients": p["distinct_patients"]})
    if "returns" in cases:
        prep = _prepared(res, "returns", "returned check", step("returns", "prepare", credits=sizes["return_credits"], repeat=sizes["return_repeat"]))
        if prep is not None:
            p = prep
            res["returns"] = _summary(
                f"returning a check that funded {sizes['return_credits']:,} credits",
                step("returns", "core", vouchers=p["core"]), step("returns", "raw", vouchers=p["raw"]),
                target="≤ 2 s", check=lambda o: o["median_core"] <= 2.0)
    if "assess" in cases:
        prep = _prepared(res, "assess", "assess", step("assess", "prepare", count=sizes["assess_count"]))
        if prep is not None:
            ids = prep["ids"]
            c, r = step("assess", "core", ids=ids), step("assess", "raw", ids=ids)
            res["assess"] = _summary(
                "encounter lookup + assess all action plugins", c, r, target="≤ 30 ms",
                check=lambda o: o["median_core"] <= 0.030,
                display=lambda o: {"offers_agree": o["core"]["offers"] == o["raw"]["offers"]})
    if "lookup" in cases:
        prep = _prepared(res, "lookup", "patient lookup", step("lookup", "prepare", count=sizes["lookup_count"]))
        if prep is not None:
            picks = prep["picks"]
            res["lookup"] = _summary(
                "patient lookup: by account number, by name (50 rows), summary", step("lookup", "core", picks=picks),
                step("lookup", "raw", picks=picks), target="≤ 30 ms",
                check=lambda o: o["median_core"] <= 0.030,
                display=lambda o: {"same_rows": o["core"]["seen"] == o["raw"]["seen"]})
    if "tui" in cases:
        c, r = _sides(step("tui", "start", modes=["app", "bare"], repeat=sizes["start_repeat"]), "app", "bare")
        res["tui_start"] = _summary("app cold start to first screen (all plugins)", c, r, target="≤ 0.5 s",
                                    check=lambda o: o["median_core"] <= 0.5)
        prep = step("tui", "prepare", rows=sizes["scroll_rows"])
        c = step("tui", "scroll", mode="app", keys=sizes["scroll_keys"], rows=sizes["scroll_rows"])
        r = step("tui", "scroll", mode="bare", keys=sizes["scroll_keys"], rows=sizes["scroll_rows"])
        res["tui_scroll"] = _summary(
            f"scrolling a {sizes['scroll_rows']:,}-row list (per key)", c, r, target="≤ 50 ms per key",
            check=lambda o: o["median_core"] <= 0.050,
            display=lambda o: {"queued": prep.get("result", {}).get("queued"),
                               "rows_shown_by_app": o["core"]["rows_shown"]})
    if "claim_import" in cases:
        n = sizes["import_claims"]
        prep = _prepared(res, "claim_import", "837P import", step("claim_import", "prepare", claims=n, repeat=sizes["import_repeat"]))
        if prep is not None:
            p = prep
            res["claim_import"] = _summary(
                f"importing an 837P file of {n:,} claims ({p['bytes'] / 2**20:.1f} MB)",
                step("claim_import", "core", files=p["core"]), step("claim_import", "raw", files=p["raw"]),
                target="≤ 5 s",  # (issue 21: on both engines)
                check=lambda o: o["median_core"] <= 5.0,
                display=lambda o: {"same_work": (o["core"]["imported"], o["core"]["total"])
                                   == (o["raw"]["imported"], o["raw"]["total"])})
    if "era_import" in cases:
        n = sizes["era_claims"]
        prep = _prepared(res, "era_import", "835 import", step("era_import", "prepare", claims=n, repeat=sizes["era_repeat"]))
        if prep is not None:
            p = prep
            c = step("era_import", "core", files=p["core"])
            r = step("era_import", "raw", files=p["raw"])
            verified = step("era_import", "check")
            res["era_import"] = _summary(
                f"posting an 835 file of {n:,} claims ({p['payments']} payments, {p['bytes'] / 2**20:.1f} MB)", c, r,
                target="≤ 5 s, ≤ 2x baseline",
                check=lambda o: o["ratio"] <= 2.0 and o["median_core"] <= 5.0,
                display=lambda o: {
                    "all_posted": o["core"]["posted"] == o["raw"]["posted"] == n and not o["core"]["exceptions"],
                    "same_work": o["core"]["written"] == o["raw"]["written"],
                    "verify": verified.get("result", verified).get("problems", verified.get("error")),
                    "setup_seconds": p["setup_seconds"]})
    if "claim_export" in cases:
        n = sizes["export_claims"]
        folder = str(tmp / f"claim-export-{engine}")  # the config and the files written
        prep = _prepared(res, "claim_export", "837P export", step("claim_export", "prepare", claims=n, folder=folder))
        if prep is not None:
            p = prep
            c = step("claim_export", "core", ids=p["ids"], repeat=sizes["export_repeat"], folder=folder)
            r = step("claim_export", "raw", ids=p["ids"], repeat=sizes["export_repeat"], folder=folder)
            res["claim_export"] = _summary(
                f"exporting {p['claims']:,} queued claims as 837P ({p['secondary']:,} with the primary's result)", c, r,
                target="≤ 2 s",
                check=lambda o: o["median_core"] <= 2.0,
                display=lambda o: {
                    "same_files": [f["digest"] for f in o["core"]["files"]]
                    == [f["digest"] for f in o["raw"]["files"]],
                    "same_work": o["core"]["claims"] == p["claims"] and all(
                        o["core"][k] == o["raw"][k] for k in ("claims", "segments", "total", "cob_segments")),
                    "setup_seconds": p["setup_seconds"]})
    if "clerks" in cases:
        res.update(_clerks(step, sizes, tmp / f"clerks-{engine}", sqlite))
    return res


#: The many-clerks target (issue 21) on PostgreSQL, at these numbers of clerks: flat out, at
#: least ``per_second``; at that rate offered, p99 latency within ``p99`` and the rate kept up
#: (``kept``: the share of the offered rate done).
CLERK_TARGET = {"per_second": 300, "p99": 0.150, "at": (8, 32), "kept": 0.95}


def _clerk_row(lv: dict, sqlite: bool, verified: list) -> tuple[str, dict]:
    """One level of the many-clerks case as a result row: its key and the row."""
    procs, rate = lv["procs"], lv.get("rate")
    targeted = procs in CLERK_TARGET["at"] and not sqlite  # (SQLite: where it saturates, no target)
    sound = not lv["lost"] and not lv["errors"] and not verified
    clerks = f"{procs} clerk{'s' if procs > 1 else ''}"
    if rate:
        title = f"{clerks} at {rate:,.0f}/s offered: {lv['workflows']:,} workflows (mix), latency from schedule"
        target = f"keeps up, p99 ≤ {CLERK_TARGET['p99'] * 1000:.0f} ms, nothing lost"
        met = lv["per_second"] >= CLERK_TARGET["kept"] * rate and lv["p99"] <= CLERK_TARGET["p99"] and sound
    else:
        title = f"{clerks} flat out: {lv['workflows']:,} workflows (mix)"
        target = f"≥ {CLERK_TARGET['per_second']}/s, nothing lost"
        met = lv["per_second"] >= CLERK_TARGET["per_second"] and sound
    row = {"title": title,
           "display_core": f"{lv['per_second']:,.0f}/s, p50 {lv['p50'] * 1000:.0f} ms, p99 {lv['p99'] * 1000:.0f} ms",
           "display_raw": "-", "median_core": lv["p50"],
           "target": target if targeted else "(where it saturates)",
           "met": met if targeted else None, "rss_core_mb": "-", "rss_raw_mb": "-", "core": lv,
           "lost": lv["lost"], "errors": lv["errors"], "verify": verified}
    return (f"clerks_{procs}_at_{rate:g}" if rate else f"clerks_{procs}"), row


def _clerks(step, sizes: dict, folder: Path, sqlite: bool) -> dict:
    """The many-clerks case: one row per level (rate, p50, p99, lost updates): flat out at each
    number of clerks, then at the target rate offered."""
    res: dict = {}
    prep = _prepared(res, "clerks", "many clerks at once", step(
        "clerks", "prepare", levels=sizes["clerk_levels"], per_level=sizes["clerk_workflows"],
        paced=sizes.get("clerk_paced", []), rate=sizes.get("clerk_rate")))
    if prep is None:
        return res
    out = step("clerks", "run", levels=prep["levels"], folder=str(folder))
    if "error" in out:
        return {"clerks": {"title": "many clerks at once", "error": out["error"]}}
    verified = out["result"]["verify"]
    for lv in out["result"]["levels"]:
        key, row = _clerk_row(lv, sqlite, verified)
        res[key] = row
    return res


def _bigger_clinic(server, seed: int, sizes: dict, cases: list[str], results: dict, tmp: Path, log) -> dict:
    """The scale cases on the bigger clinic (``big_scale``, about 5M charges) in PostgreSQL, each
    set against its figure on the usual clinic in this run: within 2x is the target.

    The bigger clinic is built once and kept (``bench/results/tmp/pg``), and worked on in place:
    a copy would cost its 30 GB each run; each run adds only its fixtures (a few thousand rows)."""
    log(f"the bigger clinic in PostgreSQL (scale {sizes['big_scale']:g})")
    url, info = dataset.big_postgres(server, seed, sizes["big_scale"], log=log)
    results["dataset"]["postgresql_big"] = info
    dataset.ensure_indexes(url)
    dataset.ensure_bench_user(url)
    big_sizes = {**sizes, "charges_built": info["counts"]["charge"]}
    res = run_engine("postgresql", url, big_sizes, [c for c in cases if c in SCALE_CASES], tmp, log)
    usual = results["engines"].get("postgresql", {})
    for key, m in res.items():
        base = usual.get(key, {})
        if "error" in m or "median_core" not in base:
            continue
        times = m["median_core"] / base["median_core"]
        m.update(vs_usual=times, usual_median=base["median_core"], met=times <= 2.0,
                 target=f"≤ 2x the {sizes['charges_built'] / 1e6:.0f}M figure: {times:.2f}x")
    return res


def main(argv: list[str] | None = None) -> int:
    """Parse options, build the data, run the engines, print and save the results."""
    ap = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes (seconds): proves the harness works")
    ap.add_argument("--engines", default=None, help="comma list: sqlite,postgresql (default both; smoke: sqlite)")
    ap.add_argument("--cases", default=None, help=f"comma list of {', '.join(CASES)} (default all; smoke: all but "
                                                  "era_import)")
    ap.add_argument("--scale", type=float, help="claimdesk demo --scale of the database (default 390: ~1M charges)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-scale", type=float, help="the bigger PostgreSQL clinic for the scale cases "
                                                    "(default 1950: ~5M charges; 0: none)")
    ap.add_argument("--tmp", type=Path, default=dataset.TMP, help="where databases are built and cached")
    ap.add_argument("--out", type=Path, help="results JSON (default bench/results/<time>.json)")
    args = ap.parse_args(argv)
    sizes = dict(SMOKE if args.smoke else FULL)
    if args.scale:
        sizes["scale"] = args.scale
    if args.big_scale is not None:
        sizes["big_scale"] = args.big_scale
    engines = (args.engines or ("sqlite" if args.smoke else "sqlite,postgresql")).split(",")
    cases = [c for c in (args.cases or ",".join(CASES)).split(",") if c]
    unknown = set(cases) - set(CASES) | set(engines) - {"sqlite", "postgresql"}
    if unknown:
        ap.error(f"unknown case or engine: {', '.join(sorted(unknown))}")
    dataset.TMP = args.tmp
    args.tmp.mkdir(parents=True, exist_ok=True)

    def log(msg):
        print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)

    started = time.time()
    results = {"started": dt.datetime.now().isoformat(timespec="seconds"), "machine": report.machine(),
               "sizes": sizes, "engines": {}}
    big, big_info = dataset.big_sqlite(args.seed, sizes["scale"], log=log)
    sizes["charges_built"] = big_info["counts"]["charge"]
    results["dataset"] = dict(big_info)
    log(f"database: {big.name}: {big_info['counts']}")
    out = args.out or (Path(__file__).resolve().parent / "results"
                       / f"{time.strftime('%Y%m%d-%H%M%S')}{'-smoke' if args.smoke else ''}.json")
    for engine in engines:
        if results["engines"]:
            report.save(results, out)  # what is measured so far survives a later failure
        if engine == "sqlite":
            url = str(dataset.working_copy(big))
            results["engines"]["sqlite"] = run_engine("sqlite", url, sizes, cases, args.tmp, log)
        else:
            from claimdesk.tests.pgserver import PgServer, find_bindir

            bindir = find_bindir()
            if bindir is None:
                results["engines"]["postgresql"] = {"server": {"title": "PostgreSQL", "error": "binaries not found"}}
                continue
            server = PgServer(bindir, root=args.tmp / "pg", settings=PG_SETTINGS).start()  # kept: built once
            results["pg_settings"] = PG_SETTINGS
            try:
                log("the same clinic in PostgreSQL")
                _url, pg_info = dataset.big_postgres(server, args.seed, sizes["scale"], log=log)
                results["dataset"]["postgresql"] = pg_info
                url = dataset.working_postgres(server, dataset.pristine_name(args.seed, sizes["scale"]))
                results["engines"]["postgresql"] = run_engine("postgresql", url, sizes, cases, args.tmp, log)
                if sizes.get("big_scale") and set(cases) & set(SCALE_CASES):
                    report.save(results, out)
                    results["engines"]["postgresql-big"] = _bigger_clinic(server, args.seed, sizes, cases, results,
                                                                          args.tmp, log)
            finally:
                server.stop()
    results["seconds"] = round(time.time() - started, 1)
    results["machine"]["load_average_end"] = [round(x, 2) for x in __import__("os").getloadavg()]
    report.save(results, out)
    print(report.table_text(results))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
