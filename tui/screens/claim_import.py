"""Import 837 claim files: the claims the clinic's EHR or practice system sent (837P), each
becoming an encounter with its charges, billed to its payers, its claim marked sent.

Type the path of one or more files (space or comma separated; ``~`` and ``*.837`` work, a
path with spaces in quotes) and Enter (or F5): the files are read and checked in a worker by
the core's ``claim_import.preview``, which writes nothing. The preview shows, per file, the
claims found, how many would be imported, were imported before, or are refused; the patients,
payers, providers and service codes that would be made (new) or were found on file
(matched); the total charged; and every claim in a table with its outcome, a refused one with
its reason, segment and line (the line under the table gives the highlighted claim in full).
A file that cannot be read (missing, not an 837) is refused under the field, naming it.

F2 reads the files again and previews them (what is confirmed is what is in them now), then
asks; on yes the very bytes confirmed are imported (``claim_import.import_files``, one
transaction and one audit event per file) in a worker under a progress bar. One import runs
at a time, and the core is idempotent on the file digest and the claim number: importing
again creates nothing and says so. The result lists the encounters made; Enter on one opens
it in Advanced Actions.
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable, Static

from claimdesk.core.money import fmt
from claimdesk.core.services import claim_import
from claimdesk.core.services.claim_import_report import FileReport, ImportReport
from claimdesk.tui.screens.base import describe_error
from claimdesk.tui.screens.file_import import (  # noqa: F401 - PathsRefused, split_paths: where they were
    FIELD, SHOWN_ERRORS, FileImportScreen, PathsRefused, read_sources, split_paths,
)
from claimdesk.tui.widgets.progress import WorkProgress, run_with_progress
from claimdesk.tui import keys
from claimdesk.tui.widgets.table import clip

#: Claims listed in the table (the counts above it cover every claim).
TABLE_ROWS = 2000
#: Warnings of a file named in the summary before "(and N more)".
SHOWN_WARNINGS = 2

HINT = ("Type the path of one or more 837P claim files (space or comma separated; ~ and *.837 work) "
        "and press Enter or F5 to preview them: nothing is written. F2 imports after a confirm step.")

KIND_WORDS = (("patients", "patient(s)"), ("payers", "payer(s)"), ("providers", "provider(s)"), ("codes", "code(s)"))
#: The place a refusal's reason ends with (the table shows it in front, shorter).
PLACE_SUFFIX = re.compile(r":?\s*segment \w+ \(segment \d+, line \d+\)\s*$")


# --- loaders (run in workers) ----------------------------------------------------------------------
def load_preview(paths: list[str]) -> dict:
    """Read the files and ask the core what importing them would do (a dry run: nothing written).

    Each readable file goes to the core as ``(path, bytes)``, kept for the import, so what is
    confirmed is what is written; an unreadable one goes as its path, for the core to say why."""
    sources = read_sources(paths)
    report = claim_import.preview(sources)
    return {"paths": paths, "sources": [s for s in sources if isinstance(s, tuple)], "report": report}


def import_each(sources: list, done_files: list, *, progress) -> ImportReport:
    """Import the files one after the other (each in its own transaction, as the core does for
    several); ``done_files`` collects each file's report as it is written, so a cancel between
    two files (Ctrl+K) still shows what the files before it did."""
    for index, source in enumerate(sources):
        if index:
            progress(index, len(sources))  # raises Cancelled after Ctrl+K: the next file is not started
        done_files += claim_import.import_files([source]).files
    return ImportReport(list(done_files), False)


# --- what the screen shows -----------------------------------------------------------------------------
def short_name(f: FileReport) -> str:
    return Path(f.file).name or f.file


def unreadable_text(f: FileReport) -> str:
    """An unreadable file, named, with the core's reason (which names the path, or the segment and line)."""
    if f.error and f.file in f.error:
        return f.error
    return f"{f.file}: not read: {f.error}"


def tally_lines(f: FileReport) -> list[str]:
    """``New:  7 patient(s) · ...`` and ``Matched: ...``."""
    return [f"  {label:<8} " + " · ".join(f"{getattr(f.tallies[kind], which):,} {word}" for kind, word in KIND_WORDS)
            for label, which in (("New:", "new"), ("Matched:", "matched"))]


