"""Small builders for test data, all through the core services (the ledger is real)."""

from __future__ import annotations

import datetime as dt
import itertools

from claimdesk.core import db, workflow
from claimdesk.core.models import Patient, Payer, Provider, ServiceCode
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import billing, payments

_seq = itertools.count(1)


def patient(last: str = "Doe", first: str = "Jan") -> Patient:
    """A patient with a unique account number."""
    with db.write_transaction():
        return Patient.create(account_no=f"T{next(_seq):05d}", last_name=last, first_name=first,
                              dob=dt.date(1970, 1, 1))


def payer(name: str, kind: str = "commercial") -> Payer:
    """An insurance payer (created once per name)."""
    with db.write_transaction():
        return Payer.get_or_create(name=name, defaults={"kind": kind})[0]


def provider(name: str = "Dr. Rivera", kind: str = "clinical") -> Provider:
    with db.write_transaction():
        return Provider.get_or_create(name=name, defaults={"kind": kind})[0]


def code(code: str = "99213", fee: int = 110_00) -> ServiceCode:
    with db.write_transaction():
        return ServiceCode.get_or_create(code=code, defaults={"default_fee": fee, "description": code})[0]


def audited(fn, action: str = "test.setup", **where):
    """Run set-up that posts to the ledger as one audited workflow (``verify`` checks that
    every journal entry belongs to an audit event); ``fn``'s return value."""
    made = {}

    def body():
        made["value"] = fn()
        return {}

    workflow.run(action, body, notify=False, **where)
    return made["value"]


def encounter(pat: Patient, fees: list[int], *, payers: list[Payer] = (), dos: dt.date = dt.date(2026, 3, 2),
              codes: list[str] | None = None):
    """An encounter with one charge per fee (cents), made by one audited workflow;
    returns (encounter, [charges])."""
    prov = provider()

    def make():
        enc = billing.create_encounter(patient=pat, provider=prov, dos=dos, payers=[(p, None) for p in payers])
        return enc, [billing.add_charge(enc, code(c or "99213"), fee=fee)
                     for fee, c in zip(fees, codes or [None] * len(fees))]

    return audited(make, "test.encounter", patient_id=pat.id)


def voucher(pay: Payer | None, amount: int, method: str = "check", **details) -> int:
    """A voucher through the workflow (validates the payment-method plugin); returns its id."""
    pay = pay or patient_payer()
    if method == "check" and not details:
        details = {"check_number": str(1000 + next(_seq))}
    res = payments.create_voucher({"payer_id": pay.id, "method": method, "amount": f"{amount / 100:.2f}",
                                   "details": details})
    return res["voucher_id"]


def denied(payers: list[Payer], fees=(100_00, 50_00)):
    """A new patient's encounter whose first payer denied every charge (CARC 27: it lands on
    the Denied queue); returns (patient, encounter, [charges])."""
    from claimdesk.core.models import Encounter
    from claimdesk.core.services import eobs

    pat = patient()
    enc, charges = encounter(pat, list(fees), payers=payers)
    eobs.post_eob({"encounter_id": enc.id, "payer_id": payers[0].id,
                   "lines": [{"charge_id": c.id, "denied": True, "denial_code": "27"} for c in charges]})
    return pat, Encounter.get_by_id(enc.id), charges
