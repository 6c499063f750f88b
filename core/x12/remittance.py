"""835 remittance records (005010X221A1) and the three balance rules, in integer cents.

One 835 transaction set (ST..SE) is one :class:`Remittance`: the payment (BPR, TRN), the
payer and payee, the claims (:class:`ClaimPayment`, loop 2100) with their service lines
(:class:`ServicePayment`, loop 2110), and the provider-level adjustments
(:class:`ProviderAdjustment`, PLB). :mod:`claimdesk.core.x12.remittance_reader` builds them
from a read interchange.

The balance rules are checked when a record is made, never forced to fit:

- a service line: SVC02 − SVC03 = the sum of its CAS (:func:`check_line`);
- a claim: every line balances, and CLP03 − CLP04 = claim-level CAS + all line CAS
  (:func:`check_claim`);
- a payment: BPR02 = Σ CLP04 − Σ PLB (:func:`check_payment`; a positive PLB amount
  reduces the payment, and every claim counts, refused or not).

A record that breaks its rule carries a :class:`Refusal` (the reason and the segment
that starts the record); a refused claim leaves the other claims of the payment alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from claimdesk.core.money import Cents, fmt
from claimdesk.core.x12.common import Address
from claimdesk.core.x12.errors import place as place_text

#: CLP02 claim status codes and what they mean to the clinic.
CLAIM_STATUSES = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}
#: CAS01 claim adjustment group codes (CR is 4010's "corrections and reversals").
ADJUSTMENT_GROUPS = frozenset({"CO", "CR", "OA", "PI", "PR"})
#: BPR04 payment methods: CHK check, ACH/FWT electronic, BOP the bank's option, NON no payment.
PAYMENT_METHODS = frozenset({"ACH", "BOP", "CHK", "FWT", "NON"})
REVERSAL = "22"
FORWARDED = frozenset({"19", "20", "21"})

Pairs = tuple[tuple[str, str], ...]
Amounts = tuple[tuple[str, Cents], ...]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a record starts in the file: the segment's tag, its number (ISA is 1) and line."""

    tag: str
    segment: int
    line: int

    def __str__(self) -> str:
        return place_text(self.tag, self.segment, self.line)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a record breaks a balance rule (``rule`` is ``line``, ``claim`` or ``payment``)
    and where: the segment that starts the record at fault."""

    rule: str
    message: str
    place: Place | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.message}: {self.place}" if self.place else self.message


def lookup(pairs, qualifier: str):
    """The value of the first ``(qualifier, value)`` pair with ``qualifier``, or None."""
    for key, value in pairs:
        if key == qualifier:
            return value
    return None


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS reason/amount/quantity triple: group (CO, PR, OA, PI, CR), CARC reason code,
    signed amount in cents (negative where the payer paid more), optional quantity."""

    group: str
    reason: str
    amount: Cents
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Procedure:
    """A composite procedure (SVC01, SVC06): qualifier (HC, AD, NU...), code, up to four
    modifiers, and a description."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Name:
    """A person or organisation from an NM1 (patient QC, insured IL, crossover carrier TT):
    last (or organisation) name, first, middle, suffix, and an id with its qualifier
    (``MI`` member id...)."""

    last: str
    first: str = ""
    middle: str = ""
    suffix: str = ""
    id_qualifier: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A PER: function (BL technical, CX business, IC web site), name, and
    ``(qualifier, number)`` pairs (TE phone, EM e-mail, UR web address...)."""

    function: str
    name: str = ""
    numbers: Pairs = ()


@dataclass(frozen=True, slots=True)
class Payer:
    """N1*PR (loop 1000A): name, N103/N104 id, address, REF pairs (2U payer id...), PER contacts
    (none when the payer left them out)."""

    name: str
    id_qualifier: str = ""
    id: str = ""
    address: Address | None = None
    references: Pairs = ()
    contacts: tuple[Contact, ...] = ()

    @property
    def payer_id(self) -> str:
        """The payer's id for matching: REF*2U when sent, else N104."""
        return lookup(self.references, "2U") or self.id


