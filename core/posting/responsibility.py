"""Who owes a charge at which rank: the first responsible rank of a new charge, and the rank
a balance moves on to. Both go by the slots of the encounter's payer list that real
insurers hold (a slot held by a pseudo payer, such as the placeholder "Patient", is
skipped); after the insurers comes the patient.
"""

from __future__ import annotations

from typing import Iterable

from claimdesk.core import db
from claimdesk.core.models import INSURANCE_RANKS, RANKS, Payer
from claimdesk.core.services.common import patient_payer


def first_rank(insurers: dict[str, int]) -> str:
    """The first rank held by a real insurer (``insurers``: rank -> payer id); "patient" when none."""
    return next((rank for rank in INSURANCE_RANKS if rank in insurers), "patient")


def following_rank(insurers: dict[str, int], rank: str) -> str:
    """The next rank after ``rank`` held by a real insurer; "patient" at the end."""
    return next((later for later in RANKS[RANKS.index(rank) + 1:] if later in insurers), "patient")


def payer_at(insurers: dict[str, int], rank: str) -> int:
    """Who owes at ``rank`` (one :func:`first_rank` or :func:`following_rank` gives): the
    insurer there, or the pseudo payer Patient."""
    if rank != "patient":
        return insurers[rank]
    cache = db.transaction_cache()  # (read once per transaction: a day of visits asks thousands of times)
    if "patient_payer_id" not in cache:
        cache["patient_payer_id"] = patient_payer().id
    return cache["patient_payer_id"]


def insurers_of(encounter_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """encounter -> {rank: payer id} of the slots real insurers hold (one query; an
    encounter without any maps to ``{}``)."""
    ids = sorted(set(encounter_ids))
    out: dict[int, dict[str, int]] = {eid: {} for eid in ids}
    if not ids:
        return out
    among, params = db.ids_in(ids)
    insurer: dict[str, bool] = {}  # payer kind -> is it an insurer (asked once per kind)
    for eid, rank, payer_id, kind in db.sql(
            "SELECT ep.encounter_id, ep.rank, ep.payer_id, p.kind FROM encounter_payer ep"
            f" JOIN payer p ON p.id = ep.payer_id WHERE ep.encounter_id {among}", params):
        if kind not in insurer:
            insurer[kind] = Payer(kind=kind).is_insurance
        if insurer[kind]:
            out[eid][rank] = payer_id
    return out
