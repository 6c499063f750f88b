"""What the fields of a professional claim (837P, 005010X222A1) must look like: one rule each.

Every place that takes these values (the hand-entry services, the config's ``[clinic]``
section, the demo, and the X12 837P importer and exporter) checks them here, so a rule is
written once. A ``check_*`` function takes the text a person or a file gave and returns it
clean (upper case; no dots, dashes or spaces where the claim has none) or raises
:class:`ValueError` whose message a clerk understands (the caller names the field).
Mappings between claimdesk's words and the X12 codes (relationship, plan type) live here too.
"""

from __future__ import annotations

import re

# --- the provider's identifiers -------------------------------------------------------------------


def npi_check_digit(first_nine: str) -> str:
    """The NPI check digit of nine digits: the Luhn algorithm over "80840" + the nine digits."""
    total = 0
    for i, d in enumerate(int(c) for c in reversed("80840" + first_nine)):
        if i % 2 == 0:  # every other digit from the right, starting with the rightmost
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return str((10 - total % 10) % 10)


def make_npi(base: int) -> str:
    """A 10-digit NPI with a valid check digit from a number (the demo's made-up NPIs)."""
    body = f"{base:09d}"[-9:]
    return body + npi_check_digit(body)


def check_npi(text: str) -> str:
    """A National Provider Identifier: 10 digits whose last is the check digit."""
    npi = text.strip()
    if not re.fullmatch(r"\d{10}", npi, re.ASCII):
        raise ValueError(f"an NPI is 10 digits, got {text!r}")
    if npi[9] != npi_check_digit(npi[:9]):
        raise ValueError(f"{npi} is not a valid NPI (its check digit does not match; check for a typo)")
    return npi


def check_tax_id(text: str) -> str:
    """A federal tax id (EIN ``12-3456789`` or SSN ``123-45-6789``), kept as its 9 digits."""
    digits = re.sub(r"[\s-]", "", text)
    if not re.fullmatch(r"\d{9}", digits, re.ASCII):
        raise ValueError(f"a tax id is 9 digits (EIN like 12-3456789), got {text!r}")
    return digits


def check_taxonomy(text: str) -> str:
    """A provider taxonomy code: 10 characters ending in X, like 207Q00000X (family medicine)."""
    code = text.strip().upper()
    if not re.fullmatch(r"\d{3}[0-9A-Z]{6}X", code, re.ASCII):
        raise ValueError(f"a taxonomy code is 10 characters ending in X, like 207Q00000X; got {text!r}")
    return code


# --- diagnoses and procedures ---------------------------------------------------------------------
#: Diagnoses an encounter (a claim) may carry, in order; lines point at them by position.
MAX_DIAGNOSES = 12
#: Modifiers and diagnosis pointers per service line.
MAX_MODIFIERS = 4
MAX_POINTERS = 4

_ICD10 = re.compile(r"([A-Z]\d[0-9A-Z])\.?([0-9A-Z]{0,4})", re.ASCII)


def check_diagnosis(text: str) -> str:
    """An ICD-10-CM code: a letter, a digit, a digit or letter, then optionally a dot and up to
    4 characters (``E11.9``). Kept without the dot (``E119``), as the claim sends it."""
    code = text.strip().upper()
    m = _ICD10.fullmatch(code)
    if not m or (code.endswith(".")):
        raise ValueError(f"{text!r} is not an ICD-10-CM code (like E11.9 or I10)")
    return m.group(1) + m.group(2)


def show_diagnosis(code: str) -> str:
    """A stored diagnosis as people write it: the dot after the third character (``E11.9``)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


#: Service code kinds: procedure codes a claim carries, and the office's own fee codes.
CODE_KINDS = ("cpt", "hcpcs", "office")
_PROCEDURE = {"cpt": re.compile(r"\d{4}[0-9A-Z]", re.ASCII), "hcpcs": re.compile(r"[A-V]\d{4}", re.ASCII)}
_OFFICE = re.compile(r"[A-Z0-9][A-Z0-9-]{0,11}")


def procedure_kind(code: str) -> str | None:
    """"cpt" or "hcpcs" by the code's shape, or None for a code that is neither."""
    return next((kind for kind, rx in _PROCEDURE.items() if rx.fullmatch(code)), None)


def check_service_code(text: str, kind: str | None = None) -> tuple[str, str]:
    """A service code and its kind: CPT (``99213``, ``0001F``), HCPCS (``J1030``), or with
    ``kind="office"`` an office fee code (``RCFEE``: letters, digits, dashes, never on a claim).
    Without ``kind`` the kind is read from the code's shape."""
    code = text.strip().upper()
    if kind is not None and kind not in CODE_KINDS:
        raise ValueError(f"kind must be one of {', '.join(CODE_KINDS)}")
    if kind == "office":
        if not _OFFICE.fullmatch(code):
            raise ValueError(f"an office code is 1 to 12 letters, digits or dashes, got {text!r}")
        return code, kind
    found = procedure_kind(code)
    if kind is None and found is None:
        raise ValueError(f"{text!r} is not a CPT code (5 characters, 4 digits first, like 99213) or a "
                         f"HCPCS code (a letter A-V and 4 digits, like J1030); an office fee code needs kind office")
    if kind is not None and found != kind:
        shape = ("4 digits and a digit or letter, like 99213" if kind == "cpt"
                 else "a letter A-V and 4 digits, like J1030")
        raise ValueError(f"{text!r} is not a {kind.upper()} code ({shape})")
    return code, found


