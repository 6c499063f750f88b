"""Outstanding Zero Splits: zero-fee charges never reach zero; the clerk marks the primary paid."""

from __future__ import annotations

import pytest

from claimdesk.core import db
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import AuditEvent, Charge, ChargeSplit, Claim, Encounter
from claimdesk.core.services import zero_splits
from claimdesk.core.services.verify import verify

from tests import builders as b


def _world():
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    ann, bob = b.patient("Ames", "Ann"), b.patient("Bell", "Bob")
    with_secondary, (z1, paid) = b.encounter(ann, [0, 90_00], payers=[aetna, medicare], codes=["G8427", "99213"])
    only_primary, (z2,) = b.encounter(bob, [0], payers=[aetna], codes=["G8427"])
    b.encounter(bob, [0], payers=[], codes=["G8427"])  # self-pay: no insurer waits on it
    hidden, (z3,) = b.encounter(bob, [0], payers=[aetna], codes=["G8427"])
    with db.write_transaction():
        Encounter.update(billable=False, tags="Non-Billable").where(Encounter.id == hidden.id).execute()
    return {"secondary": (with_secondary, z1), "primary_only": (only_primary, z2), "non_billable": z3,
            "medicare": medicare}


def test_zero_fee_charges_wait_in_the_list_until_the_primary_is_marked_paid(database):
    w = _world()
    enc, z1 = w["secondary"]
    enc2, z2 = w["primary_only"]
    rows = zero_splits.outstanding()
    assert [(r["charge_id"], r["primary"], r["secondary"]) for r in rows] == [
        (z1.id, "Aetna", "Medicare"), (z2.id, "Aetna", None)]
    assert rows[0]["patient"] == "Ames, Ann" and rows[0]["code"] == "G8427"

    res = zero_splits.mark_primary_paid([z1.id, z2.id])
    assert res["marked"] == [z1.id, z2.id]
    assert res["no_secondary"] == [z2.id]
    (queued,) = res["queued_claims"]
    claim = Claim.get_by_id(queued["claim_id"])
    assert (claim.encounter_id, claim.payer.name, claim.rank, claim.status) == (
        enc.id, "Medicare", "secondary", "queued")
    assert Charge.get_by_id(z1.id).primary_marked_paid
    assert ChargeSplit.get((ChargeSplit.charge == z1.id) & (ChargeSplit.rank == "secondary")).balance == 0
    assert not Claim.select().where(Claim.encounter == enc2.id).exists()
    assert zero_splits.outstanding() == []
    ev = AuditEvent.get_by_id(res["audit_id"])
    assert (ev.action, ev.user, ev.inputs) == ("zero_splits.mark_primary_paid", "tester",
                                               {"charge_ids": [z1.id, z2.id]})
    assert verify() == []


def test_marking_a_charge_not_on_the_list_writes_nothing(database):
    w = _world()
    _, z1 = w["secondary"]
    with pytest.raises(Refused) as err:
        zero_splits.mark_primary_paid([z1.id, w["non_billable"].id])
    assert err.value.field == "charge_ids.1"
    assert not Charge.get_by_id(z1.id).primary_marked_paid
    assert not Claim.select().exists()
    zero_splits.mark_primary_paid([z1.id])
    with pytest.raises(Refused, match="not on the Outstanding Zero Splits list"):
        zero_splits.mark_primary_paid([z1.id])
    assert Claim.select().count() == 1


def test_marking_needs_at_least_one_valid_charge_id(database):
    with pytest.raises(InputError) as err:
        zero_splits.mark_primary_paid([])
    assert err.value.field == "charge_ids"
    with pytest.raises(InputError) as err:
        zero_splits.mark_primary_paid(["x1"])
    assert err.value.field.startswith("charge_ids")


def test_cli_lists_and_marks_zero_splits(cli):
    import json

    run = cli
    w = _world()
    _, z1 = w["secondary"]
    _, z2 = w["primary_only"]
    code, out, _ = run("claims", "zero-splits")
    assert code == 0 and "Ames, Ann" in out and "Medicare" in out
    found = json.loads(run("claims", "zero-splits", "--search", "bell", "--json")[1])
    assert [r["charge_id"] for r in found] == [z2.id]
    code, out, _ = run("claims", "mark-zero-paid", str(z1.id), str(z2.id), "--json")
    assert code == 0
    res = json.loads(out)
    assert res["marked"] == [z1.id, z2.id] and res["no_secondary"] == [z2.id]
    assert json.loads(run("claims", "zero-splits", "--json")[1]) == []
    code, _, err = run("claims", "mark-zero-paid", str(z1.id))
    assert code == 4 and "charge_ids.0" in err


def test_the_list_is_searched_and_paged_in_sql_and_tags_of_marked_charges_drop(database):
    w = _world()
    _, z1 = w["secondary"]
    _, z2 = w["primary_only"]
    page = zero_splits.outstanding_page("", limit=1, tagged=[z1.id, z2.id])
    assert ([r["charge_id"] for r in page["rows"]], page["found"], page["total"]) == ([z1.id], 2, 2)
    assert page["tagged"] == sorted([z1.id, z2.id])
    # every word must match some column: patient, payer, code, date, charge or encounter number
    assert [r["charge_id"] for r in zero_splits.outstanding_page("medicare ames")["rows"]] == [z1.id]
    assert [r["charge_id"] for r in zero_splits.outstanding_page("bell,")["rows"]] == [z2.id]
    assert [r["charge_id"] for r in zero_splits.outstanding_page(f"#{z2.id}")["rows"]] == [z2.id]
    assert zero_splits.outstanding_page("g8427 nobody")["found"] == 0
    assert zero_splits.outstanding_page("100%")["found"] == 0  # a typed % is matched as itself
    zero_splits.mark_primary_paid([z1.id])
    after = zero_splits.outstanding_page("", tagged=[z1.id, z2.id])
    assert (after["total"], after["tagged"]) == (1, [z2.id])
