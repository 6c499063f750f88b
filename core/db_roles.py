"""PostgreSQL roles: the database itself holds what a clerk's role may do.

claimdesk's roles are database roles: ``claimdesk_clerk``, ``claimdesk_supervisor`` (a clerk
and more) and ``claimdesk_admin`` (a supervisor and more), group roles nobody logs in as. Each
person is a login role of their own, member of the group of their claimdesk role, made by
``claimdesk users add`` (:func:`sync_user`); who is working is the role the connection
authenticated as (``session_user``: peer authentication over the local socket, a password or a
certificate). The tables belong to the role that ran ``claimdesk init`` / ``db upgrade``, which
clerks are not, so no clerk can ALTER a table or disable its triggers.

What the groups may do (:func:`install`, run by every upgrade; idempotent):

- every group reads every table and uses the id sequences;
- a clerk inserts into every table but ``user`` and ``schema_version``; updates every table but
  those and the append-only ledger and audit tables (``journal_entry``, ``posting``,
  ``audit_event``, ``audit_entry``: INSERT and SELECT only; their triggers refuse UPDATE and
  DELETE for everyone besides); deletes only where a workflow does (a replaced aging snapshot,
  an encounter's removed payer slot);
- an admin also writes the ``user`` table, and their login role may create roles (to add people).

On SQLite there are no database roles: the trust boundary is the file's owner group (docs).
"""

from __future__ import annotations

import peewee

from claimdesk.core import db
from claimdesk.core.errors import Refused

#: claimdesk role -> its PostgreSQL group role.
GROUPS = {"clerk": "claimdesk_clerk", "supervisor": "claimdesk_supervisor", "admin": "claimdesk_admin"}
#: Tables no clerk writes.
NO_CLERK_WRITES = ("user", "schema_version")
#: Tables whose rows never change (their triggers refuse UPDATE and DELETE).
APPEND_ONLY = ("journal_entry", "posting", "audit_event", "audit_entry")
#: Tables a workflow deletes rows from.
DELETES = ("aging_row", "encounter_payer")


def _exists(role: str) -> bool:
    return db.sql("SELECT 1 FROM pg_roles WHERE rolname = {p}", [role]).fetchone() is not None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables() -> list[str]:
    return [r[0] for r in db.sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                                 "ORDER BY tablename")]


def install() -> None:
    """Make the group roles (once per server) and grant them what they may do on this database's
    tables; nothing on SQLite. Needs a role that may create roles (the database owner that runs
    ``claimdesk init`` or ``db upgrade``)."""
    if not db.is_postgres():
        return
    with db.write_transaction():
        db.sql("SELECT pg_advisory_xact_lock(hashtext('claimdesk.roles'))")
        for group in GROUPS.values():
            if not _exists(group):
                db.sql(f"CREATE ROLE {group} NOLOGIN")
        for member, group in (("claimdesk_supervisor", "claimdesk_clerk"), ("claimdesk_admin", "claimdesk_supervisor")):
            if not _member(member, group):
                db.sql(f"GRANT {group} TO {member}")
        tables = _tables()
        everyone = ", ".join(GROUPS.values())
        db.sql(f"GRANT USAGE ON SCHEMA {_ident(_schema())} TO {everyone}")
        db.sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA {_ident(_schema())} TO {everyone}")
        db.sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_ident(_schema())} TO {everyone}")
        writes = [t for t in tables if t not in NO_CLERK_WRITES]
        if writes:
            db.sql(f"GRANT INSERT ON {', '.join(map(_ident, writes))} TO claimdesk_clerk")
        updates = [t for t in writes if t not in APPEND_ONLY]
        if updates:
            db.sql(f"GRANT UPDATE ON {', '.join(map(_ident, updates))} TO claimdesk_clerk")
        deletes = [t for t in DELETES if t in tables]
        if deletes:
            db.sql(f"GRANT DELETE ON {', '.join(map(_ident, deletes))} TO claimdesk_clerk")
        for table in APPEND_ONLY:
            if table in tables:
                db.sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON {_ident(table)} FROM {everyone}")
        if "user" in tables:
            db.sql('GRANT INSERT, UPDATE ON "user" TO claimdesk_admin')


def _schema() -> str:
    return db.sql("SELECT current_schema()").fetchone()[0]


def sync_user(username: str, role: str, active: bool) -> None:
    """Make ``username``'s login role match their claimdesk user (inside the caller's transaction):
    member of the group of ``role`` only, able to log in while active, and (admins) able to create
    roles. Nothing on SQLite. Refused, naming the reason, when the working role may not manage
    roles."""
    if not db.is_postgres():
        return
    name = _ident(username)
    try:
        with db.database.atomic():
            if not _exists(username):
                db.sql(f"CREATE ROLE {name} LOGIN")
            for claimdesk_role, group in GROUPS.items():
                if claimdesk_role == role:
                    db.sql(f"GRANT {group} TO {name}")
                elif _member(username, group):
                    db.sql(f"REVOKE {group} FROM {name}")
            login = "LOGIN" if active else "NOLOGIN"
            creates = "CREATEROLE" if role == "admin" and active else "NOCREATEROLE"
            if not _superuser(username):
                db.sql(f"ALTER ROLE {name} {login} {creates}")
    except peewee.DatabaseError as exc:
        raise Refused(f"the database refused to set up the role {username!r}: {exc}", field="username") from None


def _member(username: str, group: str) -> bool:
    return db.sql("SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                  "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = {p} AND u.rolname = {p}",
                  [group, username]).fetchone() is not None


def _superuser(username: str) -> bool:
    row = db.sql("SELECT rolsuper FROM pg_roles WHERE rolname = {p}", [username]).fetchone()
    return bool(row and row[0])
