"""Read 835 transaction sets (005010X221A1) into :mod:`~claimdesk.core.x12.remittance` records.

::

    ic = read_interchange(open("era.835", "rb").read())
    for remittance in read_remittances(ic):
        remittance.refusal               # the payment rule broken, or None
        for claim in remittance.claims:
            claim.refusal                # its own rule (or a line's) broken, or None

Structure it needs and refuses without (naming the ST): BPR, TRN, N1*PR, N1*PE. Optional
segments may be missing (PER, N3/N4 of the payee, DTM, AMT, REF...); segments it does not
use (TS3, MIA, QTY, NM1*82...) are passed over. A bad amount, date or code raises the
reader's :class:`~claimdesk.core.x12.errors.X12Error` naming the element, segment and line.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from claimdesk.core.x12 import limits
from claimdesk.core.x12.common import collector_paused, read_address
from claimdesk.core.x12.envelope import Interchange, TransactionSet
from claimdesk.core.x12.loops import split_loops
from claimdesk.core.x12.remittance import (
    ADJUSTMENT_GROUPS, CLAIM_STATUSES, PAYMENT_METHODS, Adjustment, ClaimPayment, Contact, Name,
    Payee, Payer, Place, Procedure, ProviderAdjustment, Remittance, ServicePayment,
)
from claimdesk.core.x12.segment import Segment
from claimdesk.core.x12.values import parse_amount, parse_date, parse_quantity

#: CAS: reason/amount/quantity triples start at CAS02, CAS05 ... CAS17 (CAS19 is the last element).
CAS_END = 20
#: PLB: reason:reference/amount pairs start at PLB03, PLB05 ... PLB13.
PLB_PAIRS = range(3, 15, 2)


#: Amounts, dates, quantities and procedures repeat (fee schedules, service days, codes): parsed
#: once per text. A text that fails is never cached; the segment's own accessor then raises the
#: named error.
_known_amount = lru_cache(maxsize=4096)(parse_amount)
_known_date = lru_cache(maxsize=1024)(parse_date)


@lru_cache(maxsize=1024)
def _known_quantity(text: str) -> Decimal:
    numerator, denominator = parse_quantity(text)
    return Decimal(numerator).scaleb(1 - len(str(denominator)))


@lru_cache(maxsize=4096)
def _known_procedure(text: str, separator: str) -> Procedure:
    """A composite procedure split by the declared separator (ValueError when it is not one)."""
    parts = text.split(separator)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(text)
    return Procedure(parts[0], parts[1], tuple(m for m in parts[2:6] if m), parts[6] if len(parts) > 6 else "")


def _amount(segment: Segment, index: int):
    """Element ``index`` as cents (required), as :meth:`Segment.amount` gives it."""
    try:
        return _known_amount(segment.elements[index])
    except (ValueError, IndexError):
        return segment.amount(index)


def _date(segment: Segment, index: int):
    """Element ``index`` as a date (required), as :meth:`Segment.date` gives it."""
    try:
        return _known_date(segment.elements[index])
    except (ValueError, IndexError):
        return segment.date(index)


def read_remittances(interchange: Interchange) -> list[Remittance]:
    """Every 835 transaction set of ``interchange`` as a :class:`Remittance`, in file order."""
    return [read_remittance(transaction) for transaction in interchange.transactions("835")]


def _place(segment: Segment) -> Place:
    return Place(segment.tag, segment.number, segment.line)


def _decimal(segment: Segment, index: int) -> Decimal | None:
    """A quantity element (units, CAS quantity) as an exact ``Decimal``, None when empty."""
    elements = segment.elements
    text = elements[index] if 0 < index < len(elements) else ""
    if not text:
        return None
    try:
        return _known_quantity(text)
    except ValueError:
        numerator, denominator = segment.quantity(index)  # (raises the error naming the element)
        return Decimal(numerator).scaleb(1 - len(str(denominator)))


def _adjustments(cas: Segment) -> list[Adjustment]:
    """The reason/amount/quantity triples of one CAS (up to six, one group code)."""
    elements = cas.elements
    count = len(elements)
    group = elements[1] if count > 1 else ""
    if group not in ADJUSTMENT_GROUPS:
        cas.code(1, ADJUSTMENT_GROUPS)  # (raises: required, or not a group code)
    if count < 3 or not elements[2]:
        cas.required(2)  # (raises)
    out = []
    for index in range(2, min(count, CAS_END), 3):
        reason = elements[index]
        if reason:
            out.append(Adjustment(group, reason, _amount(cas, index + 1), _decimal(cas, index + 2)))
        elif index + 1 < count and elements[index + 1]:
            raise cas.error("is required with the amount after it", index)
    return out


def _procedure(segment: Segment, index: int) -> Procedure | None:
    """A composite procedure (qualifier, code, up to four modifiers, description)."""
    elements = segment.elements
    value = elements[index] if 0 < index < len(elements) else ""
    if not value:
        return None
    separator = segment._rule.declared
    if separator in value:  # (the declared separator: the forgiving rule and its warnings play no part)
        try:
            return _known_procedure(value, separator)
        except ValueError:
            pass
    parts = segment.components(index)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise segment.error(f"{segment.get(index)!r} is not a qualifier and a procedure code", index)
    return Procedure(parts[0], parts[1], tuple(m for m in parts[2:6] if m), parts[6] if len(parts) > 6 else "")


def _reference(ref: Segment) -> tuple[str, str]:
    return ref.required(1), ref.get(2)


def _name(nm1: Segment) -> Name:
    elements = nm1.elements
    if len(elements) < 10:
        elements = (*elements, *[""] * (10 - len(elements)))
    return Name(elements[3], elements[4], elements[5], elements[7], elements[8], elements[9])


def _details(segments: list[Segment]):
    """What follows a CLP or an SVC: CAS adjustments, NM1 names and DTM dates by qualifier,
    REF and AMT pairs, remark codes (MOA on a claim, LQ on a line). Other segments are passed over."""
    adjustments: list[Adjustment] = []
    names: dict[str, Name] = {}
    dates: dict = {}
    references, amounts, remarks = [], [], []
    for segment in segments:
        tag = segment.tag
        elements = segment.elements
        first = elements[1] if len(elements) > 1 else ""
        if tag == "CAS":
            adjustments += _adjustments(segment)
        elif tag == "DTM":
            dates[first] = _date(segment, 2)
        elif tag == "REF":
            if not first:
                segment.required(1)  # (raises)
            references.append((first, elements[2] if len(elements) > 2 else ""))
        elif tag == "AMT":
            if not first:
                segment.required(1)  # (raises)
            amounts.append((first, _amount(segment, 2)))
        elif tag == "NM1":
            if first not in names:
                names[first] = _name(segment)
        elif tag == "LQ":
            remarks.append(segment.required(2))
        elif tag == "MOA":
            remarks += [code for code in elements[3:8] if code]
    return tuple(adjustments), names, dates, tuple(references), tuple(amounts), tuple(remarks)


def _service(segments: list[Segment]) -> ServicePayment:
    """One loop 2110 (SVC and what follows it)."""
    svc = segments[0]
    svc.required(1)
    adjustments, _, dates, references, amounts, remarks = _details(segments[1:])
    units = _decimal(svc, 5)
    return ServicePayment(
        procedure=_procedure(svc, 1), charge=_amount(svc, 2), paid=_amount(svc, 3), revenue_code=svc.get(4),
        units=Decimal(1) if units is None else units,
        submitted_procedure=_procedure(svc, 6), submitted_units=_decimal(svc, 7),
        service_from=dates.get("472") or dates.get("150"), service_to=dates.get("472") or dates.get("151"),
        adjustments=adjustments, references=references, amounts=amounts, remarks=remarks, place=_place(svc),
    )


def _services(segments: list[Segment]) -> tuple[list[Segment], list[list[Segment]]]:
    """A claim's head (CLP and what follows it) and its loops 2110, each from an SVC to the next."""
    head: list[Segment] = []
    services: list[list[Segment]] = []
    current = head
    for segment in segments:
        if segment.tag == "SVC":
            current = [segment]
            services.append(current)
        else:
            current.append(segment)
    return head, services


