"""Outstanding Zero Splits: zero-fee charges whose primary never "reaches" zero.

Space tags a charge (``[x]``), Shift+Down/Up tag a range; M marks the tagged charges'
primary paid (after a confirm), which queues the secondary claims
(``zero_splits.mark_primary_paid``). What marking did is shown above the list (and as
a notice), never below a long list. The filter (F6, Enter) narrows the list by patient,
payer, code, date, charge or encounter number, in SQL (``zero_splits.outstanding_page``);
tags survive filtering. At most :data:`LIST_ROWS` rows are listed at once ("showing the
first N": filter to reach others), however long the list.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Label, SelectionList, Static

from claimdesk.core.services import zero_splits
from claimdesk.tui.screens.base import BaseScreen, SubmitKey
from claimdesk.tui.widgets.tick_list import TickList
from claimdesk.tui import keys
from claimdesk.tui.widgets.table import clip

#: Rows listed at once (the list measures every row it is given).
LIST_ROWS = 500


def marked_text(res: dict) -> Text:
    """What marking the primary paid did."""
    t = Text()
    t.append("✔ Marked primary paid: ", style="bold")
    marked = res.get("marked", [])
    t.append(", ".join(f"charge {c}" for c in marked[:8]) + (f" and {len(marked) - 8} more" if len(marked) > 8
                                                               else "") or "none")
    queued = res.get("queued_claims") or []
    if queued:
        t.append("\nSecondary claims queued: " + ", ".join(f"#{q['claim_id']} {q['payer']} (enc {q['encounter_id']})"
                                                         for q in queued[:4])
                 + (f" and {len(queued) - 4} more" if len(queued) > 4 else ""))
    if res.get("no_secondary"):
        t.append("\nNo secondary payer (nothing queued): " + ", ".join(f"charge {c}" for c in res["no_secondary"][:8]))
    return t


def cut(text: str, width: int) -> str:
    """``text`` in exactly ``width`` columns: padded, or cut with an ellipsis."""
    return clip(text, width).ljust(width)


def confirm_text(plan: dict) -> str:
    """What marking the primary paid will do, in words (from :func:`zero_splits.before_mark`)."""
    new = [c for c in plan["claims"] if not c["already_queued"]]
    kept = [c for c in plan["claims"] if c["already_queued"]]
    parts = []
    if new:
        parts.append(f"{len(new)} secondary claim(s) will be queued for the next batch: "
                     + ", ".join(f"{c['payer']} (encounter {c['encounter_id']})" for c in new[:6])
                     + (" …" if len(new) > 6 else "") + ".")
    if kept:
        parts.append(f"{len(kept)} secondary claim(s) already wait in the queue (kept, not doubled).")
    if plan["no_secondary"]:
        parts.append(f"{len(plan['no_secondary'])} charge(s) have no secondary payer: marked paid, nothing queued.")
    if plan["not_listed"]:
        parts.append(f"{len(plan['not_listed'])} charge(s) are no longer on the list: nothing will be written.")
    return " ".join(parts) or "Nothing to queue."


class Columns:
    """Column widths for the rows at the list's width: numbers, date and code as wide as
    they are, the rest shared by patient, primary and secondary."""

    def __init__(self, rows: list[dict], width: int):
        self.charge = max([6, *(len(str(r["charge_id"])) for r in rows)])
        self.enc = max([5, *(len(str(r["encounter_id"])) for r in rows)])
        self.code = max([4, *(len(str(r["code"])) for r in rows)])
        fixed = self.charge + self.enc + 10 + self.code + 6  # and the spaces between the seven columns
        rest = max(24, width - fixed)
        self.patient = rest - 2 * (rest // 3)
        self.payer = rest // 3

    def line(self, charge, enc, dos, code, patient, primary, secondary) -> str:
        return " ".join([str(charge).rjust(self.charge), str(enc).rjust(self.enc), str(dos).ljust(10),
                         cut(str(code), self.code), cut(patient, self.patient), cut(primary, self.payer),
                         cut(secondary, self.payer)]).rstrip()


class ZeroSplitsScreen(BaseScreen):
    """The list, oldest first; Space tags, Shift+arrows tag a range, M marks the tagged primary paid."""

    TITLE = "Outstanding Zero Splits"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("m", "mark", "Mark primary paid"),
                keys.find("focus_filter", "Filter"), keys.look_again("reload")]

    def __init__(self):
        super().__init__()
        self.submit_key = SubmitKey()
        self.shown: list[dict] = []  # the rows listed: the first LIST_ROWS matching the filter
        self.tagged: set[int] = set()  # tagged charges, listed or not (tags survive filtering)
        self.found = 0  # rows matching the filter
        self.total = 0  # rows on the list

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="zs-title", classes="facts")
        yield Static("", id="zs-result", classes="facts")
        with Horizontal(classes="line"):
            yield Label("Filter ", classes="pl-label")
            yield Input(placeholder="patient, payer, code, date or charge number, then Enter", id="zs-filter",
                        compact=True)
        yield Static("", id="zs-header", classes="hint")
        yield TickList(id="zs-list", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#zs-result").display = False
        self.action_reload()

    def action_reload(self) -> None:
        """The first page of the list matching the filter (found in SQL), and which tags still hold."""
        needle = self.query_one("#zs-filter", Input).value.strip()
        self.call(zero_splits.outstanding_page, needle, LIST_ROWS, sorted(self.tagged), done=self.fill,
                  group="zs", exclusive=True)

    def action_focus_filter(self) -> None:
        self.query_one("#zs-filter", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_reload()

    def fill(self, page: dict) -> None:
        self.total, self.found = page["total"], page["found"]
        self.tagged = set(page["tagged"])  # tags of charges no longer on the list go
        self.shown = page["rows"]
        self.show_rows()
        self.query_one("#zs-list", TickList).focus()

    def show_rows(self) -> None:
        sel = self.query_one("#zs-list", TickList)
        cols = Columns(self.shown, (self.size.width or 80) - 4 - 4)  # the tick, the scrollbar and the padding
        self.query_one("#zs-header", Static).update(Text(
            "    " + cols.line("Charge", "Enc", "DOS", "Code", "Patient", "Primary", "Secondary")))
        sel.clear_options()
        sel.add_options([(Text(cols.line(r["charge_id"], r["encounter_id"], r["dos"], r["code"], r["patient"],
                                         r["primary"], r["secondary"] or "—")),
                          r["charge_id"], r["charge_id"] in self.tagged) for r in self.shown])
        if self.shown:
            sel.highlighted = 0
        self.show_title()

    def show_title(self) -> None:
        total, found = self.total, self.found
        which = f"{total} zero-fee charge(s) waiting" if found == total else f"{found} of {total} match the filter"
        cap = f" (showing the first {len(self.shown)}: filter to see others)" if found > len(self.shown) else ""
        self.query_one("#zs-title", Static).update(Text(
            f"{which}{cap}; {len(self.tagged)} tagged. Space tags [x], Shift+↓/↑ a range, m marks the tagged "
            "primary paid."))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        event.stop()
        visible = {r["charge_id"] for r in self.shown}
        self.tagged = (self.tagged - visible) | set(event.selection_list.selected)
        self.show_title()

    def action_mark(self) -> None:
        ids = sorted(self.tagged)
        if not ids:
            self.notify("Tag one or more charges first (Space, or Shift+↓ for a range).", severity="warning")
            return
        self.call(zero_splits.before_mark, ids, done=lambda plan: self.ask(ids, plan))

    def ask(self, ids: list[int], plan: dict) -> None:
        """Confirm, saying what will happen: which secondary claims are queued, which charges
        have no secondary (only marked paid)."""
        from claimdesk.tui.screens.confirm import ConfirmScreen

        shown = ", ".join(f"charge {i}" for i in ids[:12]) + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")
        lines = [shown, confirm_text(plan)]
        self.app.push_screen(ConfirmScreen(f"Mark the primary paid on {len(ids)} charge(s)?", lines,
                                           yes="Mark paid", no="Back"),
                             callback=lambda yes: self.submit(ids) if yes else None)

    def submit(self, ids: list[int]) -> None:
        key = self.submit_key.for_payload(ids)
        self.call(zero_splits.mark_primary_paid, ids, idempotency_key=key, done=self.marked)

    def marked(self, res: dict) -> None:
        self.submit_key.done()
        self.tagged.clear()
        box = self.query_one("#zs-result", Static)
        box.update(marked_text(res))
        box.display = True
        queued = len(res.get("queued_claims") or [])
        self.notify(f"Primary marked paid on {len(res.get('marked', []))} charge(s); {queued} secondary claim(s) "
                    "queued.", timeout=6)
        self.action_reload()
