"""Hostile input at the command line (issue 19): each bad value below goes through the real
``claimdesk`` entry point (in-process, :func:`claimdesk.core.cli.main`) and must get one line
on stderr that names the option, field, variable, file or plugin at fault, the refusal's exit
code, no traceback and no "unexpected" (the words of an error nobody anticipated), and write
nothing (journal entries, postings, audit events, vouchers, credits, statements: counts unchanged).

The table covers what once ended in a generic ``unexpected X``: deeply nested JSON, numbers of
thousands of digits, a CSV field past the csv module's limit, bytes that are not UTF-8, output
paths that are folders or in no folder, a port out of range, a bad ``CLAIMDESK_NOW``, a fee
plugin that raises; and the other hostile values of the issue: a ``CLAIMDESK_CONFIG`` naming no
file, business dates such as 0001-01-01 or 2099-01-01. ``bench/hostile_figures.py`` counts it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimdesk.api import hookimpl
from claimdesk.core.models import AuditEvent, Credit, JournalEntry, Posting, Statement, Voucher

from tests import builders as b
from tests.clirunner import Cli
from tests.conftest import BACKENDS, empty_config, new_database_url, record_outcome

DEEP = 100_000  # levels of JSON nesting (Python's json gives up near 1,000)
DIGITS = 5_000  # digits of a number (Python refuses to read an int of more than 4,300)
FIELD = 128 * 1024 + 1  # characters in one CSV field (the csv module's own limit is 131,072)


class Case:
    """One hostile command line: ``argv`` (``{name}`` filled from the world), extra environment,
    the exit codes that are a clear refusal, and the words one of which the error must contain."""

    def __init__(self, name: str, argv: list[str], words: tuple[str, ...], *, env: dict | None = None,
                 codes: tuple[int, ...] = (2,), plugin: bool = False):
        self.name, self.argv, self.words, self.env, self.codes, self.plugin = name, argv, words, env or {}, codes, plugin


FILE_NAMES = ("deep.json", "deep-object.json", "digits.json", "digits.csv", "field.csv", "field-quoted.csv",
              "inputs.json", "latin1.csv", "latin1.json", "latin1.835", "latin1.837", "a-folder", "a-file",
              "no-such-folder")  # (the last one never made)


def _files(folder: Path) -> dict[str, str]:
    """The hostile files the table names (:data:`FILE_NAMES`), made once per world."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "deep.json": "[" * DEEP + "]" * DEEP,
        "deep-object.json": '{"a": ' * DEEP + "1" + "}" * DEEP,
        "digits.json": json.dumps([{"patient_id": 1, "amount": "1.00"}]).replace("1,", "1" * DIGITS + ",", 1),
        "digits.csv": f"patient_id,amount\n{'1' * DIGITS},1.00\n",
        "field.csv": f"patient_id,amount,memo\n1,1.00,{'m' * FIELD}\n",
        "field-quoted.csv": f'patient_id,amount,memo\n1,1.00,"{"q" * FIELD}"\n',
        "inputs.json": None,  # (bytes below)
        "latin1.csv": None,
        "latin1.json": None,
        "latin1.835": None,
        "latin1.837": None,
    }
    for name, text in made.items():
        if text is not None:
            (folder / name).write_text(text, encoding="utf-8")
    (folder / "inputs.json").write_bytes(b'{"amount": "1.00", "reason": "COURTESY \xe9t\xe9"}')
    (folder / "latin1.csv").write_bytes(b"patient_id,amount,memo\n1,1.00,caf\xe9\n")
    (folder / "latin1.json").write_bytes(b'[{"patient_id": 1, "amount": "1.00", "memo": "caf\xe9"}]')
    (folder / "latin1.835").write_bytes(b"ISA*00*          *00*          *ZZ*CAF\xc9\xff*~")
    (folder / "latin1.837").write_bytes(b"ISA*00*          *00*          *ZZ*CAF\xc9\xff*~")
    (folder / "a-folder").mkdir(exist_ok=True)
    (folder / "a-file").write_text("not a folder\n", encoding="utf-8")
    return {name: str(folder / name) for name in FILE_NAMES}


