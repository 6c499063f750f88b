"""Outstanding Zero Splits: zero-fee charges whose primary insurer never "reaches" zero.

A charge with a zero fee has nothing to pay, so its primary split never drops to zero
through a payment and the secondary claim would never be queued. The clerk tags such
charges in the list and marks the primary paid; every tagged charge whose encounter
has an insurance secondary gets its secondary claim queued for the next batch.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from peewee import JOIN, SQL

from claimdesk.core import db, workflow
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    PSEUDO_KINDS, Charge, Claim, Encounter, EncounterPayer, Patient, Payer, ServiceCode,
)
from claimdesk.core.validation import Id, load, typed_id
from claimdesk.core.services import billing, claims

_PRIMARY_PAYER = Payer.alias("primary_payer")
_SECONDARY_PAYER = Payer.alias("secondary_payer")


def _outstanding_query():
    primary = EncounterPayer.alias("primary_slot")
    secondary = EncounterPayer.alias("secondary_slot")
    return (Charge.select(Charge.id, Charge.encounter, Charge.patient, Charge.dos, ServiceCode.code,
                          Patient.account_no, Patient.last_name, Patient.first_name,
                          _PRIMARY_PAYER.name.alias("primary_name"),
                          _SECONDARY_PAYER.id.alias("secondary_id"), _SECONDARY_PAYER.name.alias("secondary_name"))
            .join(ServiceCode, on=(Charge.service_code == ServiceCode.id))
            .switch(Charge).join(Patient, on=(Charge.patient == Patient.id))
            .switch(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
            .join(primary, on=((primary.encounter == Encounter.id) & (primary.rank == "primary")))
            .join(_PRIMARY_PAYER, on=(primary.payer == _PRIMARY_PAYER.id))
            .switch(Encounter)
            .join(secondary, JOIN.LEFT_OUTER,
                  on=((secondary.encounter == Encounter.id) & (secondary.rank == "secondary")))
            .join(_SECONDARY_PAYER, JOIN.LEFT_OUTER,
                  on=((secondary.payer == _SECONDARY_PAYER.id) & _SECONDARY_PAYER.kind.not_in(PSEUDO_KINDS)))
            # fee = 0 written literally: the partial index charge_zero_fee holds only these charges
            .where((Charge.fee == SQL("0")) & (Charge.primary_marked_paid == False)  # noqa: E712
                   & (Charge.status == "active")
                   & Encounter.billable & (Encounter.status == "active")
                   & _PRIMARY_PAYER.kind.not_in(PSEUDO_KINDS)))


def _matching(word: str):
    """SQL condition: a row matching one typed word (charge or encounter number, date, code,
    patient name or account number, primary or secondary payer), case-insensitive."""
    has = db.contains_text
    cond = (has(Charge.dos.cast("text"), word) | has(ServiceCode.code, word)
            | has(Patient.last_name, word) | has(Patient.first_name, word)
            | has(Patient.account_no, word) | has(_PRIMARY_PAYER.name, word)
            | has(_SECONDARY_PAYER.name, word))
    number = typed_id(word.lstrip("#"))
    if number is not None:
        cond |= (Charge.id == number) | (Charge.encounter == number)
    return cond


def outstanding(search: str = "", limit: int | None = None) -> list[dict]:
    """The Outstanding Zero Insurance Splits list: zero-fee charges on billable encounters
    whose primary is an insurer not yet marked paid, oldest first; only those matching every
    word of ``search``; the first ``limit`` when given."""
    q = _searched(_words(search)).order_by(Charge.dos, Charge.id)
    if limit is not None:
        q = q.limit(max(1, int(limit)))
    return [{"charge_id": r["id"], "encounter_id": r["encounter"], "patient_id": r["patient"],
             "account_no": r["account_no"], "patient": f"{r['last_name']}, {r['first_name']}",
             "dos": r["dos"], "code": r["code"], "primary": r["primary_name"],
             "secondary": r["secondary_name"]}
            for r in q.dicts()]


def outstanding_page(search: str = "", limit: int = 500, tagged: list[int] | tuple = ()) -> dict:
    """A page of :func:`outstanding` for a screen, found in SQL however long the list:
    ``{"rows" (the first ``limit`` matching), "found" (how many match), "total" (on the list),
    "tagged" (those of ``tagged`` still on the list, shown or not)}``."""
    words = _words(search)
    total = _outstanding_query().count()
    found = _searched(words).count() if words else total
    still = [cid for (cid,) in _outstanding_query().select(Charge.id)
             .where(Charge.id.in_(list(tagged))).tuples()] if tagged else []
    return {"rows": outstanding(search, limit), "found": found, "total": total, "tagged": sorted(still)}


def _searched(words: list[str]):
    """The outstanding list narrowed to the rows matching every word."""
    q = _outstanding_query()
    for word in words:
        q = q.where(_matching(word))
    return q


def _words(search: str) -> list[str]:
    return [w for w in (part.strip(",") for part in (search or "").split()) if w]


class MarkInput(Schema):
    """The tagged charges."""

    charge_ids = fields.List(Id(), required=True, validate=validate.Length(min=1, max=10_000,
                                                                          error="tag at least one charge"))


def before_mark(charge_ids: list[int]) -> dict:
    """What :func:`mark_primary_paid` would do with these charges, to ask the clerk first
    (reads only): the secondary claims it would queue (encounter and payer, once each; one
    already waiting is kept, not doubled), the charges with no secondary payer (only marked),
    and those no longer on the list (refused)."""
    ids = list(dict.fromkeys(int(i) for i in charge_ids))
    found = {r["id"]: r for r in _outstanding_query().where(Charge.id.in_(ids)).dicts()}
    claims_due: dict[tuple[int, int], dict] = {}
    for cid in ids:
        row = found.get(cid)
        if row and row["secondary_id"] is not None:
            claims_due.setdefault((row["encounter"], row["secondary_id"]),
                                  {"encounter_id": row["encounter"], "payer": row["secondary_name"]})
    encounters = sorted({enc for enc, _payer in claims_due})
    waiting = {(c.encounter_id, c.payer_id) for c in claims.queued().where(Claim.encounter.in_(encounters))}
    return {"claims": [{**v, "already_queued": k in waiting} for k, v in claims_due.items()],
            "no_secondary": [cid for cid in ids if cid in found and found[cid]["secondary_id"] is None],
            "not_listed": [cid for cid in ids if cid not in found]}


def mark_primary_paid(charge_ids: list[int], *, idempotency_key: str | None = None) -> dict:
    """Workflow: mark the tagged zero-fee charges' primary paid; queue the secondary claims.

    Every id must be on the outstanding list (else nothing is written). Returns the charges
    marked, the claims queued and the charges that have no secondary payer.
    """
    clean = load(MarkInput, {"charge_ids": list(charge_ids) if charge_ids is not None else None})
    ids = list(dict.fromkeys(clean["charge_ids"]))

    def body():
        found = {r["id"]: r for r in _outstanding_query().where(Charge.id.in_(ids)).dicts()}
        for i, cid in enumerate(ids):
            if cid not in found:
                raise Refused(f"charge {cid} is not on the Outstanding Zero Splits list",
                              field=f"charge_ids.{i}")
        Charge.update(primary_marked_paid=True).where(Charge.id.in_(ids)).execute()
        queued, no_secondary = [], []
        for cid in ids:
            row = found[cid]
            if row["secondary_id"] is None:
                no_secondary.append(cid)
                continue
            payer = Payer.get_by_id(row["secondary_id"])
            billing.split_for(Charge.get_by_id(cid), "secondary", payer)
            claim = claims.queue(Encounter.get_by_id(row["encounter"]), payer, "secondary")
            if claim.id not in [q["claim_id"] for q in queued]:
                queued.append({"claim_id": claim.id, "encounter_id": row["encounter"], "payer": payer.name})
        return {"marked": ids, "queued_claims": queued, "no_secondary": no_secondary}

    return workflow.run("zero_splits.mark_primary_paid", body, inputs={"charge_ids": ids},
                        idempotency_key=idempotency_key)
