"""Advanced Actions, step 4: what changed, the queue question, the patient's other encounters.

After an action is applied: the before/after balances by rank, statements made
or voided, the queue change and the plugin's own report; then, when the action
offers it, "Remove encounter N from queue X?"; then the patient's other
encounters where the same action applies, to apply it there too with the same
inputs (each in its own transaction, each result reported).
"""

from __future__ import annotations

import uuid

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, SelectionList, Static

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models import RANKS
from claimdesk.core.money import fmt
from claimdesk.core.services import actions, patient_views
from claimdesk.tui.screens.base import BaseScreen, describe_error, worker_cancelled

#: Words that mark a plugin report value as an amount in cents (display only).
MONEY_WORDS = ("amount", "balance", "billed", "written_off", "adjusted", "due", "paid", "moved", "restored")


def _shown(key: str, value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int) and any(w in key for w in MONEY_WORDS):
        return fmt(value)
    if isinstance(value, list):
        return ", ".join(_shown(key, v) for v in value) if all(not isinstance(v, (dict, list)) for v in value) \
            else f"{len(value)} item(s)"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_shown(k, v)}" for k, v in value.items())
    return str(value)


def result_renderables(result: dict, title: str, statements: list[dict]) -> list:
    """The result as rich renderables: headline, balance table, facts."""
    before, after = result["before"], result["after"]
    head = Text()
    head.append("✔ Applied: ", style="bold")
    head.append(f"{title} — encounter {result['encounter_id']}")
    head.append(f"  (audit #{result.get('audit_id', '?')})", style="dim")
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0))
    table.add_column("Open balance", style="bold")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    ranks = [r for r in RANKS if r in before["encounter_by_rank"] or r in after["encounter_by_rank"]]
    for r in ranks:
        table.add_row(f"  {r}", fmt(before["encounter_by_rank"].get(r, 0)), fmt(after["encounter_by_rank"].get(r, 0)))
    table.add_row("  encounter total", fmt(before["encounter_total"]), fmt(after["encounter_total"]))
    table.add_row("Patient owes", fmt(before["patient_due"]), fmt(after["patient_due"]))
    table.add_row("With insurers", fmt(before["insurance_pending"]), fmt(after["insurance_pending"]))
    facts = Text()
    made = {s["id"]: s for s in statements}
    made_txt = ", ".join(f"#{i}" + (f" (due {fmt(made[i]['amount_due'])})" if i in made else "")
                         for i in result["statements_made"]) or "none"
    voided_txt = ", ".join(f"#{i}" for i in result["statements_voided"]) or "none"
    facts.append(f"Statements made: {made_txt}   voided: {voided_txt}\n")
    qc = result.get("queue_change")
    facts.append("Queue: " + (f"{qc[0] or '—'} → {qc[1] or '—'}" if qc else f"{after['queue'] or '—'} (unchanged)"))
    for label, key in (("Payers", "payers"), ("Claim type", "claim_type"), ("Billable", "billable")):
        if before.get(key) != after.get(key):
            facts.append(f"\n{label}: {_shown(key, before.get(key))} → {_shown(key, after.get(key))}")
    report = result.get("report") or {}
    if report.get("summary"):
        facts.append(f"\n{report['summary']}")
    details = [f"{k.replace('_', ' ')} {_shown(k, v)}" for k, v in report.items() if k != "summary"]
    if details:
        facts.append("\nDetails: " + " · ".join(details), style="dim")
    return [head, table, facts]


def apply_to_others(key: str, encounter_ids: list[int], data_in: dict, submit_key: str) -> list[dict]:
    """The same action on other encounters, each in its own transaction and idempotency key.

    Runs in a worker: Ctrl+K stops it between encounters (those done stay done).
    """
    out = []
    for eid in encounter_ids:
        if worker_cancelled():
            out.append({"encounter_id": eid, "ok": False, "error": "cancelled before it was applied"})
            continue
        try:
            res = actions.apply(eid, key, data_in, idempotency_key=f"{submit_key}:{eid}")
            out.append({"encounter_id": eid, "ok": True, "result": res})
        except ClaimdeskError as exc:
            out.append({"encounter_id": eid, "ok": False, "error": str(exc)})
    return out


def load_statements(result: dict) -> list[dict]:
    return patient_views.statements_by_id(result.get("statements_made", []))


