"""Lists of ids and texts in a query (``db.ids_in``, ``db.texts_in``) and the PostgreSQL array
literals they go as (``db.pg_array``): every value finds its own rows, whatever characters it
holds, and a value that has no exact literal is refused instead of guessed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from claimdesk.core import db
from claimdesk.core.money import Cents

AWKWARD = ['plain', 'with "quotes"', "back\\slash", "comma,brace{}", "NULL", "", " spaced ", "ünïcode"]


def test_integer_literal_keeps_nulls_and_cents_values():
    assert db.pg_array([1, None, Cents(250), -7], "BIGINT") == "{1, NULL, 250, -7}"
    assert db.pg_array([], "BIGINT") == "{}"


@pytest.mark.parametrize("bad", [1.5, "12", Decimal("3")])
def test_integer_literal_refuses_what_is_not_an_integer(bad):
    with pytest.raises(TypeError):
        db.pg_array([1, bad], "BIGINT")


def test_text_literal_quotes_every_element_once():
    assert db.pg_array(['a"b', "c\\d", None, 'a"b'], "TEXT") == '{"a\\"b","c\\\\d",NULL,"a\\"b"}'
    assert db.pg_array([True, None, False], "BOOLEAN") == "{t,NULL,f}"
    assert db.pg_array([dt.date(2026, 1, 31)], "DATE") == '{"2026-01-31"}'


def test_time_zone_aware_values_are_refused():
    with pytest.raises(TypeError):
        db.pg_array([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)], "TIMESTAMP")


@pytest.mark.parametrize("count", [3, 2500])  # inline on SQLite, and past its inline limit
def test_ids_in_finds_exactly_the_ids_given(database, count):
    db.sql("CREATE TEMPORARY TABLE t_ids (id BIGINT PRIMARY KEY, label TEXT)")
    rows = [(i, f"row {i}") for i in range(1, 3 * count + 1)]
    for start in range(0, len(rows), 500):
        part = rows[start:start + 500]
        db.sql("INSERT INTO t_ids (id, label) VALUES " + ", ".join(["({p}, {p})"] * len(part)),
               [v for row in part for v in row])
    wanted = list(range(2, 3 * count + 1, 3))
    among, params = db.ids_in(wanted)
    found = [r[0] for r in db.sql(f"SELECT id FROM t_ids WHERE id {among} ORDER BY id", params)]
    assert found == wanted


def test_texts_in_matches_awkward_values_and_nothing_else(database):
    db.sql("CREATE TEMPORARY TABLE t_texts (id BIGINT PRIMARY KEY, label TEXT)")
    labels = AWKWARD + ["other", "quotes", "slash"]
    db.sql("INSERT INTO t_texts (id, label) VALUES " + ", ".join(["({p}, {p})"] * len(labels)),
           [v for i, label in enumerate(labels) for v in (i, label)])
    among, params = db.texts_in(AWKWARD)
    found = sorted(r[0] for r in db.sql(f"SELECT label FROM t_texts WHERE label {among}", params))
    assert found == sorted(AWKWARD)


@pytest.mark.parametrize("count", [1, 3, 600])  # one row; a few; past insert_rows' VALUES chunk
def test_insert_rows_writes_each_row_as_given_with_its_id_in_row_order(database, count):
    from claimdesk.core.models import Patient
    from claimdesk.core.posting.bulk import insert_rows

    rows = [{"account_no": f"T{i:05d}", "last_name": AWKWARD[i % len(AWKWARD)], "first_name": f"F{i}",
             "dob": None if i % 4 == 0 else dt.date(1950, 1, 1) + dt.timedelta(days=i), "bad_debt": i % 2 == 1}
            for i in range(count)]
    with db.write_transaction():
        ids = insert_rows(Patient, rows)
        assert insert_rows(Patient, [{"account_no": f"U{i}", "last_name": "x", "first_name": "y"} for i in range(2)],
                           ids=False) == []
    assert len(ids) == count and len(set(ids)) == count
    stored = {p.id: p for p in Patient.select().where(Patient.id.in_(ids))}
    for ident, row in zip(ids, rows):
        got = stored[ident]
        assert (got.account_no, got.last_name, got.first_name, got.dob, got.bad_debt) == (
            row["account_no"], row["last_name"], row["first_name"], row["dob"], row["bad_debt"])
        assert (got.sex, got.address, got.unpaid_statements) == ("U", "", 0)  # the model's defaults
    assert Patient.select().where(Patient.account_no.in_(["U0", "U1"])).count() == 2
