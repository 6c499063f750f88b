"""Payment method: EFT/ACH from a payer (the trace number from the 835's TRN segment)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import PaymentMethod, Text, hookimpl

CLAIMDESK_API = "1.0"


class EftDetails(Schema):
    """The trace number ties the deposit to the remittance."""

    trace_number = Text(required=True, min_length=1, max_length=50)


@hookimpl
def claimdesk_payment_methods():
    """EFT/ACH."""
    return [PaymentMethod(key="eft", label="EFT/ACH", schema=EftDetails, reference_field="trace_number",
                          order=40)]
