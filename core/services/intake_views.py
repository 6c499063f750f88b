"""Read models for registering patients, entering charges and setting up the clinic (the app's
intake screens): the choices their pickers offer, a patient's registration with its coverages,
what a new encounter for a patient starts from, and the clinic's payers, providers and service
codes as their forms edit them. Plain data; nothing here writes.
"""

from __future__ import annotations

from collections import Counter
from itertools import permutations

from claimdesk.core import clock
from claimdesk.core.claim_rules import (
    CODE_KINDS, PLACES_OF_SERVICE, PLAN_TYPES, RELATIONSHIPS, plan_type_for, show_diagnosis, split_codes,
)
from claimdesk.core.models import (
    PROVIDER_KINDS, PSEUDO_KINDS, Coverage, Encounter, EncounterPayer, Patient, Payer, Provider, ServiceCode,
)
from claimdesk.core.money import Cents
from claimdesk.core.services import coverages, patients, reference_data
from claimdesk.core.services.common import get
from claimdesk.core.services.views import iso

SEX_WORDS = {"F": "female", "M": "male", "U": "unknown"}
#: Encounters the clinic's most used diagnoses are counted over (the latest ones).
RECENT_ENCOUNTERS = 500
COMMON_DIAGNOSES = 20


# --- registration ------------------------------------------------------------------------------------
def registration_choices() -> dict:
    """What the registration pickers offer: insurance payers (with the plan type each gives by
    default), plan types, relationships and sexes, each ``[value, label]``."""
    payers = [{"payer_id": p.id, "name": p.name, "kind": p.kind, "plan_type": plan_type_for(p.kind)}
              for p in Payer.insurers_by_name()]
    return {"payers": payers,
            "plan_types": [[code, f"{code} {label}"] for code, label in PLAN_TYPES.items()],
            "relationships": [[r, "self (the patient)" if r == "self" else r] for r in RELATIONSHIPS],
            "sexes": [[code, word] for code, word in SEX_WORDS.items()]}


def patient_record(patient_id) -> dict:
    """A patient's registration and every coverage they hold (the active ones first), as the
    patient and coverage workflows show them."""
    patient = get(Patient, patient_id, "patient", field="patient_id")
    held = Coverage.select().where(Coverage.patient == patient.id).order_by(Coverage.active.desc(), Coverage.id)
    return {"patient": patients.shown(patient), "coverages": [coverages.shown(c) for c in held]}


# --- charge entry --------------------------------------------------------------------------------------
def entry_choices() -> dict:
    """What the charge entry pickers offer: today, the providers who render and those who may
    refer (an NPI), the service codes with their fees, places of service, and the clinic's most
    used diagnoses of late (shown with dots)."""
    providers = list(Provider.by_name())
    return {"today": clock.today().isoformat(),
            "rendering": [{"provider_id": p.id, "name": p.name} for p in providers if p.kind != "referring"],
            "referring": [{"provider_id": p.id, "name": p.name} for p in providers if p.npi],
            "codes": [{"code": c.code, "description": c.description, "kind": c.kind, "fee": Cents(c.default_fee)}
                      for c in ServiceCode.select().order_by(ServiceCode.code)],
            "places": [[code, f"{code} {label}"] for code, label in PLACES_OF_SERVICE.items()],
            "diagnoses": _common_diagnoses()}


def _common_diagnoses() -> list[str]:
    """The diagnoses most used on the latest encounters, most used first."""
    recent = (Encounter.select(Encounter.diagnoses).where(Encounter.diagnoses != "")
              .order_by(Encounter.id.desc()).limit(RECENT_ENCOUNTERS).tuples())
    counts = Counter(d for (text,) in recent for d in split_codes(text))
    return [show_diagnosis(d) for d, _n in counts.most_common(COMMON_DIAGNOSES)]


def patient_billing(patient_id) -> dict:
    """What a new encounter for the patient starts from: who they are, their active coverages,
    the order they were billed in last (active coverages only; else their one active coverage),
    and the diagnoses of their earlier encounters, latest first."""
    patient = get(Patient, patient_id, "patient", field="patient_id")
    active = [{"coverage_id": c.id, "payer_id": c.payer_id, "payer": c.payer.name, "member_id": c.member_id,
               "plan_type": c.plan_type, "relationship": c.relationship}
              for c in Coverage.select().where((Coverage.patient == patient.id) & Coverage.active).order_by(Coverage.id)]
    earlier = list(Encounter.select(Encounter.id, Encounter.diagnoses).where(Encounter.patient == patient.id)
                   .order_by(Encounter.dos.desc(), Encounter.id.desc()))
    seen: list[str] = []
    for enc in earlier:
        seen += [d for d in split_codes(enc.diagnoses) if d not in seen]
    return {"patient_id": patient.id, "name": patient.name, "account_no": patient.account_no, "dob": iso(patient.dob),
            "coverages": active, "order": _last_order(earlier, {c["coverage_id"] for c in active}),
            "orders": billing_orders(active), "diagnoses": [show_diagnosis(d) for d in seen]}


def billing_orders(active: list[dict]) -> list[dict]:
    """Every way the patient's active coverages (``patient_billing``'s) may be billed, as a
    picker offers them: each order of each choice of them, all of them first, then self-pay;
    ``{"coverage_ids": [...], "label": "Aetna, then Medicare"}``."""
    names = {c["coverage_id"]: c["payer"] for c in active}
    ids = list(names)
    out = [{"coverage_ids": list(order), "label": ", then ".join(names[i] for i in order)}
           for size in range(len(ids), 0, -1) for order in permutations(ids, size)]
    return out + [{"coverage_ids": [], "label": "Self-pay: the patient is billed"}]


def _last_order(earlier: list[Encounter], active: set[int]) -> list[int]:
    """The coverages (among ``active``) the latest encounter billing any was billed to, in rank order;
    else the one active coverage."""
    ranks = {"primary": 0, "secondary": 1, "tertiary": 2}
    for enc in earlier:
        slots = [(ranks.get(ep.rank, 9), ep.coverage_id) for ep in
                 EncounterPayer.select(EncounterPayer.rank, EncounterPayer.coverage)
                 .where((EncounterPayer.encounter == enc.id) & EncounterPayer.coverage.is_null(False))]
        order = [cid for _r, cid in sorted(slots) if cid in active]
        if order:
            return order
    return sorted(active) if len(active) == 1 else []


# --- clinic setup ----------------------------------------------------------------------------------
def setup_counts() -> dict:
    """How many insurance payers, providers and service codes the clinic has (an empty
    database has none: Home points the clinic at its setup)."""
    return {"payers": Payer.select().where(Payer.kind.not_in(PSEUDO_KINDS)).count(),
            "providers": Provider.select().count(), "codes": ServiceCode.select().count()}


def setup_lists() -> dict:
    """The clinic's insurance payers, providers and service codes, each with every field its
    form edits (by name; codes by code), and the choices those forms offer ``[value, label]``."""
    return {"payers": [reference_data.PAYER.show(p) for p in Payer.insurers_by_name()],
            "providers": [reference_data.PROVIDER.show(p) for p in Provider.by_name()],
            "codes": [reference_data.CODE.show(c) for c in ServiceCode.select().order_by(ServiceCode.code)],
            "choices": {"payer_kinds": [[k, k.replace("_", " ")] for k in reference_data.INSURANCE_KINDS],
                        "provider_kinds": [[k, k] for k in PROVIDER_KINDS],
                        "entities": [[e, e] for e in reference_data.ENTITIES],
                        "code_kinds": [[k, k.upper() if k != "office" else "office fee"] for k in CODE_KINDS]}}
