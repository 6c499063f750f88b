"""Advanced Actions: look up an encounter, assess it, apply the chosen action.

The flow (driven the same way by the CLI and the TUI):
  1. :func:`lookup` an encounter ID (malformed or unknown -> clear error);
  2. :func:`assess` asks every action plugin ``applies(ctx)`` and returns only
     those that fit, plus "None of the options above", always;
  3. the chosen action's schema gives the guided inputs (:func:`form`);
  4. :func:`apply` validates, runs the action in one transaction with an audit
     event and reports exactly what changed (entries, balances before/after,
     statements made or voided, queue changes);
  5. :func:`remove_from_queue` if the clerk wants, and :func:`other_encounters`
     lists the patient's other encounters where the same action applies, for
     :func:`apply` on each (each in its own transaction).
A plugin that raises in ``applies`` is reported and skipped; one that raises in
``apply`` leaves nothing written.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from marshmallow import fields as mfields

from claimdesk.core import workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import ClaimdeskError, NotFound, Refused
from claimdesk.core.models import (
    INSURANCE_RANKS, Charge, ChargeSplit, Encounter, Eob, Patient, Statement, WorkQueue,
)
from claimdesk.core.plugins.host import PluginFailure, get_host
from claimdesk.core.plugins.records import Action
from claimdesk.core.schemas import Money, load
from claimdesk.core.services import balances, billing
from claimdesk.core.users import require_role


class ActionFailed(ClaimdeskError):
    """An action plugin raised while applying; nothing was written."""


@dataclasses.dataclass
class ActionContext:
    """What an action plugin sees: the encounter and handy derived facts.

    Everything here is read from the database when first asked for; inside
    ``apply`` it is the same transaction the action writes in.
    """

    encounter: Encounter

    @functools.cached_property
    def patient(self) -> Patient:
        return Patient.get_by_id(self.encounter.patient_id)

    @functools.cached_property
    def slots(self) -> dict:
        """Payer list by rank: {"primary": EncounterPayer, ...}."""
        return billing.payer_list(self.encounter)

    @functools.cached_property
    def charges(self) -> list[Charge]:
        return list(Charge.select().where(Charge.encounter == self.encounter.id).order_by(Charge.line_no))

    @functools.cached_property
    def splits(self) -> list[ChargeSplit]:
        ids = [c.id for c in self.charges]
        return list(ChargeSplit.select().where(ChargeSplit.charge.in_(ids))) if ids else []

    @functools.cached_property
    def eobs(self) -> list[Eob]:
        return list(Eob.select().where(Eob.encounter == self.encounter.id).order_by(Eob.id))

    def payer(self, rank: str):
        """The payer at ``rank`` or None."""
        slot = self.slots.get(rank)
        return slot.payer if slot else None

    def balance_by_rank(self) -> dict[str, int]:
        """Open balance of this encounter per rank."""
        out: dict[str, int] = {}
        for s in self.splits:
            out[s.rank] = out.get(s.rank, 0) + s.balance
        return out

    def open_splits(self, rank: str | None = None, denied: bool | None = None) -> list[ChargeSplit]:
        """Splits with a balance, optionally of one rank / denied state."""
        return [s for s in self.splits if s.balance > 0 and (rank is None or s.rank == rank)
                and (denied is None or s.denied == denied)]

    @property
    def patient_balance(self) -> int:
        return self.balance_by_rank().get("patient", 0)

    @property
    def insurance_balance(self) -> int:
        return sum(v for k, v in self.balance_by_rank().items() if k in INSURANCE_RANKS)

    @property
    def active(self) -> bool:
        return self.encounter.status == "active"

    def refresh(self) -> "ActionContext":
        return ActionContext(Encounter.get_by_id(self.encounter.id))


def lookup(encounter_id: Any) -> Encounter:
    """Find an encounter by ID typed by a clerk ("E123", " 123 " and 123 all work)."""
    text = str(encounter_id).strip().upper().lstrip("E#")
    if not text.isdigit() or len(text) > 12:
        raise NotFound(f"{encounter_id!r} is not an encounter ID (expected a number like 1042)",
                       field="encounter_id")
    enc = Encounter.get_or_none(Encounter.id == int(text))
    if enc is None:
        raise NotFound(f"no encounter with ID {int(text)}", field="encounter_id")
    return enc


def _applies(action: Action, ctx: ActionContext, failures: list) -> bool:
    if action.always_offered:
        return True
    try:
        return bool(action.applies(ctx))
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the app down
        failures.append(PluginFailure(_owner(action), "applies", f"{type(exc).__name__}: {exc}"))
        return False


def _owner(action: Action) -> str:
    return get_host().owner("claimdesk_advanced_actions", action.key) or action.key


def offer(action: Action) -> dict:
    """An action as shown in the menu."""
    return {"key": action.key, "title": action.title, "when": action.when, "steps": list(action.steps),
            "offers_queue_removal": action.offers_queue_removal, "repeatable": action.repeatable,
            "required_role": action.required_role}


def assess(encounter_id: Any) -> dict:
    """The actions that apply to this encounter (plus "None of the options above")."""
    enc = lookup(encounter_id)
    ctx = ActionContext(enc)
    failures: list[PluginFailure] = []
    offers = [offer(a) for a in get_host().actions() if _applies(a, ctx, failures)]
    return {"encounter_id": enc.id, "patient_id": enc.patient_id, "offers": offers,
            "failures": [dataclasses.asdict(f) for f in failures]}


def get_action(key: str) -> Action:
    """An action plugin by key, or a clear error."""
    action = get_host().get("claimdesk_advanced_actions", key)
    if action is None:
        raise NotFound(f"no advanced action {key!r}", field="action")
    return action


def form(encounter_id: Any, key: str) -> list[dict]:
    """The guided inputs of an action as field descriptions for a form."""
    action = get_action(key)
    ctx = ActionContext(lookup(encounter_id))
    choices = action.choices(ctx) if action.choices else {}
    return describe_schema(action.schema, choices)


def describe_schema(schema, choices: dict | None = None) -> list[dict]:
    """Field descriptions of a schema, for rendering a guided form.

    Each: name, kind (money|bool|date|int|text|choice|multi|rows), label,
    required, help, choices ``[[value, label], ...]``; a list of nested records
    ("rows", e.g. codes each with a reason) has ``fields`` describing one row.
    """
    if schema is None:
        return []
    choices = choices or {}
    out = []
    inst = schema() if isinstance(schema, type) else schema
    for name, field in inst.fields.items():
        meta = field.metadata or {}
        opts = choices.get(name) or meta.get("choices") or []
        entry = {"name": name, "label": meta.get("label", name.replace("_", " ").capitalize()),
                 "required": field.required, "help": meta.get("help", ""),
                 "choices": [list(c) if isinstance(c, (tuple, list)) else [c, c] for c in opts]}
        if isinstance(field, mfields.List) and isinstance(field.inner, mfields.Nested):
            entry.update(kind="rows", fields=describe_schema(field.inner.nested, choices))
        elif isinstance(field, mfields.List):
            entry["kind"] = "multi"
        else:
            entry["kind"] = ("money" if isinstance(field, Money) else "bool" if isinstance(field, mfields.Boolean)
                             else "date" if isinstance(field, mfields.Date)
                             else "choice" if opts else "int" if isinstance(field, mfields.Integer) else "text")
        out.append(entry)
    return out


def _snapshot(enc: Encounter) -> dict:
    ctx = ActionContext(Encounter.get_by_id(enc.id))
    pb = balances.patient_balance(enc.patient_id)
    return {"encounter_by_rank": ctx.balance_by_rank(), "encounter_total": balances.encounter_balance(enc.id),
            "patient_due": pb.patient_due, "insurance_pending": pb.insurance_pending,
            "queue": ctx.encounter.queue.key if ctx.encounter.queue_id else None,
            "claim_type": ctx.encounter.claim_type, "billable": ctx.encounter.billable,
            "payers": {r: s.payer.name for r, s in ctx.slots.items()},
            "statements": [s.id for s in Statement.select(Statement.id).where(
                (Statement.patient == enc.patient_id) & (Statement.status == "active"))]}


def apply(encounter_id: Any, key: str, data: dict | None = None, *,
          idempotency_key: str | None = None) -> dict:
    """Apply one action to one encounter, atomically, with an audit event.

    Refused when the action does not apply. The result has what the plugin
    reported plus ``before``/``after`` snapshots, ``statements_made``,
    ``statements_voided`` and ``queue_change``.
    """
    action = get_action(key)
    enc = lookup(encounter_id)
    clean = load(action.schema, data or {}) if action.schema is not None else {}
    require_role(action.required_role, f"the action {action.title!r}")

    def body():
        ctx = ActionContext(Encounter.get_by_id(enc.id))
        failures: list = []
        if not _applies(action, ctx, failures):
            why = f" ({failures[0].error})" if failures else ""
            raise Refused(f"{action.title!r} does not apply to encounter {enc.id}{why}", field="action")
        before = _snapshot(enc)
        try:
            report = action.apply(ctx, clean) or {}
        except ClaimdeskError:
            raise
        except Exception as exc:  # noqa: BLE001 - rolled back by the transaction
            raise ActionFailed(f"action {key!r} (plugin {_owner(action)}) failed: "
                               f"{type(exc).__name__}: {exc}; nothing was written") from exc
        after = _snapshot(enc)
        return {"action": key, "encounter_id": enc.id, "patient_id": enc.patient_id,
                "report": workflow.jsonable(report), "before": before, "after": after,
                "statements_made": [s for s in after["statements"] if s not in before["statements"]],
                "statements_voided": [s for s in before["statements"] if s not in after["statements"]],
                "queue_change": ([before["queue"], after["queue"]] if before["queue"] != after["queue"] else None),
                "offers_queue_removal": action.offers_queue_removal and after["queue"] is not None}

    return workflow.run(f"action.{key}", body, inputs=clean, encounter_id=enc.id,
                        idempotency_key=idempotency_key, reason=str(clean.get("reason", clean.get("note", ""))))


def remove_from_queue(encounter_id: Any) -> dict:
    """Take an encounter off its current work queue (audited)."""
    enc = lookup(encounter_id)

    def body():
        e = Encounter.get_by_id(enc.id)
        if e.queue_id is None:
            raise Refused(f"encounter {e.id} is not on a work queue", field="encounter_id")
        was = WorkQueue.get_by_id(e.queue_id).key
        Encounter.update(queue=None).where(Encounter.id == e.id).execute()
        return {"encounter_id": e.id, "removed_from": was}

    return workflow.run("queue.remove", body, encounter_id=enc.id, inputs={"encounter_id": enc.id})


def other_encounters(encounter_id: Any, key: str) -> list[dict]:
    """The patient's other encounters to which the same action applies now."""
    action = get_action(key)
    enc = lookup(encounter_id)
    if not action.repeatable:
        return []
    failures: list = []
    out = []
    for other in (Encounter.select().where((Encounter.patient == enc.patient_id) & (Encounter.id != enc.id))
                  .order_by(Encounter.dos, Encounter.id)):
        ctx = ActionContext(other)
        if _applies(action, ctx, failures):
            out.append({"encounter_id": other.id, "dos": other.dos.isoformat(),
                        "balance": balances.encounter_balance(other.id),
                        "queue": other.queue.key if other.queue_id else None})
    return out


def apply_to_others(key: str, encounter_ids: list, data: dict | None = None) -> list[dict]:
    """Apply the same action to several encounters, each in its own transaction."""
    results = []
    for eid in encounter_ids:
        try:
            results.append({"encounter_id": eid, "ok": True, "result": apply(eid, key, data)})
        except ClaimdeskError as exc:
            results.append({"encounter_id": eid, "ok": False, "error": str(exc)})
    return results


def current_user_name() -> str:
    """For plugins: the user the action runs as."""
    return current_user()
