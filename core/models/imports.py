"""What was imported from the clinic's own 837P claim files (schema v8): each file once, by the
sha256 of its bytes, and each claim once, by its claim number (CLM01).

Not in ``ALL_MODELS``: migration v8 creates them.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.audit import AuditEvent
from claimdesk.core.models.base import BaseModel
from claimdesk.core.models.claims import Encounter


class ReceivedFile(BaseModel):
    """What every imported X12 file records (no table of its own): its digest (unique), the name
    it was given, what its envelope says (ISA06 sender, ISA13 control number, ISA09 date), who
    imported it, when."""

    digest = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    sender_id = peewee.CharField(default="")
    control_number = peewee.CharField(default="")
    file_date = peewee.DateField()
    imported_at = peewee.DateTimeField()
    imported_by = peewee.CharField()


class ImportedFile(ReceivedFile):
    """An 837P file claims were imported from (see :class:`ReceivedFile`)."""

    class Meta:
        table_name = "imported_file"


class ImportedClaim(BaseModel):
    """A claim imported from a file: its claim number (unique: a claim is imported once, from one
    file), the encounter it became, and the audit event of its import."""

    file = peewee.ForeignKeyField(ImportedFile, backref="claims", index=True)
    claim_no = peewee.CharField(unique=True)
    encounter = peewee.ForeignKeyField(Encounter, unique=True)
    audit = peewee.ForeignKeyField(AuditEvent)
    claim_line = peewee.IntegerField(default=0)  # where the CLM stands in the file

    class Meta:
        table_name = "imported_claim"
