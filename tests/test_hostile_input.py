"""A corpus of bad inputs through the core services: each gets a clear error naming a field,
and nothing is written (no journal entry, no audit event, no voucher, no credit)."""

from __future__ import annotations

import json

import pytest

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.money import json_loads
from claimdesk.core.models import AuditEvent, Credit, JournalEntry, Posting, Voucher
from claimdesk.core.services import actions, eobs, messages, payments, returns

from tests import builders as b
from tests.conftest import record_outcome

BAD_AMOUNTS = ["1.234", "0.001", "NaN", "nan", "inf", "-inf", "Infinity", "-5.00", "-0.01", "1e3", "1E-2",
               "0x10", "", " ", "12,50", "$$12", "1.2.3", "99999999999", "10000000.01", "--1", "+-1",
               "1_000", "12.5.", ".", "-", "1 000", "½", "12.50abc", "'; DROP TABLE posting; --",
               "1,2345.00", 1.5, 0.1, True, [], {}, float("nan"),
               # more digits than Decimal rounds to cents (28): refused as too large, not a crash
               "9" * 27, "1" * 40 + ".00", "9" * 5000,
               # other scripts' digits (Decimal would read them as 123), and JSON numbers as the CLI
               # and batch files hand them over (not strings: maybe a float on the way, or cents)
               "\u0661\u0662\u0663", "\uff11\uff12\uff13", "\u0967\u0968.\u0969\u0966", "1\u0665.00",
               json_loads("1.5"), json_loads("12"), json_loads("1e2")]
BAD_IDS = [0, -1, "abc", 1.5, True, 2**63, "1; DROP TABLE patient", [], {}, "", " ", "1e3", 999_999, "²", "9" * 5000]
BAD_DATES = ["2026-13-01", "2026-02-30", "yesterday", "1800-01-01", "3000-01-01", 20260101, "", "2026/01/01",
             "01/02/2026", "2026-1-1T99", [], "0000-00-00",
             # outside the business window (1900-01-01 to a year after today): typos, not dates of money
             "0001-01-01", "1899-12-31", "2099-01-01", "9999-12-31"]
BAD_TEXTS = ["\x00", "a" * 10_000, "\x1b[31mred", "bell\x07", "x" * 501,
             # bidirectional controls show other text than what is stored ("\u202e" flips the rest)
             "\u202egnp.exe", "pay \u2066to\u2069 me", "\u200fx", "a\u202ab", "\u061c",
             "\x9b31m", "del\x7f"]
UNKNOWN_KEYS = ["bitcoin", "", "CASH ", "../../etc/passwd", "x" * 300, "pay_cash", "Check"]
NOT_OBJECTS = [None, [], "text", 42, [{"payer_id": 1}], b"bytes"]


def _counts():
    return tuple(m.select().count() for m in (JournalEntry, Posting, AuditEvent, Voucher, Credit))


@pytest.fixture
def world(database):
    pat = b.patient()
    medicare = b.payer("Medicare", "medicare")
    enc, charges = b.encounter(pat, [100_00, 50_00], payers=[medicare])
    self_pay, _ = b.encounter(pat, [80_00])
    vid = b.voucher(medicare, 300_00)
    return {"patient": pat.id, "payer": medicare.id, "encounter": enc.id, "charge": charges[0].id, "voucher": vid,
            "self_pay": self_pay.id}


