"""Adjustments and write-offs: balance taken off charge splits with a reason, an
:class:`~claimdesk.core.models.Adjustment` row each and one entry of the kind:

  ``<kind>``  Dr CONTRACTUAL (contractual kinds) or WRITEOFF / Cr AR, a pair per adjustment

Who may write off what is the services' concern (``services.adjustments``); this only posts.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from claimdesk.core import clock, ledger
from claimdesk.core.context import current_user
from claimdesk.core.models import Adjustment, ChargeSplit
from claimdesk.core.posting.bulk import insert_ids, only

#: Adjustment kinds posted to the CONTRACTUAL account (the payer's CO, OA and PI adjustments);
#: every other kind is a WRITEOFF.
CONTRACTUAL_KINDS = ("contractual", "other_adjustment", "payer_initiated")


@dataclasses.dataclass(slots=True)
class NewAdjustment:
    """``amount`` off ``split`` (of a charge of encounter ``encounter_id``), with its codes and memo."""

    split: ChargeSplit
    amount: int
    encounter_id: int
    reason_code: str = ""
    group_code: str = ""
    memo: str = ""

    @property
    def code(self) -> str:
        """The code the postings carry: ``CO-45`` (group and reason) or the reason alone."""
        return f"{self.group_code}-{self.reason_code}" if self.group_code else self.reason_code


def post_adjustments(kind: str, adjustments: Sequence[NewAdjustment], *, memo: str) -> list[int]:
    """Write the adjustments of ``kind`` (rows and one entry); their ids in order. The splits'
    ``balance`` follow; the ledger refuses to take a split below zero."""
    if not adjustments:
        return []
    now, user = Adjustment.created_at.db_value(clock.now()), current_user()
    account = "CONTRACTUAL" if kind in CONTRACTUAL_KINDS else "WRITEOFF"
    rows, lines, Line = [], [], ledger.Line
    for a in adjustments:  # (the split's ids from its data, each Line by position: an 835 makes tens of thousands)
        data, amount, code = a.split.__data__, a.amount, a.code
        split, charge, patient, payer = data["id"], data["charge"], data["patient"], data["payer"]
        rows.append((charge, split, kind, a.reason_code, a.group_code, amount, a.memo[:200], now, user))
        lines.append(Line(account, amount, split, None, None, None, charge, patient, payer, None, code))
        lines.append(Line("AR", -amount, split, None, None, None, charge, patient, payer, None, code))
    ids = insert_ids(Adjustment, ("charge", "split", "kind", "reason_code", "group_code", "amount", "memo",
                                  "created_at", "created_by"), rows)
    ledger.post(kind, lines, memo=memo, user=user, encounter_id=only(a.encounter_id for a in adjustments),
                patient_id=only(a.split.patient_id for a in adjustments))
    for a in adjustments:
        a.split.balance -= a.amount
    return ids
