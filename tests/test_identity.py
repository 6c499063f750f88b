"""Who is working comes from an authenticated session (issue 19): the OS login of the process
(by its user id, never USER/LOGNAME), on PostgreSQL the connection's role; no flag, environment
variable or config entry makes a process act as someone else; each audit event records the
identity and the SSH client; on PostgreSQL the database itself refuses what a clerk's role may
not do, even to a clerk who connects without claimdesk."""

from __future__ import annotations

import os
import pwd

import psycopg
import pytest

from claimdesk.core import config, db
from claimdesk.core.cli import main
from claimdesk.core.models import AuditEvent, User
from claimdesk.core.services.verify import verify

from tests.conftest import new_database_url

LOGIN = pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def hermetic(monkeypatch, tmp_path):
    """No config file of the machine; a config path of our own."""
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")  # (empty until a test writes to it: CLAIMDESK_CONFIG must name a file)
    monkeypatch.setenv("CLAIMDESK_CONFIG", str(path))
    return path


def run(capsys, *args: str, user: str | None = None) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args), user=user)
    out, err = capsys.readouterr()
    return code, out, err


def test_no_flag_variable_or_config_entry_chooses_who_is_working(hermetic, monkeypatch, tmp_path, capsys):
    url = str(tmp_path / "c.db")
    assert run(capsys, "--db", url, "init")[0] == 0  # this login: the first admin
    monkeypatch.setenv("CLAIMDESK_USER", "mallory")
    monkeypatch.setenv("USER", "mallory")
    monkeypatch.setenv("LOGNAME", "mallory")
    assert config.load().user == LOGIN

    code, _, err = run(capsys, "--db", url, "--user", "mallory", "users", "add", "mallory", "--role", "admin")
    assert code == 2 and "--user" in err
    code, _, _ = run(capsys, "--db", url, "users", "add", "eve", "--role", "clerk")
    assert code == 0
    db.connect(url)
    assert [u.username for u in User.select().order_by(User.id)] == [LOGIN, "eve"]  # no mallory
    assert {e.user for e in AuditEvent.select()} == {LOGIN}  # the event records the login, not a claim
    db.close()

    hermetic.write_text('user = "mallory"\n', encoding="utf-8")
    code, _, err = run(capsys, "--db", url, "users", "list")
    assert code == 2 and "user" in err and "cannot choose who is working" in err


def test_each_event_records_the_ssh_client_and_the_chain_covers_it(hermetic, monkeypatch, tmp_path, capsys):
    url = str(tmp_path / "c.db")
    assert run(capsys, "--db", url, "init")[0] == 0
    monkeypatch.setenv("SSH_CLIENT", "203.0.113.9 51234 22")
    assert run(capsys, "--db", url, "users", "add", "eve", "--role", "clerk")[0] == 0
    db.connect(url)
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (last.user, last.client, last.hash_version) == (LOGIN, "203.0.113.9", 3)
    assert [str(v) for v in verify()] == []
    from tests.test_verify_tamper import bypass_guard

    bypass_guard("audit_event")  # what someone who can write the file could do
    db.sql("UPDATE audit_event SET client = '198.51.100.1' WHERE id = {p}", [last.id])
    assert any(f"audit event {last.id} was altered" in str(v) for v in verify())
    db.close()


