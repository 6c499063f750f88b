"""The admin inbox: ``messages list|read|answer|close``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group
from claimdesk.core.cli.output import Result, pairs, table
from claimdesk.core.models.messages import MESSAGE_STATUSES
from claimdesk.core.services import messages


def register(subparsers) -> None:
    """Add the messages group."""
    sub = group(subparsers, "messages", "Questions to the administrator")
    p = command(sub, "list", "Messages, newest first", list_messages)
    p.add_argument("--status", choices=MESSAGE_STATUSES)
    p.add_argument("--encounter", metavar="ENC", type=int)
    command(sub, "read", "Open a message (marks it read)", read_message).add_argument("message_id", metavar="ID")
    p = command(sub, "answer", "Answer a message (administrators)", answer_message)
    p.add_argument("message_id", metavar="ID")
    p.add_argument("--text", required=True, help="the answer")
    p.add_argument("--close", action="store_true", help="close it as well")
    command(sub, "close", "Close a message", close_message).add_argument("message_id", metavar="ID")


def _one(m: dict) -> str:
    return pairs([("message", m["id"]), ("encounter", m["encounter_id"]), ("from", m["author"]),
                  ("sent", m["created_at"]), ("status", m["status"]), ("subject", m["subject"]),
                  ("body", m["body"]), ("answer", m["answer"] or "-"), ("answered by", m["answered_by"] or "-")])


def list_messages(args) -> Result:
    """Messages by status / encounter."""
    rows = messages.inbox(args.status, args.encounter)
    text = table([{**m, "new": "" if m["read"] else "*"} for m in rows],
                 [("", "new"), ("id", "id"), ("enc", "encounter_id"), ("from", "author"), ("status", "status"),
                  ("sent", "created_at"), ("subject", "subject")])
    return Result(rows, text)


def read_message(args) -> Result:
    """Show one message and mark it read."""
    m = messages.read(args.message_id)
    return Result(m, _one(m))


def answer_message(args) -> Result:
    """Answer (and maybe close) a message."""
    m = messages.answer({"message_id": args.message_id, "answer": args.text, "close": args.close})
    return Result(m, _one(m))


def close_message(args) -> Result:
    """Close a message."""
    m = messages.close(args.message_id)
    return Result(m, f"message {m['id']} closed")
