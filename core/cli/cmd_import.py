"""Importing the clinic's own claim files: ``claimdesk import 837 FILE... [--dry-run]``.

Prints a short report per file (claims found; imported, skipped as imported before, refused
with the reason, segment and line; new vs matched patients, payers, providers and codes; the
total charged); ``--json`` prints :meth:`~claimdesk.core.services.claim_import_report.ImportReport.as_dict`.
Exit code 0 when every file was read (refused claims are listed, not failures); 1 when a file
could not be read at all (its message names the segment and line).
"""

from __future__ import annotations

from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result
from claimdesk.core.money import fmt
from claimdesk.core.services import claim_import
from claimdesk.core.services.claim_import_report import KINDS, FileReport, ImportReport

#: Skipped claims listed one by one in the text report before "... and N more".
SHOWN_SKIPPED = 10


def register(subparsers) -> None:
    """Add ``import 837``."""
    sub = group(subparsers, "import", "Import the clinic's own files")
    p = command(sub, "837", "Import 837P claim files (the claims the clinic's EHR sent): each claim becomes an "
                            "encounter with its charges, its claim marked sent; the same file or claim again "
                            "creates nothing", import_837)
    p.add_argument("files", nargs="+", metavar="FILE", help="837P files (005010X222A1)")
    p.add_argument("--dry-run", action="store_true", help="check and match everything, write nothing (a preview)")


def import_837(args) -> Result:
    """Import (or preview) the files and print the report."""
    report = claim_import.import_files(args.files, dry_run=args.dry_run)
    return Result(report.as_dict(), text(report), exit_code=1 if report.unreadable else 0)


def text(report: ImportReport) -> str:
    """The report for people: a block per file, then the totals when there are several files."""
    blocks = [_file_text(f) for f in report.files]
    if len(report.files) > 1:
        verb = "would import" if report.dry_run else "imported"
        blocks.append(f"all files: {verb} {report.count('imported')}, skipped {report.count('skipped')}, "
                      f"refused {report.count('refused')}; total charged {fmt(report.total_charges)}"
                      + (f"; {len(report.unreadable)} file(s) not read" if report.unreadable else ""))
    if report.dry_run:
        blocks.append("dry run: nothing was written")
    return "\n\n".join(blocks)


def _file_text(f: FileReport) -> str:
    if f.error is not None:
        return f"{f.file}: not read: {f.error}"
    head = f"{f.file}: {f.claims_found} claim(s) found (file of {f.date}, control number {f.control_number})"
    lines = [head]
    if f.already_imported:
        lines.append(f"  {f.already_text}")
    verb = "would import" if f.dry_run else "imported"
    lines.append(f"  {verb} {len(f.imported)}, skipped {len(f.skipped)} (imported before), refused "
                 f"{len(f.refused)}; total charged {fmt(f.total_charges)}")
    if f.imported:
        lines.append("  " + "; ".join(f"{kind} {f.tallies[kind].new} new, {f.tallies[kind].matched} matched"
                                      for kind in KINDS))
    if f.refused:
        lines.append("  refused:")
        lines += [f"    {r.claim_no or '(no claim number)'}: {r.reason}" for r in f.refused]
    if f.skipped:
        lines.append("  skipped:")
        lines += [f"    {s.claim_no}: {s.reason}" for s in f.skipped[:SHOWN_SKIPPED]]
        if len(f.skipped) > SHOWN_SKIPPED:
            lines.append(f"    ... and {len(f.skipped) - SHOWN_SKIPPED} more (--json lists them all)")
    if f.warnings:
        lines.append("  warnings:")
        lines += [f"    {w}" for w in f.warnings]
    return "\n".join(lines)