@dataclass(frozen=True, slots=True)
class Payee:
    """N1*PE (loop 1000B): the clinic: name, N103/N104 id (XX NPI, FI tax id), address, REF pairs."""

    name: str
    id_qualifier: str
    id: str
    address: Address | None = None
    references: Pairs = ()

    @property
    def npi(self) -> str:
        """N104 when N103 is XX, else ""."""
        return self.id if self.id_qualifier == "XX" else ""

    @property
    def tax_id(self) -> str:
        """N104 when N103 is FI, else REF*TJ, else ""."""
        return self.id if self.id_qualifier == "FI" else lookup(self.references, "TJ") or ""


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """A service line (loop 2110): SVC procedure, charge (SVC02), paid (SVC03), revenue code,
    paid units (SVC05, 1 when absent), the submitted procedure and units when the payer
    changed them (SVC06/SVC07), service dates (DTM*472, or 150/151), line CAS, REF pairs
    (REF*6R is :attr:`control_number`), AMT pairs (AMT*B6 is :attr:`allowed`), LQ remark
    codes. ``refusal`` is set when the line breaks :func:`check_line`."""

    procedure: Procedure
    charge: Cents
    paid: Cents
    units: Decimal = Decimal(1)
    revenue_code: str = ""
    submitted_procedure: Procedure | None = None
    submitted_units: Decimal | None = None
    service_from: dt.date | None = None
    service_to: dt.date | None = None
    adjustments: tuple[Adjustment, ...] = ()
    references: Pairs = ()
    amounts: Amounts = ()
    remarks: tuple[str, ...] = ()
    place: Place | None = field(default=None, compare=False)
    refusal: Refusal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refusal", check_line(self))

    @property
    def control_number(self) -> str:
        """REF*6R, the line item control number the 837P sent ("" when not echoed)."""
        return lookup(self.references, "6R") or ""

    @property
    def allowed(self) -> Cents | None:
        """AMT*B6, the allowed amount (None when not sent)."""
        return lookup(self.amounts, "B6")


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """A claim (loop 2100): CLP01 the clinic's claim number, CLP02 status (:data:`CLAIM_STATUSES`),
    charge (CLP03), paid (CLP04), patient responsibility (CLP05, None when absent), filing
    indicator (CLP06), the payer's claim control number (CLP07), facility type and frequency
    (CLP08/09); patient (NM1*QC), insured (NM1*IL), crossover carrier (NM1*TT); claim-level
    CAS; MOA remark codes; REF and AMT pairs (AMT*AU coverage...); statement period
    (DTM*232/233) and received date (DTM*050); the lines. ``refusal`` is set when the claim
    breaks :func:`check_claim`."""

    claim_number: str
    status: str
    charge: Cents
    paid: Cents
    patient_responsibility: Cents | None = None
    filing_indicator: str = ""
    payer_claim_number: str = ""
    facility_type: str = ""
    frequency: str = ""
    patient: Name | None = None
    insured: Name | None = None
    crossover_carrier: Name | None = None
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()
    references: Pairs = ()
    amounts: Amounts = ()
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    received: dt.date | None = None
    lines: tuple[ServicePayment, ...] = ()
    place: Place | None = field(default=None, compare=False)
    refusal: Refusal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refusal", check_claim(self))

    @property
    def refused(self) -> bool:
        """The claim breaks a balance rule (its own, or one of its lines')."""
        return self.refusal is not None

    @property
    def is_reversal(self) -> bool:
        """CLP02 is 22: a reversal of an earlier payment (negated amounts)."""
        return self.status == REVERSAL

    @property
    def forwarded(self) -> bool:
        """CLP02 is 19, 20 or 21: the payer forwarded (crossed over) the claim to the next payer."""
        return self.status in FORWARDED

    @property
    def member_id(self) -> str:
        """The insured's id (NM1*IL), else the patient's (NM1*QC), else ""."""
        for name in (self.insured, self.patient):
            if name is not None and name.id:
                return name.id
        return ""


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason/amount pair: provider id (PLB01), fiscal period date (PLB02), reason
    (WO overpayment recovery, L6 interest, FB forwarding balance, CS adjustment...), the
    reference (e.g. the claim recovered) and the signed amount: positive reduces the payment."""

    provider_id: str
    fiscal_date: dt.date
    reason: str
    reference: str
    amount: Cents
    place: Place | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 payment (ST..SE): ST02; BPR handling code (BPR01), amount (BPR02, negative when
    BPR03 is D, a debit), method (BPR04, :data:`PAYMENT_METHODS`), format (BPR05), date
    (BPR16); TRN02 trace number and TRN03 payer identifier; receiver (REF*EV), production
    date (DTM*405); payer, payee, claims, PLB adjustments. ``place`` is the BPR; ``refusal``
    is set when the payment breaks :func:`check_payment` (it must not be posted as is)."""

    control_number: str
    handling: str
    amount: Cents
    method: str
    date: dt.date
    trace_number: str
    payer: Payer
    payee: Payee
    payment_format: str = ""
    trace_payer_id: str = ""
    receiver_id: str = ""
    production_date: dt.date | None = None
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    place: Place | None = field(default=None, compare=False)
    refusal: Refusal | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refusal", check_payment(self))

    @property
    def refused_claims(self) -> list[ClaimPayment]:
        """The claims that break a balance rule."""
        return [claim for claim in self.claims if claim.refusal is not None]


