"""Advanced Actions, step 4: what changed, the queue question, the patient's other encounters.

After an action is applied: the before/after balances by rank, statements made
or voided, the queue change and the plugin's own report; then, when the action
offers it, "Remove encounter N from queue X?"; then the patient's other
encounters where the same action applies, to apply it there too with the same
inputs: F2 first shows, per ticked encounter, what applying would do there (or why it
would be refused), and applies on Yes (each in its own transaction, each result
reported). :func:`changes` is what an action changes in words, for the confirm steps.
"""

from __future__ import annotations

import uuid

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Static

from claimdesk.core.models import RANKS
from claimdesk.core.money import Cents, fmt
from claimdesk.core.services import patient_views, views
from claimdesk.core.usecases.advanced_actions import ActionSession, Applied, OtherEncounter, OtherOutcome, QueueAnswer
from claimdesk.tui.screens.base import BaseScreen, describe_error, worker_cancelled
from claimdesk.tui.screens.confirm import ConfirmScreen
from claimdesk.tui.widgets.tick_list import TickList
from claimdesk.tui import keys

#: Nouns whose number is a record's id (``new_encounter 21`` is encounter #21, not 21.00).
ID_NOUNS = {"encounter", "statement", "claim", "charge", "coverage", "message", "credit", "voucher", "eob",
            "batch", "patient", "split", "entry", "audit"}
#: Items of a list shown before "and N more".
LIST_ITEMS = 6


def _words(key: str) -> list[str]:
    return str(key).lower().split("_")


def is_id(key: str) -> bool:
    """``claim_id``, ``removed_encounter``, ``to_charge``: the value is a record number."""
    w = _words(key)
    return w[-1] == "id" or w[-1] in ID_NOUNS


def is_id_list(key: str) -> bool:
    """``charges: [279, 280]``: numbers of records (not counts)."""
    w = _words(key)
    return (len(w) == 1 and w[0].endswith("s") and w[0][:-1] in ID_NOUNS) or w[-1] == "ids"


def label(key: str, value=None) -> str:
    """A report key as words: ``voided_statement_id`` (a record number) -> ``voided statement``;
    ``member_id`` (a typed text) -> ``member id``."""
    w = _words(key)
    number = isinstance(value, int) and not isinstance(value, bool) or value is None
    return " ".join(w[:-1] if w[-1] == "id" and len(w) > 1 and number else w)


def shown(key: str, value) -> str:
    """A report value as a clerk reads it: amounts (:class:`Cents`) as money, ids as ``#21``,
    yes/no, lists."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Cents):  # money by its type, whatever the key is called
        return fmt(value)
    if isinstance(value, int) and is_id(key):
        return f"#{value}"
    if isinstance(value, dict):  # fields by name (a coverage before/after): each one labelled
        return ", ".join(f"{label(k, v)} {shown(k, v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        if not value:
            return "none"
        if is_id_list(key) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            more = f" and {len(value) - LIST_ITEMS} more" if len(value) > LIST_ITEMS else ""
            return ", ".join(f"#{v}" for v in value[:LIST_ITEMS]) + more
        parts = [item_text(v) if isinstance(v, dict) else
                 v.replace("_", " ") if isinstance(v, str) and v.isidentifier() else  # field names: "group no"
                 shown(key, v) for v in value[:LIST_ITEMS]]
        more = f"; and {len(value) - LIST_ITEMS} more" if len(value) > LIST_ITEMS else ""
        sep = "; " if any(isinstance(v, (dict, list)) for v in value) else ", "
        return sep.join(parts) + more
    return str(value)


def item_text(item: dict) -> str:
    """One record of a report list: ``charge #279 primary 12.00``."""
    bits = []
    for k, v in item.items():
        if isinstance(v, int) and not isinstance(v, (bool, Cents)) and is_id(k):
            bits.append(f"{label(k)} #{v}")
        elif isinstance(v, (str, Cents)):
            bits.append(shown(k, v))
        else:
            bits.append(f"{label(k, v)} {shown(k, v)}")
    return " ".join(bits)


def queue_title(key: str | None, names: dict) -> str:
    """A work queue's title (``Patient balance``), not its key; ``—`` for none."""
    return names.get(key, key) if key else "—"


def payers_text(payers) -> str:
    """``primary Aetna / secondary Cigna``."""
    if not payers:
        return "none"
    if isinstance(payers, dict):
        return " / ".join(f"{r} {n}" for r, n in payers.items())
    return shown("payers", payers)