# --- every way to claim to be someone else, on both engines ------------------------------------
#: Attempts to act as "boss" (an admin) from a clerk's session: (extra arguments before the
#: command, after it, environment, config file text). Each must be refused, or change nothing:
#: the admin-only change is not made and no event is recorded as boss.
SPOOFS = {
    "--user flag": (["--user", "boss"], [], {}, ""),
    "--user=boss": (["--user=boss"], [], {}, ""),
    "--user after the command": ([], ["--user", "boss"], {}, ""),
    "CLAIMDESK_USER": ([], [], {"CLAIMDESK_USER": "boss"}, ""),
    "USER": ([], [], {"USER": "boss"}, ""),
    "LOGNAME": ([], [], {"LOGNAME": "boss"}, ""),
    "USERNAME": ([], [], {"USERNAME": "boss"}, ""),
    "SUDO_USER": ([], [], {"SUDO_USER": "boss"}, ""),
    "PGUSER": ([], [], {"PGUSER": "boss"}, ""),
    "every variable at once": ([], [], {k: "boss" for k in ("CLAIMDESK_USER", "USER", "LOGNAME", "USERNAME",
                                                           "SUDO_USER", "PGUSER")}, ""),
    "config user =": ([], [], {}, 'user = "boss"\n'),
    "config [app] user =": ([], [], {}, '[app]\nuser = "boss"\n'),
}


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
@pytest.mark.parametrize("attempt", list(SPOOFS))
def test_a_clerk_claiming_to_be_someone_else_is_refused_or_ignored(engine, attempt, request, hermetic, monkeypatch,
                                                                   tmp_path, capsys):
    from tests.conftest import record_outcome

    before_args, after_args, env, config_text = SPOOFS[attempt]
    if engine == "postgresql":  # the clerk connects as their own role
        base = new_database_url("postgresql", request, None, upgraded=False)
        assert run(capsys, "--db", base, "init", user="boss")[0] == 0
        assert run(capsys, "--db", base, "users", "add", "clerk_cy", "--role", "clerk", user="boss")[0] == 0
        url, clerk = as_role(base, "clerk_cy"), "clerk_cy"
    else:  # the clerk is this login
        url, clerk = str(tmp_path / "c.db"), LOGIN
        assert run(capsys, "--db", url, "init", user="boss")[0] == 0
        assert run(capsys, "--db", url, "users", "add", LOGIN, "--role", "clerk", user="boss")[0] == 0
    home = url if engine == "sqlite" else base
    db.connect(home)
    boss_events = AuditEvent.select().where(AuditEvent.user == "boss").count()
    db.close()
    hermetic.write_text(config_text, encoding="utf-8")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, "--db", url, *before_args, "users", "add", "eve", "--role", "admin", *after_args)
    for key in env:
        monkeypatch.delenv(key)
    hermetic.write_text("", encoding="utf-8")
    db.connect(home)
    try:
        eve = User.select().where(User.username == "eve").exists()
        as_boss = AuditEvent.select().where(AuditEvent.user == "boss").count() - boss_events
    finally:
        db.close()
    worked = code == 0 or eve or as_boss
    record_outcome("identity spoofing", attempt, "accepted" if worked else "refused", engine)
    print(f"{engine} {attempt}: exit {code}: {err.strip()}")
    assert code in (2, 4) and not eve and not as_boss, (code, err)
    assert "Traceback" not in err and "unexpected" not in err
    assert ("--user" in err or "cannot choose who is working" in err) if (before_args or after_args or "user =" in
                                                                          config_text and "[app]" not in
                                                                          config_text) \
        else f"{clerk}" in err, err  # refused naming the claim, or as the clerk the session is


# --- PostgreSQL: the connection's role is the identity, and the database holds the roles --------
@pytest.fixture
def pg_url(request):
    return new_database_url("postgresql", request, None, upgraded=True)


def as_role(url: str, role: str) -> str:
    return url.replace("postgresql://claimdesk@", f"postgresql://{role}@", 1)


@pytest.mark.pg
def test_on_postgresql_the_connection_s_role_is_who_is_working(pg_url, hermetic, capsys):
    assert run(capsys, "--db", pg_url, "init", user="boss")[0] == 0
    assert run(capsys, "--db", pg_url, "users", "add", "clerk_ann", "--role", "clerk", user="boss")[0] == 0
    code, out, err = run(capsys, "--db", as_role(pg_url, "clerk_ann"), "voucher", "create", "--payer", "1",
                         "--method", "cash", "--amount", "12.50", "--json")
    assert code == 0, err
    db.connect(pg_url)
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert (last.user, last.action) == ("clerk_ann", "voucher.create")
    db.close()
    db.connect(pg_url)  # a role the database knows but claimdesk does not: not even reading
    if not db.sql("SELECT 1 FROM pg_roles WHERE rolname = 'stranger_pg'").fetchone():
        db.sql("CREATE ROLE stranger_pg LOGIN")
    db.close()
    code, _, err = run(capsys, "--db", as_role(pg_url, "stranger_pg"), "users", "list")
    assert code == 5 and "permission denied" in err, err


