"""A test generator of realistic 837P (005010X222A1) files, written with claimdesk's X12 writer.

``generate_837p(count, ...)`` is the one-call form; :func:`make_claims` builds the
claims (deterministic for a seed) and :func:`write_837p` writes any list of claims.
Options: dependants (subscriber != patient, loop 2000C), a secondary payer with the
primary's result (2320/2330A/2330B and 2430, balanced to the cent), a next payer (a claim to
the primary naming the secondary to bill after it: 2320 SBR*S, no result), modifiers (up to
4), 12 diagnoses, replacement claims (frequency 7 + REF*F8), rendering and referring
providers (2310A/2310B, a 2420A override, SV105), deliberately bad claims (CLM02 != sum
of SV102), several transaction sets, any delimiters, and a component separator that
differs from the declared one (as real senders do). ``Parties`` may give a person as the
billing provider and a pay-to address (2010AB).

Every file written without ``bad`` claims or an undeclared component separator passes
pyx12's validator with zero errors (tests/test_x12_validation.py).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from claimdesk.core.x12 import Delimiters, InterchangeWriter, format_amount, format_date

WHEN = dt.datetime(2024, 3, 4, 9, 30)
FIRST_NAMES = ["MARY", "JAMES", "ANA", "ROBERT", "LINDA", "DAVID", "SUSAN", "JOSE", "KAREN", "WEI", "FATIMA", "OMAR"]
LAST_NAMES = ["SMITH", "JOHNSON", "GARCIA", "NGUYEN", "BROWN", "MILLER", "DAVIS", "LOPEZ", "WILSON", "KIM", "PATEL"]
STREETS = ["12 ELM ST", "400 OAK AVE", "77 MAPLE DR", "1010 PINE RD", "5 BIRCH LN", "230 CEDAR CT"]
CITIES = [("SPRINGFIELD", "IL", "627011234"), ("MADISON", "WI", "537031111"), ("AUSTIN", "TX", "787012222"),
          ("ALBANY", "NY", "122073333"), ("DENVER", "CO", "802024444"), ("SALEM", "OR", "973015555")]
#: Billable ICD-10-CM codes, written without the dot as X12 wants.
DIAGNOSES = ["I10", "E119", "E785", "J069", "R051", "Z0000", "M25561", "K219", "F419", "N390", "R519", "E039",
             "J301", "L700", "M5416", "G4700", "R109", "J029", "Z23", "E6601"]
PROCEDURES = [("99213", 12500), ("99214", 18550), ("99203", 16000), ("36415", 1500), ("80053", 4275),
              ("85025", 2850), ("93000", 6000), ("90471", 3000), ("90686", 4512), ("20610", 21000), ("97110", 7599)]
MODIFIERS = ["25", "59", "LT", "RT", "91", "76", "XU", "GT"]


def npi(seed: int) -> str:
    """A 10-digit NPI with a valid check digit (Luhn over ``80840`` + the first 9 digits)."""
    base = f"1{seed % 10**8:08d}"
    digits = [int(c) for c in "80840" + base]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # doubled: the check digit will stand to the right
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return base + str((10 - total % 10) % 10)


@dataclass
class Address:
    """A street address (ZIP of 9 digits, as 5010 wants for providers)."""

    line: str
    city: str
    state: str
    zip: str


@dataclass
class Person:
    """A subscriber or patient."""

    last: str
    first: str
    birth: dt.date
    sex: str
    address: Address
    member_id: str = ""


@dataclass
class Payer:
    """An insurance payer: name, payer id, claim filing indicator (CI commercial, MB Medicare B...)."""

    name: str
    payer_id: str
    filing: str = "CI"


@dataclass
class Provider:
    """The billing provider (the clinic; a person when ``first`` is given, and ``name`` is the last name)."""

    name: str
    npi: str
    tax_id: str
    taxonomy: str
    address: Address
    first: str = ""


@dataclass
class Clinician:
    """A rendering or referring provider (a person)."""

    last: str
    first: str
    npi: str
    taxonomy: str = "207Q00000X"


#: Rendering and referring providers ``providers=True`` picks from (valid NPIs).
CLINICIANS = [Clinician("JONES", "SARAH", npi(20000001)), Clinician("OKAFOR", "CHIDI", npi(20000002), "207R00000X"),
              Clinician("TANAKA", "YUKI", npi(20000003), "208D00000X"), Clinician("BERG", "ANNA", npi(20000004))]


@dataclass
class Line:
    """A service line: procedure, up to 4 modifiers, charge in cents, units, pointers (1-based)."""

    code: str
    charge: int
    date: dt.date
    control_number: str
    modifiers: tuple[str, ...] = ()
    units: int = 1
    pointers: tuple[int, ...] = (1,)
    place_of_service: str = ""  # SV105, only when it differs from the claim's
    rendering: Clinician | None = None  # 2420A, only when it differs from the claim's

    def adjudication(self) -> tuple[int, int, int]:
        """What a primary did with this line: (paid, CO-45 contractual, PR-2 coinsurance), summing to the charge."""
        paid = self.charge * 70 // 100
        contractual = self.charge * 20 // 100
        return paid, contractual, self.charge - paid - contractual


@dataclass
class PriorPayer:
    """The primary payer of a secondary claim (loops 2320/2330A/2330B and 2430)."""

    payer: Payer
    member_id: str
    group: str
    paid_on: dt.date


@dataclass
class Claim:
    """One claim (loop 2300) with its subscriber, patient and lines."""

    number: str
    subscriber: Person
    payer: Payer
    group: str
    diagnoses: list[str]
    lines: list[Line]
    patient: Person | None = None  # None: the subscriber is the patient
    relationship: str = "19"  # PAT01 when the patient is not the subscriber (01 spouse, 19 child)
    place_of_service: str = "11"
    frequency: str = "1"
    payer_claim_number: str = ""  # REF*F8 for frequency 7 (replacement) and 8 (void)
    prior: PriorPayer | None = None  # set: this claim goes to the secondary payer
    next_payer: PriorPayer | None = None  # set: the secondary to bill after this primary claim (no result yet)
    total_error: int = 0  # added to CLM02: a deliberately bad claim when not 0
    referring: Clinician | None = None  # 2310A
    rendering: Clinician | None = None  # 2310B

    @property
    def total(self) -> int:
        """CLM02 in cents (the sum of the lines, plus ``total_error``)."""
        return sum(line.charge for line in self.lines) + self.total_error


@dataclass
class Parties:
    """Who sends and receives, and who bills."""

    submitter_name: str = "VALLEY FAMILY CLINIC"
    submitter_id: str = "CLINIC01"
    contact: str = "BILLING OFFICE"
    phone: str = "5555550100"
    receiver_name: str = "ACME CLEARINGHOUSE"
    receiver_id: str = "ACMECH"
    billing: Provider = field(default_factory=lambda: Provider(
        "VALLEY FAMILY CLINIC", npi(12345678), "123456789", "207Q00000X",
        Address("100 MAIN ST", "SPRINGFIELD", "IL", "627019876"),
    ))
    pay_to: Address | None = None  # 2010AB, when payments go elsewhere than the billing address


def make_claims(
    count: int,
    *,
    seed: int = 1,
    dependants: bool = False,
    secondary: bool = False,
    modifiers: bool = False,
    twelve_diagnoses: bool = False,
    replacement: bool = False,
    bad: tuple[int, ...] = (),
    providers: bool = False,
    next_payer: bool = False,
) -> list[Claim]:
    """``count`` realistic claims, the same for the same arguments.

    ``dependants``: every second claim is for a patient who is not the subscriber;
    ``secondary``: every third claim goes to a secondary payer with the primary's result;
    ``modifiers``: lines carry 0 to 4 modifiers (the first line of the first claim 4);
    ``twelve_diagnoses``: every fourth claim (and the first) has 12 diagnoses;
    ``replacement``: every fifth claim is a replacement (frequency 7 with REF*F8);
    ``bad``: the claims at these indexes have CLM02 $10 more than their lines;
    ``providers``: every claim has a rendering provider, every second a referring one, and
    the last line of every third another rendering provider and place of service (02);
    ``next_payer``: every third claim from the second on (index 1, 4, 7...) goes to its primary
    and names a secondary payer to bill next (loop 2320 with SBR01 S, nothing adjudicated).
    """
    rng = random.Random(seed)
    payers = [Payer("BLUE SHIELD OF ILLINOIS", "BSIL1", "BL"), Payer("MEDICARE PART B", "MCRB1", "MB"),
              Payer("AETNA", "60054", "CI"), Payer("UNITED HEALTHCARE", "87726", "CI")]

    def person(member: bool) -> Person:
        """A random person (with a member id when ``member``)."""
        city, state, zip_code = rng.choice(CITIES)
        return Person(
            rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES),
            dt.date(rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)), rng.choice("FM"),
            Address(rng.choice(STREETS), city, state, zip_code),
            f"W{rng.randrange(10**9):09d}" if member else "",
        )

    claims = []
    for index in range(count):
        number = f"CD{seed:02d}{index + 1:07d}"
        day = dt.date(2024, 2, 1) + dt.timedelta(days=index % 28)
        diagnoses = rng.sample(DIAGNOSES, 12 if twelve_diagnoses and index % 4 == 0 else rng.randint(1, 4))
        lines = []
        for position in range(rng.randint(1, 4) if index else 3):
            code, fee = rng.choice(PROCEDURES)
            mods: tuple[str, ...] = ()
            if modifiers:
                mods = tuple(rng.sample(MODIFIERS, 4 if index == 0 and position == 0 else rng.randint(0, 2)))
            pointers = tuple(range(1, min(len(diagnoses), 4) + 1))[: rng.randint(1, 4)]
            lines.append(Line(code, fee, day, f"{number}L{position + 1}", mods, rng.choice((1, 1, 1, 2)), pointers))
        claim = Claim(number, person(member=True), rng.choice(payers), f"GRP{rng.randrange(10**5):05d}", diagnoses, lines)
        if dependants and index % 2 == 1:
            claim.patient, claim.relationship = person(member=False), rng.choice(("01", "19"))
        if secondary and index % 3 == 2:
            primary = rng.choice([p for p in payers if p is not claim.payer])
            claim.prior = PriorPayer(primary, f"P{rng.randrange(10**8):08d}", f"G{rng.randrange(10**4):04d}",
                                     day + dt.timedelta(days=21))
        if next_payer and index % 3 == 1:
            other = rng.choice([p for p in payers if p is not claim.payer])
            claim.next_payer = PriorPayer(other, f"N{rng.randrange(10**8):08d}", f"H{rng.randrange(10**4):04d}", day)
        if replacement and index % 5 == 4:
            claim.frequency, claim.payer_claim_number = "7", f"PCN{rng.randrange(10**10):010d}"
        if index in bad:
            claim.total_error = 1000
        if providers:
            claim.rendering = CLINICIANS[index % 2]
            claim.referring = CLINICIANS[2] if index % 2 == 0 else None
            if index % 3 == 1:
                lines[-1].rendering, lines[-1].place_of_service = CLINICIANS[3], "02"
        claims.append(claim)
    return claims


class _Writer837:
    """Writes the loops of an 837P into an :class:`InterchangeWriter`."""

    def __init__(self, out: InterchangeWriter, parties: Parties, component: str | None):
        self.out = out
        self.parties = parties
        self.component = component  # an undeclared separator to use in composites, or None

    def composite(self, *parts: str):
        """A composite: a tuple for the writer, or text joined with the undeclared separator."""
        if self.component is None:
            return parts
        parts = list(parts)
        while parts and not parts[-1]:
            parts.pop()
        return self.component.join(parts)

    def address(self, address: Address) -> None:
        """N3 and N4."""
        self.out.segment("N3", address.line)
        self.out.segment("N4", address.city, address.state, address.zip)

    def header(self, reference: str) -> None:
        """BHT, submitter (1000A), receiver (1000B) and billing provider (2000A/2010AA)."""
        p, seg = self.parties, self.out.segment
        seg("BHT", "0019", "00", reference, format_date(WHEN.date()), WHEN.strftime("%H%M"), "CH")
        seg("NM1", "41", "2", p.submitter_name, None, None, None, None, "46", p.submitter_id)
        seg("PER", "IC", p.contact, "TE", p.phone)
        seg("NM1", "40", "2", p.receiver_name, None, None, None, None, "46", p.receiver_id)
        billing = p.billing
        seg("HL", "1", None, "20", "1")
        seg("PRV", "BI", "PXC", billing.taxonomy)
        seg("NM1", "85", "1" if billing.first else "2", billing.name, billing.first or None, None, None, None,
            "XX", billing.npi)
        self.address(billing.address)
        seg("REF", "EI", billing.tax_id)
        if p.pay_to:
            seg("NM1", "87", "2")
            self.address(p.pay_to)

    def clinician(self, qualifier: str, person: Clinician, taxonomy: bool) -> None:
        """A provider person: NM1 (DN referring, 82 rendering) and, when ``taxonomy``, PRV*PE."""
        self.out.segment("NM1", qualifier, "1", person.last, person.first, None, None, None, "XX", person.npi)
        if taxonomy:
            self.out.segment("PRV", "PE", "PXC", person.taxonomy)

    def claim(self, claim: Claim, next_hl: int) -> int:
        """Subscriber (2000B/2010BA/2010BB), patient (2000C/2010CA) when not the subscriber,
        then the claim; returns the next free HL id."""
        seg = self.out.segment
        dependant = claim.patient is not None
        seg("HL", str(next_hl), "1", "22", "1" if dependant else "0")
        seg("SBR", "S" if claim.prior else "P", None if dependant else "18", claim.group,
            None, None, None, None, None, claim.payer.filing)
        sub = claim.subscriber
        seg("NM1", "IL", "1", sub.last, sub.first, None, None, None, "MI", sub.member_id)
        if not dependant:  # 2010BA address and DMG: only when the subscriber is the patient
            self.address(sub.address)
            seg("DMG", "D8", format_date(sub.birth), sub.sex)
        seg("NM1", "PR", "2", claim.payer.name, None, None, None, None, "PI", claim.payer.payer_id)
        used = 1
        if dependant:
            pat = claim.patient
            seg("HL", str(next_hl + 1), str(next_hl), "23", "0")
            seg("PAT", claim.relationship)
            seg("NM1", "QC", "1", pat.last, pat.first)
            self.address(pat.address)
            seg("DMG", "D8", format_date(pat.birth), pat.sex)
            used = 2
        self.claim_information(claim)
        return next_hl + used

    def claim_information(self, claim: Claim) -> None:
        """Loop 2300: CLM, REF*F8, HI, the prior payer (2320) and the lines (2400)."""
        seg = self.out.segment
        seg("CLM", claim.number, format_amount(claim.total), None, None,
            self.composite(claim.place_of_service, "B", claim.frequency), "Y", "A", "Y", "Y")
        if claim.payer_claim_number:
            seg("REF", "F8", claim.payer_claim_number)
        codes = [self.composite("ABK" if i == 0 else "ABF", code) for i, code in enumerate(claim.diagnoses)]
        seg("HI", *codes)
        if claim.referring:
            self.clinician("DN", claim.referring, taxonomy=False)
        if claim.rendering:
            self.clinician("82", claim.rendering, taxonomy=True)
        if claim.prior:
            self.other_payer(claim)
        if claim.next_payer:
            self.next_payer(claim)
        for number, line in enumerate(claim.lines, start=1):
            self.service_line(claim, number, line)

    def other_payer(self, claim: Claim) -> None:
        """Loops 2320/2330A/2330B: what the primary paid and left to the patient."""
        seg, prior = self.out.segment, claim.prior
        paid = sum(line.adjudication()[0] for line in claim.lines)
        patient_owes = sum(line.adjudication()[2] for line in claim.lines)
        relationship = "18" if claim.patient is None else claim.relationship
        seg("SBR", "P", relationship, prior.group, None, None, None, None, None, prior.payer.filing)
        seg("AMT", "D", format_amount(paid))
        seg("AMT", "EAF", format_amount(patient_owes))
        seg("OI", None, None, "Y", None, None, "Y")
        sub = claim.subscriber
        seg("NM1", "IL", "1", sub.last, sub.first, None, None, None, "MI", prior.member_id)
        seg("NM1", "PR", "2", prior.payer.name, None, None, None, None, "PI", prior.payer.payer_id)

    def next_payer(self, claim: Claim) -> None:
        """Loops 2320/2330A/2330B of the secondary payer a primary claim names (not billed yet)."""
        seg, other = self.out.segment, claim.next_payer
        relationship = "18" if claim.patient is None else claim.relationship
        seg("SBR", "S", relationship, other.group, None, None, None, None, None, other.payer.filing)
        seg("OI", None, None, "Y", None, None, "Y")
        sub = claim.subscriber
        seg("NM1", "IL", "1", sub.last, sub.first, None, None, None, "MI", other.member_id)
        seg("NM1", "PR", "2", other.payer.name, None, None, None, None, "PI", other.payer.payer_id)

    def service_line(self, claim: Claim, number: int, line: Line) -> None:
        """Loop 2400 (LX, SV1, DTP*472, REF*6R) and, for a secondary claim, 2430 (SVD, CAS, DTP*573)."""
        seg = self.out.segment
        seg("LX", str(number))
        procedure = self.composite("HC", line.code, *line.modifiers)
        seg("SV1", procedure, format_amount(line.charge), "UN", str(line.units), line.place_of_service or None, None,
            self.composite(*(str(p) for p in line.pointers)))
        seg("DTP", "472", "D8", format_date(line.date))
        seg("REF", "6R", line.control_number)
        if line.rendering:
            self.clinician("82", line.rendering, taxonomy=True)
        if claim.prior:
            paid, contractual, coinsurance = line.adjudication()
            seg("SVD", claim.prior.payer.payer_id, format_amount(paid), procedure, None, str(line.units))
            if contractual:
                seg("CAS", "CO", "45", format_amount(contractual))
            if coinsurance:
                seg("CAS", "PR", "2", format_amount(coinsurance))
            seg("DTP", "573", "D8", format_date(claim.prior.paid_on))


def write_837p(
    claims: list[Claim],
    *,
    parties: Parties | None = None,
    control_number: int = 1,
    delimiters: Delimiters = Delimiters(),
    component_used: str | None = None,
    claims_per_transaction: int | None = None,
    line_break: str = "\n",
    usage: str = "P",
) -> str:
    """An 837P interchange holding ``claims``: one group, one transaction set per
    ``claims_per_transaction`` claims (all in one by default). ``component_used`` writes
    composites with that separator while ISA16 declares ``delimiters.component``."""
    parties = parties or Parties()
    out = InterchangeWriter(
        sender_id=parties.submitter_id, receiver_id=parties.receiver_id, control_number=control_number,
        when=WHEN, delimiters=delimiters, line_break=line_break, usage=usage,
    )
    out.gs("HC", parties.submitter_id, parties.receiver_id, control_number, "005010X222A1")
    writer = _Writer837(out, parties, component_used)
    size = claims_per_transaction or max(len(claims), 1)
    for number, start in enumerate(range(0, max(len(claims), 1), size), start=1):
        out.st("837", number, "005010X222A1")
        writer.header(f"B{control_number:06d}{number:03d}")
        next_hl = 2
        for claim in claims[start:start + size]:
            next_hl = writer.claim(claim, next_hl)
        out.se()
    out.ge()
    out.iea()
    return out.text()


def generate_837p(count: int = 3, *, seed: int = 1, write_options: dict | None = None, **claim_options) -> str:
    """``write_837p(make_claims(count, seed=seed, **claim_options), **write_options)``."""
    return write_837p(make_claims(count, seed=seed, **claim_options), **(write_options or {}))


def hand_interchange(
    body: list[str] | tuple[str, ...] = ("BHT*0019*00*B1*20240304*0930*CH",),
    *,
    element: str = "*",
    component: str = ":",
    repetition: str = "^",
    segment: str = "~",
    line_break: str = "\n",
    st_code: str = "837",
    functional_id: str = "HC",
) -> str:
    """A small valid interchange written by hand (not with the writer), for reader tests:
    one group, one transaction set holding ``body`` (segments written with ``*`` and ``:``,
    translated to the chosen delimiters)."""
    e = element
    isa = (f"ISA{e}00{e}{'':10}{e}00{e}{'':10}{e}ZZ{e}{'CLINIC01':15}{e}ZZ{e}{'ACMECH':15}{e}240304{e}0930"
           f"{e}{repetition}{e}00501{e}000000001{e}0{e}T{e}{component}")
    inner = [s.replace("*", "\0").replace(":", component).replace("\0", element) for s in body]
    segments = [isa, f"GS{e}{functional_id}{e}CLINIC01{e}ACMECH{e}20240304{e}0930{e}1{e}X{e}005010X222A1",
                f"ST{e}{st_code}{e}0001{e}005010X222A1", *inner, f"SE{e}{len(inner) + 2}{e}0001", f"GE{e}1{e}1",
                f"IEA{e}1{e}000000001"]
    end = segment + line_break
    return end.join(segments) + end