def file_block(f: FileReport, *, done: bool) -> Text:
    """One readable file's preview (``done``: its import) in a few lines."""
    t = Text()
    name = short_name(f)
    found = f"{f.claims_found:,} claim(s) found"
    if done and f.imported:
        ids = [r.encounter_id for r in f.imported]
        t.append(f"✔ {name}: imported {len(f.imported):,} claim(s)", style="bold")
        t.append(f" as encounters #{ids[0]}–#{ids[-1]}" if len(ids) > 1 else f" as encounter #{ids[0]}")
        t.append(f" · audit #{f.audit_id}" if f.audit_id else "")
        t.append(f"\n  {found} · total charges {fmt(f.total_charges)} · already imported {len(f.skipped):,} · "
                 f"refused {len(f.refused):,}")
    elif done:
        t.append(f"{name}: nothing imported", style="bold")
        t.append(f" ({f.already_text})" if f.already_imported else "")
        t.append(f"\n  {found} · already imported {len(f.skipped):,} · refused {len(f.refused):,}")
    else:
        t.append(f"{name}: {found}", style="bold")
        t.append(f" · {f.already_text}" if f.already_imported else
                 f" · file of {f.date} · control {f.control_number}")
        t.append(f"\n  To import {len(f.imported):,} · already imported {len(f.skipped):,} · "
                 f"refused {len(f.refused):,}"
                 f" · total charges {fmt(f.total_charges)}")
    for line in tally_lines(f):
        t.append("\n" + line)
    for w in f.warnings[:SHOWN_WARNINGS]:
        t.append(f"\n  ⚠ {w}")
    if len(f.warnings) > SHOWN_WARNINGS:
        t.append(f"\n  ⚠ (and {len(f.warnings) - SHOWN_WARNINGS} more warnings)")
    return t


def summary_text(report: ImportReport, *, done: bool) -> Text:
    """Every readable file's block; with several, a line for them all first."""
    readable = [f for f in report.files if f.error is None]
    t = Text()
    if len(report.files) > 1:
        verb = "imported" if done else "to import"
        t.append(f"{len(report.files)} files: {report.count('imported'):,} {verb}, {report.count('skipped'):,} already "
                 f"imported, {report.count('refused'):,} refused; total {fmt(report.total_charges)}"
                 + (f"; {len(report.unreadable)} not read" if report.unreadable else ""), style="bold")
    for f in readable:
        if t:
            t.append("\n")
        t.append_text(file_block(f, done=done))
    if not readable:
        t.append("No file could be read (see above). " + HINT)
    return t


def claim_rows(report: ImportReport) -> list[dict]:
    """Every claim of every readable file, in file order and the order of their CLMs."""
    rows: list[dict] = []
    for f in report.files:
        if f.error is not None:
            continue
        name = short_name(f)
        mine = [{"file": name, "outcome": "imported" if not f.dry_run else "to import", "claim_no": r.claim_no,
                 "line": r.claim_line, "encounter_id": r.encounter_id, "patient": r.patient,
                 "patient_new": r.patient_new, "payers": r.payers, "dos": r.dos, "total": r.total}
                for r in f.imported]
        mine += [{"file": name, "outcome": "already", "claim_no": s.claim_no, "line": s.claim_line,
                  "encounter_id": s.encounter_id, "reason": s.reason} for s in f.skipped]
        mine += [{"file": name, "outcome": "refused", "claim_no": r.claim_no, "line": r.claim_line,
                  "encounter_id": None, "reason": r.reason, "segment": r.segment, "seg_line": r.line,
                  "element": r.element} for r in f.refused]
        rows += sorted(mine, key=lambda r: r["line"])
    return rows


def where(row: dict) -> str:
    """A refused claim's place: ``CLM02 line 134`` (the element when known, else the segment)."""
    what = row.get("element") or row.get("segment") or "CLM"
    return f"{what} line {row['seg_line'] if row.get('seg_line') is not None else row['line']}"


OUTCOME_STYLE = {"to import": ("to import", ""), "imported": ("✔ imported", "bold"),
                 "already": ("already", "dim"), "refused": ("✘ refused", "bold")}


def cells(row: dict, several: bool) -> list:
    label, style = OUTCOME_STYLE[row["outcome"]]
    if row["outcome"] in ("to import", "imported"):
        who = row["patient"] + (" (new)" if row["patient_new"] else "")
        dos, total = str(row["dos"]), fmt(row["total"])
    elif row["outcome"] == "refused":
        who, dos, total = f"{where(row)}: {PLACE_SUFFIX.sub('', row['reason'])}", "", ""
    else:
        enc = row["encounter_id"]
        who, dos, total = (f"imported as encounter #{enc}" if enc else "in a file before it"), "", ""
    # (80 columns: the claim 11, outcome 10, date 10, total 9, their padding 10, the rest for who)
    out = [row["claim_no"] or "(none)", Text(label, style=style), clip(who, 16 if several else 28), dos,
           Text(total, justify="right")]
    return ([clip(row["file"], 10)] if several else []) + out


