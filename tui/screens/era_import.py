"""Post ERA (835 remittance) files: each payment of a payer's 835 becomes a voucher, each claim an
EOB, through the core's ``era_import``; and the ERA exceptions, the claims it could not post.

Type the path of one or more 835 files (space or comma separated; ``~`` and ``*.835`` work, a
path with spaces in quotes) and Enter (or F5): the files are read, balanced and matched in a
worker by ``era_import.preview``, which writes nothing. The top lines give the file(s): the
payments, how many would be posted, were posted before or are refused, and their total; under
them the payment of the highlighted row in full: payer, amount, method, date, trace, what its
claims would become (posted, denied, reversal, no payment, exception), what the claims pay and
what stays undistributed on the voucher for the exceptions, and the provider-level (PLB)
adjustments. The table lists every claim of every payment (the payment's number first when
there are several): its claim number, status (CLP02), paid, action, encounter, and its EOB or
why not; a refused payment, or one posted before, has a row of its own with the reason. The
line under the table gives the highlighted claim in full.

F2 reads the files again and previews them (what is confirmed is what is in them now), then
asks, naming the payments, claims and total; on yes the very bytes confirmed are posted
(``era_import.import_files``: each payment its own transaction and audit event, all of it or
nothing) in a worker under a progress bar. The result shows the vouchers and EOBs made; Enter on
a claim with an encounter opens it in Advanced Actions. Posting the same file again posts
nothing and says where each payment went.

F7 (and Home, x) opens :class:`EraExceptionsScreen`: the open exceptions with their reasons;
r resolves the highlighted one with a note (``era_exceptions.resolve``), a refusal shown under
the note.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from claimdesk.core.money import Cents, fmt
from claimdesk.core.services import era_exceptions, era_import, views
from claimdesk.core.services.era_report import ACTIONS, ClaimRow, EraReport, FileReport, PaymentReport
from claimdesk.core.services.era_report import tally_text as report_tally_text
from claimdesk.tui.screens.base import BaseScreen, FormDialog, describe_error
from claimdesk.tui.screens.file_import import FileImportScreen, read_sources
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.field_errors import FieldErrors, Place
from claimdesk.tui.widgets.progress import WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table, clip
from claimdesk.tui import keys

#: Rows listed in the table (the counts above it cover every claim).
TABLE_ROWS = 2000
#: Warnings of a file named in the summary before "(and N more)".
SHOWN_WARNINGS = 2

HINT = ("Type the path of one or more 835 remittance files (space or comma separated; ~ and *.835 work) "
        "and press Enter or F5 to preview them: nothing is written. F2 posts after a confirm step; "
        "F7 lists the ERA exceptions.")

#: A claim's action as the table shows it, before and after posting (label, style).
PREVIEW_ACTIONS = {"post": ("to post", ""), "deny": ("denied", ""), "reverse": ("reversal", ""),
                   "informational": ("no payment", "dim"), "exception": ("✘ exception", "bold")}
POSTED_ACTIONS = {**PREVIEW_ACTIONS, "post": ("✔ posted", "bold"), "deny": ("✔ denied", "")}
#: A payment's own row (refused, or posted before).
PAYMENT_OUTCOMES = {"refused": ("✘ refused", "bold"), "already": ("already", "dim")}


# --- loaders (run in workers) ----------------------------------------------------------------------
def queue_names() -> dict[str, str]:
    """Work queue key -> its name (where a denial routes)."""
    return {q["key"]: q["name"] for q in views.queue_counts()}


def load_preview(paths: list[str]) -> dict:
    """Read the files and ask the core what posting them would do (a dry run: nothing written).

    Each readable file goes to the core as ``(path, bytes)``, kept for the post, so what is
    confirmed is what is written; an unreadable one goes as its path, for the core to say why."""
    sources = read_sources(paths)
    report = era_import.preview(sources)
    return {"paths": paths, "sources": [s for s in sources if isinstance(s, tuple)], "report": report,
            "queues": queue_names()}


def post_each(sources: list, done_files: list, *, progress) -> dict:
    """Post the files one after the other (each payment in its own transaction, as the core does);
    ``done_files`` collects each file's report as it is posted, so a cancel between two files
    (Ctrl+K) still shows what the files before it did."""
    for index, source in enumerate(sources):
        if index:
            progress(index, len(sources))  # raises Cancelled after Ctrl+K: the next file is not started
        done_files += era_import.import_files([source]).files
    return {"report": EraReport(list(done_files), False), "queues": queue_names()}


# --- what the screen shows -----------------------------------------------------------------------------
def _n(count: int, word: str) -> str:
    return f"{count:,} {word}"


def unreadable_text(f: FileReport) -> str:
    """An unreadable file, named, with the core's reason."""
    return f.error if f.name in f.error else f"{f.name}: not read: {f.error}"


