"""Run ``claimdesk`` in-process, the way the shared ``cli`` fixture (tests/conftest.py) does."""

from __future__ import annotations

import json

from claimdesk.core.cli import main


class Cli:
    """``cli("encounter", "show", "3")`` runs ``claimdesk --db URL encounter show 3`` in-process as
    the user "tester" (``main(..., user=)``: the in-process identity no command line can give)."""

    def __init__(self, url: str, capsys):
        self.url, self.capsys = url, capsys

    def __call__(self, *args: str, user: str = "tester") -> tuple[int, str, str]:
        """Exit code, stdout and stderr."""
        self.capsys.readouterr()
        code = main(["--db", self.url, *args], user=user)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *args: str, user: str = "tester") -> str:
        """Stdout of a command that must succeed."""
        code, out, err = self(*args, user=user)
        assert code == 0, err
        return out

    def json(self, *args: str, user: str = "tester"):
        """The parsed ``--json`` output of a command that must succeed."""
        return json.loads(self.ok(*args, "--json", user=user))