def detail_text(row: dict | None, done: bool) -> Text:
    """The highlighted claim in full (its reason and place when refused)."""
    if row is None:
        return Text("")
    t = Text()
    claim = row["claim_no"] or "(no claim number)"
    if row["outcome"] == "refused":
        t.append(f"{claim} refused", style="bold")
        if row.get("segment") and row.get("seg_line") is not None:
            element = f", element {row['element']}" if row.get("element") else ""
            t.append(f" at line {row['seg_line']} (segment {row['segment']}{element}; its CLM is at line "
                     f"{row['line']} of {row['file']}): {PLACE_SUFFIX.sub('', row['reason'])}")
        else:
            t.append(f" (its CLM at line {row['line']} of {row['file']}): {row['reason']}")
        return t
    t.append(f"{claim} (CLM at line {row['line']} of {row['file']})", style="bold")
    if row["outcome"] == "already":
        t.append(f": {row['reason']}")
    else:
        payers = "; ".join(row["payers"]) or "no payer: the patient pays"
        t.append(f": {row['patient']}{' (new patient)' if row['patient_new'] else ''} · {payers} · "
                 f"{row['dos']} · {fmt(row['total'])}")
    if row["encounter_id"]:
        t.append(f"\nEnter opens encounter #{row['encounter_id']} in Advanced Actions.", style="dim")
    elif not done:
        t.append("\nF2 imports it (after a confirm step).", style="dim")
    return t


