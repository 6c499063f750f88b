"""Claim files sent out (schema v10): each 837P written for a claim batch, with its interchange
control number, and the counter those numbers come from (unique and increasing per clinic).

Not in ``ALL_MODELS``: migration v10 creates them.
"""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel
from claimdesk.core.models.claims import ClaimBatch


class ClaimFile(BaseModel):
    """One 837P file written for a batch: where it went, its ISA13/GS06 ``control_number``, how
    many claims it holds and its charges in cents, who wrote it and when. A batch written again
    (``claims export --batch``) gets a new file and a new number; both stay on record."""

    batch = peewee.ForeignKeyField(ClaimBatch, backref="files", index=True)
    path = peewee.CharField()
    control_number = peewee.IntegerField(unique=True)
    claims = peewee.IntegerField()
    total = peewee.BigIntegerField()
    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()

    class Meta:
        table_name = "claim_file"


class ControlCounter(BaseModel):
    """The last number given out for a kind of X12 control number (``interchange``: ISA13 and
    GS06 of the clinic's outgoing files). Taken with one UPDATE, so two clerks exporting at once
    never get the same number."""

    name = peewee.CharField(primary_key=True)
    last = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "x12_control"
