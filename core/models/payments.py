"""Money coming in: vouchers (payer checks), credits drawn from them, their splits,
and adjustments/write-offs. Amounts here are documents; the ledger holds the truth.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import Charge, ChargeSplit
from claimdesk.core.models.parties import Patient, Payer


class Voucher(BaseModel):
    """A payment instrument from one payer (check, EFT, card, cash...).

    ``undistributed`` caches what is not yet drawn by credits (the payer's money).
    """

    payer = peewee.ForeignKeyField(Payer, backref="vouchers", index=True)
    method = peewee.CharField()
    reference = peewee.CharField(default="")
    received_on = peewee.DateField()
    amount = CentsField()
    undistributed = CentsField(default=0)
    details = JSONField(default=dict)
    status = peewee.CharField(default="active", index=True)  # active | returned
    returned_on = peewee.DateField(null=True)
    return_reason = peewee.CharField(default="")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()


class Credit(BaseModel):
    """Money drawn from a voucher onto one patient account.

    ``unapplied`` caches what is drawn but not applied to charges: the patient's.
    """

    patient = peewee.ForeignKeyField(Patient, backref="credits", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    voucher = peewee.ForeignKeyField(Voucher, backref="credits", index=True)
    method = peewee.CharField()
    keep_unapplied = peewee.BooleanField(default=False)
    unapplied = CentsField(default=0)
    posted_on = peewee.DateField()
    memo = peewee.CharField(default="")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()


class CreditSplit(BaseModel):
    """One application of a credit to one charge split (amount from the ledger)."""

    credit = peewee.ForeignKeyField(Credit, backref="splits", index=True)
    charge = peewee.ForeignKeyField(Charge, index=True)
    split = peewee.ForeignKeyField(ChargeSplit, index=True)
    created_at = peewee.DateTimeField()


class Adjustment(BaseModel):
    """An adjustment or write-off of a charge split, with its reason."""

    charge = peewee.ForeignKeyField(Charge, index=True)
    split = peewee.ForeignKeyField(ChargeSplit, index=True)
    kind = peewee.CharField()  # contractual | writeoff | negotiated | bad_debt | ...
    reason_code = peewee.CharField(default="")
    group_code = peewee.CharField(default="")
    amount = CentsField()
    memo = peewee.CharField(default="")
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()
