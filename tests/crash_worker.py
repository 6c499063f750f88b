"""Child process for test_crash: an endless stream of billing workflows that kills itself mid-transaction.

    python -m tests.crash_worker URL PATIENT_ID PAYER_ID KILL_AFTER

Every SQL statement this process runs goes through a counting wrapper around the
database's ``execute_sql`` (this process only). Once ``KILL_AFTER`` statements have run,
the first statement executed inside a transaction is followed by ``SIGKILL`` to this
very process: the kill lands between two statements of an open transaction, never
between workflows. Prints ``done N`` after each committed workflow, so the parent knows
exactly which workflows committed; nothing sleeps.
"""

from __future__ import annotations

import os
import signal
import sys


def arm(after: int) -> dict:
    """Count statements; SIGKILL this process right after the first one at or past ``after``
    that ran inside a transaction. Returns the live counters."""
    from claimdesk.core import db

    obj = db.database.obj
    real = obj.execute_sql
    state = {"statements": 0}

    def execute_sql(sql, params=None):
        cursor = real(sql, params)
        state["statements"] += 1
        if state["statements"] >= after and obj.transaction_depth() > 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return cursor

    obj.execute_sql = execute_sql
    return state


def main(url: str, patient_id: int, payer_id: int, kill_after: int) -> None:
    from claimdesk.core import db
    from claimdesk.core.context import set_user
    from claimdesk.core.models import Charge
    from claimdesk.core.services import eobs, payments, returns

    from tests import builders as b

    db.connect(url)
    set_user("crash-clerk")
    charge = Charge.select().order_by(Charge.id).first()
    medicare = b.payer("Medicare", "medicare")
    arm(kill_after)
    n = 0

    def done() -> None:
        nonlocal n
        n += 1
        print(f"done {n}", flush=True)

    while True:
        vid = b.voucher(None, 7_00 + n % 5)  # a patient check
        done()
        payments.post_credit({"patient_id": patient_id, "voucher_id": vid, "keep_unapplied": n % 2 == 0})
        done()
        if n % 3 == 0:
            ins = b.voucher(medicare, 1_00)
            done()
            eobs.post_eob({"encounter_id": charge.encounter_id, "payer_id": payer_id, "voucher_id": ins,
                           "lines": [{"charge_id": charge.id, "paid": "0.01",
                                      "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "0.01"}]}]})
            done()
        if n % 5 == 0:  # the patient's check bounces: every entry it paid is reversed
            returns.return_check({"voucher_id": vid, "reason": "NSF"})
            done()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
