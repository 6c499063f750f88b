"""The test suite's builders: claimdesk's one :class:`~claimdesk.api.testing.ClinicBuilder`
(the one plugin authors get as ``claimdesk_db``), as module functions."""

from __future__ import annotations

from claimdesk.api.testing import ClinicBuilder

_clinic = ClinicBuilder(prefix="T")

patient = _clinic.patient
payer = _clinic.payer
provider = _clinic.provider
code = _clinic.code
audited = _clinic.audited
encounter = _clinic.encounter
voucher = _clinic.voucher
denied = _clinic.denied


def owed_at_placeholder_primary(fee: int = 60_00):
    """A self-pay encounter of a new patient whose one charge is owed by the pseudo payer
    "Patient" at rank primary (as data written before that rule was fixed); ``(encounter, charge)``."""
    from claimdesk.core.models import ChargeSplit
    from claimdesk.core.services import actions, billing
    from claimdesk.core.services.common import patient_payer

    enc, (ch,) = encounter(patient(), [fee])
    actions.apply(enc.id, "self_pay", {"confirm": True})
    split = ChargeSplit.get((ChargeSplit.charge == ch.id) & (ChargeSplit.rank == "patient"))
    audited(lambda: billing.transfer(split, billing.split_for(ch, "primary", patient_payer()), fee,
                                     reason="old data"))
    return enc, ch
