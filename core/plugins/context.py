"""What an action plugin sees of a claim: :class:`ActionContext` and its read-only views.

A plugin gets plain, frozen records (:class:`EncounterView`, :class:`SlotView`,
:class:`SplitView` ...), never database models, so it cannot write a row behind the
core's back and a change to the tables does not break it. Everything is read when
first asked for, inside the transaction the action runs in; :attr:`ActionContext.ops`
(the only way a plugin changes anything, see :mod:`claimdesk.core.plugins.ops`) forgets
what was read after each operation, so the next read sees the change.

Who owes a split is decided by its payer, not its rank: money owed by the placeholder
primary "Patient" is the patient's (:meth:`ActionContext.patient_splits`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from peewee import JOIN

from claimdesk.core import denials, users
from claimdesk.core.models import (
    RANKS, Charge, ChargeSplit, Claim, Coverage, Encounter, EncounterPayer, Patient, Payer, ServiceCode,
    Statement, StatementLine, WorkQueue,
)
from claimdesk.core.money import Cents
from claimdesk.core.prepared import Prepared, by_id

#: Coverage details a plugin may read and change (Update Secondary Insurance Info).
COVERAGE_FIELDS = ("member_id", "group_no", "subscriber", "relationship", "effective_from", "effective_to")


@dataclasses.dataclass(frozen=True)
class PayerView:
    """A payer: an insurer, a workers' comp carrier, or a pseudo payer (Patient, Inactive Payer)."""

    id: int
    name: str
    kind: str

    @property
    def is_insurance(self) -> bool:
        """A real insurer (workers' comp carriers included), not a pseudo payer."""
        return Payer.insurance_kind(self.kind)


@dataclasses.dataclass(frozen=True)
class CoverageView:
    """A patient's policy with a payer, as on file."""

    id: int
    payer_id: int
    member_id: str
    group_no: str
    subscriber: str
    relationship: str
    effective_from: dt.date | None
    effective_to: dt.date | None

    def details(self) -> dict:
        """The editable details by name (:data:`COVERAGE_FIELDS`)."""
        return {f: getattr(self, f) for f in COVERAGE_FIELDS}


@dataclasses.dataclass(frozen=True)
class SlotView:
    """One place of the encounter's payer list (primary, secondary, tertiary)."""

    rank: str
    payer: PayerView
    placeholder: bool
    coverage: CoverageView | None
    replaced_payer_id: int | None


