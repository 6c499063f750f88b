"""Taking back an EOB (an 835 reversal, CLP02 22): its postings mirrored from its own records,
never a negative payment. One ``eob_reversal`` entry per call:

- its payment: each application of the EOB's credit unapplied (Dr AR / Cr UNAPPLIED, on the
  same credit split), and the credit's money handed back to the payer through the voucher
  it came from (Dr UNAPPLIED / Cr PAYER_LEVEL on that voucher) and carried to the payer's
  check that takes it back (Dr PAYER_LEVEL / Cr UNDISTRIBUTED on ``into``): the later check
  pays the correction with it;
- its CO/OA/PI adjustments: Dr AR / Cr CONTRACTUAL, with an adjustment row of the opposite
  amount each (``reversal of EOB 12``);
- its PR: the patient responsibility moved back from the rank it went to. Where the patient
  has paid it, that payment is unapplied first (newest first) and stays on the patient's
  credit as their money; where a later insurer has paid it, the reversal is refused.

The EOB's splits then owe the payer again; the caller voids the later claims this made
premature (:func:`~claimdesk.core.posting.next_claims.no_longer_due`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

from claimdesk.core import clock, db, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import Adjustment, ChargeSplit, Credit, Eob, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.posting import responsibility
from claimdesk.core.posting.adjustments import CONTRACTUAL_KINDS
from claimdesk.core.posting.bulk import insert_ids
from claimdesk.core.posting.transfers import splits_of


@dataclasses.dataclass(slots=True)
class TakenBack:
    """What taking back one EOB did: cents of payment carried to the new voucher, adjustments
    and patient responsibility undone, and the patient's payments unapplied to do it."""

    eob_id: int
    paid: int = 0
    adjusted: int = 0
    patient_responsibility: int = 0
    unapplied_from_patient: int = 0


def eob_credit(eob: Eob) -> Credit | None:
    """The credit that paid ``eob`` (drawn from its voucher by the money engine), or None."""
    if eob.voucher_id is None:
        return None
    return Credit.get_or_none((Credit.voucher == eob.voucher_id) & (Credit.memo == f"EOB {eob.id}"))


def take_back(eob: Eob, into: Voucher) -> TakenBack:
    """Post the reversal of ``eob`` (inside a transaction); its payment goes to ``into`` (the
    payer's check that takes it back). Refused (field ``eob``) where a later insurer has paid
    what the EOB made it owe, or the EOB's check was returned."""
    done = TakenBack(eob.id)
    lines: list[ledger.Line] = []
    code = f"EOB-{eob.id}"
    charges = [row[0] for row in db.sql("SELECT charge_id FROM eob_line WHERE eob_id = {p} ORDER BY id", [eob.id])]
    by_charge = splits_of(sorted(set(charges)))
    own = {cid: next((s for s in by_charge[cid] if s.rank == eob.rank and s.payer_id == eob.payer_id), None)
           for cid in charges}
    split_by_id = {s.id: s for splits in by_charge.values() for s in splits}
    delta: dict[int, int] = defaultdict(int)  # split id -> its balance change

    credit = eob_credit(eob)
    if credit is not None:
        source = Voucher.get_by_id(credit.voucher_id)
        if source.status == "returned":
            raise Refused(f"EOB {eob.id} was paid from voucher {source.id}, which was returned", field="eob")
        applied = list(db.sql(
            "SELECT credit_split_id, split_id, charge_id, SUM(amount) FROM posting WHERE account = 'UNAPPLIED' "
            "AND credit_id = {p} AND credit_split_id IS NOT NULL GROUP BY credit_split_id, split_id, charge_id "
            "ORDER BY credit_split_id", [credit.id]))
        for cs_id, split_id, charge_id, cents in applied:
            cents = int(cents)
            if cents <= 0:
                continue
            split = split_by_id.get(split_id) or ChargeSplit.get_by_id(split_id)
            lines += [ledger.ar(split, cents, code, credit_split_id=cs_id),
                      ledger.Line("UNAPPLIED", -cents, split_id=split.id, charge_id=charge_id,
                                  patient_id=split.patient_id, payer_id=split.payer_id, credit_id=credit.id,
                                  voucher_id=credit.voucher_id, credit_split_id=cs_id)]
            delta[split.id] += cents
            done.paid += cents
        if done.paid:
            lines += [ledger.Line("UNAPPLIED", done.paid, credit_id=credit.id, voucher_id=source.id,
                                  patient_id=credit.patient_id, payer_id=source.payer_id),
                      ledger.Line("PAYER_LEVEL", -done.paid, voucher_id=source.id, payer_id=source.payer_id,
                                  reason_code=code),
                      ledger.Line("PAYER_LEVEL", done.paid, voucher_id=into.id, payer_id=into.payer_id,
                                  reason_code=code),
                      ledger.undistributed(into, -done.paid)]

    adjusted = list(Adjustment.select().where((Adjustment.memo == f"EOB {eob.id}")
                                              & Adjustment.charge.in_(charges)).order_by(Adjustment.id))
    rows = []
    now = Adjustment.created_at.db_value(clock.now())
    for adj in adjusted:
        split = split_by_id[adj.split_id]
        lines += [ledger.ar(split, adj.amount, code), ledger.on_charge(_account(adj.kind), split, -adj.amount, code)]
        delta[split.id] += adj.amount
        done.adjusted += adj.amount
        rows.append((adj.charge_id, adj.split_id, adj.kind, adj.reason_code, adj.group_code, -adj.amount,
                     f"reversal of EOB {eob.id}", now, current_user()))

    lines += _patient_responsibility_back(eob, own, by_charge, delta, done, code)
    if not lines:
        return done
    ledger.post("eob_reversal", lines, memo=f"reversal of EOB {eob.id}", user=current_user(),
                encounter_id=eob.encounter_id)
    if rows:
        insert_ids(Adjustment, ("charge", "split", "kind", "reason_code", "group_code", "amount", "memo",
                                "created_at", "created_by"), rows)
    return done


