"""The fast path of the front desk: a day's visits written set-based.

The same rows and balances as one call at a time through ``billing.create_encounter``
/ ``add_charge`` / ``claims.queue`` (tests compare the two): the encounters and their
payer lists in a few multi-row inserts, the charges through the money engine
(:func:`claimdesk.core.posting.charges.post_charges`: one "charge" entry for the day)
and the primaries' claims through :func:`claimdesk.core.posting.next_claims.queue`.
A payer check's EOBs go to the engine directly (:mod:`claimdesk.core.posting.eobs`,
see :mod:`.remits`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from claimdesk.core import clock
from claimdesk.core.demo.bulk import insert, insert_ids
from claimdesk.core.models import INSURANCE_RANKS, Encounter, EncounterPayer
from claimdesk.core.posting import charges, next_claims


@dataclasses.dataclass(frozen=True, slots=True)
class NewEncounter:
    """A visit to write: the patient, the provider, whom it is billed to, its charge lines."""

    patient_id: int
    provider_id: int
    claim_type: str
    queue_id: int | None
    payers: tuple[tuple[int, int], ...]      # (payer id, coverage id) by rank, primary first; none: self-pay
    lines: tuple[tuple[int, int, int], ...]  # (service code id, units, fee in cents)


def post_visits_fast(day: dt.date, visits: list[NewEncounter]) -> list[tuple[int, list[int]]]:
    """Write a day's visits: encounters, payer lists, charges with their first responsible
    splits and one "charge" entry, the primaries' queued claims. Returns ``(encounter id,
    charge ids)`` per visit."""
    now = clock.now()
    enc_ids = insert_ids(Encounter, [{
        "patient": v.patient_id, "provider": v.provider_id, "dos": day, "claim_type": v.claim_type,
        "queue": v.queue_id, "created_at": now} for v in visits])
    insert(EncounterPayer, [{"encounter": eid, "rank": rank, "payer": payer_id, "coverage": cov}
                            for v, eid in zip(visits, enc_ids)
                            for rank, (payer_id, cov) in zip(INSURANCE_RANKS, v.payers)])
    made = iter(charges.post_charges([
        charges.NewCharge(eid, v.patient_id, code_id, units, fee, v.provider_id, day)
        for v, eid in zip(visits, enc_ids) for code_id, units, fee in v.lines],
        memo=f"front desk {day:%Y-%m-%d}: {len(visits)} encounter(s)"))
    next_claims.queue([(eid, v.payers[0][0], "primary") for v, eid in zip(visits, enc_ids) if v.payers])
    return [(eid, [next(made).charge_id for _line in v.lines]) for v, eid in zip(visits, enc_ids)]
