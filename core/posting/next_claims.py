"""The next insurer's claim: when an insurance split reaches zero (payment, adjustment or
transfer) and the balance sits with the next insurer on the encounter, that insurer's
claim is queued for its next batch, once.

:func:`queue_due` is the rule, set-based, for any number of splits; :func:`queue` puts
claims on the queue (a claim already waiting for the same encounter, payer and rank is
kept, never doubled).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from claimdesk.core import clock, db
from claimdesk.core.models import INSURANCE_RANKS, Claim, Payer
from claimdesk.core.posting.bulk import insert_ids

def queue_due(split_ids: Iterable[int]) -> list[int]:
    """Queue the claims ``split_ids`` (splits that may just have reached zero) make due; their ids.

    Due: the split is an insurance split (primary, secondary) at zero, on a billable, active
    encounter; the encounter's next insurance slot after the split's rank holds a real
    insurer; and that insurer's split of the same charge at that rank has a balance. The
    claim is queued once per encounter, payer and rank, in the order of ``split_ids``, and
    not when that claim was sent already (by a batch, or by the clinic's EHR before an 837P
    import): :func:`claimdesk.core.services.claims.ready_splits` holds the same.
    """
    order = list(dict.fromkeys(split_ids))
    if not order:
        return []
    # first the cheap test (a split at zero whose charge has balance at a later insurance rank:
    # the only ones that can queue anything), then the payer lists of those few
    ranks = ", ".join(["{p}"] * (len(INSURANCE_RANKS) - 1))
    among, params = db.ids_in(order)
    candidates = [r[0] for r in db.sql(
        f"SELECT s.id FROM charge_split s WHERE s.id {among} AND s.balance = 0 AND s.rank IN ({ranks})"
        " AND EXISTS (SELECT 1 FROM charge_split o WHERE o.charge_id = s.charge_id AND o.balance > 0"
        f" AND o.rank IN ({ranks}))", params + list(INSURANCE_RANKS[:-1]) + list(INSURANCE_RANKS[1:]))]
    if not candidates:
        return []
    among, params = db.ids_in(candidates)
    later = [(rank, after) for i, rank in enumerate(INSURANCE_RANKS) for after in INSURANCE_RANKS[i + 1:]]
    rows = db.sql(
        "SELECT s.id, s.rank, c.encounter_id, ep.rank, ep.payer_id, p.kind, n.balance"
        " FROM charge_split s JOIN charge c ON c.id = s.charge_id"
        " JOIN encounter e ON e.id = c.encounter_id"
        " JOIN encounter_payer ep ON ep.encounter_id = e.id"
        " JOIN payer p ON p.id = ep.payer_id"
        " LEFT JOIN charge_split n ON n.charge_id = s.charge_id AND n.rank = ep.rank AND n.payer_id = ep.payer_id"
        f" WHERE s.id {among} AND e.billable AND e.status = 'active'"
        f" AND ({' OR '.join(['(s.rank = {p} AND ep.rank = {p})'] * len(later))})",
        params + [r for pair in later for r in pair])
    nearest: dict[int, tuple] = {}  # split -> (ranks after it, encounter, payer, rank, kind, balance)
    for sid, rank, encounter_id, slot_rank, payer_id, kind, balance in rows:
        after = INSURANCE_RANKS.index(slot_rank) - INSURANCE_RANKS.index(rank)
        if sid not in nearest or after < nearest[sid][0]:
            nearest[sid] = (after, encounter_id, payer_id, slot_rank, kind, balance or 0)
    wanted = []
    for sid in order:
        if sid in nearest:
            _after, encounter_id, payer_id, slot_rank, kind, balance = nearest[sid]
            if balance > 0 and Payer(kind=kind).is_insurance:
                wanted.append((encounter_id, payer_id, slot_rank))
    sent = _sent(wanted)
    return queue([w for w in wanted if w not in sent])


def _sent(claims: list[tuple[int, int, str]]) -> set[tuple[int, int, str]]:
    """Which of these ``(encounter id, payer id, rank)`` claims the payer already has (sent): not
    queued again by a balance reaching it (a resend is ``claims requeue``)."""
    if not claims:
        return set()
    among, params = db.ids_in(sorted({enc for enc, _p, _r in claims}))
    return {tuple(r) for r in db.sql(f"SELECT encounter_id, payer_id, rank FROM claim WHERE encounter_id {among}"
                                     " AND status = 'sent'", params)} & set(claims)


def queue(claims: Sequence[tuple[int, int, str]], *, resend: bool = False) -> list[int]:
    """Queue ``(encounter id, payer id, rank)`` claims for their payers' next batches (insurers
    only: the caller checks); one already queued is kept. The claims' ids, in order, once each."""
    wanted = list(dict.fromkeys(claims))
    if not wanted:
        return []
    among, params = db.ids_in(sorted({enc for enc, _p, _r in wanted}))
    waiting = {(enc, payer, rank): cid for cid, enc, payer, rank in db.sql(
        f"SELECT id, encounter_id, payer_id, rank FROM claim WHERE encounter_id {among} AND status = 'queued'",
        params)}
    new = [w for w in wanted if w not in waiting]
    if new:
        fields = Claim._meta.fields
        now, flag = fields["queued_at"].db_value(clock.now()), fields["resend"].db_value(resend)
        waiting.update(zip(new, insert_ids(Claim, ("encounter", "payer", "rank", "status", "queued_at", "resend"),
                                           [(enc, payer, rank, "queued", now, flag) for enc, payer, rank in new])))
    return [waiting[w] for w in wanted]


