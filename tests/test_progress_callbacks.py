"""The optional ``progress(done, total)`` callback of the long workflows (statement run, claim
batch, aging recalc): it counts up to the total, leaves the result alone, and an exception
raised from it (how the app cancels) rolls the whole workflow back: nothing is written."""

from __future__ import annotations

import datetime as dt

import pytest

from claimdesk.core import clock, db
from claimdesk.core.config import StatementRules
from claimdesk.core.models import AgingRow, AuditEvent, Claim, ClaimBatch, Patient, Statement, StatementLine
from claimdesk.core.services import aging, claims, statements

from tests import builders as b

DAY = dt.date(2026, 5, 1)
RULES = StatementRules(minimum_balance_cents=10_00, minimum_interval_days=30, final_notice_after=3,
                       dunning=((0, "Thanks for your visit."),), final_notice_message="FINAL NOTICE.")


class Stop(Exception):
    """What a front end raises from the callback to cancel."""


def recorder(stop_at: int | None = None):
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if stop_at is not None and done >= stop_at:
            raise Stop

    return calls, progress


def assert_counts_up(calls: list[tuple[int, int]], total: int) -> None:
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(t == total for _d, t in calls)
    done = [d for d, _t in calls]
    assert done == sorted(set(done)), "done only goes up"


def self_pay_patients():
    """Four patients who owe their visit themselves; the last owes 5.00 (under the minimum)."""
    with clock.frozen(dt.date(2026, 3, 2)):
        for i, fee in enumerate([75_25, 40_00, 120_00, 5_00]):
            b.encounter(b.patient(f"Self{i}", "Pay"), [fee])


def run_events(action: str) -> int:
    return AuditEvent.select().where(AuditEvent.action == action).count()


def test_statement_run_reports_each_patient_and_the_same_result(database):
    self_pay_patients()
    calls, progress = recorder()
    with clock.frozen(DAY):
        res = statements.generate_all(rules=RULES, progress=progress)
    assert_counts_up(calls, 4)
    assert calls == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert res["statements"] == 3 and res["amount_due"] == 235_25
    assert [s["reason"][:10] for s in res["skipped"]] == ["amount due"]
    assert Statement.select().count() == 3 and run_events("statements.run") == 1
    with clock.frozen(DAY):  # without a callback: the same run (all are now too recent)
        again = statements.generate_all(rules=RULES)
    assert again["statements"] == 0 and len(again["skipped"]) == 4


def test_a_cancelled_statement_run_writes_nothing(database):
    self_pay_patients()
    before = {p.id: p.unpaid_statements for p in Patient.select()}
    calls, progress = recorder(stop_at=2)
    with clock.frozen(DAY), pytest.raises(Stop):
        statements.generate_all(rules=RULES, progress=progress)
    assert calls == [(0, 4), (1, 4), (2, 4)]
    assert Statement.select().count() == 0 and StatementLine.select().count() == 0
    assert run_events("statements.run") == 0
    assert {p.id: p.unpaid_statements for p in Patient.select()} == before
    with clock.frozen(DAY):  # and the run then goes through in full
        assert statements.generate_all(rules=RULES)["statements"] == 3


def test_statement_run_with_nobody_due_ends_at_zero_of_zero(database):
    calls, progress = recorder()
    with clock.frozen(DAY):
        res = statements.generate_all(rules=RULES, progress=progress)
    assert calls == [(0, 0)] and res["statements"] == 0


def queued_claims(n_aetna: int, n_medicare: int):
    aetna, medicare = b.payer("Aetna"), b.payer("Medicare", "medicare")
    with clock.frozen(dt.date(2026, 3, 2)):
        encs = [(b.encounter(b.patient(f"P{i}"), [10_00 + i], payers=[payer])[0], payer)
                for i, payer in enumerate([aetna] * n_aetna + [medicare] * n_medicare)]
    with db.write_transaction():
        for enc, payer in encs:
            claims.queue(enc, payer, "primary")


def test_claim_batch_reports_each_claim_and_the_same_result(database, tmp_path):
    queued_claims(3, 2)
    calls, progress = recorder()
    with clock.frozen(DAY):
        res = claims.build_batch(out_dir=tmp_path / "out", progress=progress)
    assert_counts_up(calls, 5)
    assert len(calls) == 6
    assert res["claims_sent"] == 5 and [(bt["payer"], bt["claims"]) for bt in res["batches"]] == [
        ("Aetna", 3), ("Medicare", 2)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"claims-batch-{bt['batch_id']:06d}.{ext}" for bt in res["batches"] for ext in ("csv", "json")]
    assert claims.queued().count() == 0


def test_a_cancelled_claim_batch_writes_nothing_not_even_a_file(database, tmp_path):
    queued_claims(3, 2)
    calls, progress = recorder(stop_at=4)  # in the second payer's batch: the first one's is built
    with clock.frozen(DAY), pytest.raises(Stop):
        claims.build_batch(out_dir=tmp_path / "out", progress=progress)
    assert calls[-1] == (4, 5)
    assert ClaimBatch.select().count() == 0 and run_events("claims.batch") == 0
    assert claims.queued().count() == 5 and not Claim.select().where(Claim.status == "sent").exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_aging_recalc_reports_one_step_and_cancels_to_nothing(database):
    self_pay_patients()
    calls, progress = recorder()
    with clock.frozen(DAY):
        res = aging.recalc(DAY, progress=progress)
    assert calls == [(0, 1), (1, 1)] and res["rows"] == 4 and res["totals"]["total"] == 240_25
    calls, progress = recorder(stop_at=1)
    with clock.frozen(DAY), pytest.raises(Stop):
        aging.recalc(DAY + dt.timedelta(days=1), progress=progress)
    assert calls == [(0, 1), (1, 1)]
    assert not AgingRow.select().where(AgingRow.as_of == DAY + dt.timedelta(days=1)).exists()
    assert AgingRow.select().where(AgingRow.as_of == DAY).count() == 4  # the earlier snapshot stays
    assert run_events("aging.recalc") == 1
