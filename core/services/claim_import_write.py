"""Writing the matched claims of one 837P file, set-based (a few multi-row INSERTs per table
whatever the number of claims), inside the import's transaction:

the new payers, providers, service codes, patients (each the next account number) and
coverages; every claim as an encounter with its payer list and charges
(:func:`claimdesk.core.services.encounters.write`, one ``charge`` entry per encounter); its
claims marked sent on the file's date (the payer the file sent it to, and the payers before
it, which the file shows were billed already); one audit event per claim
(:func:`claimdesk.core.workflow.record_steps`) holding its entry; and the ``imported_file`` /
``imported_claim`` rows that make importing again a no-op.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from claimdesk.core import clock, ledger, workflow
from claimdesk.core.context import current_user
from claimdesk.core.models import Claim, Coverage, Patient, Payer, Provider, ServiceCode
from claimdesk.core.models.imports import ImportedClaim, ImportedFile
from claimdesk.core.money import Cents
from claimdesk.core.posting.bulk import insert_ids, insert_rows
from claimdesk.core.services import encounters, patients
from claimdesk.core.services.claim_import_match import Book, PlannedClaim, Rec
from claimdesk.core.x12.claims837 import ClaimFile

#: The audit action of one imported claim (the file's own event is ``claims.import``).
CLAIM_ACTION = "claim.import"


@dataclasses.dataclass(frozen=True)
class WrittenClaim:
    """What one claim became: its encounter, patient, audit event and the claims marked sent."""

    encounter_id: int
    patient_id: int
    audit_id: int
    sent: tuple[str, ...]


def write(book: Book, plans: list[PlannedClaim], parsed: ClaimFile, name: str, file_id: int | None) -> tuple[int, list[WrittenClaim]]:
    """Write what ``book`` made and every claim of ``plans`` (see the module); the file's
    ``imported_file`` id (``file_id`` when it was imported before) and what each claim became,
    in order. Runs inside the caller's write transaction."""
    _insert_made(book)
    new_encounters = [_new_encounter(plan) for plan in plans]
    with ledger.collect_entries():  # (each entry belongs to its claim's event, not to the file's)
        written = encounters.write(new_encounters, memo=f"charges imported from {name or 'an 837P file'}",
                                   entry_per_encounter=True)
    sent_at = dt.datetime.combine(parsed.date, dt.time())
    fields = Claim._meta.fields
    at, no = fields["sent_at"].db_value(sent_at), fields["resend"].db_value(False)
    sent = [(w.encounter_id, payer.id, rank, "sent", at, at, no)
            for plan, w in zip(plans, written) for rank, payer, _cov in plan.payers[:plan.checked.own + 1]]
    insert_ids(Claim, ("encounter", "payer", "rank", "status", "queued_at", "sent_at", "resend"), sent)
    steps = [workflow.Step(inputs=_inputs(plan, parsed, name), entries=[w.entry_id] if w.entry_id else [],
                           result=_result(plan, w), encounter_id=w.encounter_id, patient_id=plan.patient.id)
             for plan, w in zip(plans, written)]
    audit_ids = workflow.record_steps(CLAIM_ACTION, steps)
    if file_id is None:
        (file_id,) = insert_rows(ImportedFile, [{
            "digest": parsed.digest, "name": name[:250], "sender_id": parsed.sender_id,
            "control_number": parsed.control_number, "file_date": parsed.date, "imported_at": clock.now(),
            "imported_by": current_user()}])
    insert_rows(ImportedClaim, [{"file": file_id, "claim_no": plan.checked.claim_no, "encounter": w.encounter_id,
                                 "audit": audit_id, "claim_line": plan.checked.claim.line}
                                for plan, w, audit_id in zip(plans, written, audit_ids)], ids=False)
    return file_id, [WrittenClaim(w.encounter_id, plan.patient.id, audit_id,
                                  tuple(rank for rank, _p, _c in plan.payers[:plan.checked.own + 1]))
                     for plan, w, audit_id in zip(plans, written, audit_ids)]


def _insert_made(book: Book) -> None:
    """Insert the records the claims made, in the order they depend on each other; each
    :class:`Rec` gets its id."""
    for kind, model in (("payer", Payer), ("provider", Provider), ("code", ServiceCode)):
        _insert(model, book.made[kind], lambda rec: rec.values)
    made = book.made["patient"]
    if made:
        first = int(patients.next_account_no()[len(patients.ACCOUNT_PREFIX):])
        for n, rec in enumerate(made):
            rec.values["account_no"] = f"{patients.ACCOUNT_PREFIX}{first + n:0{patients.ACCOUNT_DIGITS}d}"
        _insert(Patient, made, lambda rec: rec.values)
    _insert(Coverage, book.made["coverage"],
            lambda rec: {**rec.values, "patient": rec.who[0].id, "payer": rec.who[1].id})


def _insert(model, recs: list[Rec], values) -> None:
    for rec, ident in zip(recs, insert_rows(model, [values(rec) for rec in recs])):
        rec.id = ident


def _new_encounter(plan: PlannedClaim) -> encounters.NewEncounter:
    checked = plan.checked
    lines = tuple(encounters.NewLine(code.id, line.units, int(line.fee), provider.id if provider else None, line.dos,
                                     line.modifiers, line.pointers, line.control_no)
                  for line, code, provider in plan.lines)
    return encounters.NewEncounter(
        plan.patient.id, plan.provider.id, checked.dos, lines, tuple((payer.id, cov.id) for _r, payer, cov in plan.payers),
        plan.claim_type, None, checked.place_of_service, checked.diagnoses,
        plan.referring.id if plan.referring else None, checked.claim_no, checked.frequency)


def _inputs(plan: PlannedClaim, parsed: ClaimFile, name: str) -> dict:
    """What the claim's audit event records as its input: the file (its name and digest; the
    file's own event has its envelope) and the claim's number and line in it."""
    return {"file": name, "digest": parsed.digest, "claim_no": plan.checked.claim_no,
            "claim_line": plan.checked.claim.line}


def _result(plan: PlannedClaim, written: encounters.Written) -> dict:
    """What the claim's audit event records it did: the encounter, patient and charges, the total,
    the payers in order as ``[rank, payer id, coverage id]``, and the ranks whose claims are sent."""
    checked = plan.checked
    return {"encounter_id": written.encounter_id, "patient_id": plan.patient.id,
            "charge_ids": list(written.charge_ids), "total": Cents(sum(line.fee for line in checked.lines)),
            "payers": [[rank, payer.id, cov.id] for rank, payer, cov in plan.payers],
            "sent": [rank for rank, _p, _c in plan.payers[:checked.own + 1]]}
