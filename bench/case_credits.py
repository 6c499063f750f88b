"""Posting 10,000 credits in a batch: one payer's check spread over many patients.

Each credit draws $1.00 from the check and auto-applies it to that patient's oldest
open split for the payer (one workflow each: transaction + audit event), one after the
other, as a batch posting script would. The baseline writes the same rows by hand.
"""

from __future__ import annotations

from claimdesk.bench import fixtures
from claimdesk.bench.common import NOW, USER, core_session, timed
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


def core(url: str, voucher_id: int, patients: list[int]) -> dict:
    """``post_credit`` for every slot; samples are per-credit seconds, plus the batch total."""
    from claimdesk.core.services import payments

    samples = []
    with core_session(url):
        for pid in patients:
            secs, _ = timed(payments.post_credit, {"patient_id": pid, "voucher_id": voucher_id,
                                                   "amount": "1.00", "apply": "auto"})
            samples.append(secs)
    return {"samples": samples, "total_seconds": sum(samples), "per_second": len(samples) / sum(samples)}


def raw(url: str, voucher_id: int, patients: list[int]) -> dict:
    """The same batch by hand."""
    r = Raw(url)
    samples = []
    for pid in patients:
        secs, _ = timed(rawpay.post_credit, r, voucher_id, pid, AMOUNT, NOW, USER)
        samples.append(secs)
    r.close()
    return {"samples": samples, "total_seconds": sum(samples), "per_second": len(samples) / sum(samples)}
