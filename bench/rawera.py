"""The hand-written baseline of the 835 import: the same file read by the project's own X12
reader (``read_interchange``, ``read_remittance``), then the same rows the core writes, by hand
with the raw driver, set-based (no ORM, no claimdesk services), one transaction per payment
as the core's workflow: the ``era_file`` row; per payment the voucher (undistributed set on
insert) and its ``voucher`` entry, the EOBs with their lines and line adjustments, one credit
per paying EOB (unapplied set on insert: it is all applied) and a credit split per paid line,
the adjustment rows, the patient's splits the PR amounts move to (made with their balance),
five journal entries (voucher, credit, payment, one per adjustment kind, transfer) with every
posting in multi-row INSERTs, the split balances moved by one guarded ``UPDATE ... FROM``, the
``era_payment`` and ``era_claim`` rows, and one hash-chained ``era.payment`` audit event with
its postings digest read back.

Matching is by CLP01 claim number, REF*6R line control number (else code, modifiers, charge and
date), and the payer's rank on the encounter's payer list, as the core's; a claim out of
balance, unmatched, posted before or at another rank is an exception row. What the bench's
file does not hold is refused rather than written half-way: denials, reversals, informational
claims, adjustments above the charge (negative) and lines explaining more than their split
owes (the core pulls balance back from later ranks there).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time

from claimdesk.bench.raw import Raw
from claimdesk.bench.rawpay import audit, daysheet

RANKS = ("primary", "secondary", "tertiary", "patient")
RANK_OF_STATUS = {"1": "primary", "19": "primary", "2": "secondary", "20": "secondary",
                  "3": "tertiary", "21": "tertiary"}
FORWARDED = {"19", "20", "21"}
KIND_OF_GROUP = {"CO": "contractual", "OA": "other_adjustment", "PI": "payer_initiated"}
METHOD_OF = {"CHK": "check", "ACH": "eft", "FWT": "eft", "BOP": "eft", "NON": "eft"}


class NotInBench(Exception):
    """Something the bench's file does not hold and the baseline does not write."""


def post_file(raw: Raw, data: bytes, name: str, now: dt.datetime, user: str) -> dict:
    """Post every payment of one 835 file by hand (see the module); what it did, with the
    reading's seconds (``read_seconds``). The cyclic collector is paused for the whole file, as
    :mod:`.rawimport` does: the file's records (about a million objects) live until it is
    posted, and every full collection on the way would walk them all."""
    from claimdesk.core.x12 import read_interchange
    from claimdesk.core.x12.common import collector_paused
    from claimdesk.core.x12.remittance_reader import read_remittance

    with collector_paused():
        t0 = time.perf_counter()
        digest = hashlib.sha256(data).hexdigest()
        interchange = read_interchange(data)
        remittances = [read_remittance(t) for t in interchange.transactions("835")]
        read_seconds = time.perf_counter() - t0
        out = {"payments": 0, "posted": 0, "exceptions": 0, "paid": 0, "read_seconds": read_seconds}
        file_id = None
        for remittance in remittances:
            raw.begin()
            try:
                if file_id is None:
                    file_id = raw.one("SELECT id FROM era_file WHERE digest = ?", (digest,)) or raw.insert(
                        "era_file", ("digest", "name", "sender_id", "control_number", "file_date", "imported_at",
                                     "imported_by"),
                        [(digest, name, interchange.sender_id, interchange.control_number, interchange.date, now,
                          user)])[0]
                done = _payment(raw, remittance, file_id, name, digest, now, user)
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            out["payments"] += 1
            out["posted"] += done["posted"]
            out["exceptions"] += done["exceptions"]
            out["paid"] += done["paid"]
    return out


# --- reading ------------------------------------------------------------------------------------
def _among(raw: Raw, values: list, kind: str = "BIGINT") -> tuple[str, tuple]:
    """``col <this>`` matching a list: one array parameter (PostgreSQL) or one JSON text (SQLite)."""
    if raw.pg:
        return f"= ANY(CAST(? AS {kind}[]))", (list(values),)
    return "IN (SELECT value FROM json_each(?))", (json.dumps(list(values)),)


@dataclasses.dataclass(slots=True)
class _Split:
    id: int
    charge_id: int
    rank: str
    payer_id: int
    patient_id: int
    balance: int


@dataclasses.dataclass(slots=True)
class _Charge:
    id: int
    control_no: str
    code: str
    modifiers: tuple
    fee: int
    dos: dt.date


