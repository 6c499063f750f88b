"""Payment plans (issue 20): a plan for a patient's balance, two instalments paid and one
missed (the patient's encounters go on the Patient balance queue), statements showing the
plan's due amount, payments applied to the plan's charges oldest first, cancelling back to
normal statements; ``verify`` clean after each step, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import clock
from claimdesk.core.errors import InputError, Refused
from claimdesk.core.models import Encounter, WorkQueue
from claimdesk.core.services import balances, plans, statement_render, statements
from claimdesk.core.services.verify import verify

from tests import builders as b


def _at(day: str):
    return clock.frozen(dt.datetime.fromisoformat(day + " 10:00"))


def _patient_owing():
    """A patient owing 400.00 on two charges (150.00 of 2026-01-02, 250.00 of 2026-01-03)."""
    pat = b.patient(last="Planned")
    with _at("2026-01-02"):
        enc1, (c1,) = b.encounter(pat, [150_00], dos=dt.date(2026, 1, 2))
    with _at("2026-01-03"):
        enc2, (c2,) = b.encounter(pat, [250_00], dos=dt.date(2026, 1, 3))
    return pat, (enc1, c1), (enc2, c2)


def _pay(plan_id: int, amount: str) -> dict:
    vid = b.voucher(None, int(amount.replace(".", "")))
    return plans.pay({"plan_id": plan_id, "voucher_id": vid, "amount": amount})


def _statement_due(pat) -> int:
    return statements.generate_for(pat.id)["amount_due"]


def test_a_plan_with_two_paid_and_one_missed_instalment(database):
    pat, (enc1, c1), (enc2, c2) = _patient_owing()
    with _at("2026-01-05"):
        plan = plans.create({"patient_id": pat.id, "amount": "100.00", "frequency": "monthly",
                             "start_on": "2026-01-05"})
        assert (plan["balance"], plan["open"], plan["due_now"]) == (400_00, 400_00, 100_00)
        assert [(i["due_on"], i["amount"]) for i in plan["instalments"]] == [
            ("2026-01-05", 100_00), ("2026-02-05", 100_00), ("2026-03-05", 100_00), ("2026-04-05", 100_00)]
        assert _statement_due(pat) == 100_00  # the instalment due, not the whole 400.00
        assert verify() == []
        first = _pay(plan["plan_id"], "100.00")
    # payments apply to the plan's charges oldest first
    assert [(a["charge_id"], a["amount"]) for a in first["applied"]] == [(c1.id, 100_00)]
    with _at("2026-02-05"):
        second = _pay(plan["plan_id"], "100.00")
        assert [(a["charge_id"], a["amount"]) for a in second["applied"]] == [(c1.id, 50_00), (c2.id, 50_00)]
        assert verify() == []
    with _at("2026-03-10"):
        s = plans.show(plan["plan_id"])
        assert [i["status"] for i in s["instalments"]] == ["paid", "paid", "missed", "upcoming"]
        assert (s["paid"], s["open"], s["due_now"], s["missed"]) == (200_00, 200_00, 100_00, [3])
        res = plans.check()
        assert [(m["plan_id"], m["missed"], m["due_now"]) for m in res["missed"]] == [(plan["plan_id"], [3], 100_00)]
        queue = WorkQueue.get(WorkQueue.key == "patient_balance")
        # the first charge is paid off: only the encounter that still owes goes on the queue
        assert res["missed"][0]["encounters"] == [enc2.id]
        enc = Encounter.get_by_id(enc2.id)
        assert enc.queue_id == queue.id and plans.MISSED_TAG in enc.tags
        assert plans.check()["missed"] == []  # once, until caught up
        due = _statement_due(pat)
        assert due == 100_00
        stmt = statements.active_statement(pat.id)
        view = statement_render.view(stmt.id)
        assert sum(cents for _label, cents in view.figures()) == view.amount_due == 100_00
        assert "not yet due" in statement_render.render_text(stmt.id)
        assert balances.patient_balance(pat.id).patient_due == 200_00
        assert verify() == []


def test_a_plan_caught_up_then_paid_off_is_completed(database):
    pat, _one, (enc2, _c2) = _patient_owing()
    with _at("2026-01-05"):
        plan = plans.create({"patient_id": pat.id, "amount": "100.00", "frequency": "weekly",
                             "start_on": "2026-01-05"})
    with _at("2026-01-13"):
        assert plans.check()["missed"][0]["missed"] == [1, 2]
        assert plans.MISSED_TAG in Encounter.get_by_id(enc2.id).tags
        _pay(plan["plan_id"], "200.00")
        assert plans.check()["caught_up"] == [plan["plan_id"]]
        assert plans.MISSED_TAG not in Encounter.get_by_id(enc2.id).tags
        _pay(plan["plan_id"], "200.00")
        assert plans.check()["completed"] == [plan["plan_id"]]
        assert plans.show(plan["plan_id"])["status"] == "completed"
        assert verify() == []


def test_cancelling_a_plan_returns_the_account_to_normal_statements(database):
    pat, _one, _two = _patient_owing()
    with _at("2026-01-05"):
        plan = plans.create({"patient_id": pat.id, "amount": "50.00", "frequency": "biweekly"})
        assert _statement_due(pat) == 50_00
        with pytest.raises(Refused) as exc:
            plans.create({"patient_id": pat.id, "amount": "50.00", "frequency": "monthly"})
        assert exc.value.field == "patient_id"
        res = plans.cancel({"plan_id": plan["plan_id"], "reason": "patient asked"})
        assert res["status"] == "cancelled"
        assert _statement_due(pat) == 400_00
        with pytest.raises(Refused) as exc:
            _pay(plan["plan_id"], "10.00")
        assert exc.value.field == "plan_id"
        assert verify() == []


def test_bad_plan_input_is_refused_naming_the_field(database):
    pat, _one, _two = _patient_owing()
    with pytest.raises(InputError) as exc:
        plans.create({"patient_id": pat.id, "amount": "-5", "frequency": "monthly"})
    assert exc.value.field == "amount"
    with pytest.raises(InputError) as exc:
        plans.create({"patient_id": pat.id, "amount": "50.00", "frequency": "daily"})
    assert exc.value.field == "frequency"
    with pytest.raises(Refused) as exc:
        plans.create({"patient_id": pat.id, "amount": "400.00", "frequency": "monthly"})
    assert exc.value.field == "amount" and "no plan needed" in exc.value.message
    nobody = b.patient(last="Owesnothing")
    with pytest.raises(Refused) as exc:
        plans.create({"patient_id": nobody.id, "amount": "10.00", "frequency": "monthly"})
    assert exc.value.field == "patient_id"
    assert plans.list_plans() == []
    assert verify() == []


def test_cli_plan_add_pay_show_check_cancel(cli):
    pat, _one, _two = _patient_owing()
    with _at("2026-01-05"):
        plan = cli.json("plan", "add", "--patient", str(pat.id), "--amount", "100.00", "--frequency", "monthly",
                        "--start", "2026-01-05")
        assert (plan["balance"], plan["due_now"]) == ("400.00", "100.00")
        vid = b.voucher(None, 100_00)
        paid = cli.json("plan", "pay", str(plan["plan_id"]), "--voucher", str(vid))
        assert paid["applied_total"] == "100.00" and paid["plan"]["paid"] == "100.00"
    with _at("2026-03-10"):
        text = cli.ok("plan", "show", str(plan["plan_id"]))
        assert "missed" in text and "due now 200.00" in text
        res = cli.json("plan", "check")
        assert res["missed"][0]["missed"] == [2, 3]
        code, _out, err = cli("plan", "add", "--patient", str(pat.id), "--amount", "x", "--frequency", "monthly")
        assert code == 2 and "amount:" in err
        assert cli.json("plan", "cancel", str(plan["plan_id"]), "--reason", "moved away")["status"] == "cancelled"
        assert [p["status"] for p in cli.json("plan", "list")["plans"]] == ["cancelled"]
        code, out, err = cli("verify")
        assert code == 0, out + err
