"""What the app's start imports: the PostgreSQL driver only for a postgresql:// URL.

Each check runs in a fresh interpreter: what a module imports depends on what was
imported before it, and the test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys


def _fresh(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_starting_the_app_on_sqlite_imports_neither_psycopg_nor_marshmallow_before_the_plugins():
    seen = _fresh(
        "import json, sys\n"
        "import claimdesk.tui.app\n"
        "print(json.dumps({m: m in sys.modules for m in ('peewee', 'psycopg', 'marshmallow')}))\n")
    assert seen == {"peewee": True, "psycopg": False, "marshmallow": False}


def test_a_postgresql_url_hands_peewee_the_driver():
    seen = _fresh(
        "import json, sys\n"
        "from claimdesk.core import db\n"
        "before = 'psycopg' in sys.modules\n"
        "sq = db.make_database(':memory:')\n"
        "after_sqlite = 'psycopg' in sys.modules\n"
        "pg = db.make_database('postgresql://clerk:secret@localhost:1/desk')\n"
        "import peewee, psycopg\n"
        "from psycopg.pq import TransactionStatus as TS\n"
        "a = pg._adapter\n"
        "print(json.dumps({'before': before, 'after_sqlite': after_sqlite,\n"
        "                  'driver': peewee.psycopg is psycopg, 'adapter': type(a).__name__,\n"
        "                  'consts': [a.txn_idle is TS.IDLE, a.txn_inerror is TS.INERROR,\n"
        "                             a.txn_unknown is TS.UNKNOWN],\n"
        "                  'json': peewee.Json_pg3 is not None and a.jsonb_type is not None,\n"
        "                  'postgres': isinstance(pg, peewee.PostgresqlDatabase)}))\n")
    assert seen == {"before": False, "after_sqlite": False, "driver": True, "adapter": "Psycopg3Adapter",
                    "consts": [True, True, True], "json": True, "postgres": True}


def test_peewee_imported_first_keeps_its_own_driver_import():
    seen = _fresh(
        "import json, sys\n"
        "import peewee\n"
        "from claimdesk.core import db\n"
        "print(json.dumps({'psycopg': 'psycopg' in sys.modules, 'driver': peewee.psycopg is not None}))\n")
    assert seen == {"psycopg": True, "driver": True}


def test_loading_the_plugins_leaves_the_claims_and_837p_code_for_when_an_action_needs_it():
    seen = _fresh(
        "import json, sys\n"
        "from claimdesk.core import config\n"
        "from claimdesk.core.plugins.host import get_host\n"
        "host = get_host(config.Settings(db_url=':memory:', user='x'))\n"
        "print(json.dumps({'actions': len(host.actions()), 'loaded': [m for m in (\n"
        "    'claimdesk.core.services.claims', 'claimdesk.core.services.statements',\n"
        "    'claimdesk.core.x12.claims837') if m in sys.modules]}))\n")
    assert seen["actions"] >= 19 and seen["loaded"] == []


def test_the_collector_held_for_the_start_is_switched_on_again_when_the_app_cannot_open(tmp_path):
    # a file that is some other program's database: the app refuses it before any screen
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE invoices (id INTEGER)").connection.commit()
    seen = _fresh(
        "import gc, io, json, sys, contextlib\n"
        "from claimdesk.core.cli import main\n"
        "err = io.StringIO()\n"
        "with contextlib.redirect_stderr(err):\n"
        f"    code = main(['--db', {str(other)!r}])\n"
        "print(json.dumps({'code': code, 'gc': gc.isenabled(), 'said': err.getvalue()}))\n")
    assert seen["code"] == 2 and "not claimdesk's" in seen["said"]
    assert seen["gc"] is True


def test_marshmallow_imported_after_claimdesk_compiles_its_email_patterns_on_first_use_and_still_validates():
    seen = _fresh(
        "import json, re, sys\n"
        "real = re.compile\n"
        "import claimdesk\n"
        "from marshmallow import ValidationError\n"
        "from marshmallow.validate import Email, Regexp\n"
        "deferred = type(Email.DOMAIN_REGEX).__name__\n"
        "def check(text):\n"
        "    try:\n"
        "        return Email()(text)\n"
        "    except ValidationError as exc:\n"
        "        return 'refused: ' + exc.messages[0]\n"
        "said = [check(t) for t in ('billing@clinic.example', 'no-at-sign', 'a@-bad-.example',\n"
        "                           'jos\\u00e9@caf\\u00e9.example', 'x@localhost')]\n"
        "print(json.dumps({'deferred': deferred, 'said': said,\n"
        "                  'compiled': isinstance(Email.DOMAIN_REGEX._compiled, re.Pattern),\n"
        "                  'restored': re.compile is real,\n"
        "                  'others': isinstance(Regexp(r'^\\d+$').regex, re.Pattern),\n"
        "                  'finder_gone': not any(type(f).__name__ == '_Finder' for f in sys.meta_path)}))\n")
    assert seen["deferred"] == "DeferredPattern"
    assert seen["said"] == ["billing@clinic.example", "refused: Not a valid email address.",
                            "refused: Not a valid email address.", "jos\u00e9@caf\u00e9.example", "x@localhost"]
    assert seen["compiled"] and seen["restored"] and seen["others"] and seen["finder_gone"]


def test_marshmallow_imported_before_claimdesk_is_left_as_it_is():
    seen = _fresh(
        "import json, re\n"
        "from marshmallow.validate import Email\n"
        "import claimdesk\n"
        "print(json.dumps({'pattern': isinstance(Email.USER_REGEX, re.Pattern)}))\n")
    assert seen == {"pattern": True}


def test_only_the_marshmallow_modules_own_patterns_are_deferred():
    import re

    from claimdesk.core import deferred_regexes

    ns = {"__name__": deferred_regexes.MODULE, "compile": deferred_regexes._compile_deferring_module_patterns}
    theirs = eval("compile(r'^a+$')", ns)  # called from a frame of that module
    ours = deferred_regexes._compile_deferring_module_patterns(r"^a+$")
    assert type(theirs).__name__ == "DeferredPattern" and theirs.match("aaa") and not theirs.match("ab")
    assert theirs.pattern == "^a+$"
    assert isinstance(ours, re.Pattern)
