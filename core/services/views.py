"""Read models for the desk (CLI and TUI): plain dicts, amounts in cents.

This module holds the database status, encounters and work queues, the home
screen's counts, the audit log and the plugin report; patients live in
:mod:`claimdesk.core.services.patient_views`, payers, vouchers and statements in
:mod:`claimdesk.core.services.payment_views`.

Nothing here writes. Balances come from :mod:`claimdesk.core.services.balances`
(derived from postings) or from the ledger's postings directly; split balances
shown next to their charge are the ledger-kept cache that ``claimdesk verify``
checks against the postings. Every function returns plain dicts/lists, so the
TUI can call them in thread workers without holding model objects.
"""

from __future__ import annotations

import datetime as dt

from peewee import fn

from claimdesk.core import db, migrations, workflow
from claimdesk.core.claim_rules import show_diagnosis, split_codes, split_pointers
from claimdesk.core.models import (
    AdminMessage, AuditEvent, Charge, ChargeSplit, Claim, Encounter, EncounterPayer, Eob, EobLine,
    Patient, Payer, Posting, ServiceCode, WorkQueue,
)
from claimdesk.core.models.audit import audit_ids_for_encounter
from claimdesk.core.plugins.host import API_VERSION, REPLACES, get_host
from claimdesk.core.services import balances
from claimdesk.core.services.actions import ActionContext, lookup


def iso(value) -> str | None:
    """A date as ``YYYY-MM-DD``, a datetime as ``YYYY-MM-DD HH:MM:SS``, None as None."""
    if value is None:
        return None
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()


# --- database -------------------------------------------------------------------
def db_status(url: str) -> dict:
    """Where the database is (password hidden), its schema version and row counts."""
    version = migrations.current_version()
    out = {"database": db.redact(url), "engine": "postgresql" if db.is_postgres() else "sqlite",
           "schema_version": version, "code_schema_version": migrations.CURRENT_VERSION,
           "up_to_date": version == migrations.CURRENT_VERSION}
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
                        "units": ch.units, "fee": ch.fee, "dos": iso(ch.dos), "kind": ch.kind,
                        "modifiers": split_codes(ch.modifiers), "pointers": split_pointers(ch.diagnosis_pointers),
                        "control_no": ch.control_no, "status": ch.status,
                        "balance": balances.charge_balance(ch.id), "splits": splits})
    eobs = []
    for e in Eob.select(Eob, Payer).join(Payer, on=(Eob.payer == Payer.id)).where(
            Eob.encounter == enc.id).order_by(Eob.id):
        paid = EobLine.select(fn.COALESCE(fn.SUM(EobLine.paid), 0)).where(EobLine.eob == e.id).scalar()
        eobs.append({"eob_id": e.id, "payer": e.payer.name, "rank": e.rank, "received_on": iso(e.received_on),
                     "paid": int(paid or 0), "dummy": e.dummy, "voucher_id": e.voucher_id})
    claims = [{"claim_id": c.id, "payer": c.payer.name, "rank": c.rank, "status": c.status,
               "queued_at": iso(c.queued_at), "sent_at": iso(c.sent_at), "resend": c.resend}
              for c in Claim.select(Claim, Payer).join(Payer).where(Claim.encounter == enc.id).order_by(Claim.id)]
    referring = enc.referring_provider.name if enc.referring_provider_id else None
    return {"encounter_id": enc.id, "patient_id": patient.id, "patient": patient.name,
            "account_no": patient.account_no, "dos": iso(enc.dos), "provider": enc.provider.name,
            "claim_no": enc.claim_no, "place_of_service": enc.place_of_service, "frequency": enc.frequency,
            "diagnoses": [show_diagnosis(d) for d in enc.diagnosis_list()], "referring_provider": referring,
            "claim_type": enc.claim_type, "billable": enc.billable, "status": enc.status,
            "queue": enc.queue.key if enc.queue_id else None, "tags": enc.tag_list(),
            "payers": payers, "charges": charges, "balance_by_rank": by_rank,
            "balance": balances.encounter_balance(enc.id), "eobs": eobs, "claims": claims}


