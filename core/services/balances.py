"""Every balance claimdesk shows, derived from ledger postings (never from caches).

Sign convention: AR is a debit balance (owed to the clinic); UNDISTRIBUTED and
UNAPPLIED are credit balances (money held), so they are negated here.
"""

from __future__ import annotations

import dataclasses

from peewee import Case, fn

from claimdesk.core.models import Charge, Posting
from claimdesk.core.prepared import Prepared
from claimdesk.core.services.common import patient_payer


def _sum(*where) -> int:
    value = Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(*where).scalar()
    return int(value or 0)


def split_balance(split_id: int) -> int:
    """Open balance of one charge split."""
    return _sum(Posting.account == "AR", Posting.split == split_id)


def charge_balance(charge_id: int) -> int:
    """Open balance of a charge, all ranks."""
    return _sum(Posting.account == "AR", Posting.charge == charge_id)


def patient_charge_balances(patient_id: int) -> dict[int, int]:
    """Open balance (all ranks) of each of a patient's charges that has postings: charge id -> cents."""
    rows = (Posting.select(Posting.charge, fn.SUM(Posting.amount))
            .where(Posting.account == "AR", Posting.patient == patient_id, Posting.charge.is_null(False))
            .group_by(Posting.charge).tuples())
    return {charge: int(total) for charge, total in rows}


def encounter_balance(encounter_id: int) -> int:
    """Open balance of an encounter's charges."""
    return int(_ENCOUNTER_AR.scalar(encounter_id) or 0)


_ENCOUNTER_AR = Prepared(lambda enc: Posting.select(fn.COALESCE(fn.SUM(Posting.amount), 0)).where(
    (Posting.account == "AR") & Posting.charge.in_(Charge.select(Charge.id).where(Charge.encounter == enc))).tuples())


def payer_balance(payer_id: int) -> int:
    """What one payer still owes across all accounts (its AR)."""
    return _sum(Posting.account == "AR", Posting.payer == payer_id)


def voucher_undistributed(voucher_id: int) -> int:
    """Money on a voucher not yet drawn by any credit (the payer's)."""
    return -_sum(Posting.account == "UNDISTRIBUTED", Posting.voucher == voucher_id)


def credit_unapplied(credit_id: int) -> int:
    """Money on a credit not yet applied to charges (the patient's)."""
    return -_sum(Posting.account == "UNAPPLIED", Posting.credit == credit_id)


def credit_applied(credit_id: int) -> int:
    """Money of a credit applied to charges (net of reversals)."""
    return _sum(Posting.account == "UNAPPLIED", Posting.credit == credit_id, Posting.credit_split.is_null(False))


def credit_drawn(credit_id: int) -> int:
    """Money a credit took from its voucher (net of remainders sent back and reversals)."""
    return -_sum(Posting.account == "UNAPPLIED", Posting.credit == credit_id, Posting.credit_split.is_null(True))


def credit_money(credit_ids: list[int]) -> dict[int, dict[str, int]]:
    """Drawn, applied and unapplied (as :func:`credit_drawn`, :func:`credit_applied` and
    :func:`credit_unapplied`) for many credits in one grouped query: ``{credit_id: {...}}``."""
    out = {cid: {"drawn": 0, "applied": 0, "unapplied": 0} for cid in credit_ids}
    applied_part = Case(None, [(Posting.credit_split.is_null(False), Posting.amount)], 0)
    for start in range(0, len(credit_ids), 1000):
        chunk = credit_ids[start:start + 1000]
        rows = (Posting.select(Posting.credit, fn.SUM(Posting.amount), fn.SUM(applied_part))
                .where((Posting.account == "UNAPPLIED") & Posting.credit.in_(chunk))
                .group_by(Posting.credit).tuples())
        for cid, total, applied in rows:
            applied = int(applied or 0)
            # drawn = minus the postings without a credit split; unapplied = minus all of them
            out[cid] = {"drawn": -(int(total or 0) - applied), "applied": applied, "unapplied": -int(total or 0)}
    return out


def credit_split_amount(credit_split_id: int) -> int:
    """Amount of one credit split (zero once its check was returned)."""
    return _sum(Posting.account == "UNAPPLIED", Posting.credit_split == credit_split_id)


@dataclasses.dataclass
class PatientBalance:
    """A patient's money at a glance (all in cents)."""

    patient_due: int  # AR owed by the patient themself
    insurance_pending: int  # AR still with insurers: never billed to the patient
    unapplied: int  # the patient's unapplied credit money

    @property
    def total_ar(self) -> int:
        return self.patient_due + self.insurance_pending

    @property
    def net_due(self) -> int:
        """What the patient owes after their unapplied money."""
        return self.patient_due - self.unapplied

    def as_dict(self) -> dict:
        return {"patient_due": self.patient_due, "insurance_pending": self.insurance_pending,
                "unapplied": self.unapplied, "total_ar": self.total_ar, "net_due": self.net_due}


def patient_balance(patient_id: int) -> PatientBalance:
    """Derive a patient's balances from postings."""
    return patient_balances([int(patient_id)])[int(patient_id)]


def patient_balances(patient_ids: list[int]) -> dict[int, PatientBalance]:
    """:func:`patient_balance` of each of ``patient_ids`` (a search's rows), read with one query."""
    from claimdesk.core import db

    rows: dict[int, list] = {int(pid): [] for pid in patient_ids}
    if patient_ids:
        among, params = db.ids_in(patient_ids)
        for pid, account, payer_id, total in db.sql(
                "SELECT patient_id, account, payer_id, SUM(amount) FROM posting WHERE patient_id " + among
                + " AND account IN ('AR', 'UNAPPLIED') GROUP BY patient_id, account, payer_id", params):
            rows[pid].append((account, payer_id, total))
    pseudo = patient_payer().id
    return {pid: _balance(totals, pseudo) for pid, totals in rows.items()}


def _balance(totals, pseudo: int) -> PatientBalance:
    """A patient's balances from their (account, payer, sum) posting totals."""
    due = pending = unapplied = 0
    for account, payer_id, total in totals:
        if account == "AR" and payer_id == pseudo:
            due += int(total)
        elif account == "AR":
            pending += int(total)
        else:
            unapplied -= int(total)
    return PatientBalance(due, pending, unapplied)

