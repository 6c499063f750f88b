"""Many clerks at once: N processes doing a clerk's day on one database.

Each clerk is its own interpreter (``bench/clerk.py``), connected as the bench user, and
works through its own list of workflows in a fixed mix (:data:`MIX`, per ten workflows):

* 3 credit entries: $5.00 from the clerk's patient check, auto-applied oldest first
  (``payments.post_credit``);
* 4 lookups: the patient by account number, their balance summary, and one of their
  encounters assessed by every action plugin (``find_patients``, ``patient_summary``,
  ``actions.assess``);
* 2 EOBs keyed by hand: the payer pays $1.00 of one line from the clerk's check from that
  payer (``eobs.post_eob``);
* 1 advanced action: $1.00 of a patient balance written off at the office's request
  (``actions.apply``).

Clerks work different accounts (each patient belongs to one clerk), as a desk shares
work out; they share the audit chain, the payers' and the patients' tables and the
ledger. Every clerk connects and warms up first, as an app open all day is warm: one
workflow of each kind (:data:`WARM`) on accounts of its own, untimed but counted by the
lost-update check; then all are released at once. The
rate is every workflow done / (last clerk's end - first clerk's start).

A level runs in one of two ways. *Flat out* (``rate`` None): each clerk starts its next
workflow as soon as the last one ends, which finds where the engine saturates; latency is
each workflow's own time, and past saturation it is only the number of clerks over the
rate (Little's law), whatever the engine does. *At a given rate* (``rate`` workflows a
second in total, shared evenly, the clerks' starts staggered): each workflow has its
scheduled time, and its latency counts from then, so a clerk that falls behind its schedule
sees the wait too (no coordinated omission): this is the latency clerks see at that load.
Lost updates: after each level every clerk's checks must hold
exactly what they held less what its clerk drew (read back from the database), and
every write must have its audit event; ``verify`` runs on the database after the last
level.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
from pathlib import Path

from claimdesk.bench import fixtures
from claimdesk.bench.common import cents, core_session
from claimdesk.bench.raw import Raw

TITLE = "many clerks at once"
MIX = ("credit", "lookup", "eob", "credit", "lookup", "action", "credit", "lookup", "eob", "lookup")
CREDIT, EOB_PAID, WRITE_OFF = 5_00, 1_00, 1_00
#: What each clerk does once before the clock (``bench/clerk.py`` ``warm_up``): one of each kind.
WARM = ("lookup", "credit", "eob", "action")


def level_workflows(procs: int, per_level: int) -> int:
    """How many workflows a level runs: ``per_level``, fewer for one or two clerks (they are slow
    to run through a long list and add nothing to the figures)."""
    return min(per_level, max(len(MIX) * procs, per_level * procs // 8))


def _pools(r: Raw, wanted: dict, rounds: int) -> dict:
    """Rows to work on, from the database as it is: patients who owe (credits, actions), lines a
    payer still owes (EOBs), any encounter (lookups); each owing enough for ``rounds`` levels."""
    payer = r.one("SELECT cs.payer_id FROM charge_split cs JOIN payer p ON p.id = cs.payer_id "
                  "WHERE cs.balance >= ? AND cs.rank = 'primary' AND p.kind NOT IN ('patient', 'inactive') "
                  "GROUP BY cs.payer_id ORDER BY COUNT(*) DESC, cs.payer_id LIMIT 1", (EOB_PAID * rounds,))
    active = "e.status = 'active'"
    # a patient whose encounter owes enough for every level's credit (auto-applied oldest first,
    # so possibly to this encounter) and write-off
    owe = r.q("SELECT o.patient_id, MIN(o.encounter_id) FROM (SELECT e.patient_id, e.id AS encounter_id "
              "FROM charge_split cs JOIN charge c ON c.id = cs.charge_id JOIN encounter e ON e.id = c.encounter_id "
              f"JOIN payer p ON p.id = cs.payer_id WHERE p.kind = 'patient' AND cs.balance > 0 AND {active} "
              "GROUP BY e.patient_id, e.id HAVING SUM(cs.balance) >= ?) o GROUP BY o.patient_id "
              "ORDER BY o.patient_id LIMIT ?", ((CREDIT + WRITE_OFF) * rounds, wanted["patients"]))
    lines = r.q("SELECT MIN(c.id), e.id, e.patient_id FROM charge_split cs JOIN charge c ON c.id = cs.charge_id "
                "JOIN encounter e ON e.id = c.encounter_id WHERE cs.payer_id = ? AND cs.rank = 'primary' "
                f"AND cs.balance >= ? AND {active} GROUP BY e.id, e.patient_id ORDER BY e.id LIMIT ?",
                (payer, EOB_PAID * rounds, wanted["eobs"]))
    step = max(1, int(r.one("SELECT MAX(id) FROM encounter")) // max(1, wanted["lookups"]))
    looks = r.q("SELECT e.id, p.account_no FROM encounter e JOIN patient p ON p.id = e.patient_id "
                "WHERE MOD(e.id, ?) = 0 ORDER BY e.id LIMIT ?", (step, wanted["lookups"]))
    return {"payer_id": payer, "owe": owe, "lines": lines, "looks": looks}


def prepare(url: str, levels: list[int], per_level: int, paced: list[int] = (), rate: float | None = None) -> dict:
    """Every level's work lists and every clerk's checks: ``levels`` flat out, then ``paced``
    at ``rate`` workflows a second. Within a level no patient or claim is worked on by two
    clerks; a later level works on the same accounts again (each owes enough)."""
    runs = [(p, None) for p in levels] + [(p, rate) for p in paced]
    levels = [p for p, _ in runs]
    # each clerk's timed list, and one workflow of each kind to warm up on (bench/clerk.py)
    counts = {k: max(math.ceil(level_workflows(p, per_level) * MIX.count(k) / len(MIX)) + 2 * p for p in levels)
              for k in set(MIX)}
    r = Raw(url)
    pools = _pools(r, {"patients": counts["credit"] + counts["action"], "eobs": counts["eob"],
                       "lookups": counts["lookup"]}, len(levels))
    r.close()
    if len(pools["owe"]) < counts["credit"] + counts["action"] or len(pools["lines"]) < counts["eob"]:
        raise RuntimeError(f"not enough open accounts ({len(pools['owe'])} patients, {len(pools['lines'])} claims) "
                           f"for {counts}; use a bigger database")
    out = []
    with core_session(url):
        self_pay = fixtures.patient_payer_id()
        for procs, pace_rate in runs:
            owe, lines, looks = list(pools["owe"]), list(pools["lines"]), list(pools["looks"])
            n = level_workflows(procs, per_level)
            clerks = [[] for _ in range(procs)]
            for i in range(n):  # workflow i goes to clerk i % procs, in the mix's order
                kind = MIX[(i // procs) % len(MIX)]
                clerks[i % procs].append({"kind": kind})
            warm = [[{"kind": kind} for kind in WARM] for _ in range(procs)]
            checks = []
            for lst, first in zip(clerks, warm):
                need = {k: sum(1 for it in lst + first if it["kind"] == k) for k in MIX}
                cash = fixtures.voucher(self_pay, need["credit"] * CREDIT + 1_00)
                ins = fixtures.voucher(pools["payer_id"], need["eob"] * EOB_PAID + 1_00)
                checks.append({"cash": cash, "insurance": ins})
                for it in first + lst:
                    if it["kind"] == "credit":
                        pid, _ = owe.pop()
                        it.update(patient_id=pid, voucher_id=cash, amount=cents(CREDIT))
                    elif it["kind"] == "action":
                        _, eid = owe.pop()
                        it.update(encounter_id=eid, amount=cents(WRITE_OFF), reason="SMALL_BAL")
                    elif it["kind"] == "eob":
                        cid, eid, _ = lines.pop()
                        it.update(charge_id=cid, encounter_id=eid, payer_id=pools["payer_id"], voucher_id=ins,
                                  amount=cents(EOB_PAID))
                    else:
                        eid, account = looks.pop() if looks else pools["looks"][0]
                        it.update(encounter_id=eid, account_no=account)
            out.append({"procs": procs, "clerks": clerks, "warm": warm, "checks": checks, "rate": pace_rate})
    return {"levels": out}


def _undistributed(url: str, ids: list[int]) -> dict[int, int]:
    r = Raw(url)
    got = {i: u for i, u in r.q(f"SELECT id, undistributed FROM voucher WHERE id IN ({','.join(map(str, ids))})")}
    r.close()
    return got


def _audit_count(url: str) -> int:
    r = Raw(url)
    n = int(r.one("SELECT COUNT(*) FROM audit_event"))
    r.close()
    return n


def run_level(url: str, level: dict, tmp: Path) -> dict:
    """Start the level's clerks, release them together, collect and check what they did."""
    procs, rate = level["procs"], level.get("rate")
    before = _undistributed(url, [c[k] for c in level["checks"] for k in ("cash", "insurance")])
    events_before = _audit_count(url)
    children = []
    for i, items in enumerate(level["clerks"]):
        spec = tmp / f"clerk-{procs}-{i}.json"
        pace = procs / rate if rate else None  # seconds between one clerk's workflows
        spec.write_text(json.dumps({"items": items, "warm": level["warm"][i], "pace": pace,
                                    "offset": pace * i / procs if pace else 0}))
        children.append(subprocess.Popen([sys.executable, "-m", "claimdesk.bench.clerk", url, f"@{spec}"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    try:
        for child in children:  # every clerk connected and warm
            line = child.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a clerk did not start: {line!r}")
        for child in children:
            child.stdin.write("go\n")
            child.stdin.flush()
        outs = []
        for child in children:
            text, _ = child.communicate(timeout=1800)
            outs.append(json.loads(text.strip().splitlines()[-1]))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    after = _undistributed(url, list(before))
    lost = []
    writes = 0
    for check, items, out in zip(level["checks"], level["clerks"], outs):
        cash, ins = check["cash"], check["insurance"]
        drawn, paid = out["totals"].get("drawn", 0), out["totals"].get("paid", 0)
        if after[cash] != before[cash] - drawn:
            lost.append(f"check {cash}: holds {after[cash]}, expected {before[cash] - drawn}")
        if after[ins] != before[ins] - paid:
            lost.append(f"check {ins}: holds {after[ins]}, expected {before[ins] - paid}")
        writes += sum(1 for kind, _ in out["done"] + out["warm"] if kind != "lookup")
    events = _audit_count(url) - events_before
    if events != writes:
        lost.append(f"{writes} writing workflows done, {events} audit events written")
    seconds = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    latencies = [s for o in outs for _, s in o["done"]]
    by_kind = {}
    for kind in sorted(set(MIX)):
        ks = sorted(s for o in outs for k, s in o["done"] if k == kind)
        if ks:
            by_kind[kind] = {"count": len(ks), "p50": ks[len(ks) // 2], "p99": _p99(ks)}
    return {"procs": procs, "rate": rate, "workflows": len(latencies), "seconds": seconds,
            "per_second": len(latencies) / seconds if seconds else None,
            "p50": statistics.median(latencies) if latencies else None, "p99": _p99(sorted(latencies)),
            # the clerks' own CPU (their Python, the driver) per workflow: on one machine, what
            # the database server has left
            "clerk_cpu_ms": sum(o["cpu"] for o in outs) / len(latencies) * 1e3 if latencies else None,
            "by_kind": by_kind,
            # each clerk's first workflow of each kind (its warm-up, untimed above): median seconds
            "first_of_kind": {k: statistics.median(s for o in outs for kk, s in o["warm"] if kk == k)
                              for k in sorted({kk for o in outs for kk, _ in o["warm"]})},
            "errors": sum(o["error_count"] for o in outs),
            "error_sample": [e for o in outs for e in o["errors"]][:5], "lost": lost}


def _p99(sorted_values: list[float]) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, math.ceil(0.99 * len(sorted_values)) - 1)]


def run(url: str, levels: list[dict], folder: str) -> dict:
    """Every level in turn (fewest clerks first), then ``verify`` on the database."""
    from claimdesk.core.services import verify

    tmp = Path(folder)
    tmp.mkdir(parents=True, exist_ok=True)
    results = [run_level(url, level, tmp) for level in levels]
    with core_session(url):
        problems = [str(p) for p in verify.verify()]
    return {"levels": results, "verify": problems}
