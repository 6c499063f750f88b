"""Writers to one SQLite file wait in a queue instead of SQLite's busy loop.

SQLite lets one writer in at a time; the others, in ``BEGIN IMMEDIATE``, are told "busy" and
SQLite's busy handler sleeps and tries again (1, 2, 5 ... then 100 ms at a time). While it
sleeps the lock may be free for most of those milliseconds, and a newcomer may take it first:
with eight clerks posting at once the slowest write waited 450 ms for a lock that was
never held longer than a few. So before ``BEGIN IMMEDIATE`` a writer takes an exclusive
``flock`` on a lock file beside the database (``<file>-writer``): the kernel wakes the next
waiter the moment the lock is let go. Readers never take it (WAL lets them read during a
write). The wait is bounded like SQLite's (:data:`WAIT_SECONDS`): past it the write is
refused as "database is locked", which :func:`claimdesk.core.db.run_in_transaction` retries.

Where the lock file cannot be made (a folder this user may not write, another platform), the
writer simply goes on to ``BEGIN IMMEDIATE`` and SQLite's own waiting, as before.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: SQLite's own waiting only
    fcntl = None

#: How long a writer waits for the queue before its write is refused as locked (SQLite's busy_timeout).
WAIT_SECONDS = 10.0

_local = threading.local()  # each thread its own descriptor: flock holds per open file, not per process


class QueueTimeout(Exception):
    """The writer queue was not free within :data:`WAIT_SECONDS` ("database is locked")."""

    def __str__(self) -> str:
        return "database is locked (another writer held it too long)"


def _descriptor(path: str) -> int | None:
    """This thread's open lock file for the database at ``path`` (None: cannot be made)."""
    fds = getattr(_local, "fds", None)
    if fds is None:
        fds = _local.fds = {}
    if path not in fds:
        fds[path] = _open(f"{path}-writer")
    return fds[path]


def _open(name: str) -> int | None:
    """The lock file, made if missing with the database's permissions (its owner only; its
    group too in a setgid folder shared by the clinic's clerks). It holds nothing, it is only
    locked, and a lock needs no write access: a file this user may only read still queues."""
    try:
        fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            return os.open(name, os.O_RDONLY)
        except OSError:
            return None
    except OSError:
        return None
    try:
        shared = os.stat(os.path.dirname(os.path.abspath(name))).st_mode & stat.S_ISGID
        os.fchmod(fd, 0o660 if shared else 0o600)
    except OSError:
        pass
    return fd


def _wait(fd: int, seconds: float) -> bool:
    """Block on the lock (woken by the kernel), but give up after ``seconds``: the blocking call
    runs on a helper thread; a helper that gets the lock after its writer gave up lets it go."""
    got = threading.Event()
    state = {"abandoned": False}
    guard = threading.Lock()

    def take():
        fcntl.flock(fd, fcntl.LOCK_EX)
        with guard:
            if state["abandoned"]:  # (its writer no longer uses this descriptor: see below)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
                return
            got.set()

    threading.Thread(target=take, name="claimdesk-writer-queue", daemon=True).start()
    if got.wait(seconds):
        return True
    with guard:
        if got.is_set():
            return True
        state["abandoned"] = True
    # The helper still waits on this descriptor; a later flock on it from this process would
    # succeed at once (flock holds per open file) and the helper's unlock would drop it: this
    # thread opens a new one next time, and the helper closes the old one when it is done.
    for path, known in list(_local.fds.items()):
        if known == fd:
            del _local.fds[path]
    return False


@contextlib.contextmanager
def turn(path: str | None):
    """Hold this writer's turn on the SQLite file ``path`` for the block (nothing for None)."""
    fd = _descriptor(path) if (path and fcntl is not None) else None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # uncontended: no thread, no wait
    except BlockingIOError:
        if not _wait(fd, WAIT_SECONDS):
            raise QueueTimeout() from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