@dataclasses.dataclass(frozen=True)
class EncounterView:
    """An encounter (a claim) as a plugin reads it."""

    id: int
    patient_id: int
    provider_id: int
    dos: dt.date
    claim_type: str
    billable: bool
    status: str
    queue: str | None
    tags: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Not removed (a claim re-created as workers' comp leaves the old one removed)."""
        return self.status == "active"


@dataclasses.dataclass(frozen=True)
class PatientView:
    """The patient the encounter belongs to."""

    id: int
    account_no: str
    name: str
    bad_debt: bool


@dataclasses.dataclass(frozen=True)
class ChargeView:
    """A line of the encounter."""

    id: int
    line_no: int
    code: str
    description: str
    units: int
    fee: Cents
    dos: dt.date
    provider_id: int


@dataclasses.dataclass(frozen=True)
class SplitView:
    """The part of a charge one payer owes at one rank, with its open balance."""

    id: int
    charge_id: int
    code: str
    rank: str
    payer_id: int
    balance: Cents
    denied: bool
    denial_code: str
    owed_by: str
    """``"patient"`` (the pseudo payer Patient, any rank), ``"insurer"`` or ``"inactive"``."""

    @property
    def contractual(self) -> bool:
        """A contractual (CO-group) denial: not the patient's to pay (API 1.1)."""
        return denials.is_contractual(self.denial_code)


@dataclasses.dataclass(frozen=True)
class ClaimView:
    """A claim of this encounter to one payer at one rank: queued, sent or void."""

    id: int
    rank: str
    payer_id: int
    status: str
    resend: bool


@dataclasses.dataclass(frozen=True)
class StatementView:
    """The patient's active statement and the encounters it lists."""

    id: int
    amount_due: Cents
    final_notice: bool
    encounter_ids: frozenset[int]


def payer_view(p: Payer) -> PayerView:
    return PayerView(p.id, p.name, p.kind)


def coverage_view(c: Coverage) -> CoverageView:
    return CoverageView(c.id, c.payer_id, c.member_id, c.group_no, c.subscriber, c.relationship,
                        c.effective_from, c.effective_to)


def encounter_view(e: Encounter, queue_key: str | None) -> EncounterView:
    return EncounterView(e.id, e.patient_id, e.provider_id, e.dos, e.claim_type, bool(e.billable), e.status,
                         queue_key, tuple(e.tag_list()))


def _queue_key(queue_id: int | None) -> str | None:
    return by_id(WorkQueue, queue_id).key if queue_id else None


# The reads every context makes (an assessment runs every plugin on one), prepared once.
_ENCOUNTER = Prepared(lambda enc: Encounter.select(Encounter, WorkQueue.key.alias("queue_key"))
                      .join(WorkQueue, JOIN.LEFT_OUTER, on=(Encounter.queue == WorkQueue.id))
                      .where(Encounter.id == enc).objects())
_SLOTS = Prepared(lambda enc: EncounterPayer.select(EncounterPayer, Payer, Coverage)
                  .join(Payer, on=(EncounterPayer.payer == Payer.id))
                  .switch(EncounterPayer).join(Coverage, JOIN.LEFT_OUTER, on=(EncounterPayer.coverage == Coverage.id))
                  .where(EncounterPayer.encounter == enc))
_CHARGES = Prepared(lambda enc: Charge.select(Charge, ServiceCode)
                    .join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
                    .where(Charge.encounter == enc).order_by(Charge.line_no, Charge.id))
_SPLITS = Prepared(lambda enc: ChargeSplit.select(ChargeSplit, Payer.kind.alias("payer_kind"))
                   .join(Charge, on=(ChargeSplit.charge == Charge.id))
                   .switch(ChargeSplit).join(Payer, on=(ChargeSplit.payer == Payer.id))
                   .where(Charge.encounter == enc).objects())
_CLAIMS = Prepared(lambda enc: Claim.select().where(Claim.encounter == enc).order_by(Claim.id))
_ACTIVE_STATEMENT = Prepared(lambda patient: Statement.select().where(
    (Statement.patient == patient) & (Statement.status == "active")).order_by(Statement.id.desc()).limit(1))
_STATEMENT_ENCOUNTERS = Prepared(lambda st: StatementLine.select(StatementLine.encounter).where(
    (StatementLine.statement == st) & StatementLine.encounter.is_null(False)).tuples())


class ActionContext:
    """The encounter an action runs on, and handy facts about it (all read-only).

    ``ActionContext(encounter_id)`` (or an :class:`Encounter` row). Inside ``apply`` the
    reads are in the action's own transaction; :attr:`ops` changes things.
    """

    def __init__(self, encounter: Any):
        self.encounter_id = int(encounter.id if isinstance(encounter, Encounter) else encounter)
        self._row = encounter if isinstance(encounter, Encounter) else None  # (read already: not read again)
        self._cache: dict[str, Any] = {}
        self._ops = None

    # -- plumbing ------------------------------------------------------------------
    def _get(self, name: str, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def forget(self) -> None:
        """Drop what was read (the operations call it after each change)."""
        self._cache.clear()
        self._row = None

    def refresh(self) -> "ActionContext":
        """This context with fresh reads (returns itself)."""
        self.forget()
        return self

    @property
    def ops(self):
        """The operations a plugin may perform on this encounter (:class:`~claimdesk.core.plugins.ops.ActionOps`)."""
        if self._ops is None:
            from claimdesk.core.plugins.ops import ActionOps

            self._ops = ActionOps(self)
        return self._ops

    def may(self, role: str) -> bool:
        """True when the person working holds ``role`` (``"clerk"``, ``"supervisor"``,
        ``"admin"``) or above: an action offered only to a supervisor asks this (API 1.1)."""
        return users.at_least(self._get("role", lambda: users.role_of(users.current_user())), role)

    # -- the encounter, its patient and payers ------------------------------------
    @property
    def encounter(self) -> EncounterView:
        """The encounter (claim type, billable, status, queue key, tags...)."""
        def make():
            e, self._row = self._row, None
            if e is not None:  # (read already, without its queue)
                return encounter_view(e, _queue_key(e.queue_id))
            e = _ENCOUNTER.first(self.encounter_id)  # (with its queue's key: one query)
            if e is None:
                raise Encounter.DoesNotExist(f"no encounter with ID {self.encounter_id}")
            return encounter_view(e, e.queue_key)
        return self._get("encounter", make)

    @property
    def active(self) -> bool:
        """The encounter is active (not removed)."""
        return self.encounter.active

    @property
    def patient(self) -> PatientView:
        """The encounter's patient."""
        def make():
            p = Patient.get_by_id(self.encounter.patient_id)
            return PatientView(p.id, p.account_no, p.name, bool(p.bad_debt))
        return self._get("patient", make)

    @property
    def slots(self) -> dict[str, SlotView]:
        """The payer list by rank: ``{"primary": SlotView, ...}`` (only the ranks held)."""
        def make():
            out = {}
            for ep in _SLOTS.cursor(self.encounter_id):  # (the payer and coverage joined: one query)
                cov = ep.coverage if ep.coverage_id else None
                out[ep.rank] = SlotView(ep.rank, payer_view(ep.payer), bool(ep.placeholder),
                                        coverage_view(cov) if cov else None, ep.replaced_payer_id)
            return {r: out[r] for r in RANKS if r in out}
        return self._get("slots", make)

    def payer(self, rank: str) -> PayerView | None:
        """The payer at ``rank``, or None."""
        slot = self.slots.get(rank)
        return slot.payer if slot else None

    # -- charges and splits ----------------------------------------------------------
    @property
    def charges(self) -> list[ChargeView]:
        """The encounter's charges in line order."""
        def make():
            return [ChargeView(c.id, c.line_no, c.service_code.code, c.service_code.description, c.units,
                               Cents(c.fee), c.dos, c.provider_id) for c in _CHARGES.cursor(self.encounter_id)]
        return self._get("charges", make)

    @property
    def splits(self) -> list[SplitView]:
        """Every split of the encounter's charges (paid ones too), in charge line order then rank."""
        def make():
            order = {c.id: i for i, c in enumerate(self.charges)}
            code = {c.id: c.code for c in self.charges}
            if not order:
                return []
            rows = _SPLITS.cursor(self.encounter_id)  # (each with its payer's kind: one query)
            views = [SplitView(s.id, s.charge_id, code[s.charge_id], s.rank, s.payer_id, Cents(s.balance),
                               bool(s.denied), s.denial_code, _owed_by(s.payer_kind))
                     for s in rows]
            return sorted(views, key=lambda s: (order[s.charge_id], RANKS.index(s.rank), s.id))
        return self._get("splits", make)

    def open_splits(self, rank: str | None = None, denied: bool | None = None) -> list[SplitView]:
        """Splits with a balance, optionally of one rank and/or denied state."""
        return [s for s in self.splits if s.balance > 0 and (rank is None or s.rank == rank)
                and (denied is None or s.denied == denied)]

    def splits_by_rank(self) -> dict[str, list[SplitView]]:
        """Open splits grouped by rank: ``{"primary": [...], "patient": [...]}``."""
        out: dict[str, list[SplitView]] = {}
        for s in self.open_splits():
            out.setdefault(s.rank, []).append(s)
        return out

    def patient_splits(self) -> list[SplitView]:
        """Open splits the patient owes (any rank: the placeholder primary "Patient" counts)."""
        return [s for s in self.open_splits() if s.owed_by == "patient"]

    def insurance_splits(self) -> list[SplitView]:
        """Open splits pending with a real insurer."""
        return [s for s in self.open_splits() if s.owed_by == "insurer"]

    def balance_by_rank(self) -> dict[str, Cents]:
        """Open balance per rank, by who owes it: a split owed by the pseudo payer Patient counts
        as "patient" whatever rank it sits at."""
        out: dict[str, Cents] = {}
        for s in self.splits:
            rank = "patient" if s.owed_by == "patient" else s.rank
            out[rank] = Cents(out.get(rank, 0) + s.balance)
        return out

    @property
    def patient_balance(self) -> Cents:
        """What the patient owes on this encounter (by payer, not by rank)."""
        return Cents(sum(s.balance for s in self.patient_splits()))

    @property
    def insurance_balance(self) -> Cents:
        """What real insurers still owe on this encounter."""
        return Cents(sum(s.balance for s in self.insurance_splits()))

    # -- claims, statements, the patient's other encounters -------------------------------
    @property
    def claims(self) -> list[ClaimView]:
        """The encounter's claims, oldest first."""
        return self._get("claims", lambda: [
            ClaimView(c.id, c.rank, c.payer_id, c.status, bool(c.resend)) for c in _CLAIMS.cursor(self.encounter_id)])

    @property
    def active_statement(self) -> StatementView | None:
        """The patient's active statement, or None."""
        def make():
            st = _ACTIVE_STATEMENT.first(self.encounter.patient_id)
            if st is None:
                return None
            encs = frozenset(e for (e,) in _STATEMENT_ENCOUNTERS.cursor(st.id))
            return StatementView(st.id, Cents(st.amount_due), bool(st.final_notice), encs)
        return self._get("statement", make)

    @property
    def other_encounters(self) -> list[EncounterView]:
        """The patient's other encounters, oldest first."""
        def make():
            rows = (Encounter.select().where((Encounter.patient == self.encounter.patient_id)
                                             & (Encounter.id != self.encounter_id))
                    .order_by(Encounter.dos, Encounter.id))
            keys = {q.id: q.key for q in WorkQueue.select()}
            return [encounter_view(e, keys.get(e.queue_id)) for e in rows]
        return self._get("others", make)

    # -- lookups for forms ------------------------------------------------------------------
    def insurance_payers(self, kind: str | None = None) -> list[PayerView]:
        """Real insurance payers by name (optionally of one kind: ``"workers_comp"``)."""
        q = Payer.insurers_by_name()
        if kind:
            q = q.where(Payer.kind == kind)
        return [payer_view(p) for p in q]

    def writeoff_reasons(self, kind: str, *, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """``(code, label)`` of the usable write-off reasons of ``kind`` ("insurance" or "patient")."""
        from claimdesk.core.plugins import forms

        return forms.reason_choices(kind, exclude=exclude)

    def writeoff_reason(self, code: str, kind: str, *, field: str = "reason"):
        """The :class:`~claimdesk.core.plugins.records.WriteoffReason` for ``code``, or an
        :class:`~claimdesk.core.errors.InputError` naming ``field``."""
        from claimdesk.core.plugins import forms

        return forms.reason(code, kind, field=field)


def _owed_by(kind: str | None) -> str:
    return {"patient": "patient", "inactive": "inactive"}.get(kind or "", "insurer")
