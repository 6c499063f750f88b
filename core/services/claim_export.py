"""Claims as the payer reads them: the 837P (005010X222A1) records of queued or batched claims,
built from the database in a few set-based reads, with coordination of benefits from the EOBs
already posted, and the files written with control numbers kept in the database.

- :func:`assemble` turns claims into :class:`~claimdesk.core.x12.claims837.Claim837` records and
  lists the ones that cannot go (:class:`Held`, with the reason in a clerk's words): a missing
  member id, payer id, diagnosis or NPI, a later payer's claim whose earlier payer has no EOB on
  file, figures that do not balance (:func:`~claimdesk.core.x12.claims837_writer.cob_problems`).
- :func:`write_file` writes one batch's 837P under the next interchange control number and
  records it (:class:`~claimdesk.core.models.exports.ClaimFile`).
- :func:`export_batch` is the workflow behind ``claims export --batch N``: a batch written again.

A claim carries the encounter's active lines its payer is responsible for (a split at its
rank: a line the primary denied outright is not the secondary's) and its zero-fee lines. A claim to a later payer
carries, per earlier payer, what that payer did on each line (paid and
its adjustments, summed over its EOBs, an EOB taken back by an 835 reversal left out), what it
paid on the claim (AMT*D) and what it left to the patient (AMT*EAF, its PR adjustments). A
resent claim (``claims requeue``) whose payer gave a claim number on its EOB goes as a
replacement (frequency 7, REF*F8 that number); one the payer never adjudicated goes as an
original again; a void (``claims void``) goes with frequency 8 and that number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from claimdesk.core import claim_rules, clock, config, db, files, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import INSURANCE_RANKS, ClaimBatch, Payer, Provider
from claimdesk.core.models.exports import ClaimFile, ControlCounter
from claimdesk.core.money import Cents
from claimdesk.core.services.common import get
from claimdesk.core.x12.claims837 import (
    SELF, Adjustment, Claim837, LineAdjudication, Name, OtherPayer, Patient, ServiceLine, Subscriber,
)
from claimdesk.core.x12.claims837 import Payer as X12Payer
from claimdesk.core.x12.claims837 import Provider as X12Provider
from claimdesk.core.x12.claims837_writer import Submission, cob_problems, write_837p
from claimdesk.core.x12.text import NotX12Text, x12_id, x12_text
from claimdesk.core.x12.common import Address, collector_paused

#: SBR01: a payer's responsibility sequence by rank.
SEQUENCE = {"primary": "P", "secondary": "S", "tertiary": "T"}
#: What the billing provider needs from ``[clinic]`` before any 837P is written.
CLINIC_NEEDS = ("name", "npi", "tax_id", "address", "city", "state", "zip")


@dataclass(frozen=True, slots=True)
class Held:
    """A claim left out of an 837P (it stays queued): which, for whom, and why."""

    claim_id: int
    encounter_id: int
    claim_no: str
    patient: str
    payer: str
    rank: str
    reason: str

    def as_dict(self) -> dict:
        return {"claim_id": self.claim_id, "encounter_id": self.encounter_id, "claim_no": self.claim_no,
                "patient": self.patient, "payer": self.payer, "rank": self.rank, "reason": self.reason}


def clinic_ready(clinic: config.Clinic) -> bool:
    """True when ``[clinic]`` names the billing provider well enough for an 837P."""
    return all(getattr(clinic, key) for key in CLINIC_NEEDS)


def billing_provider(clinic: config.Clinic) -> X12Provider:
    """The clinic as billing provider (2010AA); refused naming the first ``[clinic]`` key missing."""
    for key in CLINIC_NEEDS:
        if not getattr(clinic, key):
            raise Refused(f"an 837P needs the clinic's {key.replace('_', ' ')} as billing provider: set "
                             f"[clinic] {key} in the config file", field=f"[clinic] {key}")
    try:
        return X12Provider(Name(x12_text(clinic.name), organisation=True), clinic.npi, clinic.taxonomy, clinic.tax_id,
                           Address(x12_text(clinic.address), "", x12_text(clinic.city), clinic.state, clinic.zip))
    except NotX12Text as exc:
        raise Refused(f"the clinic's name or address {exc}: set it in the config file's [clinic] section",
                      field="[clinic]") from None


def submission(settings: config.Settings, payer: Payer, control_number: int, when: dt.datetime) -> Submission:
    """Who sends (``[edi]``, else the clinic) and who receives (``[edi]``, else the batch's payer)."""
    edi, clinic = settings.edi, settings.clinic
    receiver_id = edi.receiver_id or payer.payer_code
    if not receiver_id:
        raise Refused(f"payer {payer.name} has no payer id and [edi] names no receiver: set one of them",
                      field="payer_code")
    phone = "".join(ch for ch in clinic.phone if ch in "0123456789")
    try:
        return Submission(
            submitter_name=x12_text(edi.submitter_name or clinic.name), submitter_id=edi.submitter_id or clinic.tax_id,
            contact=x12_text(edi.contact or "BILLING OFFICE"), phone=phone or "0000000000",
            receiver_name=x12_text(edi.receiver_name or payer.name), receiver_id=receiver_id,
            control_number=control_number, when=when, usage=edi.usage,
        )
    except NotX12Text as exc:
        raise Refused(f"the sender's or receiver's name {exc}: set it in the config file's [edi] section "
                      "(or the payer's name)", field="[edi]") from None


def next_control_number() -> int:
    """The next interchange control number (ISA13/GS06), taken in the caller's transaction."""
    row = db.sql("UPDATE x12_control SET last = last + 1 WHERE name = {p} RETURNING last", ["interchange"]).fetchone()
    if row is None:  # pragma: no cover - migration v10 makes the row
        ControlCounter.create(name="interchange", last=1)
        return 1
    return int(row[0])


# --- reading what the claims need, set-based ------------------------------------------------------
def _rows(template: str, ids: list[int]) -> list[tuple]:
    where, params = db.ids_in(ids)
    return list(db.sql(template.replace("{ids}", where), params))


def _address(line: str, city: str, state: str, zip_code: str) -> Address | None:
    if not (line and city and state and zip_code):
        return None
    return Address(x12_text(line), "", x12_text(city), state.upper(), zip_code.replace("-", ""))



class _Reads:
    """Everything the claims need, read once for all of them."""

    def __init__(self, claim_ids: list[int]):
        self.claims = _rows(
            "SELECT c.id, c.encounter_id, c.payer_id, c.rank, c.resend, c.voids, e.claim_no, e.place_of_service, "
            "e.diagnoses, e.provider_id, e.referring_provider_id, e.patient_id, p.last_name, p.first_name, "
            "p.dob, p.sex, p.address, p.city, p.state, p.zip "
            "FROM claim c JOIN encounter e ON e.id = c.encounter_id JOIN patient p ON p.id = e.patient_id "
            "WHERE c.id {ids} ORDER BY c.id", claim_ids)
        encounters = sorted({row[1] for row in self.claims})
        self.payers = {p.id: p for p in Payer.select()}
        self.providers = {p.id: p for p in Provider.select()}
        self.slots: dict[int, dict[str, tuple]] = defaultdict(dict)
        for row in _rows(
                "SELECT ep.encounter_id, ep.rank, ep.payer_id, ep.placeholder, cv.member_id, cv.group_no, "
                "cv.relationship, cv.plan_type, cv.subscriber_last_name, cv.subscriber_first_name, cv.subscriber_dob, "
                "cv.subscriber_sex, cv.subscriber_address, cv.subscriber_city, cv.subscriber_state, cv.subscriber_zip, "
                "cv.id FROM encounter_payer ep LEFT JOIN coverage cv ON cv.id = ep.coverage_id "
                "WHERE ep.encounter_id {ids}", encounters):
            self.slots[row[0]][row[1]] = row
        #: (charge, rank, payer) of every split: a claim carries the lines its payer is responsible for
        self.owed = set(_rows(
            "SELECT s.charge_id, s.rank, s.payer_id FROM charge_split s JOIN charge ch ON ch.id = s.charge_id "
            "WHERE ch.encounter_id {ids}", encounters))
        self.lines: dict[int, list[tuple]] = defaultdict(list)
        for row in _rows(
                "SELECT ch.encounter_id, ch.id, ch.line_no, sc.code, ch.units, ch.fee, ch.dos, ch.modifiers, "
                "ch.diagnosis_pointers, ch.control_no, ch.provider_id FROM charge ch "
                "JOIN service_code sc ON sc.id = ch.service_code_id WHERE ch.encounter_id {ids} "
                "AND ch.status = 'active' AND ch.kind = 'service' ORDER BY ch.encounter_id, ch.line_no, ch.id",
                encounters):
            self.lines[row[0]].append(row)
        # per (encounter, payer, rank): per charge [paid, {(group, reason): cents}, last date]; the claim
        # numbers the payer gave; EOBs an 835 reversal took back are left out
        self.results: dict[tuple, dict[int, list]] = defaultdict(dict)
        self.claim_refs: dict[tuple, str] = {}
        line_key: dict[int, tuple] = {}
        for enc, payer_id, rank, received, ref, line_id, charge_id, paid, denied, denial in _rows(
                "SELECT eob.encounter_id, eob.payer_id, eob.rank, eob.received_on, eob.claim_ref, el.id, "
                "el.charge_id, el.paid, el.denied, el.denial_code FROM eob JOIN eob_line el ON el.eob_id = eob.id "
                "WHERE eob.encounter_id {ids} AND NOT EXISTS "
                "(SELECT 1 FROM era_claim rc WHERE rc.reverses_id = eob.id) ORDER BY eob.id, el.id", encounters):
            key = (enc, payer_id, rank)
            got = self.results[key].setdefault(charge_id, [0, {}, None, ""])
            got[0] += int(paid)
            if denied and "-" in (denial or ""):
                got[3] = denial
            day = db.date_of(received)
            got[2] = day if got[2] is None or (day and day > got[2]) else got[2]
            line_key[line_id] = (key, charge_id)
            if ref:
                self.claim_refs[key] = ref
        for line_id, group, reason, cents in _rows(
                "SELECT a.line_id, a.group_code, a.reason_code, a.amount FROM eob_adjustment a "
                "JOIN eob_line el ON el.id = a.line_id JOIN eob ON eob.id = el.eob_id "
                "WHERE eob.encounter_id {ids} ORDER BY a.id", encounters):
            if line_id in line_key:
                key, charge_id = line_key[line_id]
                adjustments = self.results[key][charge_id][1]
                adjustments[(group, reason)] = adjustments.get((group, reason), 0) + int(cents)


def _subscriber(slot: tuple, payer: Payer, patient: tuple) -> Subscriber:
    """The insured of a payer slot: the patient (relationship self) or the coverage's subscriber."""
    (_, rank, _, _, member_id, group, relationship, plan_type, sub_last, sub_first, sub_dob, sub_sex,
     sub_address, sub_city, sub_state, sub_zip, _) = slot
    filing = claim_rules.plan_type_for(payer.kind, plan_type or "") or "CI"
    if (relationship or "self") == "self":
        last, first, dob, sex, address, city, state, zip_code = patient
        return Subscriber(SEQUENCE[rank], SELF, x12_id(group or ""), filing, Name(x12_text(last), x12_text(first)),
                          x12_id(member_id or ""), db.date_of(dob), sex or "U", _address(address, city, state, zip_code))
    return Subscriber(SEQUENCE[rank], claim_rules.relationship_code(relationship), x12_id(group or ""), filing,
                      Name(x12_text(sub_last or ""), x12_text(sub_first or "")), x12_id(member_id or ""),
                      db.date_of(sub_dob), sub_sex or "U", _address(sub_address, sub_city, sub_state, sub_zip))


def _x12_payer(payer: Payer) -> X12Payer:
    return X12Payer(x12_text(payer.name), payer.payer_code,
                    _address(payer.address, payer.city, payer.state, payer.zip))


def _person(provider: Provider) -> X12Provider:
    if provider.entity == "organization":
        name = Name(x12_text(provider.last_name or provider.name), organisation=True)
    else:
        name = Name(x12_text(provider.last_name or provider.name), x12_text(provider.first_name or ""))
    return X12Provider(name, provider.npi, provider.taxonomy, provider.tax_id)


def explained_adjustments(got: list, fee: int, previous: list | None) -> dict:
    """A payer's adjustments on a line as the next payer must read them, from ``got`` (paid,
    adjustments by (group, reason), date, denial code): where paid and adjustments leave part of
    the charge unexplained, a denial names it (its code, e.g. ``CO-96``, for what is left); on a
    later payer's line, the earlier payer's impact is ``OA-23`` (the charge less what the earlier
    payer left to it, its PR) when what remains is exactly what it was left. Anything else stays
    unexplained and the claim does not balance."""
    paid, adjustments, _, denial = got
    out = dict(adjustments)
    left = fee - paid - sum(out.values())
    if previous is not None and left:
        handed = sum(c for (g, _), c in previous[1].items() if g == "PR")
        if left == fee - handed:
            out = {("OA", "23"): left, **out}
            left = 0
    if left and denial:
        group, reason = denial.split("-", 1)
        out[(group, reason)] = out.get((group, reason), 0) + left
    return out


class _Builder:
    """Makes one claim's record from the reads, or says why it cannot go."""

    def __init__(self, reads: _Reads, billing: X12Provider):
        self.reads = reads
        self.billing = billing
        # the records are frozen: the parts many claims share are made once
        self._people: dict[int, X12Provider] = {}
        self._payers: dict[int, X12Payer] = {}
        self._codes: dict[str | None, tuple[str, ...]] = {}
        self._pointers: dict[str | None, tuple[int, ...]] = {}
        self._units: dict[int, Decimal] = {}
        self._days: dict = {}

    def person(self, provider: Provider) -> X12Provider:
        made = self._people.get(provider.id)
        if made is None:
            made = self._people[provider.id] = _person(provider)
        return made

    def payer(self, payer: Payer) -> X12Payer:
        made = self._payers.get(payer.id)
        if made is None:
            made = self._payers[payer.id] = _x12_payer(payer)
        return made

    def line_facts(self, modifiers: str | None, pointers: str | None, units, dos) -> tuple:
        """(modifiers, units, pointers, date) of a charge row, each made once per distinct value."""
        mods = self._codes.get(modifiers)
        if mods is None:
            mods = self._codes[modifiers] = tuple(claim_rules.split_codes(modifiers))
        point = self._pointers.get(pointers)
        if point is None:
            point = self._pointers[pointers] = tuple(claim_rules.split_pointers(pointers) or [1])
        count = self._units.get(units)
        if count is None:
            count = self._units[units] = Decimal(int(units))
        day = self._days.get(dos)
        if day is None:
            day = self._days[dos] = db.date_of(dos)
        return mods, count, point, day

    def build(self, row: tuple) -> Claim837 | str:
        """One claim row's 837P record, or why it is held (a clerk's words)."""
        try:
            return self._build(row)
        except NotX12Text as exc:
            return f"a name or address on file {exc}"

    def _build(self, row: tuple) -> Claim837 | str:
        (claim_id, enc, payer_id, rank, resend, voids, claim_no, place, diagnoses, provider_id, referring_id, patient_id,
         last, first, dob, sex, address, city, state, zip_code) = row
        reads = self.reads
        payer = reads.payers[payer_id]
        slots = reads.slots.get(enc, {})
        slot = slots.get(rank)
        if not payer.payer_code:
            return f"payer {payer.name} has no payer id (set it in Clinic setup)"
        if slot is None or slot[2] != payer_id:
            now = reads.payers[slot[2]].name if slot is not None else "none"
            return f"{payer.name} is no longer the encounter's {rank} payer (it is {now})"
        if slot[16] is None:
            return f"the encounter's {rank} payer {payer.name} is not linked to the patient's coverage"
        if not slot[4]:
            return f"the {rank} coverage with {payer.name} has no member id"
        if dob is None:
            return "the patient's date of birth is missing"
        codes = [d for d in (diagnoses or "").split(",") if d]
        if not codes:
            return "the encounter has no diagnosis"
        rendering = reads.providers[provider_id]
        if not rendering.npi:
            return f"the rendering provider {rendering.name} has no NPI"
        referring = reads.providers.get(referring_id) if referring_id else None
        patient_facts = (last, first, dob, sex, address, city, state, zip_code)
        subscriber = _subscriber(slot, payer, patient_facts)
        if subscriber.relationship != SELF and not (subscriber.name.last and subscriber.name.first):
            return f"the {rank} coverage's subscriber (the insured) has no name"
        owed = reads.owed
        charges = [c for c in reads.lines.get(enc, []) if (c[1], rank, payer_id) in owed or not int(c[5])]
        if not charges:
            return f"no active charge of the encounter is {payer.name}'s to pay"
        included = {c[1] for c in charges}
        others, problem = self.other_payers(enc, rank, slots, included, patient_facts)
        if problem:
            return problem
        lines, total = [], 0
        for number, (_, charge_id, _, code, units, fee, dos, modifiers, pointers, control, line_provider) in enumerate(
                charges, start=1):
            mods, count, point, day = self.line_facts(modifiers, pointers, units, dos)
            fee = int(fee)
            total += fee
            results, previous = [], None
            for other_rank, other in others:
                if other.paid is None:  # the next payer, named for information
                    continue
                got = reads.results.get((enc, reads.slots[enc][other_rank][2], other_rank), {}).get(charge_id)
                if got is None:
                    if fee == 0:
                        continue
                    return f"{other.payer.name}'s EOB has no result for line {number} ({code})"
                paid, adjustments = got[0], explained_adjustments(got, fee, previous)
                previous = got
                results.append(LineAdjudication(
                    other.payer.payer_id, Cents(paid), code, mods, count,
                    tuple(Adjustment(g, r, Cents(c)) for (g, r), c in adjustments.items() if c), got[2]))
            own = reads.providers[line_provider]
            lines.append(ServiceLine(
                number, "HC", code, mods, Cents(fee), "UN", count, place, point, day, day, control or "",
                self.person(own) if line_provider != provider_id and own.npi else None, 0, (), tuple(results)))
        frequency, reference = "1", reads.claim_refs.get((enc, payer_id, rank), "")
        if voids:
            if not reference:
                return f"a void needs {payer.name}'s claim number, and no EOB of it gives one"
            frequency = "8"
        elif resend and reference:
            frequency = "7"
        else:
            reference = ""
        patient = Patient(SELF, subscriber.name, subscriber.birth, subscriber.sex, subscriber.address)
        if subscriber.relationship != SELF:
            patient = Patient(subscriber.relationship, Name(x12_text(last), x12_text(first)), db.date_of(dob), sex or "U",
                              _address(address, city, state, zip_code))
        claim = Claim837(
            claim_no, Cents(total), place, frequency, tuple(codes), reference,
            self.billing, None, subscriber, self.payer(payer), patient, self.person(rendering),
            self.person(referring) if referring is not None and referring.npi else None,
            tuple(other for _, other in others), tuple(lines), "0001", 0)
        problems = cob_problems(claim)
        return "does not balance: " + "; ".join(problems) if problems else claim

    def other_payers(self, enc: int, rank: str, slots: dict, included: set[int], patient: tuple):
        """The 2320 loops: each earlier insurer with what it did on the ``included`` charges (an EOB
        must be on file), then for a primary or secondary claim the next insurer for information.
        ``(rank, OtherPayer)`` pairs."""
        reads, out = self.reads, []
        mine = INSURANCE_RANKS.index(rank)
        for position, other_rank in enumerate(INSURANCE_RANKS):
            slot = slots.get(other_rank)
            if position == mine or slot is None or slot[3] or slot[16] is None:
                continue
            payer = reads.payers[slot[2]]
            if not payer.is_insurance or not payer.payer_code:
                continue
            sub = _subscriber(slot, payer, patient)
            if position > mine:
                if position == mine + 1:
                    out.append((other_rank, OtherPayer(sub, self.payer(payer), None, None)))
                continue
            results = reads.results.get((enc, payer.id, other_rank))
            if not results:
                return [], f"no EOB from the {other_rank} payer {payer.name} is posted for this encounter"
            shown = [got for charge_id, got in results.items() if charge_id in included]
            paid = sum(got[0] for got in shown)
            left = sum(c for got in shown for (g, _), c in got[1].items() if g == "PR")
            out.append((other_rank, OtherPayer(sub, self.payer(payer), Cents(paid), Cents(left))))
        return out, ""


def assemble(claim_ids: list[int], settings: config.Settings | None = None) -> tuple[list[tuple[int, Claim837]],
                                                                                      list[Held]]:
    """The 837P records of ``claim_ids`` as ``(claim id, record)`` in claim order, and the claims
    held back with their reason. Refused (naming the ``[clinic]`` key) when the clinic is not
    set up as billing provider."""
    settings = settings or config.load()
    billing = billing_provider(settings.clinic)
    with collector_paused():  # (the rows read and the records made live until they are written)
        reads = _Reads(sorted(set(claim_ids)))
        builder = _Builder(reads, billing)
        ready, held = [], []
        for row in reads.claims:
            made = builder.build(row)
            if isinstance(made, str):
                payer = reads.payers[row[2]]
                held.append(Held(row[0], row[1], row[6] or "", f"{row[12]}, {row[13]}", payer.name, row[3], made))
            else:
                ready.append((row[0], made))
    return ready, held


def file_name(batch_id: int, control_number: int) -> str:
    """``claims-batch-000012-000000045.837``: the batch and the file's control number."""
    return f"claims-batch-{batch_id:06d}-{control_number:09d}.837"


def write_file(batch: ClaimBatch, payer: Payer, records: list[Claim837], out_dir: Path,
               settings: config.Settings | None = None) -> dict:
    """Write ``records`` (one payer's batch) as one 837P under the next control number, in the
    caller's transaction, and record it; ``{"path", "control_number", "claims", "total"}``."""
    settings = settings or config.load()
    number = next_control_number()
    text = write_837p(records, submission(settings, payer, number, clock.now()))
    if not text.isascii():  # (every name, address and id is folded to ASCII above; never a file a payer refuses)
        at = next(i for i, c in enumerate(text) if not c.isascii())
        raise Refused(f"the 837P would carry {text[at]!r}, which X12 cannot (in {text[max(0, at - 40):at + 1]!r})")
    files.private_dir(out_dir)
    path = out_dir / file_name(batch.id, number)
    files.write_private(path, text, encoding="ascii")
    total = sum(claim.total for claim in records)
    ClaimFile.create(batch=batch.id, path=str(path), control_number=number, claims=len(records), total=total,
                     created_at=clock.now(), created_by=current_user())
    return {"path": str(path), "control_number": number, "claims": len(records), "total": Cents(total)}


def export_batch(batch_id: int, *, out_dir: str | Path | None = None) -> dict:
    """Workflow: write batch ``batch_id``'s 837P again (a lost file, a clearinghouse that asks
    for it again) under a new control number. The batch's claims are written as they stand
    today; one that can no longer be written is listed in ``held`` with the reason.

    Returns ``{"batch_id", "payer", "path", "control_number", "claims", "total", "held"}``."""
    settings = config.load()
    target = Path(out_dir) if out_dir else (settings.export_dir or config.default_export_dir())

    def body():
        batch = get(ClaimBatch, batch_id, "claim batch", field="batch_id")
        rows = list(db.sql("SELECT id, payer_id FROM claim WHERE batch_id = {p} ORDER BY id", [batch.id]))
        if not rows:
            raise Refused(f"claim batch {batch.id} holds no claim", field="batch_id")
        ready, held = assemble([r[0] for r in rows], settings)
        payer = Payer.get_by_id(rows[0][1])
        if not ready:
            raise Refused(f"no claim of batch {batch.id} can be written as an 837P: {held[0].reason}",
                          field="batch_id")
        made = write_file(batch, payer, [claim for _, claim in ready], target, settings)
        return {"batch_id": batch.id, "payer": payer.name, **made, "held": [h.as_dict() for h in held]}

    return workflow.run("claims.export", body, inputs={"batch_id": batch_id, "out_dir": str(target)})
