"""Exporting 10,000 queued claims as 837P files (issue 17) from the demo clinic.

``prepare`` makes the claims with the test generator (tests/x12gen.py: dependants, primary
claims naming the next payer, modifiers, rendering and referring providers), imports them with
``claim_import.import_files`` (each claim sent to its primary) and posts the primary's answer
(tests/x12gen835.py ``remittances_by_payer``, ``era_import.import_files``) for every other claim
that names a next payer (index 1, 7, 13...): the money engine queues their secondary claims,
which go out with the primary's result (2320/2330A/2330B, 2430: SVD, CAS, DTP*573). The claims
exported are those secondary claims and the primary claims of all the others, queued again
(by SQL, as ``claims requeue`` leaves them but not marked resend): 10,000 claims, a sixth of
them with coordination of benefits and a sixth naming the next payer for information. All of it
is setup, not timed; the claims are queued again (SQL) before every sample, also not timed.

The core side is the 837P part of ``claims.build_batch`` (not its sweep for due claims nor its
JSON/CSV export), in one transaction: ``claim_export.assemble(ids)`` (set-based reads, the
records, their balance checked), then per payer a ``ClaimBatch``, its claims marked sent (one
``UPDATE`` with ``db.ids_in``; ``build_batch`` builds the same with peewee's ``in_``, about 0.1 s
more at 10,000) and ``claim_export.write_file`` (next control number, ``write_837p``, the file
written privately, its ``ClaimFile`` row). The phases' seconds are kept (``phases``). The
baseline is :mod:`claimdesk.bench.rawexport`: the same columns read with the raw driver and the
same 837P text built by hand, the same rows written. Both sides' files are compared without
their control numbers and date (``same_files``: byte for byte otherwise).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from pathlib import Path

from claimdesk.bench.common import NOW, USER, core_session, timed
from claimdesk.bench.raw import Raw

SEED = 17
#: Claim numbers, member ids and patient names of their own (see case_claim_import._retagged): no
#: demo patient has their name and birth date.
TAG = "XP"
#: Of the claims naming a next payer (index % 3 == 1), those whose primary's 835 is posted.
POSTED = 6


def _config(folder: Path) -> Path:
    """A config naming the demo clinic as billing provider (``[clinic]``), set as CLAIMDESK_CONFIG."""
    from claimdesk.core.config import Clinic, clinic_section
    from claimdesk.core.demo.reference import CLINIC

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clinic.toml"
    path.write_text(clinic_section(Clinic(**CLINIC)), encoding="utf-8")
    os.environ["CLAIMDESK_CONFIG"] = str(path)
    return path


def requeue(url: str, ids: list[int]) -> None:
    """The exported claims queued again, as before the first sample (not timed)."""
    r = Raw(url)
    try:
        r.begin()
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            r.q(f"UPDATE claim SET status = 'queued', sent_at = NULL, batch_id = NULL "
                f"WHERE id IN ({', '.join(str(int(i)) for i in part)})")
        r.commit()
    finally:
        r.close()


def prepare(url: str, claims: int, folder: str) -> dict:
    """The claims imported, part of them answered by their primary, the ones to export queued; their ids."""
    from claimdesk.bench.case_claim_import import _retagged
    from claimdesk.bench.case_era_import import _generators
    from claimdesk.core.services import claim_import, era_import

    _config(Path(folder))
    x12gen, x12gen835 = _generators()
    made = _retagged(x12gen.make_claims(claims, seed=SEED, dependants=True, next_payer=True, modifiers=True,
                                        providers=True), TAG, 0)
    answered = [c for i, c in enumerate(made) if i % POSTED == 1]
    t0 = time.perf_counter()
    with core_session(url):
        report = claim_import.import_files([("export-claims.837", x12gen.write_837p(made, control_number=17))])
        (f,) = report.files
        if len(f.imported) != claims:
            raise RuntimeError(f"setup: {len(f.imported)} of {claims} claims imported ({f.refused[:1]})")
        era = era_import.import_files([("export-claims.835", x12gen835.write_835(
            x12gen835.remittances_by_payer(answered), control_number=17))])
        if era.count("post") != len(answered):
            raise RuntimeError(f"setup: {era.count('post')} of {len(answered)} claims posted from the 835")
    numbers = {c.number for c in made}
    answered_numbers = {c.number for c in answered}
    r = Raw(url)
    try:
        rows = r.q("SELECT c.id, c.rank, c.status, e.claim_no FROM claim c JOIN encounter e ON e.id = c.encounter_id "
                   "WHERE e.claim_no LIKE ? ORDER BY c.id", (f"{TAG}%",))
    finally:
        r.close()
    ids = [cid for cid, rank, status, number in rows if number in numbers and (
        (rank == "primary" and number not in answered_numbers) or (rank == "secondary" and status == "queued"))]
    requeue(url, ids)
    return {"ids": ids, "claims": len(ids), "secondary": sum(1 for _c, rank, s, _n in rows if rank == "secondary"
                                                              and s == "queued"),
            "answered": len(answered), "setup_seconds": round(time.perf_counter() - t0, 1)}


def _normalised(path: str) -> str:
    """A file's sha256 without its control numbers and date (ISA, GS, BHT, GE, IEA left out)."""
    text = Path(path).read_text(encoding="ascii")
    kept = [s for s in text.split("~\n") if s[:3] not in ("ISA", "GS*", "BHT", "GE*", "IEA")]
    return hashlib.sha256("~\n".join(kept).encode()).hexdigest()


