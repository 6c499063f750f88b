"""Read models for the "show" commands (CLI and TUI): plain dicts, amounts in cents.

Nothing here writes. Balances come from :mod:`claimdesk.core.services.balances`
(derived from postings) or from the ledger's postings directly; split balances
shown next to their charge are the ledger-kept cache that ``claimdesk verify``
checks against the postings.
"""

from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from claimdesk.core import db, schema
from claimdesk.core.errors import InputError
from claimdesk.core.models import (
    AuditEvent, Charge, ChargeSplit, Claim, Encounter, EncounterPayer, Eob, EobLine,
    JournalEntry, Patient, Payer, Posting, ServiceCode, Voucher,
)
from claimdesk.core.services import balances
from claimdesk.core.services.actions import lookup
from claimdesk.core.services.common import get


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()


# --- database -------------------------------------------------------------------
def db_status(url: str) -> dict:
    """Where the database is (password hidden), its schema version and row counts."""
    version = schema.current_version()
    out = {"database": db.redact(url), "engine": "postgresql" if db.is_postgres() else "sqlite",
           "schema_version": version, "code_schema_version": schema.CURRENT_VERSION,
           "up_to_date": version == schema.CURRENT_VERSION}
    for key, model in (("patients", Patient), ("encounters", Encounter),
                       ("charges", Charge), ("postings", Posting)):
        out[key] = model.select().count() if version else 0
    return out


# --- encounters -----------------------------------------------------------------
def encounter_detail(encounter_id) -> dict:
    """Everything about one encounter: payers, charges with splits, EOBs, claims, queue."""
    enc = lookup(encounter_id)
    patient = Patient.get_by_id(enc.patient_id)
    payers = [{"rank": ep.rank, "payer_id": ep.payer_id, "payer": ep.payer.name,
               "placeholder": ep.placeholder,
               "replaced_payer": ep.replaced_payer.name if ep.replaced_payer_id else None}
              for ep in (EncounterPayer.select(EncounterPayer, Payer).join(Payer, on=(EncounterPayer.payer == Payer.id))
                         .where(EncounterPayer.encounter == enc.id))]
    order = {"primary": 0, "secondary": 1, "tertiary": 2}
    payers.sort(key=lambda p: order.get(p["rank"], 9))
    charges = []
    by_rank: dict[str, int] = {}
    for ch in (Charge.select(Charge, ServiceCode).join(ServiceCode)
               .where(Charge.encounter == enc.id).order_by(Charge.line_no, Charge.id)):
        splits = []
        for s in (ChargeSplit.select(ChargeSplit, Payer).join(Payer)
                  .where(ChargeSplit.charge == ch.id).order_by(ChargeSplit.id)):
            splits.append({"split_id": s.id, "rank": s.rank, "payer": s.payer.name,
                           "balance": s.balance, "denied": s.denied, "denial_code": s.denial_code})
            by_rank[s.rank] = by_rank.get(s.rank, 0) + s.balance
        charges.append({"charge_id": ch.id, "line_no": ch.line_no, "code": ch.service_code.code,
                        "units": ch.units, "fee": ch.fee, "dos": _iso(ch.dos), "kind": ch.kind,
                        "balance": balances.charge_balance(ch.id), "splits": splits})
    eobs = []
    for e in Eob.select(Eob, Payer).join(Payer, on=(Eob.payer == Payer.id)).where(
            Eob.encounter == enc.id).order_by(Eob.id):
        paid = EobLine.select(fn.COALESCE(fn.SUM(EobLine.paid), 0)).where(EobLine.eob == e.id).scalar()
        eobs.append({"eob_id": e.id, "payer": e.payer.name, "rank": e.rank, "received_on": _iso(e.received_on),
                     "paid": int(paid or 0), "dummy": e.dummy, "voucher_id": e.voucher_id})
    claims = [{"claim_id": c.id, "payer": c.payer.name, "rank": c.rank, "status": c.status,
               "queued_at": _iso(c.queued_at), "sent_at": _iso(c.sent_at), "resend": c.resend}
              for c in Claim.select(Claim, Payer).join(Payer).where(Claim.encounter == enc.id).order_by(Claim.id)]
    return {"encounter_id": enc.id, "patient_id": patient.id, "patient": patient.name,
            "account_no": patient.account_no, "dos": _iso(enc.dos), "provider": enc.provider.name,
            "claim_type": enc.claim_type, "billable": enc.billable, "status": enc.status,
            "queue": enc.queue.key if enc.queue_id else None, "tags": enc.tag_list(),
            "payers": payers, "charges": charges, "balance_by_rank": by_rank,
            "balance": balances.encounter_balance(enc.id), "eobs": eobs, "claims": claims}


