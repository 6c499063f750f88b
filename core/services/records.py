"""Adding and editing a record (a patient, a coverage, a payer, a provider, a service code):
the one shape every such workflow has, so each of them states only its fields and rules.

A :class:`RecordKind` names the model, the role the work needs, the marshmallow schema of its
fields (the same names as the model's fields or columns: ``payer_id``), the rules that check
a record's full values (``check(values, record)``: returns what to store, raises naming the
field) and how the record is shown. :func:`add` and :func:`edit` validate, then run one
audited workflow (:func:`claimdesk.core.workflow.run`): a refusal writes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable

from marshmallow import Schema

from claimdesk.core import workflow
from claimdesk.core.errors import InputError
from claimdesk.core.services.common import get
from claimdesk.core.users import require_role
from claimdesk.core.validation import load, parse_id


@dataclasses.dataclass(frozen=True)
class RecordKind:
    """What :func:`add` and :func:`edit` need to know about one kind of record; ``kind.add`` and
    ``kind.edit`` are those workflows for it (a service module names them: ``add_payer = PAYER.add``)."""

    model: type
    what: str                                   # "patient": in messages and action names
    role: str                                   # the least role that may add or edit one
    schema: type[Schema]
    check: Callable[[dict, Any], dict]          # (all values, the record or None) -> the values to store
    shown: Callable[[Any], dict] | None = None  # the record as plain data (default: its id and the schema's fields)
    work: str = ""                              # what the role refusal calls the work ("registering patients")

    @property
    def id_field(self) -> str:
        return f"{self.what.replace(' ', '_')}_id"

    def show(self, record) -> dict:
        """The record as plain data: ``shown(record)``, else :meth:`show_fields`."""
        return self.shown(record) if self.shown is not None else self.show_fields(record)

    def show_fields(self, record) -> dict:
        """The record's id and every field of the schema it has (dates as ISO text)."""
        return {self.id_field: record.id, **{name: _plain(getattr(record, name))
                                             for name in self.schema._declared_fields if hasattr(record, name)}}

    def add(self, data: dict, *, idempotency_key: str | None = None) -> dict:
        """Workflow: validate ``data`` and add one record; the record as data."""
        return add(self, data, idempotency_key=idempotency_key)

    def edit(self, record_id, data: dict, *, idempotency_key: str | None = None) -> dict:
        """Workflow: change the fields given in ``data`` of one record; the record as data with ``changed``."""
        return edit(self, record_id, data, idempotency_key=idempotency_key)


def add(kind: RecordKind, data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: validate ``data`` and add one record (``<what>.add``); the record as data. A submit
    retried with the same ``idempotency_key`` adds nothing and gets the first result."""
    clean = load(kind.schema, data)

    def body():
        require_role(kind.role, kind.work or f"adding a {kind.what}")
        record = kind.model.create(**kind.check(dict(clean), None))
        return {**kind.show(kind.model.get_by_id(record.id)), "created": True}

    return workflow.run(f"{_action(kind)}.add", body, inputs=clean, idempotency_key=idempotency_key,
                        typed_money=True)


def edit(kind: RecordKind, record_id, data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow: change the fields given in ``data`` of one record (``<what>.edit``); the record as
    data with ``changed`` (field -> [before, after]). Its rules are checked on the whole record."""
    ident = parse_id(record_id, kind.id_field)
    changes = load(kind.schema(partial=True), data)
    if not changes:
        raise InputError({"_schema": [f"give at least one field of the {kind.what} to change"]})

    def body():
        require_role(kind.role, kind.work or f"editing a {kind.what}")
        record = get(kind.model, ident, kind.what, field=kind.id_field, for_update=True)
        before = {name: getattr(record, name) for name in kind.schema._declared_fields if hasattr(record, name)}
        values = kind.check({**before, **changes}, record)
        changed = {k: [_plain(before.get(k)), _plain(v)] for k, v in values.items() if before.get(k) != v}
        if changed:
            kind.model.update(**{k: values[k] for k in changed}).where(kind.model.id == ident).execute()
        return {**kind.show(kind.model.get_by_id(ident)), "changed": changed}

    return workflow.run(f"{_action(kind)}.edit", body, inputs={kind.id_field: ident, **changes},
                        idempotency_key=idempotency_key, typed_money=True)


def _action(kind: RecordKind) -> str:
    return kind.what.replace(" ", "_")


def _plain(value):
    """A value as the audit trail and ``--json`` show it."""
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