def _claim(segments: list[Segment]) -> ClaimPayment:
    """One loop 2100 (CLP, its claim-level segments and its service lines)."""
    head, services = _services(segments)
    clp = head[0]
    adjustments, names, dates, references, amounts, remarks = _details(head[1:])
    return ClaimPayment(
        claim_number=clp.required(1), status=clp.code(2, CLAIM_STATUSES), charge=_amount(clp, 3),
        paid=_amount(clp, 4), patient_responsibility=_amount(clp, 5) if clp.get(5) else None,
        filing_indicator=clp.get(6), payer_claim_number=clp.get(7), facility_type=clp.get(8), frequency=clp.get(9),
        patient=names.get("QC"), insured=names.get("IL"), crossover_carrier=names.get("TT"),
        adjustments=adjustments, remarks=remarks, references=references, amounts=amounts,
        statement_from=dates.get("232"), statement_to=dates.get("233"), received=dates.get("050"),
        lines=tuple(_service(s) for s in services), place=_place(clp),
    )


def _provider_adjustments(plb: Segment) -> list[ProviderAdjustment]:
    """The reason:reference/amount pairs of one PLB (up to six)."""
    provider, fiscal_date = plb.required(1), plb.date(2)
    place = _place(plb)
    plb.required(3)
    out = []
    for index in PLB_PAIRS:
        parts = plb.components(index)
        if not parts:
            if plb.get(index + 1):
                raise plb.error("is required with the amount after it", index)
            continue
        reference = parts[1] if len(parts) > 1 else ""
        out.append(ProviderAdjustment(provider, fiscal_date, parts[0], reference, plb.amount(index + 1), place))
    return out


