"""The ERA exceptions queue: remittance claims that were not posted (out of balance, unmatched,
ambiguous, posted before, refused by the money engine), each with its reason, waiting for a
clerk. Their money stays undistributed on the payment's voucher; the clerk posts the EOB by
hand from that voucher (or leaves it for a refund) and then resolves the exception with a note.
"""

from __future__ import annotations

from claimdesk.core import clock, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import NotFound, Refused
from claimdesk.core.models import Encounter, Payer, WorkQueue
from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment
from claimdesk.core.money import Cents
from claimdesk.core.users import require_role
from claimdesk.core.validation import Text, load
from marshmallow import Schema, validate


def open_exceptions(limit: int | None = None) -> list[dict]:
    """The exceptions not yet resolved, oldest first: id, claim number, status, charge, paid,
    encounter, the reason, the voucher its money waits on, payer, trace, file and line, the
    claim as the payer sent it (lines and adjustments)."""
    query = (RemitClaim.select(RemitClaim, RemitPayment, RemitFile, Payer)
             .join(RemitPayment).join(RemitFile).switch(RemitPayment).join(Payer)
             .where(RemitClaim.outcome == "exception").order_by(RemitClaim.id))
    if limit:
        query = query.limit(limit)
    return [_row(c) for c in query]


def count_open() -> int:
    """How many exceptions wait."""
    return RemitClaim.select().where(RemitClaim.outcome == "exception").count()


def _row(c: RemitClaim) -> dict:
    p = c.payment
    patient = c.encounter.patient if c.encounter_id else None
    return {"patient_name": f"{patient.last_name}, {patient.first_name}" if patient else "", "id": c.id, "claim_no": c.claim_no, "payer_claim_no": c.payer_claim_no, "status": c.status,
            "charge": Cents(c.charge), "paid": Cents(c.paid), "encounter_id": c.encounter_id, "reason": c.reason,
            "voucher_id": p.voucher_id, "payer": p.payer.name, "payer_id": p.payer_id, "trace_number": p.trace_number,
            "file": p.file.name, "line": c.line, "posted_on": p.file.imported_at.date().isoformat(),
            "claim": c.claim or {}, "outcome": c.outcome, "resolution": c.resolution, "resolved_by": c.resolved_by}


class ResolveInput(Schema):
    reason = Text(required=True, max_length=250, validate=validate.Length(
        min=3, error="say what was done about it (at least 3 characters)"))


def resolve(exception_id: int, data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: mark an exception dealt with (posted by hand, refunded, sent back to the payer...)
    with the clerk's note; its encounter leaves the ERA exceptions queue."""
    clean = load(ResolveInput, data)

    def body() -> dict:
        require_role("clerk", "resolving ERA exceptions")
        row = RemitClaim.get_or_none(RemitClaim.id == exception_id)
        if row is None:
            raise NotFound(f"no ERA exception with id {exception_id}", field="exception_id")
        if row.outcome != "exception":
            raise Refused(f"ERA claim {exception_id} is not an open exception (it is {row.outcome})",
                          field="exception_id")
        RemitClaim.update(outcome="resolved", resolved_at=clock.now(), resolved_by=current_user(),
                          resolution=clean["reason"]).where(RemitClaim.id == row.id).execute()
        queue = WorkQueue.get_or_none(WorkQueue.key == "era_exceptions")
        left_queue = False
        if row.encounter_id and queue is not None:
            left_queue = bool(Encounter.update(queue=None).where((Encounter.id == row.encounter_id)
                                                                 & (Encounter.queue == queue.id)).execute())
        return {"exception_id": row.id, "claim_no": row.claim_no, "encounter_id": row.encounter_id,
                "left_queue": left_queue, "resolution": clean["reason"]}

    return workflow.run("era.exception.resolve", body, inputs={"exception_id": exception_id, **clean},
                        reason=clean["reason"], idempotency_key=idempotency_key)
