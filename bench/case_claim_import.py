"""Importing an 837P file of 10,000 claims (issue 15) into the demo clinic.

``prepare`` writes the files with the test generator (tests/x12gen.py: dependants, secondary
claims with the primary's result, primary claims naming the next payer, modifiers, rendering and
referring providers, 10 claims that do not balance) and imports a small warm-up file first, so
the payers, providers and codes the claims name are on file for both sides. Each timed file is
the same 10,000 claims with their own claim numbers, member ids and patient names, so every
import does the same work (new patients and coverages, matched payers, providers and codes).

The core side is one ``claim_import.import_files([path])`` call (read, parse, check, match,
write, audit: one transaction). The baseline is :mod:`claimdesk.bench.rawimport`: the same
parser, then the same rows by hand with the raw driver in one transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
import string
from pathlib import Path

from claimdesk.bench import dataset
from claimdesk.bench.common import NOW, USER, core_session, timed
from claimdesk.bench.raw import Raw

SEED = 15
#: Claims (by index) whose CLM02 is $10 more than their lines: refused by both sides' parser.
BAD = tuple(range(7, 10_000, 1000))
WARM_UP = 300


def _letters(n: int) -> str:
    """``n`` as capital letters (0 -> A, 26 -> BA): a name part unique per claim."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = string.ascii_uppercase[r] + out
        if not n:
            return out


def _retagged(claims, tag: str, shift: int):
    """A copy of ``claims`` with claim numbers, member ids and patient names of their own (``tag``),
    and birth dates ``shift`` days later (so copies do not share every birth date, as no two real
    files do)."""
    out = copy.deepcopy(claims)
    for i, claim in enumerate(out):
        claim.number = f"{tag}{i:08d}"
        people = [claim.subscriber] + ([claim.patient] if claim.patient else [])
        for person in people:
            person.last = f"{person.last}{tag}{_letters(i)}"
            person.birth += dt.timedelta(days=shift)
        claim.subscriber.member_id = f"{tag}M{i:08d}"
        for other in (claim.prior, claim.next_payer):
            if other is not None:
                other.member_id = f"{tag}O{i:08d}"
        for n, line in enumerate(claim.lines, 1):
            line.control_number = f"{claim.number}L{n}"
    return out


def prepare(url: str, claims: int, repeat: int) -> dict:
    """The warm-up import, then ``repeat`` files for each side; their paths."""
    from claimdesk.core.services import claim_import
    from claimdesk.tests.x12gen import make_claims, write_837p

    base = make_claims(claims, seed=SEED, dependants=True, secondary=True, next_payer=True, modifiers=True,
                       providers=True, bad=tuple(i for i in BAD if i < claims))
    folder = dataset.TMP / "claim-import"
    folder.mkdir(parents=True, exist_ok=True)
    warm = folder / "warm-up.837"
    warm.write_text(write_837p(_retagged(base[:WARM_UP], "W", 0), control_number=9))
    with core_session(url):
        done = claim_import.import_files([str(warm)])
    files: dict[str, list[str]] = {"core": [], "raw": []}
    for number, (side, k) in enumerate(((side, k) for side in ("core", "raw") for k in range(repeat)), start=1):
        path = folder / f"{side}-{k + 1}.837"
        tag = f"{side[0].upper()}{string.ascii_uppercase[k]}"
        path.write_text(write_837p(_retagged(base, tag, number), control_number=k + 1))
        files[side].append(str(path))
    return {**files, "warm_up_imported": done.count("imported"), "bytes": Path(files["core"][0]).stat().st_size}


def core(url: str, files: list[str]) -> dict:
    """``claim_import.import_files`` on each file; seconds per file."""
    from claimdesk.core.services import claim_import

    samples, last = [], None
    with core_session(url):
        for path in files:
            secs, report = timed(claim_import.import_files, [path])
            samples.append(secs)
            last = report
    (f,) = last.files
    return {"samples": samples, "imported": len(f.imported), "refused": len(f.refused),
            "total": int(f.total_charges), "patients_new": f.tallies["patients"].new,
            "payers_matched": f.tallies["payers"].matched}


def raw(url: str, files: list[str]) -> dict:
    """The hand-written import of each file; seconds per file (and the parse's share)."""
    from claimdesk.bench import rawimport

    samples, parse, out = [], [], {}
    for path in files:
        r = Raw(url)
        secs, out = timed(rawimport.import_file, r, path, NOW, USER)
        r.close()
        samples.append(secs)
        parse.append(out.pop("parse_seconds"))
    return {"samples": samples, "parse_seconds": parse, **out}