def _get(segment: Segment | None, index: int) -> str:
    return segment.get(index) if segment is not None else ""


def _contact(per: Segment) -> Contact:
    values = per.elements[3:9]  # (qualifier, number) pairs; a qualifier without its number is dropped
    return Contact(per.required(1), per.get(2), tuple(zip(values[0::2], values[1::2], strict=False)))


def _parties(st: Segment, head: list[Segment]) -> tuple[Payer, Payee]:
    """Loops 1000A (N1*PR...) and 1000B (N1*PE...) of the header."""
    loops: dict[str, list[Segment]] = {}
    current: list[Segment] | None = None
    for segment in head:
        if segment.tag == "N1":
            current = loops.setdefault(segment.get(1), [])
        if current is not None:
            current.append(segment)
    for code, what in (("PR", "payer"), ("PE", "payee")):
        if code not in loops:
            raise st.error(f"has no N1*{code} ({what}) segment, which an 835 requires")
    pr, pe = loops["PR"], loops["PE"]
    payer = Payer(
        name=pr[0].required(2), id_qualifier=pr[0].get(3), id=pr[0].get(4), address=read_address(pr),
        references=tuple(_reference(s) for s in pr if s.tag == "REF"),
        contacts=tuple(_contact(s) for s in pr if s.tag == "PER"),
    )
    payee = Payee(
        name=pe[0].required(2), id_qualifier=pe[0].get(3), id=pe[0].get(4), address=read_address(pe),
        references=tuple(_reference(s) for s in pe if s.tag == "REF"),
    )
    return payer, payee


def _first(st: Segment, segments: list[Segment], tag: str, what: str) -> Segment:
    for segment in segments:
        if segment.tag == tag:
            return segment
    raise st.error(f"has no {tag} ({what}) segment, which an 835 requires")


def read_remittance(transaction: TransactionSet) -> Remittance:
    """One 835 transaction set as a :class:`Remittance` (balance rules checked, never forced)."""
    st = transaction.st
    limits.check(transaction.body)
    head, claims, footer = split_loops(transaction.body, "CLP", end={"PLB"})
    bpr = _first(st, head, "BPR", "financial information")
    trn = _first(st, head, "TRN", "trace number")
    amount = bpr.amount(2)
    if bpr.code(3, ("C", "D"), required=False) == "D":
        amount = -amount
    payer, payee = _parties(st, head)
    top = head[:next((i for i, s in enumerate(head) if s.tag == "N1"), len(head))]  # before loop 1000A
    receiver = next((s.get(2) for s in top if s.tag == "REF" and s.get(1) == "EV"), "")
    production = next((s.date(2) for s in top if s.tag == "DTM" and s.get(1) == "405"), None)
    plbs = [adjustment for plb in footer if plb.tag == "PLB" for adjustment in _provider_adjustments(plb)]
    with collector_paused():
        claim_payments = tuple(_claim(c) for c in claims)
    return Remittance(
        control_number=transaction.control_number, handling=bpr.get(1), amount=amount,
        method=bpr.code(4, PAYMENT_METHODS), date=bpr.date(16), trace_number=trn.required(2), payer=payer,
        payee=payee, payment_format=bpr.get(5), trace_payer_id=trn.get(3), receiver_id=receiver,
        production_date=production, claims=claim_payments, provider_adjustments=tuple(plbs), place=_place(bpr),
    )