def _account(kind: str) -> str:
    return "CONTRACTUAL" if kind in CONTRACTUAL_KINDS else "WRITEOFF"


def _patient_responsibility_back(eob: Eob, own: dict, by_charge: dict, delta: dict, done: TakenBack,
                                 code: str) -> list[ledger.Line]:
    """The lines moving the EOB's PR back to its split from the rank it went to (unapplying the
    patient's payments there as needed)."""
    moved = list(db.sql(
        "SELECT l.charge_id, SUM(a.amount) FROM eob_adjustment a JOIN eob_line l ON l.id = a.line_id "
        "WHERE l.eob_id = {p} AND a.group_code = 'PR' GROUP BY l.charge_id ORDER BY l.charge_id", [eob.id]))
    if not moved:
        return []
    insurers = responsibility.insurers_of([eob.encounter_id])[eob.encounter_id]
    rank = responsibility.following_rank(insurers, eob.rank)
    payer = responsibility.payer_at(insurers, rank)
    lines: list[ledger.Line] = []
    for charge_id, cents in moved:
        cents = int(cents)
        home = own.get(charge_id)
        there = next((s for s in by_charge[charge_id] if s.rank == rank and s.payer_id == payer), None)
        if home is None or there is None or cents <= 0:
            continue
        short = cents - (there.balance + delta[there.id])
        if short > 0:
            if rank != "patient":
                raise Refused(f"charge {charge_id}: the {rank} insurer has paid {fmt(short)} of the patient "
                              f"responsibility EOB {eob.id} moved to it; take back its payment first", field="eob")
            lines += _unapply(there, short, code)
            delta[there.id] += short
            done.unapplied_from_patient += short
        lines += [ledger.ar(there, -cents, code), ledger.ar(home, cents, code)]
        delta[there.id] -= cents
        delta[home.id] += cents
        done.patient_responsibility += cents
    return lines


def _unapply(split: ChargeSplit, cents: int, code: str) -> list[ledger.Line]:
    """Unapply ``cents`` of the payments on ``split``, newest first (they stay on their credits)."""
    rows = db.sql("SELECT credit_split_id, credit_id, voucher_id, SUM(amount) FROM posting WHERE account = 'UNAPPLIED' "
                  "AND split_id = {p} AND credit_split_id IS NOT NULL GROUP BY credit_split_id, credit_id, voucher_id "
                  "ORDER BY credit_split_id DESC", [split.id])
    lines = []
    for cs_id, credit_id, voucher_id, applied in rows:
        take = min(int(applied), cents)
        if take <= 0:
            continue
        lines += [ledger.ar(split, take, code, credit_split_id=cs_id),
                  ledger.Line("UNAPPLIED", -take, split_id=split.id, charge_id=split.charge_id,
                              patient_id=split.patient_id, payer_id=split.payer_id, credit_id=credit_id,
                              voucher_id=voucher_id, credit_split_id=cs_id)]
        cents -= take
        if cents == 0:
            break
    if cents:
        raise Refused(f"charge {split.charge_id}: {fmt(cents)} of the patient's share is neither open nor paid",
                      field="eob")
    return lines
