"""Tests for the prompt-pay plugin, with the fixtures claimdesk ships for plugin authors
(``claimdesk_db``: a fresh database and a clinic builder; ``claimdesk_host``: the plugins)."""

from __future__ import annotations

import pytest

from claimdesk.api import InputError


def test_offered_applied_and_audited(claimdesk_db, host):
    enc, _ = claimdesk_db.encounter(fees=["120.00", "80.00"])
    assert "prompt_pay_discount" in claimdesk_db.offers(enc)
    result = claimdesk_db.apply(enc, "prompt_pay_discount", {"percent": "10", "confirm": True})
    assert result["report"]["discount"] == 20_00
    assert claimdesk_db.encounter_balance(enc) == 180_00
    assert claimdesk_db.audit_action(result["audit_id"]) == "action.prompt_pay_discount"


def test_not_offered_while_insurance_owes(claimdesk_db, host):
    enc, _ = claimdesk_db.encounter(fees=["120.00"], payers=[claimdesk_db.payer("Aetna")])
    assert "prompt_pay_discount" not in claimdesk_db.offers(enc)


def test_whole_discount_after_the_primary_was_found_invalid(claimdesk_db, host):
    """The placeholder primary "Patient" owes the balance: it is the patient's, so the
    discount is offered and taken in full from it."""
    pat, enc, _ = claimdesk_db.denied([claimdesk_db.payer("Lapsed Plan")], fees=(150_00,))
    claimdesk_db.apply(enc, "primary_invalid", {"confirm": True})
    assert "prompt_pay_discount" in claimdesk_db.offers(enc)
    result = claimdesk_db.apply(enc, "prompt_pay_discount", {"percent": "20", "confirm": True})
    assert result["report"]["discount"] == 30_00
    assert claimdesk_db.encounter_balance(enc) == 120_00


def test_discount_over_policy_is_refused(claimdesk_db, host):
    enc, _ = claimdesk_db.encounter(fees=["100.00"])
    with pytest.raises(InputError) as err:
        claimdesk_db.apply(enc, "prompt_pay_discount", {"percent": "25", "confirm": True})
    assert err.value.field == "percent"
    assert claimdesk_db.encounter_balance(enc) == 100_00
