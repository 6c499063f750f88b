"""Denial routing: which work queue an encounter goes to when a payer denies its claim.

The rules are :class:`~claimdesk.core.plugins.records.DenialRoute` records from the plugins
(``claimdesk_denial_routes``) and the config file (``[[era.routes]]``). For a claim's
adjustments ``(group, reason)`` the most specific rule wins: group and reason (``CO-29``),
then the reason in any group (``29``), then the whole group (``CO``); between rules equally
specific, the one for the earlier adjustment (the caller lists the largest first). No rule,
or a rule naming a queue the database does not have, routes to ``denied``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from claimdesk.core.models import WorkQueue
from claimdesk.core.plugins.host import get_host
from claimdesk.core.plugins.records import DenialRoute

DEFAULT_QUEUE = "denied"


def _keys(group: str, reason: str) -> list[tuple[int, str]]:
    """(specificity rank, rule code) a ``(group, reason)`` adjustment matches, most specific first."""
    g, r = (group or "").strip().upper(), (reason or "").strip().upper()
    keys = [(0, f"{g}-{r}")] if g and r else []
    return keys + ([(1, r)] if r else []) + ([(2, g)] if g else [])


def matching_route(codes: Iterable[tuple[str, str]]) -> DenialRoute | None:
    """The rule that decides for these adjustments ``(group, reason)``, or None when none applies."""
    rules = {r.code: r for r in get_host().denial_routes()}
    best: tuple[int, int, DenialRoute] | None = None
    for i, (group, reason) in enumerate(codes):
        for rank, key in _keys(group, reason):
            if key in rules and (best is None or (rank, i) < best[:2]):
                best = (rank, i, rules[key])
    return best[2] if best else None


def route(codes: Iterable[tuple[str, str]], *, queues: Collection[str] | None = None) -> str:
    """The work queue key for a denied claim with these adjustments ``(group, reason)``.

    ``queues`` are the queue keys that exist (read from the database when not given); a rule
    naming another queue falls back to ``denied``, as does no rule at all.
    """
    rule = matching_route(codes)
    if rule is None or rule.queue == DEFAULT_QUEUE:
        return DEFAULT_QUEUE
    exists = rule.queue in queues if queues is not None else \
        WorkQueue.select().where(WorkQueue.key == rule.queue).exists()
    return rule.queue if exists else DEFAULT_QUEUE
