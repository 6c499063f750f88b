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