def check_modifier(text: str) -> str:
    """A procedure modifier: 2 letters or digits (``25``, ``GP``)."""
    mod = text.strip().upper()
    if not re.fullmatch(r"[0-9A-Z]{2}", mod):
        raise ValueError(f"a modifier is 2 letters or digits, like 25 or GP; got {text!r}")
    return mod


def check_pointers(pointers: list[int], diagnoses: int) -> list[int]:
    """A line's diagnosis pointers: up to 4 positions (1-12) of diagnoses the encounter has, no repeats."""
    if len(pointers) > MAX_POINTERS:
        raise ValueError(f"a line points at {MAX_POINTERS} diagnoses at most")
    for p in pointers:
        if isinstance(p, bool) or not isinstance(p, int) or not 1 <= p <= MAX_DIAGNOSES:
            raise ValueError(f"a diagnosis pointer is a position from 1 to {MAX_DIAGNOSES}, got {p!r}")
        if p > diagnoses:
            raise ValueError(f"points at diagnosis {p}, but the encounter has "
                             + (f"only {diagnoses}" if diagnoses else "no diagnoses"))
    if len(set(pointers)) != len(pointers):
        raise ValueError("points at the same diagnosis twice")
    return list(pointers)


# --- stored lists: diagnoses "E119,I10", modifiers "25,59", pointers "1,2" -------------------------
def join_codes(values) -> str:
    """A list stored in one column, in order (``["E119", "I10"]`` -> ``"E119,I10"``)."""
    return ",".join(str(v) for v in values)


def split_codes(text: str | None) -> list[str]:
    """The list a column holds, in order (``""`` -> ``[]``)."""
    return [v for v in (text or "").split(",") if v]


def split_pointers(text: str | None) -> list[int]:
    """The diagnosis pointers a charge holds, as numbers."""
    return [int(v) for v in split_codes(text)]


# --- the claim ------------------------------------------------------------------------------------
#: CLM05-3: how this claim relates to one sent before.
CLAIM_FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
#: The patient control number (CLM01) and a line's control number (REF*6R): what payers echo back.
CLAIM_NO_LENGTH = 20
CONTROL_NO_LENGTH = 30
_CONTROL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


def _check_control(text: str, what: str, length: int) -> str:
    value = text.strip()
    if not value or len(value) > length or not _CONTROL.fullmatch(value):
        raise ValueError(f"a {what} is 1 to {length} letters, digits, or . _ / - (starting with a letter or "
                         f"digit), got {text!r}")
    return value


def check_claim_no(text: str) -> str:
    """The clinic's claim number (patient control number, CLM01): at most 20 characters."""
    return _check_control(text, "claim number", CLAIM_NO_LENGTH)


def check_control_no(text: str) -> str:
    """A service line's control number (REF*6R): at most 30 characters."""
    return _check_control(text, "line control number", CONTROL_NO_LENGTH)


#: The places of service a clinic uses most (CMS codes); any other 2-digit code is accepted too.
PLACES_OF_SERVICE = {
    "11": "Office", "02": "Telehealth, not in the patient's home", "10": "Telehealth in the patient's home",
    "12": "Home", "19": "Off-campus outpatient hospital", "20": "Urgent care facility",
    "21": "Inpatient hospital", "22": "On-campus outpatient hospital", "23": "Emergency room, hospital",
    "31": "Skilled nursing facility", "32": "Nursing facility", "81": "Independent laboratory",
}


def check_place_of_service(text: str) -> str:
    """A CMS place of service code: 2 digits (``11`` office, ``02`` telehealth, ``12`` home)."""
    pos = text.strip()
    if not re.fullmatch(r"\d{2}", pos, re.ASCII) or pos == "00":
        raise ValueError(f"a place of service is a 2-digit code like 11 (office), got {text!r}")
    return pos


#: Sex on the claim (DMG03): male, female, unknown.
SEXES = ("M", "F", "U")


def check_sex(text: str) -> str:
    """M, F or U (unknown)."""
    sex = text.strip().upper()
    if sex not in SEXES:
        raise ValueError(f"must be M, F or U (unknown), got {text!r}")
    return sex

#: Who the subscriber is to the patient: claimdesk's word -> X12 individual relationship code (SBR02/PAT01).
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
RELATIONSHIPS = tuple(RELATIONSHIP_CODES)