def _cases(w):
    """(service, data, expected field prefix or None when any field is fine)."""
    voucher = {"payer_id": w["payer"], "method": "check", "amount": "10.00", "details": {"check_number": "77"}}
    credit = {"patient_id": w["patient"], "voucher_id": w["voucher"], "amount": "10.00"}
    eob = {"encounter_id": w["encounter"], "payer_id": w["payer"], "voucher_id": w["voucher"],
           "lines": [{"charge_id": w["charge"], "paid": "10.00"}]}
    ret = {"voucher_id": w["voucher"], "reason": "NSF"}
    for a in BAD_AMOUNTS:
        yield payments.create_voucher, {**voucher, "amount": a}, "amount"
        yield payments.post_credit, {**credit, "amount": a}, "amount"
        yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "paid": a}]}, "lines"
        yield (lambda d: actions.apply(w["self_pay"], "patient_writeoff_office", d)), \
            {"amount": a, "reason": "COURTESY"}, "amount"
    for i in BAD_IDS:
        yield payments.create_voucher, {**voucher, "payer_id": i}, "payer_id"
        yield payments.post_credit, {**credit, "patient_id": i}, "patient_id"
        yield payments.post_credit, {**credit, "voucher_id": i}, "voucher_id"
        yield eobs.post_eob, {**eob, "encounter_id": i}, "encounter_id"
        yield returns.return_check, {**ret, "voucher_id": i}, "voucher_id"
        yield (lambda d, i=i: actions.assess(i)), {}, None
    for d in BAD_DATES:
        yield payments.create_voucher, {**voucher, "received_on": d}, "received_on"
        yield eobs.post_eob, {**eob, "received_on": d}, "received_on"
    for t in BAD_TEXTS:
        yield payments.create_voucher, {**voucher, "reference": t}, "reference"
        yield returns.return_check, {**ret, "reason": t}, "reason"
        yield payments.create_voucher, {**voucher, "details": {"check_number": t}}, "details"
    for k in UNKNOWN_KEYS:
        yield payments.create_voucher, {**voucher, "method": k}, "method"
        yield returns.return_check, {**ret, "fee_policy": k}, "fee_policy"
        yield (lambda d, k=k: actions.apply(w["encounter"], k, d)), {}, None
        yield (lambda d: actions.apply(w["self_pay"], "patient_writeoff_office", d)), \
            {"amount": "1.00", "reason": k}, "reason"
    for bad in NOT_OBJECTS:
        yield payments.create_voucher, bad, None
        yield payments.post_credit, bad, None
        yield eobs.post_eob, bad, None
        yield messages.answer, bad, None
    yield payments.create_voucher, {**voucher, "details": {}}, "details"
    yield payments.create_voucher, {**voucher, "amount": "0.00"}, "amount"
    yield payments.post_credit, {**credit, "amount": "300.01"}, "amount"
    yield eobs.post_eob, {**eob, "lines": []}, "lines"
    yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "adjustments": [
        {"group_code": "ZZ", "reason_code": "45", "amount": "1.00"}]}]}, "lines"
    yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "adjustments": [
        {"group_code": "CO", "reason_code": "'; --", "amount": "1.00"}]}]}, "lines"
    yield returns.return_check, {**ret, "fee_policy": "flat", "fee": {"amount": "25.00"}}, "fee"
    # a trailing newline is not part of a value ("$" alone in a pattern lets one in)
    for a in ("1.50\n", "1.50\t", "\n1.50"):
        yield payments.create_voucher, {**voucher, "amount": a}, "amount"
    for last4 in ("1234\n", "١٢٣٤", "１２３４"):  # (a newline; digits of other scripts: a receipt shows 0-9)
        yield payments.create_voucher, {**voucher, "method": "card", "details": {
            "brand": "visa", "last4": last4, "auth_code": "A1"}}, "details"
    yield eobs.post_eob, {**eob, "lines": [{"charge_id": w["charge"], "adjustments": [
        {"group_code": "CO", "reason_code": "45\n", "amount": "1.00"}]}]}, "lines"


def test_every_bad_input_is_refused_naming_a_field_and_nothing_is_written(world, backend):
    before = _counts()
    tried, problems = 0, []
    for service, data, field in _cases(world):
        tried += 1
        seen = len(problems)
        try:
            service(data)
        except ClaimdeskError as exc:
            message = str(exc)
            if not message or "Traceback" in message:
                problems.append((service, data, "unclear message"))
            elif field is not None and not (exc.field or "").startswith(field):
                problems.append((getattr(service, "__name__", service), repr(data)[:80],
                                 f"field {exc.field!r}, expected {field!r}: {message[:80]}"))
        except Exception as exc:  # noqa: BLE001 - the point: nothing but a clear claimdesk error
            problems.append((getattr(service, "__name__", service), repr(data)[:80], repr(exc)[:120]))
        else:
            problems.append((getattr(service, "__name__", service), repr(data)[:80], "accepted"))
        if _counts() != before:
            problems.append((getattr(service, "__name__", service), repr(data)[:80], "wrote rows"))
            before = _counts()
        outcome = ("refused" if len(problems) == seen else
                   "accepted" if any(p[-1] == "accepted" for p in problems[seen:]) else "unclear")
        record_outcome("service input", f"{getattr(service, '__name__', 'action')}[{tried}]", outcome, backend)
    assert tried >= 200
    assert problems == [], "\n".join(map(str, problems))