@dataclasses.dataclass(slots=True)
class _Encounter:
    id: int
    patient_id: int
    active: bool
    insurers: dict = dataclasses.field(default_factory=dict)
    charges: list = dataclasses.field(default_factory=list)


def _date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


class _OnFile:
    """What one payment's claims match on file, read set-based (five SELECTs)."""

    def __init__(self, raw: Raw, payer_id: int, claims):
        numbers = sorted({c.claim_number for c in claims})
        where, params = _among(raw, numbers, "TEXT")
        rows = raw.q(f"SELECT id, claim_no, patient_id, status FROM encounter WHERE claim_no {where}", params)
        self.by_claim_no = {claim_no: eid for eid, claim_no, _p, _s in rows}
        self.encounters = {eid: _Encounter(eid, pid, status == "active") for eid, _n, pid, status in rows}
        ids = sorted(self.encounters)
        where, params = _among(raw, ids)
        for eid, rank, pid, kind in raw.q("SELECT ep.encounter_id, ep.rank, ep.payer_id, p.kind FROM encounter_payer ep "
                                          f"JOIN payer p ON p.id = ep.payer_id WHERE ep.encounter_id {where}", params):
            if kind not in ("patient", "inactive"):
                self.encounters[eid].insurers[rank] = pid
        self.splits: dict[tuple, _Split] = {}
        seen = set()
        for (cid, eid, control, code, modifiers, fee, dos,
             sid, rank, pid, patient, balance) in raw.q(
                "SELECT c.id, c.encounter_id, c.control_no, s.code, c.modifiers, c.fee, c.dos, "
                "cs.id, cs.rank, cs.payer_id, cs.patient_id, cs.balance FROM charge c "
                "JOIN service_code s ON s.id = c.service_code_id LEFT JOIN charge_split cs ON cs.charge_id = c.id "
                f"WHERE c.encounter_id {where} AND c.status = 'active' ORDER BY c.encounter_id, c.line_no, c.id",
                params):
            if cid not in seen:
                seen.add(cid)
                self.encounters[eid].charges.append(_Charge(cid, control or "", code,
                                                            tuple(m for m in (modifiers or "").split(",") if m),
                                                            fee, _date(dos)))
            if sid is not None:
                self.splits[(cid, rank, pid)] = _Split(sid, cid, rank, pid, patient, balance)
        where, params = _among(raw, numbers, "TEXT")
        self.posted = {tuple(r) for r in raw.q(
            "SELECT c.claim_no, c.payer_claim_no, c.status, c.paid FROM era_claim c JOIN era_payment p "
            f"ON p.id = c.payment_id WHERE p.payer_id = ? AND c.outcome = 'posted' AND c.claim_no {where}",
            (payer_id, *params))}


