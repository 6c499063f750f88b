"""Posting 10,000 credits in a batch: one payer's check spread over many patients.

Each line draws $1.00 from the check and auto-applies it to that patient's oldest open
split for the payer. The core posts the whole file with ONE call of
``batch_posting.post_credit_batch`` (one transaction, one audit event, set-based); the
baseline does the same batch by hand, set-based, in one transaction
(``rawpay.post_credit_batch``). The rate is credits / total seconds of the call; the
``samples`` are that time per credit (one per credit, all equal) so the harness's
per-credit median still reads the same way.
"""

from __future__ import annotations

import time

from claimdesk.bench import fixtures
from claimdesk.bench.common import NOW, USER, cents, core_session, timed
from claimdesk.bench.raw import Raw
from claimdesk.bench import rawpay

TITLE = "posting 10,000 credits in a batch"
AMOUNT = 1_00


def payer_slots(url: str, wanted: int, per_patient: int = 20) -> tuple[int, list[int]]:
    """The insurance payer with the most open accounts, and up to ``wanted`` patient slots
    (a patient appears once per $1.00 it owes that payer, at most ``per_patient`` times)."""
    r = Raw(url)
    payer = r.one("SELECT cs.payer_id FROM charge_split cs JOIN payer p ON p.id = cs.payer_id "
                  "WHERE cs.balance > 0 AND p.kind NOT IN ('patient', 'inactive') GROUP BY cs.payer_id "
                  "ORDER BY COUNT(DISTINCT cs.patient_id) DESC, cs.payer_id LIMIT 1")
    rows = r.q("SELECT cs.patient_id, SUM(cs.balance) FROM charge_split cs JOIN charge c ON c.id = cs.charge_id "
               "JOIN encounter e ON e.id = c.encounter_id WHERE cs.payer_id = ? AND cs.balance > 0 "
               "AND e.status = 'active' GROUP BY cs.patient_id ORDER BY cs.patient_id", (payer,))
    r.close()
    slots: list[int] = []
    for rank in range(per_patient):  # round-robin: spread the batch over as many patients as possible
        for pid, total in rows:
            if total // AMOUNT > rank:
                slots.append(pid)
                if len(slots) >= wanted:
                    return payer, slots
    return payer, slots


def prepare(url: str, credits: int) -> dict:
    """Two disjoint batches of ``credits`` patient slots (core, raw) and a check for each."""
    payer, slots = payer_slots(url, 2 * credits)
    if len(slots) < 2 * credits:
        raise RuntimeError(f"only {len(slots)} patient slots for {2 * credits} credits; use a bigger database")
    with core_session(url):
        return {"core": {"voucher_id": fixtures.voucher(payer, credits * AMOUNT), "patients": slots[:credits]},
                "raw": {"voucher_id": fixtures.voucher(payer, credits * AMOUNT), "patients": slots[credits:]},
                "payer_id": payer, "distinct_patients": len(set(slots))}


def _rate(secs: float, credits: int, applied: int) -> dict:
    return {"samples": [secs / credits] * credits, "total_seconds": secs, "per_second": credits / secs,
            "applied": applied}


def core(url: str, voucher_id: int, patients: list[int]) -> dict:
    """One ``post_credit_batch`` call for every slot (validation included in the time)."""
    from claimdesk.core.services import batch_posting

    lines = [{"patient_id": pid, "amount": cents(AMOUNT)} for pid in patients]
    with core_session(url):
        secs, out = timed(batch_posting.post_credit_batch, {"voucher_id": voucher_id, "lines": lines,
                                                            "apply": "auto"})
    return _rate(secs, len(patients), out["applied_total"])


def raw(url: str, voucher_id: int, patients: list[int]) -> dict:
    """The same batch by hand: set-based, one transaction, one audit event."""
    r = Raw(url)
    secs, out = timed(rawpay.post_credit_batch, r, voucher_id, [(pid, AMOUNT) for pid in patients], NOW, USER)
    r.close()
    return _rate(secs, len(patients), out["applied_total"])


def one_by_one(url: str, voucher_id: int, patients: list[int]) -> dict:
    """The old way, for comparison: ``payments.post_credit`` per slot (a workflow each)."""
    from claimdesk.core.services import payments

    applied = 0
    with core_session(url):
        t0 = time.perf_counter()
        for pid in patients:
            applied += payments.post_credit({"patient_id": pid, "voucher_id": voucher_id, "amount": cents(AMOUNT),
                                             "apply": "auto"})["applied_total"]
        secs = time.perf_counter() - t0
    return _rate(secs, len(patients), applied)
