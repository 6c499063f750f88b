"""Payment method: cash over the counter (an optional receipt number)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import PaymentMethod, Text, hookimpl

CLAIMDESK_API = "1.0"


class CashDetails(Schema):
    """What the clerk records for cash."""

    receipt_number = Text(max_length=30, load_default="")


@hookimpl
def claimdesk_payment_methods():
    """Cash."""
    return [PaymentMethod(key="cash", label="Cash", schema=CashDetails, reference_field="receipt_number",
                          order=10)]
