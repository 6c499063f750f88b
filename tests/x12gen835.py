"""A test generator of realistic 835 (005010X221A1) remittances, written with claimdesk's X12 writer.

:func:`make_remittances` adjudicates claims (by default those of ``tests.x12gen.make_claims``,
so CLP01 and REF*6R echo the 837P's CLM01 and line control numbers) into claimdesk's own
records (:class:`~claimdesk.core.x12.remittance.Remittance`), deterministic for a seed;
:func:`write_835` writes any list of them, one transaction set each; :func:`generate_835`
does both. Options: every CLP02 status, a reversal + correction pair, PLB WO/L6/FB,
claim-level and line-level CAS (CO-45, PR-1/2/3, OA-23, a negative OA-94), claims or lines
that do not balance, a payment that does not, no PER, BPR04 CHK/ACH/NON, any delimiters
and an undeclared component separator.

Every file written without ``missing_per`` or ``component_used`` passes pyx12 with zero
errors (balancing is not X12 syntax: unbalanced files are valid X12).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from decimal import Decimal

from claimdesk.core.money import Cents
from claimdesk.core.x12 import Delimiters, InterchangeWriter, format_amount, format_date
from claimdesk.core.x12.remittance import (
    Address, Adjustment, ClaimPayment, Contact, Name, Payee, Payer, Procedure, ProviderAdjustment, Remittance,
    ServicePayment,
)

from tests import x12gen

WHEN = dt.datetime(2024, 3, 25, 10, 0)
PAID_ON = dt.date(2024, 3, 26)
FISCAL_YEAR_END = dt.date(2024, 12, 31)
#: Every CLP02 status, in the order ``statuses=True`` cycles through them.
STATUSES = ("1", "2", "3", "4", "19", "20", "21", "22", "23", "25")
#: 837P claim filing indicator (SBR09) -> 835 CLP06.
FILING = {"BL": "12", "CI": "12", "MB": "MB", "MC": "MC", "HM": "HM"}
CROSSOVER = Name("AARP MEDIGAP", id_qualifier="PI", id="MEDIGAP01")
CLINIC = x12gen.Parties()
PAYEE = Payee(CLINIC.billing.name, "XX", CLINIC.billing.npi,
              Address("100 MAIN ST", "", "SPRINGFIELD", "IL", "627019876"), (("TJ", CLINIC.billing.tax_id),))
CONTACTS = (Contact("BL", "EDI SUPPORT", (("TE", "8005550199"), ("EM", "EDI@PAYER.EXAMPLE"))),
            Contact("IC", "", (("UR", "WWW.PAYER.EXAMPLE"),)))


def payer_of(payer: x12gen.Payer, *, contacts: bool = True) -> Payer:
    """The 835 payer record of an 837P payer (with its technical contact unless ``contacts`` is False)."""
    return Payer(payer.name, "", "", Address("PO BOX 1000", "", "CHICAGO", "IL", "606010000"),
                 (("2U", payer.payer_id),), CONTACTS if contacts else ())


def _cas(group: str, reason: str, amount: int) -> list[Adjustment]:
    return [Adjustment(group, reason, Cents(amount))] if amount else []


def _negated(claim: ClaimPayment) -> ClaimPayment:
    """The reversal (CLP02 22) of a paid claim: the same claim with every amount negated."""
    def adjustments(items):
        return tuple(dataclasses.replace(a, amount=-a.amount) for a in items)

    def amounts(pairs):
        return tuple((q, -v) for q, v in pairs)

    lines = tuple(dataclasses.replace(line, charge=-line.charge, paid=-line.paid, amounts=amounts(line.amounts),
                                      adjustments=adjustments(line.adjustments)) for line in claim.lines)
    return dataclasses.replace(
        claim, status="22", charge=-claim.charge, paid=-claim.paid,
        patient_responsibility=-claim.patient_responsibility, adjustments=adjustments(claim.adjustments),
        amounts=amounts(claim.amounts), lines=lines, crossover_carrier=None, remarks=(),
    )


class _Adjudicator:
    """Turns 837P claims into 835 claim records for one status each, balanced to the cent."""

    def __init__(self, rng: random.Random, payer: x12gen.Payer, negative: bool):
        self.rng = rng
        self.filing = FILING.get(payer.filing, "12")
        self.negative = negative  # the next line of a status 1 claim is allowed above its charge

    def claim(self, claim: x12gen.Claim, status: str, *, rate: int = 80, copay_at_claim: bool = False) -> ClaimPayment:
        """``claim`` adjudicated with ``status``; ``rate``: allowed percent of the charge;
        ``copay_at_claim``: the patient's copay as a claim-level PR-3."""
        claim_cas: list[Adjustment] = []
        lines: tuple[ServicePayment, ...] = ()
        charge = sum(line.charge for line in claim.lines)
        if status == "4":
            claim_cas = _cas("CO", "29", charge)  # denied: timely filing limit expired
        elif status == "23":
            claim_cas = _cas("OA", "109", charge)  # not covered by this payer: sent to the right one
        else:
            lines = tuple(self.line(line, status, rate, copay_at_claim) for line in claim.lines)
            if copay_at_claim:
                claim_cas = _cas("PR", "3", min(sum(line.paid for line in lines), 2000))
        line_cas = [a for line in lines for a in line.adjustments]
        patient = sum(a.amount for a in [*claim_cas, *line_cas] if a.group == "PR")
        paid = charge - sum(a.amount for a in [*claim_cas, *line_cas])
        allowed = sum(line.allowed or 0 for line in lines)
        subscriber = claim.subscriber
        insured = Name(subscriber.last, subscriber.first, id_qualifier="MI", id=subscriber.member_id)
        dependant = claim.patient is not None
        days = [line.date for line in claim.lines]
        return ClaimPayment(
            claim_number=claim.number, status=status, charge=Cents(charge), paid=Cents(paid),
            patient_responsibility=Cents(patient), filing_indicator=self.filing,
            payer_claim_number=f"{self.rng.randrange(10**13):013d}", facility_type=claim.place_of_service,
            frequency=claim.frequency, patient=Name(claim.patient.last, claim.patient.first) if dependant else insured,
            insured=insured if dependant else None,
            crossover_carrier=CROSSOVER if status in ("19", "20", "21", "23") else None,
            adjustments=tuple(claim_cas), remarks=("MA18",) if status in ("19", "20", "21") else (),
            references=(("1L", claim.group),), amounts=(("AU", Cents(allowed)),) if allowed else (),
            statement_from=min(days), statement_to=max(days), received=min(days) + dt.timedelta(days=6), lines=lines,
        )

    def line(self, line: x12gen.Line, status: str, rate: int, copay_at_claim: bool) -> ServicePayment:
        """One service line: CO-45 contractual, OA-23 for a secondary/tertiary, the patient's
        share (PR-1 deductible and PR-2 coinsurance, or PR-3 copay), OA-101 for a predetermination."""
        allowed = line.charge * rate // 100
        cas = _cas("CO", "45", line.charge - allowed)
        if self.negative and status == "1":
            self.negative = False
            allowed = line.charge + 250  # paid above the charge: a negative adjustment
            cas = _cas("OA", "94", -250)
        remaining = allowed
        if status in ("2", "3", "20", "21"):
            prior = allowed * 70 // 100
            cas += _cas("OA", "23", prior)
            remaining -= prior
        if status == "25":
            cas += _cas("OA", "101", remaining)
            remaining = 0
        elif not copay_at_claim:
            kind = self.rng.choice(("1+2", "2", "3"))
            if kind == "1+2":
                deductible = min(remaining, 1000)
                coinsurance = (remaining - deductible) * 20 // 100
                cas += _cas("PR", "1", deductible) + _cas("PR", "2", coinsurance)
                remaining -= deductible + coinsurance
            elif kind == "2":
                coinsurance = remaining * 20 // 100
                cas += _cas("PR", "2", coinsurance)
                remaining -= coinsurance
            else:
                copay = min(remaining, 2000)
                cas += _cas("PR", "3", copay)
                remaining -= copay
        return ServicePayment(
            procedure=Procedure("HC", line.code, line.modifiers), charge=Cents(line.charge), paid=Cents(remaining),
            units=Decimal(line.units), service_from=line.date, service_to=line.date, adjustments=tuple(cas),
            references=(("6R", line.control_number),), amounts=(("B6", Cents(allowed)),),
            remarks=("N130",) if status == "25" else (),
        )


