"""Patient statements: what the patient owes (never what an insurer still owes), the statement
rules, regeneration, and the text and PDF renderings; the demo clinic makes real ones."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from claimdesk.core import clock, demo
from claimdesk.core.config import StatementRules
from claimdesk.core.errors import NotFound, Refused
from claimdesk.core.models import (
    Encounter,
    Patient,
    Posting,
    Statement,
    StatementLine,
    WorkQueue,
)
from claimdesk.core.money import fmt
from claimdesk.core.services import (
    actions,
    aging,
    balances,
    claims,
    payments,
    statement_render,
    statements,
    zero_splits,
)
from claimdesk.core.services.verify import verify
from peewee import fn

from tests import builders as b

DAY = dt.date(2026, 5, 1)
RULES = StatementRules(minimum_balance_cents=10_00, minimum_interval_days=30, final_notice_after=3,
                       dunning=((0, "Thanks for your visit."), (31, "Past due."), (61, "Over 60 days.")),
                       final_notice_message="FINAL NOTICE.")


def _ann():
    """Ann owes 75.25 herself (self-pay), Aetna still owes 100.00, and a non-billable visit."""
    aetna = b.payer("Aetna")
    ann = b.patient("Ames", "Ann")
    b.encounter(ann, [75_25], dos=dt.date(2026, 3, 20), codes=["99212"])
    b.encounter(ann, [100_00], payers=[aetna], dos=dt.date(2026, 4, 2))
    hidden, _ = b.encounter(ann, [40_00], dos=dt.date(2026, 4, 3), codes=["99211"])
    actions.apply(hidden.id, "non_billable", {"confirm": True})
    return ann


def _lines(stmt_id, kind):
    return [(ln.description, ln.amount) for ln in StatementLine.select().where(
        (StatementLine.statement == stmt_id) & (StatementLine.kind == kind)).order_by(StatementLine.id)]


def test_statement_bills_only_the_patients_share_of_billable_visits(database):
    ann = _ann()
    with clock.frozen(DAY):
        res = statements.generate_for(ann.id, rules=RULES)
    assert res["amount_due"] == 75_25
    assert balances.patient_balance(ann.id).insurance_pending == 100_00  # pending: never billed
    assert _lines(res["statement_id"], "charge") == [("99212 99212", 75_25)]
    aging_lines = dict(_lines(res["statement_id"], "aging"))
    assert aging_lines["Aging 31-60"] == 75_25 and sum(aging_lines.values()) == 75_25
    assert res["message"] == "Past due."  # oldest balance is 42 days old
    assert Patient.get_by_id(ann.id).unpaid_statements == 1
    assert verify() == []


def test_a_balance_pending_with_an_insurer_is_never_billed(database):
    pat = b.patient()
    b.encounter(pat, [100_00], payers=[b.payer("Aetna")])
    with pytest.raises(Refused, match="never billed to the patient") as err:
        statements.generate_for(pat.id, rules=RULES)
    assert err.value.field == "patient_id"
    with pytest.raises(NotFound):
        statements.generate_for(99999, rules=RULES)
    assert statements.generate_all(rules=RULES)["statements"] == 0
    assert not Statement.select().exists()


def test_regenerating_voids_the_original_and_bills_current_balances(database):
    ann = _ann()
    with clock.frozen(DAY):
        first = statements.generate_for(ann.id, rules=RULES)
    with clock.frozen(DAY + dt.timedelta(days=3)):
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 25_25, method="cash")})
        res = statements.regenerate(ann.id, "patient paid at the desk", rules=RULES)
    old, new = Statement.get_by_id(first["statement_id"]), Statement.get_by_id(res["statement_id"])
    assert (old.status, old.void_reason) == ("void", "patient paid at the desk")
    assert (new.status, new.amount_due, new.message) == ("active", 50_00, "Past due.")
    assert _lines(new.id, "payment") == [("Payment received, thank you (cash)", -25_25)]
    assert statements.active_statement(ann.id).id == new.id
    # the payment reset the unpaid count and the regeneration did not raise it again
    assert (Patient.get_by_id(ann.id).unpaid_statements, res["unpaid_statements"]) == (0, 0)
    other = b.patient()
    with pytest.raises(Refused, match="no active statement"):
        statements.regenerate(other.id, "x")
    assert verify() == []


def test_statement_run_applies_minimum_interval_and_final_notice_rules(database):
    ann = _ann()
    small = b.patient("Cole", "Cy")
    b.encounter(small, [3_00], dos=dt.date(2026, 4, 20))
    with clock.frozen(DAY):
        run = statements.generate_all(rules=RULES)
    assert [g["patient_id"] for g in run["generated"]] == [ann.id]
    assert run["skipped"][0]["patient_id"] == small.id and "below the minimum 10.00" in run["skipped"][0]["reason"]

    with clock.frozen(DAY + dt.timedelta(days=10)):
        run = statements.generate_all(rules=RULES)
    assert run["generated"] == [] and "less than 30 days" in run["skipped"][0]["reason"]

    with clock.frozen(DAY + dt.timedelta(days=30)):
        second = statements.generate_all(rules=RULES)["generated"][0]
    assert (second["final_notice"], second["message"], second["unpaid_statements"]) == (False, "Over 60 days.", 2)
    with clock.frozen(DAY + dt.timedelta(days=60)):
        third = statements.generate_all(rules=RULES)["generated"][0]
    assert (third["final_notice"], third["message"], third["unpaid_statements"]) == (True, "FINAL NOTICE.", 3)
    queue = WorkQueue.get(WorkQueue.key == "patient_balance")
    assert Encounter.select().where((Encounter.patient == ann.id) & (Encounter.queue == queue.id)).count() == 1
    with clock.frozen(DAY + dt.timedelta(days=90)):
        run = statements.generate_all(rules=RULES)
    assert run["generated"] == [] and "final notice already sent" in run["skipped"][0]["reason"]

    # a payment resets the count: the next statement is an ordinary one again
    with clock.frozen(DAY + dt.timedelta(days=95)):
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 20_00, method="cash")})
    with clock.frozen(DAY + dt.timedelta(days=120)):
        nxt = statements.generate_all(rules=RULES)["generated"][0]
    assert (nxt["final_notice"], nxt["unpaid_statements"], nxt["amount_due"]) == (False, 1, 55_25)
    assert Statement.select().where(Statement.patient == ann.id, Statement.status == "active").count() == 1
    assert verify() == []


def test_a_payment_after_the_final_notice_resets_the_count_even_when_a_statement_is_regenerated(database):
    ann = b.patient("Ames", "Ann")
    b.encounter(ann, [75_25], dos=dt.date(2026, 3, 20), codes=["99212"])
    for days in (0, 30, 60):
        with clock.frozen(DAY + dt.timedelta(days=days)):
            (issued,) = statements.generate_all(rules=RULES)["generated"]
    assert (issued["final_notice"], issued["message"], issued["unpaid_statements"]) == (True, "FINAL NOTICE.", 3)
    with clock.frozen(DAY + dt.timedelta(days=70)):  # no payment yet: a regeneration stays a final notice
        kept = statements.regenerate(ann.id, "address corrected", rules=RULES)
    assert (kept["final_notice"], kept["message"], kept["amount_due"]) == (True, "FINAL NOTICE.", 75_25)

    with clock.frozen(DAY + dt.timedelta(days=95)):
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 20_00, method="cash")})
    with clock.frozen(DAY + dt.timedelta(days=96)):
        regen = statements.regenerate(ann.id, "cash payment posted", rules=RULES)
    assert (regen["final_notice"], regen["message"], regen["amount_due"]) == (False, "Over 60 days.", 55_25)
    assert "FINAL NOTICE" not in statement_render.render_text(regen["statement_id"])
    with clock.frozen(DAY + dt.timedelta(days=130)):
        run = statements.generate_all(rules=RULES)

    (nxt,) = run["generated"]
    assert (nxt["patient_id"], nxt["final_notice"], nxt["message"], nxt["unpaid_statements"], nxt["amount_due"]) \
        == (ann.id, False, "Over 60 days.", 1, 55_25)
    assert run["skipped"] == []
    assert verify() == []


def test_the_regenerate_action_works_out_the_notice_level_again(database):
    ann = b.patient("Ames", "Ann")
    enc, _ = b.encounter(ann, [75_25], dos=dt.date(2026, 3, 20))
    with clock.frozen(DAY):
        first = statements.generate_for(ann.id, rules=dataclasses.replace(RULES, final_notice_after=1))
    assert first["final_notice"]
    with clock.frozen(DAY + dt.timedelta(days=5)):
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 25_25, method="cash")})
        res = actions.apply(enc.id, "regenerate_statement", {"confirm": True, "reason": "payment posted"})
    new = Statement.get_by_id(res["report"]["statement_id"])
    assert (new.final_notice, new.amount_due, res["statements_voided"]) == (False, 50_00, [first["statement_id"]])
    assert "FINAL NOTICE" not in statement_render.render_text(new.id)


def test_rules_come_from_the_config_file(database, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[statements]\nminimum_balance_cents = 100000\n'
                   '[[statements.dunning]]\nmin_age_days = 0\nmessage = "Hello from config"\n')
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))
    ann = _ann()
    with clock.frozen(DAY):
        run = statements.generate_all()
        assert "below the minimum 1,000.00" in run["skipped"][0]["reason"]
        assert statements.generate_for(ann.id)["message"] == "Hello from config"


def test_render_text_and_pdf(database, tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[clinic]\nname = "Riverbend Family Medicine"\naddress = "1200 Riverbend Parkway"\n'
                   'city = "Riverbend"\nstate = "OR"\nzip = "974021234"\nphone = "(541) 555-0100"\n'
                   '[statements]\npayment_due_days = 21\n')
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))
    ann = _ann()
    with clock.frozen(DAY):
        first = statements.generate_for(ann.id, rules=dataclasses.replace(RULES, final_notice_after=1))
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 5_00, method="cash")})
        sid = statements.regenerate(ann.id, "payment")["statement_id"]
    first_text = statement_render.render_text(first["statement_id"])
    assert "FINAL NOTICE" in first_text and "VOID" in first_text
    text = statement_render.render_text(sid)
    lines = text.splitlines()
    assert lines[:4] == ["Riverbend Family Medicine", "1200 Riverbend Parkway", "Riverbend, OR 97402-1234",
                         "(541) 555-0100"]
    assert "FINAL NOTICE" not in text  # the patient paid after the final notice: an ordinary statement again
    assert "Ann Ames" in text and ann.account_no in text
    assert "Please pay by 2026-05-22" in text  # the statement date + [statements] payment_due_days
    # the visit: billed, insurance, adjusted, your portion; then what was paid and what is due
    visit = lines.index("2026-03-20  Dr. Rivera")
    assert lines[visit + 1].split() == ["99212", "99212", "75.25", "0.00", "0.00", "75.25"]
    assert "Your portion of these visits" in lines[visit + 3] and lines[visit + 3].endswith("75.25")
    assert lines[visit + 4] == "Your payments on these visits"
    assert "Payment received, thank you (cash)" in lines[visit + 5] and lines[visit + 5].endswith("-5.00")
    assert [ln for ln in lines if ln.startswith("AMOUNT DUE")] == [
        statement_render._row("AMOUNT DUE by 2026-05-22", "70.25")]
    assert "100.00" not in text  # Aetna's pending balance is not on the bill
    coupon = lines[lines.index(next(ln for ln in lines if "Please detach and return" in ln)):]
    assert coupon[1].startswith("Remit to:") and "Account         " + ann.account_no in coupon[1]
    assert coupon[2].startswith("Riverbend Family Medicine") and coupon[4].startswith("Riverbend, OR 97402-1234")
    assert any(ln.endswith("Amount due      70.25") for ln in coupon)
    assert any("Amount enclosed" in ln for ln in coupon)

    pdf = statement_render.render_pdf(sid, tmp_path / "out" / "statement.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    for shown in ("Riverbend Family Medicine", "1200 Riverbend Parkway", "Riverbend, OR 97402-1234",
                  "(541) 555-0100", "Please pay by", "2026-05-22", "Amount enclosed", ("Make checks payable and "
                  "mail to:"), ann.account_no, "70.25", "75.25", "Your portion of these visits", "Ann Ames"):
        literal = shown.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")  # a PDF string
        assert f"({literal})".encode() in data, shown
    with pytest.raises(NotFound):
        statement_render.render_text(424242)


def test_a_printed_statement_shows_a_name_beyond_latin_1_without_its_accents(database, tmp_path):
    """The PDF's font has Latin-1 letters only: "Nguyễn" prints as Nguyen (not "Nguy?n"), the
    Latin-1 "Ánh" as it is."""
    pat = b.patient("Nguyễn", "Ánh")
    b.encounter(pat, [75_25], dos=dt.date(2026, 3, 20), codes=["99212"])
    with clock.frozen(DAY):
        sid = statements.generate_for(pat.id, rules=RULES)["statement_id"]
    assert "Ánh Nguyễn" in statement_render.render_text(sid)  # (the text keeps every letter)
    data = statement_render.render_pdf(sid, tmp_path / "s.pdf").read_bytes()
    assert "(Ánh Nguyen".encode("latin-1") in data and b"Nguy?n" not in data


def test_payment_due_days_comes_from_the_statements_section(tmp_path, monkeypatch):
    from claimdesk.core import config

    cfg = tmp_path / "config.toml"
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))
    cfg.write_text("[statements]\nminimum_balance_cents = 100\n")
    assert config.load().statements.payment_due_days == 30
    cfg.write_text("[statements]\npayment_due_days = 14\n")
    assert config.load().statements.payment_due_days == 14
    cfg.write_text("[statements]\npayment_due_days = -1\n")
    with pytest.raises(config.ConfigError, match=r"\[statements\] payment_due_days: must be at least 0"):
        config.load()


def test_a_credit_on_account_is_shown_and_the_figures_add_up(database):
    """Nine dollars owed and 25.00 paid ahead: the statement shows the credit, owes nothing, and the
    run does not send it (no statement with nothing due)."""
    pat = b.patient("Lane", "Lou")
    b.encounter(pat, [9_00], dos=dt.date(2026, 4, 20), codes=["NOSHOW"])
    with clock.frozen(dt.date(2026, 4, 21)):
        payments.post_credit({"patient_id": pat.id, "voucher_id": b.voucher(None, 25_00, method="cash"),
                              "apply": "none"})
    with clock.frozen(DAY):
        run = statements.generate_all(rules=RULES)
        assert run["statements"] == 0
        assert run["skipped"] == [{"patient_id": pat.id, "account_no": pat.account_no, "reason":
                                   "amount due 0.00 is below the minimum 10.00 (after 9.00 of credit on account)"}]
        made = statements.generate_for(pat.id, rules=RULES)  # the clerk asked for it anyway
    v = statement_render.view(made["statement_id"])
    assert v.amount_due == made["amount_due"] == 0
    assert v.figures() == [("Your portion of these visits", 9_00),
                           ("Credit on account (25.00: 16.00 stays on your account)", -9_00)]
    text = statement_render.render_text(made["statement_id"])
    assert "Credit on account (25.00: 16.00 stays on your account)" in text
    assert "0-30: 0.00" in text and "Account aging (after your credit on account)" in text


def test_insurance_and_adjustments_per_visit_and_the_balance_forward(database):
    """Aetna pays 60.00 of 100.00, writes off 20.00 (CO-45) and leaves 20.00 coinsurance (PR-2) to Ann;
    the next month she has paid 15.00 and a 30.00 self-pay visit is new: the balance forward, her
    payments since and the new charges sum to what she owes."""
    from claimdesk.core.services import eobs

    aetna = b.payer("Aetna")
    ann = b.patient("Ames", "Ann")
    with clock.frozen(dt.date(2026, 3, 20)):
        enc, (ch,) = b.encounter(ann, [100_00], payers=[aetna], dos=dt.date(2026, 3, 20), codes=["99213"])
        eobs.post_eob({"encounter_id": enc.id, "payer_id": aetna.id, "voucher_id": b.voucher(aetna, 60_00),
                       "lines": [{"charge_id": ch.id, "paid": "60.00", "adjustments": [
                           {"group_code": "CO", "reason_code": "45", "amount": "20.00"},
                           {"group_code": "PR", "reason_code": "2", "amount": "20.00"}]}]})
    with clock.frozen(DAY):
        first = statements.generate_all(rules=RULES)["generated"][0]
    v = statement_render.view(first["statement_id"])
    assert v.summary == []  # her first statement: nothing to carry forward
    (visit,) = v.visits
    (row,) = visit.services
    assert (visit.dos, visit.provider) == (dt.date(2026, 3, 20), "Dr. Rivera")
    assert (row.billed, row.insurance, row.adjusted, row.pending, row.portion) == (100_00, -60_00, -20_00, 0, 20_00)
    assert first["amount_due"] == 20_00

    with clock.frozen(DAY + dt.timedelta(days=10)):
        payments.post_credit({"patient_id": ann.id, "voucher_id": b.voucher(None, 15_00, method="cash")})
        b.encounter(ann, [30_00], dos=DAY + dt.timedelta(days=10), codes=["99212"])
    with clock.frozen(DAY + dt.timedelta(days=31)):
        second = statements.generate_all(rules=RULES)["generated"][0]
    v = statement_render.view(second["statement_id"])
    assert v.summary == [(f"Balance forward: statement #{first['statement_id']} of 2026-05-01", 20_00),
                         ("Your payments received since, thank you", -15_00),
                         ("New charges, insurance and adjustments since", 30_00)]
    assert [(s.service, s.portion, s.owed) for vis in v.visits for s in vis.services] == [
        ("99213 99213", 20_00, 5_00), ("99212 99212", 30_00, 30_00)]
    assert v.figures() == [("Your portion of these visits", 50_00),
                           ("2026-05-11  Payment received, thank you (cash)", -15_00)]
    assert second["amount_due"] == v.amount_due == 35_00

    with clock.frozen(DAY + dt.timedelta(days=32)):  # a regeneration carries the same balance forward
        again = statements.regenerate(ann.id, "address corrected", rules=RULES)
    assert statement_render.view(again["statement_id"]).summary == v.summary
    assert verify() == []


@pytest.fixture
def demo_template(backend, request, tmp_path_factory):
    """The default demo clinic on this test's engine, built once per session."""
    from tests import demo_cache

    pg = request.getfixturevalue("pg_server") if backend == "postgresql" else None
    return demo_cache.template(tmp_path_factory, pg=pg)[0]


