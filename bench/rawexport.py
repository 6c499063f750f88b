"""The hand-written baseline of the 837P export: the queued claims' columns read with the raw
driver (the same set-based reads as the core: claims with their encounter and patient, payers,
providers, payer slots with their coverages, splits, active service lines, the earlier payers'
EOB lines not reversed and their adjustments), the 837P text built by hand as strings, one file
per payer, and the same rows written in one transaction: a ``claim_batch`` per payer, its claims
marked sent, the next interchange control number (``x12_control``), the file (private, as the
core writes it: ``0600`` under a temporary name, synced, renamed into place), its ``claim_file``
row. No records, no formatter, no checks of the values against the delimiters and no balance
check (the core's extra work); a claim the core would hold for a missing fact is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from claimdesk.bench.raw import Raw
from claimdesk.core.services.claim_export import explained_adjustments

RANKS = ("primary", "secondary", "tertiary")
SEQUENCE = {"primary": "P", "secondary": "S", "tertiary": "T"}
#: claim_rules.RELATIONSHIP_CODES and PLAN_TYPE_BY_PAYER_KIND (constants, copied)
RELATIONSHIP = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
PLAN_TYPE = {"medicare": "MB", "medicaid": "MC", "commercial": "CI", "workers_comp": "WC"}
IMPLEMENTATION = "005010X222A1"


def _ids(raw: Raw) -> str:
    return "= ANY(CAST(? AS BIGINT[]))" if raw.pg else "IN (SELECT value FROM json_each(?))"


def _param(raw: Raw, ids: list[int]):
    return (list(ids),) if raw.pg else (json.dumps(list(ids)),)


def _day(value) -> str:
    """A date (or SQLite's text of one) as CCYYMMDD."""
    return value.strftime("%Y%m%d") if isinstance(value, dt.date) else str(value)[:10].replace("-", "")


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}" if not frac else f"{sign}{whole}.{frac:02d}".rstrip("0")


def _seg(*elements: str) -> str:
    """Elements joined, trailing empty ones dropped, terminated."""
    text = "*".join(elements).rstrip("*")
    return text + "~\n"


def _n3n4(line, city, state, zip_code) -> str:
    if not (line and city and state and zip_code):
        return ""
    return f"N3*{line.upper()}~\nN4*{city.upper()}*{state.upper()}*{zip_code.replace('-', '')}~\n"


def _name(qualifier: str, provider: tuple, ident_qualifier: str = "XX") -> str:
    """NM1 of a provider row (id, name, npi, entity, last, first, taxonomy, tax_id)."""
    _id, name, npi, entity, last, first, _tax, _tin = provider
    if entity == "organization":
        return _seg("NM1", qualifier, "2", (last or name).upper(), "", "", "", "", ident_qualifier, npi)
    return _seg("NM1", qualifier, "1", (last or name).upper(), (first or "").upper(), "", "", "", ident_qualifier, npi)


def _provider_key(provider: tuple) -> tuple:
    _id, name, npi, entity, last, first, taxonomy, tax_id = provider
    return (entity == "organization", (last or name).upper(), "" if entity == "organization" else (first or "").upper(),
            npi, taxonomy, tax_id)


def export(raw: Raw, ids: list[int], out_dir: Path, clinic, edi, now: dt.datetime, user: str
           ) -> tuple[list[dict], float]:
    """Export the queued claims ``ids`` by hand (see the module); per file what it holds, and the reads' seconds."""
    raw.begin()
    try:
        t0 = time.perf_counter()
        reads = _read(raw, ids)
        read_seconds = time.perf_counter() - t0
        made = _write(raw, reads, out_dir, clinic, edi, now, user)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    return made, read_seconds


