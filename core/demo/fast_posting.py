"""The fast path of the front desk: a day's visits written set-based.

The same rows and balances as one call at a time through ``billing.create_encounter``
/ ``add_charge`` / ``claims.queue`` (tests compare the two): the encounters, their payer
lists and charges through :func:`claimdesk.core.services.encounters.write` (one "charge"
entry for the day) and the primaries' claims through
:func:`claimdesk.core.posting.next_claims.queue`. A payer check's EOBs go to the engine
directly (:mod:`claimdesk.core.posting.eobs`, see :mod:`.remits`).
"""

from __future__ import annotations

import datetime as dt

from claimdesk.core.posting import next_claims
from claimdesk.core.services import encounters


def post_visits_fast(day: dt.date, visits: list[encounters.NewEncounter]) -> list[tuple[int, list[int]]]:
    """Write a day's visits: encounters, payer lists, charges with their first responsible
    splits and one "charge" entry, the primaries' queued claims. Returns ``(encounter id,
    charge ids)`` per visit."""
    written = encounters.write(visits, memo=f"front desk {day:%Y-%m-%d}: {len(visits)} encounter(s)")
    next_claims.queue([(w.encounter_id, v.payers[0][0], "primary") for v, w in zip(visits, written) if v.payers])
    return [(w.encounter_id, list(w.charge_ids)) for w in written]
