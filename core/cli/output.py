"""What commands hand back and how it is printed: JSON (``--json``) or text for people.

Money is integer cents inside claimdesk. An amount a service hands back as
:class:`~claimdesk.core.money.Cents` is money by its type; an older result names the
keys of its data that hold cents (``money=``). :func:`jsonify` turns both into the
strings of :func:`claimdesk.core.money.as_json` (``"12.50"``), never floats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from decimal import Decimal
from typing import Any, Iterable

from claimdesk.core.money import Cents, as_json, fmt

WIDTH = 80


@dataclasses.dataclass
class Result:
    """A command's outcome: ``data`` for ``--json``, ``text`` for people, the exit code.

    ``money`` names the keys of ``data`` that hold cents (printed as ``"12.50"``).
    """

    data: Any
    text: str
    money: tuple[str, ...] = ()
    exit_code: int = 0


def jsonify(value: Any, money: Iterable[str] = ()) -> Any:
    """Make ``value`` JSON-safe; :class:`Cents`, and ints under a key in ``money``, become
    ``"12.50"`` strings.

    A money key holding a dict of ints (balance by rank, by patient) converts every value.
    """
    keys = frozenset(money)

    def walk(v: Any, is_money: bool) -> Any:
        if isinstance(v, dict):
            return {str(k): walk(x, is_money or k in keys) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [walk(x, is_money) for x in v]
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, Cents):
            return as_json(v)
        if isinstance(v, int):
            return as_json(v) if is_money else v
        if isinstance(v, (dt.date, dt.datetime)):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        return v

    return walk(value, False)


def emit_json(data: Any) -> str:
    """The JSON text printed for ``--json``."""
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def money(cents: int | None) -> str:
    """Cents for a text table (blank for None)."""
    return "" if cents is None else fmt(int(cents))


def _width() -> int:
    return min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns) or WIDTH


def table(rows: list[dict], columns: list[tuple[str, str]], *, right: Iterable[str] = ()) -> str:
    """A plain text table fitted to 80 columns; the widest text column is cut first.

    ``columns`` is ``[(header, key), ...]``; keys in ``right`` are right-aligned.
    """
    if not rows:
        return "(none)"
    right = set(right)
    cells = [[("" if r.get(k) is None else str(r.get(k))) for _, k in columns] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(columns)]
    limit = _width()
    while sum(widths) + 2 * (len(widths) - 1) > limit:
        i = max((j for j in range(len(widths)) if columns[j][1] not in right), key=lambda j: widths[j],
                default=None)
        if i is None or widths[i] <= 6:
            break
        widths[i] -= 1

    def line(values: list[str]) -> str:
        out = []
        for i, v in enumerate(values):
            v = v if len(v) <= widths[i] else v[: widths[i] - 1] + "…"
            out.append(v.rjust(widths[i]) if columns[i][1] in right else v.ljust(widths[i]))
        return "  ".join(out).rstrip()

    head = line([h for h, _ in columns])
    return "\n".join([head, "-" * min(len(head), limit)] + [line(c) for c in cells])


def pairs(items: list[tuple[str, Any]]) -> str:
    """``label: value`` lines, labels aligned."""
    w = max((len(k) for k, _ in items), default=0)
    return "\n".join(f"{k.ljust(w)}  {'' if v is None else v}" for k, v in items)
