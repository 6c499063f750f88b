"""Auto-apply on a patient with 1,000 open charges: a $250.00 payment paid oldest first.

Each sample is one credit entry (draw from the patient's check, auto-apply: two charges
paid in full and one in part, audit event) through ``payments.post_credit``; the
baseline does the same rows by hand (``rawpay.post_credit``) on a twin patient.
"""

from __future__ import annotations

import time

from claimdesk.bench import fixtures
from claimdesk.bench.common import NOW, USER, cents, core_session, timed
from claimdesk.bench.raw import Raw
from claimdesk.bench import rawpay

TITLE = "auto-apply, patient with 1,000 open charges"
PAYMENT = 250_00


def prepare(url: str, charges: int, repeat: int) -> dict:
    """Two twin patients with ``charges`` open charges each and one patient check each (new
    patients each run: the bigger clinic is worked on in place, and keeps the last run's)."""
    run = time.strftime("%Y%m%d%H%M%S")
    with core_session(url):
        payer = fixtures.patient_payer_id()
        out = {}
        for variant in ("core", "raw"):
            pid = fixtures.patient_with_open_charges(f"AUTOAPPLY-{variant}-{run}", charges)
            out[variant] = {"patient_id": pid, "voucher_id": fixtures.voucher(payer, PAYMENT * (repeat + 1))}
    return out


def core(url: str, patient_id: int, voucher_id: int, repeat: int) -> dict:
    """``repeat`` timed ``post_credit`` calls with auto-apply."""
    from claimdesk.core.services import payments

    samples, applied = [], 0
    with core_session(url):
        for _ in range(repeat):
            secs, out = timed(payments.post_credit, {"patient_id": patient_id, "voucher_id": voucher_id,
                                                     "amount": cents(PAYMENT), "apply": "auto"})
            samples.append(secs)
            applied += out["applied_total"]
    return {"samples": samples, "applied": applied}


def raw(url: str, patient_id: int, voucher_id: int, repeat: int) -> dict:
    """The same credits written by hand."""
    r = Raw(url)
    samples, applied = [], 0
    for _ in range(repeat):
        secs, out = timed(rawpay.post_credit, r, voucher_id, patient_id, PAYMENT, NOW, USER)
        samples.append(secs)
        applied += out["applied_total"]
    r.close()
    return {"samples": samples, "applied": applied}
