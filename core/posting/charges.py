"""Charges: lines of encounters, each owed first by the first responsible rank
(:func:`~.responsibility.first_rank`), one ``charge`` entry for any number of them:

  ``charge``  Dr AR (the first responsible split) / Cr REVENUE, a pair per charge with a fee

A zero fee still gets its split (it shows in Outstanding Zero Splits) and posts nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Sequence

from claimdesk.core import db, ledger
from claimdesk.core.context import current_user
from claimdesk.core.models import Charge, ChargeSplit
from claimdesk.core.posting import responsibility
from claimdesk.core.posting.bulk import insert_ids, only

@dataclasses.dataclass(slots=True)
class NewCharge:
    """A charge line to add to encounter ``encounter_id`` (fee in cents)."""

    encounter_id: int
    patient_id: int
    service_code_id: int
    units: int
    fee: int
    provider_id: int
    dos: dt.date
    kind: str = "service"


@dataclasses.dataclass(frozen=True, slots=True)
class PostedCharge:
    """A charge written: its id, line number and first responsible split."""

    charge_id: int
    line_no: int
    split_id: int
    rank: str
    payer_id: int


def post_charges(charges: Sequence[NewCharge], *, memo: str) -> list[PostedCharge]:
    """Add ``charges`` (numbered after their encounters' existing lines, in order), each with
    its first responsible split, and post their fees (one entry); what was written, in order."""
    if not charges:
        return []
    lines_on = _line_counts(c.encounter_id for c in charges)
    insurers = responsibility.insurers_of(c.encounter_id for c in charges)
    charge_rows, owed = [], []
    dos, kind = Charge.dos.db_value, Charge.kind.db_value
    for c in charges:
        lines_on[c.encounter_id] += 1
        rank = responsibility.first_rank(insurers[c.encounter_id])
        owed.append((lines_on[c.encounter_id], rank, responsibility.payer_at(insurers[c.encounter_id], rank)))
        charge_rows.append((c.encounter_id, c.patient_id, lines_on[c.encounter_id], c.service_code_id, c.units,
                            c.fee, c.provider_id, dos(c.dos), kind(c.kind), Charge.primary_marked_paid.db_value(False)))
    charge_ids = insert_ids(Charge, ("encounter", "patient", "line_no", "service_code", "units", "fee", "provider",
                                     "dos", "kind", "primary_marked_paid"), charge_rows)
    split_ids = insert_ids(ChargeSplit, ("charge", "rank", "payer", "patient", "balance", "denied", "denial_code"),
                           [(cid, rank, payer, c.patient_id, 0, ChargeSplit.denied.db_value(False), "")
                            for cid, c, (_n, rank, payer) in zip(charge_ids, charges, owed)])
    made = [PostedCharge(cid, n, sid, rank, payer)
            for cid, sid, (n, rank, payer) in zip(charge_ids, split_ids, owed)]
    postings = []
    for c, m in zip(charges, made):
        if c.fee:
            postings += [ledger.Line("AR", c.fee, split_id=m.split_id, charge_id=m.charge_id, patient_id=c.patient_id,
                                     payer_id=m.payer_id),
                         ledger.Line("REVENUE", -c.fee, charge_id=m.charge_id, patient_id=c.patient_id,
                                     provider_id=c.provider_id)]
    if postings:
        fees = [c for c in charges if c.fee]
        ledger.post("charge", postings, memo=memo, user=current_user(),
                    encounter_id=only(c.encounter_id for c in fees), patient_id=only(c.patient_id for c in fees))
    return made


def _line_counts(encounter_ids) -> dict[int, int]:
    """encounter -> how many charge lines it has (one query)."""
    ids = sorted(set(encounter_ids))
    among, params = db.ids_in(ids)
    counts = defaultdict(int, {eid: 0 for eid in ids})
    for eid, n in db.sql(f"SELECT encounter_id, COUNT(*) FROM charge WHERE encounter_id {among} GROUP BY encounter_id",
                         params):
        counts[eid] = int(n)
    return counts