def _read(raw: Raw, ids: list[int]) -> dict:
    match = _ids(raw)
    claims = raw.q(
        "SELECT c.id, c.encounter_id, c.payer_id, c.rank, c.resend, c.voids, e.claim_no, e.place_of_service, "
        "e.diagnoses, e.provider_id, e.referring_provider_id, e.patient_id, p.last_name, p.first_name, "
        "p.dob, p.sex, p.address, p.city, p.state, p.zip "
        "FROM claim c JOIN encounter e ON e.id = c.encounter_id JOIN patient p ON p.id = e.patient_id "
        f"WHERE c.id {match} AND c.status = 'queued' ORDER BY c.payer_id, c.id", _param(raw, sorted(ids)))
    encounters = sorted({row[1] for row in claims})
    enc = _param(raw, encounters)
    payers = {row[0]: row for row in raw.q("SELECT id, name, payer_code, address, city, state, zip, kind FROM payer")}
    providers = {row[0]: row for row in raw.q(
        "SELECT id, name, npi, entity, last_name, first_name, taxonomy, tax_id FROM provider")}
    slots: dict[int, dict[str, tuple]] = defaultdict(dict)
    for row in raw.q(
            "SELECT ep.encounter_id, ep.rank, ep.payer_id, ep.placeholder, cv.member_id, cv.group_no, "
            "cv.relationship, cv.plan_type, cv.subscriber_last_name, cv.subscriber_first_name, cv.subscriber_dob, "
            "cv.subscriber_sex, cv.subscriber_address, cv.subscriber_city, cv.subscriber_state, cv.subscriber_zip, "
            "cv.id FROM encounter_payer ep LEFT JOIN coverage cv ON cv.id = ep.coverage_id "
            f"WHERE ep.encounter_id {match}", enc):
        slots[row[0]][row[1]] = row
    owed = set(raw.q("SELECT s.charge_id, s.rank, s.payer_id FROM charge_split s JOIN charge ch ON ch.id = s.charge_id "
                     f"WHERE ch.encounter_id {match}", enc))
    lines: dict[int, list[tuple]] = defaultdict(list)
    for row in raw.q(
            "SELECT ch.encounter_id, ch.id, ch.line_no, sc.code, ch.units, ch.fee, ch.dos, ch.modifiers, "
            "ch.diagnosis_pointers, ch.control_no, ch.provider_id FROM charge ch "
            f"JOIN service_code sc ON sc.id = ch.service_code_id WHERE ch.encounter_id {match} "
            "AND ch.status = 'active' AND ch.kind = 'service' ORDER BY ch.encounter_id, ch.line_no, ch.id", enc):
        lines[row[0]].append(row)
    results: dict[tuple, dict[int, list]] = defaultdict(dict)
    refs: dict[tuple, str] = {}
    line_key: dict[int, tuple] = {}
    for e, payer_id, rank, received, ref, line_id, charge_id, paid, denied, denial in raw.q(
            "SELECT eob.encounter_id, eob.payer_id, eob.rank, eob.received_on, eob.claim_ref, el.id, el.charge_id, "
            "el.paid, el.denied, el.denial_code FROM eob JOIN eob_line el ON el.eob_id = eob.id "
            f"WHERE eob.encounter_id {match} AND NOT EXISTS "
            "(SELECT 1 FROM era_claim rc WHERE rc.reverses_id = eob.id) ORDER BY eob.id, el.id", enc):
        key = (e, payer_id, rank)
        got = results[key].setdefault(charge_id, [0, {}, "", ""])
        got[0] += int(paid)
        if denied and "-" in (denial or ""):
            got[3] = denial
        day = str(received)[:10] if received is not None else ""
        got[2] = max(got[2], day)
        line_key[line_id] = (key, charge_id)
        if ref:
            refs[key] = ref
    for line_id, group, reason, cents in raw.q(
            "SELECT a.line_id, a.group_code, a.reason_code, a.amount FROM eob_adjustment a "
            "JOIN eob_line el ON el.id = a.line_id JOIN eob ON eob.id = el.eob_id "
            f"WHERE eob.encounter_id {match} ORDER BY a.id", enc):
        if line_id in line_key:
            key, charge_id = line_key[line_id]
            adjustments = results[key][charge_id][1]
            adjustments[(group, reason)] = adjustments.get((group, reason), 0) + int(cents)
    return {"claims": claims, "payers": payers, "providers": providers, "slots": slots, "owed": owed,
            "lines": lines, "results": results, "refs": refs}


def _subscriber(slot: tuple, payer: tuple, patient: tuple) -> tuple:
    """(sequence, relationship code, group, filing, last, first, member id, birth, sex, address N3/N4)."""
    (_, rank, _, _, member, group, relationship, plan_type, s_last, s_first, s_dob, s_sex,
     s_address, s_city, s_state, s_zip, _) = slot
    filing = plan_type or PLAN_TYPE.get(payer[7], "") or "CI"
    if (relationship or "self") == "self":
        last, first, dob, sex, address, city, state, zip_code = patient
        return (SEQUENCE[rank], "18", group or "", filing, last.upper(), first.upper(), member or "", dob, sex or "U",
                _n3n4(address, city, state, zip_code))
    return (SEQUENCE[rank], RELATIONSHIP[relationship], group or "", filing, (s_last or "").upper(),
            (s_first or "").upper(), member or "", s_dob, s_sex or "U", _n3n4(s_address, s_city, s_state, s_zip))


# the same reading of an EOB line as the core's (a rule, not the work being measured)
_explained = explained_adjustments


def _cas(adjustments: dict) -> str:
    by_group: dict[str, list] = {}
    for (group, reason), cents in adjustments.items():
        if cents:
            by_group.setdefault(group, []).append((reason, cents))
    out = []
    for group, items in by_group.items():
        for start in range(0, len(items), 6):
            out.append(_seg("CAS", group, "**".join(f"{r}*{_amount(c)}" for r, c in items[start:start + 6])))
    return "".join(out)


