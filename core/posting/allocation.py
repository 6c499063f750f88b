"""The auto-apply rule: a payer's money pays the open splits it is responsible for, oldest
first (date of service, then charge, then split), partial on the last.

:func:`reachable_splits` reads, in that order, the open splits a payer is responsible for
on active encounters, only as far as each patient's money reaches; :func:`allocate` (pure)
places the money of many lines over them, lines of the same patient in order, each seeing
what the earlier ones consumed. :func:`auto_allocate` does both.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Sequence

from claimdesk.core import db
from claimdesk.core.models import Charge, ChargeSplit, Encounter


@dataclasses.dataclass(slots=True)
class OpenSplit:
    """An open charge split as the allocation reads it; ``balance`` is what is still open
    (lowered as money is allocated). Carries what a posting on the split names."""

    id: int
    charge_id: int
    patient_id: int
    payer_id: int
    rank: str
    balance: int
    dos: object = None  # the charge's date of service (as the driver returns it)


@dataclasses.dataclass(slots=True)
class Allocation:
    """``amount`` of line ``line``'s money on ``split``; ``balance_after`` is the split's open
    balance once this allocation is paid."""

    line: int
    split: OpenSplit
    amount: int
    balance_after: int


#: Patients per query when many patients' money is placed at once.
CHUNK = 1000
#: Open splits read per page when one patient's money is placed (most payments end in the first).
PAGE = 8


def reachable_splits(payer_id: int, need: dict[int, int], *, chunk: int | None = None) -> dict[int, list[OpenSplit]]:
    """patient -> the open splits, oldest first, that ``need[patient]`` cents of ``payer_id``'s
    money reach (splits the payer is responsible for, on active encounters).

    Many patients: a running total per patient (window function) keeps only the splits whose
    older open balance is below what that patient brings, ``chunk`` patients per query. One
    patient (a credit entry): read a page at a time along the charge (patient, dos, id) index,
    so a patient with a thousand open charges costs a few rows.
    """
    chunk = chunk or CHUNK
    if len(need) == 1:
        ((pid, amount),) = need.items()
        return {pid: rows} if (rows := _reachable_for_one(payer_id, pid, amount)) else {}
    out: dict[int, list[OpenSplit]] = {}
    pids = sorted(need)
    for start in range(0, len(pids), chunk):
        part = pids[start:start + chunk]
        values = ", ".join(["({p}, {p})"] * len(part))
        params = [v for pid in part for v in (pid, need[pid])] + [payer_id] + part
        rows = db.sql(
            f"WITH need(pid, amt) AS (VALUES {values}) "
            "SELECT r.id, r.charge_id, r.patient_id, r.balance, r.rank, r.dos FROM ("
            " SELECT cs.id, cs.charge_id, cs.patient_id, cs.balance, cs.rank, c.dos,"
            " SUM(cs.balance) OVER (PARTITION BY cs.patient_id ORDER BY c.dos, c.id, cs.id) - cs.balance AS older"
            " FROM charge_split cs JOIN charge c ON c.id = cs.charge_id"
            " JOIN encounter e ON e.id = c.encounter_id"
            f" WHERE cs.payer_id = {{p}} AND cs.patient_id IN ({', '.join(['{p}'] * len(part))})"
            " AND cs.balance > 0 AND e.status = 'active') r "
            "JOIN need n ON n.pid = r.patient_id WHERE r.older < n.amt "
            "ORDER BY r.patient_id, r.dos, r.charge_id, r.id", params)
        for sid, cid, pid, balance, rank, dos in rows:
            out.setdefault(pid, []).append(OpenSplit(sid, cid, pid, payer_id, rank, int(balance), dos))
    return out


def _reachable_for_one(payer_id: int, patient_id: int, amount: int) -> list[OpenSplit]:
    """:func:`reachable_splits` for one patient, keyset-paged in the same order."""
    out: list[OpenSplit] = []
    after = None
    while amount > 0:
        where, params = "", [patient_id, payer_id]
        if after is not None:  # keyset: after the last split read, in the same order
            where = " AND (c.dos > {p} OR (c.dos = {p} AND (c.id > {p} OR (c.id = {p} AND cs.id > {p}))))"
            params += [after[0], after[0], after[1], after[1], after[2]]
        rows = db.sql(
            "SELECT cs.id, cs.charge_id, cs.balance, cs.rank, c.dos FROM charge c"
            " JOIN charge_split cs ON cs.charge_id = c.id JOIN encounter e ON e.id = c.encounter_id"
            " WHERE c.patient_id = {p} AND cs.payer_id = {p} AND cs.balance > 0 AND e.status = 'active'"
            + where + f" ORDER BY c.dos, c.id, cs.id LIMIT {PAGE}", params).fetchall()
        for sid, cid, balance, rank, dos in rows:
            if amount <= 0:
                break
            out.append(OpenSplit(sid, cid, patient_id, payer_id, rank, int(balance), dos))
            amount -= int(balance)
        if len(rows) < PAGE:
            break
        after = (rows[-1][4], rows[-1][1], rows[-1][0])
    return out


def allocate(lines: Sequence[tuple[int, int]],
             open_by_patient: dict[int, list[OpenSplit]]) -> tuple[list[Allocation], list[int]]:
    """Place each line's money, ``(patient id, cents)`` in line order, on that patient's open
    splits (oldest first, as :func:`reachable_splits` gives them), partial on the last; a
    patient's later lines see what the earlier ones consumed (the splits' balances are lowered).

    Returns the allocations in order and, per line, the cents it could not place.
    """
    out: list[Allocation] = []
    left: list[int] = []
    cursor: dict[int, int] = defaultdict(int)  # patient -> first split with money still open
    for i, (pid, amount) in enumerate(lines):
        splits, k = open_by_patient.get(pid, ()), cursor[pid]
        while amount > 0 and k < len(splits):
            split = splits[k]
            take = min(split.balance, amount)
            split.balance -= take
            amount -= take
            out.append(Allocation(i, split, take, split.balance))
            if split.balance == 0:
                k += 1
        cursor[pid] = k
        left.append(amount)
    return out, left


def auto_allocate(payer_id: int, lines: Sequence[tuple[int, int]]) -> tuple[list[Allocation], list[int]]:
    """:func:`allocate` over the splits :func:`reachable_splits` reads for these lines (a read only)."""
    need: dict[int, int] = defaultdict(int)
    for pid, amount in lines:
        need[pid] += amount
    if not need:
        return [], []
    return allocate(lines, reachable_splits(payer_id, dict(need)))


def open_splits_for(patient_id: int, payer_id: int) -> list[ChargeSplit]:
    """Every open split this payer is responsible for on this patient, in the auto-apply order
    (with its charge), for lists a clerk chooses from."""
    return list(
        ChargeSplit.select(ChargeSplit, Charge)
        .join(Charge)
        .join(Encounter, on=(Charge.encounter == Encounter.id))
        .where((ChargeSplit.patient == patient_id) & (ChargeSplit.payer == payer_id)
               & (ChargeSplit.balance > 0) & (Encounter.status == "active"))
        .order_by(Charge.dos, Charge.id, ChargeSplit.id)
    )
