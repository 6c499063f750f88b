"""Returned-check fee policy: a flat fee the clerk enters when returning the check."""

from __future__ import annotations

from claimdesk.api import FeeChargeFields, FeePolicy, Money, hookimpl

CLAIMDESK_API = "1.0"


class FlatFee(FeeChargeFields):
    """Service code, provider and the fee amount."""

    amount = Money(required=True, positive=True, maximum=1000_00)


@hookimpl
def claimdesk_fee_policies():
    """A flat fee."""
    return [FeePolicy(key="flat", label="Flat fee", fee_cents=lambda returned, data: data["amount"],
                      schema=FlatFee, order=20)]
