"""Payment method: credit or debit card (brand, last four digits, authorization code)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.api import PaymentMethod, Text, hookimpl

CLAIMDESK_API = "1.0"

BRANDS = ("visa", "mastercard", "amex", "discover", "other")


class CardDetails(Schema):
    """Never the full card number: only the last four digits are kept."""

    brand = fields.String(required=True, validate=validate.OneOf(BRANDS))
    last4 = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}\Z", error="must be 4 digits"))
    auth_code = Text(required=True, min_length=1, max_length=20)
    kind = fields.String(load_default="credit", validate=validate.OneOf(("credit", "debit")))


@hookimpl
def claimdesk_payment_methods():
    """Credit/debit card."""
    return [PaymentMethod(key="card", label="Credit/debit card", schema=CardDetails,
                          reference_field="auth_code", order=30)]
