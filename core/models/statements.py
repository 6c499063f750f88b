"""Patient statements and their lines; regenerating voids the old one."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField
from claimdesk.core.models.claims import Charge, Encounter
from claimdesk.core.models.parties import Patient


class Statement(BaseModel):
    """A patient's bill for patient-responsibility balances."""

    patient = peewee.ForeignKeyField(Patient, backref="statements", index=True)
    generated_on = peewee.DateField()
    generated_at = peewee.DateTimeField()
    generated_by = peewee.CharField()
    status = peewee.CharField(default="active", index=True)  # active | void
    amount_due = CentsField(default=0)
    message = peewee.CharField(default="")
    final_notice = peewee.BooleanField(default=False)
    voided_at = peewee.DateTimeField(null=True)
    void_reason = peewee.CharField(default="")


class StatementLine(BaseModel):
    """A line of a statement: a charge's patient balance or a payment received."""

    statement = peewee.ForeignKeyField(Statement, backref="lines", index=True)
    encounter = peewee.ForeignKeyField(Encounter, null=True, index=True)
    charge = peewee.ForeignKeyField(Charge, null=True)
    line_date = peewee.DateField()
    description = peewee.CharField()
    amount = CentsField()
    kind = peewee.CharField(default="charge")  # charge | payment | aging