def _owed_as_of(stmt: Statement, moves: dict[int, list]) -> int:
    """What the ledger said the patient owed (their AR less their unapplied money) when the statement
    was made: the postings of entries posted at or before it."""
    return sum(amount for at, amount in moves.get(stmt.patient_id, ()) if at <= stmt.generated_at)


def test_every_demo_statement_adds_up_to_what_the_ledger_says_is_owed(demo_template, tmp_path):
    """Every statement of the demo, as a patient reads it: per visit billed - insurance - adjusted =
    your portion; portions - payments - credit on account = amount due; balance forward + payments
    since + changes since = amount due; the aging adds up to it; and the amount due is what the
    ledger said the patient owed net of their unapplied credit when it was made. The demo's
    statements are the statement run's: none with nothing due."""
    from collections import defaultdict

    from claimdesk.core.models import JournalEntry
    from claimdesk.core.services.common import patient_payer

    from tests import demo_cache

    with demo_cache.opened_copy(demo_template, tmp_path):
        pseudo = patient_payer().id
        moves: dict[int, list] = defaultdict(list)
        for pid, account, payer, at, amount in (
                Posting.select(Posting.patient, Posting.account, Posting.payer, JournalEntry.posted_at, Posting.amount)
                .join(JournalEntry).where(Posting.account.in_(["AR", "UNAPPLIED"]) & Posting.patient.is_null(False))
                .tuples()):
            if account == "UNAPPLIED" or payer == pseudo:
                moves[pid].append((at, amount))
        stmts = list(Statement.select().order_by(Statement.id))
        assert len(stmts) > 300
        by_id = {st.id: st for st in stmts}
        carried = 0
        for st in stmts:
            v = statement_render.view(st.id)
            where = f"statement #{st.id}"
            assert v.itemized, where
            rows = [s for vis in v.visits for s in vis.services]
            assert rows, where
            for s in rows:
                assert s.billed + s.insurance + s.adjusted + s.pending == s.portion >= s.owed > 0, where
            assert sum(cents for _label, cents in v.figures()) == v.amount_due == st.amount_due, where
            assert sum(cents for _label, cents in v.aging) == v.amount_due, where
            assert v.amount_due == max(_owed_as_of(st, moves), 0), where
            assert v.amount_due > 0, where  # no statement with nothing due
            text = statement_render.render_text(st.id)
            assert statement_render._row(f"AMOUNT DUE by {v.due_on.isoformat()}", fmt(v.amount_due)) in text
            if v.summary:
                carried += 1
                assert sum(cents for _label, cents in v.summary) == v.amount_due, where
                (label, forward), _received, _changes = v.summary
                prev = by_id[int(label.split("#")[1].split()[0])]
                assert (prev.patient_id, prev.id < st.id, forward) == (st.patient_id, True, prev.amount_due), where
                assert label.endswith(prev.generated_on.isoformat()), where
        assert carried > 100
    assert not _two_active(stmts)


