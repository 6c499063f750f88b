"""Where work waits: queues, admin messages, daysheets."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel


class WorkQueue(BaseModel):
    """A named list of encounters waiting for a person (Denied, Admin, ...)."""

    key = peewee.CharField(unique=True)
    name = peewee.CharField()


class Daysheet(BaseModel):
    """The day's batch of entries; closed daysheets take no new entries."""

    day = peewee.DateField(unique=True)
    status = peewee.CharField(default="open")  # open | closed
    closed_at = peewee.DateTimeField(null=True)
    closed_by = peewee.CharField(null=True)
