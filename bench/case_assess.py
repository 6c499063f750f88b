"""Encounter lookup plus assessment of every action plugin, on the big database.

Core: ``actions.assess(id)`` (lookup, then every plugin's ``applies``) for random
encounters. Baseline: the same facts read with five hand-written queries and the same
nineteen rules evaluated on the rows; the offered keys are compared with the core's.
"""

from __future__ import annotations

import random

from claimdesk.bench.common import core_session, timed
from claimdesk.bench.raw import Raw

TITLE = "encounter lookup + assess every action plugin"


def sample_ids(url: str, count: int, seed: int = 7) -> list[int]:
    """``count`` random encounter ids (fixed seed)."""
    r = Raw(url)
    top = r.one("SELECT MAX(id) FROM encounter")
    r.close()
    rng = random.Random(seed)
    return [rng.randint(1, top) for _ in range(count)]


def prepare(url: str, count: int) -> dict:
    """The encounter ids both variants assess."""
    return {"ids": sample_ids(url, count)}


def core(url: str, ids: list[int]) -> dict:
    """``assess`` each id (plugins loaded once, before timing)."""
    from claimdesk.core.plugins.host import get_host
    from claimdesk.core.services import actions

    samples, offers = [], {}
    with core_session(url):
        get_host()
        actions.assess(ids[0])  # warm: plugin modules imported, statements prepared
        for eid in ids:
            secs, out = timed(actions.assess, f"E{eid}")
            samples.append(secs)
            offers[str(eid)] = sorted(o["key"] for o in out["offers"])
    return {"samples": samples, "offers": offers}


def _assess_raw(r: Raw, text: str) -> list[str]:
    eid = int(str(text).strip().upper().lstrip("E#"))
    enc = r.q("SELECT id, patient_id, claim_type, billable, status FROM encounter WHERE id = ?", (eid,))
    if not enc:
        raise LookupError(f"no encounter with ID {eid}")
    _id, patient_id, claim_type, billable, status = enc[0]
    active, billable = status == "active", bool(billable)
    slots = {rank: (placeholder, kind) for rank, placeholder, kind in r.q(
        "SELECT ep.rank, ep.placeholder, p.kind FROM encounter_payer ep JOIN payer p ON p.id = ep.payer_id "
        "WHERE ep.encounter_id = ?", (eid,))}
    splits = r.q("SELECT cs.rank, cs.balance, cs.denied FROM charge_split cs JOIN charge c ON c.id = cs.charge_id "
                 "WHERE c.encounter_id = ?", (eid,))
    claims = {(rank, st) for rank, st in r.q("SELECT DISTINCT rank, status FROM claim WHERE encounter_id = ?", (eid,))}
    on_statement = r.one("SELECT 1 FROM statement_line WHERE encounter_id = ? AND statement_id = (SELECT id FROM "
                         "statement WHERE patient_id = ? AND status = 'active' ORDER BY id DESC LIMIT 1) LIMIT 1",
                         (eid, patient_id)) is not None
    bal = lambda ranks: sum(b for rk, b, _d in splits if rk in ranks)  # noqa: E731
    denied = lambda rank: any(rk == rank and b > 0 and d for rk, b, d in splits)  # noqa: E731
    insurance = lambda rank: rank in slots and slots[rank][1] not in ("patient", "inactive")  # noqa: E731
    patient_bal, ins_bal = bal({"patient"}), bal({"primary", "secondary", "tertiary"})
    rules = {
        "add_primary": active and "primary" in slots and bool(slots["primary"][0]),
        "add_secondary": active and "primary" in slots and "secondary" not in slots,
        "none_of_the_above": True,
        "patient_writeoff_bad_debt": active and patient_bal > 0,
        "billable": active and not billable,
        "insurance_writeoff": active and ins_bal > 0,
        "negotiate_balance": active and patient_bal > 0,
        "non_billable": active and billable,
        "patient_writeoff_office": active and patient_bal > 0,
        "primary_denied_bill_patient": active and billable and denied("primary"),
        "primary_invalid": active and "primary" in slots and not slots["primary"][0] and insurance("primary"),
        "regenerate_statement": on_statement,
        "resend_secondary": active and "secondary" in slots and ("secondary", "sent") in claims
        and ("secondary", "queued") not in claims,
        "secondary_denied_bill_patient": active and billable and denied("secondary"),
        "secondary_invalid": active and insurance("secondary"),
        "self_pay": active and "primary" not in slots,
        "to_medical": active and claim_type == "workers_comp",
        "update_secondary_info": active and insurance("secondary"),
        "to_workers_comp": active and claim_type == "medical",
    }
    return sorted(k for k, ok in rules.items() if ok)


def raw(url: str, ids: list[int]) -> dict:
    """The hand-written lookup and rules for each id."""
    r = Raw(url)
    samples, offers = [], {}
    _assess_raw(r, str(ids[0]))
    for eid in ids:
        secs, keys = timed(_assess_raw, r, f"E{eid}")
        samples.append(secs)
        offers[str(eid)] = keys
    r.close()
    return {"samples": samples, "offers": offers}