# --- the screen ---------------------------------------------------------------------------------------
class ClaimImportScreen(FileImportScreen):
    """Files, Enter/F5 previews (nothing written), F2 imports after a confirm step."""

    PREFIX = "ci"
    PLACEHOLDER = "claims.837 ~/edi/*.837 (space or comma separated)"
    HINT = HINT
    WHAT = "837P files"
    READING = "Reading and checking"
    BUSY = "The import is still running: wait for its result."
    LOADER = staticmethod(load_preview)

    TITLE = "Import 837 claim files"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.look_again("preview", "Preview"),
        keys.do_it("import", "Import"),
    ]
    DEFAULT_CSS = """
    ClaimImportScreen .ci-label { width: 7; padding-left: 1; }
    ClaimImportScreen .line Input { width: 1fr; }
    ClaimImportScreen #ci-files-error { padding-left: 7; }
    ClaimImportScreen #ci-error { padding-left: 1; }
    ClaimImportScreen #ci-summary-box { height: auto; max-height: 9; }
    ClaimImportScreen #ci-detail { height: 3; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.preview: dict | None = None  # the preview on screen (cleared once imported)
        self.done = False  # the table shows an import's result
        self.rows: list[dict] = []
        self.importing = False  # one import at a time: F2 while it runs is refused
        self.confirming = False  # one confirm step at a time
        self.done_files: list[FileReport] = []

    def running(self) -> bool:
        return self.importing

    def show_preview(self, info: dict, then=None) -> None:
        report: ImportReport = info["report"]
        self.preview, self.done = info, False
        unreadable = report.unreadable
        if unreadable:
            self.field_error([unreadable_text(f) for f in unreadable])
        self.query_one("#ci-summary", Static).update(summary_text(report, done=False))
        self.fill_table(report)
        if then is not None:
            then(info)

    def preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.query_one("#ci-summary", Static).update(HINT)
        self.fill_table(None)
        self.general_error(describe_error(exc))

    def fill_table(self, report: ImportReport | None) -> None:
        table = self.query_one("#ci-table", DataTable)
        before = [(r["file"], r["claim_no"]) for r in self.rows]
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        every = claim_rows(report) if report is not None else []
        self.rows = every[:TABLE_ROWS]
        if len(every) > TABLE_ROWS:
            self.notify(f"The table lists the first {TABLE_ROWS:,} of {len(every):,} claims; the counts above "
                        "cover them all.", timeout=6)
        if report is None or not self.rows:
            self.query_one("#ci-detail", Static).update("")
            return
        several = len({r["file"] for r in self.rows}) > 1
        table.add_columns(*(["File"] if several else []), "Claim", "Outcome", "Patient, or why not", "DOS",
                          Text("Total", justify="right"))
        table.add_rows([cells(r, several) for r in self.rows])
        # the same claims again (F2 previews them anew): the cursor stays on its claim
        same = before == [(r["file"], r["claim_no"]) for r in self.rows]
        table.move_cursor(row=keep if same and keep < len(self.rows) else 0)
        self.show_detail()

    def show_detail(self) -> None:
        self.query_one("#ci-detail", Static).update(detail_text(self.highlighted_row(self.rows), self.done))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.highlighted_row(self.rows)
        if row is None:
            return
        if row["encounter_id"]:
            self.app.open_advanced(row["encounter_id"])
        elif row["outcome"] == "refused":
            self.notify("A refused claim is not imported: correct it in the system that wrote the file, "
                        "then import the file again (the claims imported already are skipped).", timeout=8)
        else:
            self.notify("Not imported yet: F2 imports the files previewed.", timeout=5)

    # -- import ---------------------------------------------------------------------------------------
    def action_import(self) -> None:
        """Read the files again and preview them (what is confirmed is what is in them now), then ask."""
        if self.importing:
            self.notify("The import is still running: wait for its result.", timeout=5)
            return
        self.action_preview(then=self.confirm)

    def confirm(self, info: dict) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        report: ImportReport = info["report"]
        if report.unreadable:
            self.general_error(f"Not imported: {len(report.unreadable)} file(s) cannot be read (see above); "
                               "correct or remove them from the field first.")
            return
        to_import = report.count("imported")
        if not to_import:
            why = (f"{report.count('skipped'):,} already imported" if report.count("skipped") else "") + \
                  (", " if report.count("skipped") and report.count("refused") else "") + \
                  (f"{report.count('refused'):,} refused" if report.count("refused") else "")
            self.general_error("Nothing to import: every claim is already imported or refused "
                               f"({why or 'none found'}).")
            return
        names = ", ".join(short_name(f) for f in report.files)
        tallies = {kind: (sum(f.tallies[kind].new for f in report.files),
                          sum(f.tallies[kind].matched for f in report.files)) for kind, _w in KIND_WORDS}
        lines = [("Files", clip(names, 60)),
                 ("Encounters", f"{to_import:,} new, one per claim, with its charges; its claim marked sent on "
                                f"{'the file' if len(report.files) == 1 else 'its file'}'s date"),
                 ("Total charges", fmt(report.total_charges)),
                 *((kind.capitalize(), f"{new:,} new, {matched:,} matched")
                   for kind, (new, matched) in tallies.items()),
                 ("Not imported", f"{report.count('skipped'):,} already imported, {report.count('refused'):,} refused")]
        if self.confirming:  # (a second F2 whose preview answered too)
            return
        self.confirming = True

        def answered(yes: bool | None) -> None:
            self.confirming = False
            if yes:
                self.start_import(info)

        self.app.push_screen(ConfirmScreen(f"Import {to_import:,} claim(s)? One transaction and audit event per file.",
                                           lines, yes="Import", no="Back"), callback=answered)

    def start_import(self, info: dict) -> None:
        """Import the bytes confirmed; never twice at once (the core is idempotent on the file digest and
        the claim number besides: a file imported again creates nothing)."""
        if self.importing:
            return
        self.clear_errors()
        self.importing = True
        self.done_files = []
        sources = info["sources"]
        count = info["report"].count("imported")
        label = (f"Importing {count:,} claim(s) from {len(sources)} files (Ctrl+K stops before the next file)"
                 if len(sources) > 1 else f"Importing {count:,} claim(s) from {Path(sources[0][0]).name}")
        run_with_progress(self, import_each, sources, self.done_files, bar=self.query_one(WorkProgress),
                          label=label, what="the import",
                          determinate=len(sources) > 1, done=self.imported, cancelled=self.import_cancelled,
                          failed=self.import_failed)

    def imported(self, report: ImportReport) -> None:
        self.importing = False
        self.preview, self.done = None, True
        self.query_one("#ci-summary", Static).update(summary_text(report, done=True))
        self.fill_table(report)
        self.query_one("#ci-table", DataTable).check_idle()  # (this answer came by run_with_progress)
        if self.rows:
            self.query_one("#ci-table", DataTable).focus()

    def import_cancelled(self) -> None:
        self.importing = False
        files = list(self.done_files)
        if files:
            self.imported(ImportReport(files, False))
        self.general_error(f"Import cancelled after {len(files)} file(s): "
                           + ("those are imported (above); the others were not started."
                              if files else "nothing was written."))

    def import_failed(self, exc: BaseException) -> None:
        self.importing = False
        files = list(self.done_files)
        if files:
            self.imported(ImportReport(files, False))
        self.general_error(("Not imported: " if not files else f"Stopped after {len(files)} file(s) imported: ")
                           + describe_error(exc))
