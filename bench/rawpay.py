"""Hand-written SQL for the money paths the bench times: credit entry with auto-apply (one
credit, or a whole batch set-based), returned check, audit event. Same rows as the core writes (credit, journal entries,
postings, credit splits, cached balances, a hash-chained audit event), no ORM.

Also used to set up fixtures fast (thousands of credits on a voucher).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from claimdesk.bench.raw import Raw

PG_AUDIT_LOCK = 7_340_001


def _digest(raw: Raw, entries: list[int]) -> str:
    """The postings digest the core records (core/workflow.postings_digest): one SELECT of the
    entries' postings joined to their entries, in posting-id order, each row repr'd on a line."""
    if not entries:
        return hashlib.sha256(b"").hexdigest()
    from claimdesk.core.workflow import ENTRY_DIGEST_COLUMNS, POSTING_DIGEST_COLUMNS

    cols = [f"p.{c}" for c in POSTING_DIGEST_COLUMNS] + [
        f"CAST(e.{c} AS TEXT)" if c in ("posted_on", "posted_at") else f"e.{c}" for c in ENTRY_DIGEST_COLUMNS]
    match = "= ANY(CAST(? AS BIGINT[]))" if raw.pg else "IN (SELECT value FROM json_each(?))"
    rows = raw.q(f"SELECT {', '.join(cols)} FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
                 f"WHERE p.entry_id {match} ORDER BY p.id", (list(entries) if raw.pg else json.dumps(entries),))
    return hashlib.sha256("".join(f"{tuple(r)!r}\n" for r in rows).encode()).hexdigest()


def audit(raw: Raw, action: str, inputs: dict, result: dict, entries: list[int], now: dt.datetime, user: str,
          encounter_id=None, patient_id=None, reason: str = "") -> int:
    """Insert one hash-chained audit event and its entry links (same fields, digest and hash rule as
    the core's hash version 2)."""
    digest = _digest(raw, entries)
    if raw.pg:
        raw.q("SELECT pg_advisory_xact_lock(?)", (PG_AUDIT_LOCK,))
    prev = raw.one("SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1") or ""
    canon = lambda v: json.dumps(v, sort_keys=True, default=str, separators=(",", ":"))  # noqa: E731
    payload_hash = hashlib.sha256(canon({"action": action, "inputs": inputs, "encounter": encounter_id}).encode()).hexdigest()
    stored = json.loads(json.dumps({**result, "entries": entries}, sort_keys=True, default=str))
    fields = {"at": now.isoformat(sep=" "), "user": user, "action": action, "encounter": encounter_id,
              "patient": patient_id, "inputs": inputs, "entries": entries, "reason": reason,
              "hash_version": 2, "result": stored, "idempotency_key": None, "payload_hash": payload_hash,
              "postings_digest": digest}
    chained = hashlib.sha256((prev + canon(fields)).encode()).hexdigest()
    audit_id = raw.one("INSERT INTO audit_event (at, \"user\", action, encounter_id, patient_id, inputs, entries, "
                       "result, reason, idempotency_key, payload_hash, prev_hash, hash, hash_version, postings_digest) "
                       "VALUES (?,?,?,?,?,?,?,?,?,NULL,?,?,?,2,?) RETURNING id",
                       (now, user, action, encounter_id, patient_id, json.dumps(inputs), json.dumps(entries),
                        json.dumps(stored), reason, payload_hash, prev, chained, digest))
    if entries:
        if raw.pg:
            raw.q("INSERT INTO audit_entry (audit_id, entry_id) SELECT ?, unnest(CAST(? AS BIGINT[]))",
                  (audit_id, list(entries)))
        else:
            raw.q("INSERT INTO audit_entry (audit_id, entry_id) SELECT ?, value FROM json_each(?)",
                  (audit_id, json.dumps(entries)))
    return audit_id


def daysheet(raw: Raw, day: dt.date) -> int:
    """Today's open daysheet id (opened on first use)."""
    row = raw.q("SELECT id, status FROM daysheet WHERE day = ?", (day,))
    if not row:
        return raw.one("INSERT INTO daysheet (day, status) VALUES (?, 'open') RETURNING id", (day,))
    if row[0][1] != "open":
        raise RuntimeError(f"daysheet {day} is closed")
    return row[0][0]


def entry(raw: Raw, kind: str, memo: str, now: dt.datetime, user: str, sheet: int, patient_id=None,
          encounter_id=None, reverses=None) -> int:
    """Insert a journal entry header; its id."""
    return raw.one("INSERT INTO journal_entry (posted_at, posted_on, daysheet_id, kind, memo, created_by, reverses_id, "
                   "encounter_id, patient_id) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                   (now, now.date(), sheet, kind, memo[:250], user, reverses, encounter_id, patient_id))


POSTING = ("INSERT INTO posting (entry_id, account, amount, split_id, charge_id, patient_id, payer_id, voucher_id, "
           "credit_id, credit_split_id, provider_id, reason_code) VALUES (?,?,?,?,?,?,?,?,?,?,?,'')")


def post_credit(raw: Raw, voucher_id: int, patient_id: int, amount: int, now: dt.datetime, user: str) -> dict:
    """One credit entry with auto-apply, in its own transaction: draw, apply oldest first, settle."""
    raw.begin()
    try:
        lock = " FOR UPDATE" if raw.pg else ""
        payer_id, method, undistributed, status = raw.q(
            f"SELECT payer_id, method, undistributed, status FROM voucher WHERE id = ?{lock}", (voucher_id,))[0]
        if status != "active" or amount > undistributed:
            raise RuntimeError(f"voucher {voucher_id} cannot fund {amount}")
        sheet = daysheet(raw, now.date())
        credit_id = raw.one("INSERT INTO credit (patient_id, payer_id, voucher_id, method, keep_unapplied, unapplied, "
                            "posted_on, memo, created_at, created_by) VALUES (?,?,?,?,?,0,?,'',?,?) RETURNING id",
                            (patient_id, payer_id, voucher_id, method, False, now.date(), now, user))
        entries = [entry(raw, "credit", f"credit from voucher {voucher_id}", now, user, sheet, patient_id)]
        raw.many(POSTING, [(entries[0], "UNDISTRIBUTED", amount, None, None, None, payer_id, voucher_id, None, None, None),
                           (entries[0], "UNAPPLIED", -amount, None, None, patient_id, payer_id, voucher_id, credit_id,
                            None, None)])
        raw.q("UPDATE voucher SET undistributed = undistributed - ? WHERE id = ?", (amount, voucher_id))
        # oldest open split this payer is responsible for, partial on the last (cursor stops early)
        plan, left = [], amount
        raw.cur.execute(raw.sql(
            "SELECT cs.id, cs.charge_id, cs.balance FROM charge_split cs JOIN charge c ON c.id = cs.charge_id "
            "JOIN encounter e ON e.id = c.encounter_id WHERE cs.patient_id = ? AND cs.payer_id = ? "
            "AND cs.balance > 0 AND e.status = 'active' ORDER BY c.dos, c.id"), (patient_id, payer_id))
        while left > 0:
            row = raw.cur.fetchone()
            if row is None:
                break
            take = min(row[2], left)
            plan.append((row[0], row[1], take))
            left -= take
        if raw.cur.description is not None and not raw.pg:
            raw.cur.fetchall()  # finish the statement before writing (sqlite3 cursor reuse)
        applied = amount - left
        if plan:
            eid = entry(raw, "payment", f"credit {credit_id} applied", now, user, sheet, patient_id)
            entries.append(eid)
            rows = []
            for split_id, charge_id, take in plan:
                cs = raw.one("INSERT INTO credit_split (credit_id, charge_id, split_id, created_at) VALUES (?,?,?,?) "
                             "RETURNING id", (credit_id, charge_id, split_id, now))
                rows.append((eid, "UNAPPLIED", take, split_id, charge_id, patient_id, payer_id, voucher_id, credit_id,
                             cs, None))
                rows.append((eid, "AR", -take, split_id, charge_id, patient_id, payer_id, None, None, cs, None))
            raw.many(POSTING, rows)
            raw.many("UPDATE charge_split SET balance = balance - ? WHERE id = ? AND balance - ? >= 0",
                     [(take, sid, take) for sid, _c, take in plan])
        if left:  # remainder back to the voucher (keep-unapplied off)
            eid = entry(raw, "credit_return", f"credit {credit_id} remainder back to voucher {voucher_id}", now, user,
                        sheet, patient_id)
            entries.append(eid)
            raw.many(POSTING, [(eid, "UNAPPLIED", left, None, None, patient_id, payer_id, voucher_id, credit_id, None,
                                None), (eid, "UNDISTRIBUTED", -left, None, None, None, payer_id, voucher_id, None, None,
                                        None)])
            raw.q("UPDATE voucher SET undistributed = undistributed + ? WHERE id = ?", (left, voucher_id))
        result = {"credit_id": credit_id, "patient_id": patient_id, "voucher_id": voucher_id, "drawn": applied,
                  "applied_total": applied, "returned_to_voucher": left}
        audit(raw, "credit.post", {"patient_id": patient_id, "voucher_id": voucher_id, "amount": amount,
                                   "apply": "auto"}, result, entries, now, user, patient_id=patient_id)
        raw.commit()
        return result
    except BaseException:
        raw.rollback()
        raise


def post_credit_batch(raw: Raw, voucher_id: int, lines: list[tuple[int, int]], now: dt.datetime, user: str) -> dict:
    """A batch of credits from one voucher, set-based, in one transaction: ``lines`` are
    ``(patient_id, cents)``; each is drawn, auto-applied oldest first (a patient's later
    lines see what the earlier consumed), the rest goes back to the voucher; one audit
    event. The same rows as ``batch_posting.post_credit_batch`` (three entries: credit,
    payment, credit_return), written with multi-row inserts and grouped updates; the
    cached balances are written once with their final values instead of step by step.
    """
    total = sum(a for _, a in lines)
    raw.begin()
    try:
        lock = " FOR UPDATE" if raw.pg else ""
        payer_id, method, undistributed, status = raw.q(
            f"SELECT payer_id, method, undistributed, status FROM voucher WHERE id = ?{lock}", (voucher_id,))[0]
        if status != "active" or total > undistributed:
            raise RuntimeError(f"voucher {voucher_id} cannot fund {total}")
        sheet = daysheet(raw, now.date())
        need: dict[int, int] = {}
        for pid, amount in lines:
            need[pid] = need.get(pid, 0) + amount
        # the open splits the money reaches, oldest first per patient (running total per patient)
        opened: dict[int, list[list]] = {}
        pids = sorted(need)
        for start in range(0, len(pids), 1000):
            chunk = pids[start:start + 1000]
            rows = raw.q(
                "WITH need(pid, amt) AS (VALUES " + ", ".join(["(?, ?)"] * len(chunk)) + ") "
                "SELECT r.id, r.charge_id, r.patient_id, r.balance FROM (SELECT cs.id, cs.charge_id, cs.patient_id, "
                "cs.balance, c.dos, SUM(cs.balance) OVER (PARTITION BY cs.patient_id ORDER BY c.dos, c.id, cs.id) "
                "- cs.balance AS older FROM charge_split cs JOIN charge c ON c.id = cs.charge_id "
                "JOIN encounter e ON e.id = c.encounter_id WHERE cs.payer_id = ? AND cs.patient_id IN ("
                + ", ".join(["?"] * len(chunk)) + ") AND cs.balance > 0 AND e.status = 'active') r "
                "JOIN need n ON n.pid = r.patient_id WHERE r.older < n.amt ORDER BY r.patient_id, r.dos, r.charge_id, r.id",
                [v for pid in chunk for v in (pid, need[pid])] + [payer_id] + chunk)
            for sid, cid, pid, bal in rows:
                opened.setdefault(pid, []).append([sid, cid, int(bal)])
        # allocate in line order
        plan, left, pos = [], [], {}
        for i, (pid, amount) in enumerate(lines):
            splits, k = opened.get(pid, []), pos.get(pid, 0)
            while amount and k < len(splits):
                take = min(splits[k][2], amount)
                plan.append((i, splits[k][0], splits[k][1], take))
                splits[k][2] -= take
                amount -= take
                if splits[k][2] == 0:
                    k += 1
            pos[pid] = k
            left.append(amount)
        returned = sum(left)
        credit_ids: list[int] = []
        for start in range(0, len(lines), 1000):
            chunk = lines[start:start + 1000]
            credit_ids += sorted(r[0] for r in raw.q(
                "INSERT INTO credit (patient_id, payer_id, voucher_id, method, keep_unapplied, unapplied, posted_on, "
                "memo, created_at, created_by) VALUES " + ", ".join(["(?,?,?,?,?,0,?,'',?,?)"] * len(chunk))
                + " RETURNING id", [v for pid, _a in chunk
                                    for v in (pid, payer_id, voucher_id, method, False, now.date(), now, user)]))
        entries = [entry(raw, "credit", f"batch of {len(lines)} credits from voucher {voucher_id}", now, user, sheet)]
        raw.many(POSTING, [(entries[0], "UNDISTRIBUTED", total, None, None, None, payer_id, voucher_id, None, None, None)]
                 + [(entries[0], "UNAPPLIED", -a, None, None, pid, payer_id, voucher_id, cid, None, None)
                    for (pid, a), cid in zip(lines, credit_ids)])
        if plan:
            cs_id = {}
            for start in range(0, len(plan), 1000):
                chunk = plan[start:start + 1000]
                for csid, cid, sid in raw.q(
                        "INSERT INTO credit_split (credit_id, charge_id, split_id, created_at) VALUES "
                        + ", ".join(["(?,?,?,?)"] * len(chunk)) + " RETURNING id, credit_id, split_id",
                        [v for i, sid, chid, _t in chunk for v in (credit_ids[i], chid, sid, now)]):
                    cs_id[(cid, sid)] = csid
            eid = entry(raw, "payment", f"batch credits from voucher {voucher_id} applied", now, user, sheet)
            entries.append(eid)
            rows = []
            for i, sid, chid, take in plan:
                cid, pid = credit_ids[i], lines[i][0]
                cs = cs_id[(cid, sid)]
                rows.append((eid, "UNAPPLIED", take, sid, chid, pid, payer_id, voucher_id, cid, cs, None))
                rows.append((eid, "AR", -take, sid, chid, pid, payer_id, None, None, cs, None))
            raw.many(POSTING, rows)
            paid: dict[int, int] = {}
            for _i, sid, _c, take in plan:
                paid[sid] = paid.get(sid, 0) + take
            raw.many("UPDATE charge_split SET balance = balance - ? WHERE id = ? AND balance - ? >= 0",
                     [(t, sid, t) for sid, t in paid.items()])
        if returned:
            eid = entry(raw, "credit_return", f"batch remainders back to voucher {voucher_id}", now, user, sheet)
            entries.append(eid)
            raw.many(POSTING, [(eid, "UNAPPLIED", lf, None, None, pid, payer_id, voucher_id, cid, None, None)
                               for (pid, _a), cid, lf in zip(lines, credit_ids, left) if lf]
                     + [(eid, "UNDISTRIBUTED", -returned, None, None, None, payer_id, voucher_id, None, None, None)])
        raw.q("UPDATE voucher SET undistributed = undistributed - ? WHERE id = ?", (total - returned, voucher_id))
        applied = total - returned  # keep-unapplied off: every credit ends with nothing unapplied
        result = {"voucher_id": voucher_id, "lines": len(lines), "total": total, "applied_total": applied,
                  "returned_to_voucher": returned, "credit_ids": credit_ids}
        audit(raw, "credit.post_batch", {"voucher_id": voucher_id, "lines": len(lines), "total": total,
                                         "apply": "auto"}, result, entries, now, user)
        raw.commit()
        return result
    except BaseException:
        raw.rollback()
        raise


def make_voucher(raw: Raw, payer_id: int, amount: int, now: dt.datetime, user: str, method: str = "check") -> int:
    """A voucher with its receipt entry (Dr CASH / Cr UNDISTRIBUTED), committed."""
    raw.begin()
    vid = raw.one("INSERT INTO voucher (payer_id, method, reference, received_on, amount, undistributed, details, "
                  "status, returned_on, return_reason, created_at, created_by) VALUES (?,?,?,?,?,?,'{}','active',NULL,'',?,?) "
                  "RETURNING id", (payer_id, method, "BENCH", now.date(), amount, amount, now, user))
    eid = entry(raw, "voucher", f"{method} BENCH", now, user, daysheet(raw, now.date()))
    raw.many(POSTING, [(eid, "CASH", amount, None, None, None, payer_id, vid, None, None, None),
                       (eid, "UNDISTRIBUTED", -amount, None, None, None, payer_id, vid, None, None, None)])
    audit(raw, "voucher.create", {"payer_id": payer_id, "method": method, "amount": amount}, {"voucher_id": vid},
          [eid], now, user)
    raw.commit()
    return vid


def return_check(raw: Raw, voucher_id: int, reason: str, now: dt.datetime, user: str) -> dict:
    """Returned check, set-based: reverse every unreversed entry that moved the voucher's money."""
    raw.begin()
    try:
        lock = " FOR UPDATE" if raw.pg else ""
        status = raw.one(f"SELECT status FROM voucher WHERE id = ?{lock}", (voucher_id,))
        if status != "active":
            raise RuntimeError(f"voucher {voucher_id} already returned")
        sheet = daysheet(raw, now.date())
        memo = f"returned check (voucher {voucher_id}): {reason}"[:250]
        first_new = raw.one("SELECT COALESCE(MAX(id), 0) FROM journal_entry")
        raw.q("CREATE TEMP TABLE IF NOT EXISTS bench_rev (id INTEGER PRIMARY KEY)")
        raw.q("DELETE FROM bench_rev")
        raw.q("INSERT INTO bench_rev (id) SELECT DISTINCT p.entry_id FROM posting p JOIN journal_entry j "
              "ON j.id = p.entry_id WHERE p.voucher_id = ? AND j.reverses_id IS NULL AND NOT EXISTS "
              "(SELECT 1 FROM journal_entry r WHERE r.reverses_id = j.id)", (voucher_id,))
        raw.q("INSERT INTO journal_entry (posted_at, posted_on, daysheet_id, kind, memo, created_by, reverses_id, "
              "encounter_id, patient_id) SELECT ?, ?, ?, 'reversal:' || j.kind, ?, ?, j.id, j.encounter_id, "
              "j.patient_id FROM journal_entry j JOIN bench_rev b ON b.id = j.id ORDER BY j.id DESC",
              (now, now.date(), sheet, memo, user))
        raw.q("INSERT INTO posting (entry_id, account, amount, split_id, charge_id, patient_id, payer_id, voucher_id, "
              "credit_id, credit_split_id, provider_id, reason_code) SELECT r.id, p.account, -p.amount, p.split_id, "
              "p.charge_id, p.patient_id, p.payer_id, p.voucher_id, p.credit_id, p.credit_split_id, p.provider_id, "
              "p.reason_code FROM journal_entry r JOIN posting p ON p.entry_id = r.reverses_id WHERE r.id > ? "
              "ORDER BY r.id, p.id", (first_new,))
        # the new postings once, in a small temp table (the updates below read only it)
        raw.q("DROP TABLE IF EXISTS bench_np")
        raw.q("CREATE TEMP TABLE bench_np AS SELECT split_id, voucher_id, credit_id, patient_id, account, amount "
              "FROM posting WHERE entry_id > ?", (first_new,))
        delta = "(SELECT {key}, SUM(amount) AS d FROM bench_np WHERE account = '{acct}' GROUP BY {key}) AS d"
        raw.q("UPDATE charge_split SET balance = balance + d.d FROM " + delta.format(key="split_id", acct="AR")
              + " WHERE charge_split.id = d.split_id")
        raw.q("UPDATE voucher SET undistributed = undistributed - d.d FROM "
              + delta.format(key="voucher_id", acct="UNDISTRIBUTED") + " WHERE voucher.id = d.voucher_id")
        raw.q("UPDATE credit SET unapplied = unapplied - d.d FROM " + delta.format(key="credit_id", acct="UNAPPLIED")
              + " WHERE credit.id = d.credit_id")
        if raw.one("SELECT COUNT(*) FROM charge_split WHERE id IN (SELECT split_id FROM bench_np WHERE account = 'AR') "
                   "AND balance < 0"):
            raise RuntimeError("a split would go below zero")
        raw.q("UPDATE voucher SET status = 'returned', returned_on = ?, return_reason = ? WHERE id = ?",
              (now.date(), reason, voucher_id))
        by_patient = dict(raw.q("SELECT patient_id, SUM(amount) FROM bench_np WHERE account = 'AR' GROUP BY patient_id"))
        entries = [r[0] for r in raw.q("SELECT id FROM journal_entry WHERE id > ? ORDER BY id", (first_new,))]
        result = {"voucher_id": voucher_id, "balance_increase_by_patient": {str(k): int(v) for k, v in by_patient.items()}}
        audit(raw, "check.return", {"voucher_id": voucher_id, "reason": reason}, result, entries, now, user,
              reason=reason)
        raw.commit()
        return result
    except BaseException:
        raw.rollback()
        raise
