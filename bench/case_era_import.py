"""Posting an 835 remittance file of 10,000 claims (issue 16) on the demo clinic.

``prepare`` makes the claims with the test generator (tests/x12gen.py: dependants, modifiers;
every claim to its primary, so every one is CLP02 1 and posts), imports them as 837P files with
``claim_import.import_files`` (setup, not timed) and writes their payers' answer with
tests/x12gen835.py: one payment (ST..SE) per payer, four in all, CO-45 contractual adjustments,
PR-1/2/3 patient responsibility at line level and, for every fourth claim, a claim-level PR-3.
Each timed file answers 10,000 claims of its own (own claim numbers, member ids, patient names,
trace numbers), imported for it, so every run does the same work.

The core side is one ``era_import.import_files([(name, data)])`` call: read, balance, match,
plan, post (voucher, EOBs through the money engine, credits, adjustments, transfers) and
record, one workflow per payment. The baseline is :mod:`claimdesk.bench.rawera`: the same
reader, then the same rows by hand with the raw driver, set-based. ``check`` runs
``verify`` on the database both sides wrote.
"""

from __future__ import annotations

import dataclasses
import string
import sys
import time
from pathlib import Path

from claimdesk.bench import dataset
from claimdesk.bench.common import NOW, USER, core_session, timed
from claimdesk.bench.raw import Raw

SEED = 16


def _generators():
    """tests/x12gen.py and tests/x12gen835.py (the latter imports ``tests.x12gen``: the same
    module under the name it asks for, whatever the working directory)."""
    import claimdesk.tests as package
    from claimdesk.tests import x12gen

    sys.modules.setdefault("tests", package)
    sys.modules.setdefault("tests.x12gen", x12gen)
    from claimdesk.tests import x12gen835

    return x12gen, x12gen835


def prepare(url: str, claims: int, repeat: int) -> dict:
    """``repeat`` files for each side: their claims imported (837P), their 835 written; the paths."""
    from claimdesk.bench.case_claim_import import _retagged
    from claimdesk.core.services import claim_import

    x12gen, x12gen835 = _generators()
    base = x12gen.make_claims(claims, seed=SEED, dependants=True, modifiers=True)
    folder = dataset.TMP / "era-import"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[str]] = {"core": [], "raw": []}
    imported, t0 = 0, time.perf_counter()
    with core_session(url):
        for number, (side, k) in enumerate(((s, k) for s in ("core", "raw") for k in range(repeat)), start=1):
            tag = f"E{side[0].upper()}{string.ascii_uppercase[k]}"
            tagged = _retagged(base, tag, number)
            report = claim_import.import_files([(f"era-{side}-{k + 1}.837", x12gen.write_837p(tagged,
                                                                                             control_number=number))])
            (f,) = report.files
            if len(f.imported) != claims:
                raise RuntimeError(f"setup: {len(f.imported)} of {claims} claims imported ({f.refused[:1]})")
            imported += len(f.imported)
            remittances = [dataclasses.replace(r, trace_number=f"{tag}{r.trace_number}")
                           for r in x12gen835.remittances_by_payer(tagged)]
            path = folder / f"{side}-{k + 1}.835"
            path.write_text(x12gen835.write_835(remittances, control_number=number))
            files[side].append(str(path))
    return {**files, "claims_imported": imported, "setup_seconds": round(time.perf_counter() - t0, 1),
            "payments": len(remittances), "bytes": Path(files["core"][0]).stat().st_size}


