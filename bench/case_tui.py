"""The app: cold start to its first screen with all plugins, and scrolling a 100k-row list.

Cold start is timed from spawning a fresh interpreter to the first screen being up
(``run_test``, 80x24), against a bare Textual app. Scrolling: 100k encounters are put
on the Review work queue and the queue screen is scrolled key by key (down, page down,
end, home), against a bare ``DataTable`` holding 100k rows.

Both sides start from compiled bytecode, as an installed app does (``pip install`` compiles
it; Textual's came that way): claimdesk's is compiled before the first start
(:func:`compile_bytecode`), since an editable install with ``PYTHONDONTWRITEBYTECODE`` set
(this machine's environment) would otherwise compile every changed module from its source
at every start.
"""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import time

from claimdesk.bench.raw import Raw

TITLE = "app cold start / scrolling a 100k-row list"
QUEUE = "review"


def _child(*args: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "claimdesk.bench.tui_child", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    secs = time.perf_counter() - t0
    _out, err = proc.communicate(timeout=300)
    if not line or proc.returncode != 0:
        raise RuntimeError(f"tui child failed: {err.strip()[-1500:]}")
    return secs, json.loads(line)


def compile_bytecode() -> None:
    """Compile claimdesk's modules to bytecode (``__pycache__``), as installing it does."""
    import pkgutil

    import claimdesk

    for root in claimdesk.__path__:
        compileall.compile_file(f"{root}/__init__.py", quiet=1)
        for sub in pkgutil.iter_modules([root]):
            if sub.ispkg and sub.name != "tests":
                compileall.compile_dir(f"{root}/{sub.name}", quiet=1)


def start(url: str, modes: list[str], repeat: int) -> dict:
    """Spawn ``repeat`` cold starts of each of ``modes`` (``app``, ``bare``), taking turns
    (app, bare, app, bare...): the machine's speed drifts over minutes, and both sides then
    see the same drift, so their ratio holds even when the absolute figures move. Per mode:
    seconds to the first screen, the children's peak RSS and the screen shown."""
    compile_bytecode()
    runs: dict[str, dict] = {mode: {"samples": [], "rss": [], "screen": None} for mode in modes}
    for _ in range(repeat):
        for mode in modes:
            secs, out = _child(mode, "start", url)
            run = runs[mode]
            run["samples"].append(secs)
            run["rss"].append(out["peak_rss_mb"])
            run["screen"] = out["screen"]
    return {mode: {"samples": run["samples"], "child_peak_rss_mb": max(run["rss"]), "screen": run["screen"]}
            for mode, run in runs.items()}


def prepare(url: str, rows: int) -> dict:
    """Put ``rows`` active encounters on the Review queue."""
    r = Raw(url)
    qid = r.one("SELECT id FROM work_queue WHERE key = ?", (QUEUE,))
    r.begin()
    r.q("UPDATE encounter SET queue_id = ? WHERE id IN (SELECT id FROM encounter WHERE status = 'active' "
        "ORDER BY id LIMIT ?)", (qid, rows))
    r.commit()
    n = r.one("SELECT COUNT(*) FROM encounter WHERE queue_id = ?", (qid,))
    r.close()
    return {"queued": n}


def scroll(url: str, mode: str, keys: int, rows: int) -> dict:
    """One child scrolling the list ``keys`` times; per-key seconds (all keys together as samples)."""
    _secs, out = _child(mode, "scroll", url, str(keys), QUEUE, str(rows))
    flat = [s for v in out["samples"].values() for s in v]
    return {"samples": flat, "by_key_median": {k: sorted(v)[len(v) // 2] for k, v in out["samples"].items()},
            "open_seconds": out["open_seconds"], "rows_shown": out["rows_shown"],
            "child_peak_rss_mb": out["peak_rss_mb"]}