def cases(w: dict) -> list[Case]:
    """The table (``w``: the world's ids and file paths)."""
    f = w["files"]
    p, e, s, m, v = (str(w[k]) for k in ("patient", "encounter", "self_pay", "payer", "voucher"))
    st = str(w["statement"])
    check = ["voucher", "create", "--payer", m, "--method", "check", "--amount", "1.00", "--details",
             '{"check_number": "9"}']
    eob = {"encounter_id": w["encounter"], "payer_id": w["payer"], "voucher_id": w["insurer_voucher"],
           "lines": [{"charge_id": w["charge"], "paid": "1.00"}]}
    deep_obj = '{"a": ' * DEEP + "1" + "}" * DEEP
    big = "1" * DIGITS
    out = []
    # --- deeply nested JSON: in an option, in @file, in a batch file ---
    out += [
        Case("deep-json-eob-data", ["eob", "post", "--data", "[" * DEEP + "]" * DEEP], ("data",)),
        Case("deep-json-action-data", ["actions", "apply", s, "patient_writeoff_office", "--data", deep_obj],
             ("data",)),
        Case("deep-json-details", check[:-1] + [deep_obj], ("details",)),
        Case("deep-json-fee", ["check", "return", v, "--reason", "NSF", "--fee-policy", "flat", "--fee", deep_obj],
             ("fee",)),
        Case("deep-json-data-file", ["eob", "post", "--data", "@" + f["deep-object.json"]], ("data",)),
        Case("deep-json-batch-file", ["payments", "post-batch", "--voucher", v, "--file", f["deep.json"]], ("file",)),
    ]
    # --- numbers of thousands of digits ---
    out += [
        Case("digits-json-id", ["eob", "post", "--data", json.dumps({**eob, "encounter_id": "X"}).replace(
            '"X"', big)], ("data", "encounter_id")),
        Case("digits-json-amount", ["actions", "apply", s, "patient_writeoff_office", "--data",
                                    '{"amount": ' + big + ', "reason": "COURTESY"}'], ("data", "amount")),
        Case("digits-patient-show", ["patient", "show", big], ("patient",)),
        Case("digits-encounter-show", ["encounter", "show", big], ("encounter",), codes=(2, 3)),
        Case("digits-voucher-payer", ["voucher", "create", "--payer", big, "--method", "check", "--amount", "1.00"],
             ("payer",)),
        Case("digits-amount", check[:7] + [big] + check[8:], ("amount",)),
        Case("digits-amount-decimals", check[:7] + [big + ".00"] + check[8:], ("amount",)),
        Case("digits-credit-amount", ["credit", "post", "--patient", p, "--voucher", v, "--amount", big],
             ("amount",)),
        Case("digits-apply-charge", ["credit", "post", "--patient", p, "--voucher", v, "--apply", big + ":1.00"],
             ("charge",)),
        Case("digits-audit-limit", ["audit", "--limit", big], ("limit",)),
        Case("digits-voucher-limit", ["voucher", "list", "--limit", big], ("limit",)),
        Case("digits-era-resolve", ["era", "resolve", big, "--reason", "done"], ("id", "exception")),
        Case("digits-batch-csv", ["payments", "post-batch", "--voucher", v, "--file", f["digits.csv"]],
             ("patient_id",)),
        Case("digits-batch-json", ["payments", "post-batch", "--voucher", v, "--file", f["digits.json"]],
             ("patient_id", "file")),
    ]
    # --- a CSV field past the csv module's limit ---
    out += [
        Case("csv-field-128k", ["payments", "post-batch", "--voucher", v, "--file", f["field.csv"]],
             ("file", "memo")),
        Case("csv-field-128k-quoted", ["payments", "post-batch", "--voucher", v, "--file", f["field-quoted.csv"]],
             ("file", "memo")),
    ]
    # --- bytes that are not UTF-8 ---
    out += [
        Case("latin1-batch-csv", ["payments", "post-batch", "--voucher", v, "--file", f["latin1.csv"]], ("file",)),
        Case("latin1-batch-json", ["payments", "post-batch", "--voucher", v, "--file", f["latin1.json"]],
             ("file",)),
        Case("latin1-data-file", ["actions", "apply", s, "patient_writeoff_office", "--data", "@" + f["inputs.json"]],
             ("data",)),
        Case("latin1-era-file", ["era", "import", f["latin1.835"]], ("latin1.835",), codes=(1, 2)),
        Case("latin1-837-file", ["import", "837", f["latin1.837"]], ("latin1.837",), codes=(1, 2)),
        Case("surrogate-in-argument", ["check", "return", v, "--reason", "NSF \udce9"], ("reason",)),
    ]
    # --- where output goes: a folder for a file, no such folder, a file for a folder ---
    out += [
        Case("out-csv-is-a-folder", ["provider", "activity", "--from", "2026-03-01", "--to", "2026-03-31", "--out",
                                     f["a-folder"]], ("out",)),
        Case("out-csv-no-folder", ["provider", "activity", "--from", "2026-03-01", "--to", "2026-03-31", "--out",
                                   f["no-such-folder"] + "/activity.csv"], ("out",)),
        Case("out-csv-under-a-file", ["provider", "activity", "--from", "2026-03-01", "--to", "2026-03-31", "--out",
                                      f["a-file"] + "/activity.csv"], ("out",)),
        Case("out-aging-is-a-folder", ["aging", "report", "--out", f["a-folder"]], ("out",)),
        Case("out-claims-is-a-file", ["claims", "batch", "--out", f["a-file"]], ("out",)),
        Case("out-claims-under-a-file", ["claims", "batch", "--out", f["a-file"] + "/claims"], ("out",)),
        Case("pdf-is-a-folder", ["statements", "show", st, "--pdf", f["a-folder"]], ("pdf",)),
        Case("pdf-no-folder", ["statements", "show", st, "--pdf", f["no-such-folder"] + "/s.pdf"], ("pdf",)),
        Case("pdf-under-a-file", ["statements", "show", st, "--pdf", f["a-file"] + "/s.pdf"], ("pdf",)),
        Case("anchor-to-a-folder", ["audit", "anchor", "--to", f["a-folder"]], ("to",)),
    ]
    # --- the database, the clock, the config file ---
    out += [
        Case("port-99999", ["--db", "postgresql://clerk@localhost:99999/claimdesk", "voucher", "list"],
             ("port",), codes=(5,)),
        Case("db-mysql", ["--db", "mysql://clerk@localhost/claimdesk", "voucher", "list"], ("mysql",), codes=(5,)),
        Case("now-not-a-time", ["daysheet", "show"], ("CLAIMDESK_NOW",), env={"CLAIMDESK_NOW": "yesterday"}),
        Case("now-out-of-range", check, ("CLAIMDESK_NOW",), env={"CLAIMDESK_NOW": "10000-01-01T00:00:00"}),
        Case("config-missing", ["voucher", "list"], ("CLAIMDESK_CONFIG",),
             env={"CLAIMDESK_CONFIG": f["no-such-folder"] + "/config.toml"}),
        Case("config-empty", ["voucher", "list"], ("CLAIMDESK_CONFIG",), env={"CLAIMDESK_CONFIG": " "}),
        Case("config-a-folder", ["voucher", "list"], ("config",), env={"CLAIMDESK_CONFIG": f["a-folder"]}),
    ]
    # --- business dates outside the window (1900-01-01 to a year after today) ---
    for day in ("0001-01-01", "1899-12-31", "2099-01-01", "9999-12-31"):
        out += [
            Case(f"date-voucher[{day}]", check + ["--date", day], ("date",)),
            Case(f"date-credit-new-voucher[{day}]", ["credit", "post", "--patient", p, "--payer", m, "--new-voucher",
                                                     "cash", "--amount", "1.00", "--date", day], ("date",)),
            Case(f"date-daysheet-show[{day}]", ["daysheet", "show", "--date", day], ("date",)),
            Case(f"date-daysheet-close[{day}]", ["daysheet", "close", "--date", day], ("date",)),
            Case(f"date-aging-recalc[{day}]", ["aging", "recalc", "--as-of", day], ("as_of", "as-of")),
            Case(f"date-provider-activity[{day}]", ["provider", "activity", "--from", day, "--to", "2026-03-31"],
                 ("from",)),
            Case(f"date-eob[{day}]", ["eob", "post", "--data", json.dumps({**eob, "received_on": day})],
                 ("received_on",)),
        ]
    # --- a fee plugin whose code raises: named ---
    out += [
        Case("fee-plugin-raises", ["check", "return", v, "--reason", "NSF", "--fee-policy", "clinic_fee"],
             ("clinic_fee_rules",), codes=(4,), plugin=True),
        Case("fee-plugin-returns-junk", ["check", "return", v, "--reason", "NSF", "--fee-policy", "clinic_junk_fee"],
             ("clinic_fee_rules",), codes=(4,), plugin=True),
    ]
    return out