# --- patients -------------------------------------------------------------------
def patient_ledger(patient_id) -> dict:
    """A patient's postings on AR and UNAPPLIED in date order with a running balance.

    The running balance is what the account owes net of the patient's unapplied
    money (AR debits positive, unapplied credits negative); its last value equals
    ``total_ar - unapplied`` of the balance summary.
    """
    patient = get(Patient, patient_id, "patient", field="patient_id")
    rows, running = [], 0
    query = (Posting.select(Posting, JournalEntry, Payer)
             .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
             .switch(Posting).join(Payer, JOIN.LEFT_OUTER, on=(Posting.payer == Payer.id))
             .where((Posting.patient == patient.id) & Posting.account.in_(["AR", "UNAPPLIED"]))
             .order_by(JournalEntry.posted_on, JournalEntry.id, Posting.id))
    for p in query:
        running += p.amount
        rows.append({"date": _iso(p.entry.posted_on), "entry_id": p.entry_id, "kind": p.entry.kind,
                     "account": p.account, "charge_id": p.charge_id, "credit_id": p.credit_id,
                     "payer": p.payer.name if p.payer_id else None, "memo": p.entry.memo,
                     "reason_code": p.reason_code, "amount": p.amount, "running_balance": running})
    encounters = [{"encounter_id": e.id, "dos": _iso(e.dos), "status": e.status,
                   "queue": e.queue.key if e.queue_id else None,
                   "balance": balances.encounter_balance(e.id)}
                  for e in Encounter.select().where(Encounter.patient == patient.id).order_by(Encounter.dos, Encounter.id)]
    return {"patient_id": patient.id, "account_no": patient.account_no, "name": patient.name,
            "dob": _iso(patient.dob), "bad_debt": patient.bad_debt,
            "balance": balances.patient_balance(patient.id).as_dict(),
            "encounters": encounters, "ledger": rows}


def find_patients(text: str, limit: int = 50) -> list[dict]:
    """Patients whose account number or name contains ``text`` (case-insensitive)."""
    needle = (text or "").strip()
    if not needle:
        raise InputError({"text": ["type part of an account number or a name"]})
    cond = (fn.LOWER(Patient.account_no).contains(needle.lower())
            | fn.LOWER(Patient.last_name).contains(needle.lower())
            | fn.LOWER(Patient.first_name).contains(needle.lower()))
    if "," in needle:
        last, first = (s.strip().lower() for s in needle.split(",", 1))
        cond = cond | (fn.LOWER(Patient.last_name).contains(last) & fn.LOWER(Patient.first_name).contains(first))
    out = []
    for p in Patient.select().where(cond).order_by(Patient.last_name, Patient.first_name, Patient.id).limit(limit):
        bal = balances.patient_balance(p.id)
        out.append({"patient_id": p.id, "account_no": p.account_no, "name": p.name, "dob": _iso(p.dob),
                    "patient_due": bal.patient_due, "insurance_pending": bal.insurance_pending})
    return out


# --- payments -------------------------------------------------------------------
def voucher_list(payer_id=None, limit: int = 200) -> list[dict]:
    """Vouchers newest first (optionally one payer's), each with its undistributed money."""
    q = Voucher.select(Voucher, Payer).join(Payer)
    if payer_id is not None:
        payer = get(Payer, payer_id, "payer", field="payer_id")
        q = q.where(Voucher.payer == payer.id)
    return [{"voucher_id": v.id, "payer_id": v.payer_id, "payer": v.payer.name, "method": v.method,
             "reference": v.reference, "received_on": _iso(v.received_on), "amount": v.amount,
             "undistributed": balances.voucher_undistributed(v.id), "status": v.status}
            for v in q.order_by(Voucher.received_on.desc(), Voucher.id.desc()).limit(limit)]


# --- audit ----------------------------------------------------------------------
def audit_events(encounter_id=None, user: str | None = None, limit: int = 50) -> list[dict]:
    """Audit events newest first, optionally for one encounter or one user."""
    q = AuditEvent.select()
    if encounter_id is not None:
        q = q.where(AuditEvent.encounter == lookup(encounter_id).id)
    if user:
        q = q.where(AuditEvent.user == user)
    return [{"audit_id": ev.id, "at": ev.at.isoformat(sep=" ") if ev.at else None, "user": ev.user,
             "action": ev.action, "encounter_id": ev.encounter_id, "patient_id": ev.patient_id,
             "entries": ev.entries, "reason": ev.reason}
            for ev in q.order_by(AuditEvent.id.desc()).limit(max(1, int(limit)))]


# --- plugins --------------------------------------------------------------------
def plugins_report(host=None) -> dict:
    """Every plugin (name, distribution, version, hooks, what it contributed) and failures."""
    from claimdesk.core.plugins.host import get_host

    host = host or get_host()
    contributed: dict[str, list[str]] = {}
    kinds = (("claimdesk_advanced_actions", host.actions(), "key", "action"),
             ("claimdesk_payment_methods", host.payment_methods(), "key", "payment method"),
             ("claimdesk_fee_policies", host.fee_policies(), "key", "fee policy"),
             ("claimdesk_writeoff_reasons", host.writeoff_reasons(), "code", "write-off reason"))
    for hook, records, attr, label in kinds:
        for rec in records:
            owner = host.owner(hook, getattr(rec, attr)) or "?"
            contributed.setdefault(owner, []).append(f"{label} {getattr(rec, attr)}")
    return {
        "plugins": [{"name": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
                     "builtin": p.builtin, "hooks": list(p.hooks), "contributes": contributed.get(p.name, [])}
                    for p in host.plugins],
        "failures": [{"name": f.name, "stage": f.stage, "error": f.error} for f in host.failures],
        "skipped": list(host.skipped),
    }
