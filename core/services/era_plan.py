"""What to do with each claim of an 835 payment, decided before anything is written (the
preview shows exactly this):

- ``post``: an EOB at the rank the payer holds, per line paid, allowed (AMT*B6) and the
  adjustments (line CAS and its share of the claim-level CAS); on a secondary or tertiary
  EOB a reason 23 (the prior payer's adjudication) explains money the earlier payer dealt
  with and is left out; 19/20/21 are marked crossed over (the payer forwarded the claim, so
  the clinic's own claim to the next payer is not queued);
- ``deny`` (CLP02 4): the lines denied with the claim's largest adjustment code, nothing
  adjusted; the encounter goes where the denial routes send it;
- ``reverse`` (CLP02 22): the earlier EOB it takes back;
- ``informational`` (23, 25): recorded, no money;
- ``exception``: the reason a clerk must look (out of balance, unmatched, ambiguous, posted
  before, a rank or charge that does not agree with the file...). Never guessed.
"""

from __future__ import annotations

import dataclasses

from claimdesk.core.money import fmt
from claimdesk.core.services.era_match import ChargeRow, EncounterRow, Matcher
from claimdesk.core.services.reason_codes import describe
from claimdesk.core.x12.remittance import CLAIM_STATUSES, FORWARDED, REVERSAL, Adjustment, ClaimPayment

#: CLP02 -> the rank the payer says it paid at.
RANK_OF_STATUS = {"1": "primary", "19": "primary", "2": "secondary", "20": "secondary",
                  "3": "tertiary", "21": "tertiary"}
DENIED = "4"
INFORMATIONAL = frozenset({"23", "25"})
#: CARC 23: the impact of prior payer(s) adjudication, on a later payer's remittance.
PRIOR_PAYER = "23"


@dataclasses.dataclass(slots=True)
class PlannedClaim:
    """One claim of a payment and what will be done with it (see the module)."""

    claim: ClaimPayment
    index: int
    action: str
    reason: str = ""
    encounter: EncounterRow | None = None
    rank: str = ""
    lines: list[dict] = dataclasses.field(default_factory=list)
    reverses: int | None = None
    crossed_over: bool = False
    denial_codes: tuple[str, ...] = ()

    @property
    def line_no(self) -> int:
        """The file line of the claim's CLP (0 when unknown)."""
        return self.claim.place.line if self.claim.place else 0

    def exception(self, reason: str) -> "PlannedClaim":
        """This claim turned into an exception with ``reason``."""
        self.action, self.reason, self.lines = "exception", reason, []
        return self