def result_renderables(result: Applied, title: str, statements: list[dict], queues: dict | None = None) -> list:
    """The result as rich renderables: headline, balance table, facts (queues by title)."""
    queues = queues or {}
    before, after = result.before, result.after
    head = Text()
    head.append("✔ Applied: ", style="bold")
    head.append(f"{title} — encounter {result.encounter_id}")
    head.append(f"  (audit #{result.audit_id})", style="dim")
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0))
    table.add_column("Open balance", style="bold")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for r in (r for r in RANKS if r in before.by_rank or r in after.by_rank):
        table.add_row(f"  {r}", fmt(before.by_rank.get(r, 0)), fmt(after.by_rank.get(r, 0)))
    table.add_row("  encounter total", fmt(before.encounter_total), fmt(after.encounter_total))
    table.add_row("Patient owes", fmt(before.patient_due), fmt(after.patient_due))
    table.add_row("With insurers", fmt(before.insurance_pending), fmt(after.insurance_pending))
    facts = Text()
    made = {s["id"]: s for s in statements}
    made_txt = ", ".join(f"#{i}" + (f" (due {fmt(made[i]['amount_due'])})" if i in made else "")
                         for i in result.statements_made) or "none"
    voided_txt = ", ".join(f"#{i}" for i in result.statements_voided) or "none"
    facts.append(f"Statements made: {made_txt}   voided: {voided_txt}\n")
    qc = result.queue_change
    facts.append("Queue: " + (f"{queue_title(qc[0], queues)} → {queue_title(qc[1], queues)}" if qc
                              else f"{queue_title(after.queue, queues)} (unchanged)"))
    if before.payers != after.payers:
        facts.append(f"\nPayers: {payers_text(before.payers)} → {payers_text(after.payers)}")
    for name, key in (("Claim type", "claim_type"), ("Billable", "billable")):
        if getattr(before, key) != getattr(after, key):
            facts.append(f"\n{name}: {shown(key, getattr(before, key))} → {shown(key, getattr(after, key))}")
    if result.report.get("summary"):
        facts.append(f"\n{result.report['summary']}")
    for k, v in result.report.items():
        if k != "summary":
            facts.append(f"\n  {label(k, v).capitalize()}: {shown(k, v)}", style="dim")
    return [head, table, facts]


def changes(result: Applied, queues: dict | None = None) -> list[tuple[str, str]]:
    """What the action changes (or, previewed, would change), in words, as (what, how):
    ``("Patient owes", "20.00 → 0.00")``, ``("Queue", "Billing → none")``, statements made
    and voided, payers, claim type... Only what changes; ``("Balances", "unchanged")`` when no
    balance does."""
    queues = queues or {}
    before, after = result.before, result.after
    out = [(what, f"{fmt(getattr(before, key))} → {fmt(getattr(after, key))}")
           for what, key in (("Patient owes", "patient_due"), ("With insurers", "insurance_pending"),
                             ("Encounter balance", "encounter_total"))
           if getattr(before, key) != getattr(after, key)]
    if not out:
        out.append(("Balances", "unchanged"))
    if result.queue_change:
        out.append(("Queue", " → ".join(queues.get(q, q) if q else "none" for q in result.queue_change)))
    made, voided = len(result.statements_made), result.statements_voided
    if made or voided:
        out.append(("Statements", ", ".join(
            ([f"{made} new" if result.dry_run else f"#{', #'.join(map(str, result.statements_made))} made"]
             if made else []) + ([f"#{', #'.join(map(str, voided))} voided"] if voided else []))))
    if before.payers != after.payers:
        out.append(("Payers", f"{payers_text(before.payers)} → {payers_text(after.payers)}"))
    for what, key in (("Claim type", "claim_type"), ("Billable", "billable")):
        if getattr(before, key) != getattr(after, key):
            out.append((what, f"{shown(key, getattr(before, key))} → {shown(key, getattr(after, key))}"))
    if result.report.get("summary"):
        out.append(("In short", str(result.report["summary"])))
    return out


def queue_titles() -> dict[str, str]:
    """The work queues' titles by key (runs in a worker)."""
    return {q["key"]: q["name"] for q in views.queue_counts()}