def written(url: str, name: str) -> dict:
    """What the import of file ``name`` wrote, counted and summed from the database (both sides
    are compared on it: the same claims in, the same rows and cents out)."""
    r = Raw(url)
    try:
        file_id = r.one("SELECT id FROM era_file WHERE name = ?", (name,))
        pays = r.q("SELECT id, voucher_id, audit_id FROM era_payment WHERE file_id = ? ORDER BY id", (file_id,))
        among = "(" + ", ".join(str(int(v)) for v in ([p[1] for p in pays] or [0])) + ")"
        audits = "(" + ", ".join(str(int(p[2])) for p in pays if p[2] is not None) + ")" if pays else "(0)"
        payments = "(" + ", ".join(str(int(p[0])) for p in pays) + ")" if pays else "(0)"
        lines = (f"SELECT l.charge_id FROM eob_line l JOIN eob e ON e.id = l.eob_id WHERE e.voucher_id IN {among}")
        out = {
            "payments": len(pays),
            "claims": dict(r.q(f"SELECT outcome, COUNT(*) FROM era_claim WHERE payment_id IN {payments} "
                               "GROUP BY outcome ORDER BY outcome")),
            "vouchers": list(r.q(f"SELECT COUNT(*), SUM(amount), SUM(undistributed) FROM voucher WHERE id IN {among}")[0]),
            "eobs": r.one(f"SELECT COUNT(*) FROM eob WHERE voucher_id IN {among}"),
            "eob_lines": list(r.q(f"SELECT COUNT(*), SUM(l.paid), SUM(l.allowed) FROM eob_line l JOIN eob e "
                                  f"ON e.id = l.eob_id WHERE e.voucher_id IN {among}")[0]),
            "eob_adjustments": list(r.q(
                "SELECT COUNT(*), SUM(a.amount) FROM eob_adjustment a JOIN eob_line l ON l.id = a.line_id "
                f"JOIN eob e ON e.id = l.eob_id WHERE e.voucher_id IN {among}")[0]),
            "credits": list(r.q(f"SELECT COUNT(*), SUM(unapplied) FROM credit WHERE voucher_id IN {among}")[0]),
            "credit_splits": r.one(f"SELECT COUNT(*) FROM credit_split s JOIN credit c ON c.id = s.credit_id "
                                   f"WHERE c.voucher_id IN {among}"),
            "adjustments": list(r.q(f"SELECT COUNT(*), SUM(amount) FROM adjustment WHERE charge_id IN ({lines})")[0]),
            "splits": [list(x) for x in r.q(f"SELECT rank, COUNT(*), SUM(balance) FROM charge_split WHERE charge_id "
                                            f"IN ({lines}) GROUP BY rank ORDER BY rank")],
            "entries": [list(x) for x in r.q(f"SELECT e.kind, COUNT(*) FROM journal_entry e JOIN audit_entry a "
                                             f"ON a.entry_id = e.id WHERE a.audit_id IN {audits} "
                                             "GROUP BY e.kind ORDER BY e.kind")],
            "postings": [list(x) for x in r.q(
                "SELECT p.account, COUNT(*), SUM(p.amount), SUM(ABS(p.amount)) FROM posting p JOIN audit_entry a "
                f"ON a.entry_id = p.entry_id WHERE a.audit_id IN {audits} GROUP BY p.account ORDER BY p.account")],
        }
    finally:
        r.close()
    return _ints(out)


def _ints(value):
    """Database numbers (PostgreSQL's SUM is a Decimal) as ints, deep."""
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_ints(v) for v in value]
    return value if value is None or isinstance(value, (str, int)) else int(value)


def core(url: str, files: list[str]) -> dict:
    """``era_import.import_files`` on each file (its bytes read before the clock starts); seconds per file."""
    from claimdesk.core.services import era_import

    samples, last = [], None
    with core_session(url):
        for path in files:
            data = Path(path).read_bytes()
            secs, report = timed(era_import.import_files, [(Path(path).name, data)])
            samples.append(secs)
            last = report
    (f,) = last.files
    statuses = sorted({p.status for p in f.payments})
    return {"samples": samples, "error": f.error or None, "payment_statuses": statuses,
            "payments": len(f.payments), "posted": last.count("post"), "exceptions": last.count("exception"),
            "paid": int(sum(p.posted_paid for p in f.payments)),
            "reasons": [c.reason for p in f.payments for c in p.claims if c.action == "exception"][:3]
            + [p.reason for p in f.payments if p.reason][:3],
            "written": written(url, Path(files[-1]).name)}


def raw(url: str, files: list[str]) -> dict:
    """The hand-written posting of each file; seconds per file (and the reading's share)."""
    from claimdesk.bench import rawera
    from claimdesk.core.x12 import remittance_reader  # noqa: F401  (imported before the clock, as the core's is)

    samples, reading, out = [], [], {}
    for path in files:
        data = Path(path).read_bytes()
        r = Raw(url)
        secs, out = timed(rawera.post_file, r, data, Path(path).name, NOW, USER)
        r.close()
        samples.append(secs)
        reading.append(out.pop("read_seconds"))
    return {"samples": samples, "read_seconds": reading, **out, "written": written(url, Path(files[-1]).name)}


def check(url: str) -> dict:
    """``verify`` on the database both sides wrote: the problems it finds (none when the books add up)."""
    from claimdesk.core.services import verify

    with core_session(url):
        secs, problems = timed(verify.verify)
    return {"problems": [str(p) for p in problems], "seconds": round(secs, 1)}
