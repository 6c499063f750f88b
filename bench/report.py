"""Results: the machine description, the summary table, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from pathlib import Path


def machine() -> dict:
    """CPU, cores, memory, OS, Python, SQLite and the load average now."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "memory_gb": mem_gb,
            "os": platform.platform(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _ms(seconds) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def rows(results: dict) -> list[list[str]]:
    """One table row per engine and measurement."""
    out = []
    for engine, cases in results["engines"].items():
        for key, m in cases.items():
            if "error" in m:
                out.append([engine, key, "ERROR", "", "", "", m["error"][:60], "", ""])
                continue
            ratio = f"{m['ratio']:.2f}x" if m.get("ratio") else "-"
            core_value = m.get("display_core") or _ms(m.get("median_core"))
            raw_value = m.get("display_raw") or _ms(m.get("median_raw"))
            met = {True: "yes", False: "NO", None: "-"}[m.get("met")]
            out.append([engine, m["title"], core_value, raw_value, ratio, m.get("target", ""), met,
                        f"{m.get('rss_core_mb', '-')}", f"{m.get('rss_raw_mb', '-')}"])
    return out


HEAD = ["engine", "measurement", "claimdesk (median)", "baseline (median)", "ratio", "target", "met",
        "peak RSS MB", "baseline RSS MB"]


def table_text(results: dict) -> str:
    """An aligned plain-text table."""
    body = rows(results)
    widths = [max(len(str(r[i])) for r in [HEAD, *body]) for i in range(len(HEAD))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [HEAD, *body])


def table_markdown(results: dict) -> str:
    """The same table as Markdown (for docs/benchmarks.md)."""
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows(results)]
    return "\n".join(lines)


def save(results: dict, path: Path) -> None:
    """Write the results JSON (and the Markdown table next to it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str))
    path.with_suffix(".md").write_text(table_markdown(results) + "\n")
