"""Refund method: an EFT/ACH transfer back to a payer (or a patient's bank account)."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.api import RefundMethod, Text, hookimpl

CLAIMDESK_API = "1.4"


class RefundEftDetails(Schema):
    """The trace number of the transfer the bank gives."""

    trace_number = Text(required=True, min_length=1, max_length=50)


@hookimpl
def claimdesk_refund_methods():
    """EFT/ACH."""
    return [RefundMethod(key="eft", label="EFT/ACH", schema=RefundEftDetails, reference_field="trace_number",
                         order=40)]
