"""Queries whose SQL is built once per kind of database, then run with fresh arguments.

Building a query's SQL is the ORM's dearest step: for the small reads a clerk's workflow
makes by the dozen (an encounter by id, its charges, its splits, a user's role) peewee
spent more time writing the SQL than the database spent running it (about 60% of a
lookup's time). A :class:`Prepared` query is written with the ORM as usual, its arguments
standing in as :class:`Arg` placeholders; the first call on a SQLite or PostgreSQL
database builds the SQL, every later call only converts the arguments (with the same
field converters peewee would have used) and runs it. Rows come back exactly as the
ORM query would give them (model instances, tuples or dicts): the first call's row reader
(which of the result's columns goes to which model and field, through which converter:
peewee works it out from the cursor's description at every query, a tenth of a clerk's
CPU) is kept and handed to every later call, as the SQL is.

Only the *arguments* vary: a query whose shape depends on them (an ``IN`` list of any
length, an optional condition) is not a prepared query.
"""

from __future__ import annotations

import inspect
from typing import Callable

import peewee

from claimdesk.core import db


class _Slot:
    """Where argument ``i`` goes among the built query's parameters, with its converter."""

    __slots__ = ("i", "convert")

    def __init__(self, i: int, convert):
        self.i, self.convert = i, convert


class Arg(peewee.Node):
    """Argument ``i`` of a prepared query, in place of a value (``Encounter.id == Arg(0)``)."""

    def __init__(self, i: int):
        super().__init__()
        self.i = i

    def __sql__(self, ctx):
        # the converter in force here is the one peewee would apply to a value in this place
        # (the field's db_value on the left of a comparison): kept to apply at each call
        return ctx.value(_Slot(self.i, ctx.state.converter), converter=False)


#: A peewee cursor wrapper's state that belongs to one cursor (the rest, set up by its
#: ``initialize()``, describes the query's rows and is the same at every call).
_PER_CURSOR = frozenset({"cursor", "count", "index", "initialized", "populated", "row_cache"})


class Prepared:
    """``Prepared(lambda a, b: Model.select().where((Model.x == a) & (Model.y == b)))``;
    then ``.rows(x, y)``, ``.first(x, y)`` or ``.scalar(x, y)``."""

    def __init__(self, build: Callable[..., peewee.Query]):
        self.build = build
        self.arity = len(inspect.signature(build).parameters)
        self._built: dict[type, tuple] = {}
        self._readers: dict[type, dict] = {}

    def _compiled(self, kind: type) -> tuple:
        got = self._built.get(kind)
        if got is None:
            query = self.build(*[Arg(i) for i in range(self.arity)])
            sql, params = query.sql()
            got = self._built[kind] = (query, sql, tuple(params))
        return got

    def cursor(self, *args):
        """The built query run with ``args``: its peewee cursor wrapper (iterate for the rows)."""
        kind = type(db.database.obj)
        query, sql, params = self._compiled(kind)
        values = [(p.convert(args[p.i]) if p.convert else args[p.i]) if isinstance(p, _Slot) else p
                  for p in params]
        wrapper = query._get_cursor_wrapper(db.database.execute_sql(sql, values))
        reader = self._readers.get(kind)
        if reader is None:  # the first call: peewee's own reader, from this cursor's description
            wrapper.initialize()
            reader = self._readers[kind] = {k: v for k, v in vars(wrapper).items() if k not in _PER_CURSOR}
        wrapper.__dict__.update(reader)
        wrapper.initialized = True
        return wrapper

    def rows(self, *args) -> list:
        """Every row."""
        return list(self.cursor(*args))

    def first(self, *args):
        """The first row, or None."""
        for row in self.cursor(*args):
            return row
        return None

    def scalar(self, *args):
        """The first column of the first row (a tuple query), or None."""
        row = self.first(*args)
        return None if row is None else row[0]


_BY_ID: dict[tuple[type, bool], Prepared] = {}


def by_id(model, pk, *, for_update: bool = False):
    """``model``'s row with primary key ``pk``, or None (prepared once per model); ``for_update``
    locks the row (``FOR UPDATE``: ask it on PostgreSQL only, SQLite has no row locks)."""
    prepared = _BY_ID.get((model, for_update))
    if prepared is None:
        def build(a):
            query = model.select().where(model._meta.primary_key == a).limit(1)
            return query.for_update() if for_update else query
        prepared = _BY_ID[(model, for_update)] = Prepared(build)
    return prepared.first(pk)
