"""``db.ids_in``: matching a column against an id list, short or long, on each engine."""

import pytest

from claimdesk.core import db

TABLE_IDS = 6000


@pytest.mark.parametrize("count", [0, 1, 2000, 2001, 5000])
def test_ids_in_matches_exactly_the_ids_given(database, count):
    db.sql("CREATE TEMP TABLE ids_probe (id INTEGER PRIMARY KEY)")
    for start in range(1, TABLE_IDS + 1, 500):
        db.sql("INSERT INTO ids_probe (id) VALUES " + ", ".join(f"({i})" for i in range(start, start + 500)))
    wanted = list(range(1, 2 * count, 2))  # odd ids, past the table's end for the long lists
    among, params = db.ids_in(wanted)
    rows = [r[0] for r in db.sql(f"SELECT id FROM ids_probe WHERE id {among} ORDER BY id", params)]
    assert rows == [i for i in wanted if i <= TABLE_IDS]
