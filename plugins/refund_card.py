"""Refund method: a card reversal (money back onto the card the patient paid with)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.api import RefundMethod, Text, hookimpl

CLAIMDESK_API = "1.4"


class CardReversalDetails(Schema):
    """Never the full card number: the last four digits and the processor's authorization."""

    last4 = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{4}\Z", error="must be 4 digits"))
    auth_code = Text(required=True, min_length=1, max_length=20)


@hookimpl
def claimdesk_refund_methods():
    """Card reversal (patients only: payers are not paid back on a card)."""
    return [RefundMethod(key="card", label="Card reversal", schema=CardReversalDetails,
                         reference_field="auth_code", payees=("patient",), order=30)]
