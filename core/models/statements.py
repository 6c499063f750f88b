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
    """A figure printed on a statement (``kind``; amounts signed as they add up to the amount due).

    - ``charge``: a service with a patient balance (encounter and charge set; amount = what the
      patient still owes on it; description = code and name);
    - per charge (charge set, encounter not): ``billed`` (the fee; description = the provider),
      ``insurance`` (paid by insurers), ``adjustment`` (contractual, write-offs), ``pending``
      (still with an insurer), each negative; the patient's portion is their sum;
    - ``payment``: the patient's own payment on these charges (negative);
    - ``credit``: the credit on account set against them (negative);
    - ``forward`` (the previous statement's amount due, dated as it), ``received`` (the patient's
      payments since, negative) and ``changes`` (the rest): the account summary;
    - ``aging``: what is due by age bucket; ``due``: the amount due, dated the due date.

    Statements made before the per-charge figures were kept have only ``charge``, ``payment``
    (then every payment received since the previous statement) and ``aging`` lines.
    """

    statement = peewee.ForeignKeyField(Statement, backref="lines", index=True)
    encounter = peewee.ForeignKeyField(Encounter, null=True, index=True)
    charge = peewee.ForeignKeyField(Charge, null=True)
    line_date = peewee.DateField()
    description = peewee.CharField()
    amount = CentsField()
    kind = peewee.CharField(default="charge")  # see the docstring
