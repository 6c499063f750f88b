"""Short labels for claim adjustment reason codes (CARC) and remittance remark codes (RARC).

The shipped tables are ``core/data/carc.csv`` and ``rarc.csv`` (``code,label``). A clinic
with a fuller list names it in the config file, and its labels win::

    [era]
    reason_codes = "reason-codes.csv"   # rows kind,code,label; kind CARC or RARC

Tables are read once per config file (:func:`reload` forgets them).
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io
import re
from pathlib import Path

from claimdesk.core import config

KINDS = ("CARC", "RARC")
KEY = "[era] reason_codes"
_CODE = {"CARC": re.compile(r"^[A-Z]?\d{1,3}\Z", re.ASCII), "RARC": re.compile(r"^(?:MA|M|N)\d{1,3}\Z", re.ASCII)}


@functools.lru_cache(maxsize=None)
def shipped(kind: str) -> dict[str, str]:
    """The shipped ``{code: label}`` table of ``kind`` (CARC or RARC)."""
    text = (importlib.resources.files("claimdesk.core") / "data" / f"{kind.lower()}.csv").read_text("utf-8")
    return {row["code"]: row["label"] for row in csv.DictReader(io.StringIO(text))}


def read_clinic_codes(path: Path, config_path: Path | None = None) -> dict[tuple[str, str], str]:
    """``{(kind, code): label}`` from a clinic's CSV of ``kind,code,label`` rows (a header line
    optional); :class:`~claimdesk.core.config.ConfigError` naming ``[era] reason_codes`` (and the
    line) when the file is missing, unreadable or holds a bad row."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise config.ConfigError(config_path, KEY, f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    return _read(str(path), stat.st_mtime_ns, stat.st_size, config_path)


@functools.lru_cache(maxsize=8)
def _read(path: str, _mtime: int, _size: int, config_path: Path | None) -> dict[tuple[str, str], str]:
    def fail(line: int, message: str):
        raise config.ConfigError(config_path, KEY, f"line {line} of {path}: {message}")

    try:
        text = Path(path).read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise config.ConfigError(config_path, KEY, f"{path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise config.ConfigError(config_path, KEY, f"cannot read {path!r}: {exc.strerror or exc}") from None
    out: dict[tuple[str, str], str] = {}
    seen: dict[tuple[str, str], int] = {}
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if not seen and [c.strip().lower() for c in row] == ["kind", "code", "label"]:
                continue
            if len(row) != 3:
                fail(line, f"expected 3 columns kind,code,label, got {len(row)}")
            kind, code, label = (c.strip() for c in row)
            kind, code = kind.upper(), code.upper()
            if kind not in KINDS:
                fail(line, f"kind must be CARC or RARC, got {row[0]!r}")
            if not _CODE[kind].match(code):
                example = "45, B7 or P14" if kind == "CARC" else "N130, M15 or MA01"
                fail(line, f"{code!r} is not a {kind} code (like {example})")
            if not label:
                fail(line, f"{kind} {code} has no label")
            if (kind, code) in seen:
                fail(line, f"{kind} {code} is already on line {seen[(kind, code)]}")
            seen[(kind, code)] = line
            out[(kind, code)] = label
    except csv.Error as exc:
        fail(reader.line_num, f"not valid CSV: {exc}")
    return out


@functools.lru_cache(maxsize=8)
def _tables(config_file: str) -> dict[str, dict[str, str]]:
    """``{kind: {code: label}}``: the shipped tables with the clinic's labels over them."""
    tables = {kind: dict(shipped(kind)) for kind in KINDS}
    settings = config.load()
    if settings.reason_codes_file is not None:
        for (kind, code), label in read_clinic_codes(settings.reason_codes_file, settings.config_path).items():
            tables[kind][code] = label
    return tables


def _label(kind: str, code: str) -> str:
    return _tables(str(config.config_path()))[kind].get((code or "").strip().upper(), "")


def carc_label(code: str) -> str:
    """The short label of a claim adjustment reason code (``"45"``), or "" when unknown."""
    return _label("CARC", code)


def rarc_label(code: str) -> str:
    """The short label of a remittance advice remark code (``"N130"``), or "" when unknown."""
    return _label("RARC", code)


def describe(group: str, reason: str) -> str:
    """``"CO-45 Charge exceeds fee schedule/maximum allowable"``; just ``"CO-45"`` when unknown."""
    code = "-".join(p for p in ((group or "").strip().upper(), (reason or "").strip().upper()) if p)
    label = carc_label(reason)
    return f"{code} {label}" if label else code


def describe_remark(code: str) -> str:
    """``"N130 See plan benefit documents..."``; just the code when unknown."""
    code = (code or "").strip().upper()
    label = rarc_label(code)
    return f"{code} {label}" if label else code


def reload() -> None:
    """Forget the tables read (after the config file or the clinic's CSV changed)."""
    _tables.cache_clear()
    _read.cache_clear()
