"""Read-only data the screens show.

THIN QUERIES, TO BE MOVED TO CORE: ``claimdesk.core.services.views`` (being
written) is meant to own these. Until it lands, every read the TUI needs that no
core service offers lives here, and only here: plain reads, no writes, no money
arithmetic (amounts stay integer cents, formatted by ``core.money.fmt`` in the
screens). Where a core function already exists (balances, available vouchers,
open splits, the action context) it is called instead of querying.

Every function returns plain dicts/lists so screens never hold model objects
across threads (these run in thread workers).
"""

from __future__ import annotations

from peewee import fn

from claimdesk.core.models import (
    Adjustment, AdminMessage, AuditEvent, Charge, ChargeSplit, Credit, Encounter, JournalEntry, Patient, Payer,
    Posting, Provider, ServiceCode, Statement, Voucher, WorkQueue,
)
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import balances, payments
from claimdesk.core.services.actions import ActionContext, lookup


# --- home -----------------------------------------------------------------------
def queue_counts() -> list[dict]:
    """Every work queue with the number of active encounters waiting in it (thin query)."""
    counts = dict(
        Encounter.select(Encounter.queue, fn.COUNT(Encounter.id))
        .where(Encounter.queue.is_null(False) & (Encounter.status == "active"))
        .group_by(Encounter.queue).tuples())
    return [{"key": q.key, "name": q.name, "count": int(counts.get(q.id, 0))}
            for q in WorkQueue.select().order_by(WorkQueue.id)]


def summary() -> dict:
    """Counts for the home screen footer line (thin query)."""
    return {
        "patients": Patient.select().count(),
        "encounters": Encounter.select().where(Encounter.status == "active").count(),
        "open_messages": AdminMessage.select().where(AdminMessage.status == "open").count(),
    }


def queue_encounters(queue_key: str, limit: int = 200) -> dict:
    """The first ``limit`` encounters waiting in a queue, oldest service date first (thin query)."""
    queue = WorkQueue.get_or_none(WorkQueue.key == queue_key)
    if queue is None:
        return {"key": queue_key, "name": queue_key, "rows": [], "total": 0}
    base = Encounter.select().where((Encounter.queue == queue.id) & (Encounter.status == "active"))
    rows = []
    for enc in (base.select(Encounter, Patient).join(Patient, on=(Encounter.patient == Patient.id))
                .order_by(Encounter.dos, Encounter.id).limit(limit)):
        rows.append({"encounter_id": enc.id, "patient": enc.patient.name, "patient_id": enc.patient_id,
                     "dos": enc.dos.isoformat(), "claim_type": enc.claim_type,
                     "balance": balances.encounter_balance(enc.id)})
    return {"key": queue.key, "name": queue.name, "rows": rows, "total": base.count()}


# --- encounters and patients ------------------------------------------------------
def encounter_header(encounter_id) -> dict:
    """What the Advanced Actions screen shows about one encounter (via the core's action context)."""
    ctx = ActionContext(lookup(encounter_id))
    enc = ctx.encounter
    return {
        "encounter_id": enc.id, "patient_id": enc.patient_id, "patient": ctx.patient.name,
        "account_no": ctx.patient.account_no, "dos": enc.dos.isoformat(), "claim_type": enc.claim_type,
        "billable": enc.billable, "status": enc.status, "tags": enc.tag_list(),
        "queue": enc.queue.name if enc.queue_id else None,
        "payers": {rank: slot.payer.name for rank, slot in ctx.slots.items()},
        "by_rank": ctx.balance_by_rank(),
    }


def patient_header(patient_id) -> dict | None:
    """Name and balances of a patient, or None when there is no such patient."""
    try:
        pid = int(str(patient_id).strip())
    except ValueError:
        return None
    pat = Patient.get_or_none(Patient.id == pid)
    if pat is None:
        return None
    return {"patient_id": pat.id, "name": pat.name, "account_no": pat.account_no,
            **balances.patient_balance(pat.id).as_dict()}


