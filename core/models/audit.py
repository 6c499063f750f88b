"""Audit events (append-only, hash-chained), schema version, aging snapshots."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import Encounter
from claimdesk.core.models.parties import Patient, Payer


class AuditEvent(BaseModel):
    """Who did what, when, why, with which inputs, and the entries it made."""

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
