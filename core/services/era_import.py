"""Posting payers' 835 remittance files (005010X221A1): each payment becomes a voucher, each
claim an EOB through the one money engine, balanced to the cent and never forced; a clerk's work.

::

    report = era_import.preview(["remit.835"])        # the same plan, nothing written
    report = era_import.import_files(["remit.835"])   # or [("remit.835", data_bytes)]
    report.files[0].payments[0].claims[0].action       # post / deny / reverse / informational / exception

Per file: one that cannot be read at all (not X12, a bad envelope) is reported with the
reader's message naming the segment and line. Per payment (ST..SE), each in its own
workflow (one transaction, one audit event ``era.payment``), all of it or nothing:

* refused whole when it does not balance (BPR02 = Σ CLP04 − Σ PLB), when its payee is another
  practice (N1*PE, :func:`.era_match.payee_problem`), when its payer is not on file (matched by
  the payer ids it carries, :func:`.era_match.find_payer`), when its date (BPR16) or an amount
  is out of bounds, or when a segment cannot be read; a file its sender marked as test data
  (ISA15 T) is refused whole (:func:`.claim_import.test_data_refusal`);
* posted once: the same payer + TRN02 trace number + amount + claims again posts nothing and
  says where it went (so the same file twice changes nothing); the payer's trace number posted
  before for another amount or other claims is refused (a trace number names one payment);
* its claims planned by :mod:`.era_plan` (matching in :mod:`.era_match`) and written by
  :mod:`.era_post`: the voucher, the PLB entry, reversals, the EOBs, denials routed,
  exceptions to the ERA exceptions queue (their money stays undistributed on the voucher);
  a claim whose money the payment no longer has (its reversal failed) is an exception too.

:func:`preview` does exactly the same work, in one transaction over every file that it then
rolls back: what it reports is what posting would do (files see the ones before them).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from claimdesk.core import config, db, workflow
from claimdesk.core.errors import LedgerError, Refused
from claimdesk.core.models.remits import RemitClaim, RemitFile, RemitPayment
from claimdesk.core.money import MAX_CENTS, Cents, fmt
from claimdesk.core.services import era_post, era_retry
from claimdesk.core.services.claim_import import Source, read_source, test_data_refusal
from claimdesk.core.services.denial_routing import route
from claimdesk.core.services.era_match import Matcher, find_payer, payee_problem
from claimdesk.core.services.era_plan import PlannedClaim, plan_claim
from claimdesk.core.services.era_report import ClaimRow, EraReport, FileReport, PaymentReport
from claimdesk.core.services.returns import withdraw_premature_claims
from claimdesk.core.users import require_role
from claimdesk.core.validation import business_date_problem, text_problem
from claimdesk.core.x12 import Segment, TransactionSet, X12Error, parse_amount, read_interchanges
from claimdesk.core.x12.common import collector_paused
from claimdesk.core.x12.remittance import CLAIM_STATUSES, Remittance
from claimdesk.core.x12.remittance_reader import read_remittance

ACTION = "era.payment"
_PG_LOCK = 7_340_835


def preview(sources: Iterable[Source]) -> EraReport:
    """What :func:`import_files` would do with ``sources``: the same report, nothing written."""
    return import_files(sources, dry_run=True)


def import_files(sources: Iterable[Source], *, dry_run: bool = False, retry: bool = False) -> EraReport:
    """Post every payment of each 835 file of ``sources`` in order (see the module). With
    ``retry``, a payment posted before has its claims still waiting as exceptions planned again
    and those that pass now posted from its voucher (after a clerk fixed what they waited for:
    the patient's claim entered, the primary's payment posted...)."""
    if isinstance(sources, (str, os.PathLike)) or (isinstance(sources, tuple) and len(sources) == 2
                                                    and isinstance(sources[1], (bytes, str))):
        sources = [sources]
    report = EraReport(dry_run=dry_run)

    def run() -> EraReport:
        for source in sources:
            with collector_paused():  # (a file's records live until it is posted: see collector_paused)
                report.files.append(_file(source, dry_run, retry))
        return report

    # a preview posts for real, then takes it all back
    return db.rolled_back(run) if dry_run else run()


def _file(source: Source, dry_run: bool, retry: bool = False) -> FileReport:
    name, data, problem = read_source(source)
    file = FileReport(Path(name).name, dry_run=dry_run)
    if problem is not None:
        file.error = problem
        return file
    raw = data.encode() if isinstance(data, str) else data
    file.digest = hashlib.sha256(raw).hexdigest()
    try:
        interchanges = read_interchanges(raw)  # (a clearinghouse's download may join several)
    except X12Error as exc:
        file.error = str(exc)
        return file
    first = interchanges[0]
    file.file_date, file.sender_id, file.control_number = first.date, first.sender_id, first.control_number
    if len(interchanges) > 1:
        file.control_number += f" and {len(interchanges) - 1} more interchange(s)"
    file.error = test_data_refusal(any(i.is_test for i in interchanges)) or ""
    if file.error:
        return file
    prior = RemitFile.get_or_none(RemitFile.digest == file.digest)
    if prior is not None:
        file.already = f"this file was imported on {prior.imported_at:%Y-%m-%d %H:%M} by {prior.imported_by}"
    transactions = [t for i in interchanges for t in i.transactions("835")]
    clinic = config.load().clinic  # (whose payments these must be: read once per file)
    if not transactions:
        file.error = (f"{file.name} holds no 835 remittance (ST01 835); "
                      f"{' and '.join(dict.fromkeys(i.contents() for i in interchanges))}")
    for transaction in transactions:
        try:
            remittance = read_remittance(transaction)
        except X12Error as exc:
            file.payments.append(_unread(transaction, exc))
            continue
        file.payments.append(_payment(file, remittance, clinic, dry_run, retry))
    file.warnings = [str(w) for i in interchanges for w in i.warnings]  # (known once the composites were read)
    return file


def _unread(transaction: TransactionSet, error: X12Error) -> PaymentReport:
    """A payment the reader refused (``error``; nothing of it is posted), named as far as the
    TRN, BPR and N1*PR of its header can be read, so the clerk knows which check it is."""
    first: dict[str, Segment] = {}
    for segment in transaction.body:
        if segment.tag == "CLP":  # (the claims begin: the header is read)
            break
        first.setdefault(f"N1*{segment.get(1)}" if segment.tag == "N1" else segment.tag, segment)

    def shown(key: str, index: int) -> str:  # (a value the reader refused is shown safely)
        value = first[key].get(index) if key in first else ""
        value = value.encode("unicode_escape").decode("ascii") if text_problem(value) else value
        return value if len(value) <= 60 else value[:59] + "…"

    try:
        amount = parse_amount(first["BPR"].get(2))
        amount = Cents(-amount) if first["BPR"].get(3) == "D" else amount
    except (KeyError, ValueError):
        amount = Cents(0)
    return PaymentReport(shown("TRN", 2) or transaction.control_number, shown("N1*PR", 2), shown("N1*PR", 4), amount,
                         shown("BPR", 4), None, transaction.control_number, "refused", reason=str(error))


def payment_report(remittance: Remittance, status: str, reason: str = "") -> PaymentReport:
    return PaymentReport(remittance.trace_number, remittance.payer.name, remittance.payer.payer_id,
                         remittance.amount, remittance.method, remittance.date, remittance.control_number,
                         status, reason)


def _refusal(remittance: Remittance) -> str:
    if remittance.refusal is not None:
        return str(remittance.refusal)
    return _too_large(remittance) or _date_problem(remittance)


def _date_problem(remittance: Remittance) -> str:
    """Why BPR16, the payment's date (its voucher's and EOBs' date received), cannot be a business
    date: the one rule a date a clerk types passes too; "" when it can."""
    problem = business_date_problem(remittance.date)
    where = f": {remittance.place}" if remittance.place is not None else ""
    return f"BPR16, the payment's date, {problem}{where}" if problem else ""


def _too_large(remittance: Remittance) -> str:
    """Why the payment is refused for an amount above what claimdesk accepts anywhere (more than
    ``MAX_CENTS`` either way: a typo or a damaged file, and beyond some size more than the ledger
    holds), naming the first such amount and its segment; "" when there is none."""
    for name, amount, place in _amounts(remittance):
        if amount is not None and abs(amount) > MAX_CENTS:
            where = f": {place}" if place is not None else ""
            return f"{name} {fmt(amount)} is more than claimdesk accepts in one amount ({fmt(MAX_CENTS)}){where}"
    return ""


def _amounts(remittance: Remittance):
    """(element, amount, place) of every amount of ``remittance`` claimdesk would keep."""
    yield "BPR02", remittance.amount, remittance.place
    for plb in remittance.provider_adjustments:
        yield "PLB", plb.amount, plb.place
    for claim in remittance.claims:
        yield "CLP03", claim.charge, claim.place
        yield "CLP04", claim.paid, claim.place
        yield "CLP05", claim.patient_responsibility, claim.place
        for record in (claim, *claim.lines):
            for adjustment in record.adjustments:
                yield f"CAS {adjustment.group}-{adjustment.reason}", adjustment.amount, record.place
            for qualifier, amount in record.amounts:
                yield f"AMT*{qualifier}", amount, record.place
        for line in claim.lines:
            yield "SVC02", line.charge, line.place
            yield "SVC03", line.paid, line.place


def _already(payer_id: int, remittance: Remittance) -> str:
    """Where this very payment went, when it was posted before ("" when the payer's trace number
    is new); :class:`Refused` when the payer's trace number (TRN02, which names one payment
    between a payer and a clinic) was posted before for another payment: another amount, or
    other claims (a payer that reuses the number of a zero-pay remittance, say). Posting it
    would count the same check twice; calling it posted would lose its claims."""
    rows = list(RemitPayment.select(RemitPayment, RemitFile).join(RemitFile)
                .where((RemitPayment.payer == payer_id) & (RemitPayment.trace_number == remittance.trace_number))
                .order_by(RemitPayment.id))
    if not rows:
        return ""
    claims = sorted((c.claim_number, c.payer_claim_number or "", c.status, c.charge, c.paid) for c in remittance.claims)
    for row in rows:
        if row.amount == remittance.amount and claims == sorted(
                RemitClaim.select(RemitClaim.claim_no, RemitClaim.payer_claim_no, RemitClaim.status,
                                  RemitClaim.charge, RemitClaim.paid).where(RemitClaim.payment == row.id).tuples()):
            where = f"voucher {row.voucher_id}" if row.voucher_id else "no voucher (no money)"
            return (f"payment {remittance.trace_number} of {fmt(remittance.amount)} was posted on "
                    f"{row.file.imported_at:%Y-%m-%d} by {row.file.imported_by} from {row.file.name} as {where}")
    row = rows[0]
    differs = (f"for {fmt(row.amount)}, where this one is {fmt(remittance.amount)}" if row.amount != remittance.amount
               else "with other claims")
    raise Refused(f"trace number {remittance.trace_number} was posted on {row.file.imported_at:%Y-%m-%d} by "
                  f"{row.file.imported_by} from {row.file.name} {differs}. A trace number names one payment of a "
                  f"payer, so this one is not posted: ask {remittance.payer.name or 'the payer'} which is right",
                  field="TRN02")


def _plan(remittance: Remittance, payer_id: int) -> list[PlannedClaim]:
    """Every claim's plan, reversals' money counted in before the claims that need it."""
    matcher = Matcher(payer_id)
    matcher.load(list(remittance.claims))
    plans = [plan_claim(claim, i, payer_id, matcher) for i, claim in enumerate(remittance.claims)]
    _check_money(remittance, plans)
    return plans


def _check_money(remittance: Remittance, plans: list[PlannedClaim]) -> None:
    """A claim the payment can no longer pay (a reversal it counted on failed) is an exception."""
    left = remittance.amount + sum(a.amount for a in remittance.provider_adjustments)
    left -= sum(p.claim.paid for p in plans if p.action == "reverse")  # (negative: money carried in)
    if left < 0:
        raise Refused(f"the payer takes back {fmt(-left)} more than this payment's reversals it could match "
                      f"take back", field="payment")
    for plan in plans:
        if plan.action in ("post", "deny") and plan.claim.paid > 0:
            if plan.claim.paid > left:
                plan.exception(f"the payment has {fmt(max(left, 0))} left for this claim's {fmt(plan.claim.paid)}: "
                               f"a reversal it counts on was not posted")
                continue
            left -= plan.claim.paid


def denial_routes(plans: list[PlannedClaim]) -> dict[int, str]:
    """Plan index -> the queue its denial routes to (plugins' and the config's routes)."""
    denied = [p for p in plans if p.action == "deny"]
    if not denied:
        return {}
    queues = {row[0] for row in db.sql("SELECT key FROM work_queue")}
    return {p.index: route([tuple(code.split("-", 1)) for code in p.denial_codes], queues=queues) for p in denied}


def claim_rows(plans: list[PlannedClaim], eobs: dict[int, int], routes: dict[int, str]) -> list[ClaimRow]:
    """The report's rows for ``plans`` (with the matched patients' names, one query)."""
    patients = sorted({p.encounter.patient_id for p in plans if p.encounter})
    names = {}
    if patients:
        among, params = db.ids_in(patients)
        names = {pid: f"{last}, {first}" for pid, last, first in db.sql(
            f"SELECT id, last_name, first_name FROM patient WHERE id {among}", params)}
    out = []
    for plan in plans:
        c = plan.claim
        queue = routes.get(plan.index, "") if plan.action == "deny" else era_post.EXCEPTIONS_QUEUE \
            if plan.action == "exception" and plan.encounter else ""
        out.append(ClaimRow(c.claim_number, c.status, CLAIM_STATUSES.get(c.status, c.status), c.charge, c.paid,
                            Cents(c.patient_responsibility or 0), plan.action,
                            plan.encounter.id if plan.encounter else None,
                            plan.encounter.patient_id if plan.encounter else None,
                            names.get(plan.encounter.patient_id, "") if plan.encounter else "", eobs.get(plan.index),
                            plan.reverses if plan.action == "reverse" else None, plan.crossed_over, queue,
                            plan.reason, plan.line_no))
    return out


def _payment(file: FileReport, remittance: Remittance, clinic: config.Clinic, dry_run: bool,
             retry: bool = False) -> PaymentReport:
    refusal = _refusal(remittance) or payee_problem(remittance.payee, clinic)
    if refusal:
        return payment_report(remittance, "refused", refusal)
    payer_id, why = find_payer(remittance)
    if payer_id is None:
        return payment_report(remittance, "refused", why)
    try:
        already = _already(payer_id, remittance)
    except Refused as exc:
        report = payment_report(remittance, "refused", str(exc))
        report.payer_id = payer_id
        return report
    if already and retry:
        return era_retry.retry(remittance, payer_id, already, dry_run=dry_run)
    if already:
        report = payment_report(remittance, "already", already)
        report.payer_id = payer_id
        return report
    return _post(file, remittance, payer_id, dry_run)


def _post(file: FileReport, remittance: Remittance, payer_id: int, dry_run: bool = False) -> PaymentReport:
    """Post one payment in its workflow; in a preview (inside the preview's transaction, which
    rolls back) the very same work in a savepoint, its report saying what it would do."""
    made: dict = {}

    def body() -> dict:
        require_role("clerk", "posting remittances")
        if db.is_postgres():  # two clerks posting the same file take turns
            db.sql("SELECT pg_advisory_xact_lock({p})", [_PG_LOCK])
        already = _already(payer_id, remittance)
        if already:
            raise _Already(already)
        plans = _plan(remittance, payer_id)
        file_id = era_post.file_row(file.digest, file.name, file.sender_id, file.control_number, file.file_date)
        needs_voucher = remittance.amount or remittance.provider_adjustments or any(
            p.claim.paid for p in plans if p.action in ("post", "deny", "reverse"))
        voucher = era_post.voucher_for(remittance, payer_id) if needs_voucher else None
        era_post.reverse([p for p in plans if p.action == "reverse"], voucher)
        plb = era_post.receive(remittance, voucher) if voucher is not None else []
        from claimdesk.core.services.refunds import match_plb  # (a recoupment the PLB WO takes back: docs/ledger.md)

        recouped = match_plb(voucher, remittance.provider_adjustments) if voucher is not None else []
        eobs = era_post.post(plans, payer_id, voucher, remittance)
        routes = denial_routes(plans)
        era_post.route(plans, routes)
        payment_id = era_post.payment_row(file_id, remittance, payer_id, voucher, plb)
        era_post.record(payment_id, plans, eobs)
        reversed_on = sorted({p.encounter.id for p in plans if p.action == "reverse"})
        withdrawn = withdraw_premature_claims(
            reversed_on, "sent before the payer took back its payment",
            f"before {remittance.payer.name} took back its payment (835 trace {remittance.trace_number})")
        report = payment_report(remittance, "posted")
        report.payer_id, report.voucher_id, report.provider_adjustments = payer_id, voucher and voucher.id, plb
        report.claims = claim_rows(plans, eobs, routes)
        made.update(report=report, payment_id=payment_id)
        return {"payment_id": payment_id, "voucher_id": report.voucher_id, "amount": remittance.amount,
                "tallies": report.tallies, "posted_paid": report.posted_paid, "undistributed": report.undistributed,
                "provider_total": report.provider_total, "recoupments_matched": recouped, **withdrawn,
                "exceptions": [{"claim_no": c.claim_no, "reason": c.reason} for c in report.claims
                               if c.action == "exception"]}

    inputs = {"file": file.name, "digest": file.digest, "trace_number": remittance.trace_number,
              "payer_code": remittance.payer.payer_id, "amount": remittance.amount, "paid_on": remittance.date}

    def preview_of() -> dict:
        with db.database.atomic():  # (a savepoint: a refused payment leaves nothing in the preview)
            return body()

    try:
        result = preview_of() if dry_run else workflow.run(ACTION, body, inputs=inputs)
    except _Already as exc:
        report = payment_report(remittance, "already", str(exc))
        report.payer_id = payer_id
        return report
    except (LedgerError, Refused) as exc:  # (a debit its reversals could not cover, say): nothing written
        report = payment_report(remittance, "refused", f"payment {remittance.trace_number} cannot be posted: {exc}")
        report.payer_id = payer_id
        return report
    report = made["report"]
    if dry_run:
        return as_preview(report)
    report.audit_id = result["audit_id"]
    db.run_in_transaction(lambda: era_post.link_audit(made["payment_id"], result["audit_id"]))
    return report


def as_preview(report: PaymentReport, status: str = "preview") -> PaymentReport:
    """A report of work that will be rolled back: its status, and no ids of rows that will not be."""
    report.status, report.voucher_id = status, None
    for row in report.claims:
        row.eob_id = None
    return report


class _Already(Exception):
    """Another clerk posted this payment meanwhile: nothing is written."""
