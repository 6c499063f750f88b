"""What was posted from payers' 835 remittance files (schema v9): each file once (by the
sha256 of its bytes), each payment once (payer + TRN02 trace number + amount), and every
claim of a payment with what became of it: posted as an EOB, reversed, informational, or
an exception waiting for a clerk with its reason.

Not in ``ALL_MODELS``: migration v9 creates them.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.audit import AuditEvent
from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import Encounter, Eob
from claimdesk.core.models.imports import ReceivedFile
from claimdesk.core.models.parties import Payer
from claimdesk.core.models.payments import Voucher

#: What became of a remittance claim.
OUTCOMES = ("posted", "informational", "exception", "resolved")


class RemitFile(ReceivedFile):
    """An 835 file payments were posted from (see :class:`ReceivedFile`)."""

    class Meta:
        table_name = "era_file"


class RemitPayment(BaseModel):
    """One 835 payment (ST..SE): the payer, TRN02 trace number and BPR02 amount (unique together:
    a payment posts once), BPR04 method, BPR16 date, the voucher it became, its audit event and
    its PLB provider-level adjustments (``[{"reason", "reference", "amount"}]``, cents)."""

    file = peewee.ForeignKeyField(RemitFile, backref="payments", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    trace_number = peewee.CharField()
    amount = CentsField()
    method = peewee.CharField()
    paid_on = peewee.DateField()
    control_number = peewee.CharField(default="")
    voucher = peewee.ForeignKeyField(Voucher, null=True, index=True)
    audit = peewee.ForeignKeyField(AuditEvent, null=True)
    provider_adjustments = JSONField(default=list)

    class Meta:
        table_name = "era_payment"
        indexes = ((("payer", "trace_number", "amount"), True),)


class RemitClaim(BaseModel):
    """One claim (CLP) of a payment: CLP01 claim number, CLP07 the payer's claim number, CLP02
    status, CLP03 charge, CLP04 paid; the encounter it matched (None when unmatched), the EOB it
    posted as (or, for a reversal, the EOB it took back: ``reverses``); ``outcome`` (see
    :data:`OUTCOMES`) with the ``reason`` of an exception or the denial's codes; the remark
    codes (MOA, LQ) the payer sent; where it stands in the file; for an
    exception the claim itself (``claim``, to retry) and, once a clerk dealt with it, who, when
    and how (``resolution``)."""

    payment = peewee.ForeignKeyField(RemitPayment, backref="claims", index=True)
    claim_no = peewee.CharField(index=True)
    payer_claim_no = peewee.CharField(default="")
    status = peewee.CharField()
    charge = CentsField()
    paid = CentsField()
    encounter = peewee.ForeignKeyField(Encounter, null=True, index=True)
    eob = peewee.ForeignKeyField(Eob, null=True, index=True)
    reverses = peewee.ForeignKeyField(Eob, null=True, unique=True, backref="+")
    outcome = peewee.CharField(index=True)
    reason = peewee.TextField(default="")
    remarks = peewee.CharField(default="")  # MOA and LQ remark codes (RARC), comma separated
    line = peewee.IntegerField(default=0)
    claim = JSONField(null=True)
    resolved_at = peewee.DateTimeField(null=True)
    resolved_by = peewee.CharField(default="")
    resolution = peewee.TextField(default="")

    class Meta:
        table_name = "era_claim"
