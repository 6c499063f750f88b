"""Every ``claimdesk …`` command the README shows works, as shown, on the demo database that
``bash .ci/app`` builds (a newcomer copies them from the README)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from claimdesk.core import db
from claimdesk.core.cli import main
from claimdesk.core.config import Clinic, clinic_section
from claimdesk.core.demo.reference import CLINIC

from tests import demo_cache
from tests.x12gen import generate_837p, make_claims
from tests.x12gen835 import remittances_by_payer, write_835

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[str]:
    """The ``claimdesk`` command lines of the README's indented code blocks, continuation lines
    joined and trailing comments dropped; the bare ``claimdesk`` (the app) left out."""
    lines, out, pending = README.read_text().splitlines(), [], ""
    for line in lines:
        if not line.startswith("    ") and not pending:
            continue
        text = pending + line.strip()
        if text.endswith("\\"):
            pending = text[:-1] + " "
            continue
        pending = ""
        text = re.sub(r"\s+#\s.*$", "", text).strip()
        if text.startswith("claimdesk "):
            out.append(text)
    return out


def test_the_readme_shows_the_commands_a_newcomer_needs():
    commands = readme_commands()
    assert len(commands) >= 20
    assert any(c.startswith("claimdesk actions apply") for c in commands)
    assert any(c.startswith("claimdesk encounter add") for c in commands)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    return demo_cache.template(tmp_path_factory)[0]


def test_every_readme_command_works_on_the_demo_database(demo_template, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"  # as .ci/app writes it: the demo clinic as billing provider
    config.write_text(f'[exports]\ndir = "{tmp_path / "exports"}"\n\n' + clinic_section(Clinic(**CLINIC)),
                      encoding="utf-8")
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(config))
    monkeypatch.setenv("CLAIMDESK_NOW", demo_cache.NOW.isoformat())
    monkeypatch.chdir(tmp_path)  # where a command's own files (visit.json, exports) go
    (tmp_path / "visit.json").write_text(VISIT)
    (tmp_path / "claims-0302.837").write_text(generate_837p(4, seed=3))  # what an EHR writes
    (tmp_path / "remit-0326.835").write_text(write_835(remittances_by_payer(make_claims(4, seed=3))))  # the payers
    with demo_cache.opened_copy(demo_template, tmp_path) as copy:
        db.close()  # each command connects itself, as from the shell
        failed = []
        for command in readme_commands():
            args = shlex.split(command)[1:]
            if "--db" in args:  # a command about another database: a new file here
                args[args.index("--db") + 1] = str(tmp_path / "other.db")
            else:
                args = ["--db", str(copy), *args]
            capsys.readouterr()
            code = main(args, user="demo")
            out, err = capsys.readouterr()
            if code != 0:
                failed.append(f"{command}\n  -> exit {code}: {err.strip() or out.strip()}")
        db.connect(str(copy))
    assert not failed, "\n".join(failed)


#: The encounter file the README's ``encounter add --data @visit.json`` reads.
VISIT = """{"patient_id": 1, "provider_id": 1, "dos": "2026-03-02", "diagnoses": ["E11.9"], "coverage_ids": [1],
 "charges": [{"code": "99213", "pointers": [1]}]}"""