def relationship_code(word: str) -> str:
    """The X12 code of a relationship word (``spouse`` -> ``01``)."""
    return RELATIONSHIP_CODES[word]


def relationship_word(code: str) -> str:
    """The relationship word of an X12 code; any code without a word of its own is ``other``."""
    return next((w for w, c in RELATIONSHIP_CODES.items() if c == code.strip().upper()), "other")


#: SBR09 claim filing indicator: the kind of plan, as the claim says it.
PLAN_TYPES = {
    "11": "Other non-federal program", "12": "PPO", "13": "POS", "14": "EPO", "15": "Indemnity",
    "16": "HMO Medicare Risk", "17": "Dental maintenance organization", "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield", "CH": "CHAMPUS (TRICARE)", "CI": "Commercial insurance",
    "DS": "Disability", "FI": "Federal Employees Program", "HM": "HMO", "LM": "Liability medical",
    "MA": "Medicare Part A", "MB": "Medicare Part B", "MC": "Medicaid", "OF": "Other federal program",
    "TV": "Title V", "VA": "Veterans Affairs plan", "WC": "Workers' compensation", "ZZ": "Mutually defined",
}
#: The plan type a coverage gets when none is given, by its payer's kind.
PLAN_TYPE_BY_PAYER_KIND = {"medicare": "MB", "medicaid": "MC", "commercial": "CI", "medigap": "CI",
                           "workers_comp": "WC"}


def payer_order_warnings(payers: list[tuple[str, str]]) -> list[str]:
    """What a clerk should look at in an encounter's payers, given in rank order as (name, kind):
    a Medigap plan (a Medicare supplement) pays after Medicare only, so one billed first, or
    behind a primary that is not Medicare, is most likely a mistake. Warnings, not refusals: the
    clerk may know better."""
    out = []
    for rank, (name, kind) in enumerate(payers):
        if kind != "medigap":
            continue
        if rank == 0:
            out.append(f"{name} is a Medigap plan billed as primary: a Medigap plan pays only after Medicare")
        elif payers[0][1] != "medicare":
            out.append(f"{name} is a Medigap plan: it pays after Medicare, but the primary here is {payers[0][0]} "
                       f"({payers[0][1].replace('_', ' ')})")
    return out


def plan_type_for(payer_kind: str, given: str = "") -> str:
    """The plan type of a coverage: the one given, else the default for the payer's kind ("" for a
    pseudo payer)."""
    return given or PLAN_TYPE_BY_PAYER_KIND.get(payer_kind, "")


#: The payer kind a plan type says (a payer first met on a claim gets it); any other is commercial.
PAYER_KIND_BY_PLAN_TYPE = {"MA": "medicare", "MB": "medicare", "16": "medicare", "MC": "medicaid",
                           "WC": "workers_comp"}


def payer_kind_for(plan_type: str) -> str:
    """The kind of a payer known only from a claim's plan type (SBR09): Medicare (MA, MB, 16),
    Medicaid (MC), workers' comp (WC), else commercial."""
    return PAYER_KIND_BY_PLAN_TYPE.get(plan_type.strip().upper(), "commercial")


def check_plan_type(text: str) -> str:
    """An SBR09 claim filing indicator code (``CI``, ``MB``, ``MC``, ``WC``, ``BL``, ``HM``, ``16``...)."""
    code = text.strip().upper()
    if code not in PLAN_TYPES:
        raise ValueError(f"{text!r} is not a claim filing indicator; use one of {', '.join(PLAN_TYPES)}")
    return code


# --- addresses -------------------------------------------------------------------------------------
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI AA AE AP".split())


def check_state(text: str) -> str:
    """A US state (or territory, or military) as its 2-letter postal code."""
    state = text.strip().upper()
    if state not in US_STATES:
        raise ValueError(f"a state is its 2-letter postal code like OR, got {text!r}")
    return state


def check_zip(text: str) -> str:
    """A ZIP code: 5 digits, or ZIP+4 (``97401-1234``), kept as its digits."""
    digits = text.strip().replace("-", "")
    if not re.fullmatch(r"\d{5}(\d{4})?", digits, re.ASCII):
        raise ValueError(f"a ZIP code is 5 digits or ZIP+4 like 97401-1234, got {text!r}")
    return digits


def split_address(line: str) -> tuple[str, str, str, str] | None:
    """A one-line address ``"PO Box 1000, Capital City, OR 97301"`` as (street, city, state, zip);
    None when it is not in that shape."""
    m = re.fullmatch(r"\s*(.+?),\s*([^,]+?),\s*([A-Za-z]{2})\s+(\d{5}(?:-?\d{4})?)\s*", line or "", re.ASCII)
    if not m or m.group(3).upper() not in US_STATES:
        return None
    return m.group(1), m.group(2), m.group(3).upper(), m.group(4).replace("-", "")
