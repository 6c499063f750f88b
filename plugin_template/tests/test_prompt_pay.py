"""Tests for the prompt-pay plugin, using the fixtures claimdesk ships for plugin authors."""

from __future__ import annotations

import pytest

from claimdesk.core.errors import InputError
from claimdesk.core.models import AuditEvent
from claimdesk.core.services import actions, balances


def test_offered_applied_and_audited(claimdesk_db, host):
    enc = claimdesk_db.encounter(fees=["120.00", "80.00"])
    assert "prompt_pay_discount" in [o["key"] for o in actions.assess(enc.id)["offers"]]
    result = actions.apply(enc.id, "prompt_pay_discount", {"percent": "10", "confirm": True})
    assert result["report"]["discount"] == 20_00
    assert balances.encounter_balance(enc.id) == 180_00
    event = AuditEvent.get_by_id(result["audit_id"])
    assert event.action == "action.prompt_pay_discount" and event.entries


def test_not_offered_while_insurance_owes(claimdesk_db, host):
    enc = claimdesk_db.encounter(fees=["120.00"], payers=[claimdesk_db.payer("Aetna")])
    assert "prompt_pay_discount" not in [o["key"] for o in actions.assess(enc.id)["offers"]]


def test_discount_over_policy_is_refused(claimdesk_db, host):
    enc = claimdesk_db.encounter(fees=["100.00"])
    with pytest.raises(InputError) as err:
        actions.apply(enc.id, "prompt_pay_discount", {"percent": "25", "confirm": True})
    assert err.value.field == "percent"
    assert balances.encounter_balance(enc.id) == 100_00
