"""Batch posting: one payer check spread over many patients, typed or pasted by the clerk
or read from a lockbox / ERA lines file.

Pick the voucher (a check with undistributed money), then type or paste the lines in the
Lines box (``patient_id,amount,memo`` — one line per patient, the header optional; the
format is shown under the box) or type the path of a lines file (CSV with that header, or
JSON): a path, when given, is used; else the typed lines. F5 (or Enter in the path) shows
the preview (the core's ``batch_posting.preview``, which writes nothing): per line the
amount, what it applies and to which charges (``enc 41 99213 06-02 25.00``), what goes
back to the voucher, and a ⚠ on a line that applies nothing, summed up above the table
(``⚠ 2 lines apply nothing: 92.00 goes back to the voucher``). A bad line (``line 4,
amount: ...`` for typed lines; ``lines.3.amount ... (row 5 of era.csv)`` for a file) or
anything posting would refuse (a total the voucher cannot cover, an unknown patient) is
shown next to its field, before anything is posted. F2 posts after a confirm step:
``batch_posting.post_credit_batch`` runs in a worker under a progress bar, as one
transaction and one audit event, so Ctrl+K cancels it with nothing written. The result
shows the credits made, what was applied, kept unapplied and returned to the voucher, per
patient. Messages stay on the screen's own lines (no notice drawn over the result).
"""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static, TextArea

from claimdesk.core.errors import ClaimdeskError, InputError
from claimdesk.core.money import fmt
from claimdesk.core.services import batch_posting, patient_views, payment_views
from claimdesk.tui import keys
from claimdesk.tui.screens.base import BaseScreen, SubmitKey, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table, clip, right
from claimdesk.tui.widgets.tick import Tick

#: Lines (preview) or patients (result) listed in the table; the totals cover every line.
TABLE_ROWS = 200
#: Vouchers offered in the picker (newest first); the hint counts the rest.
VOUCHER_ROWS = 100
#: The "Applied to" cell of the preview, cut to this (the whole table fits 80 columns).
APPLIED_TO_WIDTH = 28
#: The preview key (F5: look again, writes nothing; F2 posts).
PREVIEW_KEY = keys.KEY_OF["look"]

HINT = (f"Type or paste the lines above, or the path of a lines file; {PREVIEW_KEY.upper()} previews what each "
        "line applies, F2 posts after a confirm step.")
#: How the screen names typed lines.
TYPED = "Typed lines"


# --- loaders (run in workers) ----------------------------------------------------------------
def load_preview(path: str, voucher_id: int, *, text: str = "", apply: str = "auto", keep_unapplied: bool = False,
                 memo: str = "") -> dict:
    """Ask the core what posting the lines on the voucher would do (``batch_posting.preview``:
    the service's own checks and plan, writing nothing): the lines file at ``path`` when one
    is given, else the typed ``text`` (``patient_id,amount[,memo]`` per line, header optional).

    Raises :class:`InputError` for a file that cannot be read or a bad line (``line 4,
    amount`` for typed lines; ``lines.N.field`` and the file row for a file). What posting
    would refuse (a voucher that cannot fund the batch, a patient that does not exist) comes
    back as ``refusals`` (``{"field", "message"}``) beside the preview, so the clerk sees both;
    ``refusal`` is the first, the one posting would raise. ``data`` is what F2 posts.
    """
    opts = {"apply": apply, "keep_unapplied": keep_unapplied, "memo": memo}
    if path:
        lines = batch_posting.read_lines(path)
        data, name, kind = {"voucher_id": voucher_id, "lines": lines}, lines.name, lines.kind
    else:
        data, name, kind = {"voucher_id": voucher_id, "text": text}, TYPED, "lines"
    res = batch_posting.preview({**data, **opts}, again=True)
    refusals = [{"field": r["field"], "message": r["message"]} for r in res["refusals"]]
    credits = res["credits"]
    return {"path": path, "file": name, "kind": kind, "data": data, "voucher": res["voucher"],
            "voucher_id": res["voucher_id"], "count": res["lines"], "total": res["total"], "patients": res["patients"],
            "names": patient_views.patient_names(sorted({c["patient_id"] for c in credits})),
            "refusals": refusals, "refusal": refusals[0] if refusals else None, "preview": res,
            "posted_before": res.get("posted_before"), "warning": res["warning"], "rows": credits[:TABLE_ROWS]}


