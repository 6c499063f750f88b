"""``views.queue_encounters`` reads a long queue page by page, by key (no OFFSET): every page
agrees with the one queue order (date of service, then encounter id), with balances."""

from __future__ import annotations

from claimdesk.core.services import balances, views

from tests.tui.big_queue import fill_review


def ids(page: dict) -> list[int]:
    return [r["encounter_id"] for r in page["rows"]]


def key(row: dict) -> tuple[str, int]:
    return row["dos"], row["encounter_id"]


def test_paging_forward_and_back_covers_the_queue_in_order(database):
    order = fill_review(1_234)
    first = views.queue_encounters("review", 500)
    assert first["total"] == 1_234 and ids(first) == order[:500]
    seen, page = ids(first), first
    while len(page["rows"]) == 500:
        page = views.queue_encounters("review", 500, after=key(page["rows"][-1]))
        seen += ids(page)
    assert seen == order

    last = views.queue_encounters("review", 500, last=True)
    assert ids(last) == order[-500:] and last["total"] == 1_234
    back = views.queue_encounters("review", 300, before=key(last["rows"][0]))
    assert ids(back) == order[-800:-500]
    at = views.queue_encounters("review", 10, at=key(back["rows"][5]))
    assert ids(at) == order[-795:-785]
    assert ids(views.queue_encounters("review", 500, before=key(first["rows"][0]))) == []

    charged = last["rows"][-3:]
    assert [r["balance"] for r in charged] == [10_00, 20_00, 30_00]
    assert all(r["balance"] == balances.encounter_balance(r["encounter_id"]) for r in charged)
    assert views.queue_encounters("review")["rows"] == first["rows"][:200]  # the default: first 200
