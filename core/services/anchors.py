"""Anchoring the audit chain outside the database: the chain has no secret, so someone who can
write the database could rewrite events and recompute every hash after them. A head written
where they cannot write (a file owned by another account, an append-only file, the system log,
a printout) pins what the chain held then: ``claimdesk verify --anchor FILE`` refuses a chain
that no longer holds the latest head in FILE (events cut from the end, or rewritten from
before it).

One line per anchor: ``<ISO time> <audit event id>:<hash>``.
"""

from __future__ import annotations

import os
from pathlib import Path

from claimdesk.core import clock, db
from claimdesk.core.errors import InputError, Refused


def head() -> tuple[int, str]:
    """The newest audit event's id and hash."""
    row = db.sql("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        raise Refused("the audit trail is empty: nothing to anchor yet")
    return int(row[0]), row[1]


def anchor(path: str | None, *, syslog: bool = False) -> dict:
    """Append the head to ``path`` (made if missing, readable by its owner only) and/or send it to
    the system log; ``{"head", "file", "at"}``."""
    ident, digest = head()
    text = f"{ident}:{digest}"
    at = clock.now().isoformat(timespec="seconds")
    file = ""
    if path:
        target = Path(path).expanduser()
        try:
            fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="ascii") as fh:
                fh.write(f"{at} {text}\n")
        except OSError as exc:
            raise InputError({"to": [f"cannot append to {target}: {exc.strerror or exc}"]}) from None
        file = str(target)
    if syslog:
        import syslog as system_log

        system_log.openlog("claimdesk", 0, system_log.LOG_AUTH)
        system_log.syslog(system_log.LOG_NOTICE, f"audit chain head {text} (database {db.database.obj.database})")
    return {"head": text, "file": file, "at": at}


def latest(path: str) -> str:
    """The head (``id:hash``) of the last anchor line in ``path``; refused naming the file when it
    cannot be read or holds no anchor."""
    target = Path(path).expanduser()
    try:
        lines = [ln.split() for ln in target.read_text(encoding="ascii").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError({"anchor": [f"cannot read {target}: {getattr(exc, 'strerror', None) or exc}"]}) from None
    if not lines or ":" not in lines[-1][-1]:
        raise InputError({"anchor": [f"{target} holds no anchor line (`<time> <id>:<hash>`)"]})
    return lines[-1][-1]
