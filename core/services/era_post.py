"""Writing one 835 payment, inside its workflow's transaction (:mod:`.era_import` plans it):

1. the voucher: BPR02 received from the payer (CHK a check, ACH/FWT/BOP an EFT; a NON payment
   of 0 writes no cash), its money posted after the reversals (3.);
   with the PLB provider-level adjustments in the same entry, per adjustment Dr PAYER_LEVEL /
   Cr UNDISTRIBUTED on the voucher (a negative one, interest, the other way), so the voucher's
   undistributed money is what its claims pay (a debit payment, BPR03 D, when the payer kept
   more than the claims pay, is a voucher of a negative amount);
2. each reversal (CLP02 22): the earlier EOB taken back (:mod:`~claimdesk.core.posting.eob_reversal`),
   its money carried to this voucher; then the voucher's money (1.);
3. the EOBs, all at once through the money engine (:func:`~claimdesk.core.posting.eobs.post_eobs`);
   should one be refused (its split no longer open, say), they are posted one by one, each in
   its own savepoint, and the refused ones become exceptions;
4. denials routed to their queue, exceptions' encounters to the ERA exceptions queue, later
   claims a reversal made premature withdrawn, and a row per claim in ``era_claim``.
"""

from __future__ import annotations

from claimdesk.core import clock, db, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models import Encounter, Eob, Voucher
from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment
from claimdesk.core.posting import eob_reversal
from claimdesk.core.posting.bulk import insert_ids
from claimdesk.core.posting.eobs import EobToPost, post_eobs
from claimdesk.core.services.era_plan import PlannedClaim
from claimdesk.core.x12.remittance import Remittance

#: BPR04 -> the voucher's payment method.
METHOD_OF = {"CHK": "check", "ACH": "eft", "FWT": "eft", "BOP": "eft", "NON": "eft"}
EXCEPTIONS_QUEUE = "era_exceptions"


def file_row(digest: str, name: str, sender_id: str, control_number: str, file_date) -> int:
    """The ``era_file`` row of this file (made on its first posted payment)."""
    row = RemitFile.get_or_none(RemitFile.digest == digest)
    if row is None:
        row = RemitFile.create(digest=digest, name=name[:250], sender_id=sender_id, control_number=control_number,
                               file_date=file_date, imported_at=clock.now(), imported_by=current_user())
    return row.id


def voucher_for(remittance: Remittance, payer_id: int) -> Voucher:
    """The payment's voucher (its money comes in with :func:`receive`, after the reversals)."""
    return Voucher.create(payer=payer_id, method=METHOD_OF[remittance.method], reference=remittance.trace_number,
                          received_on=remittance.date, amount=remittance.amount,
                          details={"era": True, "bpr04": remittance.method, "trace_payer_id": remittance.trace_payer_id},
                          created_at=clock.now(), created_by=current_user())


def receive(remittance: Remittance, voucher: Voucher) -> list[dict]:
    """The payment's money and its PLB adjustments in one entry: the cash (Dr CASH / Cr
    UNDISTRIBUTED; a debit payment, BPR03 D, the other way) and per PLB Dr PAYER_LEVEL / Cr
    UNDISTRIBUTED (interest the other way), so the voucher's undistributed money is what its
    claims pay; the PLB as stored on the payment. Posted after the reversals, whose money a
    debit payment takes back."""
    payer_id = voucher.payer_id
    lines = [ledger.Line("CASH", remittance.amount, voucher_id=voucher.id, payer_id=payer_id),
             ledger.undistributed(voucher, -remittance.amount)]
    for a in remittance.provider_adjustments:
        lines += [ledger.Line("PAYER_LEVEL", a.amount, voucher_id=voucher.id, payer_id=payer_id, reason_code=a.reason),
                  ledger.undistributed(voucher, -a.amount)]
    memo = f"835 {remittance.method} {remittance.trace_number}"
    if remittance.provider_adjustments:
        memo += "; PLB " + ", ".join(f"{a.reason}{':' + a.reference if a.reference else ''} {a.amount / 100:.2f}"
                                     for a in remittance.provider_adjustments)
    if any(ln.amount for ln in lines):
        ledger.post("voucher", lines, memo=memo, user=current_user())
    plb = [{"reason": a.reason, "reference": a.reference, "amount": a.amount, "provider_id": a.provider_id,
            "fiscal_date": a.fiscal_date.isoformat()} for a in remittance.provider_adjustments]
    return plb


def _savepoint(work):
    """Run ``work()`` in a savepoint: its result, or the refusal that rolled it back."""
    try:
        with db.database.atomic():
            return work(), None
    except ClaimdeskError as exc:
        return None, exc


def reverse(plans: list[PlannedClaim], voucher: Voucher) -> None:
    """Take back each reversal's EOB into ``voucher`` (a refused one becomes an exception)."""
    for plan in plans:
        eob = Eob.get_by_id(plan.reverses)
        _done, refusal = _savepoint(lambda: eob_reversal.take_back(eob, voucher))
        if refusal is not None:
            plan.exception(f"reversal of EOB {eob.id}: {refusal}")


