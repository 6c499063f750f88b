"""Importing the clinic's own 837P claim files (the claims its EHR or practice system sent):
each claim becomes an encounter with its charges, billed to its payers in order, its claim
marked sent on the file's date; a clerk's work.

::

    report = claim_import.preview(["claims.837"])       # the same checks, nothing written
    report = claim_import.import_files(["claims.837"])  # or [("claims.837", data_bytes)]
    report.files[0].imported / .skipped / .refused / .tallies / .total_charges

Per file (see :mod:`.claim_import_report` for the report):

* a file that cannot be read at all (missing, not X12, a bad envelope) is reported with the
  reader's message naming the segment and line, and nothing of it is imported; nor of one
  marked as test data (ISA15 T, :func:`test_data_refusal`) or dated outside the business window;
* a file joining several interchanges imports each as a file of its own ("claims.837
  (interchange 2 of 3)"), its claims sent on its own ISA09;
* each claim is checked by the import's format rules (:mod:`.claim_import_rules`; the reader
  already refused claims that do not balance or lack what a claim needs) and matched to the
  records on file (:mod:`.claim_import_match`: payer by payer id, provider by NPI, patient by
  member id + name + date of birth; an ambiguous match is refused and listed, never guessed;
  what is not on file is made). A refused claim is listed with its reason, segment and line;
  the others import;
* idempotent on the file digest and the claim number: a claim whose number was imported
  before (from any file) is skipped and says when and from which file; the same file again
  says when and by whom it was imported, and creates nothing, unless a claim it refused then
  passes now (an ambiguity resolved on file), which then imports;
* the file is one transaction (one workflow, audited as ``claims.import`` with what it made),
  and every claim has its own audit event (``claim.import``) and its own charge entry, written
  set-based (:mod:`.claim_import_write`), so a file of 10,000 claims imports in seconds.

:func:`preview` (a dry run) runs the same checks and matching and reports the same, writing
nothing; over several files it shares what it would make, so each file sees the ones before.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Union

from claimdesk.core import clock, config, db, files, workflow
from claimdesk.core.errors import InputError
from claimdesk.core.services import claim_import_write
from claimdesk.core.services.claim_import_match import Book, PlannedClaim
from claimdesk.core.services.claim_import_report import (
    FileReport,
    ImportedRow,
    ImportReport,
    RefusedRow,
    SkippedRow,
)
from claimdesk.core.services.claim_import_rules import ClaimRefused, check_claim, refuse
from claimdesk.core.users import require_role
from claimdesk.core.validation import business_date_problem
from claimdesk.core.x12.claims837 import ClaimFile
from claimdesk.core.x12.claims837_reader import parse_837p_interchanges
from claimdesk.core.x12.common import collector_paused
from claimdesk.core.x12.errors import X12Error

#: A file to import: a path, or (name, contents) as a screen that read it has them.
Source = Union[str, os.PathLike, tuple[str, Union[bytes, str]]]
#: The file's own audit action (each claim's is ``claim.import``).
FILE_ACTION = "claims.import"
_PG_IMPORT_LOCK = 7_340_021
_TALLY = {"patient": "patients", "payer": "payers", "provider": "providers", "code": "codes"}


def preview(sources: Iterable[Source]) -> ImportReport:
    """What :func:`import_files` would do with ``sources``: the same report, nothing written."""
    return import_files(sources, dry_run=True)


def import_files(sources: Iterable[Source], *, dry_run: bool = False) -> ImportReport:
    """Import each 837P file of ``sources`` in order, each in its own transaction (a clerk's
    work); with ``dry_run`` write nothing and report what would be done. The report of every
    file (see the module)."""
    if isinstance(sources, (str, os.PathLike)) or (isinstance(sources, tuple) and len(sources) == 2
                                                    and isinstance(sources[1], (bytes, str))):
        sources = [sources]  # (one file given as it is)
    book = Book() if dry_run else None
    files: list[FileReport] = []
    for source in sources:
        name, data, problem = read_source(source)
        if problem is not None:
            files.append(FileReport(name, dry_run=dry_run, error=problem))
            continue
        with collector_paused():  # (a file's records live until it is written: see collector_paused)
            try:
                interchanges = parse_837p_interchanges(data)
            except X12Error as exc:
                files.append(FileReport(name, dry_run=dry_run, error=str(exc), error_segment=exc.tag,
                                        error_line=exc.line))
                continue
            test = next((p for p in interchanges if p.test), None)
            refusal = test_data_refusal(True) if test is not None else None
            if refusal is not None:  # (test data anywhere: nothing of the file)
                files.append(_refused_file(name, test, refusal, dry_run))
                continue
            for k, parsed in enumerate(interchanges, 1):  # (each interchange imports as a file of its own)
                part = name if len(interchanges) == 1 else f"{name} (interchange {k} of {len(interchanges)})"
                refusal = _envelope_refusal(parsed)
                if refusal is not None:
                    files.append(_refused_file(part, parsed, refusal, dry_run))
                    continue
                index = len(files)
                files.append(_plan(parsed, part, book, index, dry_run=True)[0] if dry_run else _import(parsed, part))
    return ImportReport(files, dry_run)


def read_source(source: Source) -> tuple[str, bytes | str | None, str | None]:
    """(name, contents, None), or (name, None, why it cannot be read)."""
    if isinstance(source, tuple):
        name, data = source
        return str(name), data, None
    name = os.fspath(source)
    try:
        return name, files.read_limited(name, files.X12_LIMIT, "file"), None
    except InputError as exc:
        return name, None, exc.messages["file"][0]


def _refused_file(name: str, parsed: ClaimFile, refusal: str, dry_run: bool) -> FileReport:
    """The report of an interchange read but not imported (``refusal``), placed at its ISA."""
    return FileReport(name, parsed.digest, parsed.date, parsed.sender_id, parsed.control_number, dry_run,
                      error=refusal, error_segment="ISA", error_line=parsed.line)


def _envelope_refusal(parsed: ClaimFile) -> str | None:
    """Why nothing of an 837P interchange is imported though it was read: its date (ISA09, which
    its claims are marked sent on) is not a business date."""
    problem = business_date_problem(parsed.date)
    return f"ISA09, the file's date (its claims' date sent), {problem}" if problem is not None else None


def test_data_refusal(is_test: bool) -> str | None:
    """Why a file its sender marked as test data (ISA15 ``T``) is not imported, or None. A test
    file is for trying a connection with a payer or clearinghouse; its claims and payments are
    not the clinic's, so it is never put on the books, unless ``[edi] accept_test_files`` says
    this database is a training or test copy."""
    if not is_test or config.load().edi.accept_test_files:
        return None
    return ("its sender marked it as test data (ISA15 T), and a test file is not put on the books: nothing "
            "of it is imported (on a training or test copy of the database, set [edi] accept_test_files = true)")


class _NothingNew(Exception):
    """A file imported before that has nothing new to import: roll back, hand back the report."""

    def __init__(self, report: FileReport):
        super().__init__("nothing new")
        self.report = report


def _import(parsed: ClaimFile, name: str) -> FileReport:
    """Import one read file in one workflow (see the module)."""
    if Book().file(parsed.digest) is not None:  # imported before: most often nothing to write at all
        report, plans = _plan(parsed, name, Book(), 0, dry_run=False)
        if not plans:
            return report
    made: dict = {}

    def body() -> dict:
        require_role("clerk", "importing claims")
        if db.is_postgres():  # two imports take turns (SQLite holds the write lock already)
            db.sql("SELECT pg_advisory_xact_lock({p})", [_PG_IMPORT_LOCK])
        book = Book()
        report, plans = _plan(parsed, name, book, 0, dry_run=False)
        prior = book.file(parsed.digest)
        if not plans and prior is not None:
            raise _NothingNew(report)
        _file_id, written = claim_import_write.write(book, plans, parsed, Path(name).name, prior and prior["id"])
        report.imported = [_imported_row(plan, w.encounter_id, 0) for plan, w in zip(plans, written)]
        made["report"] = report
        return {"file": Path(name).name, "digest": parsed.digest, "claims_found": report.claims_found,
                "imported": len(report.imported), "skipped": len(report.skipped), "refused": len(report.refused),
                "total_charges": report.total_charges,
                "encounters": [w.encounter_id for w in written],
                "made": {kind: [rec.id for rec in book.made[kind]]
                         for kind in ("payer", "provider", "code", "patient", "coverage")},
                "refused_claims": [{"claim_no": r.claim_no, "reason": r.reason} for r in report.refused]}

    inputs = {"file": Path(name).name, "digest": parsed.digest, "sender_id": parsed.sender_id,
              "control_number": parsed.control_number, "file_date": parsed.date}
    try:
        result = workflow.run(FILE_ACTION, body, inputs=inputs)
    except _NothingNew as nothing:
        return nothing.report
    report = made["report"]
    report.audit_id = result["audit_id"]
    return report


def _plan(parsed: ClaimFile, name: str, book: Book, index: int, *, dry_run: bool) -> tuple[FileReport, list[PlannedClaim]]:
    """Check and match every claim of ``parsed`` against ``book`` (which learns what they make);
    the file's report (its imported rows only on a ``dry_run``: an import adds them once written)
    and the claims to write."""
    report = FileReport(name, parsed.digest, parsed.date, parsed.sender_id, parsed.control_number, dry_run,
                        claims_found=len(parsed.claims) + len(parsed.refused),
                        warnings=[str(w) for w in parsed.warnings])
    prior = book.file(parsed.digest)
    if prior is not None:
        report.already_imported = {k: v for k, v in prior.items() if k != "id"}
    refused = [RefusedRow(r.number, r.reason, r.tag, r.segment_number, r.line, r.element, r.claim_line)
               for r in parsed.refused]
    today, checked = clock.today(), []
    for claim in parsed.claims:
        try:
            checked.append(check_claim(claim, today, parsed.date))
        except ClaimRefused as exc:
            refused.append(_refused_row(claim.number, exc, claim.line))
    book.load(checked)
    plans, skipped = [], []
    for c in checked:
        number, line = c.claim_no, c.claim.line
        if number in book.imported:
            reason, encounter_id = book.imported[number]
            if c.frequency == "7":
                reason += "; a replacement claim (CLM05-3 7) changes nothing imported"
            skipped.append(SkippedRow(number, reason, encounter_id, line))
            continue
        try:
            if number in book.held:
                raise refuse(c.claim, "CLM", "CLM01", f"claim number {number} belongs to encounter "
                                                      f"{book.held[number]}, entered here, not imported")
            plan = book.match(c, index)
        except ClaimRefused as exc:
            refused.append(_refused_row(number, exc, line))
            continue
        plans.append(plan)
        report.warnings += plan.warnings
        book.imported[number] = (f"claim {number} is imported once, from its CLM at line {line} of {name}", None)
    if dry_run and prior is None:
        book.files[parsed.digest] = {"on": None, "by": None, "id": None, "earlier": name}
    if dry_run:  # (an import lists them once written, with their encounters)
        report.imported = [_imported_row(plan, None, index) for plan in plans]
    report.skipped = skipped
    report.refused = sorted(refused, key=lambda r: r.claim_line)
    _tally(report, plans, index)
    return report, plans


def _refused_row(number: str, exc: ClaimRefused, claim_line: int) -> RefusedRow:
    place = exc.place
    return RefusedRow(number, exc.message, place.tag if place else None, place.number if place else None,
                      place.line if place else None, exc.element, claim_line)


def _imported_row(plan: PlannedClaim, encounter_id: int | None, index: int) -> ImportedRow:
    checked = plan.checked
    payers = tuple(f"{rank}: {payer.name or payer.label}" for rank, payer, _c in plan.payers)
    patient = plan.patient
    return ImportedRow(checked.claim_no, encounter_id, patient.name, patient.new and patient.made_in == index,
                       payers, checked.dos, checked.claim.total, checked.claim.line)


def _tally(report: FileReport, plans: list[PlannedClaim], index: int) -> None:
    """Count each record the file's claims name once: new (made by this file) or matched."""
    counted: set[int] = set()
    for plan in plans:
        for rec in plan.records():
            if id(rec) in counted:
                continue
            counted.add(id(rec))
            tally = report.tallies[_TALLY[rec.kind]]
            if rec.new and rec.made_in == index:
                tally.new += 1
            else:
                tally.matched += 1
