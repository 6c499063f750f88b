"""Charge entry by hand: a new encounter with its lines, a line added to an encounter, a line
voided. Each is one audited workflow; its input is checked here (every refusal names the
field, nothing is written) and written by :func:`claimdesk.core.services.encounters.write` /
the money engine.

Rules of a claim line: its code is a service code on file; a procedure (CPT/HCPCS) line may
carry up to 4 modifiers and points at up to 4 of the encounter's diagnoses (at the first when
none is said); an office fee code (kind office, e.g. RCFEE) is never sent on a claim, so it
carries neither. An encounter billed to an insurer with a procedure line needs a diagnosis.
Voiding (a supervisor's) reverses the line's charge entry; it is refused once money was paid,
adjusted or moved on the line.
"""

from __future__ import annotations

import dataclasses

from marshmallow import Schema, fields, validate

from claimdesk.core import clock, workflow
from claimdesk.core.claim_rules import (
    CLAIM_FREQUENCIES, MAX_DIAGNOSES, MAX_MODIFIERS, check_claim_no, check_control_no, check_diagnosis,
    check_modifier, check_place_of_service, check_pointers, show_diagnosis, split_codes,
)
from claimdesk.core.errors import Refused
from claimdesk.core.models import CLAIM_TYPES, INSURANCE_RANKS, Charge, Coverage, Encounter, Patient, Provider, ServiceCode
from claimdesk.core.money import Cents
from claimdesk.core.posting import charges as posting_charges
from claimdesk.core.posting import next_claims, responsibility
from claimdesk.core.services import encounters
from claimdesk.core.services.common import get
from claimdesk.core.users import require_role
from claimdesk.core.validation import Coded, Id, Money, Text, date_field, load


# --- input ------------------------------------------------------------------------------------
class LineInput(Schema):
    """One charge line: the service code (as written, e.g. 99213), units, fee (default: the
    code's fee times the units), modifiers, diagnosis pointers (positions 1-12), the line's own
    control number (default: its line number), provider and date (default: the encounter's)."""

    code = Text(required=True, min_length=1, max_length=12)
    units = fields.Integer(load_default=1, strict=True, validate=validate.Range(
        min=1, max=999, error="must be a whole number of units from 1 to 999"))
    fee = Money(load_default=None, allow_none=True)
    modifiers = fields.List(Coded(check_modifier), load_default=list, validate=validate.Length(
        max=MAX_MODIFIERS, error=f"at most {MAX_MODIFIERS} modifiers"))
    pointers = fields.List(fields.Integer(strict=True), load_default=list)
    control_no = Coded(check_control_no, load_default="")
    provider_id = Id(load_default=None, allow_none=True)
    dos = date_field(load_default=None, allow_none=True)


class EncounterInput(Schema):
    """A new encounter: the patient, the rendering provider, the date of service, the coverages
    billed in order (primary first; ``[]`` self-pay; left out: the patient's one active coverage),
    what the claim carries, and its charge lines."""

    patient_id = Id(required=True)
    provider_id = Id(required=True, metadata={"help": "the rendering provider"})
    dos = date_field(required=True)
    coverage_ids = fields.List(Id(), load_default=None, allow_none=True, validate=validate.Length(
        max=3, error="at most 3 coverages: primary, secondary, tertiary"))
    place_of_service = Coded(check_place_of_service, load_default="11")
    diagnoses = fields.List(Coded(check_diagnosis), load_default=list, validate=validate.Length(
        max=MAX_DIAGNOSES, error=f"at most {MAX_DIAGNOSES} diagnoses"))
    referring_provider_id = Id(load_default=None, allow_none=True)
    claim_no = Coded(check_claim_no, load_default="", metadata={"help": "default: made from the encounter id"})
    frequency = fields.String(load_default="1", validate=validate.OneOf(
        CLAIM_FREQUENCIES, error="must be 1 (original), 7 (replacement) or 8 (void)"))
    claim_type = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CLAIM_TYPES))
    charges = fields.List(fields.Nested(LineInput), required=True, validate=validate.Length(
        min=1, error="an encounter needs at least one charge line"))


