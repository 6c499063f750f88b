"""The operations an action plugin may perform: ``ctx.ops`` (:class:`ActionOps`).

Each operation is a call into the core services, inside the action's one transaction,
so it is audited with the action and follows the core's rules (the ledger's balances,
the supervisor's write-off limit, the claim queueing). A plugin never writes a row
itself. Every operation names the field a refusal is about, returns plain values
(amounts as :class:`~claimdesk.core.money.Cents`), and makes the context read afresh.
"""

from __future__ import annotations

import importlib
from typing import Iterable

from claimdesk.core import ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    INSURANCE_RANKS, RANKS, ChargeSplit, Coverage, Encounter, EncounterPayer, JournalEntry, Patient, Payer,
    WorkQueue,
)
from claimdesk.core.money import Cents
from claimdesk.core.plugins.context import COVERAGE_FIELDS, ActionContext, PayerView, SplitView, payer_view
from claimdesk.core.plugins.host import get_host
from claimdesk.core.plugins.records import WriteoffReason
from claimdesk.core.services.common import get, patient_payer
from claimdesk.core.users import require_role


class _LazyServices:
    """The core services the operations call, each imported on first use: every action plugin
    imports ``claimdesk.api`` (and so this module) when the app starts, and importing the
    claims and statements services with it (the 837P writer among them) cost the start 20 ms."""

    def __getattr__(self, name: str):
        module = importlib.import_module(f"claimdesk.core.services.{name}")
        setattr(self, name, module)
        return module


_services = _LazyServices()

#: The write-off kinds an action may book (a payer's contractual adjustment and the
#: reclassification of a re-created claim are the core's own, never a plugin's).
WRITEOFF_KINDS = ("patient_writeoff", "insurance_writeoff", "bad_debt", "negotiated", "non_billable")
#: Who may book a kind of write-off, whatever action asks (a core rule no plugin lowers).
KIND_ROLES = {"bad_debt": "supervisor"}
#: The kinds written off under a reason chosen from the write-off reasons (whose own
#: ``required_role`` applies); the others are their action's own (``NEGOTIATED`` by "negotiate
#: the balance", ``NONBILLABLE``...), governed by that action's role and :data:`KIND_ROLES`.
REASON_KINDS = ("patient_writeoff", "insurance_writeoff")