def post(plans: list[PlannedClaim], payer_id: int, voucher: Voucher | None, remittance: Remittance) -> dict[int, int]:
    """Post the ``post`` and ``deny`` plans as EOBs; plan index -> EOB id."""
    def eob(plan: PlannedClaim) -> EobToPost:
        return EobToPost(plan.encounter.id, plan.encounter.patient_id, plan.rank, plan.lines,
                         claim_ref=plan.claim.payer_claim_number[:40], received_on=remittance.date,
                         crossed_over=plan.crossed_over)

    def fresh() -> Voucher | None:
        return Voucher.get_by_id(voucher.id) if voucher is not None else None

    todo = [p for p in plans if p.action in ("post", "deny")]
    if not todo:
        return {}
    done, refusal = _savepoint(lambda: post_eobs(payer_id, fresh(), [eob(p) for p in todo]))
    if refusal is None:
        return {p.index: d["eob_id"] for p, d in zip(todo, done)}
    out = {}
    for plan in todo:
        one, refusal = _savepoint(lambda: post_eobs(payer_id, fresh(), [eob(plan)]))
        if refusal is None:
            out[plan.index] = one[0]["eob_id"]
        else:
            plan.exception(_not_posted(refusal))
    return out


def _not_posted(refusal: ClaimdeskError) -> str:
    """Why the money engine refused a claim, said for the exceptions queue."""
    text = refusal.message if isinstance(refusal.message, str) and refusal.message else str(refusal)
    if "is open" in text:
        text += (" (an earlier payer's payment not posted yet, or paid before?)")
    return f"not posted: {text}"


def route(plans: list[PlannedClaim], routes: dict[int, str]) -> None:
    """Denied encounters to the queue their denial routes to (the engine put them on Denied);
    the matched encounters of exceptions to the ERA exceptions queue."""
    queues = dict(db.sql("SELECT key, id FROM work_queue"))
    moves: dict[int, list[int]] = {}
    for plan in plans:
        if plan.encounter is None:
            continue
        key = routes.get(plan.index) if plan.action == "deny" else EXCEPTIONS_QUEUE if plan.action == "exception" else None
        if key and key in queues:
            moves.setdefault(queues[key], []).append(plan.encounter.id)
    for queue_id, ids in moves.items():
        Encounter.update(queue=queue_id).where(Encounter.id.in_(sorted(set(ids)))).execute()


def record(payment_id: int, plans: list[PlannedClaim], eobs: dict[int, int]) -> None:
    """A row per claim in ``era_claim`` (an exception keeps the claim itself)."""
    outcome = {"post": "posted", "deny": "posted", "reverse": "posted", "informational": "informational",
               "exception": "exception"}
    rows = []
    for plan in plans:
        c = plan.claim
        rows.append((payment_id, c.claim_number, c.payer_claim_number, c.status, c.charge, c.paid,
                     plan.encounter.id if plan.encounter else None, eobs.get(plan.index),
                     plan.reverses if plan.action == "reverse" else None, outcome[plan.action], plan.reason,
                     ",".join(dict.fromkeys([*c.remarks, *(r for s in c.lines for r in s.remarks)]))[:250],
                     plan.line_no, RemitClaim.claim.db_value(_claim_json(plan) if plan.action == "exception" else None),
                     "", ""))
    insert_ids(RemitClaim, ("payment", "claim_no", "payer_claim_no", "status", "charge", "paid", "encounter", "eob",
                            "reverses", "outcome", "reason", "remarks", "line", "claim", "resolved_by", "resolution"), rows)


def _claim_json(plan: PlannedClaim) -> dict:
    """What a clerk needs to post an exception by hand: the claim's lines and adjustments."""
    c = plan.claim
    return {"claim_no": c.claim_number, "status": c.status, "charge": c.charge, "paid": c.paid,
            "member_id": c.member_id, "patient": c.patient.last + ", " + c.patient.first if c.patient else "",
            "adjustments": [[a.group, a.reason, a.amount] for a in c.adjustments],
            "lines": [{"code": s.procedure.code, "modifiers": list(s.procedure.modifiers), "charge": s.charge,
                       "paid": s.paid, "control_number": s.control_number,
                       "date": s.service_from.isoformat() if s.service_from else "",
                       "adjustments": [[a.group, a.reason, a.amount] for a in s.adjustments]} for s in c.lines]}


def payment_row(file_id: int, remittance: Remittance, payer_id: int, voucher: Voucher | None, plb: list[dict]) -> int:
    """The ``era_payment`` row (unique per payer, trace number and amount)."""
    return RemitPayment.create(file=file_id, payer=payer_id, trace_number=remittance.trace_number,
                               amount=remittance.amount, method=remittance.method, paid_on=remittance.date,
                               control_number=remittance.control_number, voucher=voucher.id if voucher else None,
                               provider_adjustments=plb).id


def link_audit(payment_id: int, audit_id: int) -> None:
    """Name the workflow's audit event on the payment (after the workflow wrote it)."""
    RemitPayment.update(audit=audit_id).where(RemitPayment.id == payment_id).execute()
