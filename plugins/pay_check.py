"""Payment method: a paper check (patient's or a payer's)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import PaymentMethod, Text, hookimpl

CLAIMDESK_API = "1.0"


class CheckDetails(Schema):
    """The check number is required; the bank helps when a check comes back."""

    check_number = Text(required=True, min_length=1, max_length=30)
    bank = Text(max_length=80, load_default="")


@hookimpl
def claimdesk_payment_methods():
    """Check."""
    return [PaymentMethod(key="check", label="Check", schema=CheckDetails, reference_field="check_number",
                          order=20)]
