"""Payment method: money order (serial number and issuer)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import PaymentMethod, Text, hookimpl

CLAIMDESK_API = "1.0"


class MoneyOrderDetails(Schema):
    """The serial number printed on the money order."""

    serial_number = Text(required=True, min_length=1, max_length=30)
    issuer = Text(max_length=80, load_default="")


@hookimpl
def claimdesk_payment_methods():
    """Money order."""
    return [PaymentMethod(key="money_order", label="Money order", schema=MoneyOrderDetails,
                          reference_field="serial_number", order=50)]
