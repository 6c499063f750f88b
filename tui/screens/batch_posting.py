"""Batch posting: one payer check spread over many patients, from a lockbox / ERA lines file.

Pick the voucher (a check with undistributed money), type the path of the lines file
(CSV ``patient_id,amount[,memo]``, or JSON) and Enter: the preview (the core's
``batch_posting.preview``, which writes nothing) shows the line count, the total, the
patients and the voucher's undistributed money, with the first lines. A bad line
(``lines.3.amount``, with its file row) or anything posting would refuse (a total the
voucher cannot cover, an unknown patient) is shown there, next to its field, before
anything is posted. F2 posts after a
confirm step: ``batch_posting.post_credit_batch`` runs in a worker under a progress
bar, as one transaction and one audit event, so Ctrl+K cancels it with nothing written.
The result shows the credits made, what was applied, kept unapplied and returned to
the voucher, per patient.
"""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Input, Label, Select, Static

from claimdesk.core.errors import ClaimdeskError, InputError
from claimdesk.core.money import fmt
from claimdesk.core.services import batch_posting, patient_views, payment_views
from claimdesk.tui.screens.base import BaseScreen, SubmitKey, describe_error
from claimdesk.tui.widgets.error_line import ErrorLine
from claimdesk.tui.widgets.progress import KeepWhileRunning, WorkProgress, run_with_progress
from claimdesk.tui.widgets.table import Table
from claimdesk.tui.widgets.tick import Tick

#: Lines (preview) or patients (result) listed in the table; the totals cover every line.
TABLE_ROWS = 200
#: Vouchers offered in the picker (newest first); the hint counts the rest.
VOUCHER_ROWS = 100

HINT = ("Type the path of the lines file (CSV: patient_id,amount[,memo]; or .json) and Enter to "
        "preview it. F2 posts after a confirm step.")


# --- loaders (run in workers) ----------------------------------------------------------------
def load_preview(path: str, voucher_id: int, *, apply: str = "auto", keep_unapplied: bool = False,
                 memo: str = "") -> dict:
    """Read the lines file and ask the core what posting it on the voucher would do
    (``batch_posting.preview``: the service's own checks, writing nothing).

    Raises :class:`InputError` for a file that cannot be read or a bad line (naming
    ``lines.N.field`` and the file row). What posting would refuse (a voucher that cannot
    fund the batch, a patient that does not exist) comes back as ``refusals``
    (``{"field", "message"}``, the file row named) beside the preview, so the clerk sees both;
    ``refusal`` is the first, the one posting would raise.
    """
    lines = batch_posting.read_lines(path)
    try:
        res = batch_posting.preview({"voucher_id": voucher_id, "lines": list(lines), "apply": apply,
                                     "keep_unapplied": keep_unapplied, "memo": memo},
                                    file_sha256=lines.sha256, file_name=lines.name, again=True)
    except ClaimdeskError as exc:
        raise lines.locate(exc) from None
    refusals = [{"field": r["field"], "message": lines.place(r["field"], r["message"])} for r in res["refusals"]]
    credits = res["credits"]
    return {"path": path, "file": lines.name, "lines": lines, "voucher": res["voucher"], "voucher_id": res["voucher_id"],
            "count": res["lines"], "total": res["total"], "patients": res["patients"],
            "names": patient_views.patient_names(sorted({c["patient_id"] for c in credits})),
            "refusals": refusals, "refusal": refusals[0] if refusals else None, "preview": res,
            "posted_before": res.get("posted_before"),
            "rows": [{"where": lines.places[c["line"]], "patient_id": c["patient_id"], "amount": c["amount"],
                      "memo": c["memo"]} for c in credits[:TABLE_ROWS]]}


def before_text(before: dict) -> str:
    """When, by whom and where the same file was posted before."""
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


def _right(value: str) -> Text:
    return Text(value, justify="right")