def _claim(reads: dict, row: tuple, hl: int) -> tuple[str, int, int] | None:
    """One claim's segments (2000B to its last 2430), the next HL and the claim's total; None when held."""
    (_cid, enc, payer_id, rank, resend, voids, claim_no, place, diagnoses, provider_id, referring_id, _pid,
     last, first, dob, sex, address, city, state, zip_code) = row
    payers, providers, results = reads["payers"], reads["providers"], reads["results"]
    payer = payers[payer_id]
    slots = reads["slots"].get(enc, {})
    slot = slots.get(rank)
    codes = [d for d in (diagnoses or "").split(",") if d]
    rendering = providers[provider_id]
    if (not payer[2] or slot is None or slot[2] != payer_id or slot[16] is None or not slot[4] or dob is None
            or not codes or not rendering[2]):
        return None
    patient = (last, first, dob, sex, address, city, state, zip_code)
    sub = _subscriber(slot, payer, patient)
    owed = reads["owed"]
    charges = [c for c in reads["lines"].get(enc, []) if (c[1], rank, payer_id) in owed or not int(c[5])]
    if not charges:
        return None
    included = {c[1] for c in charges}
    dependant = sub[1] != "18"
    # 2320: each earlier payer with its result, then the next one for information
    others, mine = [], RANKS.index(rank)
    for position, other_rank in enumerate(RANKS):
        other = slots.get(other_rank)
        if position == mine or other is None or other[3] or other[16] is None:
            continue
        other_payer = payers[other[2]]
        if other_payer[7] in ("patient", "inactive") or not other_payer[2]:
            continue
        if position > mine:
            if position == mine + 1:
                others.append((other_rank, other_payer, _subscriber(other, other_payer, patient), None, None))
            continue
        got = results.get((enc, other_payer[0], other_rank))
        if not got:
            return None
        shown = [g for charge_id, g in got.items() if charge_id in included]
        paid = sum(g[0] for g in shown)
        left = sum(c for g in shown for (grp, _), c in g[1].items() if grp == "PR")
        others.append((other_rank, other_payer, _subscriber(other, other_payer, patient), paid, left))
    relationship = "18" if not dependant else sub[1]
    total, body = 0, []
    rendering_key = _provider_key(rendering)
    for number, (_, charge_id, _, code, units, fee, dos, modifiers, pointers, control, line_provider) in enumerate(
            charges, start=1):
        fee, units = int(fee), str(int(units))
        total += fee
        procedure = ":".join(["HC", code, *[m for m in (modifiers or "").split(",") if m]])
        body.append(f"LX*{number}~\nSV1*{procedure}*{_amount(fee)}*UN*{units}***"
                    f"{':'.join(p for p in (pointers or '').split(',') if p) or '1'}~\n"
                    f"DTP*472*D8*{_day(dos)}~\n")
        if control:
            body.append(f"REF*6R*{control}~\n")
        own = providers[line_provider]
        if line_provider != provider_id and own[2] and _provider_key(own) != rendering_key:
            body.append(_name("82", own))
            if own[6]:
                body.append(f"PRV*PE*PXC*{own[6]}~\n")
        previous = None
        for other_rank, other_payer, _s, paid, _left in others:
            if paid is None:
                continue
            got = results.get((enc, slots[other_rank][2], other_rank), {}).get(charge_id)
            if got is None:
                if fee == 0:
                    continue
                return None
            body.append(f"SVD*{other_payer[2]}*{_amount(got[0])}*{procedure}**{units}~\n")
            body.append(_cas(_explained(got, fee, previous)))
            previous = got
            if got[2]:
                body.append(f"DTP*573*D8*{got[2].replace('-', '')}~\n")
    frequency, reference = "1", reads["refs"].get((enc, payer_id, rank), "")
    if voids:
        if not reference:
            return None
        frequency = "8"
    elif resend and reference:
        frequency = "7"
    else:
        reference = ""
    out = [f"HL*{hl}*1*22*{1 if dependant else 0}~\n",
           _seg("SBR", sub[0], "" if dependant else "18", sub[2], "", "", "", "", "", sub[3]),
           _seg("NM1", "IL", "1", sub[4], sub[5], "", "", "", "MI", sub[6])]
    if not dependant:
        out.append(sub[9])
        out.append(f"DMG*D8*{_day(sub[7])}*{sub[8]}~\n")
    out.append(f"NM1*PR*2*{payer[1].upper()}*****PI*{payer[2]}~\n")
    out.append(_n3n4(*payer[3:7]))
    if dependant:
        out.append(f"HL*{hl + 1}*{hl}*23*0~\nPAT*{sub[1]}~\n")
        out.append(_seg("NM1", "QC", "1", last.upper(), first.upper()))
        out.append(_n3n4(address, city, state, zip_code))
        out.append(f"DMG*D8*{_day(dob)}*{sex or 'U'}~\n")
    out.append(f"CLM*{claim_no}*{_amount(total)}***{place}:B:{frequency}*Y*A*Y*Y~\n")
    if reference:
        out.append(f"REF*F8*{reference}~\n")
    out.append("HI*" + "*".join(("ABK:" if i == 0 else "ABF:") + c for i, c in enumerate(codes)) + "~\n")
    referring = providers.get(referring_id) if referring_id else None
    if referring is not None and referring[2]:
        out.append(_name("DN", referring))
    out.append(_name("82", rendering))
    if rendering[6]:
        out.append(f"PRV*PE*PXC*{rendering[6]}~\n")
    for _rank, other_payer, osub, paid, left in others:
        out.append(_seg("SBR", osub[0], relationship, osub[2], "", "", "", "", "", osub[3]))
        if paid is not None:
            out.append(f"AMT*D*{_amount(paid)}~\n")
        if left is not None:
            out.append(f"AMT*EAF*{_amount(left)}~\n")
        out.append("OI***Y***Y~\n")
        out.append(_seg("NM1", "IL", "1", osub[4], osub[5], "", "", "", "MI", osub[6]))
        out.append(f"NM1*PR*2*{other_payer[1].upper()}*****PI*{other_payer[2]}~\n")
    out += body
    return "".join(out), hl + (2 if dependant else 1), total


