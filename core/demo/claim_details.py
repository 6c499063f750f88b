"""What the demo's claims carry besides money: diagnoses per kind of visit, the lines'
modifiers and diagnosis pointers, the referring provider, the patients' sex and the
subscriber persons of spouse and child coverages.

These draws use their own random stream (``ClinicSimulation.claim_rng``), so the money
(every draw of the main stream) is the same as before claims carried them.
"""

from __future__ import annotations

import datetime as dt
import random

from claimdesk.core.claim_rules import MAX_POINTERS, check_diagnosis
from claimdesk.core.demo.reference import EM_CODES

#: Reasons for an office visit, drawn 1 to 3 at a time (ICD-10-CM, as people write them).
VISIT_REASONS = ("I10", "E11.9", "E78.5", "J06.9", "M54.50", "F41.1", "K21.9", "E66.9", "J01.90",
                 "R51.9", "M25.561", "L30.9", "G47.00", "R53.83")
#: The diagnosis each kind of visit starts with.
VISIT_KIND_DIAGNOSES = {
    "awv": ("Z00.00",), "nurse": ("I10",), "pt": ("M54.50", "M62.81"),
    "wc_first": ("S46.011A", "Y99.0"), "wc_follow": ("S46.011D",), "wc_pt": ("S46.011D", "M62.81"),
    "should_be_wc": ("S46.011A",), "noshow": (),
}
#: Codes billed for a diagnosis of their own (added to the visit's list when the code is billed).
CODE_DIAGNOSES = {"83036": "E11.9", "81002": "R30.0", "20610": "M17.11", "J1030": "M17.11",
                  "90471": "Z23", "90686": "Z23"}
#: Visits for an injury: the joint injection is for the injury, not for arthritis.
INJURY_KINDS = frozenset({"wc_first", "should_be_wc"})
#: Codes that take a modifier: therapy codes GP; an E/M billed with a procedure the same day 25.
THERAPY_CODES = frozenset({"97110", "97140"})
PROCEDURES = frozenset({"20610"})


def visit_diagnoses(rng: random.Random, kind: str, codes: list[str]) -> list[str]:
    """The encounter's diagnoses in order (stored form, no dots): the visit's reasons first, then
    those the billed codes need, at most 12."""
    if kind in VISIT_KIND_DIAGNOSES:
        found = list(VISIT_KIND_DIAGNOSES[kind])
    else:
        found = rng.sample(VISIT_REASONS, rng.randint(1, 3))
    found += [own for c in codes if (own := _own_diagnosis(kind, c))]
    return list(dict.fromkeys(check_diagnosis(d) for d in found))[:12]


def _own_diagnosis(kind: str, code: str) -> str | None:
    """The diagnosis ``code`` is billed for in a visit of ``kind`` (None: the visit's reasons)."""
    return None if kind in INJURY_KINDS else CODE_DIAGNOSES.get(code)


def line_marks(kind: str, codes: list[str], diagnoses: list[str], office: set[str]) -> list[tuple[tuple, tuple]]:
    """Per billed code ``(modifiers, pointers)``: an office code gets neither; a code with a
    diagnosis of its own points at it; the others point at the visit's first diagnoses."""
    with_procedure = any(c in PROCEDURES for c in codes)
    first = tuple(range(1, min(len(diagnoses), MAX_POINTERS) + 1))
    out = []
    for code in codes:
        if code in office or not diagnoses:
            out.append(((), ()))
            continue
        mods = ("GP",) if code in THERAPY_CODES else ("25",) if code in EM_CODES and with_procedure else ()
        own = _own_diagnosis(kind, code)
        own = own and check_diagnosis(own)
        out.append((mods, (diagnoses.index(own) + 1,) if own in diagnoses else first))
    return out


def sex(rng: random.Random) -> str:
    """A patient's or subscriber's sex on the claim."""
    return rng.choice("FM")


def subscriber_person(rng: random.Random, subscriber: str, relationship: str, patient: dict,
                      patient_dob: dt.date) -> dict:
    """The subscriber columns of a coverage whose holder is not the patient: the name from the
    coverage's ``subscriber`` ("Last, First"), a birth date that fits the relationship, the
    patient's address (the same household)."""
    if relationship == "self":
        return {}
    last, _, first = subscriber.partition(",")
    years = rng.randint(24, 38) if relationship == "child" else rng.randint(-4, 4)
    dob = patient_dob - dt.timedelta(days=years * 365 + rng.randint(0, 364))
    return {"subscriber_last_name": last.strip(), "subscriber_first_name": first.strip(), "subscriber_dob": dob,
            "subscriber_sex": sex(rng), "subscriber_address": patient["address"],
            "subscriber_city": patient["city"], "subscriber_state": patient["state"],
            "subscriber_zip": patient["zip"]}