class BatchPostingScreen(KeepWhileRunning, BaseScreen):
    """Voucher, lines file, Enter previews, F2 posts (confirm, progress bar, Ctrl+K cancels)."""

    TITLE = "Batch posting"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f2", "post", "Post batch"),
        Binding("f5", "preview", "Preview"),
    ]
    DEFAULT_CSS = """
    BatchPostingScreen .bp-label { width: 11; }
    BatchPostingScreen .line Input, BatchPostingScreen .line Select { width: 1fr; }
    BatchPostingScreen #bp-ticks { height: 1; padding-left: 11; }
    BatchPostingScreen #bp-ticks Tick { width: auto; margin-right: 2; }
    BatchPostingScreen ErrorLine { padding-left: 11; }
    BatchPostingScreen #bp-error { padding-left: 1; }
    BatchPostingScreen #bp-summary { margin-top: 1; }
    """

    def __init__(self, voucher_id: int | None = None):
        super().__init__()
        self.initial_voucher = voucher_id
        self.vouchers: list[dict] = []
        self.preview: dict | None = None
        self.shown_voucher = None  # the voucher of the preview / result on screen
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="line"):
            yield Label("Voucher", classes="bp-label")
            yield Select([], prompt="no voucher with undistributed money", id="bp-voucher", compact=True,
                         allow_blank=True)
        yield ErrorLine(id="bp-voucher-error")
        with Horizontal(classes="line"):
            yield Label("Lines file", classes="bp-label")
            yield Input(placeholder="path of lines.csv (patient_id,amount[,memo]) or .json", id="bp-file",
                        compact=True)
        yield ErrorLine(id="bp-file-error")
        with Horizontal(classes="line"):
            yield Label("Memo", classes="bp-label")
            yield Input(placeholder="for the batch and lines without one (optional)", id="bp-memo", compact=True)
        with Horizontal(id="bp-ticks"):
            yield Tick("Auto-apply oldest first", value=True, id="bp-auto", compact=True)
            yield Tick("Keep unapplied on accounts", id="bp-keep", compact=True)
        yield Static(HINT, id="bp-summary", classes="facts")
        yield ErrorLine(id="bp-error")
        yield Table(id="bp-table", cursor_type="row")
        yield WorkProgress(id="bp-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bp-file", Input).focus()
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
        if len(rows) > VOUCHER_ROWS:
            self.notify(f"The newest {VOUCHER_ROWS} of {len(rows)} vouchers with money are listed; open Batch "
                        "posting from Payer checks for an older one.", timeout=6)
        sel.set_options([(f"#{v['voucher_id']} {v['payer']} {v['method']} {v['reference'] or ''} "
                          f"{v['received_on']} {fmt(v['undistributed'])} left".replace("  ", " "), v["voucher_id"])
                         for v in shown])
        ids = [v["voucher_id"] for v in shown]
        sel.prompt = "choose the voucher…" if ids else "no voucher with undistributed money"
        if keep in ids:
            sel.value = keep
        elif len(ids) == 1:  # the only check there is: nothing to choose between
            sel.value = ids[0]
        # otherwise the clerk picks the check: a batch posted to the wrong one is a day's mess

    def _voucher_id(self) -> int | None:
        value = self.query_one("#bp-voucher", Select).value
        return value if isinstance(value, int) else None

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = self._voucher_id()
        if value is not None and value != self.shown_voucher and self.query_one("#bp-file", Input).value.strip():
            self.action_preview()

    # -- preview ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "bp-file":
            self.action_preview()
        else:
            self.query_one("#bp-auto", Tick).focus()

    def clear_errors(self) -> None:
        for ident in ("#bp-voucher-error", "#bp-file-error", "#bp-error"):
            self.query_one(ident, ErrorLine).show("")

    def _ready(self) -> tuple[int, str] | None:
        """The voucher and path to preview, or None (and say what is missing)."""
        voucher_id, path = self._voucher_id(), self.query_one("#bp-file", Input).value.strip()
        if voucher_id is None:
            self.query_one("#bp-voucher-error", ErrorLine).show("voucher_id: choose the voucher the money comes from")
            self.query_one("#bp-voucher", Select).focus()
            return None
        if not path:
            self.query_one("#bp-file-error", ErrorLine).show("file: type the path of the lines file")
            self.query_one("#bp-file", Input).focus()
            return None
        return voucher_id, path

    def action_preview(self, then=None) -> None:
        if self.query_one(WorkProgress).running:
            self.notify("The batch is still posting (Ctrl+K cancels it).", timeout=5)
            return
        self.clear_errors()
        ready = self._ready()
        if ready is None:
            return
        self.preview = None
        opts = self.options()
        self.call(load_preview, ready[1], ready[0], apply=opts["apply"], keep_unapplied=opts["keep_unapplied"],
                  memo=opts["memo"], done=lambda info: self.show_preview(info, then), failed=self.preview_failed,
                  group="preview", exclusive=True)

    def show_preview(self, info: dict, then=None) -> None:
        self.preview = info
        self.shown_voucher = info["voucher_id"]
        v = info["voucher"]
        fits = v is not None and info["total"] <= v["undistributed"]
        left = f", {fmt(v['undistributed'] - info['total'])} left after" if fits else ""
        undist = fmt(v["undistributed"]) if v else "none"
        self.query_one("#bp-summary", Static).update(Text.assemble(
            (f"{info['file']}: {info['count']} line(s), {info['patients']} patient(s), total {fmt(info['total'])}",
             "bold"),
            f" · voucher #{info['voucher_id']} undistributed {undist}{left}. "
            + ("F2 posts." if info["refusal"] is None else "Not postable: see the ! line above."),
            (f"\n⚠ This file was posted before: {before_text(info['posted_before'])}. F2 asks before posting it "
             "again." if info["posted_before"] else "", "bold")))
        for refusal in info["refusals"]:
            self.show_field_error(refusal["field"], refusal["message"])
        table = self.query_one("#bp-table", DataTable)
        table.clear(columns=True)
        table.add_columns("Row", "Patient", "Name", _right("Amount"), "Memo")
        for r in info["rows"]:
            table.add_row(r["where"].removeprefix("row ").removeprefix("item "), f"#{r['patient_id']}",
                          info["names"].get(r["patient_id"], "! no such patient")[:22], _right(fmt(r["amount"])),
                          r["memo"][:24])
        if then is not None and info["refusal"] is None:
            then()

    def preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self.shown_voucher = None
        self.query_one("#bp-summary", Static).update(HINT)
        self.query_one("#bp-table", DataTable).clear(columns=True)
        self.show_failure(exc)

    # -- errors next to their field ---------------------------------------------------------
    @staticmethod
    def _target(field: str) -> str:
        """The error line under the field a core error names."""
        if field.startswith(("file", "lines")):
            return "#bp-file-error"
        if field.startswith("voucher"):
            return "#bp-voucher-error"
        return "#bp-error"

    def show_field_error(self, field: str, message: str) -> None:
        self.query_one(self._target(field), ErrorLine).show(f"{field}: {message}" if field else message)

    def show_failure(self, exc: BaseException) -> None:
        """A core refusal next to the field it names (``lines.3.amount``: under the file), never a traceback."""
        if isinstance(exc, InputError):
            grouped: dict[str, list[str]] = defaultdict(list)
            for line in exc.lines():  # "lines.3.amount: must be an amount ... (row 5 of era.csv)"
                grouped[self._target(line.split(":", 1)[0])].append(line)
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
        return {"voucher_id": info["voucher_id"], "lines": list(info["lines"]), **self.options()}

    def action_post(self) -> None:
        """Read the file again (what is confirmed is what is in it now), then confirm."""
        self.action_preview(then=self.confirm)

    def confirm(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        info = self.preview
        if info is None:
            return
        payload = self.payload(info)
        v = info["voucher"]
        how = ("none: every credit keeps its money unapplied" if payload["apply"] == "none" else
               "oldest charges first; " + ("remainders stay on the patients' accounts" if payload["keep_unapplied"]
                                           else "remainders go back to the voucher"))
        before = info.get("posted_before")
        lines = [("⚠ Posted before", before_text(before))] if before else []
        lines += [("Voucher", f"#{v['voucher_id']} {v['payer']} {v['method']} {v['reference'] or ''}".strip()),
                 ("Undistributed", fmt(v["undistributed"])),
                 ("Lines file", f"{info['file']}: {info['count']} line(s), {info['patients']} patient(s)"),
                 ("Total", fmt(info["total"])), ("Apply", how), ("Memo", payload["memo"] or "—")]
        title = ("This file was posted before. Post it AGAIN? One credit per line, in one transaction." if before
                 else "Post this batch? One credit per line, in one transaction.")
        self.app.push_screen(ConfirmScreen(title, lines, yes="Post again" if before else "Post", no="Back"),
                             callback=lambda yes: self.start_post(info, payload) if yes else None)

    def start_post(self, info: dict, payload: dict) -> None:
        self.clear_errors()
        key = self.submit_key.for_payload(payload)
        lines = info["lines"]
        run_with_progress(self, batch_posting.post_credit_batch, payload, idempotency_key=key,
                          file_sha256=lines.sha256, file_name=lines.name, again=bool(info.get("posted_before")),
                          bar=self.query_one(WorkProgress), label="Batch posting (Ctrl+K cancels)",
                          what="batch posting", done=lambda res: self.posted(res, info),
                          cancelled=self.post_cancelled,
                          failed=lambda exc: self.show_failure(lines.locate(exc)
                                                               if isinstance(exc, ClaimdeskError) else exc))

    def post_cancelled(self) -> None:
        self.query_one("#bp-summary", Static).update(Text("✘ Batch posting cancelled, nothing written.", "bold"))

    def posted(self, res: dict, info: dict) -> None:
        self.submit_key.done()
        self.preview = None
        self.shown_voucher = res["voucher_id"]
        self.query_one("#bp-file", Input).value = ""  # the file is posted: F2 again would post it twice
        self.query_one("#bp-summary", Static).update(result_text(res))
        names = info["names"]
        table = self.query_one("#bp-table", DataTable)
        table.clear(columns=True)
        table.add_columns("Patient", "Name", _right("Lines"), _right("Amount"), _right("Applied"),
                          _right("Unapplied"), _right("Returned"))
        for r in by_patient(res)[:TABLE_ROWS]:
            table.add_row(f"#{r['patient_id']}", names.get(r["patient_id"], "")[:18], _right(str(r["lines"])),
                          _right(fmt(r["amount"])), _right(fmt(r["applied"])), _right(fmt(r["unapplied"])),
                          _right(fmt(r["returned_to_voucher"])))
        table.check_idle()  # size the columns for these rows now (this answer came by run_with_progress)
        self.reload_vouchers()