def readable(report: EraReport) -> list[FileReport]:
    return [f for f in report.files if not f.error]


def payments_of(report: EraReport) -> list[tuple[FileReport, PaymentReport]]:
    """Every payment of every readable file, in file order."""
    return [(f, p) for f in readable(report) for p in f.payments]


def outcome_counts(payments: list[PaymentReport]) -> dict[str, int]:
    counts = {"preview": 0, "posted": 0, "already": 0, "refused": 0}
    for p in payments:
        counts[p.status] = counts.get(p.status, 0) + 1
    return counts


def tally_text(p: PaymentReport) -> str:
    """``2 posted, 1 exception`` (a preview: ``2 to post, 2 exceptions``), the core's words."""
    return report_tally_text(p.tallies, ahead=p.status.endswith("preview"))


def plb_text(p: PaymentReport) -> str:
    """``PLB: WO CD030000001 25.00, L6 0500311534722 -3.47, ...`` ("" without PLB)."""
    if not p.provider_adjustments:
        return ""
    return "PLB: " + ", ".join(f"{a['reason']}{' ' + a['reference'] if a.get('reference') else ''} "
                               f"{fmt(a['amount'])}" for a in p.provider_adjustments)


def files_text(report: EraReport, *, done: bool) -> Text:
    """The file(s) in a line: payments to post (posted), posted before, refused; their total."""
    t = Text()
    files = readable(report)
    if not files:
        return t
    pays = [p for _f, p in payments_of(report)]
    counts = outcome_counts(pays)
    total = Cents(sum(p.amount for p in pays if p.status in ("preview", "posted")))
    head = f"{len(report.files)} files" if len(report.files) > 1 else files[0].name
    t.append(f"{head}: {_n(len(pays), 'payment(s)')}", style="bold")
    if done:
        t.append(f" · posted {counts['posted']:,} ({fmt(total)})")
    else:
        t.append(f" · to post {counts['preview']:,} ({fmt(total)})")
    t.append(f" · already posted {counts['already']:,}")
    t.append(f" · refused {counts['refused']:,}", style="bold" if counts["refused"] else "")
    unread = len(report.files) - len(files)
    if unread:
        t.append(f" · {unread} file(s) not read", style="bold")
    for f in files:
        if f.already:
            t.append(f"\n{f.name}: {f.already}" if len(files) > 1 else f"\n{f.already}", style="dim")
        for w in f.warnings[:SHOWN_WARNINGS]:
            t.append(f"\n⚠ {f.name}: {w}" if len(files) > 1 else f"\n⚠ {w}")
        if len(f.warnings) > SHOWN_WARNINGS:
            t.append(f"\n⚠ (and {len(f.warnings) - SHOWN_WARNINGS} more warnings)")
    return t


def payment_block(f: FileReport, p: PaymentReport, number: int, of: int, several_files: bool) -> Text:
    """One payment in full: who paid what how and when, what its claims would become (became)."""
    t = Text()
    where = f" ({f.name})" if several_files else ""
    t.append(f"Payment {number}/{of}{where} {p.payer_name or '?'}", style="bold")
    t.append(f" · {fmt(p.amount)} {p.method}".rstrip())
    t.append(f" {p.paid_on}" if p.paid_on else "")
    t.append(f" · trace {p.trace_number}")
    if p.status == "refused":
        t.append("\n  ✘ Refused, nothing of it is posted: ", style="bold")
        t.append(p.reason)
        return t
    if p.status == "already":
        t.append("\n  Already posted, nothing to do: ", style="bold")
        t.append(p.reason)
        return t
    claims = _n(len(p.claims), "claim(s)")
    if p.status == "posted":
        t.append(f"\n  ✔ Posted as voucher #{p.voucher_id}" if p.voucher_id else "\n  ✔ Posted (no money: no voucher)",
                 style="bold")
        t.append(f", {claims}: {tally_text(p)}")
    else:
        t.append(f"\n  Would post {claims}: {tally_text(p)}")
    t.append(f"\n  Claims pay {fmt(p.posted_paid)}")
    if p.undistributed:
        t.append(" · ")
        t.append(f"{fmt(p.undistributed)} stays undistributed", style="bold")
    if p.provider_adjustments:
        total = p.provider_total
        t.append(f" · PLB kept {fmt(total)}" if total >= 0 else f" · PLB adds {fmt(-total)}")
    if p.audit_id:
        t.append(f" · audit #{p.audit_id}")
    if p.provider_adjustments:
        t.append(f"\n  {plb_text(p)}")
    return t


