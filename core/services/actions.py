"""Advanced Actions: look up an encounter, assess it, apply the chosen action.

The flow (driven the same way by the CLI and the TUI):
  1. :func:`lookup` an encounter ID (malformed or unknown -> clear error);
  2. :func:`assess` asks every action plugin ``applies(ctx)`` and returns only
     those that fit, plus "None of the options above", always;
  3. the chosen action's schema gives the guided inputs (:func:`form`);
  4. :func:`apply` validates, runs the action in one transaction with an audit
     event and reports exactly what changed (entries, balances before/after,
     statements made or voided, queue changes); :func:`preview` does exactly the
     same and rolls it back, to show what applying would do (:func:`dry_run` for
     several steps at once);
  5. :func:`remove_from_queue` if the clerk wants (only after an action that
     offers it), and :func:`other_encounters` lists the patient's other encounters
     where the same action applies, for :func:`apply_to_others` (each in its own
     transaction; nothing else qualifies).
A plugin that raises in ``applies`` is reported and skipped; one whose schema,
choices, ``apply`` or report is broken raises :class:`ActionFailed` naming it and
leaves nothing written. Who owes a split is decided by its payer, not its rank:
money owed by the placeholder primary "Patient" is the patient's.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

import peewee
from marshmallow import fields as mfields

from claimdesk.core import db, workflow
from claimdesk.core.errors import ClaimdeskError, NotFound, Refused
from claimdesk.core.models import Encounter, Statement, WorkQueue
from claimdesk.core.money import Cents
from claimdesk.core.plugins.context import ActionContext
from claimdesk.core.plugins.host import PluginFailure, get_host
from claimdesk.core.plugins.records import Action
from claimdesk.core.prepared import Prepared, by_id
from claimdesk.core.validation import Money, load, schema_instance, typed_id
from claimdesk.core.services import adjustments, balances
from claimdesk.core.users import require_role


class ActionFailed(ClaimdeskError):
    """An action plugin broke (its schema, choices, apply or report); nothing was written."""


def lookup(encounter_id: Any) -> Encounter:
    """Find an encounter by ID typed by a clerk ("E123", " 123 " and 123 all work)."""
    number = _typed_number(encounter_id)
    if number is None:
        raise NotFound(f"{encounter_id!r} is not an encounter ID (expected a number like 1042)",
                       field="encounter_id")
    enc = by_id(Encounter, number)
    if enc is None:
        raise NotFound(f"no encounter with ID {number}", field="encounter_id")
    return enc


def _typed_number(value: Any) -> int | None:
    """The id an encounter ID typed by a clerk names ("E12", "#12", " 12 ", 12), or None when it
    names none (:func:`validation.typed_id`)."""
    return typed_id(str(value).strip().upper().lstrip("E#"))


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


def applies(encounter_id: Any, key: str) -> bool:
    """Whether the action ``key`` (from whichever plugin offers it) applies to the encounter now."""
    return _applies(get_action(key), ActionContext(lookup(encounter_id)), [])


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
    choices = _plugin_call(action, "choices", lambda: action.choices(ctx)) if action.choices else {}
    if not isinstance(choices, dict):
        raise _failed(action, "choices", f"returned {type(choices).__name__}, not a dict of field choices")
    initial = _plugin_call(action, "initial", lambda: action.initial(ctx)) if action.initial else {}
    if not isinstance(initial, dict):
        raise _failed(action, "initial", f"returned {type(initial).__name__}, not a dict of field values")
    return _plugin_call(action, "schema", lambda: describe_schema(action.schema, choices, workflow.jsonable(initial)))


def _failed(action: Action, stage: str, what: str) -> "ActionFailed":
    return ActionFailed(f"action {action.key!r} (plugin {_owner(action)}) failed in {stage}: {what}; "
                        f"nothing was written")


def _plugin_call(action: Action, stage: str, fn):
    """Run plugin code (its schema, choices, apply): a ClaimdeskError it raises on purpose
    passes through, and so does a lock conflict (the workflow retries it); anything else is
    reported as :class:`ActionFailed` naming the plugin."""
    try:
        return fn()
    except (ClaimdeskError, peewee.OperationalError, peewee.InternalError):
        raise
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the app down
        raise _failed(action, stage, f"{type(exc).__name__}: {exc}") from exc


def _checked_report(action: Action, report: Any) -> dict:
    """The plugin's report as stored in the audit trail: a dict of JSON values, or refused."""
    if report is None:
        return {}
    if not isinstance(report, dict):
        raise _failed(action, "apply", f"returned {type(report).__name__}, not a dict describing what changed")
    safe = workflow.jsonable(report)
    try:
        json.dumps(safe, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _failed(action, "apply", f"returned a report that is not JSON-safe ({exc})") from None
    return safe


def describe_schema(schema, choices: dict | None = None, initial: dict | None = None) -> list[dict]:
    """Field descriptions of a schema, for rendering a guided form.

    Each: name, kind (money|bool|date|int|text|choice|multi|rows), label,
    required, help, choices ``[[value, label], ...]``, and ``default`` when the form
    starts filled in (``initial``: e.g. the coverage details being edited); a list of
    nested records ("rows", e.g. codes each with a reason) has ``fields`` describing one row.
    """
    if schema is None:
        return []
    choices = choices or {}
    initial = initial or {}
    out = []
    inst = schema_instance(schema)
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
        if initial.get(name) not in (None, ""):
            entry["default"] = initial[name]
        out.append(entry)
    return out


def _snapshot(enc: Encounter, ctx: ActionContext | None = None) -> dict:
    """The encounter's balances and facts at one moment (before/after an action); ``ctx`` when
    one that has read nothing since the last change is at hand (its reads are reused)."""
    ctx = ctx or ActionContext(enc.id)
    pb = balances.patient_balance(enc.patient_id)
    return {"encounter_by_rank": ctx.balance_by_rank(), "encounter_total": Cents(balances.encounter_balance(enc.id)),
            "patient_due": Cents(pb.patient_due), "insurance_pending": Cents(pb.insurance_pending),
            "queue": ctx.encounter.queue, "claim_type": ctx.encounter.claim_type, "billable": ctx.encounter.billable,
            "payers": {r: s.payer.name for r, s in ctx.slots.items()},
            "statements": [sid for (sid,) in _ACTIVE_STATEMENTS.cursor(enc.patient_id)]}


_ACTIVE_STATEMENTS = Prepared(lambda patient: Statement.select(Statement.id).where(
    (Statement.patient == patient) & (Statement.status == "active")).tuples())


def apply(encounter_id: Any, key: str, data: dict | None = None, *,
          idempotency_key: str | None = None, same_as: Any = None) -> dict:
    """Apply one action to one encounter, atomically, with an audit event.

    Refused when the action does not apply. ``same_as`` (the encounter the clerk first
    applied it to) applies it again to another encounter of the same patient: refused,
    with nothing written, for another patient's encounter or an action that is not
    repeatable. A plugin whose schema, ``apply`` or report is broken is reported as
    :class:`ActionFailed` naming it, and nothing is written. The result has what the
    plugin reported plus ``before``/``after`` snapshots, ``statements_made``,
    ``statements_voided`` and ``queue_change``.
    """
    action = get_action(key)
    enc = lookup(encounter_id)
    first = _first_of(same_as, enc, action) if same_as is not None else None
    clean = (_plugin_call(action, "schema", lambda: load(action.schema, data or {}))
             if action.schema is not None else {})

    def body():
        require_role(action.required_role, f"the action {action.title!r}")  # (the role read once, with the writer's)
        ctx = ActionContext(enc.id)
        failures: list = []
        if not _applies(action, ctx, failures):
            why = f" ({failures[0].error})" if failures else ""
            raise Refused(f"{action.title!r} does not apply to encounter {enc.id}{why}", field="action")
        before = _snapshot(enc, ctx)  # (ctx has read the encounter for the rules: nothing changed since)
        with adjustments.writeoff_scope():
            raw = _plugin_call(action, "apply", lambda: action.apply(ctx, clean))
        report = _checked_report(action, raw)
        after = _snapshot(enc)
        return {"action": key, "encounter_id": enc.id, "patient_id": enc.patient_id,
                "same_as": first.id if first is not None else None,
                "report": report, "before": before, "after": after,
                "statements_made": [s for s in after["statements"] if s not in before["statements"]],
                "statements_voided": [s for s in before["statements"] if s not in after["statements"]],
                "queue_change": ([before["queue"], after["queue"]] if before["queue"] != after["queue"] else None),
                "offers_queue_removal": action.offers_queue_removal and after["queue"] is not None}

    return workflow.run(f"action.{key}", body, inputs=clean, encounter_id=enc.id, typed_money=True,
                        idempotency_key=idempotency_key, reason=str(clean.get("reason", clean.get("note", ""))))


def preview(encounter_id: Any, key: str, data: dict | None = None, *, same_as: Any = None) -> dict:
    """What :func:`apply` would do, with nothing written: the same checks and refusals, the
    plugin's own ``apply`` and the same result (report, ``before``/``after``, statements made
    and voided, queue change), from a transaction that is then rolled back (:func:`dry_run`).
    No audit event is kept, no idempotency key is used and no plugin is told."""
    return dry_run(apply, encounter_id, key, data, same_as=same_as)


def dry_run(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` (:func:`apply`, :func:`apply_to_others`, :func:`remove_from_queue`
    or steps made of them) run for real in one transaction that is then rolled back, so nothing
    survives: no entries, no audit event, no idempotency key used; the plugins' after-action
    hooks, which hear only of committed work, are not called. Its result, with each workflow
    result in it (a dict with an ``audit_id``) marked ``dry_run`` and its ``audit_id`` None.
    Numbers of records made (``entries``, ``statements_made``) are those the rolled-back
    records had: count them, do not look them up."""
    return _marked(db.rolled_back(fn, *args, **kwargs))


def _marked(value: Any) -> Any:
    """``value`` with every workflow result in it marked as a dry run (see :func:`dry_run`)."""
    if isinstance(value, dict):
        out = {k: _marked(v) for k, v in value.items()}
        if "audit_id" in out:
            out.update(audit_id=None, dry_run=True)
        return out
    if type(value) in (list, tuple):
        return type(value)(_marked(v) for v in value)
    return value


def _first_of(same_as: Any, enc: Encounter, action: Action) -> Encounter:
    """The encounter an action was first applied to, when applying it again to ``enc``
    ("the patient's other encounters"): refused unless the action is repeatable and ``enc``
    is another encounter of the same patient."""
    first = lookup(same_as)
    if not action.repeatable:
        raise Refused(f"{action.title!r} is applied to one encounter at a time; it cannot be applied "
                      f"to the patient's other encounters", field="also")
    if enc.id == first.id:
        raise Refused(f"encounter {enc.id} is the one the action was just applied to", field="also")
    if enc.patient_id != first.patient_id:
        raise Refused(f"encounter {enc.id} belongs to another patient (patient {enc.patient_id}, not "
                      f"{first.patient_id}); the same action only goes to this patient's other encounters",
                      field="also")
    return first


def check_others(encounter_id: Any, key: str, encounter_ids: list) -> list[int]:
    """Before anything is applied (the CLI's ``--also``): each of ``encounter_ids`` must be
    another encounter of the same patient, listed once, where the repeatable action applies
    now; else refused naming ``also``, with nothing written, so a command retried after a
    refusal never applies the first action twice. The ids as numbers."""
    action = get_action(key)
    first = lookup(encounter_id)
    seen: list[int] = []
    failures: list = []
    for eid in encounter_ids:
        try:
            enc = lookup(eid)
        except NotFound as exc:
            raise NotFound(f"{exc.message}; nothing was applied", field="also") from None
        if enc.id in seen:
            raise Refused(f"encounter {enc.id} is listed twice; nothing was applied", field="also")
        if enc.id == first.id:
            raise Refused(f"encounter {enc.id} is the one the action is being applied to; nothing was applied",
                          field="also")
        try:
            _first_of(first.id, enc, action)
        except Refused as exc:
            raise Refused(f"{exc.message}; nothing was applied", field="also") from None
        if not _applies(action, ActionContext(enc), failures):
            why = f" ({failures[-1].error})" if failures else ""
            raise Refused(f"{action.title!r} does not apply to encounter {enc.id}{why}; nothing was applied",
                          field="also")
        seen.append(enc.id)
    return seen


def remove_from_queue(encounter_id: Any, *, after_action: str | None = None, reason: str = "") -> dict:
    """Take an encounter off its current work queue (audited, with the clerk's ``reason``).

    ``after_action`` is the key of the action just applied, when the clerk answers its
    "remove from the queue?" question: refused, with nothing written, for an action that
    does not offer queue removal.
    """
    enc = lookup(encounter_id)
    if after_action is not None:
        action = get_action(after_action)
        if not action.offers_queue_removal:
            raise Refused(f"{action.title!r} does not offer to take the encounter off its work queue",
                          field="remove_from_queue")

    def body():
        e = Encounter.get_by_id(enc.id)
        if e.queue_id is None:
            raise Refused(f"encounter {e.id} is not on a work queue", field="encounter_id")
        was = WorkQueue.get_by_id(e.queue_id).key
        Encounter.update(queue=None).where(Encounter.id == e.id).execute()
        return {"encounter_id": e.id, "removed_from": was, "after_action": after_action}

    return workflow.run("queue.remove", body, encounter_id=enc.id, reason=reason.strip()[:250],
                        inputs={"encounter_id": enc.id, "after_action": after_action})


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
                        "balance": Cents(balances.encounter_balance(other.id)),
                        "queue": other.queue.key if other.queue_id else None})
    return out


def apply_to_others(key: str, encounter_ids: list, data: dict | None = None, *, first: Any,
                    idempotency_key: str | None = None,
                    cancelled: Callable[[], bool] | None = None) -> list[dict]:
    """Apply the action first applied to ``first`` to the patient's other encounters, each in
    its own transaction; each result reported (``encounter_id`` as a number when it is one).

    Only encounters :func:`other_encounters` would list qualify: the same patient, the action
    repeatable and applying there now; any other id is refused with nothing written for it.
    ``cancelled()``, checked before each encounter, stops the run there (those done stay done).
    """
    results = []
    for eid in encounter_ids:
        shown = _id_or_text(eid)
        if cancelled is not None and cancelled():
            results.append({"encounter_id": shown, "ok": False, "error": "cancelled before it was applied"})
            continue
        try:
            res = apply(eid, key, data, same_as=first,
                        idempotency_key=f"{idempotency_key}:{shown}" if idempotency_key else None)
            results.append({"encounter_id": shown, "ok": True, "result": res})
        except ClaimdeskError as exc:
            results.append({"encounter_id": shown, "ok": False, "error": str(exc)})
    return results


def _id_or_text(value: Any) -> Any:
    """An encounter ID as typed, as the id it names when it names one; anything else as it was
    typed (for the results' report)."""
    number = _typed_number(value)
    return value if number is None else number