class ActionOps:
    """What an action may change on its encounter. Obtain it as ``ctx.ops``."""

    def __init__(self, ctx: ActionContext):
        self._ctx = ctx

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def _enc(self) -> Encounter:
        return Encounter.get_by_id(self._ctx.encounter_id)

    def _done(self, value=None):
        self._ctx.forget()
        return value

    @staticmethod
    def _models(splits: Iterable[SplitView]) -> list[ChargeSplit]:
        return _services.adjustments.with_payer_kinds([s.id for s in splits])

    # -- the payer list -----------------------------------------------------------------------
    def payer(self, payer_id, *, field: str = "payer_id", insurance: bool = True) -> PayerView:
        """The payer ``payer_id`` (a clerk's choice): refused naming ``field`` when unknown or,
        with ``insurance``, not a real insurer."""
        p = get(Payer, payer_id, "payer", field=field)
        if insurance and not p.is_insurance:
            raise Refused(f"{p.name} is not an insurance payer", field=field)
        return payer_view(p)

    def set_payer(self, rank: str, payer_id, *, coverage: dict | None = None,
                  field: str = "payer_id") -> PayerView:
        """Put an insurer at ``rank`` (replacing whoever is there), with a new coverage from
        ``coverage`` (member_id, group_no, subscriber, relationship, effective_from, effective_to)
        when given. Refused for a pseudo payer or one already at another rank of this claim."""
        _rank(rank, INSURANCE_RANKS)
        payer = self.payer(payer_id, field=field)
        for other, slot in self._ctx.slots.items():
            if other != rank and slot.payer.id == payer.id:
                raise Refused(f"{payer.name} is already the {other} payer of this claim", field=field)
        enc = self._enc
        model = Payer.get_by_id(payer.id)
        cov = _services.encounter_ops.coverage_for(enc, model, coverage) if coverage is not None else None
        _services.encounter_ops.set_slot(enc, rank, model, coverage=cov)
        return self._done(payer)

    def set_placeholder(self, rank: str = "primary", *, replacing: bool = False) -> None:
        """Put the placeholder payer "Patient" at ``rank`` (self-pay); ``replacing`` remembers the
        payer it displaces (for Add Primary Payer later)."""
        _rank(rank, INSURANCE_RANKS)
        old = self._ctx.payer(rank)
        _services.encounter_ops.set_slot(self._enc, rank, patient_payer(), placeholder=True,
                               replaced_payer=Payer.get_by_id(old.id) if replacing and old else None)
        self._done()

    def remove_payer(self, rank: str) -> PayerView | None:
        """Take the payer at ``rank`` off the claim; each later insurer moves up one rank with
        its open balance (its claims queued at the old rank are voided). Returns who left."""
        _rank(rank, INSURANCE_RANKS)
        removed = _services.encounter_ops.remove_slot(self._enc, rank)
        return self._done(payer_view(removed) if removed else None)

    def update_coverage(self, rank: str, changes: dict) -> dict:
        """Change the coverage details of the payer at ``rank`` (a new coverage on file when it
        had none: a member id is then needed). Returns ``coverage_id``, ``before``, ``after``
        and the names of the fields that ``changed``."""
        slot = self._ctx.slots.get(rank)
        if slot is None:
            raise Refused(f"the claim has no {rank} payer", field="rank")
        changes = {f: changes[f] for f in COVERAGE_FIELDS if f in changes}
        if not changes:
            raise Refused("nothing to change: give at least one coverage detail", field="member_id")
        if slot.coverage is None:
            if not changes.get("member_id"):
                raise Refused(f"the {rank} payer has no coverage on file yet: a member ID is needed",
                              field="member_id")
            cov = _services.encounter_ops.coverage_for(self._enc, Payer.get_by_id(slot.payer.id), changes)
            EncounterPayer.update(coverage=cov).where((EncounterPayer.encounter == self._ctx.encounter_id)
                                                      & (EncounterPayer.rank == rank)).execute()
            before, after = {}, {f: getattr(cov, f) for f in COVERAGE_FIELDS}
        else:
            before = slot.coverage.details()
            Coverage.update(**changes).where(Coverage.id == slot.coverage.id).execute()
            cov, after = slot.coverage, {**before, **changes}
        return self._done({"coverage_id": cov.id, "payer": slot.payer.name, "before": before, "after": after,
                           "changed": sorted(f for f in changes if before.get(f) != changes[f])})

    def move_eobs_to_inactive(self, rank: str) -> int:
        """Re-file the EOBs of the payer at ``rank`` under "Inactive Payer"; how many moved."""
        payer = self._ctx.payer(rank)
        if payer is None:
            return 0
        return self._done(_services.encounter_ops.move_eobs_to_inactive(self._enc, Payer.get_by_id(payer.id)))

    def post_patient_eob(self, rank: str = "primary") -> int | None:
        """A dummy EOB from the pseudo payer "Patient" for the balance "Patient" owes at
        ``rank``: it passes on (PR-27) to the next responsible party, queueing the next insurer's
        claim. Returns the EOB id (None when nothing was owed)."""
        eob = _services.encounter_ops.dummy_eob_from_patient(self._enc, rank)
        return self._done(eob.id if eob else None)

    # -- balances -------------------------------------------------------------------------------
    def move_balance(self, splits: Iterable[SplitView], to_rank: str, *, reason: str,
                     reason_code: str = "") -> Cents:
        """Move the whole open balance of ``splits`` to whoever is responsible at ``to_rank``
        ("patient" is the patient) on each charge; the cents moved."""
        _rank(to_rank, RANKS)
        payer = _services.billing.responsible_payer(self._enc, to_rank)
        if payer is None:
            raise Refused(f"the claim has no {to_rank} payer to move the balance to", field="rank")
        moved = _services.encounter_ops.move_balance(self._models(splits), to_rank, payer, reason=reason,
                                           reason_code=reason_code)
        return self._done(Cents(moved))

    def write_off(self, splits: Iterable[SplitView], amount: int, reason: WriteoffReason | str, *,
                  kind: str | None = None, memo: str = "") -> list[dict]:
        """Write ``amount`` off ``splits`` in their order (partial on the last) under ``reason``
        (a write-off reason record, or a core code such as ``NONBILLABLE``). ``kind`` defaults to
        the reason's kind (``patient_writeoff`` / ``insurance_writeoff``); insurer balance over the
        configured limit needs a supervisor, and so does patient balance over it. A reason's
        ``required_role`` is checked here too (the built-in reason's, when a plugin hands over a
        record of its own with a lesser one), and bad debt needs a supervisor whichever action
        books it. Returns one ``{charge_id, rank, amount}`` per split."""
        from claimdesk.core.plugins import forms

        rec = reason if isinstance(reason, WriteoffReason) else None
        if rec is not None:
            kind = kind or f"{rec.kind}_writeoff"
            code, group = (rec.carc or rec.code, rec.group_code) if rec.kind == "insurance" \
                else (rec.code, "")
            memo = memo or rec.label
        else:
            code, group = str(reason), ""
        if kind not in WRITEOFF_KINDS:
            raise Refused(f"{kind!r} is not a write-off an action may book (one of {', '.join(WRITEOFF_KINDS)})",
                          field="kind")
        if kind in KIND_ROLES:
            require_role(KIND_ROLES[kind], f"booking a write-off as {kind.replace('_', ' ')}")
        if kind in REASON_KINDS:
            # a reason chosen from the list (or a code naming one): its role, never below the built-in's
            named = rec if rec is not None else get_host().get(forms.HOOK, code)
            if named is not None:
                forms.require_reason_role(named, "reason")
        models = self._models(splits)
        _services.adjustments.require_patient_writeoff_authority(
            int(amount) - _services.adjustments.insurer_amount(models, int(amount)), kind=kind)
        lines = _services.encounter_ops.write_off(models, int(amount), kind=kind, reason_code=code,
                                        group_code=group, memo=memo)
        return self._done([{**ln, "amount": Cents(ln["amount"])} for ln in lines])

    def require_writeoff_authority(self, amount: int) -> None:
        """Refuse, before anything is written, writing off ``amount`` of insurer balance above
        the configured limit unless the user is a supervisor."""
        _services.adjustments.require_insurance_writeoff_authority(int(amount), kind="insurance_writeoff")

    def bill_patient(self, rank: str, charge_ids: list[int] | None = None, *, override_reason: str = "") -> dict:
        """Move the denied balance at ``rank`` (of ``charge_ids``, or all the patient may be
        billed for) to the patient and make the patient's statement: ``billed_to_patient``,
        ``charges``, ``statement_id``, ``amount_due``. Contractual (CO) denials are billed only
        with a supervisor's ``override_reason`` (API 1.1)."""
        _rank(rank, INSURANCE_RANKS)
        out = _services.encounter_ops.bill_denied_to_patient(self._enc, rank, charge_ids, override_reason)
        return self._done({**out, "billed_to_patient": Cents(out["billed_to_patient"]),
                           "amount_due": Cents(out["amount_due"])})

    def reverse_entries(self, kind: str, *, memo: str) -> Cents:
        """Reverse this encounter's journal entries of ``kind`` not reversed yet (linked
        reversing entries); the receivable they restore."""
        reversed_ids = JournalEntry.select(JournalEntry.reverses).where(JournalEntry.reverses.is_null(False))
        entries = JournalEntry.select().where((JournalEntry.encounter == self._ctx.encounter_id)
                                              & (JournalEntry.kind == kind) & JournalEntry.id.not_in(reversed_ids))
        restored = 0
        for entry in entries:
            rev = ledger.reverse(entry, memo=memo, user=current_user())
            restored += sum(p.amount for p in rev.postings if p.account == "AR")
        return self._done(Cents(restored))

    # -- the claim --------------------------------------------------------------------------------
    def set_billable(self, billable: bool, *, tag: str = "Non-Billable") -> list[str]:
        """Mark the claim billable or not; a non-billable claim carries ``tag``. Returns the tags."""
        enc = self._enc
        tags = [t for t in enc.tag_list() if t != tag] + ([] if billable else [tag])
        Encounter.update(billable=bool(billable), tags=",".join(tags)).where(Encounter.id == enc.id).execute()
        return self._done(tags)

    def set_claim_type(self, claim_type: str) -> None:
        """``"medical"`` or ``"workers_comp"``."""
        if claim_type not in ("medical", "workers_comp"):
            raise Refused(f"unknown claim type {claim_type!r}", field="claim_type")
        Encounter.update(claim_type=claim_type).where(Encounter.id == self._ctx.encounter_id).execute()
        self._done()

    def void_queued_claims(self, rank: str | None = None) -> int:
        """Void the claims still waiting for a batch (of one rank, or all); how many."""
        return self._done(_services.encounter_ops.void_queued_claims(self._enc, rank=rank))

    def queue_claim(self, rank: str, *, resend: bool = False) -> int | None:
        """Queue the claim of the insurer at ``rank`` for its next batch (``resend`` marks a claim
        sent again); the claim id, or None when no insurer holds ``rank``."""
        payer = self._ctx.payer(rank)
        if payer is None or not payer.is_insurance:
            return None
        claim = _services.claims.queue(self._enc, Payer.get_by_id(payer.id), rank, resend=resend)
        return self._done(claim.id if claim else None)

    def recreate_as(self, claim_type: str, payer_id, *, member_id: str = "", field: str = "payer_id") -> dict:
        """Re-create this encounter as a new one of ``claim_type`` billed to ``payer_id``: each
        charge's open balance is reclassified off the old charge and charged on the new encounter,
        the old one is removed from billing (kept, with its history). Returns ``new_encounter``
        and the ``charges`` moved (``from_charge``, ``to_charge``, ``amount``)."""
        payer = Payer.get_by_id(self.payer(payer_id, field=field).id)
        out = _services.encounter_ops.recreate(self._enc, claim_type, payer, member_id=member_id)
        return self._done({**out, "charges": [{**c, "amount": Cents(c["amount"])} for c in out["charges"]]})

    def set_queue(self, key: str | None) -> None:
        """Put the encounter on work queue ``key`` (``None`` takes it off any queue)."""
        queue = None
        if key is not None:
            queue = WorkQueue.get_or_none(WorkQueue.key == key)
            if queue is None:
                raise Refused(f"no work queue {key!r}", field="queue")
        Encounter.update(queue=queue).where(Encounter.id == self._ctx.encounter_id).execute()
        self._done()

    # -- the patient ---------------------------------------------------------------------------------
    def mark_bad_debt(self) -> None:
        """Flag the patient's account as bad debt."""
        Patient.update(bad_debt=True).where(Patient.id == self._ctx.encounter.patient_id).execute()
        self._done()

    def message_admin(self, subject: str, note: str) -> int:
        """Send the administrator a message about this encounter; its id."""
        return self._done(_services.messages.send(self._enc, subject, note).id)

    def regenerate_statement(self, reason: str) -> dict:
        """Void the patient's active statement and make a new one from the current balances:
        ``voided_statement_id``, ``statement_id``, ``amount_due``, ``final_notice``."""
        old = _services.statements.active_statement(self._ctx.encounter.patient_id)
        new = _services.statements.reissue(Patient.get_by_id(self._ctx.encounter.patient_id), void_reason=reason)
        return self._done({"voided_statement_id": old.id if old else None, "statement_id": new.id,
                           "amount_due": Cents(new.amount_due), "final_notice": bool(new.final_notice)})


def _rank(rank: str, allowed: tuple[str, ...]) -> None:
    if rank not in allowed:
        raise Refused(f"unknown rank {rank!r} (one of {', '.join(allowed)})", field="rank")