class ChargeInput(LineInput):
    """A line added to an existing encounter."""

    encounter_id = Id(required=True)


class VoidInput(Schema):
    """A charge to void and why."""

    charge_id = Id(required=True)
    reason = Text(required=True, min_length=1, max_length=200)


# --- the rules ----------------------------------------------------------------------------------
def _billed_to(patient: Patient, coverage_ids: list[int] | None, dos) -> list[Coverage]:
    """The coverages billed in order: those given (the patient's own, in effect on ``dos``), or
    the patient's one active coverage in effect (none: self-pay; more than one: say which)."""
    if coverage_ids is None:
        active = [c for c in Coverage.select().where((Coverage.patient == patient.id) & Coverage.active)
                  .order_by(Coverage.id) if _in_effect(c, dos)]
        if len(active) > 1:
            listed = ", ".join(str(c.id) for c in active)
            raise Refused(f"the patient has {len(active)} coverages in effect ({listed}): list the ones to bill "
                          "in order, primary first", field="coverage_ids")
        return active
    if len(set(coverage_ids)) != len(coverage_ids):
        raise Refused("a coverage is listed twice", field="coverage_ids")
    out = []
    for i, cid in enumerate(coverage_ids):
        cov = get(Coverage, cid, "coverage", field=f"coverage_ids.{i}")
        if cov.patient_id != patient.id:
            raise Refused(f"coverage {cid} belongs to another patient", field=f"coverage_ids.{i}")
        if not cov.active or not _in_effect(cov, dos):
            raise Refused(f"coverage {cid} ({cov.payer.name}) is not in effect on {dos}", field=f"coverage_ids.{i}")
        out.append(cov)
    if len({c.payer_id for c in out}) != len(out):
        raise Refused("two coverages with the same payer", field="coverage_ids")
    return out


def _in_effect(cov: Coverage, dos) -> bool:
    """Does the coverage cover ``dos`` (no start or end date: open on that side)?"""
    return ((cov.effective_from is None or cov.effective_from <= dos)
            and (cov.effective_to is None or dos <= cov.effective_to))


def _provider(ident, field: str, *, referring: bool = False) -> Provider:
    """A provider who may render (or refer) on a claim: an NPI for a referring one."""
    prov = get(Provider, ident, "provider", field=field)
    if referring and not prov.npi:
        raise Refused(f"{prov.name} has no NPI; a referring provider goes on the claim with one", field=field)
    if not referring and prov.kind == "referring":
        raise Refused(f"{prov.name} is a referring provider; choose one who renders services here", field=field)
    return prov


def _lines(rows: list[dict], *, diagnoses: int, encounter_dos, taken: set[str],
           prefix: str = "") -> list[encounters.NewLine]:
    """The charge lines checked (:func:`_line`), each named ``<prefix><i>.<field>`` in a refusal;
    ``taken``: the control numbers the encounter already holds (the lines' own join them)."""
    return [_line(row, f"{prefix}{i}." if prefix else "", diagnoses, encounter_dos, taken)
            for i, row in enumerate(rows)]


