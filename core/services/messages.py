"""The admin inbox: questions tied to encounters, with answers and a status."""

from __future__ import annotations

from marshmallow import Schema, fields

from claimdesk.core import clock, workflow
from claimdesk.core.context import current_user
from claimdesk.core.errors import Refused
from claimdesk.core.models import AdminMessage, Encounter
from claimdesk.core.validation import Id, Text, load
from claimdesk.core.services.common import get
from claimdesk.core.users import require_role


def send(encounter: Encounter, subject: str, body: str) -> AdminMessage:
    """Create a message to the administrator (inside a transaction)."""
    return AdminMessage.create(encounter=encounter, subject=subject[:120], body=body,
                               author=current_user(), created_at=clock.now())


def inbox(status: str | None = None, encounter_id: int | None = None) -> list[dict]:
    """Messages, newest first, optionally by status or encounter."""
    q = AdminMessage.select().order_by(AdminMessage.id.desc())
    if status:
        q = q.where(AdminMessage.status == status)
    if encounter_id:
        q = q.where(AdminMessage.encounter == encounter_id)
    return [as_dict(m) for m in q]


def as_dict(m: AdminMessage) -> dict:
    """A message as plain data."""
    return {"id": m.id, "encounter_id": m.encounter_id, "subject": m.subject, "body": m.body,
            "author": m.author, "created_at": m.created_at.isoformat(sep=" ") if m.created_at else None,
            "status": m.status, "read": m.read, "answer": m.answer, "answered_by": m.answered_by}


class AnswerInput(Schema):
    message_id = Id(required=True)
    answer = Text(required=True, min_length=1, max_length=4000)
    close = fields.Boolean(load_default=False)


def read(message_id) -> dict:
    """Open a message (marks it read)."""
    def body():
        m = get(AdminMessage, message_id, "message", field="message_id")
        AdminMessage.update(read=True).where(AdminMessage.id == m.id).execute()
        return as_dict(AdminMessage.get_by_id(m.id))
    return workflow.run("message.read", body, inputs={"message_id": message_id})


def answer(data: dict) -> dict:
    """Workflow: an administrator answers a message (optionally closing it)."""
    clean = load(AnswerInput, data)
    require_role("admin", "answering admin messages")

    def body():
        m = get(AdminMessage, clean["message_id"], "message", field="message_id")
        if m.status == "closed":
            raise Refused(f"message {m.id} is closed", field="message_id")
        AdminMessage.update(answer=clean["answer"], answered_by=current_user(), answered_at=clock.now(),
                            status="closed" if clean["close"] else "answered", read=True).where(
            AdminMessage.id == m.id).execute()
        return as_dict(AdminMessage.get_by_id(m.id))

    return workflow.run("message.answer", body, inputs=clean)


def close(message_id) -> dict:
    """Workflow: close a message."""
    def body():
        m = get(AdminMessage, message_id, "message", field="message_id")
        if m.status == "closed":
            raise Refused(f"message {m.id} is already closed", field="message_id")
        AdminMessage.update(status="closed").where(AdminMessage.id == m.id).execute()
        return as_dict(AdminMessage.get_by_id(m.id))
    return workflow.run("message.close", body, inputs={"message_id": message_id})