@pytest.mark.pg
def test_a_clerk_connecting_directly_cannot_touch_the_books_the_audit_or_the_users(pg_url, hermetic, capsys):
    assert run(capsys, "--db", pg_url, "init", user="boss")[0] == 0
    assert run(capsys, "--db", pg_url, "users", "add", "clerk_bo", "--role", "clerk", user="boss")[0] == 0
    assert run(capsys, "--db", as_role(pg_url, "clerk_bo"), "voucher", "create", "--payer", "1", "--method",
               "cash", "--amount", "5.00")[0] == 0
    attempts = {
        "change a posting": "UPDATE posting SET amount = amount + 100",
        "delete a journal entry": "DELETE FROM journal_entry",
        "rewrite the audit trail": "UPDATE audit_event SET reason = 'nothing happened'",
        "empty the audit trail": "DELETE FROM audit_entry",
        "switch the guard off": "ALTER TABLE posting DISABLE TRIGGER ALL",
        "drop the guard": "DROP TRIGGER posting_append_only ON posting",
        "alter a table": "ALTER TABLE voucher ADD COLUMN x INT",
        "make themself admin": "UPDATE \"user\" SET role = 'admin' WHERE username = 'clerk_bo'",
        "add an admin": "INSERT INTO \"user\" (username, role, full_name, active) VALUES ('eve', 'admin', '', true)",
        "truncate the ledger": "TRUNCATE posting",
    }
    refused = []
    with psycopg.connect(as_role(pg_url, "clerk_bo"), autocommit=True) as conn:
        for what, statement in attempts.items():
            try:
                conn.execute(statement)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.RaiseException) as exc:
                assert "permission denied" in str(exc) or "must be owner" in str(exc) or "append-only" in str(exc)
                refused.append(what)
        assert conn.execute("SELECT count(*) FROM posting").fetchone()[0] > 0  # reading is allowed
    from tests.conftest import record_outcome

    for what in attempts:
        record_outcome("direct SQL by a clerk role", what, "refused" if what in refused else "accepted", "postgresql")
    assert refused == list(attempts)
    db.connect(pg_url)
    assert [str(v) for v in verify()] == []
    assert User.get(User.username == "clerk_bo").role == "clerk"
    db.close()


def test_a_passphrase_is_set_by_its_owner_or_an_admin_and_only_its_scrypt_hash_is_kept(
        hermetic, monkeypatch, tmp_path, capsys):
    import io

    url = str(tmp_path / "c.db")
    assert run(capsys, "--db", url, "init", user="boss")[0] == 0
    assert run(capsys, "--db", url, "users", "add", "ann", "--role", "clerk", user="boss")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, "--db", url, "users", "passwd", user="ann")
    assert code != 0 and "passphrase: a passphrase has at least 8 characters" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("blue kettle song\n"))
    assert run(capsys, "--db", url, "users", "passwd", user="ann")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("taken over now\n"))
    code, _, err = run(capsys, "--db", url, "users", "passwd", "boss", user="ann")
    assert code == 4 and "setting someone else's passphrase needs an admin" in err
    db.connect(url)
    from claimdesk.core import users

    ann = User.get(User.username == "ann")
    assert ann.passphrase.startswith("scrypt$") and "blue kettle" not in ann.passphrase
    assert users.check_passphrase("blue kettle song", "ann") and not users.check_passphrase("blue kettle", "ann")
    event = AuditEvent.select().where(AuditEvent.action == "user.passphrase").get()
    assert (event.user, event.inputs) == ("ann", {"username": "ann"})
    assert "blue kettle" not in str(event.result)
    db.close()