def _two_active(stmts) -> list:
    """Patients with two active statements (there is at most one)."""
    active: dict[int, int] = {}
    for st in stmts:
        if st.status == "active":
            active[st.patient_id] = active.get(st.patient_id, 0) + 1
    return [pid for pid, n in active.items() if n > 1]


def test_demo_clinic_produces_real_statements_aging_and_claims(database, tmp_path):
    demo.build(scale=0.1, months=6)
    with clock.frozen(demo.DEFAULT_TODAY):
        pid = statements.candidates()[0]
        res = statements.generate_for(pid)
        text = statement_render.render_text(res["statement_id"])
        assert "AMOUNT DUE" in text and res["amount_due"] == max(balances.patient_balance(pid).net_due, 0)
        assert statement_render.render_pdf(res["statement_id"], tmp_path / "s.pdf").read_bytes()[:4] == b"%PDF"
        run = statements.generate_all()
        assert run["statements"] + len(run["skipped"]) == len(statements.candidates())
        snap = aging.recalc(demo.DEFAULT_TODAY)
        pending = zero_splits.outstanding()
        if pending:
            zero_splits.mark_primary_paid([r["charge_id"] for r in pending])
        batch = claims.build_batch(out_dir=tmp_path / "batches")
    ledger_ar = int(Posting.select(fn.SUM(Posting.amount)).where(Posting.account == "AR").scalar())
    assert snap["totals"]["total"] == ledger_ar
    for row in aging.report(by="payer")["rows"]:
        assert row["total"] == balances.payer_balance(row["id"])
    assert batch["claims_sent"] == sum(bt["claims"] for bt in batch["batches"])
    assert zero_splits.outstanding() == []
    assert verify() == []