def find_patients(text: str, limit: int = 6) -> list[dict]:
    """Patients matching an ID, an account number or the start of a last name (thin query)."""
    text = str(text).strip()
    if not text:
        return []
    found = []
    if text.isdigit():
        found += list(Patient.select().where(Patient.id == int(text)))
    found += [p for p in Patient.select().where(Patient.account_no == text.upper()) if p not in found]
    if not found:
        last = text.split(",")[0].strip()
        found = list(Patient.select().where(fn.LOWER(Patient.last_name).startswith(last.lower()))
                     .order_by(Patient.last_name, Patient.first_name, Patient.id).limit(limit))
    return [{"patient_id": p.id, "name": p.name, "account_no": p.account_no} for p in found[:limit]]


def payers() -> list[dict]:
    """Payers that can send money (every payer but the Inactive Payer), pseudo payer Patient first."""
    rows = Payer.select().where(Payer.kind != "inactive").order_by(Payer.name)
    out = [{"id": p.id, "name": p.name, "kind": p.kind} for p in rows]
    return sorted(out, key=lambda p: (p["kind"] != "patient", p["name"]))


def vouchers(payer_id: int, method: str | None = None) -> list[dict]:
    """The payer's vouchers with undistributed money (core ``available_vouchers``), by method."""
    out = []
    for v in payments.available_vouchers(payer_id):
        if method and v.method != method:
            continue
        out.append({"id": v.id, "method": v.method, "reference": v.reference,
                    "received_on": v.received_on.isoformat(), "amount": v.amount,
                    "undistributed": v.undistributed})
    return out


def open_charges(patient_id: int, payer_id: int) -> list[dict]:
    """Open charge balances the payer is responsible for on the patient (core ``open_splits_for``)."""
    out = []
    for split in payments.open_splits_for(patient_id, payer_id):
        charge = split.charge
        code = ServiceCode.get_by_id(charge.service_code_id)
        out.append({"charge_id": charge.id, "encounter_id": charge.encounter_id, "dos": charge.dos.isoformat(),
                    "code": code.code, "rank": split.rank, "balance": split.balance})
    return out


def statements(ids: list[int]) -> list[dict]:
    """Statement numbers with their amount due (thin query)."""
    if not ids:
        return []
    return [{"id": s.id, "amount_due": s.amount_due, "status": s.status, "generated_on": s.generated_on.isoformat()}
            for s in Statement.select().where(Statement.id.in_(ids)).order_by(Statement.id)]


def checks(include_used: bool = False) -> list[dict]:
    """Active vouchers, newest first: those with undistributed money, or every active one (thin query)."""
    q = (Voucher.select(Voucher, Payer).join(Payer, on=(Voucher.payer == Payer.id))
         .where(Voucher.status == "active"))
    if not include_used:
        q = q.where(Voucher.undistributed > 0)
    return [{"id": v.id, "payer": v.payer.name, "payer_id": v.payer_id, "method": v.method,
             "reference": v.reference, "received_on": v.received_on.isoformat(), "amount": v.amount,
             "undistributed": v.undistributed} for v in q.order_by(Voucher.received_on.desc(), Voucher.id.desc())]


def fee_choices() -> dict:
    """Choices for the fee-charge fields of fee policies: providers and service codes (thin query)."""
    provs = Provider.select().order_by(Provider.kind.desc(), Provider.name)
    codes = ServiceCode.select().order_by(ServiceCode.kind.desc(), ServiceCode.code)
    return {"provider_id": [(str(p.id), f"{p.name} ({p.kind})") for p in provs],
            "service_code": [(c.code, c.code if c.description in ("", c.code) else f"{c.code} {c.description}")
                             for c in codes]}


def voucher_brief(voucher_id: int) -> dict | None:
    v = Voucher.get_or_none(Voucher.id == voucher_id)
    if v is None:
        return None
    return {"id": v.id, "method": v.method, "reference": v.reference, "amount": v.amount,
            "undistributed": v.undistributed, "received_on": v.received_on.isoformat()}


# --- plugins --------------------------------------------------------------------------
def plugins_report() -> dict:
    """Loaded plugins with their hooks and what each contributed; failures with errors."""
    host = get_host()
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