def claim_rows(report: EraReport) -> list[dict]:
    """Every claim of every payment, a refused payment or one posted before as a row of its own."""
    rows: list[dict] = []
    for number, (f, p) in enumerate(payments_of(report), 1):
        if p.status in ("refused", "already"):
            rows.append({"number": number, "file": f, "payment": p, "claim": None})
        rows += [{"number": number, "file": f, "payment": p, "claim": c} for c in p.claims]
    return rows


def queue_label(key: str, queues: dict[str, str]) -> str:
    return queues.get(key, key)


def why_text(c: ClaimRow, queues: dict[str, str]) -> str:
    """The EOB a claim became (or takes back), or why it is not posted ("" for a claim to post)."""
    eob = f"EOB #{c.eob_id}" if c.eob_id else ""
    cross = "crossed over" if c.crossed_over else ""
    if c.action == "post":
        return " · ".join(x for x in (eob, cross) if x)
    if c.action == "deny":
        return f"{eob + ' ' if eob else ''}→ {queue_label(c.queue or 'denied', queues)}"
    if c.action == "reverse":
        return f"takes back EOB #{c.reverses}" if c.reverses else "takes back its EOB"
    return c.reason


def what_text(c: ClaimRow, queues: dict[str, str], done: bool) -> str:
    """What posting does (did) with a claim, in a sentence."""
    enc = f"encounter #{c.encounter_id}"
    cross = " (crossed over to the next payer)" if c.crossed_over else ""
    queue = queue_label(c.queue or "denied", queues)
    if c.action == "post":
        return (f"Posted as EOB #{c.eob_id} on {enc}{cross}." if done else
                f"Would post an EOB of {fmt(c.paid)} on {enc}{cross}.")
    if c.action == "deny":
        return (f"Denied: EOB #{c.eob_id} on {enc}; the encounter is in {queue}." if done else
                f"Denied: would post a denial EOB on {enc}, the encounter to {queue}.")
    if c.action == "reverse":
        return (f"{'Took' if done else 'Would take'} back EOB #{c.reverses} on {enc} "
                f"({fmt(c.paid)}).")
    return ""


def status_short(c: ClaimRow) -> str:
    """CLP02 in a word or two for the table (``primary``, ``primary, fwd``, ``reversal``); the line
    under the table gives it whole."""
    text = c.status_text.removeprefix("processed as ")
    short = text.split(",")[0].split(" of ")[0]
    return short + (", fwd" if "forwarded" in text and not short.startswith("not our") else "")


def fit_last(rows: list[list], headers: list, width: int) -> list[list]:
    """The rows with their last cell cut to what the other columns leave of ``width`` (each column
    padded by 2, and 2 for a scrollbar), so the table needs no horizontal scrolling."""
    if not rows:
        return rows
    widths = [max(cell_len(headers[i]), *(cell_len(r[i]) for r in rows)) for i in range(len(headers) - 1)]
    room = max(16, width - sum(w + 2 for w in widths) - 4)
    return [r[:-1] + [clip(r[-1], room)] for r in rows]