def _files(made: list[dict]) -> dict:
    """What one sample wrote: per file (in payer order) claims, segments, bytes and digest."""
    out = []
    for m in made:
        text = Path(m["path"]).read_text(encoding="ascii")
        out.append({"claims": m["claims"], "segments": text.count("~"), "bytes": len(text),
                    "total": int(m["total"]), "digest": _normalised(m["path"])})
    return {"files": out, "claims": sum(f["claims"] for f in out), "segments": sum(f["segments"] for f in out),
            "bytes": sum(f["bytes"] for f in out), "total": sum(f["total"] for f in out),
            "cob_segments": sum(Path(m["path"]).read_text().count("~\nSVD*") for m in made)}


def export_837(ids: list[int], out_dir: Path, settings) -> tuple[list[dict], list, dict]:
    """The 837P part of ``claims.build_batch`` on ``ids``: assembled, one batch per payer marked
    sent, each batch's file written under the next control number; (files, held, seconds by phase)."""
    from claimdesk.core import clock, db
    from claimdesk.core.context import current_user
    from claimdesk.core.models import ClaimBatch, Payer
    from claimdesk.core.services import claim_export

    phases = {"assemble": 0.0, "write": 0.0, "assemble_cpu": 0.0, "write_cpu": 0.0}

    def body():
        where, params = db.ids_in(sorted(ids))
        queued = list(db.sql(f"SELECT id, payer_id FROM claim WHERE id {where} AND status = 'queued' "
                             "ORDER BY payer_id, id", params))
        t0, c0 = time.perf_counter(), time.process_time()
        ready, held = claim_export.assemble([cid for cid, _ in queued], settings)
        phases["assemble"], phases["assemble_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        records = dict(ready)
        by_payer: dict[int, list[int]] = defaultdict(list)
        for cid, pid in queued:
            if cid in records:
                by_payer[pid].append(cid)
        t0, c0, now, made = time.perf_counter(), time.process_time(), clock.now(), []
        for pid in sorted(by_payer):
            group = by_payer[pid]
            batch = ClaimBatch.create(created_at=now, created_by=current_user())
            where, params = db.ids_in(group)
            db.sql(f"UPDATE claim SET status = 'sent', sent_at = {{p}}, batch_id = {{p}} WHERE id {where}",
                   [now, batch.id, *params])
            made.append(claim_export.write_file(batch, Payer.get_by_id(pid), [records[c] for c in group], out_dir,
                                                settings))
        phases["write"], phases["write_cpu"] = time.perf_counter() - t0, time.process_time() - c0
        return made, held

    made, held = db.run_in_transaction(body)
    return made, held, phases


def core(url: str, ids: list[int], repeat: int, folder: str) -> dict:
    """The core's 837P export of the queued claims, ``repeat`` times (queued again before each); seconds."""
    from claimdesk.core import config
    from claimdesk.core.services import claim_export  # noqa: F401  (imported before the clock)

    _config(Path(folder))
    samples, cpu, phases, out = [], [], [], {}
    with core_session(url):
        settings = config.load()
        for k in range(repeat):
            requeue(url, ids)
            out_dir = Path(folder) / f"core-{k + 1}"
            for old in out_dir.glob("*.837"):
                old.unlink()
            c0 = time.process_time()
            secs, (made, held, phase) = timed(export_837, ids, out_dir, settings)
            cpu.append(round(time.process_time() - c0, 3))
            samples.append(secs)
            phases.append({k: round(v, 3) for k, v in phase.items()})
            out = {**_files(made), "held": [h.reason for h in held][:3], "held_count": len(held)}
    requeue(url, ids)
    return {"samples": samples, "cpu_seconds": cpu, "phases": phases, **out}


def raw(url: str, ids: list[int], repeat: int, folder: str) -> dict:
    """The hand-written export of the same claims, ``repeat`` times (queued again before each); seconds."""
    from claimdesk.bench import rawexport
    from claimdesk.core import config

    _config(Path(folder))
    settings = config.load()  # (the clinic's values as checked from [clinic]: setup, not timed)
    samples, cpu, reading, out = [], [], [], {}
    for k in range(repeat):
        requeue(url, ids)
        out_dir = Path(folder) / f"raw-{k + 1}"
        for old in out_dir.glob("*.837"):
            old.unlink()
        r = Raw(url)
        c0 = time.process_time()
        secs, (made, read_seconds) = timed(rawexport.export, r, ids, out_dir, settings.clinic, settings.edi, NOW, USER)
        cpu.append(round(time.process_time() - c0, 3))
        r.close()
        samples.append(secs)
        reading.append(round(read_seconds, 3))
        out = _files(made)
    requeue(url, ids)
    return {"samples": samples, "cpu_seconds": cpu, "read_seconds": reading, **out}