class BrokenFees:
    """A clinic's fee plugin whose fee rule raises (and another whose rule returns no amount)."""

    @staticmethod
    def _raises(returned, data):
        raise RuntimeError("fee table missing")

    @hookimpl
    def claimdesk_fee_policies(self):
        from claimdesk.api import FeePolicy

        return [FeePolicy(key="clinic_fee", label="Clinic fee", fee_cents=self._raises),
                FeePolicy(key="clinic_junk_fee", label="Clinic junk fee", fee_cents=lambda returned, data: 12.5)]


def _world(url: str, tmp: Path) -> dict:
    from claimdesk.core import db
    from claimdesk.core.context import as_user
    from claimdesk.core.services import payments, statements

    db.connect(url)
    try:
        with as_user("tester"):
            pat = b.patient("Doe", "Jane")
            medicare = b.payer("Medicare", "medicare")
            enc, charges = b.encounter(pat, [100_00, 50_00], payers=[medicare])
            self_pay, _ = b.encounter(pat, [80_00])
            vid = b.voucher(medicare, 300_00)
            own = b.voucher(None, 20_00)
            paid = payments.post_credit({"patient_id": pat.id, "voucher_id": own, "apply": "auto"})
            assert paid["applied_total"] > 0  # the check paid the patient: a returned-check fee has a patient
            sid = statements.generate_for(pat.id)["statement_id"]
    finally:
        db.close()
    return {"patient": pat.id, "payer": medicare.id, "encounter": enc.id, "charge": charges[0].id,
            "self_pay": self_pay.id, "voucher": own, "statement": sid, "files": _files(tmp / "files"),
            "insurer_voucher": vid}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory):
    """One database per engine for the whole table (made by ``claimdesk init`` as admin)."""
    from claimdesk.core.cli import main

    tmp = tmp_path_factory.mktemp("hostile-cli")
    url = new_database_url(request.param, request, tmp, upgraded=False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLAIMDESK_CONFIG", empty_config(tmp))
        mp.setenv("CLAIMDESK_NOW", "2026-03-10T10:00:00")
        mp.setenv("CLAIMDESK_EXPORT_DIR", str(tmp / "exports"))
        mp.delenv("CLAIMDESK_DB", raising=False)
        assert main(["--db", url, "init"], user="admin") == 0
        assert main(["--db", url, "users", "add", "tester", "--role", "clerk"], user="admin") == 0
        yield url, _world(url, tmp), tmp


def counts(url: str) -> tuple:
    from claimdesk.core import db

    db.connect(url)
    try:
        return tuple(m.select().count() for m in (JournalEntry, Posting, AuditEvent, Voucher, Credit, Statement))
    finally:
        db.close()


#: The table is built from placeholder values; each test fills in its world's real ids and paths.
_SAMPLE = {"patient": 1, "payer": 2, "encounter": 3, "charge": 4, "self_pay": 5, "voucher": 6, "statement": 7,
           "insurer_voucher": 8, "files": {name: name for name in FILE_NAMES}}
CASES = cases(_SAMPLE)


@pytest.mark.parametrize("name", [c.name for c in CASES])
def test_a_hostile_value_gets_one_clear_line_naming_it_and_writes_nothing(world, capsys, monkeypatch, name):
    url, w, tmp = world
    case = next(c for c in cases(w) if c.name == name)
    monkeypatch.setenv("CLAIMDESK_CONFIG", empty_config(tmp))
    monkeypatch.setenv("CLAIMDESK_NOW", "2026-03-10T10:00:00")
    monkeypatch.setenv("CLAIMDESK_EXPORT_DIR", str(tmp / "exports"))
    monkeypatch.delenv("CLAIMDESK_DB", raising=False)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    host = None
    if case.plugin:
        from claimdesk.core.plugins.host import PluginHost, reset_host

        host = PluginHost().load_entrypoints()
        assert host.register(BrokenFees(), "clinic_fee_rules", distribution="clinic-fee-rules", version="0.1")
        reset_host(host)
    before = counts(url)
    try:
        code, out, err = Cli(url, capsys)(*case.argv)
    finally:
        if host is not None:
            reset_host(None)
    lines = err.splitlines()
    said = out if code == 1 else (lines[0] if len(lines) == 1 and lines[0].startswith("claimdesk: error: ") else "")
    print(f"{name}: exit {code}: {(said or err).strip()[:400]}")  # (pytest -s shows the table's answers)
    clear = (code in case.codes and said and "Traceback" not in err and "unexpected" not in err.lower()
             and any(word.lower() in said.lower() for word in case.words) and len(said) < 2000
             and counts(url) == before)
    record_outcome("command line input (issue 19 table)", name,
                   "accepted" if code == 0 else "refused" if clear else "unclear",
                   "postgresql" if url.startswith("postgresql") else "sqlite")
    assert code in case.codes, f"exit {code}: {err or out[:300]}"
    assert "Traceback" not in err and "unexpected" not in err.lower(), err
    assert said, f"not one line 'claimdesk: error: ...': {err!r}"  # (1: an import's report names the file)
    assert any(word.lower() in said.lower() for word in case.words), f"{said[:300]!r} names none of {case.words}"
    assert len(said) < 2000, "the message repeats the hostile value"
    assert counts(url) == before, "a refused command wrote rows"


def test_the_table_covers_each_kind_of_hostile_input():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))
    for kind in ("deep-json", "digits", "csv-field", "latin1", "out-", "pdf-", "port", "now-", "config-",
                 "date-", "fee-plugin"):
        assert any(n.startswith(kind) for n in names), kind


def test_no_config_file_where_claimdesk_looks_by_default_is_fine(monkeypatch, tmp_path):
    """Only a CLAIMDESK_CONFIG naming no file is refused: the default file (the user config
    folder's ``claimdesk/config.toml``) is optional."""
    from claimdesk.core import config

    monkeypatch.delenv("CLAIMDESK_CONFIG", raising=False)
    monkeypatch.delenv("CLAIMDESK_DB", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty-home"))
    path = config.config_path()
    assert path == tmp_path / "empty-home" / "claimdesk" / "config.toml" and not path.exists()
    settings = config.load(db=str(tmp_path / "c.db"))
    assert (settings.config_path, settings.db_url) == (path, str(tmp_path / "c.db"))
