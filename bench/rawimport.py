"""The hand-written baseline of the 837P import: the same file read by the same parser, then the
same rows the core writes, by hand with the raw driver in one transaction (no ORM, no claimdesk
services): new patients and coverages, encounters with their payer lists, charges and their
first splits (balance set on insert), one ``charge`` journal entry per claim with its postings,
the claims marked sent, one hash-chained audit event per claim linked to its entry (postings
digest read back as the core does), the file's own event, and the ``imported_file`` /
``imported_claim`` rows. Matching is by payer id, NPI, code, member id + name + birth date, as
the core's; a claim whose number was imported before is skipped. Format rules and the report
are not reproduced: that is the core's extra work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time

from claimdesk.bench.raw import Raw
from claimdesk.bench.rawpay import PG_AUDIT_LOCK, daysheet

RANKS = {"P": "primary", "S": "secondary", "T": "tertiary"}
CHUNK = 500


def _in(raw: Raw, values: list) -> tuple[str, list]:
    return ("IN (" + ", ".join(["?"] * len(values)) + ")", list(values))


def _digests(raw: Raw, entry_ids: list[int]) -> dict[int, str]:
    """entry -> sha256 of its postings as the core's audit digest reads them (one SELECT)."""
    from claimdesk.core.workflow import ENTRY_DIGEST_COLUMNS, POSTING_DIGEST_COLUMNS

    cols = [f"p.{c}" for c in POSTING_DIGEST_COLUMNS] + [
        f"CAST(e.{c} AS TEXT)" if c in ("posted_on", "posted_at") else f"e.{c}" for c in ENTRY_DIGEST_COLUMNS]
    match = "= ANY(CAST(? AS BIGINT[]))" if raw.pg else "IN (SELECT value FROM json_each(?))"
    hashers: dict[int, hashlib._Hash] = {e: hashlib.sha256() for e in entry_ids}
    if entry_ids:
        for row in raw.q(f"SELECT {', '.join(cols)} FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                         f"WHERE p.entry_id {match} ORDER BY p.id", (entry_ids if raw.pg else json.dumps(entry_ids),)):
            hashers[row[1]].update(f"{tuple(row)!r}\n".encode())
    return {e: h.hexdigest() for e, h in hashers.items()}


def _canon(value) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def _events(raw: Raw, action: str, events: list[dict], now: dt.datetime, user: str) -> list[int]:
    """Hash-chained audit events (hash version 2, as the core writes them) and their entry links."""
    if raw.pg:
        raw.q("SELECT pg_advisory_xact_lock(?)", (PG_AUDIT_LOCK,))
    prev = raw.one("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1") or ""
    rows = []
    for ev in events:
        inputs, entries = ev["inputs"], ev["entries"]
        result = json.loads(json.dumps({**ev["result"], "entries": entries}, sort_keys=True, default=str))
        payload = hashlib.sha256(_canon({"action": action, "inputs": inputs, "encounter": ev["encounter"]}).encode()
                                 ).hexdigest()
        fields = {"at": now.isoformat(sep=" "), "user": user, "action": action, "encounter": ev["encounter"],
                  "patient": ev["patient"], "inputs": inputs, "entries": entries, "reason": "", "hash_version": 2,
                  "result": result, "idempotency_key": None, "payload_hash": payload,
                  "postings_digest": ev["digest"]}
        chained = hashlib.sha256((prev + _canon(fields)).encode()).hexdigest()
        rows.append((now, user, action, ev["encounter"], ev["patient"], json.dumps(inputs), json.dumps(entries),
                     json.dumps(result), "", payload, prev, chained, 2, ev["digest"]))
        prev = chained
    ids = raw.insert("audit_event", ("at", '"user"', "action", "encounter_id", "patient_id", "inputs", "entries",
                                     "result", "reason", "payload_hash", "prev_hash", "hash", "hash_version",
                                     "postings_digest"), rows)
    links = [(audit_id, e) for audit_id, ev in zip(ids, events) for e in ev["entries"]]
    raw.insert("audit_entry", ("audit_id", "entry_id"), links, returning=False)
    return ids


class _Known:
    """The rows on file the claims name, read set-based."""

    def __init__(self, raw: Raw, claims):
        self.payers = {code.upper(): pid for pid, code in raw.q("SELECT id, payer_code FROM payer WHERE payer_code <> ''")}
        self.providers = {npi: pid for pid, npi in raw.q("SELECT id, npi FROM provider WHERE npi <> ''")}
        self.codes = {code: cid for cid, code in raw.q("SELECT id, code FROM service_code")}
        members = sorted({p.member_id.upper() for c in claims for p in [c.subscriber, *(o.subscriber for o in c.other_payers)]})
        self.by_member: dict[str, set] = {}
        self.coverages: dict[tuple, int] = {}
        hint = ("", "") if raw.pg else ("INDEXED BY coverage_member_id_upper", "INDEXED BY patient_dob")
        for start in range(0, len(members), CHUNK):
            where, params = _in(raw, members[start:start + CHUNK])
            for cid, member, pid, payer, last, first, dob in raw.q(
                    "SELECT c.id, UPPER(c.member_id), c.patient_id, c.payer_id, p.last_name, p.first_name, p.dob "
                    f"FROM coverage c {hint[0]} JOIN patient p ON p.id = c.patient_id WHERE UPPER(c.member_id) "
                    f"{where} AND c.active", params):
                self.by_member.setdefault(member, set()).add((pid, last.upper(), first.upper(), str(dob)))
                self.coverages.setdefault((pid, payer, member), cid)
        lasts: dict = {}
        for c in claims:
            lasts.setdefault(c.patient.birth, set()).add(c.patient.name.last.upper())
        dobs = sorted(lasts)
        self.by_who: dict[tuple, int] = {}
        for start in range(0, len(dobs), CHUNK):
            where, params = _in(raw, dobs[start:start + CHUNK])
            named, names = _in(raw, sorted(set().union(*(lasts[d] for d in dobs[start:start + CHUNK]))))
            for pid, last, first, dob in raw.q(f"SELECT id, last_name, first_name, dob FROM patient {hint[1]} "
                                               f"WHERE dob {where} AND UPPER(last_name) {named}", params + names):
                self.by_who.setdefault((last.upper(), first.upper(), str(dob)), pid)
        numbers = sorted({c.number for c in claims})
        self.imported: set[str] = set()
        for start in range(0, len(numbers), CHUNK):
            where, params = _in(raw, numbers[start:start + CHUNK])
            self.imported |= {n for (n,) in raw.q(f"SELECT claim_no FROM encounter WHERE claim_no {where}", params)}


def _provider_row(who, kind: str) -> dict:
    """A provider row for an NPI not on file."""
    name = who.name
    return {"name": f"{name.first} {name.last} ({who.npi})".strip(), "npi": who.npi, "kind": kind,
            "entity": "organization" if name.organisation else "person", "last_name": name.last,
            "first_name": name.first, "taxonomy": "", "tax_id": "", "address": "", "city": "", "state": "", "zip": ""}


def import_file(raw: Raw, path: str, now: dt.datetime, user: str) -> dict:
    """Import one 837P file by hand (see the module); what it did, with the parse's seconds."""
    from claimdesk.core.x12.claims837_reader import parse_837p
    from claimdesk.core.x12.common import collector_paused

    with collector_paused():  # (as the core does: a file's records live until it is written)
        t0 = time.perf_counter()
        with open(path, "rb") as fh:
            data = fh.read()
        parsed = parse_837p(data)
        parse_seconds = time.perf_counter() - t0
        raw.begin()
        try:
            out = _write(raw, parsed, path.rsplit("/", 1)[-1], now, user)
            raw.commit()
        except BaseException:
            raw.rollback()
            raw.close()
            raise
    return {**out, "parse_seconds": parse_seconds}


def _write(raw: Raw, parsed, name: str, now: dt.datetime, user: str) -> dict:
    claims = [c for c in parsed.claims]
    known = _Known(raw, claims)
    sheet = daysheet(raw, now.date())
    last = raw.one("SELECT account_no FROM patient WHERE account_no LIKE ? AND LENGTH(account_no) = 7 "
                   "ORDER BY account_no DESC LIMIT 1", ("A%",))
    next_account = int(last[1:]) + 1 if last and last[1:].isdigit() else 1

    def ref_id(table: str, cache: dict, key: str, make) -> int:
        if key not in cache:
            row = make()
            cache[key] = raw.insert(table, tuple(row), [tuple(row.values())])[0]
        return cache[key]

    new_patients, new_coverages, plans = [], [], []
    patient_of: dict[tuple, object] = {}
    for c in claims:
        if c.number in known.imported:
            continue
        known.imported.add(c.number)
        payers = sorted([(RANKS[c.subscriber.sequence], c.payer, c.subscriber)]
                        + [(RANKS[o.subscriber.sequence], o.payer, o.subscriber) for o in c.other_payers],
                        key=lambda p: list(RANKS.values()).index(p[0]))
        payer_ids = [ref_id("payer", known.payers, p.payer_id.upper(), lambda p=p: {
            "name": f"{p.name} ({p.payer_id})", "kind": "commercial", "payer_code": p.payer_id.upper(),
            "address": "", "city": "", "state": "", "zip": "", "phone": ""}) for _r, p, _s in payers]
        render = c.rendering or c.billing
        provider = ref_id("provider", known.providers, render.npi, lambda: _provider_row(render, "clinical"))
        referring = None
        if c.referring and c.referring.npi:
            referring = ref_id("provider", known.providers, c.referring.npi,
                               lambda: _provider_row(c.referring, "referring"))
        p = c.patient
        who = (p.name.last.upper(), p.name.first.upper(), str(p.birth))
        members = [s.member_id.upper() for _r, _p, s in payers]
        found = {m[0] for member in members for m in known.by_member.get(member, ()) if m[1:] == who}
        if len(found) == 1:
            patient = found.pop()
        elif who in patient_of:
            patient = patient_of[who]
        else:
            patient = {"who": who, "row": (p.name.last, p.name.first, p.birth, p.sex or "U",
                                           p.address.line1 if p.address else "", p.address.city if p.address else "",
                                           p.address.state if p.address else "", p.address.zip if p.address else "")}
            patient_of[who] = patient
            new_patients.append(patient)
        coverages = []
        for (rank, payer, sub), payer_id in zip(payers, payer_ids):
            key = (patient if isinstance(patient, int) else id(patient), payer_id, sub.member_id.upper())
            cov = known.coverages.get(key)
            if cov is None:
                self_ = sub.relationship == "18"
                cov = {"patient": patient, "payer": payer_id, "row": (
                    sub.member_id, sub.group, f"{sub.name.last}, {sub.name.first}", "self" if self_ else "other",
                    sub.filing or "CI", "" if self_ else sub.name.last, "" if self_ else sub.name.first,
                    None if self_ else sub.birth)}
                known.coverages[key] = cov
                new_coverages.append(cov)
            coverages.append(cov)
        lines = []
        for ln in c.lines:
            code = ref_id("service_code", known.codes, ln.procedure,
                          lambda: {"code": ln.procedure, "kind": "cpt", "description": "", "default_fee": 0})
            own = None
            if ln.rendering and ln.rendering.npi != render.npi:
                own = ref_id("provider", known.providers, ln.rendering.npi,
                             lambda: _provider_row(ln.rendering, "clinical"))
            lines.append((ln, code, own))
        own_rank = RANKS[c.subscriber.sequence]
        sent = [r for r, _p, _s in payers][:[r for r, _p, _s in payers].index(own_rank) + 1]
        plans.append((c, patient, list(zip([r for r, _p, _s in payers], payer_ids, coverages)), provider, referring,
                      lines, sent))

    # patients, coverages
    ids = raw.insert("patient", ("account_no", "last_name", "first_name", "dob", "sex", "address", "city", "state",
                                 "zip", "phone", "bad_debt", "unpaid_statements"),
                [(f"A{next_account + i:06d}", *p["row"], "", False, 0) for i, p in enumerate(new_patients)])
    for p, pid in zip(new_patients, ids):
        p["id"] = pid

    def pid_of(patient) -> int:
        return patient if isinstance(patient, int) else patient["id"]

    ids = raw.insert("coverage", ("patient_id", "payer_id", "member_id", "group_no", "subscriber", "relationship",
                                  "active", "plan_type", "subscriber_last_name", "subscriber_first_name",
                                  "subscriber_dob", "subscriber_sex", "subscriber_address", "subscriber_city",
                                  "subscriber_state", "subscriber_zip"),
                [(pid_of(cv["patient"]), cv["payer"], *cv["row"][:4], True, *cv["row"][4:], "U", "", "", "", "")
                 for cv in new_coverages])
    for cv, cid in zip(new_coverages, ids):
        cv["id"] = cid

    def cov_id(cov) -> int:
        return cov if isinstance(cov, int) else cov["id"]

    # encounters, payer lists, charges and their splits (balance set on insert)
    enc_ids = raw.insert("encounter", ("patient_id", "provider_id", "dos", "claim_type", "billable", "status", "tags",
                                       "created_at", "place_of_service", "diagnoses", "referring_provider_id",
                                       "claim_no", "frequency"),
                    [(pid_of(pat), prov, min(ln.service_from for ln in c.lines), "medical", True, "active", "", now,
                      c.place_of_service, ",".join(d.replace(".", "") for d in c.diagnoses), ref, c.number,
                      c.frequency) for c, pat, _py, prov, ref, _l, _s in plans])
    raw.insert("encounter_payer", ("encounter_id", "rank", "payer_id", "coverage_id", "placeholder"),
          [(eid, rank, payer, cov_id(cov), False) for eid, plan in zip(enc_ids, plans) for rank, payer, cov in plan[2]],
          returning=False)
    charge_rows, owners = [], []
    for eid, (c, pat, payers, prov, _ref, lines, _s) in zip(enc_ids, plans):
        for n, (ln, code, own) in enumerate(lines, 1):
            charge_rows.append((eid, pid_of(pat), n, code, int(ln.units), ln.charge, own or prov, ln.service_from,
                                "service", False, ",".join(ln.modifiers), ",".join(map(str, ln.pointers)),
                                ln.control_number or str(n), "active"))
            owners.append((eid, pid_of(pat), payers[0][1], own or prov, ln.charge))
    charge_ids = raw.insert("charge", ("encounter_id", "patient_id", "line_no", "service_code_id", "units", "fee",
                                       "provider_id", "dos", "kind", "primary_marked_paid", "modifiers",
                                       "diagnosis_pointers", "control_no", "status"), charge_rows)
    split_ids = raw.insert("charge_split", ("charge_id", "rank", "payer_id", "patient_id", "balance", "denied",
                                            "denial_code"),
                      [(cid, "primary", payer, pat, fee, False, "") for cid, (_e, pat, payer, _p, fee)
                       in zip(charge_ids, owners)])

    # one charge entry per claim with a fee, and its postings
    by_enc: dict[int, list] = {}
    for cid, sid, (eid, pat, payer, prov, fee) in zip(charge_ids, split_ids, owners):
        if fee:
            by_enc.setdefault(eid, []).append((cid, sid, pat, payer, prov, fee))
    with_fee = [eid for eid in enc_ids if eid in by_enc]
    entry_ids = raw.insert("journal_entry", ("posted_at", "posted_on", "daysheet_id", "kind", "memo", "created_by",
                                             "encounter_id", "patient_id"),
                      [(now, now.date(), sheet, "charge", f"charges imported from {name}", user, eid,
                        by_enc[eid][0][2]) for eid in with_fee])
    entry_of = dict(zip(with_fee, entry_ids))
    postings = []
    for eid in with_fee:
        for cid, sid, pat, payer, prov, fee in by_enc[eid]:
            postings.append((entry_of[eid], "AR", fee, sid, cid, pat, payer, None, ""))
            postings.append((entry_of[eid], "REVENUE", -fee, None, cid, pat, None, prov, ""))
    raw.insert("posting", ("entry_id", "account", "amount", "split_id", "charge_id", "patient_id", "payer_id",
                           "provider_id", "reason_code"), postings, returning=False)

    # the claims sent on the file's date
    sent_at = dt.datetime.combine(parsed.date, dt.time())
    raw.insert("claim", ("encounter_id", "payer_id", "rank", "status", "queued_at", "sent_at", "resend"),
          [(eid, payer, rank, "sent", sent_at, sent_at, False) for eid, plan in zip(enc_ids, plans)
           for rank, payer, _cov in plan[2] if rank in plan[6]], returning=False)

    # one audit event per claim, the file's event, the import's own rows
    digests = _digests(raw, entry_ids)
    events = [{"inputs": {"file": name, "digest": parsed.digest, "claim_no": c.number, "claim_line": c.line},
               "result": {"encounter_id": eid, "patient_id": pid_of(pat), "claim_no": c.number, "total": c.total},
               "entries": [entry_of[eid]] if eid in entry_of else [], "encounter": eid, "patient": pid_of(pat),
               "digest": digests[entry_of[eid]] if eid in entry_of else hashlib.sha256(b"").hexdigest()}
              for eid, (c, pat, *_rest) in zip(enc_ids, plans)]
    audit_ids = _events(raw, "claim.import", events, now, user)
    file_id = raw.insert("imported_file", ("digest", "name", "sender_id", "control_number", "file_date",
                                           "imported_at", "imported_by"),
                    [(parsed.digest, name, parsed.sender_id, parsed.control_number, parsed.date, now, user)])[0]
    raw.insert("imported_claim", ("file_id", "claim_no", "encounter_id", "audit_id", "claim_line"),
          [(file_id, plan[0].number, eid, aid, plan[0].line) for eid, plan, aid in zip(enc_ids, plans, audit_ids)],
          returning=False)
    _events(raw, "claims.import", [{"inputs": {"file": name, "digest": parsed.digest},
                                    "result": {"imported": len(plans)}, "entries": [], "encounter": None,
                                    "patient": None, "digest": hashlib.sha256(b"").hexdigest()}], now, user)
    return {"imported": len(plans), "refused": len(parsed.refused), "encounters": len(enc_ids),
            "total": sum(c.total for c, *_rest in plans)}
