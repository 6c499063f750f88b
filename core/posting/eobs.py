"""EOB posting, set-based: one EOB (manual entry) or every EOB of a payer's check (an ERA
file) in the same few statements, one journal entry per kind.

Per EOB line, on the split of the EOB's payer at the rank it holds on the encounter:

- the payer explains more than its split owes (paid + adjustments): responsibility is first
  pulled back from the later ranks, the patient first (``transfer``); refused if not enough
  is open;
- paid: one credit per EOB drawn from the payer's voucher (``credit``), applied to the
  lines' splits (``payment``);
- CO / OA / PI: payer adjustments (kinds ``contractual``, ``other_adjustment``, ``payer_initiated``),
  never billed to anyone; a negative one (paid above the charge) is posted before the payment;
- PR: moved to the next responsible rank, its split made if new (``transfer``);
- denied: the split keeps its balance, flagged with the denial code; the encounter goes
  to the Denied queue.

Then the next insurer's claim is queued where a split reached zero (:mod:`.next_claims`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Sequence

from claimdesk.core import clock, db, ledger
from claimdesk.core.errors import InputError, NotFound, Refused
from claimdesk.core.models import RANKS, ChargeSplit, Eob, EobAdjustment, EobLine, Voucher, WorkQueue
from claimdesk.core.money import fmt
from claimdesk.core.posting import adjustments, credits, next_claims, transfers
from claimdesk.core.posting.bulk import insert_ids, only


@dataclasses.dataclass(slots=True)
class EobToPost:
    """One EOB: the encounter it answers (and its patient), the rank its payer holds there, and
    per charge what the payer says: ``lines`` of ``charge_id``, ``allowed``, ``paid``, ``denied``,
    ``denial_code`` and ``adjustments`` (``group_code``, ``reason_code``, ``amount``), cents.
    ``eob_id``: the EOB row when it is already made (else it is written here). ``crossed_over``: the
    payer forwarded the claim to the next payer itself (835 CLP02 19-21), so the clinic's own
    claim to that payer is not queued."""

    encounter_id: int
    patient_id: int
    rank: str
    lines: list[dict]
    claim_ref: str = ""
    received_on: dt.date | None = None
    eob_id: int | None = None
    crossed_over: bool = False


def post_eobs(payer_id: int, voucher: Voucher | None, eobs: Sequence[EobToPost]) -> list[dict]:
    """Post ``eobs`` of payer ``payer_id`` paid from ``voucher`` (needed when anything is paid;
    inside a transaction). Per EOB, in order: ``{"eob_id", "credit_id", "paid", "lines":
    [{"charge_id", "paid", "split_balance", "denied"}], "denied"}``.

    Refusals name the field (``voucher_id``, ``amount``, ``lines.N.charge_id``, ``lines``);
    the caller's transaction then writes nothing.
    """
    paid = [sum(ln["paid"] for ln in e.lines) for e in eobs]
    if sum(paid):
        if voucher is None:
            raise InputError({"voucher_id": ["an EOB with payments needs the payer's voucher"]})
        if voucher.payer_id != payer_id:
            raise Refused(f"voucher {voucher.id} is from another payer", field="voucher_id")
        credits.check_funds(voucher, sum(paid))
    _check_charges(eobs)
    eob_ids = _write_eobs(payer_id, voucher, eobs)
    lines = [(k, e, ln) for k, e in enumerate(eobs) for ln in e.lines]  # every line, EOB by EOB
    known: dict[int, list[ChargeSplit]] = {}  # charge -> its splits, one object each for every step below
    split_of = transfers.splits_for([(ln["charge_id"], e.rank, payer_id, e.patient_id) for _k, e, ln in lines], known)
    splits = [split_of[ln["charge_id"], e.rank, payer_id] for _k, e, ln in lines]
    memo = _memo_for(eob_ids)

    with ledger.balances_deferred():  # (the entries below move the same splits: each balance moves once, at the end)
        _cover([(s, ln["paid"] + sum(a["amount"] for a in ln["adjustments"]), e.encounter_id)
                for s, (_k, e, ln) in zip(splits, lines)], known, memo=memo(": payer paid more than its split"))
        payer_adjustments = [(s, k, e, a) for s, (k, e, ln) in zip(splits, lines) for a in ln["adjustments"]
                             if a["group_code"] != "PR"]
        _adjust([x for x in payer_adjustments if x[3]["amount"] < 0], eob_ids, memo)  # (paid above the charge)
        credit_of = _pay(voucher, eobs, eob_ids, paid, lines, splits, memo)
        _adjust([x for x in payer_adjustments if x[3]["amount"] > 0], eob_ids, memo)
        moves = [transfers.Transfer(s, a["amount"], e.encounter_id, f"PR-{a['reason_code']}")
                 for s, (_k, e, ln) in zip(splits, lines) for a in ln["adjustments"] if a["group_code"] == "PR"]
        if moves:
            transfers.move_on(moves, memo=memo(": patient responsibility"), known=known)
    _deny([(s, e, ln) for s, (_k, e, ln) in zip(splits, lines) if ln["denied"]])
    next_claims.queue_due(s.id for s, (_k, e, _ln) in zip(splits, lines) if not e.crossed_over)

    out = [{"eob_id": eid, "credit_id": credit_of.get(k), "paid": paid[k], "lines": [],
            "denied": any(ln["denied"] for ln in e.lines)} for k, (e, eid) in enumerate(zip(eobs, eob_ids))]
    for s, (k, _e, ln) in zip(splits, lines):
        out[k]["lines"].append({"charge_id": ln["charge_id"], "paid": ln["paid"], "split_balance": s.balance,
                                "denied": ln["denied"]})
    return out


#: An EOB adjustment's group -> the adjustment kind it posts as (PR is not one: it moves on).
KIND_OF_GROUP = {"CO": "contractual", "OA": "other_adjustment", "PI": "payer_initiated"}


def _adjust(items: list[tuple[ChargeSplit, int, EobToPost, dict]], eob_ids: list[int], memo) -> None:
    """Post the payer's adjustments ``(split, EOB index, EOB, adjustment)``, one entry per kind
    (:data:`KIND_OF_GROUP`; a negative amount puts balance back on the split)."""
    by_kind: dict[str, list] = defaultdict(list)
    for s, k, e, a in items:
        by_kind[KIND_OF_GROUP.get(a["group_code"], "contractual")].append(
            adjustments.NewAdjustment(s, a["amount"], e.encounter_id, a["reason_code"], a["group_code"],
                                      f"EOB {eob_ids[k]}"))
    for kind, made in by_kind.items():
        adjustments.post_adjustments(kind, made, memo=memo(""))


def _memo_for(eob_ids: list[int]):
    """``memo(what)``: an entry's memo for these EOBs, ``EOB 12<what>`` for one, ``EOBs 12-40<what>``
    for several."""
    head = f"EOB {eob_ids[0]}" if len(eob_ids) == 1 else f"EOBs {eob_ids[0]}-{eob_ids[-1]}" if eob_ids else "EOBs"
    return lambda what: head + what


def _check_charges(eobs: Sequence[EobToPost]) -> None:
    """Every line's charge exists and is on its EOB's encounter (one query)."""
    ids = sorted({ln["charge_id"] for e in eobs for ln in e.lines})
    among, params = db.ids_in(ids)
    on = dict(db.sql(f"SELECT id, encounter_id FROM charge WHERE id {among}", params)) if ids else {}
    for e in eobs:
        for i, ln in enumerate(e.lines):
            cid = ln["charge_id"]
            if cid not in on:
                raise NotFound(f"no charge with id {cid}", field=f"lines.{i}.charge_id")
            if on[cid] != e.encounter_id:
                raise Refused(f"charge {cid} is not on encounter {e.encounter_id}", field=f"lines.{i}.charge_id")


def _write_eobs(payer_id: int, voucher: Voucher | None, eobs: Sequence[EobToPost]) -> list[int]:
    """The EOB rows (made where not given), their lines and line adjustments; the EOB ids."""
    new = [e for e in eobs if e.eob_id is None]
    if new:
        received = Eob.received_on.db_value
        rows = [(e.encounter_id, payer_id, e.rank, voucher.id if voucher else None,
                 received(e.received_on or clock.today()), e.claim_ref, Eob.dummy.db_value(False)) for e in new]
        for e, eid in zip(new, insert_ids(Eob, ("encounter", "payer", "rank", "voucher", "received_on", "claim_ref",
                                                 "dummy"), rows)):
            e.eob_id = eid
    denied = EobLine.denied.db_value
    line_ids = insert_ids(EobLine, ("eob", "charge", "allowed", "paid", "denied", "denial_code"),
                          [(e.eob_id, ln["charge_id"], ln["allowed"], ln["paid"], denied(ln["denied"]),
                            ln["denial_code"]) for e in eobs for ln in e.lines])
    lines = [ln for e in eobs for ln in e.lines]
    insert_ids(EobAdjustment, ("line", "group_code", "reason_code", "amount"),
               [(lid, a["group_code"], a["reason_code"], a["amount"])
                for lid, ln in zip(line_ids, lines) for a in ln["adjustments"]])
    return [e.eob_id for e in eobs]


def _cover(needs: list[tuple[ChargeSplit, int, int]], known: dict[int, list[ChargeSplit]], *, memo: str) -> None:
    """Pull balance back from later ranks (the patient first) until each split covers what its
    EOB line explains (``(split, cents explained, encounter id)``; ``known``: charge -> its
    splits, every charge of ``needs`` read)."""
    explained: dict[int, int] = defaultdict(int)
    for split, cents, _enc in needs:
        explained[split.id] += cents
    short = {s.id: (s, enc) for s, _c, enc in needs if explained[s.id] > s.balance}
    if not short:
        return
    moves = []
    for sid, (split, enc) in short.items():
        needed = explained[sid]
        missing = needed - split.balance
        later = [o for o in known[split.charge_id]
                 if o.balance != 0 and RANKS.index(o.rank) > RANKS.index(split.rank)]
        for other in sorted(later, key=lambda o: -RANKS.index(o.rank)):
            take = min(other.balance, missing)
            moves.append(transfers.Transfer(other, take, enc, target=split))
            missing -= take
            if missing == 0:
                break
        if missing:
            raise Refused(f"charge {split.charge_id}: the EOB explains {fmt(needed)} but only "
                          f"{fmt(needed - missing)} is open", field="lines")
    transfers.post_transfers(moves, memo=memo)


def _pay(voucher, eobs, eob_ids, paid, lines, splits, memo) -> dict[int, int]:
    """One credit per EOB that pays, drawn from the voucher and applied to its lines' splits;
    EOB index -> credit id. The lines are paid in full (their splits cover them), so nothing
    is left to return to the voucher."""
    paying = [k for k, cents in enumerate(paid) if cents]
    if not paying:
        return {}
    ids = credits.draw(voucher, [credits.CreditLine(eobs[k].patient_id, paid[k], f"EOB {eob_ids[k]}") for k in paying],
                       keep_unapplied=False, memo=memo(""))
    credit_of = dict(zip(paying, ids))
    pays = [(s, k, ln["paid"]) for s, (k, _e, ln) in zip(splits, lines) if ln["paid"]]
    credits.apply(voucher.id, [credits.Application(credit_of[k], s, cents) for s, k, cents in pays],
                  memo=memo(" payment" if len(eob_ids) == 1 else " payments"),
                  patient_id=only(eobs[k].patient_id for k in paying))
    for s, _k, cents in pays:
        s.balance -= cents
    return credit_of


def _deny(denials: list[tuple[ChargeSplit, EobToPost, dict]]) -> None:
    """Flag the denied lines' splits with their codes; put their encounters on the Denied queue."""
    if not denials:
        return
    code_of = {split.id: ln["denial_code"] for split, _e, ln in denials}  # (a split denied twice: the last code)
    by_code: dict[str, list[int]] = defaultdict(list)
    for sid, code in code_of.items():
        by_code[code].append(sid)
    for code, ids in by_code.items():
        among, params = db.ids_in(ids)
        db.sql(f"UPDATE charge_split SET denied = {{p}}, denial_code = {{p}} WHERE id {among}",
               [ChargeSplit.denied.db_value(True), code] + params)
    encounters = sorted({e.encounter_id for _s, e, _ln in denials})
    among, params = db.ids_in(encounters)
    db.sql(f"UPDATE encounter SET queue_id = {{p}} WHERE id {among}",
           [WorkQueue.get(WorkQueue.key == "denied").id] + params)
