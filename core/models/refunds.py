"""Money given back (schema v11): refunds of a patient's unapplied money or a payer's
overpayment, and payer overpayments recorded to be recouped from a later check.

A refund is a document; the ledger holds its money (docs/ledger.md, "Refunds"): the request
entry moves the money out of the account that held it into ``REFUNDS_PAYABLE``, the issue
entry pays it out of ``CASH`` (a recoupment's match entry instead carries it to the payer's
later check, ``PAYER_LEVEL``). ``verify`` holds each row to its entries.

Not in ``ALL_MODELS``: migration v11 creates it.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import Encounter
from claimdesk.core.models.ledger import JournalEntry
from claimdesk.core.models.parties import Patient, Payer
from claimdesk.core.models.payments import Voucher

#: What a row is: money paid back, or an overpayment the payer takes from a later check.
KINDS = ("refund", "recoupment")
#: Where a refund stands.
#: ``awaiting_approval``: above the supervisor limit, its money held in REFUNDS_PAYABLE;
#: ``issued``: paid out (CASH); ``awaiting_recoupment``: held until the payer's later check
#: takes it back (835 PLB WO); ``recouped``: matched with that check; ``reversed``: undone.
STATUSES = ("awaiting_approval", "issued", "awaiting_recoupment", "recouped", "reversed")
#: Who the money goes back to.
PAYEES = ("patient", "payer")


class Refund(BaseModel):
    """One refund (or recoupment) of ``amount`` cents to a patient or a payer, with its reason,
    reference, refund method (a plugin) and the journal entries that moved its money."""

    kind = peewee.CharField(default="refund")
    status = peewee.CharField(index=True)
    payee = peewee.CharField()  # patient | payer
    patient = peewee.ForeignKeyField(Patient, null=True, index=True)
    payer = peewee.ForeignKeyField(Payer, null=True, index=True)
    encounter = peewee.ForeignKeyField(Encounter, null=True)
    amount = CentsField()
    method = peewee.CharField(default="")
    details = JSONField(default=dict)
    reference = peewee.CharField(default="")
    reason = peewee.CharField()
    claim_ref = peewee.CharField(default="")  # a recoupment: the claim the payer will name (PLB WO)
    requested_at = peewee.DateTimeField()
    requested_by = peewee.CharField()
    approved_at = peewee.DateTimeField(null=True)
    approved_by = peewee.CharField(default="")
    issued_on = peewee.DateField(null=True)
    request_entry = peewee.ForeignKeyField(JournalEntry, null=True)
    settle_entry = peewee.ForeignKeyField(JournalEntry, null=True)  # the issue (or recoupment match) entry
    recouped_by = peewee.ForeignKeyField(Voucher, null=True)  # the later check that took it back
    reversed_at = peewee.DateTimeField(null=True)
    reversed_by = peewee.CharField(default="")
    reverse_reason = peewee.CharField(default="")

    class Meta:
        table_name = "refund"
