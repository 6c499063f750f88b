"""Several clerks (processes) drawing on one check at once never overdraw it."""

from __future__ import annotations

import multiprocessing as mp

from claimdesk.core import db, schema
from claimdesk.core.models import Credit
from claimdesk.core.services import balances
from claimdesk.core.services.verify import verify

from tests import builders as b
from tests.conftest import register
from tests.concurrency_worker import draw_many

CLERKS = 4
ATTEMPTS = 12  # 48 tries at $1.00 against a $30.00 check


def test_concurrent_clerks_never_overdraw_a_voucher(db_url):
    db.connect(db_url)
    schema.upgrade()
    from claimdesk.core.context import as_user

    register("setup", *[f"clerk{i}" for i in range(CLERKS)])
    with as_user("setup"):
        pat = b.patient()
        vid = b.voucher(b.payer("Medicare", "medicare"), 30_00)
    db.close()
    ctx = mp.get_context("spawn")
    with ctx.Pool(CLERKS) as pool:
        results = pool.starmap(draw_many, [(db_url, pat.id, vid, ATTEMPTS, f"clerk{i}") for i in range(CLERKS)])
    db.connect(db_url)
    posted = sum(r["posted"] for r in results)
    assert posted == 30
    assert sum(r["refused"] for r in results) == CLERKS * ATTEMPTS - 30
    assert balances.voucher_undistributed(vid) == 0
    assert Credit.select().where(Credit.voucher == vid).count() == 30
    assert sum(balances.credit_unapplied(c.id) for c in Credit.select()) == 30_00
    assert verify() == []