# --- the same kind of corpus through the command line ----------------------------------------
# ``claimdesk ... --json`` in-process on one world per engine (built once per module): each bad
# invocation must exit non-zero with one line on stderr naming the field or thing at fault, no
# traceback, nothing on stdout, and no row written.

from tests.clirunner import Cli  # noqa: E402
from tests.conftest import BACKENDS, new_database_url, empty_config  # noqa: E402

CLI_BAD_IDS = ["abc", "0", "-1", "1.5", "1e3", "99999999999999999999", "9223372036854775808",
               "1; DROP TABLE patient", "", " ", "0x10", "\uff11\uff12", "12\n", "NaN"]
CLI_BAD_AMOUNTS = ["1.234", "NaN", "inf", "-5.00", "1e3", "12,50", "1_000", "", "1.5\n", "\u00bd", "12.50abc",
                   "'; DROP TABLE posting; --", "99999999999999999999", "0x10", "\u0661\u0662\u0663",
                   "\uff11\uff12\uff13", "\uff11.00"]
CLI_BAD_DATES = ["2026-13-01", "2026-02-30", "yesterday", "2026/01/01", "20260101x", "\x00", "0001-01-01",
                 "2099-01-01"]
CLI_BAD_JSON = ["{", "[]", "null", "42", '"text"', '{"encounter_id": }', "@/nonexistent/claimdesk.json",
                "{\"a\": NaN}"]
CLI_BAD_KEYS = ["bitcoin", "", "../../etc/passwd", "x" * 300, "Check "]
CLI_BAD_TEXTS = ["\x00", "a" * 10_000, "\x1b[31mred", "\u202eevil", "a\u2067b"]  # (an empty text is fine where
# a text is optional)

#: Cases that fail today (xfail(strict=True) on the engines named): case -> (why, engines).
CLI_KNOWN: dict[str, tuple[str, tuple[str, ...]]] = {}