def spread(total: int, weights: list[int]) -> list[int]:
    """``total`` cents shared by ``weights`` (largest remainder; leftover cents go to the
    larger remainders, ties to the earlier line; all to the first when the weights are 0)."""
    if not weights:
        return []
    whole = sum(abs(w) for w in weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign, cents = (1 if total >= 0 else -1), abs(total)
    shares = [cents * abs(w) // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(cents * abs(weights[i]) % whole), i))
    for i in order[:cents - sum(shares)]:
        shares[i] += 1
    return [sign * s for s in shares]


def plan_claim(claim: ClaimPayment, index: int, payer_id: int, matcher: Matcher) -> PlannedClaim:
    """What to do with ``claim`` (the ``index``-th of its payment) from payer ``payer_id``."""
    plan = PlannedClaim(claim, index, "post")
    encounter, why = matcher.encounter_for(claim)
    plan.encounter = encounter
    if claim.refusal is not None:
        return plan.exception(str(claim.refusal))
    if claim.status in INFORMATIONAL:
        plan.action, plan.reason = "informational", _informational(claim)
        return plan
    before = matcher.posted_before(claim)
    if before is not None:
        return plan.exception(f"claim {claim.claim_number} was already posted from ERA payment {before[0]} "
                              f"(EOB {before[1]}): this copy stays undistributed on the voucher")
    if encounter is None:
        return plan.exception(why)
    if not encounter.active:
        return plan.exception(f"encounter {encounter.id} was removed")
    if claim.status == REVERSAL:
        target, why = matcher.reversal_target(claim, encounter)
        if target is None:
            return plan.exception(why)
        matcher.taken(target)
        plan.action, plan.reverses = "reverse", target
        return plan
    rank = encounter.rank_of(payer_id)
    if rank is None:
        return plan.exception(f"this payer is not on encounter {encounter.id}'s payer list")
    said = RANK_OF_STATUS.get(claim.status)
    if said is not None and said != rank:
        return plan.exception(f"the payer processed claim {claim.claim_number} as {said}, but it is the "
                              f"{rank} payer on encounter {encounter.id}")
    plan.rank = rank
    charges, why = _charges(claim, encounter, matcher)
    if why:
        return plan.exception(why)
    if any(a.group == "CR" for a in _all_adjustments(claim)):
        return plan.exception("group CR (corrections and reversals) is not used in 835 5010: post it by hand")
    if claim.status == DENIED:
        return _denial(plan, charges)
    plan.lines = _lines(claim, charges, rank)
    plan.crossed_over = claim.status in FORWARDED
    return plan


def _informational(claim: ClaimPayment) -> str:
    text = CLAIM_STATUSES[claim.status]
    if claim.crossover_carrier is not None:
        text += f" ({claim.crossover_carrier.last})"
    return text


def _all_adjustments(claim: ClaimPayment) -> list[Adjustment]:
    return [*claim.adjustments, *(a for line in claim.lines for a in line.adjustments)]


def _charges(claim: ClaimPayment, encounter: EncounterRow, matcher: Matcher) -> tuple[list[ChargeRow], str]:
    """The charges the claim's lines answer (all the encounter's when it sent no lines), each
    line's charge agreeing with ours."""
    if not claim.lines:
        fees = sum(c.fee for c in encounter.charges)
        if not encounter.charges or fees != claim.charge:
            return [], (f"claim {claim.claim_number} has no service lines and its charge {fmt(claim.charge)} is not "
                        f"encounter {encounter.id}'s {fmt(fees)}")
        return list(encounter.charges), ""
    charges, why = matcher.lines_for(claim, encounter)
    if why:
        return [], why
    for n, (line, charge) in enumerate(zip(claim.lines, charges), 1):
        if line.charge != charge.fee:
            return [], (f"service line {n} ({line.procedure.code}): the payer's charge {fmt(line.charge)} is not "
                        f"ours ({fmt(charge.fee)}, charge {charge.id})")
    return charges, ""


def _lines(claim: ClaimPayment, charges: list[ChargeRow], rank: str) -> list[dict]:
    """The EOB lines: paid, allowed and adjustments per charge. A claim-level CAS is money the
    payer kept from the lines' payments (CLP04 = Σ SVC03 − claim CAS): it is shared over the
    lines by what each paid (by charge when none paid) and comes off their payments, so each
    line still explains its charge; a claim without lines shares CLP04 and its CAS by charge.
    (The amounts are plain ``int`` cents: the money engine adds them up by the hundred
    thousand, and :class:`Cents` arithmetic is Python code.)"""
    if claim.lines:
        paid = [int(line.paid) for line in claim.lines]
        weights = paid if any(paid) else [int(line.charge) for line in claim.lines]
        allowed = [int(line.allowed or 0) for line in claim.lines]
    else:
        paid = [int(c.fee) for c in charges]
        weights = list(paid)
        allowed = [0] * len(charges)
    extra: list[list[tuple[str, str, int]]] = [[] for _ in charges]
    for adjustment in claim.adjustments:
        for i, cents in enumerate(spread(int(adjustment.amount), weights)):
            if cents:
                extra[i].append((adjustment.group, adjustment.reason, cents))
                paid[i] -= cents
    later = rank != "primary"
    out = []
    for i, charge in enumerate(charges):
        own = [(a.group, a.reason, int(a.amount)) for a in claim.lines[i].adjustments] if claim.lines else []
        out.append({"charge_id": charge.id, "allowed": allowed[i], "paid": paid[i], "denied": False,
                    "denial_code": "", "adjustments": [{"group_code": group, "reason_code": reason, "amount": amount}
                                                       for group, reason, amount in (*own, *extra[i])
                                                       if amount and not (later and reason == PRIOR_PAYER)]})
    return out


def _denial(plan: PlannedClaim, charges: list[ChargeRow]) -> PlannedClaim:
    """A denied claim: its lines denied with its largest adjustment's code; nothing adjusted."""
    claim = plan.claim
    if claim.paid:
        return plan.exception(f"claim {claim.claim_number} is denied (CLP02 4) yet pays {fmt(claim.paid)}")
    codes = sorted(_all_adjustments(claim), key=lambda a: -abs(a.amount))
    plan.denial_codes = tuple(dict.fromkeys(f"{a.group}-{a.reason}" for a in codes))
    code = plan.denial_codes[0] if plan.denial_codes else "denied"
    plan.action = "deny"
    plan.reason = "; ".join(describe(*c.split("-", 1)) for c in plan.denial_codes)
    plan.lines = [{"charge_id": c.id, "allowed": 0, "paid": 0, "denied": True, "denial_code": code,
                   "adjustments": []} for c in charges]
    return plan
