"""Retrying a posted payment's exceptions (``claimdesk era import FILE --retry``): once a clerk
fixed what a claim waited for (entered the visit, posted the primary's payment, added the
payer to the encounter...), importing the file again with ``retry`` plans the claims still
waiting as exceptions again and posts those that pass now from the payment's voucher, where
their money waited undistributed; the others keep waiting with their (new) reason. One
workflow (``era.retry``) per payment. Nothing else of the payment is posted again.
"""

from __future__ import annotations

from claimdesk.core import clock, db, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import LedgerError, Refused
from claimdesk.core.models import Encounter, Voucher, WorkQueue
from claimdesk.core.models.remits import RemitClaim, RemitPayment
from claimdesk.core.services import era_post
from claimdesk.core.services.era_match import Matcher
from claimdesk.core.services.era_plan import PlannedClaim, plan_claim
from claimdesk.core.services.era_report import PaymentReport
from claimdesk.core.users import require_role
from claimdesk.core.x12.remittance import ClaimPayment, Remittance

ACTION = "era.retry"


def _key(claim_no: str, payer_claim_no: str, status: str, paid: int) -> tuple:
    return claim_no, payer_claim_no, status, int(paid)


def _waiting(payment: RemitPayment, remittance: Remittance) -> list[tuple[RemitClaim, int, ClaimPayment]]:
    """The payment's open exceptions with the file's claim each stands for (and its index)."""
    rows = {_key(r.claim_no, r.payer_claim_no, r.status, r.paid): r for r in RemitClaim.select().where(
        (RemitClaim.payment == payment.id) & (RemitClaim.outcome == "exception"))}
    out = []
    for index, claim in enumerate(remittance.claims):
        row = rows.pop(_key(claim.claim_number, claim.payer_claim_number, claim.status, claim.paid), None)
        if row is not None:
            out.append((row, index, claim))
    return out


def retry(remittance: Remittance, payer_id: int, already: str, *, dry_run: bool) -> PaymentReport:
    """Plan (and unless ``dry_run`` post) the payment's waiting exceptions again; the report
    (status ``retried``, or ``already`` when none waits) lists only those claims."""
    from claimdesk.core.services.era_import import as_preview, claim_rows, denial_routes, payment_report

    payment = RemitPayment.get((RemitPayment.payer == payer_id) & (RemitPayment.trace_number == remittance.trace_number)
                               & (RemitPayment.amount == remittance.amount))
    if not _waiting(payment, remittance):
        report = payment_report(remittance, "already", f"{already}; none of its claims waits as an exception")
        report.payer_id, report.voucher_id = payer_id, payment.voucher_id
        return report
    made: dict = {}

    def plans_now() -> tuple[list, list[PlannedClaim]]:
        waiting = _waiting(payment, remittance)
        matcher = Matcher(payer_id)
        matcher.load([claim for _row, _i, claim in waiting])
        return waiting, [plan_claim(claim, index, payer_id, matcher) for _row, index, claim in waiting]

    def body() -> dict:
        require_role("clerk", "posting remittances")
        waiting, plans = plans_now()
        voucher = Voucher.get_by_id(payment.voucher_id) if payment.voucher_id else None
        if voucher is not None:
            era_post.reverse([p for p in plans if p.action == "reverse"], voucher)
        for plan in plans:
            if voucher is None and plan.action in ("post", "deny", "reverse") and plan.claim.paid:
                plan.exception("its payment brought no money to post it from")
        eobs = era_post.post(plans, payer_id, voucher, remittance)
        routes = denial_routes(plans)
        era_post.route(plans, routes)
        _update(waiting, plans, eobs)
        made["rows"] = claim_rows(plans, eobs, routes)
        return {"payment_id": payment.id, "voucher_id": payment.voucher_id,
                "posted": [p.claim.claim_number for p in plans if p.action != "exception"],
                "still_waiting": [{"claim_no": p.claim.claim_number, "reason": p.reason} for p in plans
                                  if p.action == "exception"]}

    report = payment_report(remittance, "retried", already)
    report.payer_id, report.voucher_id = payer_id, payment.voucher_id

    def preview_of() -> dict:
        with db.database.atomic():  # (inside the preview's transaction, which rolls back)
            return body()

    try:
        result = preview_of() if dry_run else workflow.run(ACTION, body, inputs={
            "payment_id": payment.id, "trace_number": remittance.trace_number})
    except (LedgerError, Refused) as exc:
        return payment_report(remittance, "refused", f"payment {remittance.trace_number}: retry refused: {exc}")
    report.claims = made["rows"]
    if dry_run:
        return as_preview(report, "retry-preview")
    report.audit_id = result["audit_id"]
    return report


def _update(waiting: list, plans: list[PlannedClaim], eobs: dict[int, int]) -> None:
    """The exceptions' rows: posted ones resolved (and off the ERA exceptions queue), the
    others with their reason now."""
    queue = WorkQueue.get_or_none(WorkQueue.key == era_post.EXCEPTIONS_QUEUE)
    now, user = clock.now(), current_user()
    for (row, _index, _claim), plan in zip(waiting, plans):
        encounter = plan.encounter.id if plan.encounter else None
        if plan.action == "exception":
            RemitClaim.update(reason=plan.reason, encounter=encounter).where(RemitClaim.id == row.id).execute()
            continue
        outcome = "informational" if plan.action == "informational" else "posted"
        RemitClaim.update(outcome=outcome, encounter=encounter, eob=eobs.get(plan.index), reason=plan.reason,
                          reverses=plan.reverses if plan.action == "reverse" else None, resolved_at=now,
                          resolved_by=user, resolution=f"{outcome} on retry").where(RemitClaim.id == row.id).execute()
        if encounter and queue is not None and plan.action != "deny":
            Encounter.update(queue=None).where((Encounter.id == encounter) & (Encounter.queue == queue.id)).execute()