def _cli_cases(w):
    """(id, argv, words one of which the error line must name)."""
    p, v, c, e, m = str(w["patient"]), str(w["voucher"]), str(w["credit"]), str(w["encounter"]), str(w["payer"])
    s = str(w["self_pay"])
    by_id = [
        ("voucher-create-payer", lambda x: ["voucher", "create", "--payer", x, "--method", "check", "--amount",
                                            "10.00", "--details", '{"check_number": "9"}'], ("payer",)),
        ("credit-post-patient", lambda x: ["credit", "post", "--patient", x, "--voucher", v], ("patient",)),
        ("credit-post-voucher", lambda x: ["credit", "post", "--patient", p, "--voucher", x], ("voucher",)),
        ("apply-unapplied-credit", lambda x: ["credit", "apply-unapplied", "--credit", x, "--patient", p],
         ("credit",)),
        ("check-return", lambda x: ["check", "return", x, "--reason", "NSF"], ("voucher",)),
        ("patient-show", lambda x: ["patient", "show", x], ("patient",)),
        ("encounter-show", lambda x: ["encounter", "show", x], ("encounter",)),
        ("post-batch-voucher", lambda x: ["payments", "post-batch", "--voucher", x, "--file", w["lines"]],
         ("voucher",)),
        ("messages-read", lambda x: ["messages", "read", x], ("message",)),
        ("statements-generate", lambda x: ["statements", "generate", x], ("patient",)),
        ("claims-requeue", lambda x: ["claims", "requeue", x, "--reason", "resend"], ("claim",)),
        ("actions-list", lambda x: ["actions", "list", x], ("encounter",)),
        ("audit-encounter", lambda x: ["audit", "--encounter", x], ("encounter",)),
    ]
    for name, argv, words in by_id:
        for x in CLI_BAD_IDS:
            yield f"{name}[{x!r}]", argv(x), words
    by_amount = [
        ("voucher-create-amount", lambda x: ["voucher", "create", "--payer", m, "--method", "check", "--amount", x,
                                             "--details", '{"check_number": "9"}'], ("amount",)),
        ("credit-post-amount", lambda x: ["credit", "post", "--patient", p, "--voucher", v, "--amount", x],
         ("amount",)),
        ("credit-new-voucher-amount", lambda x: ["credit", "post", "--patient", p, "--payer", m, "--new-voucher",
                                                 "check", "--details", '{"check_number": "9"}', "--amount", x],
         ("amount",)),
    ]
    for name, argv, words in by_amount:
        for x in CLI_BAD_AMOUNTS:
            yield f"{name}[{x!r}]", argv(x), words
    by_date = [
        ("voucher-create-date", lambda x: ["voucher", "create", "--payer", m, "--method", "check", "--amount",
                                           "1.00", "--details", '{"check_number": "9"}', "--date", x],
         ("received_on", "date")),
        ("daysheet-show", lambda x: ["daysheet", "show", "--date", x], ("date",)),
        ("daysheet-close", lambda x: ["daysheet", "close", "--date", x], ("date",)),
        ("aging-recalc", lambda x: ["aging", "recalc", "--as-of", x], ("as_of", "as-of")),
        ("provider-activity", lambda x: ["provider", "activity", "--from", x, "--to", "2026-03-31"], ("from",)),
    ]
    for name, argv, words in by_date:
        for x in CLI_BAD_DATES:
            yield f"{name}[{x!r}]", argv(x), words
    by_json = [
        ("eob-post-data", lambda x: ["eob", "post", "--data", x], ("data",)),
        ("actions-apply-data", lambda x: ["actions", "apply", s, "patient_writeoff_office", "--data", x],
         ("data",)),
        ("voucher-details", lambda x: ["voucher", "create", "--payer", m, "--method", "check", "--amount", "1.00",
                                       "--details", x], ("details",)),
        ("check-return-fee", lambda x: ["check", "return", v, "--reason", "NSF", "--fee-policy", "flat",
                                        "--fee", x], ("fee",)),
    ]
    for name, argv, words in by_json:
        for x in CLI_BAD_JSON:
            yield f"{name}[{x!r}]", argv(x), words
    # money as a JSON number, not a string: refused naming the amount
    for x in ("1.5", "12", "1e2", "0.1"):
        yield f"writeoff-json-number[{x}]", ["actions", "apply", s, "patient_writeoff_office", "--data",
                                             f'{{"amount": {x}, "reason": "COURTESY"}}'], ("amount: ",)
        yield f"eob-json-number[{x}]", ["eob", "post", "--data", json.dumps(
            {"encounter_id": w["encounter"], "payer_id": w["payer"], "voucher_id": w["voucher"],
             "lines": [{"charge_id": w["charge"], "paid": "PAID"}]}).replace('"PAID"', x)], ("lines.0.paid: ",)
    by_key = [
        ("voucher-method", lambda x: ["voucher", "create", "--payer", m, "--method", x, "--amount", "1.00"],
         ("method",)),
        ("fee-policy", lambda x: ["check", "return", v, "--reason", "NSF", "--fee-policy", x], ("fee_policy",)),
        ("action-key", lambda x: ["actions", "apply", e, x, "--data", "{}"], ("action", "key")),
        ("action-describe", lambda x: ["actions", "describe", e, x], ("action", "key")),
    ]
    for name, argv, words in by_key:
        for x in CLI_BAD_KEYS:
            yield f"{name}[{x[:20]!r}]", argv(x), words
    by_text = [
        ("check-return-reason", lambda x: ["check", "return", v, "--reason", x], ("reason",)),
        ("voucher-reference", lambda x: ["voucher", "create", "--payer", m, "--method", "check", "--amount", "1.00",
                                         "--details", '{"check_number": "9"}', "--reference", x], ("reference",)),
        ("claims-requeue-reason", lambda x: ["claims", "requeue", "1", "--reason", x], ("reason",)),
        ("writeoff-reason", lambda x: ["actions", "apply", s, "patient_writeoff_office", "--data",
                                       json.dumps({"amount": "1.00", "reason": x})], ("reason",)),
    ]
    for name, argv, words in by_text:
        extra = {"check-return-reason": [""], "writeoff-reason": ["", "COURTESY; DROP TABLE posting"]}
        for x in CLI_BAD_TEXTS + extra.get(name, []):
            yield f"{name}[{x[:20]!r}]", argv(x), words
    # the command line itself, and who may write
    yield "unknown-command", ["payments", "refund"], ("choose", "invalid choice")
    yield "unknown-option", ["voucher", "create", "--payer", m, "--method", "check", "--amount", "1", "--tip", "5"], \
        ("unrecognized", "--tip")
    yield "missing-option", ["credit", "post", "--patient", p], ("--voucher",)
    yield "limit-zero", ["audit", "--limit", "0"], ("limit",)
    yield "limit-text", ["audit", "--limit", "ten"], ("limit",)
    yield "stranger-writes", ["--user", "stranger", "voucher", "create", "--payer", m, "--method", "check",
                              "--amount", "1.00", "--details", '{"check_number": "9"}'], ("stranger", "--user")
    yield "clerk-adds-user", ["users", "add", "mallory", "--role", "admin"], ("admin",)
    yield "apply-to-other-patient", ["credit", "apply-unapplied", "--credit", c, "--patient", str(w["other"])], \
        ("credit", "patient")
    yield "overdraw", ["credit", "post", "--patient", p, "--voucher", v, "--amount", "100000.00"], ("amount",)



