"""What an 835 import did (or, in a preview, would do): per file, per payment, per claim.

``report.as_dict()`` is the CLI's ``--json``; the ERA screen reads the objects. Amounts are
cents (:class:`~claimdesk.core.money.Cents`, shown as dollars)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from claimdesk.core.money import Cents

#: What a claim row's ``action`` means to a clerk.
ACTIONS = {
    "post": "posted",
    "deny": "denied",
    "reverse": "reversal",
    "informational": "no payment",
    "exception": "exception",
}


#: The same, said of a preview (what posting would do).
ACTIONS_AHEAD = {
    "post": "to post",
    "deny": "to deny",
    "reverse": "to reverse",
    "informational": "no payment",
    "exception": "exception",
}


def tally_text(tallies: dict[str, int], *, ahead: bool = False) -> str:
    """``"3 posted, 1 exception"`` (``ahead``: ``"3 to post, 2 exceptions"``), in :data:`ACTIONS` order."""
    words = ACTIONS_AHEAD if ahead else ACTIONS
    parts = []
    for action in ACTIONS:
        n = tallies.get(action, 0)
        if n:
            parts.append(f"{n} {words[action]}{'s' if n > 1 and action == 'exception' else ''}")
    return ", ".join(parts) or "no claims"


@dataclasses.dataclass(slots=True)
class ClaimRow:
    """One claim of a payment: CLP01, CLP02 and its meaning, charge, paid, patient
    responsibility (CLP05), what is (or would be) done (``action``, see :data:`ACTIONS`), the
    encounter and patient it matched, the EOB it posted as or takes back, the reason of an
    exception or the note of an informational claim, its file line."""

    claim_no: str
    status: str
    status_text: str
    charge: Cents
    paid: Cents
    patient_responsibility: Cents
    action: str
    encounter_id: int | None = None
    patient_id: int | None = None
    patient_name: str = ""
    eob_id: int | None = None
    reverses: int | None = None
    crossed_over: bool = False
    queue: str = ""
    reason: str = ""
    line: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(slots=True)
class PaymentReport:
    """One payment (ST..SE): trace (TRN02), payer (as the file names it, and its id on file),
    amount (BPR02), method (BPR04), date (BPR16); ``status`` ``posted`` / ``preview`` /
    ``already`` (posted before: ``reason`` says where) / ``refused`` (``reason`` says why;
    nothing of it is posted) / ``retried`` and ``retry-preview`` (its waiting exceptions
    planned again: ``claims`` lists only those); the voucher it became, its audit event, its PLB and claims."""

    trace_number: str
    payer_name: str
    payer_code: str
    amount: Cents
    method: str
    paid_on: dt.date | None
    control_number: str
    status: str
    reason: str = ""
    payer_id: int | None = None
    voucher_id: int | None = None
    audit_id: int | None = None
    provider_adjustments: list[dict] = dataclasses.field(default_factory=list)
    claims: list[ClaimRow] = dataclasses.field(default_factory=list)

    def count(self, action: str) -> int:
        """How many claims have ``action``."""
        return sum(1 for c in self.claims if c.action == action)

    @property
    def tallies(self) -> dict[str, int]:
        """Claims per action."""
        return dict(Counter(c.action for c in self.claims))

    @property
    def posted_paid(self) -> Cents:
        """What the posted claims (and reversals) pay, net."""
        return Cents(sum(c.paid for c in self.claims if c.action in ("post", "reverse")))

    @property
    def undistributed(self) -> Cents:
        """What the exceptions' claims pay: it stays undistributed on the voucher."""
        return Cents(sum(c.paid for c in self.claims if c.action == "exception"))

    @property
    def provider_total(self) -> Cents:
        """Σ PLB amounts (positive: the payer kept it from the payment)."""
        return Cents(sum(a["amount"] for a in self.provider_adjustments))

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "claims"}
        return {**out, "tallies": self.tallies, "posted_paid": self.posted_paid, "undistributed": self.undistributed,
                "provider_total": self.provider_total, "claims": [c.as_dict() for c in self.claims]}


@dataclasses.dataclass(slots=True)
class FileReport:
    """One file: name, digest, envelope; ``error`` when it could not be read at all; ``already``
    when this very file was imported before (when and by whom); ``warnings`` the reader noted."""

    name: str
    digest: str = ""
    file_date: dt.date | None = None
    sender_id: str = ""
    control_number: str = ""
    dry_run: bool = False
    error: str = ""
    already: str = ""
    warnings: list[str] = dataclasses.field(default_factory=list)
    payments: list[PaymentReport] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "payments"}
        return {**out, "payments": [p.as_dict() for p in self.payments]}


@dataclasses.dataclass(slots=True)
class EraReport:
    """Every file of one import (or preview)."""

    files: list[FileReport] = dataclasses.field(default_factory=list)
    dry_run: bool = False

    @property
    def payments(self) -> list[PaymentReport]:
        return [p for f in self.files for p in f.payments]

    def count(self, action: str) -> int:
        """Claims with ``action`` over every payment."""
        return sum(p.count(action) for p in self.payments)

    @property
    def ok(self) -> bool:
        """Every file read, and no payment refused."""
        return not any(f.error for f in self.files) and not any(p.status == "refused" for p in self.payments)

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "ok": self.ok, "files": [f.as_dict() for f in self.files],
                "claims": {a: self.count(a) for a in ACTIONS}}
