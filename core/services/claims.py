"""Claims to payers: queueing an encounter for a payer's next claim batch, building
batches with a readable export (JSON + CSV) and the 837P (:mod:`.claim_export`), and
re-queueing a sent claim.

A secondary (tertiary) claim is queued as soon as the earlier insurance split of a
charge has reached zero and the balance sits with the next insurer: the payment,
adjustment or transfer that zeroes it calls the money engine's
:func:`claimdesk.core.posting.next_claims.queue_due`. :func:`build_batch` runs
:func:`queue_ready` first, so no claim that is due is ever left out of a batch.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Callable

from marshmallow import Schema
from peewee import fn

from claimdesk.core import clock, config, db, files, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import (
    Charge, ChargeSplit, Claim, ClaimBatch, Encounter, EncounterPayer, Eob, Patient, Payer,
)
from claimdesk.core.money import Cents, as_json
from claimdesk.core.posting import next_claims
from claimdesk.core.validation import Id, Text, load
from claimdesk.core.services import claim_export
from claimdesk.core.services.common import get

#: Claim statuses: waiting for a batch, in a batch, voided (payer removed or found invalid).
STATUSES = ("queued", "sent", "void")


def queue(encounter: Encounter, payer: Payer, rank: str, *, resend: bool = False) -> Claim | None:
    """Queue ``encounter`` for ``payer``'s next batch (once; a resend re-queues); None for a
    payer that is not an insurer."""
    if not payer.is_insurance:
        return None
    (claim_id,) = next_claims.queue([(encounter.id, payer.id, rank)], resend=resend)
    return Claim.get_by_id(claim_id)


def queued(payer: Payer | None = None):
    """Claims waiting for the next batch."""
    q = Claim.select().where(Claim.status == "queued")
    return q.where(Claim.payer == payer.id) if payer else q


def queued_count(payer_id: int | None = None) -> int:
    """How many claims wait for the next batch (one payer's with ``payer_id``)."""
    q = Claim.select().where(Claim.status == "queued")
    return (q.where(Claim.payer == payer_id) if payer_id is not None else q).count()


def queued_list(payer_id: int | None = None, limit: int | None = None) -> list[dict]:
    """Claims waiting for the next batch, by payer: who, which encounter and patient, resend or
    not; the first ``limit`` of them when given (:func:`queued_count` says how many in all)."""
    q = (Claim.select(Claim, Payer, Encounter, Patient).join(Payer).switch(Claim)
         .join(Encounter).join(Patient, on=(Encounter.patient == Patient.id))
         .where(Claim.status == "queued").order_by(*db.name_order(Payer.name), Payer.id, Claim.id))
    if payer_id is not None:
        q = q.where(Claim.payer == get(Payer, payer_id, "payer", field="payer_id").id)
    if limit is not None:
        q = q.limit(max(1, int(limit)))
    return [{"claim_id": c.id, "payer": c.payer.name, "rank": c.rank, "encounter_id": c.encounter_id,
             "patient": c.encounter.patient.name, "resend": bool(c.resend), "voids": bool(c.voids),
             "queued_at": c.queued_at}
            for c in q]


# --- secondary and tertiary claims still due (a sweep before each batch) -------------------
def ready_splits():
    """Secondary/tertiary splits with balance whose earlier insurance splits are all at zero,
    on billable active encounters, with no claim queued or sent for that payer and rank."""
    earlier = ChargeSplit.alias("earlier")
    blocking = earlier.select(earlier.id).where(
        (earlier.charge == ChargeSplit.charge) & (earlier.balance > 0)
        & ((earlier.rank == "primary") | ((ChargeSplit.rank == "tertiary") & (earlier.rank == "secondary"))))
    claimed = Claim.select(Claim.id).where(
        (Claim.encounter == Charge.encounter) & (Claim.payer == ChargeSplit.payer)
        & (Claim.rank == ChargeSplit.rank) & Claim.status.in_(["queued", "sent"]))
    slot = EncounterPayer.select(EncounterPayer.id).where(
        (EncounterPayer.encounter == Charge.encounter) & (EncounterPayer.rank == ChargeSplit.rank)
        & (EncounterPayer.payer == ChargeSplit.payer))
    return (ChargeSplit.select(ChargeSplit.rank, ChargeSplit.payer, Charge.encounter)
            .join(Charge).join(Encounter, on=(Charge.encounter == Encounter.id))
            .where(ChargeSplit.rank.in_(["secondary", "tertiary"]) & (ChargeSplit.balance > 0)
                   & Encounter.billable & (Encounter.status == "active")
                   & ~fn.EXISTS(blocking) & ~fn.EXISTS(claimed) & fn.EXISTS(slot))
            .distinct())


def queue_ready() -> list[Claim]:
    """Queue every secondary/tertiary claim that is due (see :func:`ready_splits`)."""
    out = []
    for rank, payer_id, encounter_id in ready_splits().tuples():
        out.append(queue(Encounter(id=encounter_id), Payer.get_by_id(payer_id), rank))
    return out


# --- batches ---------------------------------------------------------------------------------
class BatchInput(Schema):
    """Inputs of ``claims batch``: one payer or all, and where the export goes."""

    payer_id = Id(load_default=None, allow_none=True)
    out_dir = Text(max_length=1000, load_default="")


def claim_records(claim_ids: list[int]) -> dict[int, dict]:
    """Each claim as the readable export shows it, by claim id: patient, subscriber, provider and
    its lines (with what the claim's payer is due on each), read in a few set-based queries."""
    where, params = db.ids_in(sorted(set(claim_ids)))
    heads = list(db.sql(
        "SELECT c.id, c.rank, c.resend, c.payer_id, e.id, e.claim_type, e.dos, p.account_no, p.last_name, "
        "p.first_name, p.dob, p.address, p.city, p.state, p.zip, pr.name, pr.npi FROM claim c "
        "JOIN encounter e ON e.id = c.encounter_id JOIN patient p ON p.id = e.patient_id "
        f"JOIN provider pr ON pr.id = e.provider_id WHERE c.id {where} ORDER BY c.id", params))
    where, params = db.ids_in(sorted({row[4] for row in heads}))
    covered = {(enc, rank): (member or "", group or "", subscriber or "", relationship or "")
               for enc, rank, member, group, subscriber, relationship in db.sql(
                   "SELECT ep.encounter_id, ep.rank, cv.member_id, cv.group_no, cv.subscriber, cv.relationship "
                   "FROM encounter_payer ep JOIN coverage cv ON cv.id = ep.coverage_id "
                   f"WHERE ep.encounter_id {where}", params)}
    lines: dict[int, list[tuple]] = defaultdict(list)
    for row in db.sql(
            "SELECT ch.encounter_id, ch.line_no, ch.id, sc.code, sc.description, ch.units, ch.dos, ch.fee FROM charge ch "
            "JOIN service_code sc ON sc.id = ch.service_code_id "
            f"WHERE ch.encounter_id {where} AND ch.status = 'active' ORDER BY ch.encounter_id, ch.line_no, ch.id",
            params):
        lines[row[0]].append(row)
    due = {(charge, rank, payer): int(balance) for charge, rank, payer, balance in db.sql(
        "SELECT s.charge_id, s.rank, s.payer_id, s.balance FROM charge_split s JOIN charge ch ON ch.id = s.charge_id "
        f"WHERE ch.encounter_id {where}", params)}
    day = Charge.dos.python_value
    out = {}
    for (claim_id, rank, resend, payer_id, enc, claim_type, dos, account, last, first, dob, address, city, state,
         zip_code, provider, npi) in heads:
        member, group, subscriber, relationship = covered.get((enc, rank), ("", "", "", ""))
        born = day(dob)
        out[claim_id] = {
            "claim_id": claim_id, "rank": rank, "resend": bool(resend), "encounter_id": enc, "claim_type": claim_type,
            "dos": day(dos).isoformat(),
            "patient": {"account_no": account, "last_name": last, "first_name": first,
                        "dob": born.isoformat() if born else "", "address": address, "city": city, "state": state,
                        "zip": zip_code},
            "subscriber": {"member_id": member, "group_no": group, "subscriber": subscriber,
                           "relationship": relationship},
            "provider": {"name": provider, "npi": npi},
            "lines": [{"line_no": line_no, "charge_id": charge, "code": code, "description": description,
                       "units": units, "dos": day(when).isoformat(), "fee": Cents(int(fee)),
                       "due": Cents(due.get((charge, rank, payer_id), 0))}
                      for _, line_no, charge, code, description, units, when, fee in lines[enc]],
        }
    return out


CSV_COLUMNS = ("batch_id", "claim_id", "resend", "payer", "rank", "encounter_id", "claim_type", "account_no",
               "patient", "dob", "member_id", "group_no", "provider", "npi", "line_no", "dos", "code",
               "units", "fee", "due")


def _money_view(record: dict) -> dict:
    out = dict(record)
    out["lines"] = [{**ln, "fee": as_json(ln["fee"]), "due": as_json(ln["due"])} for ln in record["lines"]]
    return out


def write_export(batch: ClaimBatch, payer: Payer, records: list[dict], out_dir: Path) -> dict:
    """Write a batch's readable export: ``claims-batch-<id>.json`` and ``.csv``; return the paths."""
    files.private_dir(out_dir)
    stem = out_dir / f"claims-batch-{batch.id:06d}"
    json_path, csv_path = stem.with_suffix(".json"), stem.with_suffix(".csv")
    doc = {"batch_id": batch.id, "created_at": batch.created_at.isoformat(sep=" "),
           "created_by": batch.created_by,
           "payer": {"id": payer.id, "name": payer.name, "payer_code": payer.payer_code, "kind": payer.kind},
           "claim_count": len(records),
           "total_fee": as_json(sum(ln["fee"] for r in records for ln in r["lines"])),
           "total_due": as_json(sum(ln["due"] for r in records for ln in r["lines"])),
           "claims": [_money_view(r) for r in records]}
    files.write_private(json_path, json.dumps(doc, indent=2) + "\n")
    with files.open_private(csv_path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for r in records:
            p, s = r["patient"], r["subscriber"]
            for ln in r["lines"]:
                writer.writerow([batch.id, r["claim_id"], "yes" if r["resend"] else "no", payer.name, r["rank"],
                                 r["encounter_id"], r["claim_type"], p["account_no"],
                                 f"{p['last_name']}, {p['first_name']}", p["dob"], s["member_id"], s["group_no"],
                                 r["provider"]["name"], r["provider"]["npi"], ln["line_no"], ln["dos"], ln["code"],
                                 ln["units"], as_json(ln["fee"]), as_json(ln["due"])])
    return {"json": str(json_path), "csv": str(csv_path)}


def build_batch(payer_id: int | None = None, *, out_dir: str | Path | None = None,
                progress: Callable[[int, int], None] | None = None) -> dict:
    """Workflow: queue what is due, then put every queued claim (of one payer, or all) into
    one new batch per payer, mark them sent, and write each batch's JSON and CSV export.

    When ``[clinic]`` names the billing provider (:func:`.claim_export.clinic_ready`), each
    batch is also written as an 837P (``x12``: its path, ``control_number``), and a claim that
    cannot be (:func:`.claim_export.assemble` says why) stays queued and is listed in ``held``;
    else ``x12`` is False and ``x12_missing`` names the ``[clinic]`` keys to set.

    Returns ``{"batches": [{batch_id, payer_id, payer, claims, json, csv, total_due[, x12,
    control_number]}], "claims_sent", "held", "x12", "x12_missing"}``.

    ``progress``, if given, is called as ``progress(done, total)`` with ``total`` the
    number of claims going out: ``(0, total)`` once they are queued, then after each
    claim's record is built with ``done`` one higher, ending at ``(total, total)``. It
    runs inside the workflow's one transaction, on the thread running it, and every call
    comes before any export file is written, so an exception it raises rolls the batch
    back and leaves no file behind (how a front end cancels). It does not change the
    result. A transaction retried after a lock conflict reports from ``(0, total)`` again.
    """
    clean = load(BatchInput, {"payer_id": payer_id, "out_dir": str(out_dir or "")})
    settings = config.load()
    target = Path(clean["out_dir"]) if clean["out_dir"] else (settings.export_dir or config.default_export_dir())
    x12 = claim_export.clinic_ready(settings.clinic)

    def body():
        payer = get(Payer, clean["payer_id"], "payer", field="payer_id") if clean["payer_id"] else None
        queue_ready()
        waiting = list(queued(payer).order_by(Claim.payer, Claim.id))
        x12_records, held = {}, []
        if x12:  # a claim that cannot be written as an 837P stays queued, listed with its reason
            ready, held = claim_export.assemble([c.id for c in waiting], settings)
            x12_records = dict(ready)
            waiting = [c for c in waiting if c.id in x12_records]
        by_payer: dict[int, list[Claim]] = defaultdict(list)
        for claim in waiting:
            by_payer[claim.payer_id].append(claim)
        total = sum(len(group) for group in by_payer.values())
        if progress is not None:
            progress(0, total)
        made, done, now = [], 0, clock.now()
        for pid in sorted(by_payer):
            group = by_payer[pid]
            batch = ClaimBatch.create(created_at=now, created_by=current_user())
            among, params = db.ids_in([c.id for c in group])
            db.sql(f"UPDATE claim SET status = 'sent', sent_at = {{p}}, batch_id = {{p}} WHERE id {among}",
                   [Claim.sent_at.db_value(now), batch.id, *params])
            readable = claim_records([c.id for c in group])
            records = []
            for c in group:
                records.append(readable[c.id])
                done += 1
                if progress is not None:
                    progress(done, total)
            made.append((pid, group, batch, records))
        out = []
        for pid, group, batch, readable in made:  # files only once every claim is in (see progress)
            who = Payer.get_by_id(pid)
            paths = write_export(batch, who, readable, target)
            if x12:
                sent = claim_export.write_file(batch, who, [x12_records[c.id] for c in group], target, settings)
                paths.update(x12=sent["path"], control_number=sent["control_number"])
            ClaimBatch.update(export_path=paths["json"]).where(ClaimBatch.id == batch.id).execute()
            out.append({"batch_id": batch.id, "payer_id": pid, "payer": who.name, "claims": len(group),
                        "claim_ids": [c.id for c in group],
                        "total_due": sum(ln["due"] for r in readable for ln in r["lines"]), **paths})
        missing = [key for key in claim_export.CLINIC_NEEDS if not getattr(settings.clinic, key)]
        return {"batches": out, "claims_sent": sum(b["claims"] for b in out), "held": [h.as_dict() for h in held],
                "x12": x12, "x12_missing": [f"[clinic] {key}" for key in missing]}

    return workflow.run("claims.batch", body, inputs=clean)


# --- resending -------------------------------------------------------------------------------
class RequeueInput(Schema):
    """Inputs of ``claims requeue``."""

    claim_id = Id(required=True)
    reason = Text(max_length=200, load_default="")


def requeue(claim_id: int, reason: str = "") -> dict:
    """Workflow: queue a sent claim again (marked resend) for the payer's next batch.

    The sent claim stays on file with its batch and send time; a new queued claim is made.
    """
    clean = load(RequeueInput, {"claim_id": claim_id, "reason": reason})

    def body():
        claim = get(Claim, clean["claim_id"], "claim", field="claim_id")
        if claim.status != "sent":
            raise Refused(f"claim {claim.id} is {claim.status}; only a sent claim can be queued again",
                          field="claim_id")
        slot = EncounterPayer.get_or_none((EncounterPayer.encounter == claim.encounter_id)
                                          & (EncounterPayer.rank == claim.rank))
        if slot is None or slot.payer_id != claim.payer_id:
            raise Refused(f"claim {claim.id}'s payer is no longer the {claim.rank} payer of encounter "
                          f"{claim.encounter_id}", field="claim_id")
        if queued().where((Claim.encounter == claim.encounter_id) & (Claim.payer == claim.payer_id)
                          & (Claim.rank == claim.rank)).exists():
            raise Refused(f"encounter {claim.encounter_id} already has a {claim.rank} claim queued",
                          field="claim_id")
        new = queue(Encounter.get_by_id(claim.encounter_id), Payer.get_by_id(claim.payer_id), claim.rank,
                    resend=True)
        enc = Encounter.get_by_id(claim.encounter_id)
        return {"claim_id": new.id, "requeued_from": claim.id, "encounter_id": claim.encounter_id,
                "patient_id": enc.patient_id, "rank": claim.rank}

    return workflow.run("claims.requeue", body, inputs=clean, reason=clean["reason"])


def void(claim_id: int, reason: str) -> dict:
    """Workflow: ask the payer to void a claim it adjudicated (billed to the wrong payer, a visit
    that did not happen): a claim queued for the payer's next batch that goes as an 837P of
    frequency 8 with the payer's claim number (REF*F8, from its EOB). The sent claim stays on
    file. Refused when the claim was not sent, the payer gave no claim number (then there is
    nothing to void at the payer: it is simply not sent again) or a claim is already queued."""
    clean = load(RequeueInput, {"claim_id": claim_id, "reason": reason})
    if not clean["reason"].strip():
        raise Refused("say why the claim is voided", field="reason")

    def body():
        claim = get(Claim, clean["claim_id"], "claim", field="claim_id")
        if claim.status != "sent" or claim.voids:
            raise Refused(f"claim {claim.id} is {'a void' if claim.voids else claim.status}; only a sent claim "
                          "can be voided", field="claim_id")
        payer = Payer.get_by_id(claim.payer_id)
        adjudicated = Eob.select().where((Eob.encounter == claim.encounter_id) & (Eob.payer == claim.payer_id)
                                         & (Eob.rank == claim.rank) & (Eob.claim_ref != "")).exists()
        if not adjudicated:
            raise Refused(f"{payer.name} gave no claim number for encounter {claim.encounter_id} (no EOB with one): "
                          "there is nothing to void at the payer", field="claim_id")
        if queued().where((Claim.encounter == claim.encounter_id) & (Claim.payer == claim.payer_id)
                          & (Claim.rank == claim.rank)).exists():
            raise Refused(f"encounter {claim.encounter_id} already has a {claim.rank} claim queued for "
                          f"{payer.name}", field="claim_id")
        new = Claim.create(encounter=claim.encounter_id, payer=claim.payer_id, rank=claim.rank, status="queued",
                           queued_at=clock.now(), resend=True, voids=True)
        enc = Encounter.get_by_id(claim.encounter_id)
        return {"claim_id": new.id, "voids": claim.id, "encounter_id": claim.encounter_id,
                "patient_id": enc.patient_id, "payer": payer.name, "rank": claim.rank}

    return workflow.run("claims.void", body, inputs=clean, reason=clean["reason"])


def history(encounter_id: int) -> list[dict]:
    """Every claim of an encounter: payer, rank, status, when queued/sent and in which batch."""
    rows = (Claim.select(Claim, Payer).join(Payer).where(Claim.encounter == encounter_id)
            .order_by(Claim.id))
    return [{"claim_id": c.id, "payer": c.payer.name, "rank": c.rank, "status": c.status,
             "resend": bool(c.resend), "voids": bool(c.voids), "queued_at": c.queued_at, "sent_at": c.sent_at,
             "batch_id": c.batch_id} for c in rows]
