"""A patient lookup, as the front desk does it: by account number, then by the start of a last
name, then the chosen patient's balance summary.

Core: ``patient_views.find_patients(account_no)``, ``find_patients(name prefix)`` (at most 50
rows, each with its balances) and ``patient_summary``. Baseline: the same rows read with
hand-written queries (the exact match, the name search with the same ordering and limit,
each row's balances summed from its postings).
"""

from __future__ import annotations

import random

from claimdesk.bench.common import core_session, timed
from claimdesk.bench.raw import Raw

TITLE = "patient lookup"


def prepare(url: str, count: int, seed: int = 11) -> dict:
    """``count`` random patients: their account numbers and the first four letters of their last names."""
    r = Raw(url)
    top = int(r.one("SELECT MAX(id) FROM patient"))
    rng = random.Random(seed)
    picks = []
    while len(picks) < count:
        row = r.q("SELECT account_no, last_name FROM patient WHERE id >= ? ORDER BY id LIMIT 1",
                  (rng.randint(1, top),))
        if row:
            picks.append({"account_no": row[0][0], "name": row[0][1][:4]})
    r.close()
    return {"picks": picks}


def core(url: str, picks: list[dict]) -> dict:
    """Each pick: find by account number, find by name prefix, the summary of the first."""
    from claimdesk.core.services import patient_views

    def once(pick):
        found = patient_views.find_patients(pick["account_no"])
        named = patient_views.find_patients(pick["name"])
        summary = patient_views.patient_summary(found[0]["patient_id"])
        return found[0]["patient_id"], len(named), int(summary["balance"]["patient_due"])

    samples, seen = [], []
    with core_session(url):
        once(picks[0])  # warm: statements prepared, modules imported
        for pick in picks:
            secs, out = timed(once, pick)
            samples.append(secs)
            seen.append(list(out))
    return {"samples": samples, "seen": seen}


def _due(r: Raw, pid: int, pseudo: int) -> int:
    """The patient's balances from the ledger (AR and unapplied postings by payer), as the core
    derives them; what the patient owes."""
    due = 0
    for account, payer, total in r.q("SELECT account, payer_id, SUM(amount) FROM posting WHERE patient_id = ? "
                                     "AND account IN ('AR', 'UNAPPLIED') GROUP BY account, payer_id", (pid,)):
        if account == "AR" and payer == pseudo:
            due += int(total)
    return due


def raw(url: str, picks: list[dict]) -> dict:
    """The same reads by hand."""
    r = Raw(url)
    like = "ILIKE" if r.pg else "LIKE"
    # (names in alphabetical order, case and accents aside, as the core lists them: db.name_order;
    # SQLite's lower() is that order for the demo's names, all ASCII)
    by_name = ('last_name COLLATE "und-x-icu", first_name COLLATE "und-x-icu"' if r.pg
               else "lower(last_name), lower(first_name), last_name, first_name")
    pseudo = r.one("SELECT id FROM payer WHERE kind = 'patient' ORDER BY id LIMIT 1")

    def once(pick):
        pid = r.one("SELECT id FROM patient WHERE account_no = ?", (pick["account_no"],))
        _due(r, pid, pseudo)
        named = r.q(f"SELECT id FROM patient WHERE account_no {like} ? OR last_name {like} ? OR first_name {like} ? "
                    f"ORDER BY {by_name}, id LIMIT 50", (f"%{pick['name']}%",) * 3)
        for (other,) in named:
            _due(r, other, pseudo)
        r.q("SELECT id, account_no, last_name, first_name, dob, bad_debt FROM patient WHERE id = ?", (pid,))
        return pid, len(named), _due(r, pid, pseudo)

    samples, seen = [], []
    once(picks[0])
    for pick in picks:
        secs, out = timed(once, pick)
        samples.append(secs)
        seen.append(list(out))
    r.close()
    return {"samples": samples, "seen": seen}
