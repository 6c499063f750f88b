"""Aging recalculation: ``aging.recalc`` vs the same snapshot rebuilt with hand-written SQL."""

from __future__ import annotations

from claimdesk.bench.common import NOW, TODAY, USER, core_session, timed
from claimdesk.bench.raw import Raw
from claimdesk.bench.rawpay import audit

TITLE = "aging recalculation"


def core(url: str, repeat: int) -> dict:
    """Time ``aging.recalc(as_of=today)`` ``repeat`` times."""
    from claimdesk.core.services import aging

    samples, rows = [], None
    with core_session(url):
        for _ in range(repeat):
            secs, out = timed(aging.recalc, as_of=TODAY, basis="service")
            samples.append(secs)
            rows = out["rows"]
    return {"samples": samples, "rows": rows}


def _snapshot_sql(raw: Raw) -> str:
    """Point-in-time aging by hand: a split's balance on the day is today's balance less its AR
    postings dated later (the open splits nothing touched since, plus the few later entries
    touched); later service dates left out. Its parameter is the day, four times."""
    day = "CAST(? AS date)" if raw.pg else "?"
    age = f"({day} - c.dos)" if raw.pg else "CAST(julianday(?) - julianday(c.dos) AS INTEGER)"
    billable = "e.billable" if raw.pg else "e.billable = 1"
    b = lambda cond: f"SUM(CASE WHEN {cond} THEN s.bal ELSE 0 END)"  # noqa: E731
    return ("INSERT INTO aging_row (as_of, patient_id, payer_id, current, days_31_60, days_61_90, days_91_120, "
            "over_120, total) "
            "WITH later AS MATERIALIZED (SELECT split_id, SUM(amount) AS moved FROM posting WHERE account = 'AR' "
            f"AND split_id IS NOT NULL AND entry_id IN (SELECT id FROM journal_entry WHERE posted_on > {day}) "
            "GROUP BY split_id), "
            "held AS (SELECT id, patient_id, payer_id, charge_id, balance AS bal FROM charge_split "
            "WHERE balance > 0 AND id NOT IN (SELECT split_id FROM later) UNION ALL "
            "SELECT cs.id, cs.patient_id, cs.payer_id, cs.charge_id, cs.balance - l.moved FROM later l "
            "JOIN charge_split cs ON cs.id = l.split_id WHERE cs.balance - l.moved > 0) "
            f"SELECT {day}, s.pid, s.payer_id, {b('s.age <= 30')}, {b('s.age BETWEEN 31 AND 60')}, "
            f"{b('s.age BETWEEN 61 AND 90')}, {b('s.age BETWEEN 91 AND 120')}, {b('s.age >= 121')}, SUM(s.bal) "
            f"FROM (SELECT h.patient_id AS pid, h.payer_id, h.bal, {age} AS age FROM held h "
            "JOIN charge c ON c.id = h.charge_id JOIN encounter e ON e.id = c.encounter_id "
            f"WHERE {billable} AND e.status = 'active' AND c.dos <= {day}) s GROUP BY s.pid, s.payer_id")


def raw(url: str, repeat: int) -> dict:
    """The same work by hand: delete the day's rows, INSERT ... SELECT, count, totals, audit."""
    r = Raw(url)
    sql = _snapshot_sql(r)
    samples, rows = [], None

    def once():
        r.begin()
        r.q("DELETE FROM aging_row WHERE as_of = ?", (TODAY,))
        r.q(sql, (TODAY,) * 4)
        n = r.one("SELECT COUNT(*) FROM aging_row WHERE as_of = ?", (TODAY,))
        totals = r.q("SELECT SUM(current), SUM(days_31_60), SUM(days_61_90), SUM(days_91_120), SUM(over_120), "
                     "SUM(total) FROM aging_row WHERE as_of = ?", (TODAY,))[0]
        audit(r, "aging.recalc", {"as_of": TODAY.isoformat(), "basis": "service", "mode": "point_in_time"},
              {"rows": n, "totals": [int(t or 0) for t in totals]}, [], NOW, USER)
        r.commit()
        return n

    for _ in range(repeat):
        secs, rows = timed(once)
        samples.append(secs)
    r.close()
    return {"samples": samples, "rows": rows}