def test_verify_holds_the_user_table_to_the_audited_user_changes(hermetic, tmp_path, capsys):
    from tests.test_verify_tamper import bypass_guard  # noqa: F401 (the user table has no guard to bypass)

    url = str(tmp_path / "c.db")
    assert run(capsys, "--db", url, "init", user="boss")[0] == 0
    assert run(capsys, "--db", url, "users", "add", "ann", "--role", "clerk", user="boss")[0] == 0
    assert run(capsys, "--db", url, "verify")[0] == 0
    db.connect(url)
    db.sql("UPDATE \"user\" SET role = 'admin' WHERE username = 'ann'")  # straight into the table
    db.sql("INSERT INTO \"user\" (username, full_name, role, active, passphrase) VALUES ('eve', '', 'admin', "
           + ("true" if db.is_postgres() else "1") + ", '')")
    db.close()
    code, out, _ = run(capsys, "--db", url, "verify")
    assert code == 1
    assert "user ann is admin in the user table, but the audit trail made them clerk" in out
    assert "user eve (admin) was not added through claimdesk: no audited change registers them" in out


def test_an_anchor_kept_outside_the_database_catches_a_rewritten_tail(hermetic, monkeypatch, tmp_path, capsys):
    import io

    url, kept = str(tmp_path / "c.db"), tmp_path / "anchors" / "claimdesk.anchor"
    kept.parent.mkdir()
    assert run(capsys, "--db", url, "init", user="boss")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("blue kettle song\n"))
    assert run(capsys, "--db", url, "users", "passwd", user="boss")[0] == 0  # (an event that posts nothing)
    code, out, err = run(capsys, "--db", url, "audit", "anchor", "--to", str(kept))
    assert code == 0, err
    line = kept.read_text().splitlines()[-1]
    assert out.startswith(f"audit chain head {line.split()[1]} written to {kept}")
    assert run(capsys, "--db", url, "verify", "--anchor", str(kept))[0] == 0
    db.connect(url)  # someone with the file cuts the last event and puts the guard back
    from tests.test_verify_tamper import delete_last_event

    delete_last_event()
    db.close()
    db.connect(url)
    from claimdesk.core import migrations

    migrations.upgrade()
    db.close()
    assert run(capsys, "--db", url, "verify")[0] == 0  # nothing in the database can tell...
    code, out, _ = run(capsys, "--db", url, "verify", "--anchor", str(kept))
    assert code == 1 and f"the audit chain no longer holds the head you kept ({line.split()[1]})" in out
    code, _, err = run(capsys, "--db", url, "verify", "--anchor", str(tmp_path / "missing.anchor"))
    assert code == 2 and "anchor: cannot read" in err


@pytest.mark.parametrize("args, message", [
    (["--db", "", "verify"], "db: --db is empty"),
    (["--db", "mysql://clinic@db/claims", "verify"], "mysql:// is not a database claimdesk works with"),
    (["--db", "postgresql://clinic@127.0.0.1:99999/claims", "verify"], "99999/claims is not a port number"),
])
def test_a_database_named_wrong_is_refused_never_replaced_by_another(hermetic, tmp_path, capsys, args, message):
    code, _, err = run(capsys, *args)
    assert code in (2, 5) and message in err
    assert not (tmp_path / "mysql:").exists()


def test_upgrade_never_writes_claimdesk_tables_into_someone_else_s_database(hermetic, tmp_path, capsys):
    import sqlite3

    other = tmp_path / "photos.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE album (id INTEGER PRIMARY KEY, title TEXT)")
    code, _, err = run(capsys, "--db", str(other), "db", "upgrade")
    assert code == 5 and "this database is not claimdesk's: it holds other tables (album)" in err
    with sqlite3.connect(other) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["album"]


def test_a_clock_set_wrong_is_named_not_a_crash(hermetic, monkeypatch, tmp_path, capsys):
    url = str(tmp_path / "c.db")
    assert run(capsys, "--db", url, "init", user="boss")[0] == 0
    monkeypatch.setenv("CLAIMDESK_NOW", "next tuesday")
    code, _, err = run(capsys, "--db", url, "users", "add", "ann", user="boss")
    assert code == 2 and "CLAIMDESK_NOW: is not a date and time like 2026-03-02T09:00:00, got 'next tuesday'" in err
