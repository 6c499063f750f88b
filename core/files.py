"""Files claimdesk reads from a person and writes with patient data.

Reading: every file (and ``-`` for stdin) a person names is read with a size limit, so a
wrong path (``/dev/zero``, a disk image, a log that never ends) stops at once with a clear
error naming the option, instead of filling memory. Writing: exports with patient data
(claim batches, 837P files, statement PDFs) are private to the clinic's account: files
``0600``, folders claimdesk makes ``0700``, written to a temporary file first and renamed
into place (a reader never sees half a file; a symlink planted at the name is replaced,
never followed).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterator

from claimdesk.core.errors import InputError

MB = 1024 * 1024
#: A JSON document given with ``--data @file`` (or ``-``): far above any real form's inputs.
JSON_LIMIT = 20 * MB
#: A batch-posting lines file (CSV or JSON): about a million lines.
BATCH_LIMIT = 50 * MB
#: An X12 file (837P claims, 835 remittance): clearinghouses split far smaller ones.
X12_LIMIT = 200 * MB

FILE_MODE = 0o600
DIR_MODE = 0o700


def _csv_fields_up_to_the_file_limit() -> None:
    """Let the csv module read a field as long as the files claimdesk reads (it stops at 128 KB
    with a bare ``csv.Error`` by default): every file is size-limited here already, and a field
    too long for what it holds (a memo, a label) is refused by its own rule, naming the field and
    the row."""
    import csv

    csv.field_size_limit(max(csv.field_size_limit(), X12_LIMIT))


_csv_fields_up_to_the_file_limit()


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{n} bytes"


def read_limited(path: str | os.PathLike, limit: int, field: str) -> bytes:
    """The bytes of ``path`` (``"-"``: standard input), at most ``limit`` of them: a longer
    file (or a device that never ends) raises :class:`InputError` on ``field`` after reading
    ``limit + 1`` bytes, as does a path that cannot be read or is a folder."""
    name = os.fspath(path)
    try:
        if name == "-":
            stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
            data = stream.read(limit + 1) if stream is not None else sys.stdin.read(limit + 1).encode()
        else:
            with open(Path(name).expanduser(), "rb") as fh:
                data = fh.read(limit + 1)
    except IsADirectoryError:
        raise InputError({field: [f"{name!r} is a folder, not a file"]}) from None
    except OSError as exc:
        raise InputError({field: [f"cannot read {name!r}: {exc.strerror or exc}"]}) from None
    if len(data) > limit:
        raise InputError({field: [f"{name!r} is larger than {_size(limit)}, the most claimdesk reads for "
                                  f"this option; check the path (split a real file that big)"]})
    return data


def read_text_limited(path: str | os.PathLike, limit: int, field: str, *, encoding: str = "utf-8") -> str:
    """:func:`read_limited` decoded (``utf-8-sig`` drops a byte-order mark); a file that is not
    text in ``encoding`` raises :class:`InputError` on ``field``."""
    data = read_limited(path, limit, field)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise InputError({field: [f"{os.fspath(path)!r} is not UTF-8 text"]}) from None


def private_dir(folder: str | os.PathLike) -> Path:
    """``folder``, made (with any missing parents) readable by this account only (``0700``).
    A folder that already exists is left as it is: it is the clinic's choice."""
    folder = Path(folder).expanduser()
    missing = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for part in reversed(missing):
        try:
            part.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass
        else:
            os.chmod(part, DIR_MODE)  # (mkdir's mode is masked by the umask; it only ever narrows)
    return folder


@contextlib.contextmanager
def open_private(path: str | os.PathLike, mode: str = "w", *, encoding: str | None = "utf-8",
                 newline: str | None = None) -> Iterator[IO]:
    """A file to write at ``path``, private to this account (``0600``): written under a temporary
    name in the same folder (made ``0700`` when missing) and renamed over ``path`` when the block
    ends without an exception (removed otherwise)."""
    target = Path(path).expanduser()
    private_dir(target.parent)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # 0600
    try:
        os.fchmod(fd, FILE_MODE)
        raw = os.fdopen(fd, "wb")
        fh: IO = raw if binary else io.TextIOWrapper(raw, encoding=encoding or "utf-8", newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private(path: str | os.PathLike, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` (bytes, or text in ``encoding``) to ``path`` as a private file (``0600``,
    see :func:`open_private`); the path written."""
    target = Path(path).expanduser()
    with open_private(target, "wb") as fh:
        fh.write(data.encode(encoding) if isinstance(data, str) else bytes(data))
    return target