def _line(row: dict, at: str, diagnoses: int, encounter_dos, taken: set[str]) -> encounters.NewLine:
    """One charge line checked: its code on file; an office code without modifiers or pointers; a
    procedure's pointers at diagnoses the encounter has (the first when none is said); modifiers
    once each; a control number not on the encounter yet; its provider; a date not after today."""
    code = ServiceCode.get_or_none(ServiceCode.code == row["code"].upper())
    if code is None:
        raise Refused(f"no service code {row['code']!r}; a supervisor adds it with `claimdesk code add`",
                      field=f"{at}code")
    pointers = row["pointers"] or ([1] if diagnoses and code.kind != "office" else [])
    if code.kind == "office":
        for name in ("modifiers", "pointers"):
            if row[name]:
                raise Refused(f"{code.code} is an office fee code, never sent on a claim: it takes no {name}",
                              field=f"{at}{name}")
    try:
        check_pointers(pointers, diagnoses)
    except ValueError as exc:
        raise Refused(str(exc), field=f"{at}pointers") from None
    if len(set(row["modifiers"])) != len(row["modifiers"]):
        raise Refused("the same modifier twice", field=f"{at}modifiers")
    control = row["control_no"] or None
    if control in taken:
        raise Refused(f"line control number {control} is already on this encounter", field=f"{at}control_no")
    if control is not None:
        taken.add(control)
    if row["provider_id"] is not None:
        _provider(row["provider_id"], f"{at}provider_id")
    if (row["dos"] or encounter_dos) > clock.today():
        raise Refused(f"the date of service {row['dos'] or encounter_dos} is in the future", field=f"{at}dos")
    fee = code.default_fee * row["units"] if row["fee"] is None else row["fee"]
    return encounters.NewLine(code.id, row["units"], int(fee), row["provider_id"], row["dos"],
                              tuple(row["modifiers"]), tuple(pointers), control)


def _needs_diagnosis(lines: list[encounters.NewLine], insured: bool, diagnoses: int, field: str) -> None:
    """A claim to an insurer with a procedure line needs at least one diagnosis."""
    if insured and not diagnoses and any(ServiceCode.get_by_id(ln.service_code_id).kind != "office" for ln in lines):
        raise Refused("a claim to an insurer needs at least one diagnosis (ICD-10-CM, like E11.9)", field=field)


# --- the encounter checked (the workflow and its preview share it) -------------------------------------
@dataclasses.dataclass(frozen=True)
class _Checked:
    """A new encounter's input after every rule: the records it names and its lines."""

    patient: Patient
    provider: Provider
    referring: int | None
    billed: list[Coverage]
    lines: list[encounters.NewLine]
    claim_type: str


def _check_encounter(clean: dict) -> _Checked:
    """Every rule of a new encounter (the loaded :class:`EncounterInput`), each refusal naming its
    field; nothing is written."""
    patient = get(Patient, clean["patient_id"], "patient", field="patient_id")
    provider = _provider(clean["provider_id"], "provider_id")
    if clean["dos"] > clock.today():
        raise Refused(f"the date of service {clean['dos']} is in the future", field="dos")
    referring = clean["referring_provider_id"]
    if referring is not None:
        _provider(referring, "referring_provider_id", referring=True)
    if len(set(clean["diagnoses"])) != len(clean["diagnoses"]):
        raise Refused("the same diagnosis twice", field="diagnoses")
    if clean["claim_no"] and encounters.claim_numbers_in_use([clean["claim_no"]]):
        raise Refused(f"claim number {clean['claim_no']} is already used", field="claim_no")
    billed = _billed_to(patient, clean["coverage_ids"], clean["dos"])
    lines = _lines(clean["charges"], diagnoses=len(clean["diagnoses"]), encounter_dos=clean["dos"], taken=set(),
                   prefix="charges.")
    _needs_diagnosis(lines, bool(billed), len(clean["diagnoses"]), "diagnoses")
    claim_type = clean["claim_type"] or (
        "workers_comp" if billed and billed[0].payer.kind == "workers_comp" else "medical")
    return _Checked(patient, provider, referring, billed, lines, claim_type)


