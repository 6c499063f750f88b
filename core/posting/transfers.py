"""Responsibility transfers: balance moved from one split of a charge to another (patient
responsibility, a denial billed to the patient, a payer change), one ``transfer`` entry
for any number of them:

  ``transfer``  Dr AR (the receiving split) / Cr AR (the giving split), a pair per move

:func:`splits_for` finds or makes the receiving splits; :func:`move_on` sends balance to
the next responsible rank (:mod:`.responsibility`).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from claimdesk.core import db, ledger
from claimdesk.core.context import current_user
from claimdesk.core.models import ChargeSplit
from claimdesk.core.posting import responsibility
from claimdesk.core.posting.bulk import CHUNK, columns, only, pg_types, unnest_insert


@dataclasses.dataclass(slots=True)
class Transfer:
    """``amount`` of ``source``'s balance to ``target`` (splits of one charge of encounter
    ``encounter_id``); ``target`` None: to the next responsible rank (:func:`move_on`)."""

    source: ChargeSplit
    amount: int
    encounter_id: int
    reason_code: str = ""
    target: ChargeSplit | None = None


def post_transfers(transfers: Sequence[Transfer], *, memo: str) -> None:
    """Post the transfers (one ``transfer`` entry); the splits' ``balance`` follow."""
    transfers = [t for t in transfers if t.amount > 0]
    if not transfers:
        return
    lines, ar = [], ledger.ar
    for t in transfers:
        lines.append(ar(t.source, -t.amount, t.reason_code))
        lines.append(ar(t.target, t.amount, t.reason_code))
    ledger.post("transfer", lines, memo=memo, user=current_user(), encounter_id=only(t.encounter_id for t in transfers),
                patient_id=only(t.source.patient_id for t in transfers))
    for t in transfers:
        t.source.balance -= t.amount
        t.target.balance += t.amount


def move_on(transfers: Sequence[Transfer], *, memo: str,
            known: dict[int, list[ChargeSplit]] | None = None) -> list[ChargeSplit]:
    """Send each transfer's amount to the next rank responsible after its source's rank on its
    encounter (the target split made if new) and post them; the targets, in order. ``known``:
    charge -> its splits, as :func:`splits_for` shares them (the splits of a charge already
    there are not read again)."""
    insurers = responsibility.insurers_of(t.encounter_id for t in transfers)
    keys = []
    for t in transfers:
        source = t.source.__data__
        slots = insurers[t.encounter_id]
        rank = responsibility.following_rank(slots, source["rank"])
        keys.append((source["charge"], rank, responsibility.payer_at(slots, rank), source["patient"]))
    targets = splits_for(keys, known)
    for t, key in zip(transfers, keys):
        t.target = targets[key[:3]]
    post_transfers(transfers, memo=memo)
    return [t.target for t in transfers]


def splits_of(charge_ids: Sequence[int]) -> dict[int, list[ChargeSplit]]:
    """charge -> its splits (one query)."""
    out: dict[int, list[ChargeSplit]] = {cid: [] for cid in charge_ids}
    if not out:
        return out
    among, params = db.ids_in(sorted(out))
    for split in _splits_where(f"charge_id {among}", params):
        out[split.charge_id].append(split)
    return out


_FIELDS = ChargeSplit._meta.sorted_fields
_COLUMNS = ", ".join(f.column_name for f in _FIELDS)
_CONVERTED = [(f.name, f.python_value) for f in _FIELDS if f.name in ("denied",)]  # (the rest read as they are)


def _splits_where(where: str, params: list) -> list[ChargeSplit]:
    """The splits ``where`` selects, by id, as model objects (built without peewee's per-field
    setattr: tens of thousands at a time on an 835 or a day of visits)."""
    return _models(db.sql(f"SELECT {_COLUMNS} FROM charge_split WHERE {where} ORDER BY id", params))


def _models(rows) -> list[ChargeSplit]:
    """``ChargeSplit`` objects of rows of :data:`_COLUMNS`, in their order."""
    names = [f.name for f in _FIELDS]
    out = []
    for row in rows:
        split = ChargeSplit(__no_default__=True)
        data = dict(zip(names, row))
        for name, convert in _CONVERTED:
            data[name] = convert(data[name])
        split.__data__ = data
        out.append(split)
    return out


def _key(split: ChargeSplit) -> tuple[int, str, int]:
    data = split.__data__
    return data["charge"], data["rank"], data["payer"]


def splits_for(keys: Sequence[tuple[int, str, int, int]],
               known: dict[int, list[ChargeSplit]] | None = None) -> dict[tuple[int, str, int], ChargeSplit]:
    """``(charge id, rank, payer id)`` -> that split, made empty where new; ``keys`` are
    ``(charge id, rank, payer id, patient id)``.

    ``known`` (charge -> all its splits, as :func:`splits_of` gives them) is read from and
    kept: a charge in it is not read again and the splits made here join it, so steps of one
    posting that share it share one object per split (whose ``balance`` each step keeps)."""
    known = {} if known is None else known
    charges = {k[0] for k in keys}
    unread = sorted(charges.difference(known))
    if unread:
        known.update(splits_of(unread))
    have = {_key(s): s for charge in charges for s in known[charge]}
    new = list(dict.fromkeys(k for k in keys if k[:3] not in have))
    if new:
        rows = [(charge, rank, payer, patient, 0, ChargeSplit.denied.db_value(False), "")
                for charge, rank, payer, patient in new]
        names = ("charge", "rank", "payer", "patient", "balance", "denied", "denial_code")
        returning = f" ON CONFLICT DO NOTHING RETURNING {_COLUMNS}"  # (another clerk may have made one meanwhile)
        if db.is_postgres():  # (one statement: an array parameter per column, see bulk.insert_ids)
            types = pg_types(ChargeSplit, names)
            made = db.sql(unnest_insert(ChargeSplit, names, types) + returning, columns(rows, types)).fetchall()
        else:
            made = []
            for start in range(0, len(rows), CHUNK):
                part = rows[start:start + CHUNK]
                made += db.sql("INSERT INTO charge_split (charge_id, rank, payer_id, patient_id, balance, denied, "
                               "denial_code) VALUES " + ", ".join(["({p}, {p}, {p}, {p}, {p}, {p}, {p})"] * len(part))
                               + returning, [v for row in part for v in row]).fetchall()
        # the splits made, as inserted (by id, as a read would give them)
        _join(known, have, _models(sorted(made, key=lambda row: row[0])))
        missing = sorted({k[0] for k in new if k[:3] not in have})
        if missing:  # made by another clerk meanwhile: read them
            _join(known, have, [s for splits in splits_of(missing).values() for s in splits if _key(s) not in have])
    return {k[:3]: have[k[:3]] for k in keys}


def _join(known: dict[int, list[ChargeSplit]], have: dict, splits: list[ChargeSplit]) -> None:
    """Add splits read after ``known`` was (new ones, by id) to it, each charge's still by id,
    and to ``have``."""
    for split in splits:
        have[_key(split)] = split
        same = known[split.__data__["charge"]]
        same.append(split)
        if len(same) > 1 and same[-2].__data__["id"] > split.__data__["id"]:
            same.sort(key=lambda s: s.__data__["id"])
