"""The summary :func:`~claimdesk.core.demo.build` returns: counts, A/R, timing."""

from __future__ import annotations

from peewee import fn

from claimdesk.core.models import (
    AdminMessage, AuditEvent, Charge, ChargeSplit, Claim, Coverage, Credit, Encounter, Eob, JournalEntry,
    Patient, Payer, Posting, Provider, ServiceCode, Statement, User, Voucher, WorkQueue,
)


def summarize(sim, seconds: float) -> dict:
    """The summary of the finished simulation ``sim`` (a ClinicSimulation) that took ``seconds``."""

    def count(model, *where):
        return model.select().where(*where).count() if where else model.select().count()

    pseudo = sim.pseudo.id
    patient_ar = int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(
        (Posting.account == "AR") & (Posting.payer == pseudo)).scalar() or 0)
    total_ar = int(Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(
        Posting.account == "AR").scalar() or 0)
    charges = count(Charge)
    return {
        "seed": sim.seed, "scale": round(sim.scale * (sim.copies + 1), 6), "months": sim.months,
        "fast": sim.fast,
        "today": sim.today.isoformat(),
        "start": sim.start.isoformat(), "working_days": len(sim.workdays),
        "users": count(User), "patients": count(Patient), "payers": count(Payer),
        "payer_kinds": dict(sorted(Payer.select(Payer.kind, fn.COUNT(Payer.id)).group_by(Payer.kind).tuples())),
        "providers": count(Provider),
        "administrative_providers": count(Provider, Provider.kind == "administrative"),
        "service_codes": count(ServiceCode), "coverages": count(Coverage),
        "encounters": count(Encounter),
        "workers_comp_encounters": count(Encounter, Encounter.claim_type == "workers_comp"),
        "non_billable_encounters": count(Encounter, Encounter.billable == False),  # noqa: E712
        "charges": charges, "zero_fee_charges": count(Charge, Charge.fee == 0),
        "charge_splits": count(ChargeSplit),
        "denied_open_splits": count(ChargeSplit, ChargeSplit.denied == True, ChargeSplit.balance > 0),  # noqa: E712
        "secondary_splits": count(ChargeSplit, ChargeSplit.rank == "secondary"),
        "tertiary_splits": count(ChargeSplit, ChargeSplit.rank == "tertiary"),
        "eobs": count(Eob), "vouchers": count(Voucher),
        "vouchers_with_undistributed": count(Voucher, Voucher.undistributed > 0, Voucher.status == "active"),
        "undistributed_total": int(Voucher.select(fn.COALESCE(fn.SUM(Voucher.undistributed), 0)).scalar() or 0),
        "returned_vouchers": count(Voucher, Voucher.status == "returned"),
        "credits": count(Credit), "credits_with_unapplied": count(Credit, Credit.unapplied > 0),
        "unapplied_total": int(Credit.select(fn.COALESCE(fn.SUM(Credit.unapplied), 0)).scalar() or 0),
        "statements": count(Statement), "admin_messages": count(AdminMessage),
        "open_admin_messages": count(AdminMessage, AdminMessage.status == "open"),
        "claims_queued": count(Claim, Claim.status == "queued"),
        "claims_sent": count(Claim, Claim.status == "sent"),
        "queues": {q.key: count(Encounter, Encounter.queue == q.id)
                   for q in WorkQueue.select().order_by(WorkQueue.id)},
        "journal_entries": count(JournalEntry), "postings": count(Posting),
        "audit_events": count(AuditEvent),
        "total_ar": total_ar, "patient_ar": patient_ar, "insurance_ar": total_ar - patient_ar,
        "base_scale": sim.scale, "copies": sim.copies,
        "replicate_seconds": round(sim.replicate_seconds, 2) if sim.copies else 0.0,
        "seconds": round(seconds, 2),
        "charges_per_second": round(charges / seconds, 1) if seconds else None,
    }
