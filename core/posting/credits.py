"""Credits: money drawn from a voucher onto patients' accounts and applied to their charges.

Set-based, one journal entry per kind however many credits (a credit entry is a list of one):

  ``credit``         Dr UNDISTRIBUTED (the voucher) / Cr UNAPPLIED (one line per credit)
  ``payment``        Dr UNAPPLIED / Cr AR, a pair per application (a credit split row each)
  ``credit_return``  Dr UNAPPLIED (per credit with money left) / Cr UNDISTRIBUTED (the voucher),
                     unless the credits keep what they could not apply

:func:`draw`, :func:`apply` and :func:`return_remainders` are the steps; :func:`spend` and
:func:`post_credits` are the credit-entry flow (draw, apply auto or as planned, give back
the rest, queue the claims the payments made due). Rows are multi-row
``INSERT ... RETURNING``; postings go through :func:`claimdesk.core.ledger.post`, which
keeps the cached balances with their below-zero guards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Callable, Sequence

from claimdesk.core import clock, ledger
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import Credit, CreditSplit, Voucher
from claimdesk.core.money import fmt
from claimdesk.core.posting import next_claims
from claimdesk.core.posting.allocation import Allocation, auto_allocate
from claimdesk.core.posting.bulk import insert_ids, only


@dataclasses.dataclass(slots=True)
class CreditLine:
    """One credit: whose account, how many cents (to draw, or to apply), its memo."""

    patient_id: int
    amount: int
    memo: str = ""


@dataclasses.dataclass(slots=True)
class Application:
    """``amount`` of credit ``credit_id``'s money paid on ``split`` (a ChargeSplit or an
    :class:`~.allocation.OpenSplit`: anything with id, charge_id, patient_id, payer_id)."""

    credit_id: int
    split: object
    amount: int


@dataclasses.dataclass(frozen=True, slots=True)
class Memos:
    """The memos of a credit flow's entries; ``{voucher}``, ``{credit}`` (the first credit's
    id) and ``{n}`` (how many credits) are filled in."""

    draw: str
    applied: str
    returned: str

    def filled(self, voucher_id: int, n: int, credit_id: int | None = None) -> Memos:
        """These memos with the voucher, the count and the (first) credit filled in."""
        names = {"voucher": voucher_id, "n": n, "credit": credit_id}
        return Memos(*(text.format(**names) for text in (self.draw, self.applied, self.returned)))


#: A credit entry's memos (one credit), and a batch's (one voucher spread over many patients).
ONE_CREDIT = Memos("credit from voucher {voucher}", "credit {credit} applied",
                   "credit {credit} remainder back to voucher {voucher}")
BATCH = Memos("batch of {n} credits from voucher {voucher}", "batch credits from voucher {voucher} applied",
              "batch remainders back to voucher {voucher}")


@dataclasses.dataclass(slots=True)
class Spent:
    """What a credit flow did, per credit in the order given: the credits, the allocations
    made (``line`` = the credit's index), and per credit the cents applied, kept unapplied
    and given back to the voucher."""

    credit_ids: list[int]
    allocations: list[Allocation]
    applied: list[int]
    unapplied: list[int]
    returned: list[int]


def require_active(voucher: Voucher) -> None:
    """Refuse a returned voucher: it funds no credit."""
    if voucher.status != "active":
        raise Refused(f"voucher {voucher.id} was returned; it cannot fund credits", field="voucher_id")


def check_funds(voucher: Voucher, amount: int) -> None:
    """Refuse drawing ``amount`` from a returned voucher or beyond its undistributed money."""
    require_active(voucher)
    if amount > voucher.undistributed:
        raise Refused(f"{fmt(amount)} is more than the voucher's undistributed "
                      f"{fmt(voucher.undistributed)}", field="amount")


def draw(voucher: Voucher, credits: Sequence[CreditLine], *, keep_unapplied: bool, memo: str,
         posted_on: dt.date | None = None) -> list[int]:
    """Draw ``credits`` from ``voucher`` (one ``credit`` entry); the new credits' ids in order.

    The ledger refuses to overdraw the voucher; callers check first to name the field at fault.
    """
    now, user = clock.now(), current_user()
    fields = Credit._meta.fields
    const = (voucher.payer_id, voucher.id, voucher.method, fields["keep_unapplied"].db_value(keep_unapplied), 0,
             fields["posted_on"].db_value(posted_on or now.date()))
    stamp = fields["created_at"].db_value(now)
    rows = [(c.patient_id, *const, c.memo, stamp, user) for c in credits]
    names = ("patient", "payer", "voucher", "method", "keep_unapplied", "unapplied", "posted_on", "memo",
             "created_at", "created_by")
    ids = insert_ids(Credit, names, rows)
    lines = [ledger.Line("UNDISTRIBUTED", sum(c.amount for c in credits), voucher_id=voucher.id,
                         payer_id=voucher.payer_id)]
    lines += [ledger.Line("UNAPPLIED", -c.amount, credit_id=cid, voucher_id=voucher.id, patient_id=c.patient_id,
                          payer_id=voucher.payer_id) for c, cid in zip(credits, ids)]
    ledger.post("credit", lines, memo=memo, user=user, patient_id=only(c.patient_id for c in credits))
    return ids


def apply(voucher_id: int, applications: Sequence[Application], *, memo: str, patient_id: int | None) -> list[int]:
    """Pay charge splits with credits' unapplied money (one ``payment`` entry naming
    ``patient_id``, a credit split row per application); the credit split ids in order. The
    ledger refuses to apply more than a credit holds or a split owes (the splits' cached
    ``balance`` is the ledger's; the objects given are not changed)."""
    applications = [a for a in applications if a.amount > 0]
    if not applications:
        return []
    stamp = CreditSplit.created_at.db_value(clock.now())
    # each split's ids read once (the hot path of a 10,000-credit batch or an 835: Line built by position)
    rows = [(a.credit_id, a.split.id, a.split.charge_id, a.split.patient_id, a.split.payer_id, a.amount)
            for a in applications]
    ids = insert_ids(CreditSplit, ("credit", "charge", "split", "created_at"),
                     [(credit, charge, split, stamp) for credit, split, charge, _pt, _py, _a in rows])
    Line, lines = ledger.Line, []
    for (credit, split, charge, patient, payer, amount), cs_id in zip(rows, ids):
        # (fields in order: account, amount, split, voucher, credit, credit split, charge, patient, payer,
        # provider, reason code)
        lines.append(Line("UNAPPLIED", amount, split, voucher_id, credit, cs_id, charge, patient, payer, None, ""))
        lines.append(Line("AR", -amount, split, None, None, cs_id, charge, patient, payer, None, ""))
    ledger.post("payment", lines, memo=memo, user=current_user(), patient_id=patient_id)
    return ids


def return_remainders(voucher: Voucher, remainders: Sequence[tuple[int, int, int]], *, memo: str,
                      patient_id: int | None) -> int:
    """Send credits' leftover money back to the voucher, ``(credit id, patient id, cents)`` each
    (one ``credit_return`` entry naming ``patient_id``); the cents returned."""
    back = [ledger.Line("UNAPPLIED", cents, credit_id=cid, voucher_id=voucher.id, patient_id=pid,
                        payer_id=voucher.payer_id) for cid, pid, cents in remainders if cents]
    if not back:
        return 0
    total = sum(ln.amount for ln in back)
    back.append(ledger.Line("UNDISTRIBUTED", -total, voucher_id=voucher.id, payer_id=voucher.payer_id))
    ledger.post("credit_return", back, memo=memo, user=current_user(), patient_id=patient_id)
    return total


def spend(voucher: Voucher, credit_ids: Sequence[int], credits: Sequence[CreditLine],
          plan: str | list[Allocation], *, give_back: bool, keep_unapplied: bool, memos: Memos,
          step: Callable[[int], None] | None = None) -> Spent:
    """Apply credits' money and settle the rest: ``credits[i]`` (patient, cents available) is
    credit ``credit_ids[i]``; ``plan`` is ``"auto"`` (oldest first, :mod:`.allocation`),
    ``"none"`` or the allocations to make (``line`` = the credit's index). Then, when
    ``give_back`` and not ``keep_unapplied``, what a credit could not apply goes back to the
    voucher; and the next insurer's claim is queued where a payment zeroed a split.

    ``step(n)`` is called after applying (2), giving back (3) and queueing claims (4).
    """
    step = step or (lambda _n: None)
    if plan == "auto":
        allocations = auto_allocate(voucher.payer_id, [(c.patient_id, c.amount) for c in credits])[0]
    else:
        allocations = [] if plan == "none" else plan
    applied = [0] * len(credits)
    for a in allocations:
        applied[a.line] += a.amount
    memos = memos.filled(voucher.id, len(credit_ids), credit_ids[0] if credit_ids else None)
    patient_id = only(c.patient_id for c in credits)  # (an entry names the patient when all are one's)
    apply(voucher.id, [Application(credit_ids[a.line], a.split, a.amount) for a in allocations], memo=memos.applied,
          patient_id=patient_id)
    step(2)
    left = [c.amount - done for c, done in zip(credits, applied)]
    returned = [0] * len(credits)
    if give_back and not keep_unapplied:
        return_remainders(voucher, [(cid, c.patient_id, cents) for cid, c, cents in zip(credit_ids, credits, left)],
                          memo=memos.returned, patient_id=patient_id)
        returned, left = left, [0] * len(credits)
    step(3)
    next_claims.queue_due(a.split.id for a in allocations if a.balance_after == 0)
    step(4)
    return Spent(list(credit_ids), allocations, applied, left, returned)


def post_credits(voucher: Voucher, credits: Sequence[CreditLine], plan: str | list[Allocation] = "auto", *,
                 keep_unapplied: bool = False, memo: str = "", memos: Memos = ONE_CREDIT,
                 posted_on: dt.date | None = None, step: Callable[[int], None] | None = None) -> Spent:
    """Credit entry, for one credit or a batch: draw ``credits`` from ``voucher`` (``memo``, or
    ``memos.draw``, on the draw entry), then :func:`spend` them (the rest goes back to the
    voucher unless ``keep_unapplied`` or ``plan`` is ``"none"``). ``step(1)`` after the draw."""
    ids = draw(voucher, credits, keep_unapplied=keep_unapplied,
               memo=memo or memos.filled(voucher.id, len(credits)).draw, posted_on=posted_on)
    if step is not None:
        step(1)
    return spend(voucher, ids, credits, plan, give_back=plan != "none", keep_unapplied=keep_unapplied,
                 memos=memos, step=step)