def outcome_line(outcome: OtherOutcome, dos: str = "", queues: dict | None = None) -> str:
    """One other encounter's previewed outcome on one line: "Encounter 44 (2026-05-02):
    patient owes 35.00 → 0.00; off the Billing queue", or "...: would be refused: why"."""
    head = f"Encounter {outcome.encounter_id}" + (f" ({dos})" if dos else "")
    if not outcome.ok:
        return f"{head}: would be refused: {outcome.error}"
    bits = [f"{what[0].lower()}{what[1:]} {how}" for what, how in changes(outcome.applied, queues)]
    if outcome.removed_from:
        bits.append(f"off the {queue_title(outcome.removed_from, queues or {})} queue")
    return f"{head}: " + "; ".join(bits)


def load_context(result: Applied) -> dict:
    """The statements the action made and the work queues' titles (runs in a worker)."""
    return {"statements": patient_views.statements_by_id(list(result.statements_made)), "queues": queue_titles()}


class ActionResultScreen(BaseScreen):
    """What the action changed, then the queue question, then the other encounters."""

    TITLE = "Advanced Actions"
    BINDINGS = [
        Binding("escape", "finish", "Done"),
        Binding("y", "queue(True)", "Yes, remove"),
        Binding("n", "queue(False)", "No, keep"),
        keys.do_it("apply_others", "Apply to selected"),
    ]

    def __init__(self, session: ActionSession):
        super().__init__()
        self.session = session
        self.result: Applied = session.applied
        self.stage = "queue" if self.result.offers_queue_removal else "others"
        self.others_key = str(uuid.uuid4())
        self.others: list[dict] = []
        self.queues: dict[str, str] = {}
        self.statements: list[dict] = []
        self.context_loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="result-scroll"):
            yield Static("", id="result-head")
            yield Static("", id="result-table")
            yield Static("", id="result-facts")
            with Vertical(id="queue-ask", classes="ask"):
                yield Label(f"Remove encounter {self.result.encounter_id} from its work queue?",
                            classes="ask-title", id="queue-question")
                with Horizontal(classes="buttons", id="queue-buttons"):
                    yield Button("Yes, remove (y)", id="queue-yes", variant="primary", compact=True)
                    yield Button("No, keep it (n)", id="queue-no", compact=True)
            with Vertical(id="others", classes="ask"):
                yield Label("", id="others-title", classes="ask-title")
                yield TickList(id="others-list", compact=True)
                yield Static("", id="others-hint", classes="hint")
                with Horizontal(classes="buttons", id="others-buttons"):
                    yield Button("Apply to selected", id="others-apply", variant="primary", compact=True)
                    yield Button("Done", id="done", compact=True)
                yield Static("", id="others-results")
        yield Footer()

    def on_mount(self) -> None:
        self.render_result()
        self.call(load_context, self.result, done=self.got_context, failed=self.got_context)
        self.query_one("#queue-ask").display = self.stage == "queue"
        self.query_one("#others").display = False
        if self.stage == "queue":
            self.query_one("#queue-yes", Button).focus()

    def got_context(self, info) -> None:
        """Statements and queue titles known (or not: then keys are shown); the others follow."""
        if isinstance(info, dict):
            self.statements, self.queues = info["statements"], info["queues"]
        self.context_loaded = True
        self.render_result()
        if self.stage == "queue":
            self.query_one("#queue-question", Label).update(
                f"Remove encounter {self.result.encounter_id} from the "
                f"{self.queue_name(self.result.after.queue)} queue?")
        elif self.stage == "others":
            self.load_others()

    def queue_name(self, key: str | None) -> str:
        return queue_title(key, self.queues)

    def render_result(self) -> None:
        head, table, facts = result_renderables(self.result, self.session.title, self.statements, self.queues)
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
            self.call(self.session.remove_from_queue, done=self.queue_removed, failed=self.queue_failed)
        else:
            self.query_one("#queue-question", Label).update(
                f"Encounter {self.result.encounter_id} stays on the "
                f"{self.queue_name(self.result.after.queue)} queue.")
            self.load_others()

    def queue_removed(self, answer: QueueAnswer) -> None:
        self.query_one("#queue-question", Label).update(
            f"✔ Encounter {answer.encounter_id} removed from the {self.queue_name(answer.removed_from)} queue."
            if answer.removed_from else f"Encounter {answer.encounter_id}: {answer.note}.")
        self.load_others()

    def queue_failed(self, exc: BaseException) -> None:
        self.show_error(exc)
        self.query_one("#queue-question", Label).update(f"Queue unchanged: {describe_error(exc)}")
        self.load_others()

    # -- the other encounters ------------------------------------------------------------------
    def load_others(self) -> None:
        self.stage = "others"
        self.query_one("#queue-buttons").display = False
        self.call(self.session.others, done=self.show_others, failed=self.others_failed)

    def show_others(self, others: list[OtherEncounter]) -> None:
        self.others = others
        box = self.query_one("#others")
        box.display = True
        title = self.query_one("#others-title", Label)
        sel = self.query_one("#others-list", TickList)
        if not others:
            title.update("No other encounters of this patient where this action applies.")
            sel.display = False
            self.query_one("#others-apply", Button).display = False
            self.query_one("#done", Button).focus()
        else:
            title.update(f"Apply “{self.session.title}” with the same inputs to the patient's other encounters?")
            sel.add_options([(f"Encounter {o.encounter_id}  DOS {o.dos}  open {fmt(o.balance)}"
                              f"  queue {self.queue_name(o.queue)}", o.encounter_id) for o in others])
            sel.highlighted = 0
            self.query_one("#others-hint", Static).update(
                Text("Space ticks [x], Shift+↓/↑ ticks a range, F2 applies to the ticked ones."))
            sel.focus()
        self.refresh_bindings()
        self.call_after_refresh(self.query_one("#others").scroll_visible, animate=False)

    def others_failed(self, exc: BaseException) -> None:
        self.show_others([])
        self.query_one("#others-title", Label).update(f"Could not list other encounters: {describe_error(exc)}")

    def action_apply_others(self) -> None:
        if self.stage != "others":
            return
        ids = list(self.query_one("#others-list", TickList).selected)
        if not ids:
            self.notify("Tick one or more encounters first (Space).", severity="warning")
            return
        # first what it would do to each (nothing written), then the clerk says yes
        self.call(self.session.preview_others, ids, done=lambda seen: self.confirm_others(ids, seen),
                  busy=self.query_one("#others-apply"))

    def confirm_others(self, ids: list, seen: list[OtherOutcome]) -> None:
        """Ask, showing per encounter what applying would do there or why it would be refused."""
        dos = {o.encounter_id: o.dos for o in self.others}
        fit = sum(o.ok for o in seen)
        note = ("" if fit == len(seen) else
                f"{len(seen) - fit} would be refused and left as they are." if fit else
                "None of them would be applied.")
        self.app.push_screen(
            ConfirmScreen(f"Apply “{self.session.title}” to {len(ids)} other encounter(s)?",
                          [outcome_line(o, dos.get(o.encounter_id, ""), self.queues) for o in seen],
                          yes="Apply", no="Back", note=note),
            callback=lambda yes: self.apply_others(ids) if yes else None)

    def apply_others(self, ids: list) -> None:
        # runs in a worker: Ctrl+K stops it between encounters (those done stay done)
        self.call(self.session.apply_to_others, ids, idempotency_key=self.others_key, cancelled=worker_cancelled,
                  done=self.show_others_results, busy=self.query_one("#others-apply"))

    def show_others_results(self, results: list[OtherOutcome]) -> None:
        t = Text()
        for r in results:
            if r.ok:
                res = r.applied
                t.append(f"✔ Encounter {r.encounter_id}: applied; patient owes "
                         f"{fmt(res.before.patient_due)} → {fmt(res.after.patient_due)}")
                if res.statements_made:
                    t.append(f"; statement #{', #'.join(map(str, res.statements_made))}")
                if r.removed_from:
                    t.append(f"; taken off the {r.removed_from} queue")
                t.append("\n")
            else:
                t.append(f"✘ Encounter {r.encounter_id}: not applied: {r.error}\n", style="bold")
        self.query_one("#others-results", Static).update(t)
        sel = self.query_one("#others-list", TickList)
        done_ids = {r.encounter_id for r in results if r.ok}
        for value in done_ids:
            sel.deselect(value)
        self.others_key = str(uuid.uuid4())
        self.query_one("#done", Button).focus()
        self.call_after_refresh(self.query_one("#others-results").scroll_visible, animate=False)

    def action_finish(self) -> None:
        """Done: back to Advanced Actions, on the encounter the action left to work on."""
        self.dismiss(self.result.next_encounter)