def encounter_header(encounter_id) -> dict:
    """The short facts about one encounter the Advanced Actions screen shows (via the action context):
    patient, date, type, flags, queue name, payer name by rank and open balance by rank."""
    ctx = ActionContext(lookup(encounter_id))
    enc = ctx.encounter
    queue = WorkQueue.get_or_none(WorkQueue.key == enc.queue) if enc.queue else None
    return {
        "encounter_id": enc.id, "patient_id": enc.patient_id, "patient": ctx.patient.name,
        "account_no": ctx.patient.account_no, "dos": enc.dos.isoformat(), "claim_type": enc.claim_type,
        "billable": enc.billable, "status": enc.status, "tags": list(enc.tags),
        "queue": queue.name if queue else None,
        "payers": {rank: slot.payer.name for rank, slot in ctx.slots.items()},
        "by_rank": ctx.balance_by_rank(),
    }


# --- work queues and the home screen -----------------------------------------------
def queue_counts() -> list[dict]:
    """Every work queue (key, name) with the number of active encounters waiting in it."""
    counts = dict(
        Encounter.select(Encounter.queue, fn.COUNT(Encounter.id))
        .where(Encounter.queue.is_null(False) & (Encounter.status == "active"))
        .group_by(Encounter.queue).tuples())
    return [{"key": q.key, "name": q.name, "count": int(counts.get(q.id, 0))}
            for q in WorkQueue.select().order_by(WorkQueue.id)]


def _queue_key(key) -> tuple[dt.date, int]:
    """A queue row's place in the queue order: (date of service, encounter id), a total order."""
    dos, enc_id = key
    return (dt.date.fromisoformat(dos) if isinstance(dos, str) else dos), int(enc_id)


def _after(key):
    dos, enc_id = _queue_key(key)
    return (Encounter.dos > dos) | ((Encounter.dos == dos) & (Encounter.id > enc_id))


def _before(key):
    dos, enc_id = _queue_key(key)
    return (Encounter.dos < dos) | ((Encounter.dos == dos) & (Encounter.id < enc_id))


def _encounter_balances(ids: list[int]) -> dict[int, int]:
    """Open balance (AR postings of its charges) of each encounter, in one grouped query."""
    if not ids:
        return {}
    rows = (Posting.select(Charge.encounter, fn.SUM(Posting.amount))
            .join(Charge, on=(Posting.charge == Charge.id))
            .where((Posting.account == "AR") & Charge.encounter.in_(ids))
            .group_by(Charge.encounter).tuples())
    return {enc_id: int(total or 0) for enc_id, total in rows}


def queue_encounters(queue_key: str, limit: int = 200, *, after: tuple | None = None,
                     before: tuple | None = None, at: tuple | None = None, last: bool = False) -> dict:
    """A page of the active encounters waiting in a queue, oldest service date first (then by
    encounter id), each with its open balance; ``total`` counts them all (an unknown key is an
    empty queue).

    By default the first ``limit`` rows. A page is chosen by a row's key ``(dos, encounter_id)``
    (``dos`` as ``YYYY-MM-DD`` or a date, as in the rows): ``after=key`` the ``limit`` rows right
    after it, ``at=key`` the rows from it on (itself included, if still queued), ``before=key``
    the ``limit`` rows right before it, ``last=True`` the last ``limit`` rows; rows always come
    in queue order. Paging by key reads the ``dos`` index from where the page starts, so a page
    deep in a 100,000-row queue costs what the first one does (no OFFSET).
    """
    queue = WorkQueue.get_or_none(WorkQueue.key == queue_key)
    if queue is None:
        return {"key": queue_key, "name": queue_key, "rows": [], "total": 0}
    base = Encounter.select().where((Encounter.queue == queue.id) & (Encounter.status == "active"))
    page = base.select(Encounter, Patient).join(Patient, on=(Encounter.patient == Patient.id))
    backwards = last or before is not None
    if after is not None:
        page = page.where(_after(after))
    if at is not None:
        page = page.where(~_before(at))
    if before is not None:
        page = page.where(_before(before))
    if backwards:
        page = page.order_by(Encounter.dos.desc(), Encounter.id.desc())
    else:
        page = page.order_by(Encounter.dos, Encounter.id)
    encs = list(page.limit(max(0, int(limit))))
    if backwards:
        encs.reverse()
    owed = _encounter_balances([enc.id for enc in encs])
    rows = [{"encounter_id": enc.id, "patient": enc.patient.name, "patient_id": enc.patient_id,
             "dos": enc.dos.isoformat(), "claim_type": enc.claim_type, "balance": owed.get(enc.id, 0)}
            for enc in encs]
    return {"key": queue.key, "name": queue.name, "rows": rows, "total": base.count()}


