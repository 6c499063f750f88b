"""Charges: lines of encounters, each owed first by the first responsible rank
(:func:`~.responsibility.first_rank`), one ``charge`` entry for any number of them:

  ``charge``  Dr AR (the first responsible split) / Cr REVENUE, a pair per charge with a fee

A zero fee still gets its split (it shows in Outstanding Zero Splits) and posts nothing.
A line without a control number gets its line number (unique within its encounter).

Voiding charges (:func:`void_charges`) reverses their charge entries (``ledger.reverse_many``),
never edits them; what such an entry also charged for other lines is posted again first, as a
``charge_restated`` entry with the same postings (:data:`RESTATED`), so only the voided lines
come to zero. A charge whose money was paid, adjusted or moved (and not reversed) is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import Sequence

from claimdesk.core import db, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import Charge, ChargeSplit
from claimdesk.core.posting import responsibility
from claimdesk.core.posting.bulk import insert_ids, only


@dataclasses.dataclass(slots=True)
class NewCharge:
    """A charge line to add to encounter ``encounter_id`` (fee in cents). The claim line's
    ``modifiers`` and ``diagnosis_pointers`` are stored comma separated ("25,59", "1,2");
    ``control_no`` None gets the line number."""

    encounter_id: int
    patient_id: int
    service_code_id: int
    units: int
    fee: int
    provider_id: int
    dos: dt.date
    kind: str = "service"
    modifiers: str = ""
    diagnosis_pointers: str = ""
    control_no: str | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PostedCharge:
    """A charge written: its id, line number, first responsible split, and the entry that posted
    its fee (None for a zero fee)."""

    charge_id: int
    line_no: int
    split_id: int
    rank: str
    payer_id: int
    entry_id: int | None = None


def post_charges(charges: Sequence[NewCharge], *, memo: str, entry_per_encounter: bool = False,
                 new_encounters: bool = False) -> list[PostedCharge]:
    """Add ``charges`` (numbered after their encounters' existing lines, in order), each with
    its first responsible split, and post their fees: one entry for all, or with
    ``entry_per_encounter`` one per encounter (written together: each belongs to its own audit
    event, as an imported file's claims do). ``new_encounters``: the encounters were just written
    and have no lines yet (nothing to read). What was written, in order."""
    if not charges:
        return []
    if new_encounters:
        lines_on, taken = defaultdict(int), defaultdict(set)
    else:
        lines_on = _line_counts(c.encounter_id for c in charges)
        taken = defaultdict(set, _control_numbers([e for e, n in lines_on.items() if n]))
    for c in charges:  # numbers given (an imported file's) first: an automatic one never takes them
        if c.control_no:
            taken[c.encounter_id].add(c.control_no)
    insurers = responsibility.insurers_of(c.encounter_id for c in charges)
    charge_rows, owed = [], []
    dos, kind = Charge.dos.db_value, Charge.kind.db_value
    for c in charges:
        lines_on[c.encounter_id] += 1
        line_no = lines_on[c.encounter_id]
        rank = responsibility.first_rank(insurers[c.encounter_id])
        owed.append((line_no, rank, responsibility.payer_at(insurers[c.encounter_id], rank)))
        control = c.control_no or _free_control_no(taken[c.encounter_id], line_no)
        taken[c.encounter_id].add(control)
        charge_rows.append((c.encounter_id, c.patient_id, line_no, c.service_code_id, c.units,
                            c.fee, c.provider_id, dos(c.dos), kind(c.kind), Charge.primary_marked_paid.db_value(False),
                            c.modifiers, c.diagnosis_pointers, control, "active"))
    charge_ids = insert_ids(Charge, ("encounter", "patient", "line_no", "service_code", "units", "fee", "provider",
                                     "dos", "kind", "primary_marked_paid", "modifiers", "diagnosis_pointers",
                                     "control_no", "status"), charge_rows)
    # each split opens with its fee as balance: the fee's AR line below is its first money
    # (``ledger.post_many(splits_opened=True)``)
    split_ids = insert_ids(ChargeSplit, ("charge", "rank", "payer", "patient", "balance", "denied", "denial_code"),
                           [(cid, rank, payer, c.patient_id, c.fee, ChargeSplit.denied.db_value(False), "")
                            for cid, c, (_n, rank, payer) in zip(charge_ids, charges, owed)])
    made = [PostedCharge(cid, n, sid, rank, payer)
            for cid, sid, (n, rank, payer) in zip(charge_ids, split_ids, owed)]
    postings: dict[int | None, list[ledger.Line]] = defaultdict(list)  # encounter (or None: all) -> lines
    for c, m in zip(charges, made):
        if c.fee:
            postings[c.encounter_id if entry_per_encounter else None] += [
                ledger.Line("AR", c.fee, split_id=m.split_id, charge_id=m.charge_id, patient_id=c.patient_id,
                            payer_id=m.payer_id),
                ledger.Line("REVENUE", -c.fee, charge_id=m.charge_id, patient_id=c.patient_id,
                            provider_id=c.provider_id)]
    if not postings:
        return made
    fees = [c for c in charges if c.fee]
    if entry_per_encounter:
        patient_of = {c.encounter_id: c.patient_id for c in fees}
        entries = [ledger.EntryToPost(lines, memo, eid, patient_of[eid]) for eid, lines in postings.items()]
    else:
        entries = [ledger.EntryToPost(postings[None], memo, only(c.encounter_id for c in fees),
                                      only(c.patient_id for c in fees))]
    ids = ledger.post_many("charge", entries, user=current_user(), splits_opened=True)
    entry_of = dict(zip(postings, ids)) if entry_per_encounter else {c.encounter_id: ids[0] for c in fees}
    return [PostedCharge(m.charge_id, m.line_no, m.split_id, m.rank, m.payer_id, entry_of.get(c.encounter_id))
            if c.fee else m for c, m in zip(charges, made)]


def _free_control_no(taken: set[str], line_no: int) -> str:
    """A line's own control number: its line number, or (when an imported line already holds
    that) the line number with the first free suffix (``3-2``)."""
    control, n = str(line_no), 1
    while control in taken:
        n += 1
        control = f"{line_no}-{n}"
    return control


def _control_numbers(encounter_ids: list[int]) -> dict[int, set[str]]:
    """encounter -> the control numbers its lines hold (one query; only encounters that have lines)."""
    if not encounter_ids:
        return {}
    among, params = db.ids_in(encounter_ids)
    out: dict[int, set[str]] = defaultdict(set)
    for eid, control in db.sql(f"SELECT encounter_id, control_no FROM charge WHERE encounter_id {among}", params):
        if control is not None:
            out[eid].add(control)
    return dict(out)


def _line_counts(encounter_ids) -> dict[int, int]:
    """encounter -> how many charge lines it has (one query)."""
    ids = sorted(set(encounter_ids))
    among, params = db.ids_in(ids)
    counts = defaultdict(int, {eid: 0 for eid in ids})
    for eid, n in db.sql(f"SELECT encounter_id, COUNT(*) FROM charge WHERE encounter_id {among} GROUP BY encounter_id",
                         params):
        counts[eid] = int(n)
    return counts


# --- voiding charges ------------------------------------------------------------------------
#: The entry that charges again the other lines of a charge entry a void reverses (reports count
#: it with the reversal: together they take off the voided line only).
RESTATED = "charge_restated"
#: Entries that charge lines, and their reversals: anything else on a line is money moved on it.
_CHARGING = ("charge", RESTATED, "reversal:charge", f"reversal:{RESTATED}")
_KINDS = ", ".join(f"'{k}'" for k in _CHARGING)

def void_charges(charge_ids: Sequence[int], *, memo: str) -> list[int]:
    """Void charges: reverse each one's charge entry, posting first what those entries also charged
    for other lines (so only these come to zero), and mark them void. Refuses a charge already void
    or one on which money was paid, adjusted or moved (payments, adjustments and transfers are
    reversed first, by their own workflows). Zero-fee charges post nothing and are only marked.
    The reversing entries' ids; must run inside a write transaction."""
    ids = sorted(set(int(i) for i in charge_ids))
    if not ids:
        return []
    among, params = db.ids_in(ids)
    void = [cid for cid, status in db.sql(f"SELECT id, status FROM charge WHERE id {among}", params)
            if status != "active"]
    if void:
        raise Refused(f"charge {void[0]} is already void", field="charge_id")
    _refuse_money_moved(ids)
    entries = _open_charge_entries(ids)
    others, encounters, patients = _postings_of_others(entries, ids)
    if others:  # the same postings again, so reversing the whole entries leaves them standing
        ledger.post(RESTATED, others, memo=f"charged again: the lines of entr{'y' if len(entries) == 1 else 'ies'} "
                                           f"{', '.join(map(str, entries))} that stay", user=current_user(),
                    encounter_id=only(encounters), patient_id=only(patients))
    reversed_ids = ledger.reverse_many(entries, memo=memo, user=current_user()) if entries else []
    db.sql(f"UPDATE charge SET status = 'void' WHERE id {among}", params)
    return reversed_ids


def _refuse_money_moved(charge_ids: list[int]) -> None:
    """Refuse when a charge's splits do not hold just what charging it put there: money was paid,
    adjusted or moved on it and not reversed (an entry and its reversal cancel out)."""
    among, params = db.ids_in(charge_ids)
    other = ("FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
             f"WHERE p.charge_id {among} AND e.kind NOT IN ({_KINDS})")
    moved = db.sql(f"SELECT p.charge_id {other} AND p.account = 'AR' GROUP BY p.charge_id, p.split_id "
                   "HAVING SUM(p.amount) <> 0 ORDER BY p.charge_id", params).fetchone()
    if moved:
        kinds = [k for (k,) in db.sql(f"SELECT DISTINCT e.kind {other} AND p.charge_id = {{p}} ORDER BY e.kind",
                                      params + [moved[0]])]
        raise Refused(f"charge {moved[0]} cannot be voided: money was paid, adjusted or moved on it "
                      f"({', '.join(kinds)}); reverse that first", field="charge_id")


def _open_charge_entries(charge_ids: list[int]) -> list[int]:
    """The entries that charge these lines now: ``charge`` (or restated) entries with their REVENUE,
    not reversed."""
    among, params = db.ids_in(charge_ids)
    return [r[0] for r in db.sql(
        "SELECT DISTINCT p.entry_id FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
        f"WHERE p.charge_id {among} AND p.account = 'REVENUE' AND e.kind IN ('charge', '{RESTATED}') "
        "AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses_id = e.id) ORDER BY p.entry_id", params)]


def _postings_of_others(entry_ids: list[int], charge_ids: list[int]) -> tuple[list[ledger.Line], list, list]:
    """The postings ``entry_ids`` made for lines other than ``charge_ids`` (as lines to post again),
    with the entries' encounters and patients."""
    if not entry_ids:
        return [], [], []
    among, params = db.ids_in(entry_ids)
    keep = set(charge_ids)
    lines = [ledger.Line(account, int(amount), split_id=split, charge_id=charge, patient_id=patient, payer_id=payer,
                         provider_id=provider, reason_code=reason)
             for account, amount, split, charge, patient, payer, provider, reason in db.sql(
                 "SELECT account, amount, split_id, charge_id, patient_id, payer_id, provider_id, reason_code "
                 f"FROM posting WHERE entry_id {among} ORDER BY id", params)
             if charge not in keep]
    heads = db.sql(f"SELECT encounter_id, patient_id FROM journal_entry WHERE id {among}", params).fetchall()
    return lines, [h[0] for h in heads], [h[1] for h in heads]