def _balance(rule: str, subject: str, left_name: str, left: int, right_name: str, right: int,
             place: Place | None) -> Refusal | None:
    """None when ``left`` equals ``right`` to the cent, else the :class:`Refusal` saying both sides."""
    if left == right:
        return None
    return Refusal(rule, f"{subject} does not balance: {left_name} = {fmt(left)}, {right_name} = {fmt(right)} "
                         f"(off by {fmt(left - right)})", place)


def _value(amount):
    """A :class:`Cents` as its plain ``int`` value (Cents arithmetic is Python code, and a file
    sums hundreds of thousands); any other number as it is."""
    return int(amount) if type(amount) is Cents else amount


def _cents(amounts):
    """The sum of ``amounts`` (see :func:`_value`)."""
    total = 0
    for amount in amounts:
        total += int(amount) if type(amount) is Cents else amount
    return total


def check_line(line: ServicePayment) -> Refusal | None:
    """The service line rule: SVC02 − SVC03 = the sum of the line's CAS amounts."""
    left, right = _value(line.charge) - _value(line.paid), _cents(a.amount for a in line.adjustments)
    if left == right:
        return None
    return _balance("line", f"service line {line.procedure.code}", "SVC02 − SVC03", line.charge - line.paid,
                    "its CAS", sum(a.amount for a in line.adjustments), line.place)


def check_claim(claim: ClaimPayment) -> Refusal | None:
    """The claim rule: each line balances (the first that does not refuses the claim), and
    CLP03 − CLP04 = claim-level CAS + all line CAS (claim-level CAS alone without lines)."""
    for line in claim.lines:
        if line.refusal is not None:
            return Refusal("line", f"claim {claim.claim_number}: {line.refusal.message}", line.refusal.place)
    claim_level = _cents(a.amount for a in claim.adjustments)
    line_level = _cents(a.amount for line in claim.lines for a in line.adjustments)
    if _value(claim.charge) - _value(claim.paid) == claim_level + line_level:
        return None
    claim_level = sum(a.amount for a in claim.adjustments)  # (as Cents, for the message)
    line_level = sum(a.amount for line in claim.lines for a in line.adjustments)
    parts = f"claim CAS {fmt(claim_level)}" + (f" + line CAS {fmt(line_level)}" if claim.lines else "")
    return _balance("claim", f"claim {claim.claim_number}", "CLP03 − CLP04", claim.charge - claim.paid,
                    parts, claim_level + line_level, claim.place)


def check_payment(remittance: Remittance) -> Refusal | None:
    """The payment rule: BPR02 = Σ CLP04 − Σ PLB amounts, over every claim (refused or not)."""
    paid = sum(claim.paid for claim in remittance.claims)
    provider = sum(adjustment.amount for adjustment in remittance.provider_adjustments)
    return _balance("payment", f"payment {remittance.trace_number}", "BPR02", remittance.amount,
                    f"Σ CLP04 {fmt(paid)} − Σ PLB {fmt(provider)}", paid - provider, remittance.place)
