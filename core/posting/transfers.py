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
from claimdesk.core.posting.bulk import CHUNK, only


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
    lines = []
    for t in transfers:
        lines += [ledger.ar(t.source, -t.amount, t.reason_code), ledger.ar(t.target, t.amount, t.reason_code)]
    ledger.post("transfer", lines, memo=memo, user=current_user(), encounter_id=only(t.encounter_id for t in transfers),
                patient_id=only(t.source.patient_id for t in transfers))
    for t in transfers:
        t.source.balance -= t.amount
        t.target.balance += t.amount


def move_on(transfers: Sequence[Transfer], *, memo: str) -> list[ChargeSplit]:
    """Send each transfer's amount to the next rank responsible after its source's rank on its
    encounter (the target split made if new) and post them; the targets, in order."""
    insurers = responsibility.insurers_of(t.encounter_id for t in transfers)
    keys = []
    for t in transfers:
        rank = responsibility.following_rank(insurers[t.encounter_id], t.source.rank)
        keys.append((t.source.charge_id, rank, responsibility.payer_at(insurers[t.encounter_id], rank),
                     t.source.patient_id))
    targets = splits_for(keys)
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
    names = [f.name for f in _FIELDS]
    out = []
    for row in db.sql(f"SELECT {_COLUMNS} FROM charge_split WHERE {where} ORDER BY id", params):
        split = ChargeSplit(__no_default__=True)
        data = dict(zip(names, row))
        for name, convert in _CONVERTED:
            data[name] = convert(data[name])
        split.__data__ = data
        out.append(split)
    return out


def splits_for(keys: Sequence[tuple[int, str, int, int]]) -> dict[tuple[int, str, int], ChargeSplit]:
    """``(charge id, rank, payer id)`` -> that split, made empty where new; ``keys`` are
    ``(charge id, rank, payer id, patient id)``."""
    def found(charges) -> dict:
        return {(s.charge_id, s.rank, s.payer_id): s for splits in splits_of(sorted(charges)).values() for s in splits}

    have = found({k[0] for k in keys})
    new = list(dict.fromkeys(k for k in keys if k[:3] not in have))
    if new:
        rows = [(charge, rank, payer, patient, 0, ChargeSplit.denied.db_value(False), "")
                for charge, rank, payer, patient in new]
        made = []
        for start in range(0, len(rows), CHUNK):  # (another clerk may have made one meanwhile)
            part = rows[start:start + CHUNK]
            made += db.sql("INSERT INTO charge_split (charge_id, rank, payer_id, patient_id, balance, denied, "
                           "denial_code) VALUES " + ", ".join(["({p}, {p}, {p}, {p}, {p}, {p}, {p})"] * len(part))
                           + " ON CONFLICT DO NOTHING RETURNING id", [v for row in part for v in row]).fetchall()
        if made:
            among, params = db.ids_in([r[0] for r in made])
            have.update({(s.charge_id, s.rank, s.payer_id): s for s in _splits_where(f"id {among}", params)})
        missing = {k[0] for k in new if k[:3] not in have}
        if missing:  # made by another clerk meanwhile: read them
            have.update(found(missing))
    return {k[:3]: have[k[:3]] for k in keys}
