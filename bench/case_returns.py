"""Returning a check that funded 5,000 credits.

Setup (not timed): checks from one payer, each spread over 5,000 patients as $1.00
credits auto-applied (written with the hand-written credit path, the same rows the core
writes). Timed: ``returns.return_check`` (reverses every entry that moved the check's
money, newest first, one reversing entry each) vs a set-based hand-written reversal.
"""

from __future__ import annotations

from claimdesk.bench.case_credits import AMOUNT, payer_slots
from claimdesk.bench.common import NOW, USER, core_session, timed
from claimdesk.bench.raw import Raw
from claimdesk.bench import rawpay

TITLE = "returning a check that funded 5,000 credits"


def prepare(url: str, credits: int, repeat: int) -> dict:
    """``repeat`` funded checks for each variant."""
    payer, slots = payer_slots(url, 2 * repeat * credits)
    if len(slots) < 2 * repeat * credits:
        raise RuntimeError(f"only {len(slots)} patient slots for {2 * repeat * credits} credits")
    r = Raw(url)
    out: dict = {"core": [], "raw": []}
    for i in range(2 * repeat):
        vid = rawpay.make_voucher(r, payer, credits * AMOUNT, NOW, USER)
        for pid in slots[i * credits:(i + 1) * credits]:
            rawpay.post_credit(r, vid, pid, AMOUNT, NOW, USER)
        out["core" if i % 2 == 0 else "raw"].append(vid)
    r.close()
    return out


def core(url: str, vouchers: list[int]) -> dict:
    """``return_check`` on each funded check."""
    from claimdesk.core.services import returns

    samples, entries = [], 0
    with core_session(url):
        for vid in vouchers:
            secs, out = timed(returns.return_check, {"voucher_id": vid, "reason": "NSF", "fee_policy": "none"})
            samples.append(secs)
            entries = len(out["entries"])
    return {"samples": samples, "reversing_entries": entries}


def raw(url: str, vouchers: list[int]) -> dict:
    """The set-based hand-written reversal on each funded check."""
    r = Raw(url)
    samples = []
    for vid in vouchers:
        secs, _ = timed(rawpay.return_check, r, vid, "NSF", NOW, USER)
        samples.append(secs)
    r.close()
    return {"samples": samples}