def no_longer_due(encounter_ids: Iterable[int]) -> list[tuple[int, str]]:
    """The later insurers' claims (queued or sent) on ``encounter_ids`` that money taken back (a
    returned check) has made premature: ``(claim id, status)``, by id.

    Premature: the claim's insurer (secondary, tertiary) still has a balance on some charge,
    the nearest earlier insurer on the encounter owes again on some charge, and no charge is
    due to this insurer any more by :func:`queue_due`'s rule (earlier split at zero, this one
    with a balance). A claim whose insurer is owed nothing is left alone.
    """
    encounters = sorted(set(encounter_ids))
    if not encounters:
        return []
    among, params = db.ids_in(encounters)
    claims = list(db.sql(f"SELECT id, encounter_id, payer_id, rank, status FROM claim WHERE encounter_id {among}"
                         f" AND status IN ('queued', 'sent') AND rank <> {{p}} ORDER BY id",
                         params + [INSURANCE_RANKS[0]]))
    if not claims:
        return []
    # only the encounters with such a claim are read further (a returned check touches
    # thousands of encounters; few have a later insurer's claim out)
    among, params = db.ids_in(sorted({row[1] for row in claims}))
    insurers: dict[int, dict[str, int]] = {}  # encounter -> rank -> insurer
    for enc, rank, payer_id, kind in db.sql(
            "SELECT ep.encounter_id, ep.rank, ep.payer_id, p.kind FROM encounter_payer ep"
            f" JOIN payer p ON p.id = ep.payer_id WHERE ep.encounter_id {among}", params):
        if rank in INSURANCE_RANKS and Payer(kind=kind).is_insurance:
            insurers.setdefault(enc, {})[rank] = payer_id
    splits: dict[int, dict[int, dict[tuple[str, int], int]]] = {}  # encounter -> charge -> (rank, payer) -> balance
    for enc, charge_id, rank, payer_id, balance in db.sql(
            "SELECT c.encounter_id, s.charge_id, s.rank, s.payer_id, s.balance FROM charge_split s"
            f" JOIN charge c ON c.id = s.charge_id WHERE c.encounter_id {among} AND c.status = 'active'", params):
        splits.setdefault(enc, {}).setdefault(charge_id, {})[(rank, payer_id)] = balance
    out = []
    for claim_id, enc, payer_id, rank, status in claims:
        slots = insurers.get(enc, {})
        earlier = [r for r in INSURANCE_RANKS[:INSURANCE_RANKS.index(rank)] if r in slots]
        if not earlier:
            continue
        before = (earlier[-1], slots[earlier[-1]])
        charges = splits.get(enc, {}).values()
        owed_here = [c for c in charges if c.get((rank, payer_id), 0) > 0]
        owes_again = any(c.get(before, 0) > 0 for c in charges)
        if owed_here and owes_again and not any(c.get(before, 0) == 0 for c in owed_here):
            out.append((claim_id, status))
    return out