def cell_len(cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else len(str(cell))


def cells(row: dict, several: bool, queues: dict[str, str], done: bool) -> list:
    """A table row (its last cell whole: :func:`fit_last` cuts it)."""
    p: PaymentReport = row["payment"]
    c: ClaimRow | None = row["claim"]
    lead = [str(row["number"])] if several else []
    if c is None:
        label, style = PAYMENT_OUTCOMES[p.status]
        return lead + ["(payment)", "", Text(fmt(p.amount), justify="right"),
                       Text(label, style=style), "", p.reason]
    label, style = (POSTED_ACTIONS if done else PREVIEW_ACTIONS)[c.action]
    return lead + [c.claim_no or "(none)", clip(status_short(c), 11), Text(fmt(c.paid), justify="right"),
                   Text(label, style=style), str(c.encounter_id or "—"), why_text(c, queues)]


def detail_text(row: dict | None, queues: dict[str, str], done: bool) -> Text:
    """The highlighted row in full."""
    if row is None:
        return Text("")
    t = Text()
    p: PaymentReport = row["payment"]
    c: ClaimRow | None = row["claim"]
    if c is None:
        t.append(f"Payment {p.trace_number} {'refused' if p.status == 'refused' else 'posted before'}: ",
                 style="bold")
        t.append(p.reason)
        return t
    t.append(c.claim_no or "(no claim number)", style="bold")
    t.append(f": {c.status_text}, paid {fmt(c.paid)} of {fmt(c.charge)}, patient {fmt(c.patient_responsibility)}")
    where = f" (line {c.line} of {row['file'].name})"
    if c.action == "exception":
        t.append("\n✘ Exception", style="bold")
        t.append(f"{where}: {c.reason}")
    elif c.action == "informational":
        t.append(f"\nNo payment{where}" + (f": {c.reason}" if c.reason else "."))
    else:
        t.append(f"\n{what_text(c, queues, done)}")
    if c.encounter_id:
        t.append(f"\nEnter opens encounter #{c.encounter_id} in Advanced Actions.", style="dim")
    return t


# --- the ERA screen -----------------------------------------------------------------------------------
class EraImportScreen(FileImportScreen):
    """Files, Enter/F5 previews (nothing written), F2 posts after a confirm step, F7 the exceptions."""

    PREFIX = "era"
    PLACEHOLDER = "remit.835 ~/era/*.835 (space or comma separated)"
    HINT = HINT
    WHAT = "835 remittance files"
    READING = "Reading, balancing and matching"
    BUSY = "The post is still running: wait for its result."
    LOADER = staticmethod(load_preview)

    TITLE = "Post ERA (835 remittance)"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        keys.look_again("preview", "Preview"),
        keys.do_it("post", "Post"),
        keys.related("exceptions", "Exceptions"),
    ]
    DEFAULT_CSS = """
    EraImportScreen .era-label { width: 7; padding-left: 1; }
    EraImportScreen .line Input { width: 1fr; }
    EraImportScreen #era-files-error { padding-left: 7; }
    EraImportScreen #era-error { padding-left: 1; }
    EraImportScreen #era-summary-box { height: auto; max-height: 7; }
    EraImportScreen #era-detail { height: auto; max-height: 4; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.preview: dict | None = None  # the preview on screen (cleared once posted)
        self.report: EraReport | None = None  # what the screen shows (preview or result)
        self.queues: dict[str, str] = {}
        self.done = False  # the table shows a post's result
        self.rows: list[dict] = []
        self.posting = False  # one post at a time
        self.confirming = False  # one confirm step at a time
        self.done_files: list[FileReport] = []

    def running(self) -> bool:
        return self.posting

    def show_preview(self, info: dict, then=None) -> None:
        report: EraReport = info["report"]
        self.preview, self.done = info, False
        unreadable = [f for f in report.files if f.error]
        if unreadable:
            self.field_error([unreadable_text(f) for f in unreadable])
        self.show_report(report, info["queues"])
        if then is not None:
            then(info)

    def preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.show_report(None, {})
        self.general_error(describe_error(exc))

    def show_report(self, report: EraReport | None, queues: dict[str, str]) -> None:
        self.report, self.queues = report, queues
        self.fill_table(report)
        self.show_summary()

    def show_summary(self) -> None:
        """The file line(s), then the payment of the highlighted row."""
        summary = self.query_one("#era-summary", Static)
        report = self.report
        if report is None:
            summary.update(HINT)
            return
        if not readable(report):
            summary.update("No file could be read (see above). " + HINT)
            return
        t = files_text(report, done=self.done)
        payments = payments_of(report)
        row = self.highlighted_row(self.rows, self.query_one("#era-table", DataTable))
        number = row["number"] if row is not None else 1
        if payments:
            f, p = payments[number - 1]
            t.append("\n")
            t.append_text(payment_block(f, p, number, len(payments), len(report.files) > 1))
        else:
            t.append("\nNo payment (ST 835) in the file.")
        summary.update(t)

    def fill_table(self, report: EraReport | None) -> None:
        table = self.query_one("#era-table", DataTable)
        before = [(r["number"], r["claim"] and r["claim"].claim_no) for r in self.rows]
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        every = claim_rows(report) if report is not None else []
        self.rows = every[:TABLE_ROWS]
        if len(every) > TABLE_ROWS:
            self.notify(f"The table lists the first {TABLE_ROWS:,} of {len(every):,} rows; the counts above "
                        "cover them all.", timeout=6)
        if report is None or not self.rows:
            self.query_one("#era-detail", Static).update("")
            return
        several = len(payments_of(report)) > 1
        headers = [*(["#"] if several else []), "Claim", "Status", Text("Paid", justify="right"), "Action", "Enc",
                   "EOB, or why not"]
        table.add_columns(*headers)
        width = table.size.width or self.app.size.width
        table.add_rows(fit_last([cells(r, several, self.queues, self.done) for r in self.rows], headers, width))
        # the same claims again (F2 previews them anew): the cursor stays on its claim
        same = before == [(r["number"], r["claim"] and r["claim"].claim_no) for r in self.rows]
        table.move_cursor(row=keep if same and keep < len(self.rows) else 0)
        self.show_detail()

    def show_detail(self) -> None:
        self.query_one("#era-detail", Static).update(
            detail_text(self.highlighted_row(self.rows, self.query_one("#era-table", DataTable)), self.queues,
                        self.done))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()
        self.show_summary()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.highlighted_row(self.rows, self.query_one("#era-table", DataTable))
        if row is None:
            return
        c: ClaimRow | None = row["claim"]
        if c is not None and c.encounter_id:
            self.app.open_advanced(c.encounter_id)
        elif c is None and row["payment"].status == "refused":
            self.notify("A refused payment is not posted: the reason is above. Post it by hand (Credit entry, "
                        "Advanced Actions) or ask the payer for a corrected file.", timeout=8)
        elif c is None:
            self.notify("This payment was posted before: nothing to do.", timeout=5)
        else:
            self.notify("No encounter matched this claim: it waits in the ERA exceptions (F7).", timeout=6)

    # -- post -----------------------------------------------------------------------------------------
    def action_post(self) -> None:
        """Read the files again and preview them (what is confirmed is what is in them now), then ask."""
        if self.posting:
            self.notify("The post is still running: wait for its result.", timeout=5)
            return
        self.action_preview(then=self.confirm)

    def confirm(self, info: dict) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        report: EraReport = info["report"]
        unreadable = [f for f in report.files if f.error]
        if unreadable:
            self.general_error(f"Not posted: {len(unreadable)} file(s) cannot be read (see above); "
                               "correct or remove them from the field first.")
            return
        pays = [p for _f, p in payments_of(report)]
        counts = outcome_counts(pays)
        to_post = [p for p in pays if p.status == "preview"]
        if not to_post:
            why = ", ".join(f"{n:,} {w}" for n, w in ((counts["already"], "already posted"),
                                                     (counts["refused"], "refused")) if n)
            self.general_error(f"Nothing to post: every payment is already posted or refused ({why or 'none found'}).")
            return
        claims = sum(len(p.claims) for p in to_post)
        total = Cents(sum(p.amount for p in to_post))
        tallies = {a: sum(p.count(a) for p in to_post) for a in ACTIONS}
        names = ", ".join(f.name for f in report.files)
        undistributed = Cents(sum(p.undistributed for p in to_post))
        plb = Cents(sum(p.provider_total for p in to_post))
        lines = [("Files", clip(names, 48)),
                 ("Payments", f"{len(to_post):,} to post, {fmt(total)} in all (a voucher each)"),
                 ("Claims", report_tally_text(tallies, ahead=True)),
                 ("Claims pay", fmt(Cents(sum(p.posted_paid for p in to_post))))]
        if undistributed:
            lines.append(("Stays undistributed", f"{fmt(undistributed)} (the exceptions', on their vouchers)"))
        if any(p.provider_adjustments for p in to_post):
            lines.append(("PLB", f"{fmt(plb)} kept by the payers" if plb >= 0 else f"{fmt(-plb)} added by the payers"))
        lines.append(("Not posted", f"{counts['already']:,} already posted, {counts['refused']:,} refused"))
        if self.confirming:  # (a second F2 whose preview answered too)
            return
        self.confirming = True

        def answered(yes: bool | None) -> None:
            self.confirming = False
            if yes:
                self.start_post(info, len(to_post))

        self.app.push_screen(ConfirmScreen(f"Post {len(to_post):,} payment(s), {claims:,} claim(s), total {fmt(total)}?",
                                           lines, yes="Post", no="Back",
                                           note="Each payment is one transaction and audit event: all of it "
                                                "or nothing."), callback=answered)

    def start_post(self, info: dict, payments: int) -> None:
        """Post the bytes confirmed; never twice at once (the core posts a payment once: the same
        payer, trace and amount again posts nothing)."""
        if self.posting:
            return
        self.clear_errors()
        self.posting = True
        self.done_files = []
        sources = info["sources"]
        label = (f"Posting {payments:,} payment(s) from {len(sources)} files (Ctrl+K stops before the next file)"
                 if len(sources) > 1 else f"Posting {payments:,} payment(s) from {Path(sources[0][0]).name}")
        run_with_progress(self, post_each, sources, self.done_files, bar=self.query_one(WorkProgress),
                          label=label, what="the post", determinate=len(sources) > 1, done=self.posted,
                          cancelled=self.post_cancelled, failed=self.post_failed)

    def posted(self, result: dict) -> None:
        self.posting = False
        self.preview, self.done = None, True
        report: EraReport = result["report"]
        self.show_report(report, result["queues"])
        table = self.query_one("#era-table", DataTable)
        table.check_idle()  # (this answer came by run_with_progress)
        if self.rows:
            table.focus()
        exceptions = report.count("exception")
        if exceptions:
            self.notify(f"{exceptions:,} claim(s) went to the ERA exceptions: F7 lists them.", timeout=6)

    def _partial(self) -> list[FileReport]:
        self.posting = False
        files = list(self.done_files)
        if files:
            self.posted({"report": EraReport(files, False), "queues": self.queues})
        return files

    def post_cancelled(self) -> None:
        files = self._partial()
        self.general_error(f"Post cancelled after {len(files)} file(s): "
                           + ("those are posted (above); the others were not started."
                              if files else "nothing was written."))

    def post_failed(self, exc: BaseException) -> None:
        files = self._partial()
        self.general_error(("Not posted: " if not files else f"Stopped after {len(files)} file(s) posted: ")
                           + describe_error(exc))

    def action_exceptions(self) -> None:
        self.app.push_screen(EraExceptionsScreen())


# --- the ERA exceptions -----------------------------------------------------------------------------
def exception_cells(r: dict) -> list:
    return [str(r["id"]), r["claim_no"] or "(none)", clip(r["payer"], 12), Text(fmt(r["paid"]), justify="right"),
            f"#{r['voucher_id']}" if r["voucher_id"] else "—", str(r["encounter_id"] or "—"), r["reason"]]


def exception_text(r: dict | None, keys: bool = False) -> Text:
    """One exception in full: the claim, where it came from, where its money waits, why."""
    if r is None:
        return Text("")
    t = Text()
    t.append(f"#{r['id']} claim {r['claim_no'] or '(none)'}", style="bold")
    voucher = f"waiting on voucher #{r['voucher_id']}" if r["voucher_id"] else "no voucher"
    t.append(f" from {r['payer']} (trace {r['trace_number']}, {r['file']} line {r['line']}, posted "
             f"{r['posted_on']}): paid {fmt(r['paid'])} {voucher}; "
             + (f"encounter #{r['encounter_id']}" if r["encounter_id"] else "no encounter matched"))
    t.append("\n✘ ", style="bold")
    t.append(r["reason"])
    if keys:
        t.append(f"\n{'Enter opens encounter #' + str(r['encounter_id']) + ' · ' if r['encounter_id'] else ''}"
                 "r resolves it with a note.", style="dim")
    return t


class EraExceptionsScreen(BaseScreen):
    """The open ERA exceptions: Enter opens the encounter, r resolves with a note, F5 reloads."""

    TITLE = "ERA exceptions"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "resolve", "Resolve"),
        Binding("enter", "open_encounter", "Encounter", show=True),
        keys.look_again("reload"),
    ]
    DEFAULT_CSS = """
    EraExceptionsScreen #ex-title { height: auto; }
    EraExceptionsScreen #ex-status { height: auto; max-height: 3; padding: 0 1; }
    EraExceptionsScreen #ex-detail { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="ex-title", classes="facts")
        yield Static("", id="ex-status")
        yield Table(id="ex-table", cursor_type="row")
        yield Static("", id="ex-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.say("")
        self.action_reload()

    def say(self, text: str) -> None:
        """What was just done (no room taken when nothing)."""
        status = self.query_one("#ex-status", Static)
        status.update(Text(text, style="bold"))
        status.display = bool(text)

    def action_reload(self) -> None:
        self.call(era_exceptions.open_exceptions, done=self.fill, group="exceptions", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.rows = rows
        self.query_one("#ex-title", Static).update(
            f"{len(rows):,} open ERA exception(s), oldest first; their money waits on the voucher."
            if rows else "No ERA exception waits.")
        table = self.query_one(DataTable)
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        headers = ["#", "Claim", "Payer", Text("Paid", justify="right"), "Voucher", "Enc", "Why"]
        table.add_columns(*headers)
        table.add_rows(fit_last([exception_cells(r) for r in rows], headers, table.size.width or self.app.size.width))
        if rows:
            table.move_cursor(row=min(keep or 0, len(rows) - 1))
        table.focus()
        self.show_detail()

    def current(self) -> dict | None:
        return self.highlighted_row(self.rows)

    def show_detail(self) -> None:
        self.query_one("#ex-detail", Static).update(exception_text(self.current(), keys=True))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_encounter()

    def action_open_encounter(self) -> None:
        r = self.current()
        if r is None:
            return
        if r["encounter_id"]:
            self.app.open_advanced(r["encounter_id"])
        else:
            self.notify("No encounter matched this claim: post it by hand from its voucher, or refund it, then "
                        "resolve it (r).", timeout=8)

    def action_resolve(self) -> None:
        r = self.current()
        if r is None:
            self.say("No exception to resolve.")
            return
        self.app.push_screen(ResolveDialog(r), callback=self.resolved)

    def resolved(self, result: dict | None) -> None:
        if not result:
            return
        left = "; taken off the ERA exceptions queue" if result.get("left_queue") else ""
        self.say(f"✔ ERA exception #{result['exception_id']} (claim {result['claim_no']}) resolved{left}.")
        self.action_reload()


class ResolveDialog(FormDialog):
    """A note saying what was done about an exception; F2 (or Enter) resolves it."""

    SAVE_BUTTON = "rs-save"
    BINDINGS = [Binding("escape", "cancel", "Cancel"), keys.do_it("save", "Resolve")]
    DEFAULT_CSS = """
    ResolveDialog .rs-label { width: 6; }
    ResolveDialog #rs-line { margin-top: 1; }
    ResolveDialog .line Input { width: 1fr; }
    ResolveDialog ErrorLine { padding-left: 6; }
    """

    def __init__(self, row: dict):
        super().__init__(classes="dialog-screen")
        self.row = row
        self.errors = FieldErrors(self, {"reason": Place("Note", "rs-reason-error", "rs-reason")},
                                  general="rs-general-error")

    def compose(self) -> ComposeResult:
        r = self.row
        with Vertical(classes="dialog", id="resolve-dialog"):
            yield Label(Text(f"Resolve ERA exception #{r['id']}: claim {r['claim_no'] or '(none)'}"),
                        classes="dialog-title")
            yield Static(exception_text(r), classes="dialog-body")
            with Horizontal(classes="line", id="rs-line"):
                yield Label("Note", classes="rs-label")
                yield Input(placeholder="what was done: posted by hand, refunded, sent back…", id="rs-reason",
                            compact=True)
            yield ErrorLine(id="rs-reason-error")
            yield ErrorLine(id="rs-general-error")
            with Horizontal(classes="buttons"):
                yield Button("Resolve (F2)", id="rs-save", variant="primary", compact=True)
                yield Button("Cancel", id="rs-cancel", compact=True)
        yield Footer()  # the dialog's own keys, not those of the screen under it

    def on_mount(self) -> None:
        self.query_one("#rs-reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        self.errors.clear()
        self.call(era_exceptions.resolve, self.row["id"], {"reason": self.query_one("#rs-reason", Input).value},
                  done=self.dismiss, failed=self.errors.show, busy=self.query_one("#rs-save"))
