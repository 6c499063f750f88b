"""The bench databases: the demo clinic built by ``claimdesk demo --scale`` on each engine.

* :func:`big_sqlite` builds (once, cached under ``bench/results/tmp/``) the demo clinic
  with the real CLI, timing it (above scale 1 the demo copies a simulated base block
  set-based, :mod:`claimdesk.core.demo.scale_up`).
* :func:`working_copy` copies the big file for one run (cases write to it).
* :func:`big_postgres` builds the same clinic (same seed and scale, so the same rows)
  in a PostgreSQL database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from claimdesk.bench.raw import Raw

HERE = Path(__file__).resolve().parent
TMP = HERE / "results" / "tmp"


def _claimdesk_cli() -> list[str]:
    exe = Path(sys.executable).parent / "claimdesk"
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from claimdesk.core.cli import main; main()"]


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file so the file alone is the database."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _demo(url: str, seed: int, scale: float, log) -> float:
    """``claimdesk demo --seed S --scale X`` on ``url`` (the real CLI); its seconds."""
    log(f"building the demo clinic: claimdesk demo --seed {seed} --scale {scale:g} (cached afterwards)")
    t0 = time.perf_counter()
    proc = subprocess.run([*_claimdesk_cli(), "--db", url, "--json", "demo",
                           "--seed", str(seed), "--scale", f"{scale:g}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"claimdesk demo failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return time.perf_counter() - t0


def counts(raw: Raw) -> dict[str, int]:
    """Row counts that describe a bench database."""
    return {t: int(raw.one(f'SELECT COUNT(*) FROM "{t}"')) for t in
            ("patient", "encounter", "charge", "charge_split", "credit", "journal_entry", "posting")}


def big_sqlite(seed: int, scale: float, log=print) -> tuple[Path, dict]:
    """The demo clinic at ``scale`` (above 1: copies of a simulated base, see core/demo/scale_up.py),
    built by ``claimdesk demo`` once and cached under TMP; its description."""
    TMP.mkdir(parents=True, exist_ok=True)
    path = TMP / f"demo-seed{seed}-scale{scale:g}.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    for p in TMP.glob(path.name + "*"):
        p.unlink()
    seconds = _demo(str(path), seed, scale, log)
    raw = Raw(str(path))
    raw.q("ANALYZE")
    info = {"seed": seed, "scale": scale, "build_seconds": round(seconds, 1), "counts": counts(raw)}
    raw.close()
    _checkpoint(path)
    info["bytes"] = path.stat().st_size
    meta.write_text(json.dumps(info, indent=1))
    return path, info


def ensure_indexes(url: str) -> None:
    """Bring a cached database to this code's schema (``claimdesk db upgrade``) and create any
    index the models declare that it lacks yet."""
    from claimdesk.core import db, migrations
    from claimdesk.core.models import ALL_MODELS as models

    db.connect(url)
    try:
        migrations.upgrade()
        with db.database.atomic():
            db.database.create_tables(models, safe=True)
    finally:
        db.close()


def ensure_bench_user(url: str) -> None:
    """Register the bench user (an admin) if the database does not know it yet."""
    from claimdesk.bench.common import USER

    from claimdesk.core import db, users

    db.connect(url)  # (through claimdesk: the registration is audited, as verify expects)
    try:
        users.bootstrap(USER, "admin", "Benchmark")
    finally:
        db.close()


def working_copy(big: Path, name: str = "work.db") -> Path:
    """A fresh copy of the big file for this run (cases change it)."""
    dest = TMP / name
    for p in TMP.glob(name + "*"):
        p.unlink()
    shutil.copyfile(big, dest)
    ensure_indexes(str(dest))
    ensure_bench_user(str(dest))
    return dest


# --- PostgreSQL ------------------------------------------------------------------------
def pristine_name(seed: int, scale: float) -> str:
    """The PostgreSQL database holding the untouched demo clinic of this seed and scale."""
    return f"bench_seed{seed}_scale{scale:g}".replace(".", "_")


def big_postgres(server, seed: int, scale: float, log=print) -> tuple[str, dict]:
    """The same demo clinic built by ``claimdesk demo`` in a PostgreSQL database, then ANALYZEd;
    on a kept server (``PgServer(root=...)``) built once and reused, like :func:`big_sqlite`."""
    name = pristine_name(seed, scale)
    meta = TMP / f"pg-{name}.json"
    if server.keep and meta.exists() and server.has_database(name):
        return server.url(name), json.loads(meta.read_text())
    server.sql("postgres", f"DROP DATABASE IF EXISTS {name}")
    server.sql("postgres", f"CREATE DATABASE {name}")
    url = server.url(name)
    seconds = _demo(url, seed, scale, log)
    raw = Raw(url)
    raw.q("VACUUM ANALYZE")
    info = {"seed": seed, "scale": scale, "build_seconds": round(seconds, 1), "counts": counts(raw),
            "bytes": int(raw.one("SELECT pg_database_size(current_database())"))}
    raw.close()
    meta.write_text(json.dumps(info, indent=1))
    return url, info


def working_postgres(server, pristine: str, name: str = "bench_work") -> str:
    """A fresh copy of the pristine PostgreSQL database for this run (CREATE DATABASE ... TEMPLATE)."""
    server.sql("postgres", f"DROP DATABASE IF EXISTS {name}")
    server.sql("postgres", f"CREATE DATABASE {name} TEMPLATE {pristine}")
    ensure_indexes(server.url(name))
    ensure_bench_user(server.url(name))
    return server.url(name)