def _cli_world(url: str, tmp) -> dict:
    """Patients, a payer, an insured and a self-pay encounter, a check with money, a credit with
    unapplied money, a lines file for batch posting."""
    from claimdesk.core import db
    from claimdesk.core.context import as_user

    db.connect(url)
    with as_user("tester"):
        pat, other = b.patient(), b.patient("Roe", "Kim")
        medicare = b.payer("Medicare", "medicare")
        made_enc, made_charges = b.encounter(pat, [100_00, 50_00], payers=[medicare])
        made = {"enc": made_enc.id, "charge": made_charges[0].id}
        self_pay = {"enc": b.encounter(pat, [80_00])[0].id}
        vid = b.voucher(medicare, 300_00)
        own = b.voucher(None, 20_00)
        credit = payments.post_credit({"patient_id": pat.id, "voucher_id": own, "apply": "none",
                                       "keep_unapplied": True})["credit_id"]
    lines = tmp / "lines.csv"
    lines.write_text(f"patient_id,amount\n{pat.id},1.00\n")
    db.close()
    return {"patient": pat.id, "other": other.id, "payer": medicare.id, "encounter": made["enc"], "voucher": vid,
            "credit": credit, "self_pay": self_pay["enc"], "lines": str(lines), "charge": made["charge"]}


@pytest.fixture(scope="module", params=BACKENDS)
def cli_world(request, tmp_path_factory):
    """One world per engine for the whole CLI corpus (made by ``claimdesk init`` as admin)."""
    tmp = tmp_path_factory.mktemp("hostile-cli")
    url = new_database_url(request.param, request, tmp, upgraded=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLAIMDESK_CONFIG", empty_config(tmp))
        mp.delenv("CLAIMDESK_DB", raising=False)
        from claimdesk.core.cli import main

        assert main(["--db", url, "init"], user="admin") == 0
        assert main(["--db", url, "users", "add", "tester", "--role", "clerk"], user="admin") == 0
        yield url, _cli_world(url, tmp)


def _row_counts(url: str) -> tuple:
    from claimdesk.core import db

    db.connect(url)
    try:
        return tuple(m.select().count() for m in (JournalEntry, Posting, AuditEvent, Voucher, Credit))
    finally:
        db.close()


#: The corpus is built from placeholder values; the world's real ids are filled in per case.
_SAMPLE = {"patient": 1, "other": 2, "payer": 3, "encounter": 4, "voucher": 5, "credit": 6, "self_pay": 7,
           "lines": "lines.csv", "charge": 8}
CLI_CASES = [(name, words) for name, _, words in _cli_cases(_SAMPLE)]


@pytest.mark.parametrize("name, words", [pytest.param(n, w, id=n) for n, w in CLI_CASES])
def test_a_bad_command_line_gets_one_clear_line_and_writes_nothing(cli_world, capsys, monkeypatch, tmp_path,
                                                                 request, name, words):
    url, world = cli_world
    why, engines = CLI_KNOWN.get(name, (None, ()))
    if ("postgresql" if url.startswith("postgresql") else "sqlite") in engines:
        request.applymarker(pytest.mark.xfail(strict=True, reason=why))
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp_path))
    monkeypatch.delenv("CLAIMDESK_DB", raising=False)
    argv = next(a for n, a, _ in _cli_cases(world) if n == name)
    before = _row_counts(url)
    code, out, err = Cli(url, capsys)(*argv, "--json")
    lines = err.splitlines()
    clear = (code != 0 and "Traceback" not in err and "unexpected" not in err and len(lines) == 1
             and lines[0].startswith("claimdesk: error: ") and any(w in lines[0].lower() for w in words)
             and out == "" and _row_counts(url) == before)
    record_outcome("command line input", name, "accepted" if code == 0 else "refused" if clear else "unclear",
                   "postgresql" if url.startswith("postgresql") else "sqlite")
    assert code != 0, f"accepted: {out[:200]}"
    assert "Traceback" not in err and "unexpected" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("claimdesk: error: "), err
    assert any(w in lines[0].lower() for w in words), f"{lines[0]!r} names none of {words}"
    assert out == ""
    assert _row_counts(url) == before, "a refused command wrote rows"