def menu_facts() -> dict:
    """What the plugin host offers, for the home menus and the command palette."""
    host = get_host()
    return {
        "actions": [{"key": a.key, "title": a.title} for a in host.actions()],
        "methods": [{"key": m.key, "label": m.label} for m in host.payment_methods()],
        "fee_policies": [{"key": f.key, "label": f.label} for f in host.fee_policies()],
        "plugins": len(host.plugins),
        "failures": len(host.failures),
    }


# --- patient ledger -------------------------------------------------------------------
def patient_ledger(patient_id: int) -> dict | None:
    """A patient's ledger: activity with running balance, charges with splits, credits,
    adjustments and statements; balances from the core (thin queries, no arithmetic but
    the running sum of the AR changes the ledger already holds)."""
    header = patient_header(patient_id)
    if header is None:
        return None
    pid = header["patient_id"]
    activity, running = [], 0
    rows = (Posting.select(JournalEntry.id, JournalEntry.posted_on, JournalEntry.kind, JournalEntry.memo,
                           JournalEntry.reverses, fn.SUM(Posting.amount))
            .join(JournalEntry, on=(Posting.entry == JournalEntry.id))
            .where((Posting.patient == pid) & (Posting.account == "AR"))
            .group_by(JournalEntry.id, JournalEntry.posted_on, JournalEntry.kind, JournalEntry.memo,
                      JournalEntry.reverses)
            .order_by(JournalEntry.id).tuples())
    for entry_id, posted_on, kind, memo, reverses, change in rows:
        running += int(change)
        activity.append({"entry_id": entry_id, "date": posted_on.isoformat(), "kind": kind, "memo": memo,
                         "reversal": reverses is not None, "change": int(change), "running": running})
    charges = []
    for ch in (Charge.select(Charge, ServiceCode).join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
               .where(Charge.patient == pid).order_by(Charge.dos, Charge.id)):
        splits = [{"rank": s.rank, "payer": s.payer.name, "balance": s.balance, "denied": s.denied}
                  for s in ChargeSplit.select(ChargeSplit, Payer).join(Payer, on=(ChargeSplit.payer == Payer.id))
                  .where(ChargeSplit.charge == ch.id).order_by(ChargeSplit.id)]
        charges.append({"charge_id": ch.id, "encounter_id": ch.encounter_id, "dos": ch.dos.isoformat(),
                        "code": ch.service_code.code, "fee": ch.fee, "kind": ch.kind, "splits": splits,
                        "balance": balances.charge_balance(ch.id)})
    credits = [{"credit_id": c.id, "voucher_id": c.voucher_id, "method": c.method, "posted_on": c.posted_on.isoformat(),
                "drawn": balances.credit_drawn(c.id), "applied": balances.credit_applied(c.id),
                "unapplied": balances.credit_unapplied(c.id)}
               for c in Credit.select().where(Credit.patient == pid).order_by(Credit.id)]
    adjustments = [{"charge_id": a.charge_id, "kind": a.kind, "reason": f"{a.group_code}-{a.reason_code}".strip("-"),
                    "amount": a.amount, "date": a.created_at.date().isoformat(), "memo": a.memo}
                   for a in Adjustment.select().join(Charge, on=(Adjustment.charge == Charge.id))
                   .where(Charge.patient == pid).order_by(Adjustment.id)]
    stmts = [{"id": s.id, "generated_on": s.generated_on.isoformat(), "status": s.status, "amount_due": s.amount_due,
              "void_reason": s.void_reason}
             for s in Statement.select().where(Statement.patient == pid).order_by(Statement.id)]
    return {"header": header, "activity": activity, "charges": charges, "credits": credits,
            "adjustments": adjustments, "statements": stmts}


# --- audit log ----------------------------------------------------------------------------
def audit_events(limit: int = 200, action: str | None = None) -> list[dict]:
    """The newest audit events (who, when, what, why, inputs, entries) (thin query)."""
    q = AuditEvent.select().order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        q = q.where(AuditEvent.action.contains(action))
    return [{"id": e.id, "at": e.at.isoformat(sep=" ", timespec="minutes"), "user": e.user, "action": e.action,
             "encounter_id": e.encounter_id, "patient_id": e.patient_id, "reason": e.reason,
             "inputs": e.inputs, "entries": e.entries} for e in q]