def before_text(before: dict) -> str:
    """When, by whom and where the same lines were posted before."""
    total = f", {fmt(int(before['total']))}" if isinstance(before.get("total"), int) else ""
    return (f"{before['at']} by {before['user']} to voucher #{before['voucher_id']} ({before['lines']} "
            f"line(s){total})")


def by_patient(res: dict) -> list[dict]:
    """The batch result per patient, in the order of each patient's first line."""
    rows: dict[int, dict] = {}
    for c in res["credits"]:
        row = rows.setdefault(c["patient_id"], defaultdict(int, patient_id=c["patient_id"]))
        row["lines"] += 1
        for key in ("amount", "applied", "unapplied", "returned_to_voucher"):
            row[key] += c[key]
    return list(rows.values())


def result_text(res: dict) -> Text:
    """What the batch did, in words and amounts."""
    ids = res["credit_ids"]
    t = Text()
    t.append(f"✔ {len(ids)} credit(s) made", style="bold")
    t.append(f" (#{ids[0]}–#{ids[-1]})" if len(ids) > 1 else f" (#{ids[0]})")
    t.append(f" for {res['patients']} patient(s) from voucher #{res['voucher_id']} ({res['payer']}): "
             f"applied {fmt(res['applied_total'])}, unapplied {fmt(res['unapplied'])}, back to voucher "
             f"{fmt(res['returned_to_voucher'])}. Voucher undistributed now {fmt(res['voucher_undistributed'])}.")
    return t


def preview_text(info: dict) -> Text:
    """The preview's summary: the lines and their total, what they apply and send back, and
    what the voucher holds before and after (or why posting would be refused)."""
    res, v = info["preview"], info["voucher"]
    keep = res["apply"] == "none" or res["keep_unapplied"]
    left = (f"{fmt(res['unapplied'])} kept unapplied" if keep else f"{fmt(res['returned_to_voucher'])} back to voucher")
    after = f" → {fmt(res['voucher_undistributed_after'])} after" if info["refusal"] is None else ""
    t = Text.assemble(
        (f"{info['file']}: {info['count']} line(s), {info['patients']} patient(s), total {fmt(info['total'])}", "bold"),
        f": applies {fmt(res['applied_total'])}, {left}. Voucher #{info['voucher_id']} undistributed "
        f"{fmt(v['undistributed']) if v else 'none'}{after}. "
        + ("F2 posts." if info["refusal"] is None else "Not postable: see the ! line above."))
    if info["posted_before"]:
        what = "This file was" if info["kind"] == "file" else "These lines were"
        t.append(f"\n⚠ {what} posted before: {before_text(info['posted_before'])}. F2 asks before posting "
                 f"{'it' if info['kind'] == 'file' else 'them'} again.", style="bold")
    return t



