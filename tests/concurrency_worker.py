"""Run in child processes by test_concurrency: one clerk each, all released at once by a barrier.

Each clerk connects and warms up (imports, first query) *before* the barrier, so the
work itself starts together and the clerks really overlap.
"""

from __future__ import annotations

import traceback


def _clerk(work, url: str, clerk: str, barrier, results, *args) -> None:
    """Connect as ``clerk``, wait at the barrier, run ``work``; put its counts (or the error) on ``results``."""
    try:
        from claimdesk.core import db
        from claimdesk.core.context import as_user
        from claimdesk.core.models import Voucher

        db.connect(url)
        Voucher.select().count()  # warm: connection open, models and services imported
        with as_user(clerk):
            barrier.wait(timeout=120)
            out = work(*args)
        db.close()
        results.put({"clerk": clerk, **out})
    except BaseException as exc:  # noqa: BLE001 - reported to the test, which fails on it
        results.put({"clerk": clerk, "crash": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"})


def _draw(patient_id: int, voucher_id: int, attempts: int) -> dict:
    from claimdesk.core.errors import Refused
    from claimdesk.core.services import payments

    posted = refused = 0
    for _ in range(attempts):
        try:
            payments.post_credit({"patient_id": patient_id, "voucher_id": voucher_id, "amount": "1.00",
                                  "keep_unapplied": True})
            posted += 1
        except Refused:
            refused += 1
    return {"posted": posted, "refused": refused}


def draw_many(url: str, clerk: str, barrier, results, patient_id: int, voucher_id: int, attempts: int) -> None:
    """Try ``attempts`` $1.00 credits (kept unapplied) on one shared voucher."""
    _clerk(_draw, url, clerk, barrier, results, patient_id, voucher_id, attempts)


def _auto_apply(patient_id: int, voucher_id: int, attempts: int, amount: str, keep: bool) -> dict:
    from claimdesk.core.errors import ClaimdeskError
    from claimdesk.core.services import payments

    posted, applied, kept, refusals = 0, 0, 0, []
    for _ in range(attempts):
        try:
            res = payments.post_credit({"patient_id": patient_id, "voucher_id": voucher_id, "amount": amount,
                                        "apply": "auto", "keep_unapplied": keep})
        except ClaimdeskError as exc:  # a clean refusal: counted, the message kept for the test
            refusals.append(str(exc))
            continue
        posted += 1
        applied += res["applied_total"]
        kept += res["unapplied"]
    return {"posted": posted, "applied": applied, "kept": kept, "refusals": refusals}


def auto_apply_many(url: str, clerk: str, barrier, results, patient_id: int, voucher_id: int, attempts: int,
                    amount: str, keep: bool) -> None:
    """Post ``attempts`` credits of ``amount`` from the clerk's own check, auto-applied to the
    (shared) patient's open charges oldest first; the rest kept unapplied or back to the check."""
    _clerk(_auto_apply, url, clerk, barrier, results, patient_id, voucher_id, attempts, amount, keep)