# --- the workflows --------------------------------------------------------------------------------
def add_encounter(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow (clerk): a new encounter with its charge lines, billed to the coverages given (or
    the patient's one in effect); the primary insurer's claim is queued for the next batch.
    The encounter with its claim number, lines, fees and total. A submit retried with the same
    ``idempotency_key`` (a screen's) writes nothing again and gets the first result."""
    clean = load(EncounterInput, data)

    def body():
        require_role("clerk", "entering charges")
        ok = _check_encounter(clean)
        (made,) = encounters.write([encounters.NewEncounter(
            ok.patient.id, ok.provider.id, clean["dos"], tuple(ok.lines), tuple((c.payer_id, c.id) for c in ok.billed),
            ok.claim_type, None, clean["place_of_service"], tuple(clean["diagnoses"]), ok.referring,
            clean["claim_no"] or None, clean["frequency"])], memo=f"charges entered for patient {ok.patient.id}")
        queued = next_claims.queue([(made.encounter_id, ok.billed[0].payer_id, "primary")]) if ok.billed else []
        billed = _billed_shown(ok.billed)
        return {**encounter_summary(made.encounter_id), "claim_queued": bool(queued), "billed": billed,
                "billed_first": _first_billed(billed), "warnings": _warnings(ok.billed)}

    return workflow.run("encounter.add", body, inputs=clean, patient_id=clean["patient_id"],
                        idempotency_key=idempotency_key, typed_money=True)


def preview_encounter(data: dict) -> dict:
    """What :func:`add_encounter` would make of ``data``, checked by the same rules and refused the
    same way, writing nothing (a screen's review step): the patient, providers, date, place, the
    payers billed in order, the diagnoses, each line with its fee, the total, and who is billed
    first (the primary insurer, or the patient when self-pay)."""
    clean = load(EncounterInput, data)
    ok = _check_encounter(clean)
    lines = [_line_shown(ln) for ln in ok.lines]
    referring = Provider.get_by_id(ok.referring).name if ok.referring is not None else None
    billed = _billed_shown(ok.billed)
    return {"patient_id": ok.patient.id, "patient": ok.patient.name, "account_no": ok.patient.account_no,
            "dos": clean["dos"].isoformat(), "provider": ok.provider.name, "referring_provider": referring,
            "place_of_service": clean["place_of_service"], "claim_type": ok.claim_type,
            "diagnoses": [show_diagnosis(d) for d in clean["diagnoses"]], "billed": billed, "charges": lines,
            "total": lines_total(lines), "billed_first": _first_billed(billed), "warnings": _warnings(ok.billed)}


def _warnings(billed: list[Coverage]) -> list[str]:
    """What the clerk should look at in the payers billed (:func:`claimdesk.core.claim_rules.payer_order_warnings`)."""
    from claimdesk.core.claim_rules import payer_order_warnings

    return payer_order_warnings([(c.payer.name, c.payer.kind) for c in billed])


def _billed_shown(billed: list[Coverage]) -> list[dict]:
    """The coverages billed, in rank order, as plain data."""
    return [{"rank": rank, "coverage_id": c.id, "payer_id": c.payer_id, "payer": c.payer.name,
             "member_id": c.member_id} for rank, c in zip(INSURANCE_RANKS, billed)]


def _first_billed(billed: list[dict]) -> str:
    """Who is billed first: the primary insurer, or the patient when self-pay."""
    return billed[0]["payer"] if billed else "Patient (self-pay)"


def lines_total(lines: list[dict]) -> Cents:
    """The total of checked lines' fees (:func:`check_line` results): a screen's running total."""
    return Cents(sum(int(ln["fee"]) for ln in lines))


def check_line(data: dict, *, diagnoses: int = 0) -> dict:
    """One charge line checked as a new encounter with ``diagnoses`` diagnoses would check it
    (refusals name the line's field), writing nothing: its code with description, units, fee
    (the code's fee times the units when none is given), modifiers and pointers."""
    clean = load(LineInput, data)
    return _line_shown(_line(clean, "", diagnoses, clock.today(), set()))


def _line_shown(line: encounters.NewLine) -> dict:
    """A checked line as plain data, named by its code."""
    code = ServiceCode.get_by_id(line.service_code_id)
    return {"code": code.code, "description": code.description, "kind": code.kind, "units": line.units,
            "fee": Cents(line.fee), "modifiers": list(line.modifiers), "pointers": list(line.pointers)}


def add_charge(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow (clerk): add a charge line to an existing, active encounter; the line."""
    clean = load(ChargeInput, data)

    def body():
        require_role("clerk", "entering charges")
        enc = get(Encounter, clean["encounter_id"], "encounter", field="encounter_id", for_update=True)
        if enc.status != "active":
            raise Refused(f"encounter {enc.id} was removed from billing; it takes no new charges", field="encounter_id")
        taken = {c for (c,) in Charge.select(Charge.control_no).where(Charge.encounter == enc.id).tuples() if c}
        row = {k: clean[k] for k in LineInput._declared_fields}
        (line,) = _lines([row], diagnoses=len(enc.diagnosis_list()), encounter_dos=enc.dos, taken=taken)
        insured = bool(responsibility.insurers_of([enc.id])[enc.id])
        _needs_diagnosis([line], insured, len(enc.diagnosis_list()), "pointers")
        (posted,) = posting_charges.post_charges([encounters.new_charge(enc, line)],
                                                 memo=f"charge added to encounter {enc.id}")
        return {"encounter_id": enc.id, "patient_id": enc.patient_id,
                **charge_summary(Charge.get_by_id(posted.charge_id))}

    return workflow.run("charge.add", body, inputs=clean, encounter_id=clean["encounter_id"],
                        idempotency_key=idempotency_key, typed_money=True)


def void_charge(data: dict, *, idempotency_key: str | None = None) -> dict:
    """Workflow (supervisor): void a charge line: its charge entry reversed (never edited), the
    line kept, marked void. Refused once money was paid, adjusted or moved on it."""
    clean = load(VoidInput, data)

    def body():
        require_role("supervisor", "voiding a charge")
        charge = get(Charge, clean["charge_id"], "charge", field="charge_id", for_update=True)
        reversals = posting_charges.void_charges([charge.id], memo=f"charge {charge.id} voided: {clean['reason']}")
        return {"charge_id": charge.id, "encounter_id": charge.encounter_id, "patient_id": charge.patient_id,
                "voided_fee": Cents(charge.fee), "reversing_entries": reversals}

    encounter_id = Charge.select(Charge.encounter).where(Charge.id == clean["charge_id"]).scalar()
    return workflow.run("charge.void", body, inputs=clean, reason=clean["reason"], encounter_id=encounter_id,
                        idempotency_key=idempotency_key, typed_money=True)


# --- what the workflows hand back -------------------------------------------------------------------
def charge_summary(ch: Charge) -> dict:
    """A charge line as plain data (its fee as money)."""
    return {"charge_id": ch.id, "line_no": ch.line_no, "code": ch.service_code.code, "units": ch.units,
            "fee": Cents(ch.fee), "modifiers": split_codes(ch.modifiers),
            "pointers": [int(p) for p in split_codes(ch.diagnosis_pointers)], "control_no": ch.control_no,
            "provider_id": ch.provider_id, "dos": ch.dos.isoformat(), "status": ch.status}


def encounter_summary(encounter_id: int) -> dict:
    """An encounter as entered: claim facts, diagnoses (with dots), lines and the total of its fees."""
    enc = Encounter.get_by_id(encounter_id)
    lines = [charge_summary(ch) for ch in Charge.select().where(Charge.encounter == enc.id).order_by(Charge.line_no)]
    return {"encounter_id": enc.id, "patient_id": enc.patient_id, "claim_no": enc.claim_no, "dos": enc.dos.isoformat(),
            "provider_id": enc.provider_id, "referring_provider_id": enc.referring_provider_id,
            "claim_type": enc.claim_type, "place_of_service": enc.place_of_service, "frequency": enc.frequency,
            "diagnoses": [show_diagnosis(d) for d in enc.diagnosis_list()], "charges": lines,
            "total": Cents(sum(ln["fee"] for ln in lines if ln["status"] == "active"))}
