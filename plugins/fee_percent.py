"""Returned-check fee policy: a percentage of the returned amount, clamped to a minimum and maximum.

Many states cap returned-check fees (e.g. the greater of $25 or 5%, at most $40);
the clinic enters its own rule when returning the check. Rounds half up to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import fields, validate, validates_schema, ValidationError

from claimdesk.api import FeeChargeFields, FeePolicy, Money, hookimpl

CLAIMDESK_API = "1.0"


class PercentFee(FeeChargeFields):
    """Percent of the check, with a floor and a ceiling."""

    percent = fields.Decimal(required=True, places=None, allow_nan=False,
                             validate=validate.Range(min=Decimal("0.01"), max=Decimal("100")))
    minimum = Money(load_default=0)
    maximum = Money(load_default=None, allow_none=True)

    @validates_schema
    def _floor_below_ceiling(self, data, **kwargs):
        if data.get("maximum") is not None and data["maximum"] < data["minimum"]:
            raise ValidationError("must be at least the minimum", "maximum")


def fee_cents(returned_cents: int, data: dict) -> int:
    """percent of the returned amount, clamped to [minimum, maximum]."""
    fee = int((Decimal(returned_cents) * Decimal(data["percent"]) / 100).quantize(Decimal(1), ROUND_HALF_UP))
    fee = max(fee, data["minimum"])
    if data.get("maximum") is not None:
        fee = min(fee, data["maximum"])
    return fee


@hookimpl
def claimdesk_fee_policies():
    """Percent with minimum and maximum."""
    return [FeePolicy(key="percent", label="Percent of check (min/max)", fee_cents=fee_cents,
                      schema=PercentFee, order=30)]