class ActionResultScreen(BaseScreen):
    """What the action changed, then the queue question, then the other encounters."""

    TITLE = "Advanced Actions"
    BINDINGS = [
        Binding("escape", "finish", "Done"),
        Binding("y", "queue(True)", "Yes, remove"),
        Binding("n", "queue(False)", "No, keep"),
        Binding("f2", "apply_others", "Apply to selected"),
    ]

    def __init__(self, result: dict, offer: dict, data_in: dict):
        super().__init__()
        self.result = result
        self.offer = offer
        self.data_in = data_in
        self.stage = "queue" if result.get("offers_queue_removal") else "others"
        self.others_key = str(uuid.uuid4())
        self.others: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="result-scroll"):
            yield Static("", id="result-head")
            yield Static("", id="result-table")
            yield Static("", id="result-facts")
            with Vertical(id="queue-ask", classes="ask"):
                q = self.result["after"]["queue"]
                yield Label(f"Remove encounter {self.result['encounter_id']} from queue {q}?", classes="ask-title")
                with Horizontal(classes="buttons", id="queue-buttons"):
                    yield Button("Yes, remove (y)", id="queue-yes", variant="primary", compact=True)
                    yield Button("No, keep it (n)", id="queue-no", compact=True)
            with Vertical(id="others", classes="ask"):
                yield Label("", id="others-title", classes="ask-title")
                yield SelectionList(id="others-list", compact=True)
                with Horizontal(classes="buttons", id="others-buttons"):
                    yield Button("Apply to selected", id="others-apply", variant="primary", compact=True)
                    yield Button("Done", id="done", compact=True)
                yield Static("", id="others-results")
        yield Footer()

    def on_mount(self) -> None:
        self.render_result([])
        self.call(load_statements, self.result, done=self.render_result)
        self.query_one("#queue-ask").display = self.stage == "queue"
        self.query_one("#others").display = False
        if self.stage == "queue":
            self.query_one("#queue-yes", Button).focus()
        else:
            self.load_others()

    def render_result(self, statements: list[dict]) -> None:
        head, table, facts = result_renderables(self.result, self.offer["title"], statements)
        self.query_one("#result-head", Static).update(head)
        self.query_one("#result-table", Static).update(table)
        self.query_one("#result-facts", Static).update(facts)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "queue":
            return self.stage == "queue"
        if action == "apply_others":
            return self.stage == "others" and bool(self.others)
        return True

    # -- the queue question -----------------------------------------------------------------
    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        ident = event.button.id
        if ident in ("queue-yes", "queue-no"):
            self.action_queue(ident == "queue-yes")
        elif ident == "others-apply":
            self.action_apply_others()
        elif ident == "done":
            self.action_finish()

    def action_queue(self, remove: bool) -> None:
        if self.stage != "queue":
            return
        self.stage = "queue-busy"
        for b in self.query("#queue-ask Button"):
            b.disabled = True
        if remove:
            self.call(actions.remove_from_queue, self.result["encounter_id"], done=self.queue_removed,
                      failed=self.queue_failed)
        else:
            self.query_one("#queue-ask Label", Label).update(
                f"Encounter {self.result['encounter_id']} stays on queue {self.result['after']['queue']}.")
            self.load_others()

    def queue_removed(self, res: dict) -> None:
        self.query_one("#queue-ask Label", Label).update(
            f"✔ Encounter {res['encounter_id']} removed from queue {res['removed_from']}.")
        self.load_others()

    def queue_failed(self, exc: BaseException) -> None:
        self.show_error(exc)
        self.query_one("#queue-ask Label", Label).update(f"Queue unchanged: {describe_error(exc)}")
        self.load_others()

    # -- the other encounters ------------------------------------------------------------------
    def load_others(self) -> None:
        self.stage = "others"
        self.query_one("#queue-buttons").display = False
        self.call(actions.other_encounters, self.result["encounter_id"], self.offer["key"],
                  done=self.show_others, failed=self.others_failed)

    def show_others(self, others: list[dict]) -> None:
        self.others = others
        box = self.query_one("#others")
        box.display = True
        title = self.query_one("#others-title", Label)
        sel = self.query_one("#others-list", SelectionList)
        if not others:
            title.update("No other encounters of this patient where this action applies.")
            sel.display = False
            self.query_one("#others-apply", Button).display = False
            self.query_one("#done", Button).focus()
        else:
            title.update(f"Apply “{self.offer['title']}” with the same inputs to the patient's other encounters?")
            sel.add_options([(f"Encounter {o['encounter_id']}  DOS {o['dos']}  open {fmt(o['balance'])}"
                              f"  queue {o['queue'] or '—'}", o["encounter_id"]) for o in others])
            sel.highlighted = 0
            sel.focus()
        self.refresh_bindings()
        self.call_after_refresh(self.query_one("#others").scroll_visible, animate=False)

    def others_failed(self, exc: BaseException) -> None:
        self.show_others([])
        self.query_one("#others-title", Label).update(f"Could not list other encounters: {describe_error(exc)}")

    def action_apply_others(self) -> None:
        if self.stage != "others":
            return
        ids = list(self.query_one("#others-list", SelectionList).selected)
        if not ids:
            self.notify("Tick one or more encounters first (Space).", severity="warning")
            return
        self.call(apply_to_others, self.offer["key"], ids, self.data_in, self.others_key,
                  done=self.show_others_results, busy=self.query_one("#others-apply"))

    def show_others_results(self, results: list[dict]) -> None:
        t = Text()
        for r in results:
            if r["ok"]:
                res = r["result"]
                t.append(f"✔ Encounter {r['encounter_id']}: applied; patient owes "
                         f"{fmt(res['before']['patient_due'])} → {fmt(res['after']['patient_due'])}")
                if res["statements_made"]:
                    t.append(f"; statement #{', #'.join(map(str, res['statements_made']))}")
                t.append("\n")
            else:
                t.append(f"✘ Encounter {r['encounter_id']}: not applied: {r['error']}\n", style="bold")
        self.query_one("#others-results", Static).update(t)
        sel = self.query_one("#others-list", SelectionList)
        done_ids = {r["encounter_id"] for r in results if r["ok"]}
        for value in done_ids:
            sel.deselect(value)
        self.others_key = str(uuid.uuid4())
        self.query_one("#done", Button).focus()
        self.call_after_refresh(self.query_one("#others-results").scroll_visible, animate=False)

    def action_finish(self) -> None:
        self.dismiss(True)
