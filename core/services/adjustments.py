"""Adjustments and write-offs of a charge split, each with its reason.

Writing off balance still pending with a real insurer is a decision with a limit:
above ``config.load().supervisor_writeoff_limit_cents`` (``[writeoffs]
supervisor_limit_cents``) it needs a supervisor. The check is here, in the one
function every write-off goes through, so no path (an action plugin, a clinic's
own plugin, a service) can skip it. What counts is the total written off from
insurers in one workflow: an Advanced Action runs inside :class:`writeoff_scope`,
so splitting a write-off into several small ones does not get under the limit.
Exempt: ``contractual`` adjustments (the payer's own CO/OA/PI adjustments posted
from an EOB) and ``reclass`` (a balance moved to a re-created claim, charged there
again: nothing is forgiven).

Patient balance forgiven (an office write-off, a negotiated balance, bad debt) has the same
limit, counted on its own: above it a supervisor decides. A claim marked non-billable is not
limited by what the patient owed on it (it was never to be billed: a clerk's call, whatever
the amount); its insurer balance is.
"""

from __future__ import annotations

import contextvars

from claimdesk.core import config
from claimdesk.core.errors import Refused
from claimdesk.core.models import Charge, ChargeSplit, Payer
from claimdesk.core.money import fmt
from claimdesk.core.posting import adjustments as posting_adjustments, next_claims
from claimdesk.core.prepared import Prepared

#: Kinds that take insurer balance off without forgiving it: never limited.
LIMIT_EXEMPT_KINDS = ("contractual", "reclass")
#: Kinds not limited on patient balance: those above, and a claim made non-billable.
PATIENT_LIMIT_EXEMPT_KINDS = LIMIT_EXEMPT_KINDS + ("non_billable",)

_insurance_written: contextvars.ContextVar[list | None] = contextvars.ContextVar("insurance_written", default=None)
_patient_written: contextvars.ContextVar[list | None] = contextvars.ContextVar("patient_written", default=None)


class writeoff_scope:
    """Count insurer write-offs (and, apart, patient write-offs) across one workflow (the limit
    applies to each total)."""

    def __enter__(self) -> list[int]:
        self.total = [0]
        self._token = _insurance_written.set(self.total)
        self._patient_token = _patient_written.set([0])
        return self.total

    def __exit__(self, *exc) -> None:
        _patient_written.reset(self._patient_token)
        _insurance_written.reset(self._token)


def with_payer_kinds(ids: list[int]) -> list[ChargeSplit]:
    """The splits ``ids`` (in that order, those that exist), each read with its payer's kind
    (``payer_kind``), so :func:`insurer_amount` need not look the payers up."""
    if not ids:
        return []
    by_id = {s.id: s for s in ChargeSplit.select(ChargeSplit, Payer.kind.alias("payer_kind"))
             .join(Payer, on=(ChargeSplit.payer == Payer.id)).where(ChargeSplit.id.in_(ids)).objects()}
    return [by_id[i] for i in ids if i in by_id]


def insurer_amount(splits: list[ChargeSplit], amount: int) -> int:
    """How much of ``amount``, taken from ``splits`` in order, comes off insurers' splits (the
    payers' kinds those read by :func:`with_payer_kinds` carry; the others' are looked up)."""
    kinds = {s.payer_id: s.payer_kind for s in splits if hasattr(s, "payer_kind")}
    unknown = list({s.payer_id for s in splits} - kinds.keys())
    if unknown:
        kinds.update(Payer.select(Payer.id, Payer.kind).where(Payer.id.in_(unknown)).tuples())
    insurers = {pid for pid, kind in kinds.items() if Payer.insurance_kind(kind)}
    out, left = 0, amount
    for s in splits:
        take = min(s.balance, left)
        if s.payer_id in insurers:
            out += take
        left -= take
        if left <= 0:
            break
    return out


def require_insurance_writeoff_authority(amount: int, *, kind: str) -> None:
    """Refuse writing off ``amount`` more of insurer balance (plus what this workflow already
    wrote off) above the configured limit unless the current user is a supervisor."""
    if kind not in LIMIT_EXEMPT_KINDS:
        _require_authority(amount, _insurance_written, "insurance")


def require_patient_writeoff_authority(amount: int, *, kind: str) -> None:
    """Refuse writing off ``amount`` more of patient balance (plus what this workflow already
    wrote off from patients) above the configured limit unless the current user is a supervisor."""
    if kind not in PATIENT_LIMIT_EXEMPT_KINDS:
        _require_authority(amount, _patient_written, "patient")


def _require_authority(amount: int, written, whose: str) -> None:
    """The one limit rule: ``amount`` more of ``whose`` balance, with what this workflow already
    wrote off (the ``written`` tally), above ``[writeoffs] supervisor_limit_cents`` needs a supervisor."""
    if amount <= 0:
        return
    from claimdesk.core.users import require_role

    tally = written.get()
    total = amount + (tally[0] if tally is not None else 0)
    limit = config.load().supervisor_writeoff_limit_cents
    if total > limit:
        require_role("supervisor", f"writing off {fmt(total)} of {whose} balance (over the limit {fmt(limit)})")


def adjust(split: ChargeSplit, amount: int, *, kind: str, reason_code: str = "",
           group_code: str = "", memo: str = "") -> int:
    """Take ``amount`` off a split's balance as an adjustment/write-off (one entry, through
    :func:`claimdesk.core.posting.adjustments.post_adjustments`); queue the next insurer's
    claim if that zeroes an insurer's split. The split is read afresh (its balance now, its
    payer's kind and its encounter: one query). Returns the adjustment's id."""
    if amount <= 0:
        raise Refused("an adjustment amount must be more than 0.00", field="amount")
    split = _FRESH_SPLIT.first(split.id)
    if amount > split.balance:
        raise Refused(f"charge {split.charge_id}: {fmt(amount)} is more than the open balance "
                      f"{fmt(split.balance)}", field="amount")
    if kind not in LIMIT_EXEMPT_KINDS:
        insurer = Payer.insurance_kind(split.payer_kind)
        (require_insurance_writeoff_authority if insurer else require_patient_writeoff_authority)(amount, kind=kind)
        tally = (_insurance_written if insurer else _patient_written).get()
        if tally is not None:
            tally[0] += amount
    new = posting_adjustments.NewAdjustment(split, amount, split.encounter_id, reason_code, group_code, memo)
    (adj_id,) = posting_adjustments.post_adjustments(kind, [new], memo=memo or f"{kind} {new.code}".strip())
    if split.balance == 0:  # an insurer's split adjusted off: the next insurer's claim goes out
        next_claims.queue_due([split.id])
    return adj_id


#: A split as :func:`adjust` reads it: with its payer's kind and its charge's encounter.
_FRESH_SPLIT = Prepared(lambda sid: ChargeSplit.select(ChargeSplit, Payer.kind.alias("payer_kind"),
                                                       Charge.encounter.alias("encounter_id"))
                        .join(Payer, on=(ChargeSplit.payer == Payer.id))
                        .switch(ChargeSplit).join(Charge, on=(ChargeSplit.charge == Charge.id))
                        .where(ChargeSplit.id == sid).objects())
