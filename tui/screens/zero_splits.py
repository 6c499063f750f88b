"""Outstanding Zero Splits: zero-fee charges whose primary never "reaches" zero.

Space tags charges; M marks the tagged charges' primary paid (after a confirm),
which queues the secondary claims (``zero_splits.mark_primary_paid``).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, SelectionList, Static

from claimdesk.core.services import zero_splits
from claimdesk.tui.screens.base import BaseScreen, SubmitKey


def marked_text(res: dict) -> Text:
    """What marking the primary paid did."""
    t = Text()
    t.append("✔ Marked primary paid: ", style="bold")
    t.append(", ".join(f"charge {c}" for c in res.get("marked", [])) or "none")
    queued = res.get("queued_claims") or []
    if queued:
        t.append("\nSecondary claims queued: " + ", ".join(f"#{q['claim_id']} {q['payer']} (enc {q['encounter_id']})"
                                                         for q in queued))
    if res.get("no_secondary"):
        t.append("\nNo secondary payer (nothing queued): " + ", ".join(f"charge {c}" for c in res["no_secondary"]))
    return t


class ZeroSplitsScreen(BaseScreen):
    """The list, oldest first; Space tags, M marks the tagged primary paid."""

    TITLE = "Outstanding Zero Splits"
    BINDINGS = [Binding("escape", "back", "Back"), Binding("m", "mark", "Mark primary paid"),
                Binding("f5", "reload", "Reload")]

    def __init__(self):
        super().__init__()
        self.submit_key = SubmitKey()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="zs-title", classes="facts")
        yield SelectionList(id="zs-list", compact=True)
        yield Static("", id="zs-result", classes="result")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.call(zero_splits.outstanding, done=self.fill, group="zs", exclusive=True)

    def fill(self, rows: list[dict]) -> None:
        self.query_one("#zs-title", Static).update(
            f"{len(rows)} zero-fee charge(s) waiting. Space tags, m marks the tagged primary paid.")
        sel = self.query_one("#zs-list", SelectionList)
        sel.clear_options()
        sel.add_options([(f"charge {r['charge_id']}  enc {r['encounter_id']}  {str(r['dos'])}  {r['code']}  "
                          f"{r['patient'][:18]}  pri {r['primary'][:12]}  sec {(r['secondary'] or '—')[:12]}",
                          r["charge_id"]) for r in rows])
        if rows:
            sel.highlighted = 0
        sel.focus()

    def action_mark(self) -> None:
        from claimdesk.tui.screens.confirm import ConfirmScreen

        ids = list(self.query_one("#zs-list", SelectionList).selected)
        if not ids:
            self.notify("Tag one or more charges first (Space).", severity="warning")
            return
        self.app.push_screen(ConfirmScreen(f"Mark the primary paid on {len(ids)} charge(s)?",
                                           [", ".join(f"charge {i}" for i in ids)], yes="Mark paid", no="Back"),
                             callback=lambda yes: self.submit(ids) if yes else None)

    def submit(self, ids: list[int]) -> None:
        key = self.submit_key.for_payload(ids)
        self.call(zero_splits.mark_primary_paid, ids, idempotency_key=key, done=self.marked)

    def marked(self, res: dict) -> None:
        self.submit_key.done()
        self.query_one("#zs-result", Static).update(marked_text(res))
        self.action_reload()
