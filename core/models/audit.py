"""Audit events (append-only, hash-chained) and which journal entries each made; schema
version; aging snapshots."""

from __future__ import annotations

import peewee

from claimdesk.core import db
from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import Encounter
from claimdesk.core.models.ledger import JournalEntry
from claimdesk.core.models.parties import Patient, Payer


class AuditEvent(BaseModel):
    """Who did what, when, why, with which inputs, and the entries it made.

    ``hash`` chains the event to the one before (``prev_hash``). ``hash_version`` says
    what it covers: 1 (events written before schema v3) the who/what/when, inputs and
    entry ids; 2 every column below but ``client``, including ``postings_digest``, a sha256
    of what the event's entries posted (see :func:`claimdesk.core.workflow.postings_digest`);
    3 (schema v10) every column, ``client`` too: the address of the SSH client the user
    worked from ("" on the console). ``user`` is the authenticated identity (the OS login;
    on PostgreSQL the connection's role).
    """

    at = peewee.DateTimeField(index=True)
    user = peewee.CharField(index=True)
    action = peewee.CharField(index=True)
    encounter = peewee.ForeignKeyField(Encounter, null=True, index=True)
    patient = peewee.ForeignKeyField(Patient, null=True, index=True)
    inputs = JSONField(default=dict)
    entries = JSONField(default=list)
    result = JSONField(default=dict)
    reason = peewee.CharField(default="")
    idempotency_key = peewee.CharField(null=True, unique=True)
    payload_hash = peewee.CharField(default="")
    prev_hash = peewee.CharField(default="")
    hash = peewee.CharField(default="")
    hash_version = peewee.IntegerField(default=1, constraints=[peewee.SQL("DEFAULT 1")])  # schema v3
    postings_digest = peewee.CharField(null=True)  # schema v3; None on hash_version 1
    client = peewee.CharField(default="", constraints=[peewee.SQL("DEFAULT ''")])  # schema v10: the SSH client


class AuditEntry(BaseModel):
    """The audit event that made a journal entry: one row per entry (schema v3).

    The same facts as the events' hashed ``entries`` lists, indexed both ways: an entry
    belongs to at most one event (unique), and ``claimdesk verify`` checks that every
    entry has one and that these rows agree with the lists. Append-only by trigger.
    Not in ``ALL_MODELS``: migration v3 creates it.
    """

    audit = peewee.ForeignKeyField(AuditEvent, index=True)
    entry = peewee.ForeignKeyField(JournalEntry, unique=True)

    class Meta:
        table_name = "audit_entry"


def audit_ids_for_encounter(encounter_id: int, *, user: str | None = None, limit: int = 50) -> list[int]:
    """Ids (newest first, at most ``limit``) of the audit events about an encounter: those that
    name it, and those whose journal entries posted to its charges (a credit, a returned check or
    a batch names no encounter). Index walks only: charge by encounter, posting by charge, the
    entry's link to its event."""
    by_user = ' AND a."user" = {p}' if user else ""
    params = [encounter_id, *([user] if user else []), encounter_id, *([user] if user else [])]
    rows = db.sql(
        "SELECT a.id FROM audit_event a WHERE a.encounter_id = {p}" + by_user
        + " UNION SELECT a.id FROM audit_entry ae JOIN audit_event a ON a.id = ae.audit_id"
          " WHERE ae.entry_id IN (SELECT p.entry_id FROM posting p JOIN charge c ON c.id = p.charge_id"
          " WHERE c.encounter_id = {p})" + by_user
        + f" ORDER BY 1 DESC LIMIT {int(limit)}", params)
    return [r[0] for r in rows]


class SchemaVersion(BaseModel):
    """One row: the schema version this database is at."""

    version = peewee.IntegerField()
    upgraded_at = peewee.DateTimeField()


class AgingRow(BaseModel):
    """The aging snapshot: open balance per patient and payer bucketed by age."""

    as_of = peewee.DateField(index=True)
    patient = peewee.ForeignKeyField(Patient, index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    current = CentsField(default=0)
    days_31_60 = CentsField(default=0)
    days_61_90 = CentsField(default=0)
    days_91_120 = CentsField(default=0)
    over_120 = CentsField(default=0)
    total = CentsField(default=0)
