"""Payment plans (schema v11): a patient's balance paid in instalments.

A plan is a document: what it covers (its charges, the balance at the start), how much per
instalment, how often, from when. What was paid on it is read from the ledger (the payments
applied to its charges since it was made), so the schedule, what is due now and what was
missed are derived, never stored (docs/payment-plans.md).

Not in ``ALL_MODELS``: migration v11 creates it.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.parties import Patient

FREQUENCIES = ("weekly", "biweekly", "monthly")
PLAN_STATUSES = ("active", "completed", "cancelled")


class PaymentPlan(BaseModel):
    """A patient's plan: ``amount`` cents per instalment, every ``frequency`` from ``start_on``,
    for ``balance`` cents owed on ``charges`` (ids, oldest first) when it was made."""

    patient = peewee.ForeignKeyField(Patient, backref="payment_plans", index=True)
    amount = CentsField()
    frequency = peewee.CharField()
    start_on = peewee.DateField()
    balance = CentsField()
    charges = JSONField(default=list)
    status = peewee.CharField(default="active", index=True)
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()
    missed_on = peewee.DateField(null=True)  # the due date of the instalment missed (on the queue)
    ended_at = peewee.DateTimeField(null=True)
    ended_by = peewee.CharField(default="")
    end_reason = peewee.CharField(default="")

    class Meta:
        table_name = "payment_plan"
