"""The ledger: journal entries and their postings. Append-only by trigger.

Postings carry the dimensions balances are derived from (split, charge,
patient, payer, voucher, credit, provider); see docs/ledger.md for the chart of
accounts and the sign convention (debit positive, credit negative).
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField
from claimdesk.core.models.claims import Charge, ChargeSplit, Encounter
from claimdesk.core.models.parties import Patient, Payer, Provider
from claimdesk.core.models.payments import Credit, CreditSplit, Voucher
from claimdesk.core.models.work import Daysheet


class JournalEntry(BaseModel):
    """One balanced business event; ``reverses`` links a correction to its original."""

    posted_at = peewee.DateTimeField(index=True)
    posted_on = peewee.DateField(index=True)
    daysheet = peewee.ForeignKeyField(Daysheet, index=True)
    kind = peewee.CharField()
    memo = peewee.CharField(default="")
    created_by = peewee.CharField()
    reverses = peewee.ForeignKeyField("self", null=True, unique=True, backref="reversed_by")
    encounter = peewee.ForeignKeyField(Encounter, null=True, index=True)
    patient = peewee.ForeignKeyField(Patient, null=True, index=True)


class Posting(BaseModel):
    """One line of an entry: an account, a signed amount in cents, its dimensions."""

    entry = peewee.ForeignKeyField(JournalEntry, backref="postings", index=True)
    account = peewee.CharField()
    amount = CentsField()
    split = peewee.ForeignKeyField(ChargeSplit, null=True, index=True)
    charge = peewee.ForeignKeyField(Charge, null=True, index=True)
    patient = peewee.ForeignKeyField(Patient, null=True, index=True)
    payer = peewee.ForeignKeyField(Payer, null=True, index=True)
    voucher = peewee.ForeignKeyField(Voucher, null=True, index=True)
    credit = peewee.ForeignKeyField(Credit, null=True, index=True)
    credit_split = peewee.ForeignKeyField(CreditSplit, null=True, index=True)
    provider = peewee.ForeignKeyField(Provider, null=True, index=True)
    reason_code = peewee.CharField(default="")

    class Meta:
        indexes = ((("account", "patient"), False),)
