"""Child process for test_crash: an endless stream of billing workflows, one line per commit.

    python -m tests.crash_worker URL PATIENT_ID PAYER_ID

Prints ``done N`` after each committed workflow so the parent can kill it
(SIGKILL) at a chosen point without sleeping.
"""

from __future__ import annotations

import sys


def main(url: str, patient_id: int, payer_id: int) -> None:
    from claimdesk.core import db
    from claimdesk.core.context import set_user
    from claimdesk.core.models import Charge
    from claimdesk.core.services import eobs, payments

    from tests import builders as b

    db.connect(url)
    set_user("crash-clerk")
    charge = Charge.select().order_by(Charge.id).first()
    n = 0
    while True:
        vid = b.voucher(None, 7_00 + n % 5)  # a patient check
        n += 1
        print(f"done {n}", flush=True)
        payments.post_credit({"patient_id": patient_id, "voucher_id": vid, "keep_unapplied": n % 2 == 0})
        n += 1
        print(f"done {n}", flush=True)
        if n % 3 == 0:
            ins = b.voucher(b.payer("Medicare", "medicare"), 1_00)
            eobs.post_eob({"encounter_id": charge.encounter_id, "payer_id": payer_id, "voucher_id": ins,
                           "lines": [{"charge_id": charge.id, "paid": "0.01",
                                      "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "0.01"}]}]})
            n += 1
            print(f"done {n}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