# --- planning ---------------------------------------------------------------------------------------
def _spread(total: int, weights: list[int]) -> list[int]:
    """``total`` shared by ``weights``, largest remainder (leftover cents to the larger
    remainders, ties to the earlier line; all to the first when the weights are 0)."""
    whole = sum(abs(w) for w in weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign, cents = (1 if total >= 0 else -1), abs(total)
    shares = [cents * abs(w) // whole for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-(cents * abs(weights[i]) % whole), i))[:cents - sum(shares)]:
        shares[i] += 1
    return [sign * s for s in shares]


def _same(line, charge: _Charge) -> bool:
    procedure = line.submitted_procedure or line.procedure
    return (procedure.code == charge.code and tuple(procedure.modifiers) == charge.modifiers
            and line.charge == charge.fee and (line.service_from is None or line.service_from == charge.dos))


def _match_lines(claim, encounter: _Encounter) -> list[_Charge] | None:
    by_control = {c.control_no: c for c in encounter.charges if c.control_no}
    used, out = set(), []
    for line in claim.lines:
        charge = by_control.get(line.control_number) if line.control_number else None
        if charge is None or charge.id in used:
            charge = next((c for c in encounter.charges if c.id not in used and _same(line, c)), None)
        if charge is None or line.charge != charge.fee:
            return None
        used.add(charge.id)
        out.append(charge)
    return out


def _plan(claim, on_file: _OnFile, payer_id: int):
    """``(encounter, rank, lines)`` to post, or ``(encounter, None, why)`` for an exception. A line:
    ``(charge id, allowed, paid, [(group, reason, amount)])``."""
    eid = on_file.by_claim_no.get(claim.claim_number)
    encounter = on_file.encounters.get(eid) if eid is not None else None
    if claim.refusal is not None:
        return encounter, None, str(claim.refusal)
    if claim.status not in RANK_OF_STATUS:
        raise NotInBench(f"claim {claim.claim_number}: status {claim.status} (the bench posts paid claims only)")
    if (claim.claim_number, claim.payer_claim_number, claim.status, claim.paid) in on_file.posted:
        return encounter, None, f"claim {claim.claim_number} was already posted"
    if encounter is None:
        return None, None, f"no claim numbered {claim.claim_number} is on file"
    if not encounter.active:
        return encounter, None, f"encounter {encounter.id} was removed"
    rank = next((r for r, p in encounter.insurers.items() if p == payer_id), None)
    if rank is None or rank != RANK_OF_STATUS[claim.status]:
        return encounter, None, f"this payer is not the {RANK_OF_STATUS[claim.status]} payer on encounter {encounter.id}"
    if claim.lines:
        charges = _match_lines(claim, encounter)
        if charges is None:
            return encounter, None, f"claim {claim.claim_number}: a line matches no open line"
        paid = [int(ln.paid) for ln in claim.lines]  # (plain ints: Cents arithmetic is Python code)
        weights = paid if any(paid) else [int(ln.charge) for ln in claim.lines]
        allowed = [int(ln.allowed or 0) for ln in claim.lines]
        own = [[(a.group, a.reason, int(a.amount)) for a in ln.adjustments] for ln in claim.lines]
    else:
        charges = list(encounter.charges)
        if not charges or sum(c.fee for c in charges) != claim.charge:
            return encounter, None, f"claim {claim.claim_number}: no lines and not the encounter's charge"
        weights = [c.fee for c in charges]
        paid, allowed, own = list(weights), [0] * len(charges), [[] for _ in charges]
    for a in claim.adjustments:
        for i, cents in enumerate(_spread(int(a.amount), weights)):
            if cents:
                own[i].append((a.group, a.reason, cents))
                paid[i] -= cents
    lines = []
    for charge, al, pd, adjs in zip(charges, allowed, paid, own):
        kept = [x for x in adjs if x[2] and not (rank != "primary" and x[1] == "23")]
        lines.append((charge.id, al, pd, kept))
    return encounter, rank, lines


# --- writing ------------------------------------------------------------------------------------------
def _payment(raw: Raw, remittance, file_id: int, name: str, digest: str, now: dt.datetime, user: str) -> dict:
    if remittance.refusal is not None or remittance.amount < 0:
        raise NotInBench(f"payment {remittance.trace_number} is refused or a debit")
    rows = raw.q("SELECT id FROM payer WHERE UPPER(payer_code) = ?", (remittance.payer.payer_id.strip().upper(),))
    if len(rows) != 1:
        raise NotInBench(f"payer {remittance.payer.payer_id} is not on file once")
    payer_id = rows[0][0]
    if raw.pg:
        raw.q("SELECT pg_advisory_xact_lock(?)", (7_340_835,))
    if raw.one("SELECT id FROM era_payment WHERE payer_id = ? AND trace_number = ? AND amount = ?",
               (payer_id, remittance.trace_number, remittance.amount)):
        raise NotInBench(f"payment {remittance.trace_number} was posted before")
    claims = list(remittance.claims)
    on_file = _OnFile(raw, payer_id, claims)
    plans = [_plan(c, on_file, payer_id) for c in claims]
    patient_payer = raw.one("SELECT id FROM payer WHERE name = 'Patient'")
    sheet = daysheet(raw, now.date())

    # the money each line moves: paid, adjustments by kind, PR to the next rank
    todo = [(k, enc, rank, lines) for k, (enc, rank, lines) in enumerate(plans) if rank is not None]
    paid_total = sum(pd for _k, _e, _r, lines in todo for _c, _a, pd, _x in lines)
    plb = sum(a.amount for a in remittance.provider_adjustments)
    if paid_total > remittance.amount - plb:
        raise NotInBench("the payment does not cover its claims")
    delta: dict[int, int] = {}  # split -> balance change
    new_splits: dict[tuple, list] = {}  # (charge, rank, payer) -> [patient, balance] of a split to make
    for _k, enc, rank, lines in todo:
        for cid, _al, pd, adjs in lines:
            split = on_file.splits[(cid, rank, on_file.encounters[enc.id].insurers[rank])]
            if pd + sum(x[2] for x in adjs) > split.balance + delta.get(split.id, 0):
                raise NotInBench(f"charge {cid}: the line explains more than its split owes")
            if any(x[2] < 0 for x in adjs):
                raise NotInBench(f"charge {cid}: an adjustment above the charge")
            delta[split.id] = delta.get(split.id, 0) - pd - sum(x[2] for x in adjs)
            for group, _reason, cents in adjs:
                if group == "PR":
                    later = next((r for r in RANKS[RANKS.index(rank) + 1:] if r in enc.insurers), "patient")
                    key = (cid, later, enc.insurers[later] if later != "patient" else patient_payer)
                    if key in on_file.splits:
                        delta[on_file.splits[key].id] = delta.get(on_file.splits[key].id, 0) + cents
                    else:
                        new_splits.setdefault(key, [split.patient_id, 0])[1] += cents
    if any(key[1] != "patient" for key in new_splits) or any(
            s.rank != "patient" and d > 0 for s in on_file.splits.values() if (d := delta.get(s.id, 0))):
        raise NotInBench("patient responsibility moved to a later insurer (a claim to queue)")

    # the voucher (its undistributed money as it ends), the EOBs, their lines and adjustments
    undistributed = remittance.amount - plb - paid_total
    voucher_id = raw.insert("voucher", ("payer_id", "method", "reference", "received_on", "amount", "undistributed",
                                        "details", "status", "returned_on", "return_reason", "created_at",
                                        "created_by"),
                       [(payer_id, METHOD_OF[remittance.method], remittance.trace_number, remittance.date,
                         remittance.amount, undistributed,
                         json.dumps({"bpr04": remittance.method, "era": True,
                                     "trace_payer_id": remittance.trace_payer_id}, sort_keys=True),
                         "active", None, "", now, user)])[0]
    eob_ids = raw.insert("eob", ("encounter_id", "payer_id", "rank", "voucher_id", "received_on", "claim_ref", "dummy"),
                    [(enc.id, payer_id, rank, voucher_id, remittance.date, claims[k].payer_claim_number[:40], False)
                     for k, enc, rank, _l in todo])
    line_ids = raw.insert("eob_line", ("eob_id", "charge_id", "allowed", "paid", "denied", "denial_code"),
                     [(eob, cid, al, pd, False, "") for eob, (_k, _e, _r, lines) in zip(eob_ids, todo)
                      for cid, al, pd, _x in lines])
    flat = [(eob, k, enc, rank, line) for eob, (k, enc, rank, lines) in zip(eob_ids, todo) for line in lines]
    raw.insert("eob_adjustment", ("line_id", "group_code", "reason_code", "amount"),
          [(lid, g, r, cents) for lid, (_eob, _k, _e, _r, (_c, _a, _p, adjs)) in zip(line_ids, flat)
           for g, r, cents in adjs], returning=False)

    # one credit per paying EOB (all of it applied), a credit split per paid line
    paying = [(eob, enc, sum(ln[2] for ln in lines)) for eob, (_k, enc, _r, lines) in zip(eob_ids, todo)
              if sum(ln[2] for ln in lines)]
    credit_ids = raw.insert("credit", ("patient_id", "payer_id", "voucher_id", "method", "keep_unapplied", "unapplied",
                                       "posted_on", "memo", "created_at", "created_by"),
                       [(enc.patient_id, payer_id, voucher_id, METHOD_OF[remittance.method], False, 0, now.date(),
                         f"EOB {eob}", now, user) for eob, enc, _p in paying])
    credit_of = {eob: cid for (eob, _e, _p), cid in zip(paying, credit_ids)}
    split_of = lambda enc, rank, cid: on_file.splits[(cid, rank, enc.insurers[rank])]
    applied = [(eob, split_of(enc, rank, line[0]), line[2]) for eob, _k, enc, rank, line in flat if line[2]]
    cs_ids = raw.insert("credit_split", ("credit_id", "charge_id", "split_id", "created_at"),
                   [(credit_of[eob], s.charge_id, s.id, now) for eob, s, _p in applied])

    # the payer's adjustments, and the patient's splits PR moves to (made with their balance)
    adjusted = [(eob, split_of(enc, rank, line[0]), enc.id, g, r, cents) for eob, _k, enc, rank, line in flat
                for g, r, cents in line[3] if g != "PR"]
    raw.insert("adjustment", ("charge_id", "split_id", "kind", "reason_code", "group_code", "amount", "memo",
                              "created_at", "created_by"),
          [(s.charge_id, s.id, KIND_OF_GROUP.get(g, "contractual"), r, g, cents, f"EOB {eob}", now, user)
           for eob, s, _e, g, r, cents in adjusted], returning=False)
    keys = list(new_splits)
    made = raw.insert("charge_split", ("charge_id", "rank", "payer_id", "patient_id", "balance", "denied", "denial_code"),
                 [(*key, new_splits[key][0], new_splits[key][1], False, "") for key in keys])
    target = dict(on_file.splits)
    for key, sid in zip(keys, made):
        target[key] = _Split(sid, key[0], key[1], key[2], new_splits[key][0], 0)

    # the entries and all their postings
    head = f"EOB {eob_ids[0]}" if len(eob_ids) == 1 else f"EOBs {eob_ids[0]}-{eob_ids[-1]}" if eob_ids else "EOBs"
    P = lambda acct, amt, s=None, voucher=None, credit=None, cs=None, reason="", payer=None, patient=None: (
        acct, amt, s.id if s else None, s.charge_id if s else None, s.patient_id if s else patient,
        s.payer_id if s else payer, voucher, credit, cs, None, reason)
    entries: list[tuple[str, str, int | None, int | None, list]] = []  # kind, memo, encounter, patient, postings
    if remittance.amount:
        entries.append(("voucher", f"835 {remittance.method} {remittance.trace_number}", None, None,
                        [P("CASH", remittance.amount, voucher=voucher_id, payer=payer_id),
                         P("UNDISTRIBUTED", -remittance.amount, voucher=voucher_id, payer=payer_id)]))
    if plb:
        raise NotInBench("PLB provider adjustments")
    if paying:
        patients = {enc.patient_id for _eob, enc, _p in paying}
        one = next(iter(patients)) if len(patients) == 1 else None
        entries.append(("credit", head, None, one,
                        [P("UNDISTRIBUTED", paid_total, voucher=voucher_id, payer=payer_id)]
                        + [P("UNAPPLIED", -p, voucher=voucher_id, credit=cid, payer=payer_id, patient=enc.patient_id)
                           for (_eob, enc, p), cid in zip(paying, credit_ids)]))
        postings = []
        for (eob, s, cents), cs in zip(applied, cs_ids):  # (tuples in posting column order)
            postings += [("UNAPPLIED", cents, s.id, s.charge_id, s.patient_id, s.payer_id, voucher_id, credit_of[eob],
                          cs, None, ""), ("AR", -cents, s.id, s.charge_id, s.patient_id, s.payer_id, None, None, cs,
                                          None, "")]
        entries.append(("payment", head + (" payment" if len(eob_ids) == 1 else " payments"), None, one, postings))
    by_kind: dict[str, list] = {}
    for _eob, s, eid, g, r, cents in adjusted:
        by_kind.setdefault(KIND_OF_GROUP.get(g, "contractual"), []).append((s, eid, f"{g}-{r}", cents))
    for kind, items in by_kind.items():
        account = "CONTRACTUAL"
        encs, pats = {i[1] for i in items}, {i[0].patient_id for i in items}
        entries.append((kind, head, next(iter(encs)) if len(encs) == 1 else None,
                        next(iter(pats)) if len(pats) == 1 else None,
                        [p for s, _e, code, cents in items for p in (
                            (account, cents, s.id, s.charge_id, s.patient_id, s.payer_id, None, None, None, None, code),
                            ("AR", -cents, s.id, s.charge_id, s.patient_id, s.payer_id, None, None, None, None, code))]))
    moves = []
    for _eob, _k, enc, rank, (cid, _a, _p, adjs) in flat:
        for g, r, cents in adjs:
            if g == "PR":
                later = next((x for x in RANKS[RANKS.index(rank) + 1:] if x in enc.insurers), "patient")
                moves.append((split_of(enc, rank, cid), target[(cid, later, enc.insurers[later] if later != "patient"
                                                                else patient_payer)], enc.id, f"PR-{r}", cents))
    if moves:
        encs, pats = {m[2] for m in moves}, {m[0].patient_id for m in moves}
        entries.append(("transfer", head + ": patient responsibility", next(iter(encs)) if len(encs) == 1 else None,
                        next(iter(pats)) if len(pats) == 1 else None,
                        [p for a, b, _e, code, cents in moves for p in (
                            ("AR", -cents, a.id, a.charge_id, a.patient_id, a.payer_id, None, None, None, None, code),
                            ("AR", cents, b.id, b.charge_id, b.patient_id, b.payer_id, None, None, None, None, code))]))
    entry_ids = raw.insert("journal_entry", ("posted_at", "posted_on", "daysheet_id", "kind", "memo", "created_by",
                                             "reverses_id", "encounter_id", "patient_id"),
                      [(now, now.date(), sheet, kind, memo[:250], user, None, enc, pat)
                       for kind, memo, enc, pat, _p in entries])
    raw.insert("posting", ("entry_id", "account", "amount", "split_id", "charge_id", "patient_id", "payer_id",
                           "voucher_id", "credit_id", "credit_split_id", "provider_id", "reason_code"),
          [(eid, *p) for eid, (*_h, postings) in zip(entry_ids, entries) for p in postings], returning=False)

    # the primary splits' balances (the new splits were made with theirs), guarded
    changes = [(sid, d) for sid, d in delta.items() if d]
    for start in range(0, len(changes), 5000):
        part = changes[start:start + 5000]
        if raw.pg:
            source = "SELECT unnest(CAST(? AS BIGINT[])) AS id, unnest(CAST(? AS BIGINT[])) AS delta"
            params = [[i for i, _ in part], [d for _, d in part]]
        else:
            source = "SELECT column1 AS id, column2 AS delta FROM (VALUES " + ", ".join(["(?, ?)"] * len(part)) + ") AS v"
            params = [v for pair in part for v in pair]
        raw.cur.execute(raw.sql(f"UPDATE charge_split SET balance = charge_split.balance + d.delta FROM ({source}) AS d "
                                "WHERE charge_split.id = d.id AND charge_split.balance + d.delta >= 0"), params)
        if raw.cur.rowcount != len(part):
            raise RuntimeError("a split would go below zero")

    # the payment's own rows and its audit event
    payment_id = raw.insert("era_payment", ("file_id", "payer_id", "trace_number", "amount", "method", "paid_on",
                                            "control_number", "voucher_id", "audit_id", "provider_adjustments"),
                       [(file_id, payer_id, remittance.trace_number, remittance.amount, remittance.method,
                         remittance.date, remittance.control_number, voucher_id, None, "[]")])[0]
    eob_of = {k: eob for eob, (k, *_rest) in zip(eob_ids, todo)}
    raw.insert("era_claim", ("payment_id", "claim_no", "payer_claim_no", "status", "charge", "paid", "encounter_id",
                             "eob_id", "reverses_id", "outcome", "reason", "remarks", "line", "claim", "resolved_by",
                             "resolution"),
          [(payment_id, c.claim_number, c.payer_claim_number, c.status, c.charge, c.paid, enc.id if enc else None,
            eob_of.get(k), None, "posted" if rank is not None else "exception", "" if rank is not None else why,
            ",".join(dict.fromkeys([*c.remarks, *(r for s in c.lines for r in s.remarks)]))[:250], c.place.line if c.place else 0, None if rank is not None else json.dumps({"claim_no": c.claim_number}),
            "", "") for k, (c, (enc, rank, why)) in enumerate(zip(claims, plans))], returning=False)
    exceptions = [{"claim_no": c.claim_number, "reason": why} for c, (_e, rank, why) in zip(claims, plans)
                  if rank is None]
    result = {"payment_id": payment_id, "voucher_id": voucher_id, "amount": remittance.amount,
              "tallies": {"post": len(todo), **({"exception": len(exceptions)} if exceptions else {})},
              "posted_paid": paid_total, "undistributed": undistributed, "provider_total": plb,
              "claims_voided": [], "encounters_to_review": [], "exceptions": exceptions}
    inputs = {"file": name, "digest": digest, "trace_number": remittance.trace_number,
              "payer_code": remittance.payer.payer_id, "amount": remittance.amount,
              "paid_on": remittance.date.isoformat()}
    audit_id = audit(raw, "era.payment", inputs, result, entry_ids, now, user)
    raw.q("UPDATE era_payment SET audit_id = ? WHERE id = ?", (audit_id, payment_id))
    return {"posted": len(todo), "exceptions": len(exceptions), "paid": paid_total}