def desk_summary() -> dict:
    """Counts for the home screen's footer line: what waits for the desk, and nothing that grows
    with the clinic. The encounters in work queues and the open admin messages (the queue counts
    come from :func:`queue_counts`, read once for both). Counting every patient and encounter
    each time Home came back cost 40-80 ms on a 1M-charge clinic and 260 ms on a 5M one."""
    queues = queue_counts()
    return {"queues": queues, "queued": sum(q["count"] for q in queues),
            "open_messages": AdminMessage.select().where(AdminMessage.status == "open").count()}


# --- audit ----------------------------------------------------------------------
AUDIT_KEYS = ("audit_id", "at", "user", "action", "encounter_id", "patient_id", "entries", "reason",
              "inputs", "result")


def audit_events(encounter_id=None, user: str | None = None, action: str | None = None,
                 limit: int = 50) -> list[dict]:
    """Audit events newest first (who, when, what, why, inputs, journal entries, result), at most
    ``limit``: all, or one user's, or those with ``action`` in their key, or those about one
    encounter (naming it, or whose journal entries posted to its charges: a credit, a returned
    check or a batch names no encounter)."""
    limit = max(1, min(int(limit), 1_000_000))
    q = AuditEvent.select()
    if encounter_id is not None:
        ids = audit_ids_for_encounter(lookup(encounter_id).id, user=user or None, limit=limit)
        q = q.where(AuditEvent.id.in_(ids))
    elif user:
        q = q.where(AuditEvent.user == user)
    if action:
        q = q.where(AuditEvent.action.contains(action))
    return [dict(zip(AUDIT_KEYS, (ev.id, iso(ev.at), ev.user, ev.action, ev.encounter_id, ev.patient_id,
                                  ev.entries, ev.reason, ev.inputs,
                                  workflow.with_money(ev.result) if isinstance(ev.result, dict) else ev.result)))
            for ev in q.order_by(AuditEvent.id.desc()).limit(limit)]


# --- plugins --------------------------------------------------------------------
def plugins_report(host=None) -> dict:
    """The plugin API version this claimdesk provides; every plugin (name, distribution, version,
    the API it declares, hooks, what it contributed); the failures with their errors (a plugin
    needing a newer API is one, stage ``version``), the built-ins a plugin replaces (the clinic's
    ``[plugins] replace``: said apart, loudly) and the plugins disabled in the config; ``host``
    defaults to the loaded one."""
    host = host or get_host()
    contributed: dict[str, list[str]] = {}
    kinds = (("claimdesk_advanced_actions", host.actions(), "key", "action"),
             ("claimdesk_payment_methods", host.payment_methods(), "key", "payment method"),
             ("claimdesk_fee_policies", host.fee_policies(), "key", "fee policy"),
             ("claimdesk_writeoff_reasons", host.writeoff_reasons(), "code", "write-off reason"),
             ("claimdesk_denial_routes", host.denial_routes(), "code", "denial route"))
    for hook, records, attr, label in kinds:
        for rec in records:
            owner = host.owner(hook, getattr(rec, attr)) or "?"
            contributed.setdefault(owner, []).append(f"{label} {getattr(rec, attr)}")
    return {
        "api_version": API_VERSION,
        "plugins": [{"name": p.name, "module": p.module, "distribution": p.distribution, "version": p.version,
                     "builtin": p.builtin, "api": p.api, "hooks": list(p.hooks),
                     "contributes": contributed.get(p.name, [])}
                    for p in host.plugins],
        "failures": [{"name": f.name, "stage": f.stage, "error": f.error} for f in host.failures
                     if f.stage != REPLACES],
        "replaced": [{"name": f.name, "error": f.error} for f in host.failures if f.stage == REPLACES],
        "skipped": list(host.skipped),
    }


def menu_facts() -> dict:
    """What the plugin host offers, for the home menus and the command palette: actions,
    payment methods, fee policies, and how many plugins loaded and failed."""
    host = get_host()
    return {
        "actions": [{"key": a.key, "title": a.title} for a in host.actions()],
        "methods": [{"key": m.key, "label": m.label} for m in host.payment_methods()],
        "fee_policies": [{"key": f.key, "label": f.label} for f in host.fee_policies()],
        "plugins": len(host.plugins),
        "failures": sum(1 for f in host.failures if f.stage != REPLACES),
        "replaced": sum(1 for f in host.failures if f.stage == REPLACES),
    }
