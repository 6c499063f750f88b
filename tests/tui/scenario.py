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


# --- intake: a clinic set up through the app's own services ------------------------------------------
@dataclasses.dataclass
class Intake:
    aetna: int
    medicare: int
    marsh: int
    lee: int
    dana: int | None  # Dana Reyes, with Aetna (her husband's policy) and Medicare


def intake(with_patient: bool = True) -> Intake:
    """Two payers, two providers and three service codes entered as a supervisor would (the user
    "tester" is made the admin, as ``claimdesk init`` makes its runner), and, ``with_patient``,
    Dana Reyes with two coverages and one earlier encounter (diagnoses M54.50, R51.9)."""
    from claimdesk.core.models import User
    from claimdesk.core.services import charge_entry, coverages, patients, reference_data

    with db.write_transaction():
        User.update(role="admin").where(User.username == "tester").execute()
    with clock.frozen(TODAY):
        aetna = reference_data.add_payer({"name": "Aetna", "payer_code": "60054", "address": "PO Box 981106",
                                          "city": "El Paso", "state": "TX", "zip": "79998"})["payer_id"]
        medicare = reference_data.add_payer({"name": "Medicare Part B", "kind": "medicare",
                                             "payer_code": "MCR01"})["payer_id"]
        marsh = reference_data.add_provider({"last_name": "Marsh", "first_name": "Elena", "npi": "1234567893",
                                             "taxonomy": "207Q00000X"})["provider_id"]
        lee = reference_data.add_provider({"last_name": "Lee", "first_name": "Jordan", "npi": "1245319599",
                                           "kind": "referring"})["provider_id"]
        for code, description, fee in (("99213", "Office visit, established, low complexity", "110.00"),
                                       ("36415", "Routine venipuncture", "12.00"),
                                       ("83036", "Hemoglobin A1c", "28.00")):
            reference_data.add_code({"code": code, "description": description, "default_fee": fee})
        dana = None
        if with_patient:
            dana = patients.add_patient({"last_name": "Reyes", "first_name": "Dana", "dob": "1980-02-29", "sex": "F",
                                         "address": "12 Alder St", "city": "Eugene", "state": "OR", "zip": "97401",
                                         "phone": "541-555-0134", "account_no": "A1001"})["patient_id"]
            first = coverages.add_coverage({"patient_id": dana, "payer_id": aetna, "member_id": "W123456789",
                                            "group_no": "GRP-77", "relationship": "spouse",
                                            "subscriber_last_name": "Reyes", "subscriber_first_name": "Luis",
                                            "subscriber_dob": "1978-06-01", "subscriber_sex": "M"})
            second = coverages.add_coverage({"patient_id": dana, "payer_id": medicare, "member_id": "1EG4TE5MK73"})
            charge_entry.add_encounter({"patient_id": dana, "provider_id": marsh, "dos": "2026-03-02",
                                        "coverage_ids": [first["coverage_id"], second["coverage_id"]],
                                        "diagnoses": ["M54.50", "R51.9"], "charges": [{"code": "99213"}]})
    return Intake(aetna, medicare, marsh, lee, dana)