def test_the_cli_corpus_is_big_enough():
    assert len(CLI_CASES) >= 200 and len({n for n, _ in CLI_CASES}) == len(CLI_CASES)


# --- files: a size limit on every file a person names; exports private -----------------------
def _sparse(path, size: int):
    """A file of ``size`` bytes that takes no disk (a hole)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def test_a_file_over_its_limit_is_refused_naming_the_option_and_nothing_is_written(cli, tmp_path):
    from claimdesk.core import files

    pat = b.patient()
    enc, _ = b.encounter(pat, [80_00])
    vid = b.voucher(b.payer("Aetna"), 100_00)
    before = _counts()
    big_csv = _sparse(tmp_path / "lockbox.csv", files.BATCH_LIMIT + 1)
    code, out, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", str(big_csv))
    assert (code, out) == (2, "") and err.startswith("claimdesk: error: file: ") and "larger than 50 MB" in err
    big_json = _sparse(tmp_path / "inputs.json", files.JSON_LIMIT + 1)
    code, out, err = cli("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", f"@{big_json}")
    assert (code, out) == (2, "") and err.startswith("claimdesk: error: data: ") and "larger than 20 MB" in err
    code, _, err = cli("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", f"@{tmp_path}")
    assert code == 2 and "data:" in err and "folder" in err
    assert _counts() == before
    # just under the limit: read
    ok_json = tmp_path / "ok.json"
    ok_json.write_text(json.dumps({"amount": "5.00", "reason": "COURTESY"}) + " " * (files.JSON_LIMIT - 100))
    cli.ok("actions", "apply", str(enc.id), "patient_writeoff_office", "--data", f"@{ok_json}")


def test_reading_dev_zero_stops_at_the_limit(db_url, tmp_path):
    """``--file /dev/zero`` (or a lines file that is a link to it) read 19 GB before; now each
    reader stops after its limit. Run apart, memory capped, so a regression fails instead of
    eating the machine."""
    import subprocess
    import sys

    zero_csv = tmp_path / "zero.csv"
    zero_csv.symlink_to("/dev/zero")
    script = f"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from claimdesk.core.cli import main
main(["--db", {db_url!r}, "init"], user="admin")
for argv in (["payments", "post-batch", "--voucher", "1", "--file", "/dev/zero"],
             ["payments", "post-batch", "--voucher", "1", "--file", {str(zero_csv)!r}],
             ["actions", "apply", "1", "patient_writeoff_office", "--data", "@/dev/zero"],
             ["eob", "post", "--data", "@/dev/zero"]):
    print(main(["--db", {db_url!r}, *argv], user="admin"))
"""
    env = {**__import__("os").environ, "CLAIMDESK_CONFIG": empty_config(tmp_path)}
    env.pop("CLAIMDESK_DB", None)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert run.stdout.split()[-4:] == ["2", "2", "2", "2"], run.stdout + run.stderr
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("claimdesk: error: ")]
    assert len(errors) == 4 and "Traceback" not in run.stderr
    assert errors[0].startswith("claimdesk: error: file: ") and ".csv or .json" in errors[0]
    assert errors[1].startswith("claimdesk: error: file: ") and "larger than 50 MB" in errors[1]
    assert all(e.startswith("claimdesk: error: data: ") and "larger than 20 MB" in e for e in errors[2:])