def _write(raw: Raw, reads: dict, out_dir: Path, clinic, edi, now: dt.datetime, user: str) -> list[dict]:
    by_payer: dict[int, list[tuple]] = defaultdict(list)
    for row in reads["claims"]:
        by_payer[row[2]].append(row)
    day, hhmm = now.strftime("%Y%m%d"), now.strftime("%H%M")
    submitter_name = (edi.submitter_name or clinic.name).upper()
    submitter_id = edi.submitter_id or clinic.tax_id
    contact = (edi.contact or "BILLING OFFICE").upper()
    phone = "".join(ch for ch in clinic.phone if ch.isdigit()) or "0000000000"
    billing = (("" if not clinic.taxonomy else f"PRV*BI*PXC*{clinic.taxonomy}~\n")
               + f"NM1*85*2*{clinic.name.upper()}*****XX*{clinic.npi}~\n"
               + f"N3*{clinic.address.upper()}~\nN4*{clinic.city.upper()}*{clinic.state}*{clinic.zip}~\n"
               + f"REF*EI*{clinic.tax_id}~\n")
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = []
    for payer_id in sorted(by_payer):
        payer = reads["payers"][payer_id]
        parts, hl, total, sent = [], 2, 0, []
        for row in by_payer[payer_id]:
            got = _claim(reads, row, hl)
            if got is None:
                continue
            text, hl, cents = got
            parts.append(text)
            total += cents
            sent.append(row[0])
        if not sent:
            continue
        batch = raw.q("INSERT INTO claim_batch (created_at, created_by, export_path) VALUES (?, ?, '') RETURNING id",
                      (now, user))[0][0]
        raw.q(f"UPDATE claim SET status = 'sent', sent_at = ?, batch_id = ? WHERE id {_ids(raw)}",
              (now, batch, *_param(raw, sent)))
        number = raw.q("UPDATE x12_control SET last = last + 1 WHERE name = 'interchange' RETURNING last")[0][0]
        receiver_id = edi.receiver_id or payer[2]
        receiver_name = (edi.receiver_name or payer[1]).upper()
        head = (f"ST*837*0001*{IMPLEMENTATION}~\nBHT*0019*00*{number:09d}*{day}*{hhmm}*CH~\n"
                f"NM1*41*2*{submitter_name}*****46*{submitter_id}~\nPER*IC*{contact}*TE*{phone}~\n"
                f"NM1*40*2*{receiver_name}*****46*{receiver_id}~\nHL*1**20*1~\n{billing}")
        body = head + "".join(parts)
        segments = body.count("~") + 1
        text = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{submitter_id:<15}*ZZ*{receiver_id:<15}*{now:%y%m%d}*{hhmm}*^*00501*"
                f"{number:09d}*0*{edi.usage}*:~\nGS*HC*{submitter_id}*{receiver_id}*{day}*{hhmm}*{number}*X*"
                f"{IMPLEMENTATION}~\n{body}SE*{segments}*0001~\nGE*1*{number}~\nIEA*1*{number:09d}~\n")
        path = out_dir / f"claims-batch-{batch:06d}-{number:09d}.837"
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=out_dir)
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        raw.q("INSERT INTO claim_file (batch_id, path, control_number, claims, total, created_at, created_by) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)", (batch, str(path), number, len(sent), total, now, user))
        made.append({"path": str(path), "control_number": number, "claims": len(sent), "total": total})
    return made
