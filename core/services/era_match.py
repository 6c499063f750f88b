"""Matching an 835 payment's claims to what is on file, set-based (a few queries per payment,
whatever its size); nothing is guessed:

- the payee (N1*PE) against the clinic (``[clinic] npi``/``tax_id`` and its clinical providers'):
  a payment for another practice is refused (:func:`payee_problem`);
- the payer by the ids the payment carries (REF*2U, N1*PR04, TRN03, in turn) against each
  payer's payer id (``payer_code``) and the other ids its remittances carry (``remit_ids``);
- a claim by CLP01 = the encounter's claim number (CLM01 of the 837P); failing that, by the
  member id (NM1*IL / NM1*QC) on a coverage with this payer, the service dates, procedure codes,
  modifiers and charges: exactly one encounter of those patients must carry every line, else
  the claim is unmatched or ambiguous (an exception);
- a line by REF*6R = the charge's line control number; failing that, by date, code, modifiers
  and fee among the encounter's lines not already matched;
- what was posted before: a claim from this payer with the same CLP01, CLP07, status and paid
  amount (:meth:`Matcher.posted_before`), and the EOB a reversal takes back
  (:meth:`Matcher.reversal_target`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

from claimdesk.core import config, db
from claimdesk.core.posting import responsibility
from claimdesk.core.services.reference_data import payer_remit_ids
from claimdesk.core.x12.remittance import ClaimPayment, Payee, Remittance, ServicePayment, lookup


@dataclasses.dataclass(slots=True)
class ChargeRow:
    """A line on file: its charge id, control number (REF*6R), code, modifiers, fee and date."""

    id: int
    control_no: str
    code: str
    modifiers: tuple[str, ...]
    fee: int
    dos: dt.date


@dataclasses.dataclass(slots=True)
class EncounterRow:
    """An encounter on file: its patient, claim number, whether it is active, its insurers by
    rank and its active charges in line order."""

    id: int
    patient_id: int
    claim_no: str
    active: bool
    insurers: dict[str, int] = dataclasses.field(default_factory=dict)
    charges: list[ChargeRow] = dataclasses.field(default_factory=list)

    def rank_of(self, payer_id: int) -> str | None:
        """The rank ``payer_id`` holds on this encounter, or None."""
        return next((rank for rank, pid in self.insurers.items() if pid == payer_id), None)



def payee_problem(payee: Payee, clinic: config.Clinic) -> str:
    """Why a payment is not this clinic's money ("" when it is, or cannot be told): its payee
    (N1*PE) names an NPI or a tax id (N104 XX/FI, REF*TJ) of a kind claimdesk knows the clinic's
    by, and it is neither ``[clinic] npi``/``tax_id`` nor a clinical provider's (a clinic may be
    paid under its providers' own numbers). Not checked until the clinic's NPI or tax id is set."""
    if not (clinic.npi or clinic.tax_id):
        return ""
    npis, tax_ids = {clinic.npi}, {clinic.tax_id}
    for npi, tax_id in db.sql("SELECT npi, tax_id FROM provider WHERE kind = 'clinical'"):
        npis.add(npi)
        tax_ids.add(tax_id)
    npis.discard("")
    tax_ids.discard("")
    tax_id = "".join(ch for ch in payee.tax_id if ch.isdigit())
    named = []
    for kind, value, ours in (("NPI", payee.npi, npis), ("tax id", tax_id, tax_ids)):
        if value and ours:
            if value in ours:
                return ""
            named.append(f"{kind} {_shown(kind, value)}")
    if not named:
        return ""
    clinic_ids = " and ".join(f"{kind} {_shown(kind, value)}"
                              for kind, value in (("NPI", clinic.npi), ("tax id", clinic.tax_id)) if value)
    return (f"the payee (N1*PE) is {payee.name or 'not named'}, {' and '.join(named)}: not this clinic ({clinic_ids}) "
            f"nor one of its providers. A remittance for another practice is not posted: return it to the payer "
            f"or clearinghouse (if the clinic is paid under that number, give it to its provider under Clinic "
            f"setup, or to [clinic] in the config file)")


def _shown(kind: str, value: str) -> str:
    """An id as a clerk reads it: a 9-digit tax id as an EIN (12-3456789)."""
    return f"{value[:2]}-{value[2:]}" if kind == "tax id" and len(value) == 9 and value.isdigit() else value


def payer_ids_named(remittance: Remittance) -> list[tuple[str, str]]:
    """(where, id) of each payer id a payment carries, in the order they are tried: REF*2U (the
    payer identification number), N1*PR04, TRN03 (the payer's, "1" and its tax id); upper case."""
    named = (("REF*2U", lookup(remittance.payer.references, "2U") or ""), ("N1*PR04", remittance.payer.id),
             ("TRN03", remittance.trace_payer_id))
    return [(where, value.strip().upper()) for where, value in named if value and value.strip()]


def find_payer(remittance: Remittance) -> tuple[int | None, str]:
    """``(payer id, "")`` for the one payer the payment names, else ``(None, why)``. Each id it
    carries (:func:`payer_ids_named`) is tried in turn against every payer's payer id (the one
    its claims carry, ``payer_code``) and the other ids its remittances carry (``remit_ids``):
    the first that one payer holds names it; one that several hold is refused, never guessed."""
    named = payer_ids_named(remittance)
    if not named:
        return None, "the payment names no payer id (REF*2U, N1*PR04 or TRN03): ask the payer for a complete 835"
    payers = list(db.sql("SELECT id, name, payer_code, remit_ids FROM payer ORDER BY id"))
    for where, value in named:
        found = [(pid, name) for pid, name, code, others in payers
                 if value == code.upper() or value in payer_remit_ids(others)]
        if len(found) == 1:
            return found[0][0], ""
        if found:
            return None, f"payer id {value} ({where}) is held by {len(found)} payers ({', '.join(n for _, n in found)})"
    listed = ", ".join(f"{value} ({where})" for where, value in named)
    return None, (f"no payer on file has the payer id {listed}: add the payer under Clinic setup, or give the payer "
                  f"its remittances come from this id as one of its ERA payer ids (Clinic setup; "
                  f"claimdesk payer edit ID --remit-ids {named[0][1]})")


class Matcher:
    """What one payment's claims match on file (load once with :meth:`load`)."""

    def __init__(self, payer_id: int):
        self.payer_id = payer_id
        self.encounters: dict[int, EncounterRow] = {}
        self.by_claim_no: dict[str, int] = {}
        self.by_member: dict[str, set[int]] = defaultdict(set)  # member id -> patients
        self.posted: dict[tuple, tuple] = {}  # (claim no, payer claim no, status, paid) -> (payment id, eob id)
        self.eobs: dict[int, list[tuple[int, int, str]]] = defaultdict(list)  # encounter -> (eob, paid, claim ref)
        self.reversed: set[int] = set()

    # -- reading -------------------------------------------------------------
    def load(self, claims: list[ClaimPayment]) -> None:
        """Read every record the claims may match (a few queries)."""
        numbers = sorted({c.claim_number for c in claims})
        if numbers:
            among, params = db.texts_in(numbers)
            for eid, claim_no in db.sql(f"SELECT id, claim_no FROM encounter WHERE claim_no {among}", params):
                self.by_claim_no[claim_no] = eid
        unmatched = [c for c in claims if c.claim_number not in self.by_claim_no and c.member_id]
        candidates = self._by_member(unmatched)
        self._load_encounters(sorted(set(self.by_claim_no.values()) | candidates))
        self._load_history(numbers)

    def _by_member(self, claims: list[ClaimPayment]) -> set[int]:
        """The encounters of the patients covered by this payer under the claims' member ids
        on the claims' service dates (for the fallback match)."""
        members = sorted({c.member_id.upper() for c in claims})
        if not members:
            return set()
        among, params = db.texts_in(members)
        for member, pid in db.sql(f"SELECT UPPER(member_id), patient_id FROM coverage WHERE payer_id = {{p}} "
                                  f"AND UPPER(member_id) {among}", [self.payer_id] + params):
            self.by_member[member].add(pid)
        patients = sorted(set().union(*self.by_member.values())) if self.by_member else []
        if not patients:
            return set()
        among, params = db.ids_in(patients)
        return {row[0] for row in db.sql(
            f"SELECT DISTINCT encounter_id FROM charge WHERE patient_id {among} AND status = 'active'", params)}

    def _load_encounters(self, ids: list[int]) -> None:
        if not ids:
            return
        among, params = db.ids_in(ids)
        for eid, pid, claim_no, status in db.sql(
                f"SELECT id, patient_id, claim_no, status FROM encounter WHERE id {among}", params):
            self.encounters[eid] = EncounterRow(eid, pid, claim_no or "", status == "active")
        for eid, insurers in responsibility.insurers_of(ids).items():
            self.encounters[eid].insurers = insurers
        for cid, eid, control, code, modifiers, fee, dos in db.sql(
                "SELECT c.id, c.encounter_id, c.control_no, s.code, c.modifiers, c.fee, c.dos FROM charge c "
                f"JOIN service_code s ON s.id = c.service_code_id WHERE c.encounter_id {among} "
                "AND c.status = 'active' ORDER BY c.encounter_id, c.line_no, c.id", params):
            self.encounters[eid].charges.append(ChargeRow(cid, control or "", code, _modifiers(modifiers), fee,
                                                          db.date_of(dos)))

    def _load_history(self, numbers: list[str]) -> None:
        """Claims of this payer posted before under these claim numbers, and the EOBs on the
        matched encounters (for reversals)."""
        if numbers:
            among, params = db.texts_in(numbers)
            for claim_no, payer_claim_no, status, paid, payment_id, eob_id, reverses in db.sql(
                    "SELECT c.claim_no, c.payer_claim_no, c.status, c.paid, c.payment_id, c.eob_id, c.reverses_id "
                    "FROM era_claim c JOIN era_payment p ON p.id = c.payment_id "
                    f"WHERE p.payer_id = {{p}} AND c.outcome = 'posted' AND c.claim_no {among}",
                    [self.payer_id] + params):
                self.posted[(claim_no, payer_claim_no, status, paid)] = (payment_id, eob_id)
                if reverses is not None:
                    self.reversed.add(reverses)
        ids = sorted(self.encounters)
        if not ids:
            return
        among, params = db.ids_in(ids)
        for eob_id, eid, ref, paid in db.sql(
                "SELECT e.id, e.encounter_id, e.claim_ref, COALESCE(SUM(l.paid), 0) FROM eob e "
                f"LEFT JOIN eob_line l ON l.eob_id = e.id WHERE e.encounter_id {among} AND e.payer_id = {{p}} "
                "GROUP BY e.id, e.encounter_id, e.claim_ref ORDER BY e.id", params + [self.payer_id]):
            self.eobs[eid].append((eob_id, int(paid), ref or ""))
        reversed_ids = [e for rows in self.eobs.values() for e, _p, _r in rows]
        if reversed_ids:
            among, params = db.ids_in(reversed_ids)
            self.reversed |= {r[0] for r in db.sql(
                f"SELECT reverses_id FROM era_claim WHERE reverses_id {among}", params)}

    # -- matching ------------------------------------------------------------
    def encounter_for(self, claim: ClaimPayment) -> tuple[EncounterRow | None, str]:
        """``(encounter, "")``, or ``(None, why)`` when no encounter or several fit."""
        eid = self.by_claim_no.get(claim.claim_number)
        if eid is not None:
            return self.encounters[eid], ""
        if not claim.member_id:
            return None, f"no claim numbered {claim.claim_number} is on file, and the claim carries no member id"
        patients = self.by_member.get(claim.member_id.upper(), set())
        if not patients:
            return None, (f"no claim numbered {claim.claim_number} is on file, and no patient has member id "
                          f"{claim.member_id} with this payer")
        fits = [e for e in self.encounters.values() if e.patient_id in patients and e.active
                and e.charges and self.lines_for(claim, e)[1] == ""]
        if len(fits) == 1:
            return fits[0], ""
        if not fits:
            return None, (f"no claim numbered {claim.claim_number} is on file, and no visit of member "
                          f"{claim.member_id} has these dates, codes and charges")
        return None, (f"claim {claim.claim_number} fits {len(fits)} visits of member {claim.member_id} "
                      f"(encounters {', '.join(str(e.id) for e in fits)}): post it by hand")

    @staticmethod
    def lines_for(claim: ClaimPayment, encounter: EncounterRow) -> tuple[list[ChargeRow], str]:
        """The charge each service line answers, in order, or ``([], why)``."""
        by_control = {c.control_no: c for c in encounter.charges if c.control_no}
        used: set[int] = set()
        out = []
        for n, line in enumerate(claim.lines, 1):
            charge = by_control.get(line.control_number) if line.control_number else None
            if charge is None or charge.id in used:
                charge = next((c for c in encounter.charges if c.id not in used and _same(line, c)), None)
            if charge is None:
                what = f"line control number {line.control_number}" if line.control_number else "no line control number"
                return [], (f"service line {n} ({line.procedure.code}, {what}) matches no open line of "
                            f"encounter {encounter.id}")
            used.add(charge.id)
            out.append(charge)
        return out, ""

    def posted_before(self, claim: ClaimPayment) -> tuple | None:
        """``(payment id, EOB id)`` where this same claim was posted from an earlier payment."""
        return self.posted.get((claim.claim_number, claim.payer_claim_number, claim.status, claim.paid))

    def reversal_target(self, claim: ClaimPayment, encounter: EncounterRow) -> tuple[int | None, str]:
        """The EOB a reversal (CLP02 22) takes back: this payer's latest EOB on the encounter not
        yet reversed that paid what the reversal takes back (−CLP04), the one posted from the
        same payer claim number (CLP07) first; ``(None, why)`` when there is none."""
        wanted = -claim.paid
        open_eobs = [(eid, paid, ref) for eid, paid, ref in self.eobs.get(encounter.id, [])
                     if eid not in self.reversed and paid == wanted]
        same = [e for e in open_eobs if claim.payer_claim_number and e[2] == claim.payer_claim_number]
        chosen = (same or open_eobs)[-1:]
        if chosen:
            return chosen[0][0], ""
        return None, (f"reversal of claim {claim.claim_number}: no earlier payment of {wanted / 100:.2f} "
                      f"from this payer on encounter {encounter.id} is left to take back")

    def taken(self, eob_id: int) -> None:
        """Note that ``eob_id`` is being taken back (a second reversal of it is refused)."""
        self.reversed.add(eob_id)


def _modifiers(text: str | None) -> tuple[str, ...]:
    return tuple(m for m in (text or "").split(",") if m)


def _same(line: ServicePayment, charge: ChargeRow) -> bool:
    """The fallback line match: code, modifiers, charge and (when sent) date."""
    procedure = line.submitted_procedure or line.procedure
    return (procedure.code == charge.code and tuple(procedure.modifiers) == charge.modifiers
            and line.charge == charge.fee and (line.service_from is None or line.service_from == charge.dos))