def _modes(folder) -> dict:
    import os
    import stat

    return {str(p.relative_to(folder)): stat.S_IMODE(os.stat(p).st_mode) for p in sorted(folder.rglob("*"))}


def test_exports_with_patient_data_are_private_to_the_clinics_account(database, tmp_path, monkeypatch):
    """Claim batch exports (JSON, CSV, 837P) and statement PDFs: files 0600, folders made 0700,
    whatever the umask; a file already there (0644) is replaced by a private one."""
    import os

    from claimdesk.core.config import Clinic, clinic_section
    from claimdesk.core.demo.reference import CLINIC
    from claimdesk.core.models import Claim
    from claimdesk.core.services import claims, statement_render, statements

    from tests.test_claim_export import import_claims
    from tests.x12gen import make_claims

    cfg = tmp_path / "clinic.toml"
    cfg.write_text(clinic_section(Clinic(**CLINIC)) + '\n[edi]\nusage = "T"\n', encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(cfg))
    old_umask = os.umask(0o022)
    try:
        import_claims(make_claims(2, seed=5))
        for claim in list(Claim.select()):
            claims.requeue(claim.id, "resend")
        out = tmp_path / "exports" / "claims"
        result = claims.build_batch(out_dir=out)
        assert result["x12"] is not False and result["batches"]
        modes = _modes(tmp_path / "exports")
        assert {name: mode for name, mode in modes.items() if "." not in name} == {"claims": 0o700}
        files = {name: mode for name, mode in modes.items() if "." in name}
        assert {n.rsplit(".", 1)[1] for n in files} == {"json", "csv", "837"}
        assert set(files.values()) == {0o600}, files

        pat = b.patient()
        b.encounter(pat, [75_25])
        sid = statements.generate_for(pat.id)["statement_id"]
        pdf_dir = tmp_path / "statements" / "2026"
        pdf = statement_render.render_pdf(sid, pdf_dir / "statement.pdf")
        assert pdf.read_bytes().startswith(b"%PDF")
        assert _modes(tmp_path / "statements") == {"2026": 0o700, "2026/statement.pdf": 0o600}
        (pdf_dir / "old.pdf").write_bytes(b"x")
        os.chmod(pdf_dir / "old.pdf", 0o644)
        statement_render.render_pdf(sid, pdf_dir / "old.pdf")
        assert _modes(pdf_dir)["old.pdf"] == 0o600 and (pdf_dir / "old.pdf").read_bytes().startswith(b"%PDF")
        assert [p.name for p in pdf_dir.iterdir() if p.name.startswith(".")] == []  # no temporary left
    finally:
        os.umask(old_umask)


# --- users: a typo is not a new user ------------------------------------------------------------
def test_deactivating_a_name_that_is_not_a_user_is_refused_and_writes_nothing(cli):
    from claimdesk.core.models import User

    before = (User.select().count(), AuditEvent.select().count())
    code, out, err = cli("users", "deactivate", "clerk1x", user="admin")
    assert (code, out) == (3, "") and err.startswith("claimdesk: error: username: ") and "'clerk1x'" in err
    assert (User.select().count(), AuditEvent.select().count()) == before
    assert not User.select().where(User.username == "clerk1x").exists()
    assert "tester can no longer make changes" in cli.ok("users", "deactivate", "tester", user="admin")
    assert User.get(User.username == "tester").active is False


# --- money from JSON files: strings only -------------------------------------------------------------
def test_a_batch_file_with_json_numbers_or_other_digits_is_refused_naming_the_line(cli, tmp_path):
    pat = b.patient()
    vid = b.voucher(b.payer("Aetna"), 100_00)
    before = _counts()
    for amount, row in ((1.5, "item 2"), (12, "item 2"), ("\u0661\u0662", "item 2")):
        path = tmp_path / "lines.json"
        path.write_text(json.dumps([{"patient_id": pat.id, "amount": "1.00"}, {"patient_id": pat.id, "amount": amount}]))
        code, out, err = cli("payments", "post-batch", "--voucher", str(vid), "--file", str(path))
        assert (code, out) == (2, ""), err
        assert err.startswith("claimdesk: error: lines.1.amount: ") and row in err
    assert _counts() == before
