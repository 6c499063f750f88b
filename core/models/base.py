"""Base model bound to the one database proxy, and the field types money needs."""

from __future__ import annotations

import json

import peewee

from claimdesk.core.db import database


class BaseModel(peewee.Model):
    """Every claimdesk table; bound to :data:`claimdesk.core.db.database`."""

    class Meta:
        database = database
        legacy_table_names = False

    @classmethod
    def get_by_id(cls, pk):
        """The row with primary key ``pk`` (its SQL built once: :mod:`claimdesk.core.prepared`);
        ``DoesNotExist`` when there is none, as peewee's."""
        from claimdesk.core.prepared import by_id

        row = by_id(cls, pk)
        if row is None:
            raise cls.DoesNotExist(f"{cls.__name__} instance matching query does not exist: id {pk!r}")
        return row


class CentsField(peewee.BigIntegerField):
    """Money in integer cents (never REAL/DECIMAL: SQLite would store floats)."""


class JSONField(peewee.TextField):
    """JSON stored as text, the same on SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, default=str)

    def python_value(self, value):
        return None if value is None else json.loads(value)
