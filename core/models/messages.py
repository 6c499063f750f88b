"""Admin messages: "None of the options above" questions tied to an encounter."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel
from claimdesk.core.models.claims import Encounter

MESSAGE_STATUSES = ("open", "answered", "closed")


class AdminMessage(BaseModel):
    """A clerk's question to the administrator, with its answer and status."""

    encounter = peewee.ForeignKeyField(Encounter, backref="messages", index=True)
    subject = peewee.CharField(default="")
    body = peewee.TextField()
    author = peewee.CharField()
    created_at = peewee.DateTimeField()
    status = peewee.CharField(default="open", index=True)
    answer = peewee.TextField(default="")
    answered_by = peewee.CharField(null=True)
    answered_at = peewee.DateTimeField(null=True)
    read = peewee.BooleanField(default=False)