def _claims(adjudicator: _Adjudicator, claims: list[x12gen.Claim], statuses: bool,
            reversal: bool) -> list[ClaimPayment]:
    """The claims adjudicated in order (a reversal + correction pair where asked)."""
    out = []
    for index, claim in enumerate(claims):
        status = STATUSES[index % len(STATUSES)] if statuses else ("2" if claim.prior else "1")
        if status == "22" or (reversal and index == 0):
            out.append(_negated(adjudicator.claim(claim, "1")))  # the earlier payment, taken back
            out.append(adjudicator.claim(claim, "1", rate=90))  # the correction
        else:
            out.append(adjudicator.claim(claim, status, copay_at_claim=index % 4 == 1))
    return out


def _unbalance(claim: ClaimPayment, line: bool) -> ClaimPayment:
    """``claim`` with one cent more paid on the claim (``line`` False) or on its first line and the claim."""
    if line and claim.lines:
        first = dataclasses.replace(claim.lines[0], paid=claim.lines[0].paid + 1)
        claim = dataclasses.replace(claim, lines=(first, *claim.lines[1:]))
    return dataclasses.replace(claim, paid=claim.paid + 1)


def make_remittances(
    count: int = 4,
    *,
    seed: int = 1,
    claims: list[x12gen.Claim] | None = None,
    payments: int = 1,
    statuses: bool = False,
    reversal: bool = False,
    plb: bool = False,
    negative: bool = False,
    unbalanced: tuple[int, ...] = (),
    unbalanced_lines: tuple[int, ...] = (),
    payment_error: int = 0,
    method: str = "ACH",
    missing_per: bool = False,
) -> list[Remittance]:
    """``payments`` remittances from one payer for ``claims`` (default ``x12gen.make_claims(count,
    seed=seed, dependants=True)``), the same for the same arguments.

    ``statuses``: claims cycle through every CLP02 status (22 as a reversal + correction pair);
    ``reversal``: the first claim is a reversal + correction pair; ``plb``: WO recovering
    the first claim, L6 interest and FB forwarding balance; ``negative``: one line is allowed more
    than its charge (a negative OA-94); ``unbalanced`` / ``unbalanced_lines``: the claims at these
    indexes (of the claims written) are paid one cent more on the claim / on their first line;
    ``payment_error``: cents added to BPR02; ``method``: BPR04 CHK, ACH or NON (NON: the
    payments are offset by a WO, BPR02 is 0); ``missing_per``: no PER in loop 1000A.
    """
    rng = random.Random(seed)
    claims = claims if claims is not None else x12gen.make_claims(count, seed=seed, dependants=True)
    payer = claims[0].payer if claims else x12gen.Payer("BLUE SHIELD OF ILLINOIS", "BSIL1", "BL")
    records = _claims(_Adjudicator(rng, payer, negative), claims, statuses, reversal)
    records = [_unbalance(c, i in unbalanced_lines) if i in unbalanced or i in unbalanced_lines else c
               for i, c in enumerate(records)]
    size = -(-len(records) // payments) if records else 1
    remittances = []
    for number in range(1, payments + 1):
        part = tuple(records[(number - 1) * size:number * size])
        adjustments = []
        if plb and number == 1:
            provider, year_end = PAYEE.npi, FISCAL_YEAR_END
            adjustments = [
                ProviderAdjustment(provider, year_end, "WO", part[0].claim_number if part else "OVERPAID", Cents(2500)),
                ProviderAdjustment(provider, year_end, "L6", part[-1].payer_claim_number if part else "", Cents(-347)),
                ProviderAdjustment(provider, year_end, "FB", f"FB{seed:04d}0301", Cents(1000)),
            ]
        net = sum(c.paid for c in part) - sum(a.amount for a in adjustments)
        if method == "NON" and net:
            adjustments.append(ProviderAdjustment(PAYEE.npi, FISCAL_YEAR_END, "WO", "OFFSET", Cents(net)))
            net = 0
        trace = f"{seed:03d}{number:03d}{rng.randrange(10**6):06d}"
        remittances.append(Remittance(
            control_number=f"{number:04d}", handling={"CHK": "C", "NON": "H"}.get(method, "I"),
            amount=Cents(net + payment_error), method=method, date=PAID_ON, trace_number=trace,
            payer=payer_of(payer, contacts=not missing_per), payee=PAYEE,
            payment_format="CCP" if method == "ACH" else "", trace_payer_id="1362222222",
            receiver_id=CLINIC.submitter_id, production_date=WHEN.date(), claims=part,
            provider_adjustments=tuple(adjustments),
        ))
    return remittances


class _Writer835:
    """Writes :class:`Remittance` records as 835 transaction sets into an :class:`InterchangeWriter`."""

    def __init__(self, out: InterchangeWriter, component: str | None):
        self.out = out
        self.seg = out.segment
        self.component = component  # an undeclared separator to use in composites, or None

    composite = x12gen._Writer837.composite  # the 837P writer's rule: a tuple, or text joined with ``component``

    def remittance(self, r: Remittance) -> None:
        """ST..SE for one payment."""
        seg = self.seg
        self.out.st("835", r.control_number)
        bank = r.method in ("ACH", "FWT")
        account = ("01", "071000013", "DA", "123456789", r.trace_payer_id, None, "01", "071000039", "DA", "987654321")
        seg("BPR", r.handling, format_amount(abs(r.amount)), "D" if r.amount < 0 else "C", r.method,
            r.payment_format or None, *(account if bank else [None] * 10), format_date(r.date))
        seg("TRN", "1", r.trace_number, r.trace_payer_id)
        if r.receiver_id:
            seg("REF", "EV", r.receiver_id)
        if r.production_date:
            seg("DTM", "405", format_date(r.production_date))
        p = r.payer
        seg("N1", "PR", p.name, p.id_qualifier or None, p.id or None)
        self.address(p.address)
        self.references(p.references)
        for contact in p.contacts:
            seg("PER", contact.function, contact.name or None, *[v for pair in contact.numbers for v in pair])
        e = r.payee
        seg("N1", "PE", e.name, e.id_qualifier, e.id)
        self.address(e.address)
        self.references(e.references)
        if r.claims:
            seg("LX", "1")
        for claim in r.claims:
            self.claim(claim)
        run: list[ProviderAdjustment] = []
        for adjustment in r.provider_adjustments:
            if run and ((run[0].provider_id, run[0].fiscal_date) != (adjustment.provider_id, adjustment.fiscal_date)
                        or len(run) == 6):
                self.plb(run)
                run = []
            run.append(adjustment)
        if run:
            self.plb(run)
        self.out.se()

    def plb(self, run: list[ProviderAdjustment]) -> None:
        """One PLB with up to six reason:reference/amount pairs of one provider and fiscal date."""
        pairs = [v for a in run for v in (self.composite(a.reason, a.reference), format_amount(a.amount))]
        self.seg("PLB", run[0].provider_id, format_date(run[0].fiscal_date), *pairs)

    def address(self, address: Address | None) -> None:
        """N3 and N4."""
        if address is not None:
            self.seg("N3", address.line1, address.line2 or None)
            self.seg("N4", address.city, address.state or None, address.zip or None)

    def references(self, pairs) -> None:
        """One REF per pair."""
        for qualifier, value in pairs:
            self.seg("REF", qualifier, value)

    def adjustments(self, adjustments) -> None:
        """CAS segments: consecutive adjustments of one group share a segment, six at most."""
        run: list[Adjustment] = []
        for adjustment in [*adjustments, None]:
            if run and (adjustment is None or adjustment.group != run[0].group or len(run) == 6):
                triples = [v for a in run for v in (a.reason, format_amount(a.amount), _quantity(a.quantity))]
                self.seg("CAS", run[0].group, *triples)
                run = []
            if adjustment is not None:
                run.append(adjustment)

    def name(self, code: str, kind: str, name: Name | None) -> None:
        """NM1 of a patient (QC), insured (IL) or crossover carrier (TT)."""
        if name is not None:
            self.seg("NM1", code, kind, name.last, name.first or None, name.middle or None, None, name.suffix or None,
                     name.id_qualifier or None, name.id or None)

    def claim(self, c: ClaimPayment) -> None:
        """Loop 2100 and its lines."""
        seg = self.seg
        responsibility = None if c.patient_responsibility is None else format_amount(c.patient_responsibility)
        seg("CLP", c.claim_number, c.status, format_amount(c.charge), format_amount(c.paid), responsibility,
            c.filing_indicator, c.payer_claim_number, c.facility_type or None, c.frequency or None)
        self.adjustments(c.adjustments)
        self.name("QC", "1", c.patient)
        self.name("IL", "1", c.insured)
        self.name("TT", "2", c.crossover_carrier)
        if c.remarks:
            seg("MOA", None, None, *c.remarks)
        self.references(c.references)
        for qualifier, day in (("232", c.statement_from), ("233", c.statement_to), ("050", c.received)):
            if day:
                seg("DTM", qualifier, format_date(day))
        for qualifier, amount in c.amounts:
            seg("AMT", qualifier, format_amount(amount))
        for line in c.lines:
            self.line(line)

    def procedure(self, procedure: Procedure | None):
        """SVC01/SVC06 composite (None when absent)."""
        if procedure is None:
            return None
        modifiers = list(procedure.modifiers)
        if procedure.description:  # SVC01-7: after four modifier places
            modifiers += [""] * (4 - len(modifiers))
        return self.composite(procedure.qualifier, procedure.code, *modifiers, procedure.description)

    def line(self, s: ServicePayment) -> None:
        """Loop 2110."""
        seg = self.seg
        seg("SVC", self.procedure(s.procedure), format_amount(s.charge), format_amount(s.paid), s.revenue_code or None,
            _quantity(s.units), self.procedure(s.submitted_procedure), _quantity(s.submitted_units))
        if s.service_from and s.service_from == s.service_to:
            seg("DTM", "472", format_date(s.service_from))
        else:
            for qualifier, day in (("150", s.service_from), ("151", s.service_to)):
                if day:
                    seg("DTM", qualifier, format_date(day))
        self.adjustments(s.adjustments)
        self.references(s.references)
        for qualifier, amount in s.amounts:
            seg("AMT", qualifier, format_amount(amount))
        for code in s.remarks:
            seg("LQ", "HE", code)


def _quantity(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def write_835(
    remittances: list[Remittance],
    *,
    control_number: int = 1,
    delimiters: Delimiters = Delimiters(),
    component_used: str | None = None,
    line_break: str = "\n",
    usage: str = "P",
    sender_id: str = "BSIL1",
) -> str:
    """An 835 interchange holding ``remittances``, one transaction set each, in one HP group.
    ``component_used`` writes composites (SVC01, SVC06, PLB03...) with that separator while
    ISA16 declares ``delimiters.component``."""
    out = InterchangeWriter(sender_id=sender_id, receiver_id=CLINIC.submitter_id, control_number=control_number,
                            when=WHEN, delimiters=delimiters, line_break=line_break, usage=usage)
    out.gs("HP", sender_id, CLINIC.submitter_id, control_number, "005010X221A1")
    writer = _Writer835(out, component_used)
    for remittance in remittances:
        writer.remittance(remittance)
    out.ge()
    out.iea()
    return out.text()


def generate_835(count: int = 4, *, seed: int = 1, write_options: dict | None = None, **options) -> str:
    """``write_835(make_remittances(count, seed=seed, **options), **write_options)``."""
    return write_835(make_remittances(count, seed=seed, **options), **(write_options or {}))


def remittances_by_payer(claims: list[x12gen.Claim], **options) -> list[Remittance]:
    """:func:`make_remittances` for each payer of ``claims`` (its claims, in order, seed 1, 2...),
    every transaction set numbered apart (ST02 0001, 0002...)."""
    groups: dict[str, list[x12gen.Claim]] = {}
    for claim in claims:
        groups.setdefault(claim.payer.payer_id, []).append(claim)
    out = [r for i, group in enumerate(groups.values(), 1) for r in make_remittances(claims=group, seed=i, **options)]
    return [dataclasses.replace(r, control_number=f"{n:04d}") for n, r in enumerate(out, 1)]
