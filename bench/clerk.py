"""One clerk of the many-clerks case (``bench/case_clerks.py``), in its own interpreter.

``python -m claimdesk.bench.clerk URL @ARGS_JSON``: connects, warms up (plugins, then one
workflow of each kind on items of its own, untimed), prints ``ready``, waits for ``go`` on stdin (the parent
releases every clerk at once), then works through its list of workflows, timing each
(flat out, or at its ``pace``: one workflow every ``pace`` seconds from ``offset``, each
timed from its scheduled start), and prints one JSON line: per workflow its kind and seconds, the wall-clock start and
end, the CPU seconds the clerk's own process spent on them, and the money it moved (for the lost-update check).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from claimdesk.bench.common import core_session
from claimdesk.core.money import to_cents


def _credit(item: dict) -> dict:
    """Credit entry: draw from the clerk's patient check, auto-apply oldest first."""
    from claimdesk.core.services import payments

    out = payments.post_credit({"patient_id": item["patient_id"], "voucher_id": item["voucher_id"],
                                "amount": item["amount"], "apply": "auto"})
    return {"drawn": int(out["drawn"]), "applied": int(out["applied_total"])}


def _lookup(item: dict) -> dict:
    """A lookup: find the patient by account number, their summary, then assess one of their
    encounters (what a clerk does before choosing an action)."""
    from claimdesk.core.services import actions, patient_views

    found = patient_views.find_patients(item["account_no"])
    patient_views.patient_summary(found[0]["patient_id"])
    return {"offers": len(actions.assess(f"E{item['encounter_id']}")["offers"])}


def _eob(item: dict) -> dict:
    """An EOB keyed by hand: the payer pays part of one line from the clerk's check from that payer."""
    from claimdesk.core.services import eobs

    eobs.post_eob({"encounter_id": item["encounter_id"], "payer_id": item["payer_id"],
                   "voucher_id": item["voucher_id"], "lines": [{"charge_id": item["charge_id"],
                                                                "paid": item["amount"]}]})
    return {"paid": int(to_cents(item["amount"]))}


def _action(item: dict) -> dict:
    """An advanced action: a small patient balance written off at the office's request."""
    from claimdesk.core.services import actions

    actions.apply(item["encounter_id"], "patient_writeoff_office",
                  {"amount": item["amount"], "reason": item["reason"], "note": "bench"})
    return {"written_off": int(to_cents(item["amount"]))}


KINDS = {"credit": _credit, "lookup": _lookup, "eob": _eob, "action": _action}


def _work(item: dict, totals: dict[str, int]) -> None:
    """Do workflow ``item``; add the money it moved to ``totals`` (for the lost-update check)."""
    for k, v in KINDS[item["kind"]](item).items():
        totals[k] = totals.get(k, 0) + v


def warm_up(warm: list[dict]) -> tuple[dict, list]:
    """One workflow of each kind before the clock, as a clerk's app that has been open all day
    has done: its code paths run once, its server session's catalog caches filled and statements
    planned. These are real workflows on items of their own (``warm``); what they moved (for the
    lost-update check) and each one's ``(kind, seconds)``."""
    from claimdesk.core.plugins.host import get_host

    get_host()
    totals: dict[str, int] = {}
    took = []
    for item in warm:
        t0 = time.perf_counter()
        _work(item, totals)
        took.append((item["kind"], time.perf_counter() - t0))
    return totals, took


def main(argv: list[str]) -> None:
    """Warm up, say ready, wait for go, work, print the JSON line."""
    url, args = argv[0], argv[1]
    spec = json.loads(Path(args[1:]).read_text() if args.startswith("@") else args)
    items, pace, offset = spec["items"], spec.get("pace"), spec.get("offset", 0.0)
    warm = spec.get("warm", [])
    with core_session(url):
        totals, warmed = warm_up(warm)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        done, errors = [], []
        start, t_start, cpu = time.time(), time.perf_counter(), time.process_time()
        for n, item in enumerate(items):
            t0 = time.perf_counter()
            if pace:  # the load generator's schedule: wait for this workflow's time, time it from then
                t0 = t_start + offset + n * pace
                ahead = t0 - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
            try:
                _work(item, totals)
            except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
                errors.append(f"{item['kind']}: {type(exc).__name__}: {exc}")
                continue
            done.append((item["kind"], time.perf_counter() - t0))
        end, cpu = time.time(), time.process_time() - cpu
    print(json.dumps({"start": start, "end": end, "cpu": cpu, "done": done, "totals": totals, "errors": errors[:20],
                      "error_count": len(errors), "warm": warmed}))


if __name__ == "__main__":
    main(sys.argv[1:])
