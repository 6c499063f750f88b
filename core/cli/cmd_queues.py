"""The work queues: ``queue list [KEY]`` and ``queue remove ENC``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result, money, table
from claimdesk.core.errors import InputError
from claimdesk.core.services import actions, views

#: The most rows ``queue list KEY`` shows unless told (--limit).
SHOWN = 50


def register(subparsers) -> None:
    """Add the queue group."""
    sub = group(subparsers, "queue", "Work queues: what waits in each, and taking an encounter off")
    p = command(sub, "list", "Every queue with its count, or the encounters waiting in one (oldest first)",
                list_queue)
    p.add_argument("key", metavar="QUEUE", nargs="?", help="a queue key (denied, review, ...)")
    p.add_argument("--limit", type=int, default=SHOWN, help=f"encounters shown (default {SHOWN})")
    p = command(sub, "remove", "Take an encounter off its work queue (audited)", remove)
    p.add_argument("encounter_id", metavar="ENC", help="encounter ID (1042 or E1042)")
    p.add_argument("--reason", default="", help="why (kept in the audit log)")


def list_queue(args) -> Result:
    """The queues with their counts, or one queue's encounters."""
    if not args.key:
        rows = views.queue_counts()
        return Result(rows, table(rows, [("queue", "key"), ("name", "name"), ("waiting", "count")], right=("count",)))
    known = {q["key"] for q in views.queue_counts()}
    if args.key not in known:
        raise InputError({"queue": [f"no queue {args.key!r} (queues: {', '.join(sorted(known))})"]})
    if args.limit < 1:
        raise InputError({"limit": ["must be at least 1"]})
    page = views.queue_encounters(args.key, args.limit)
    rows = [{**r, "shown": money(r["balance"])} for r in page["rows"]]
    text = table(rows, [("enc", "encounter_id"), ("patient", "patient"), ("dos", "dos"), ("type", "claim_type"),
                        ("balance", "shown")], right=("shown",))
    more = page["total"] - len(rows)
    text += f"\n{page['name']}: {page['total']} waiting" + (f" ({more} more not shown)" if more > 0 else "")
    return Result({"key": page["key"], "name": page["name"], "total": page["total"], "rows": page["rows"]}, text,
                  money=("balance",))


def remove(args) -> Result:
    """Take one encounter off its queue."""
    res = actions.remove_from_queue(args.encounter_id, reason=args.reason)
    return Result(res, f"encounter {res['encounter_id']} removed from queue {res['removed_from']} "
                       f"(audit {res['audit_id']})")