def test_cli_run_generate_regenerate_and_show(cli, monkeypatch, tmp_path):
    import json

    monkeypatch.setenv("CLAIMDESK_NOW", "2026-05-01T10:00:00")
    run = cli
    ann = _ann()
    code, out, err = run("statements", "run", "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["statements"] == 1 and res["generated"][0]["amount_due"] == "75.25"
    sid = res["generated"][0]["statement_id"]
    code, out, _ = run("statements", "run")
    assert code == 0 and "less than 30 days" in out
    code, out, _ = run("statements", "show", str(sid), "--pdf", str(tmp_path / "s.pdf"))
    assert code == 0 and "AMOUNT DUE" in out and "75.25" in out
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    code, out, _ = run("statements", "regenerate", str(ann.id), "--reason", "EOB edited")
    assert code == 0 and f"voided statement  {sid}" in out
    code, out, _ = run("statements", "generate", str(ann.id))
    assert code == 0 and "75.25 due" in out
    code, _, err = run("statements", "show", "999")
    assert code == 3


def test_the_same_submit_key_makes_one_statement_and_raises_the_count_once(database):
    pat = _ann()
    first = statements.generate_for(pat.id, idempotency_key="k-1")
    again = statements.generate_for(pat.id, idempotency_key="k-1")
    assert again["statement_id"] == first["statement_id"]
    assert Statement.select().where(Statement.patient == pat.id).count() == 1
    assert Patient.get_by_id(pat.id).unpaid_statements == 1
    regen = statements.regenerate(pat.id, "address corrected", idempotency_key="k-2")
    assert statements.regenerate(pat.id, "address corrected", idempotency_key="k-2") == regen
    assert [s.status for s in Statement.select().where(Statement.patient == pat.id).order_by(Statement.id)] == [
        "void", "active"]


def test_a_statement_made_before_the_figures_were_kept_prints_as_it_was(database):
    """An older statement (its charges, the payments then received, aging): printed as it was sent."""
    ann = _ann()
    with clock.frozen(DAY):
        stmt = Statement.create(patient=ann, generated_on=DAY, generated_at=clock.now(), generated_by="tester",
                                amount_due=75_25)
        StatementLine.insert_many([
            {"statement": stmt.id, "line_date": dt.date(2026, 3, 20), "description": "99212 99212",
             "amount": 75_25, "kind": "charge"},
            {"statement": stmt.id, "line_date": DAY, "description": "Insurance payment: Aetna (check)",
             "amount": -10_00, "kind": "payment"},
            {"statement": stmt.id, "line_date": DAY, "description": "Aging 31-60", "amount": 75_25,
             "kind": "aging"}]).execute()
    v = statement_render.view(stmt.id)
    assert not v.itemized and v.due_on == DAY + dt.timedelta(days=30)
    text = statement_render.render_text(stmt.id)
    assert statement_render._row("Total of charges", "75.25") in text
    assert "Insurance payment: Aetna (check)" in text and "AMOUNT DUE by 2026-05-31" in text
