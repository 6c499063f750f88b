"""Returned-check fee policy: no fee."""

from __future__ import annotations

from claimdesk.api import FeePolicy, hookimpl

CLAIMDESK_API = "1.0"


@hookimpl
def claimdesk_fee_policies():
    """No fee is charged for a returned check."""
    return [FeePolicy(key="none", label="No fee", fee_cents=lambda returned, data: 0, order=10)]
