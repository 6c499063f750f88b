"""How an action's report reads on the result screen: ids as record numbers, amounts (typed
``Cents``) as money whatever their key, counts as counts, field names as words (no database needed)."""

from __future__ import annotations

import pytest

from claimdesk.core.money import Cents
from claimdesk.tui.screens.action_result import label, shown


@pytest.mark.parametrize("key, value, text", [
    ("removed_encounter", 2, "#2"),  # an encounter number, not 0.02
    ("new_encounter", 1429, "#1429"),
    ("voided_statement_id", 7, "#7"),
    ("charges", [279, 280], "#279, #280"),  # charge numbers, not a count
    ("claims_voided", 2, "2"),  # a count
    ("eobs_moved_to_inactive", 3, "3"),  # a count, although "moved"
    ("balance_moved", Cents(1250), "12.50"),
    ("billed_to_patient", Cents(15000), "150.00"),
    ("written_off", Cents(2200), "22.00"),
    ("discount", Cents(2000), "20.00"),  # a clinic plugin's word: money by its type, not its name
    ("balance_due_now", Cents(18000), "180.00"),
    ("promoted_balance", 0, "0"),  # a plain number stays a number
    ("lines", [{"charge_id": 20, "rank": "primary", "amount": Cents(2200)}], "charge #20 primary 22.00"),
    ("charges", [{"from_charge": 1, "to_charge": 5, "amount": Cents(100)}], "from charge #1 to charge #5 1.00"),
    ("after", {"member_id": "X9", "group_no": "G1", "effective_to": None},
     "member id X9, group no G1, effective to —"),
    ("changed", ["group_no", "member_id"], "group no, member id"),
    ("claim_queued", True, "yes"),
    ("tertiary_kept", None, "—"),
])
def test_report_values_read_as_a_clerk_expects(key, value, text):
    assert shown(key, value) == text


def test_labels_drop_the_id_of_a_record_number_only():
    assert label("voided_statement_id", 7) == "voided statement"
    assert label("member_id", "X9") == "member id"
    assert label("removed_encounter", 2) == "removed encounter"
