"""Fixtures the cases need, written through the core services (not timed)."""

from __future__ import annotations

import datetime as dt

from claimdesk.bench.common import TODAY


def patient_with_open_charges(tag: str, charges: int, per_encounter: int = 10) -> int:
    """A new self-pay patient owing ``charges`` open charges of $100.00 (oldest first by date)."""
    from claimdesk.core import workflow
    from claimdesk.core.models import Patient, Provider, ServiceCode
    from claimdesk.core.services import billing

    def body():  # one audited workflow: every journal entry belongs to an audit event
        patient = Patient.create(account_no=f"BENCH-{tag}", last_name="Benchmark", first_name=tag,
                                 dob=dt.date(1970, 1, 1))
        provider = Provider.select().where(Provider.kind == "clinical").order_by(Provider.id).first()
        code = ServiceCode.get(ServiceCode.code == "99213")
        made, day = 0, 0
        while made < charges:
            enc = billing.create_encounter(patient=patient, provider=provider,
                                           dos=TODAY - dt.timedelta(days=400 - day))
            for _ in range(min(per_encounter, charges - made)):
                billing.add_charge(enc, code, fee=100_00)
                made += 1
            day += 1
        return {"patient_id": patient.id}

    return workflow.run("bench.fixture", body, notify=False)["patient_id"]


def voucher(payer_id: int, amount: int, method: str = "check") -> int:
    """A new voucher from ``payer_id`` holding ``amount`` cents, all undistributed."""
    from claimdesk.core import workflow
    from claimdesk.core.models import Payer
    from claimdesk.core.services import payments

    return workflow.run("bench.fixture", lambda: {"voucher_id": payments.make_voucher(
        Payer.get_by_id(payer_id), method, amount, reference="BENCH").id}, notify=False)["voucher_id"]


def patient_payer_id() -> int:
    """The pseudo payer "Patient" (self-pay money)."""
    from claimdesk.core.services.common import patient_payer

    return patient_payer().id
