"""Payments through the command line: what a clerk reads (text and --json) after a credit,
a refused credit on a new voucher, voucher lists and returned checks."""

from __future__ import annotations

import pytest

from claimdesk.core.models import AuditEvent, Credit, Voucher
from claimdesk.core.services.common import patient_payer
from claimdesk.core.services import balances, payments

from tests import builders as b

NOW = "2026-03-10T10:00:00"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    monkeypatch.setenv("CLAIMDESK_NOW", NOW)


def one_line_error(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("claimdesk: error: ")
    return lines[0][len("claimdesk: error: "):]


def _self_pay():
    return str(patient_payer().id)


# --- keep unapplied: the credit's result ------------------------------------------------
@pytest.mark.parametrize("keep, drawn, unapplied, back", [(True, "60.00", "45.00", "0.00"),
                                                          (False, "15.00", "0.00", "45.00")])
def test_credit_post_reports_drawn_unapplied_and_back_to_voucher(cli, keep, drawn, unapplied, back):
    pat = b.patient()
    b.encounter(pat, [15_00])
    args = ["credit", "post", "--patient", str(pat.id), "--payer", _self_pay(), "--new-voucher", "cash",
            "--amount", "60.00"] + (["--keep-unapplied"] if keep else [])
    out = cli.json(*args)["credit"]
    assert (out["drawn"], out["applied_total"], out["unapplied"], out["returned_to_voucher"],
            out["voucher_undistributed"]) == (drawn, "15.00", unapplied, back, back)
    assert balances.patient_balance(pat.id).unapplied == int(unapplied.replace(".", ""))


def test_credit_post_text_for_a_kept_overpayment(cli):
    pat = b.patient()
    b.encounter(pat, [15_00])
    text = cli.ok("credit", "post", "--patient", str(pat.id), "--payer", _self_pay(), "--new-voucher", "cash",
                  "--amount", "60.00", "--keep-unapplied").splitlines()
    assert text[1].endswith(": 60.00 drawn from voucher 1, 15.00 applied")
    assert [" ".join(line.split()) for line in text[-3:]] == [
        "unapplied (patient's) 45.00", "back to voucher 0.00", "voucher undistributed 0.00"]


# --- a credit on a new voucher: checked before the voucher is made --------------------
def _refused_new_voucher_credit(cli, *extra):
    pat, other = b.patient(), b.patient(last="Other")
    (mine,) = b.encounter(pat, [30_00])[1]
    (theirs,) = b.encounter(other, [40_00])[1]
    audits = AuditEvent.select().count()
    subs = {"MINE": str(mine.id), "THEIRS": str(theirs.id), "PAT": str(pat.id)}
    args = []
    for a in extra:
        for key, value in subs.items():
            a = a.replace(key, value)
        args.append(a)
    code, out, err = cli("credit", "post", "--payer", _self_pay(), "--new-voucher", "cash",
                         "--voucher-amount", "50.00", *args)
    assert out == ""
    assert Voucher.select().count() == 0 and Credit.select().count() == 0
    assert AuditEvent.select().count() == audits
    return code, one_line_error(err)


@pytest.mark.parametrize("extra, code, starts", [
    (["--patient", "PAT", "--amount", "1.234"], 2, "amount: "),  # (its words are the money field's)
    (["--patient", "999"], 3, "patient_id: no patient with id 999"),
    (["--patient", "PAT", "--apply", "THEIRS"], 4, "applications.0.charge_id: charge"),
    (["--patient", "PAT", "--apply", "MINE:30.01"], 4, "applications.0.amount: charge"),
    (["--patient", "PAT", "--amount", "50.01"], 4, "amount: 50.01 is more than the new voucher's 50.00"),
    (["--patient", "PAT", "--date", "2026-02-30"], 2, "date: "),
])
def test_a_credit_that_would_be_refused_makes_no_voucher(cli, extra, code, starts):
    got, message = _refused_new_voucher_credit(cli, *extra)
    assert got == code and message.startswith(starts), message


def test_a_credit_refused_after_its_voucher_was_made_names_the_voucher(cli, monkeypatch):
    """Between making the voucher and drawing on it, another clerk draws $30 of it: the
    credit of $40 is refused, and the error says the voucher exists and what it holds."""
    pat, other = b.patient(), b.patient(last="Other")
    b.encounter(pat, [80_00])
    real_create = payments.create_voucher

    def create_then_another_clerk_draws(data, **kw):
        made = real_create(data, **kw)
        payments.post_credit({"patient_id": other.id, "voucher_id": made["voucher_id"], "amount": "30.00",
                              "apply": "none"})
        return made

    monkeypatch.setattr(payments, "create_voucher", create_then_another_clerk_draws)
    code, out, err = cli("credit", "post", "--patient", str(pat.id), "--payer", _self_pay(), "--new-voucher",
                         "cash", "--voucher-amount", "50.00", "--amount", "40.00")
    (voucher,) = Voucher.select()
    assert code == 4 and out == ""
    assert one_line_error(err) == (
        f"amount: 40.00 is more than the voucher's undistributed 20.00; voucher {voucher.id} was "
        f"created and stays with 20.00 undistributed (draw from it with --voucher {voucher.id})")
    assert Credit.select().where(Credit.patient == pat.id).count() == 0
    monkeypatch.undo()
    listed = cli.json("voucher", "list", "--open", "--payer", _self_pay())
    assert [(v["voucher_id"], v["undistributed"]) for v in listed["vouchers"]] == [(voucher.id, "20.00")]


# --- voucher lists ------------------------------------------------------------------------
def test_voucher_list_open_shows_a_payers_undistributed_money_only(cli):
    from claimdesk.core.services import returns

    aetna, cigna = b.payer("Aetna"), b.payer("Cigna")
    pat = b.patient()
    b.encounter(pat, [100_00], payers=[aetna])
    partly = b.voucher(aetna, 250_00)
    used = b.voucher(aetna, 40_00)
    bounced = b.voucher(aetna, 70_00)
    b.voucher(cigna, 90_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": partly, "amount": "60.00"})
    payments.post_credit({"patient_id": pat.id, "voucher_id": used, "apply": "none"})
    returns.return_check({"voucher_id": bounced, "reason": "NSF"})

    res = cli.json("voucher", "list", "--payer", str(aetna.id), "--open")
    assert [(v["voucher_id"], v["amount"], v["undistributed"], v["status"]) for v in res["vouchers"]] == [
        (partly, "250.00", "190.00", "active")]
    assert (res["shown"], res["total"], res["truncated"]) == (1, 1, False)
    every = cli.json("voucher", "list", "--payer", str(aetna.id))
    assert sorted(v["voucher_id"] for v in every["vouchers"]) == sorted([partly, used, bounced])
    text = cli.ok("voucher", "list", "--payer", str(aetna.id), "--open")
    assert "190.00" in text and "showing" not in text


def test_a_voucher_list_cut_at_its_limit_says_so(cli):
    vids = [b.voucher(None, (i + 1) * 10_00, method="cash") for i in range(3)]
    res = cli.json("voucher", "list", "--limit", "2")
    assert [v["voucher_id"] for v in res["vouchers"]] == [vids[2], vids[1]]  # newest first
    assert (res["shown"], res["total"], res["truncated"]) == (2, 3, True)
    assert cli.ok("voucher", "list", "--limit", "2").splitlines()[-1] == (
        "showing 2 of 3 vouchers (--limit N shows more)")
    opened = cli.json("voucher", "list", "--open", "--limit", "1")
    assert [(v["voucher_id"], v["undistributed"]) for v in opened["vouchers"]] == [(vids[0], "10.00")]
    assert (opened["shown"], opened["total"], opened["truncated"]) == (1, 3, True)
    assert cli.json("voucher", "list", "--limit", "3")["truncated"] is False
    code, _, err = cli("voucher", "list", "--limit", "0")
    assert code == 2 and one_line_error(err).startswith("limit: ")


# --- nested field errors: full dotted paths ---------------------------------------------
def test_a_bad_amount_in_an_application_names_its_full_path(cli):
    pat = b.patient()
    (ch,) = b.encounter(pat, [30_00])[1]
    vid = b.voucher(None, 30_00, method="cash")
    code, _, err = cli("credit", "post", "--patient", str(pat.id), "--voucher", str(vid),
                       "--apply", f"{ch.id}:1.234")
    assert code == 2
    message = one_line_error(err)
    assert message.startswith("applications.0.amount: ") and message.endswith("has more than 2 decimals"), message
    assert balances.voucher_undistributed(vid) == 30_00


def test_a_bad_adjustment_in_an_eob_line_names_its_full_path(cli):
    import json

    pat = b.patient()
    apex = b.payer("Apex Health")
    enc, (charge,) = b.encounter(pat, [110_00], payers=[apex])
    eob = {"encounter_id": enc.id, "payer_id": apex.id,
           "lines": [{"charge_id": charge.id, "allowed": "80.00", "paid": "80.00",
                      "adjustments": [{"group_code": "XX", "reason_code": "45", "amount": "30.00"}]}]}
    code, _, err = cli("eob", "post", "--data", json.dumps(eob))
    assert code == 2
    message = one_line_error(err)
    assert message.startswith("lines.0.adjustments.0.group_code: "), message
    assert "{" not in message
    assert balances.charge_balance(charge.id) == 110_00


def test_input_errors_flatten_nested_messages_in_one_place():
    from claimdesk.core.errors import InputError

    exc = InputError({"lines": {0: {"adjustments": {0: {"group_code": ["must be one of: CO, PR"]},
                                                     2: {"amount": ["bad", "worse"]}}}},
                      "memo": ["too long"]})
    assert (exc.field, exc.message) == ("lines.0.adjustments.0.group_code", "must be one of: CO, PR")
    assert str(exc) == "lines.0.adjustments.0.group_code: must be one of: CO, PR"
    assert exc.lines() == ["lines.0.adjustments.0.group_code: must be one of: CO, PR",
                           "lines.0.adjustments.2.amount: bad", "lines.0.adjustments.2.amount: worse",
                           "memo: too long"]
    assert str(InputError({"details": {"_schema": ["give a check number"]}})) == "details: give a check number"


# --- returned checks ----------------------------------------------------------------------
def test_check_return_prints_the_net_rise_per_patient(cli):
    pat = b.patient()
    b.encounter(pat, [15_00])
    vid = b.voucher(None, 60_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid, "keep_unapplied": True})
    text = cli.ok("check", "return", str(vid), "--reason", "NSF").splitlines()
    assert f"  patient {pat.id}: balance up 60.00 (15.00 more owed on charges, 45.00 unapplied money removed)" in text
    res = cli.json("patient", "show", str(pat.id))["balance"]
    assert (res["patient_due"], res["unapplied"], res["net_due"]) == ("15.00", "0.00", "15.00")


def test_check_return_refuses_a_fee_for_a_patient_the_check_never_paid(cli):
    pat, stranger = b.patient(), b.patient(last="Stranger")
    b.encounter(pat, [60_00])
    office = b.provider("Office", kind="administrative")
    b.code("RCFEE", 0)
    vid = b.voucher(None, 60_00)
    payments.post_credit({"patient_id": pat.id, "voucher_id": vid})
    fee = '{"service_code": "RCFEE", "amount": "25.00", "provider_id": %d}' % office.id
    code, out, err = cli("check", "return", str(vid), "--reason", "NSF", "--fee-policy", "flat", "--fee", fee,
                         "--patient", str(stranger.id))
    assert code == 4 and out == ""
    assert one_line_error(err).startswith(f"patient_id: voucher {vid} never paid patient {stranger.id}'s account")
    assert cli.json("voucher", "list")["vouchers"][0]["status"] == "active"
    ret = cli.json("check", "return", str(vid), "--reason", "NSF", "--fee-policy", "flat", "--fee", fee,
                   "--patient", str(pat.id))
    assert (ret["fee"], ret["balance_increase_by_patient"]) == ("25.00", {str(pat.id): "60.00"})


def test_voucher_errors_name_the_flags_the_clerk_typed(cli):
    code, _, err = cli("voucher", "create", "--payer", _self_pay(), "--method", "cash", "--amount", "5.00",
                       "--date", "2026-02-30")
    assert code == 2 and one_line_error(err) == "date: must be a date like 2026-03-02 (YYYY-MM-DD)"
    pat = b.patient()
    code, _, err = cli("credit", "post", "--patient", str(pat.id), "--payer", _self_pay(), "--new-voucher",
                       "bitcoin", "--amount", "5.00")
    assert code == 2 and one_line_error(err).startswith("new-voucher: unknown payment method 'bitcoin'")
    code, _, err = cli("credit", "post", "--patient", str(pat.id), "--payer", _self_pay(), "--new-voucher",
                       "cash", "--voucher-amount", "-5", "--amount", "1.00")
    assert code == 2 and one_line_error(err).startswith("voucher-amount: ")
    assert Voucher.select().count() == 0


# --- batch posting: lines typed on standard input, the dry run per line ---------------------
def _stdin(monkeypatch, text: str) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_post_batch_dry_run_of_typed_lines_shows_each_line_and_warns_then_posts(cli, monkeypatch):
    import datetime as dt

    aetna = b.payer("Aetna")
    owes = b.patient(last="Owes")
    enc, (charge,) = b.encounter(owes, [60_00], payers=[aetna], dos=dt.date(2026, 3, 2))
    first, second = b.patient(last="Nothing"), b.patient(last="Neither")
    vid = b.voucher(aetna, 100_00)
    text = (f"patient_id,amount,memo\n{owes.id},25.00,copay\n{first.id},30.00\n\n"
            f"{second.id},40.00,\"box 3, late\"\n")
    _stdin(monkeypatch, text)
    out = cli.ok("payments", "post-batch", "--voucher", str(vid), "--file", "-", "--dry-run")
    rows = [" ".join(line.split()) for line in out.splitlines()]
    assert rows[0] == (f"dry run, nothing posted: voucher {vid} (Aetna): 3 credits for 3 patients: 25.00 would be "
                       "drawn, 25.00 applied")
    # each line by its line as typed (the header is line 1, line 4 is blank)
    assert rows[1] == "line patient amount applied to voucher applied to"
    assert rows[3:6] == [f"2 {owes.id} 25.00 25.00 0.00 enc {enc.id} 99213 03-02 25.00",
                         f"3 {first.id} 30.00 0.00 30.00 ! applies nothing",
                         f"5 {second.id} 40.00 0.00 40.00 ! applies nothing"]
    assert f"2 {charge.id} {enc.id} 99213 2026-03-02 primary 25.00" in rows
    assert "back to voucher 70.00" in rows and "voucher undistributed 75.00" in rows
    assert rows[-3:] == [
        "warning: 2 lines apply nothing: 70.00 goes back to the voucher",
        f"line 3 (patient {first.id}, 30.00): applies nothing: the patient owes Aetna nothing; 30.00 goes back to "
        "the voucher",
        f"line 5 (patient {second.id}, 40.00): applies nothing: the patient owes Aetna nothing; 40.00 goes back to "
        "the voucher"]
    assert Credit.select().count() == 0 and balances.charge_balance(charge.id) == 60_00

    _stdin(monkeypatch, text)
    res = cli.json("payments", "post-batch", "--voucher", str(vid), "--file", "-")
    assert (res["applied_total"], res["returned_to_voucher"], res["voucher_undistributed"]) == (
        "25.00", "70.00", "75.00")
    assert balances.charge_balance(charge.id) == 35_00
    assert [c.memo for c in Credit.select().order_by(Credit.id)] == ["copay", "", "box 3, late"]

    # the same lines again (typed otherwise) are a repeat: refused unless --again
    _stdin(monkeypatch, text.replace("25.00", "25").replace("patient_id,amount,memo\n", ""))
    code, out, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", "-")
    assert code == 4 and out == ""
    assert one_line_error(err).startswith("lines: these lines were posted before: the same lines") and "--again" in err
    assert Credit.select().count() == 3


def test_post_batch_names_a_bad_typed_line_by_its_line_and_field(cli, monkeypatch):
    pat = b.patient()
    vid = b.voucher(b.payer("Aetna"), 100_00)
    for text, starts in ((f"{pat.id},25.00\n{pat.id},12.345\n", "line 2, amount: "),
                         (f"{pat.id},25.00\n\nabc,1.00\n", "line 3, patient: must be a whole-number id"),
                         (f"{pat.id}\n", "line 1, amount: missing")):
        _stdin(monkeypatch, text)
        code, out, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", "-", "--dry-run")
        assert code == 2 and out == "" and one_line_error(err).startswith(starts), err
    # what posting would refuse, named the same way: in the dry run's list, and as posting's error
    unknown = f"patient_id,amount\n{pat.id},1.00\n999999,2.00\n"
    _stdin(monkeypatch, unknown)
    code, out, _ = cli("payments", "post-batch", "--voucher", str(vid), "--file", "-", "--dry-run")
    assert code == 3 and out.splitlines()[-2:] == ["posting would be refused:",
                                                   "  line 3, patient: no patient with id 999999"]
    _stdin(monkeypatch, unknown)
    code, out, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", "-")
    assert code == 3 and one_line_error(err) == "line 3, patient: no patient with id 999999"
    assert Credit.select().count() == 0
