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
    patient = peewee.ForeignKeyField(Patient, null=True, index=False)  # (patient, account) below
    payer = peewee.ForeignKeyField(Payer, null=True, index=True)
    voucher = peewee.ForeignKeyField(Voucher, null=True, index=False)  # partial indexes below
    credit = peewee.ForeignKeyField(Credit, null=True, index=False)
    credit_split = peewee.ForeignKeyField(CreditSplit, null=True, index=False)
    provider = peewee.ForeignKeyField(Provider, null=True, index=False)
    reason_code = peewee.CharField(default="")

    class Meta:
        # a patient's ledger, and their balance by account (AR, UNAPPLIED), read one index
        indexes = ((("patient", "account"), False),)


# Most postings have no voucher, credit, credit split or provider (a charge, an adjustment, a
# transfer): their indexes hold only the postings that do, so every other posting written
# (millions of them) skips four index updates. A lookup by ``col = ?`` uses them on both engines.
PARTIAL_POSTING_INDEXES = ("voucher", "credit", "credit_split", "provider")
for _name in PARTIAL_POSTING_INDEXES:
    _field = Posting._meta.fields[_name]
    Posting.add_index(Posting.index(_field, name=f"posting_{_field.column_name}_set",
                                    where=_field.is_null(False)))
del _name, _field
