"""A small fixed clinic for the TUI tests and snapshots (dates frozen, names fixed).

Built through the core services (tests.builders), never the demo:
  * Dana Reyes: two encounters denied by Aetna (Denied queue): 100.00 + 50.00 on
    the first (2026-03-02), 80.00 on the second (2026-03-09);
  * Sam Ortiz: one self-pay encounter of 120.00 (patient owes it);
  * an Aetna check of 90.00 and a Patient cash voucher of 40.00, all undistributed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from claimdesk.core import clock, db
from claimdesk.core.models import Patient
from claimdesk.core.services import eobs

from tests import builders as b

TODAY = dt.date(2026, 4, 1)


@dataclasses.dataclass
class Clinic:
    dana: object
    sam: object
    aetna: object
    denied: list  # Dana's two encounters
    self_pay: object
    charges: dict  # encounter id -> [charges]
    aetna_check: int
    cash: int


def patient(account_no: str, last: str, first: str) -> Patient:
    """A patient with a fixed account number (the screens show it)."""
    with db.write_transaction():
        return Patient.create(account_no=account_no, last_name=last, first_name=first, dob=dt.date(1970, 1, 1))


def denied_encounter(pat, payer, fees, dos):
    """An encounter whose primary denied every charge (lands in the Denied queue)."""
    enc, charges = b.encounter(pat, fees, payers=[payer], dos=dos)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": payer.id,
                   "lines": [{"charge_id": c.id, "denied": True, "denial_code": "27"} for c in charges]})
    return enc, charges


def build() -> Clinic:
    """The fixed clinic, as of :data:`TODAY` (call inside a ``database`` fixture)."""
    with clock.frozen(TODAY):
        aetna = b.payer("Aetna")
        dana = patient("A1001", "Reyes", "Dana")
        sam = patient("A1002", "Ortiz", "Sam")
        e1, c1 = denied_encounter(dana, aetna, [100_00, 50_00], dt.date(2026, 3, 2))
        e2, c2 = denied_encounter(dana, aetna, [80_00], dt.date(2026, 3, 9))
        e3, c3 = b.encounter(sam, [120_00], dos=dt.date(2026, 3, 16))
        check = b.voucher(aetna, 90_00, check_number="55501")
        cash = b.voucher(None, 40_00, method="cash")
    return Clinic(dana, sam, aetna, [e1, e2], e3, {e1.id: c1, e2.id: c2, e3.id: c3}, check, cash)
