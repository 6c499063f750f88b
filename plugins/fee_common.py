"""What every fee-charging policy asks for: the service code and the provider of the fee charge."""

from __future__ import annotations

from marshmallow import Schema

from claimdesk.core.validation import Id, Text


class FeeChargeFields(Schema):
    """The fee becomes a charge: under which service code, for which provider (e.g. "Office")."""

    # the form starts with the usual returned-check fee code (the demo clinic's, SOS's habit)
    service_code = Text(required=True, min_length=1, max_length=20,
                        metadata={"label": "Service code", "default": "RCFEE"})
    provider_id = Id(required=True, metadata={"label": "Provider"})
