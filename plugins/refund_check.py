"""Refund method: a refund check the clinic writes (to a patient or a payer)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import RefundMethod, Text, hookimpl

CLAIMDESK_API = "1.4"


class RefundCheckDetails(Schema):
    """The number of the check the clinic writes; the payee line as printed, when it differs."""

    check_number = Text(required=True, min_length=1, max_length=30)
    pay_to = Text(max_length=80, load_default="")


@hookimpl
def claimdesk_refund_methods():
    """Refund check."""
    return [RefundMethod(key="check", label="Refund check", schema=RefundCheckDetails,
                         reference_field="check_number", order=20)]