class BatchPostingScreen(KeepWhileRunning, BaseScreen):
    """Voucher, typed lines or a lines file, F5 previews per line, F2 posts (confirm, progress
    bar, Ctrl+K cancels)."""

    TITLE = "Batch posting"
    BINDINGS = [  # noqa: RUF012 - Textual's class attribute
        Binding("escape", "back", "Back"),
        keys.do_it("post", "Post batch"),
        keys.look_again("preview", "Preview"),
    ]
    DEFAULT_CSS = """
    BatchPostingScreen .bp-label { width: 11; }
    BatchPostingScreen .line Input, BatchPostingScreen .line Select { width: 1fr; }
    BatchPostingScreen #bp-text-row { height: 5; }
    BatchPostingScreen #bp-text { height: 5; width: 1fr; }
    BatchPostingScreen #bp-format { padding-left: 11; color: $text-muted; height: 1; }
    BatchPostingScreen #bp-ticks { height: 1; padding-left: 11; }
    BatchPostingScreen #bp-ticks Tick { width: auto; margin-right: 2; }
    BatchPostingScreen ErrorLine { padding-left: 11; }
    BatchPostingScreen #bp-error { padding-left: 1; }
    BatchPostingScreen #bp-summary { margin-top: 1; }
    BatchPostingScreen #bp-warning { padding: 0 1; color: $text-warning; text-style: bold; height: auto;
                                     display: none; }
    """

    def __init__(self, voucher_id: int | None = None):
        super().__init__()
        self.initial_voucher = voucher_id
        self.vouchers: list[dict] = []
        self.preview: dict | None = None
        self.shown_voucher = None  # the voucher of the preview / result on screen
        self.source = "lines"  # where the lines of the last preview came from: "lines" (typed) or "file"
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label("Voucher", classes="bp-label")
            yield Select([], prompt="no voucher with undistributed money", id="bp-voucher", compact=True,
                         allow_blank=True)
        yield ErrorLine(id="bp-voucher-error")
        with Horizontal(id="bp-text-row"):
            yield Label("Lines", classes="bp-label")
            yield TextArea(id="bp-text", compact=True, show_line_numbers=True, soft_wrap=False,
                           placeholder="type or paste: patient_id,amount,memo")
        yield Static(batch_posting.FORMAT, id="bp-format")
        yield ErrorLine(id="bp-text-error")
        with Horizontal(classes="line"):
            yield Label("or file", classes="bp-label")
            yield Input(placeholder="path of lines.csv (with that header) or .json; empty: the lines above",
                        id="bp-file", compact=True)
        yield ErrorLine(id="bp-file-error")
        with Horizontal(classes="line"):
            yield Label("Memo", classes="bp-label")
            yield Input(placeholder="for the batch and lines without one (optional)", id="bp-memo", compact=True)
        with Horizontal(id="bp-ticks"):
            yield Tick("Auto-apply oldest first", value=True, id="bp-auto", compact=True)
            yield Tick("Keep unapplied on accounts", id="bp-keep", compact=True)
        yield Static(HINT, id="bp-summary", classes="facts")
        yield Static("", id="bp-warning")
        yield ErrorLine(id="bp-error")
        yield Table(id="bp-table", cursor_type="row")
        yield WorkProgress(id="bp-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bp-text", TextArea).focus()
        self.reload_vouchers()

    # -- vouchers ---------------------------------------------------------------------------
    def reload_vouchers(self) -> None:
        self.call(payment_views.active_vouchers, done=self.fill_vouchers, group="vouchers", exclusive=True)

    def fill_vouchers(self, rows: list[dict]) -> None:
        sel = self.query_one("#bp-voucher", Select)
        keep = self.initial_voucher if self.initial_voucher is not None else sel.value
        self.initial_voucher = None
        shown = rows[:VOUCHER_ROWS] + [v for v in rows[VOUCHER_ROWS:] if v["voucher_id"] == keep]
        self.vouchers = shown
        sel.set_options([(f"#{v['voucher_id']} {v['payer']} {v['method']} {v['reference'] or ''} "
                          f"{v['received_on']} {fmt(v['undistributed'])} left".replace("  ", " "), v["voucher_id"])
                         for v in shown])
        ids = [v["voucher_id"] for v in shown]
        sel.prompt = "choose the voucher…" if ids else "no voucher with undistributed money"
        if len(rows) > VOUCHER_ROWS:  # (on its line, not a notice over the screen)
            sel.prompt = f"choose: the newest {VOUCHER_ROWS} of {len(rows)} (older: from Payer checks)…"
        if keep in ids:
            sel.value = keep
        elif len(ids) == 1:  # the only check there is: nothing to choose between
            sel.value = ids[0]
        # otherwise the clerk picks the check: a batch posted to the wrong one is a day's mess

    def _voucher_id(self) -> int | None:
        value = self.query_one("#bp-voucher", Select).value
        return value if isinstance(value, int) else None

    def _path(self) -> str:
        return self.query_one("#bp-file", Input).value.strip()

    def _text(self) -> str:
        return self.query_one("#bp-text", TextArea).text

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = self._voucher_id()
        if value is not None and value != self.shown_voucher and (self._path() or self._text().strip()):
            self.action_preview()

    # -- preview ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "bp-file":
            self.action_preview()
        else:
            self.query_one("#bp-auto", Tick).focus()

    def clear_errors(self) -> None:
        for ident in ("#bp-voucher-error", "#bp-text-error", "#bp-file-error", "#bp-error"):
            self.query_one(ident, ErrorLine).show("")

    def _ready(self) -> tuple[int, str, str] | None:
        """The voucher, path and typed text to preview, or None (and say what is missing)."""
        voucher_id, path, text = self._voucher_id(), self._path(), self._text()
        if voucher_id is None:
            self.query_one("#bp-voucher-error", ErrorLine).show("voucher_id: choose the voucher the money comes from")
            self.query_one("#bp-voucher", Select).focus()
            return None
        if not path and not text.strip():
            self.query_one("#bp-text-error", ErrorLine).show(
                "lines: type or paste the lines (patient_id,amount,memo), or give the path of a lines file")
            self.query_one("#bp-text", TextArea).focus()
            return None
        return voucher_id, path, text

    def action_preview(self, then=None) -> None:
        if self.query_one(WorkProgress).running:
            self.query_one("#bp-error", ErrorLine).show("The batch is still posting (Ctrl+K cancels it).")
            return
        self.clear_errors()
        ready = self._ready()
        if ready is None:
            return
        self.preview = None
        self.source = "file" if ready[1] else "lines"
        opts = self.options()
        self.call(load_preview, ready[1], ready[0], text=ready[2], apply=opts["apply"],
                  keep_unapplied=opts["keep_unapplied"], memo=opts["memo"],
                  done=lambda info: self.show_preview(info, then), failed=self.preview_failed,
                  group="preview", exclusive=True)

    def show_preview(self, info: dict, then=None) -> None:
        self.preview = info
        self.shown_voucher = info["voucher_id"]
        self.query_one("#bp-summary", Static).update(preview_text(info))
        self.show_warning(f"⚠ {info['warning']}" if info["warning"] else "")
        for refusal in info["refusals"]:
            self.show_field_error(refusal["field"], refusal["message"])
        self.fill_preview_table(info)
        if then is not None and info["refusal"] is None:
            then()

    def show_warning(self, text: str) -> None:
        warning = self.query_one("#bp-warning", Static)
        warning.update(Text(text))
        warning.display = bool(text)

    def fill_preview_table(self, info: dict) -> None:
        """Per line: where, patient, amount, applied, back to the voucher (or kept), the charges
        it pays; ⚠ on a line that applies nothing."""
        res = info["preview"]
        keep = res["apply"] == "none" or res["keep_unapplied"]
        table = self.query_one("#bp-table", DataTable)
        table.clear(columns=True)
        rows = info["rows"]
        kind = rows[0]["where"].split(" ", 1)[0].capitalize() if rows else "Line"
        table.add_columns(kind, "Patient", right("Amount"), right("Applied"),
                          right("Unapplied" if keep else "Returned"), "Applied to (enc, code, date)")
        for r in rows:
            name = info["names"].get(r["patient_id"], "! no such patient")
            to = (Text("⚠ applies nothing", style="bold") if r["warnings"]
                  else batch_posting.applications_text(r["applications"], APPLIED_TO_WIDTH))
            table.add_row(r["where"].split(" ")[1], clip(f"#{r['patient_id']} {name}", 14), right(fmt(r["amount"])),
                          right(fmt(r["applied"])),
                          right(fmt(r["unapplied"] if keep else r["returned_to_voucher"])), to)

    def preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.shown_voucher = None
        self.query_one("#bp-summary", Static).update(HINT)
        self.show_warning("")
        self.query_one("#bp-table", DataTable).clear(columns=True)
        self.show_failure(exc)

    # -- errors next to their field ---------------------------------------------------------
    def _target(self, field: str) -> str:
        """The error line under the field a core error names (a line's: under where the lines came from)."""
        if field.startswith("file"):
            return "#bp-file-error"
        if field.startswith(("lines", "line ", "text")):
            return "#bp-file-error" if self.source == "file" else "#bp-text-error"
        if field.startswith("voucher"):
            return "#bp-voucher-error"
        return "#bp-error"

    def show_field_error(self, field: str, message: str) -> None:
        self.query_one(self._target(field or ""), ErrorLine).show(f"{field}: {message}" if field else message)

    def show_failure(self, exc: BaseException) -> None:
        """A core refusal next to the field it names (``line 4, amount``: under the lines), never a traceback."""
        if isinstance(exc, InputError):
            grouped: dict[str, list[str]] = defaultdict(list)
            for field, messages in exc.flat().items():  # "line 4, amount": [...]; "lines.3.amount": [...]
                for message in messages:
                    grouped[self._target(field)].append(f"{field}: {message}" if field != "_schema" else message)
            for target, lines in grouped.items():
                more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
                self.query_one(target, ErrorLine).show("; ".join(lines[:3]) + more)
        elif isinstance(exc, ClaimdeskError) and exc.field:
            self.show_field_error(exc.field, exc.message)
        else:
            self.query_one("#bp-error", ErrorLine).show(describe_error(exc))

    # -- post -------------------------------------------------------------------------------
    def options(self) -> dict:
        """The batch options as the clerk set them: apply, keep unapplied, memo."""
        return {"apply": "auto" if self.query_one("#bp-auto", Tick).value else "none",
                "keep_unapplied": self.query_one("#bp-keep", Tick).value,
                "memo": self.query_one("#bp-memo", Input).value.strip()}

    def payload(self, info: dict) -> dict:
        return {**info["data"], **self.options()}

    def action_post(self) -> None:
        """Read the lines again (what is confirmed is what is typed or in the file now), then confirm."""
        self.action_preview(then=self.confirm)

    def confirm(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        info = self.preview
        if info is None:
            return
        payload = self.payload(info)
        v, res = info["voucher"], info["preview"]
        how = ("none: every credit keeps its money unapplied" if payload["apply"] == "none" else
               "oldest charges first; " + ("remainders stay on the patients' accounts" if payload["keep_unapplied"]
                                           else "remainders go back to the voucher"))
        before = info.get("posted_before")
        them = "file" if info["kind"] == "file" else "lines"
        lines = [("⚠ Posted before", before_text(before))] if before else []
        lines += [("Voucher", f"#{v['voucher_id']} {v['payer']} {v['method']} {v['reference'] or ''}".strip()),
                  ("Undistributed", fmt(v["undistributed"])),
                  ("Lines" if them == "lines" else "Lines file",
                   f"{info['file']}: {info['count']} line(s), {info['patients']} patient(s)"),
                  ("Total", fmt(info["total"])), ("Applies", fmt(res["applied_total"]))]
        if info["warning"]:
            lines.append(("⚠ Warning", info["warning"]))
        lines += [("Apply", how), ("Memo", payload["memo"] or "—")]
        what = "This file was" if them == "file" else "These lines were"
        title = (f"{what} posted before. Post {'it' if them == 'file' else 'them'} AGAIN? One credit per line, "
                 "in one transaction." if before else "Post this batch? One credit per line, in one transaction.")
        self.app.push_screen(ConfirmScreen(title, lines, yes="Post again" if before else "Post", no="Back"),
                             callback=lambda yes: self.start_post(info, payload) if yes else None)

    def start_post(self, info: dict, payload: dict) -> None:
        self.clear_errors()
        key = self.submit_key.for_payload(payload)
        run_with_progress(self, batch_posting.post_credit_batch, payload, idempotency_key=key,
                          again=bool(info.get("posted_before")),
                          bar=self.query_one(WorkProgress), label="Batch posting (Ctrl+K cancels)",
                          what="batch posting", done=lambda res: self.posted(res, info),
                          cancelled=self.post_cancelled, failed=self.show_failure)

    def post_cancelled(self) -> None:
        self.query_one("#bp-summary", Static).update(Text("✘ Batch posting cancelled, nothing written.", "bold"))

    def posted(self, res: dict, info: dict) -> None:
        self.submit_key.done()
        self.preview = None
        self.shown_voucher = res["voucher_id"]
        # the lines are posted: F2 again would post them twice
        self.query_one("#bp-file", Input).value = ""
        self.query_one("#bp-text", TextArea).clear()
        self.query_one("#bp-summary", Static).update(result_text(res))
        self.show_warning("")
        names = info["names"]
        table = self.query_one("#bp-table", DataTable)
        table.clear(columns=True)
        table.add_columns("Patient", "Name", right("Lines"), right("Amount"), right("Applied"),
                          right("Unapplied"), right("Returned"))
        for r in by_patient(res)[:TABLE_ROWS]:
            table.add_row(f"#{r['patient_id']}", names.get(r["patient_id"], "")[:18], right(str(r["lines"])),
                          right(fmt(r["amount"])), right(fmt(r["applied"])), right(fmt(r["unapplied"])),
                          right(fmt(r["returned_to_voucher"])))
        table.check_idle()  # size the columns for these rows now (this answer came by run_with_progress)
        self.reload_vouchers()
