"""Advanced Actions, steps 3 and 4, as one clerk goes through them — shared by the CLI and the app.

:class:`ActionSession` holds the chosen action, the encounter and the clerk's inputs and
composes the steps in one place: apply (one audited transaction), then "take the
encounter off its queue?" (only when the action offers it, and only when it is on one),
then the patient's other encounters where the same action applies, to apply it there with
the same inputs. Before the clerk confirms, :meth:`ActionSession.preview` and
:meth:`ActionSession.preview_others` show what applying would do (the core does the same
work and rolls it back). Each step returns a typed result; amounts are
:class:`~claimdesk.core.money.Cents`, so a front end shows money by its type. The rules
(does the action offer queue removal, is it repeatable, which encounters qualify) are the
core's (:mod:`claimdesk.core.services.actions`); the session only composes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from claimdesk.core.errors import InputError
from claimdesk.core.money import Cents
from claimdesk.core.services import actions


@dataclasses.dataclass(frozen=True)
class Balances:
    """An encounter's open balances and facts at one moment (before or after the action)."""

    by_rank: dict[str, Cents]
    encounter_total: Cents
    patient_due: Cents
    insurance_pending: Cents
    queue: str | None
    claim_type: str
    billable: bool
    payers: dict[str, str]
    statements: tuple[int, ...]

    @classmethod
    def of(cls, snap: dict) -> "Balances":
        return cls({r: Cents(v) for r, v in snap["encounter_by_rank"].items()}, Cents(snap["encounter_total"]),
                   Cents(snap["patient_due"]), Cents(snap["insurance_pending"]), snap["queue"], snap["claim_type"],
                   bool(snap["billable"]), dict(snap["payers"]), tuple(snap["statements"]))


@dataclasses.dataclass(frozen=True)
class Applied:
    """One action applied to one encounter: what the plugin reported and what changed."""

    action: str
    encounter_id: int
    patient_id: int
    audit_id: int | None
    """None in a preview (nothing was kept)."""
    entries: tuple[int, ...]
    report: dict
    """The plugin's own report (amounts as :class:`Cents`; ``summary`` a sentence, if any)."""
    before: Balances
    after: Balances
    statements_made: tuple[int, ...]
    statements_voided: tuple[int, ...]
    queue_change: tuple[str | None, str | None] | None
    offers_queue_removal: bool
    """The action asks "take it off its queue?" and the encounter is on one."""
    stored: dict
    """The result as the audit trail keeps it (``--json`` prints it)."""
    dry_run: bool = False
    """What applying would do, nothing written (:meth:`ActionSession.preview`): its entry and
    statement numbers are those of records rolled back (count them)."""

    @classmethod
    def of(cls, res: dict) -> "Applied":
        qc = res.get("queue_change")
        return cls(res["action"], res["encounter_id"], res["patient_id"], res.get("audit_id"),
                   tuple(res.get("entries", ())), dict(res.get("report") or {}), Balances.of(res["before"]),
                   Balances.of(res["after"]), tuple(res["statements_made"]), tuple(res["statements_voided"]),
                   tuple(qc) if qc else None, bool(res["offers_queue_removal"]), res, bool(res.get("dry_run")))

    @property
    def next_encounter(self) -> int:
        """The encounter to work on next: the one the action made in place of this one (a
        workers' comp conversion reports ``new_encounter``), else this one."""
        new = self.report.get("new_encounter")
        return new if isinstance(new, int) and not isinstance(new, bool) else self.encounter_id


@dataclasses.dataclass(frozen=True)
class QueueAnswer:
    """The answer to "take it off its queue?": the queue it left, or why nothing was removed."""

    encounter_id: int
    removed_from: str | None
    note: str = ""
    audit_id: int | None = None


@dataclasses.dataclass(frozen=True)
class OtherEncounter:
    """Another encounter of the patient where the same action applies now."""

    encounter_id: int
    dos: str
    balance: Cents
    queue: str | None


@dataclasses.dataclass(frozen=True)
class OtherOutcome:
    """The same action on one other encounter: applied (or, previewed, what applying would do),
    or why not."""

    encounter_id: Any
    applied: Applied | None
    error: str = ""
    removed_from: str | None = None
    """The queue it was taken off (the clerk's answer for the first encounter, applied here too)."""

    @property
    def ok(self) -> bool:
        return self.applied is not None


