"""Run one workflow: one transaction, one audit event, then tell the plugins.

Every service that changes data goes through :func:`run`. It opens the write
transaction (retrying lock conflicts), collects the journal entries posted, writes
a hash-chained :class:`~claimdesk.core.models.AuditEvent` with who, when, what,
why and the validated inputs, and honours idempotency keys: a retried submit
returns the first result, a replay with a different payload is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any, Callable

from claimdesk.core import clock, db, ledger, users
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import AuditEvent
from claimdesk.core.plugins.records import AppliedEvent

_PG_AUDIT_LOCK = 7_340_001


def jsonable(value: Any) -> Any:
    """Validated inputs made JSON-safe for the audit trail (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def event_hash(prev_hash: str, fields: dict) -> str:
    """The chain hash of an audit event: sha256(prev hash + canonical fields)."""
    return hashlib.sha256((prev_hash + _canonical(fields)).encode()).hexdigest()


def hashed_fields(ev: AuditEvent) -> dict:
    """The audit fields the chain hash covers."""
    return {
        "at": ev.at.isoformat(sep=" ") if hasattr(ev.at, "isoformat") else str(ev.at),
        "user": ev.user, "action": ev.action,
        "encounter": ev.encounter_id, "patient": ev.patient_id,
        "inputs": ev.inputs, "entries": ev.entries, "reason": ev.reason,
    }


def run(action: str, fn: Callable[[], dict], *, inputs: dict | None = None,
        encounter_id: int | None = None, patient_id: int | None = None, reason: str = "",
        idempotency_key: str | None = None, notify: bool = True) -> dict:
    """Run ``fn`` as one audited, atomic workflow and return its result dict.

    The result gains ``audit_id`` and ``entries`` (journal entry ids posted).
    """
    inputs = jsonable(inputs or {})
    user = current_user()
    payload_hash = hashlib.sha256(_canonical({"action": action, "inputs": inputs,
                                              "encounter": encounter_id}).encode()).hexdigest()

    def body() -> tuple[dict, AuditEvent, bool]:
        users.require_writer()
        if idempotency_key:
            prior = AuditEvent.get_or_none(AuditEvent.idempotency_key == idempotency_key)
            if prior is not None:
                if prior.payload_hash != payload_hash:
                    raise Refused("this submit key was already used for different input; nothing was written",
                                  field="idempotency_key")
                return dict(prior.result), prior, False
        with ledger.collect_entries() as entry_ids:
            result = fn() or {}
        if db.is_postgres():
            db.database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_AUDIT_LOCK,))
        last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
        ev = AuditEvent(
            at=clock.now(), user=user, action=action, encounter=encounter_id,
            patient=patient_id or result.get("patient_id"), inputs=inputs,
            entries=list(entry_ids), reason=reason[:250], idempotency_key=idempotency_key,
            payload_hash=payload_hash, prev_hash=last.hash if last else "",
        )
        result = {**result, "entries": list(entry_ids)}
        ev.result = result
        ev.hash = event_hash(ev.prev_hash, hashed_fields(ev))
        ev.save()
        result["audit_id"] = ev.id
        return result, ev, True

    result, ev, fresh = db.run_in_transaction(body)
    result.setdefault("audit_id", ev.id)
    if fresh and notify and db.database.obj.transaction_depth() == 0:
        from claimdesk.core.plugins.host import get_host

        get_host().notify_applied(AppliedEvent(
            action=action, user=user, encounter_id=encounter_id, patient_id=ev.patient_id,
            entry_ids=tuple(result.get("entries", ())), audit_id=ev.id, result=result))
    return result
