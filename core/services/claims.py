"""Claims to payers: queueing an encounter for a payer's next claim batch."""

from __future__ import annotations

from claimdesk.core import clock
from claimdesk.core.models import Claim, Encounter, Payer


def queue(encounter: Encounter, payer: Payer, rank: str, *, resend: bool = False) -> Claim:
    """Queue ``encounter`` for ``payer``'s next batch (once; a resend re-queues)."""
    if not payer.is_insurance:
        return None
    existing = Claim.get_or_none((Claim.encounter == encounter.id) & (Claim.payer == payer.id)
                                 & (Claim.rank == rank) & (Claim.status == "queued"))
    if existing is not None:
        return existing
    return Claim.create(encounter=encounter, payer=payer, rank=rank, status="queued",
                        queued_at=clock.now(), resend=resend)


def queued(payer: Payer | None = None):
    """Claims waiting for the next batch."""
    q = Claim.select().where(Claim.status == "queued")
    return q.where(Claim.payer == payer.id) if payer else q