class ActionSession:
    """One clerk applying one action: :meth:`apply`, then :meth:`remove_from_queue` if the clerk
    says so, then :meth:`others` and :meth:`apply_to_others`."""

    def __init__(self, encounter_id: Any, key: str, data: dict | None = None):
        self.action = actions.get_action(key)
        self.key = key
        self.encounter_id = encounter_id
        self.data = dict(data or {})
        self.applied: Applied | None = None
        self.removed_from_queue = False  # the clerk's queue answer, applied to the others too

    @property
    def title(self) -> str:
        return self.action.title

    def check_options(self, *, remove_from_queue: bool = False, also: bool = False) -> None:
        """Refuse, before anything is applied, what the action does not allow: queue removal
        for an action that does not offer it, other encounters for one applied one at a time."""
        if remove_from_queue and not self.action.offers_queue_removal:
            raise InputError({"remove_from_queue": [
                f"{self.title!r} does not offer to take the encounter off its work queue"]})
        if also and not self.action.repeatable:
            raise InputError({"also": [f"{self.title!r} is applied to one encounter at a time; "
                                       f"it cannot be applied to the patient's other encounters"]})

    def check_others(self, encounter_ids: list | str) -> None:
        """Refuse, before anything is applied, other encounters the same action cannot go to
        (another patient's, unknown, listed twice, or where it does not apply): a retried command
        must not apply the first action again because an ``--also`` id was wrong. ``"all"`` is
        whichever fit after the first is applied: nothing to check."""
        if isinstance(encounter_ids, str) and encounter_ids.strip().lower() == "all":
            return
        actions.check_others(self.encounter_id, self.key, list(encounter_ids))

    def preview(self) -> Applied:
        """Before step 3: what applying would do (``dry_run``), nothing written; refused, with the
        messages naming the fields, exactly as :meth:`apply` would be."""
        return Applied.of(actions.preview(self.encounter_id, self.key, self.data))

    def apply(self, *, idempotency_key: str | None = None) -> Applied:
        """Step 3: apply the action (validated, one transaction, audited)."""
        self.applied = Applied.of(actions.apply(self.encounter_id, self.key, self.data,
                                                idempotency_key=idempotency_key))
        return self.applied

    def _first(self) -> Applied:
        if self.applied is None:
            raise RuntimeError("apply the action first")
        return self.applied

    def remove_from_queue(self) -> QueueAnswer:
        """Step 4a, the clerk said yes: take the encounter off its work queue (audited). An
        encounter on no queue is left as it is and said so."""
        first = self._first()
        if first.after.queue is None:
            return QueueAnswer(first.encounter_id, None, "not on a work queue: nothing to remove")
        res = actions.remove_from_queue(first.encounter_id, after_action=self.key)
        self.removed_from_queue = True
        return QueueAnswer(res["encounter_id"], res["removed_from"], audit_id=res["audit_id"])

    def others(self) -> list[OtherEncounter]:
        """Step 4b: the patient's other encounters where the same action applies now."""
        if not self.action.repeatable:
            return []
        return [OtherEncounter(o["encounter_id"], o["dos"], Cents(o["balance"]), o["queue"])
                for o in actions.other_encounters(self._first().encounter_id, self.key)]

    def apply_to_others(self, encounter_ids: list | str, *, idempotency_key: str | None = None,
                        cancelled: Callable[[], bool] | None = None) -> list[OtherOutcome]:
        """Apply the same action with the same inputs to the chosen other encounters (``"all"``:
        every one :meth:`others` lists), each in its own transaction; each outcome reported.
        The clerk's queue answer for the first encounter holds for these: when it was taken
        off its work queue, each one applied is taken off its queue too (audited)."""
        return _outcomes(self._to_others(encounter_ids, idempotency_key=idempotency_key, cancelled=cancelled))

    def preview_others(self, encounter_ids: list | str) -> list[OtherOutcome]:
        """What :meth:`apply_to_others` would do with ``encounter_ids``, nothing written: each
        previewed in turn in one transaction rolled back at the end, so each sees the ones
        before it as applying them would (the patient's balance adding up, the queue answer
        too). Each outcome: what would change (``applied.dry_run``), or why it would be refused."""
        return _outcomes(actions.dry_run(self._to_others, encounter_ids))

    def _to_others(self, encounter_ids: list | str, **options: Any) -> list[dict]:
        """The core's results of :meth:`apply_to_others`, each with the queue it was taken off."""
        first = self._first()
        if isinstance(encounter_ids, str) and encounter_ids.strip().lower() == "all":
            encounter_ids = [o.encounter_id for o in self.others()]
        done = actions.apply_to_others(self.key, list(encounter_ids), self.data, first=first.encounter_id, **options)
        for d in done:
            if d["ok"] and self.removed_from_queue and d["result"]["after"]["queue"] is not None:
                removed = actions.remove_from_queue(d["result"]["encounter_id"], after_action=self.key)
                d["removed_from"] = removed["removed_from"]
        return done


def _outcomes(done: list[dict]) -> list[OtherOutcome]:
    return [OtherOutcome(d["encounter_id"], Applied.of(d["result"]) if d["ok"] else None, d.get("error", ""),
                         d.get("removed_from")) for d in done]

