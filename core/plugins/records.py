"""The small typed records plugins hand to the host (one per contribution)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # annotations only: importing claimdesk does not import marshmallow
    from marshmallow import Schema


@dataclasses.dataclass(frozen=True)
class Action:
    """An Advanced Action: a scenario a claim may be in, and what to do about it.

    - ``applies(ctx)`` says whether the action fits the encounter in ``ctx``
      (an :class:`~claimdesk.core.services.actions.ActionContext`).
    - ``schema`` is a marshmallow Schema class for the guided inputs; the TUI
      renders the form from it, the core validates with it.
    - ``apply(ctx, data)`` does the work with the core services and returns a dict
      describing what changed. It never commits: the core wraps it in one
      transaction and records the audit event.
    """

    key: str
    title: str
    when: str
    steps: tuple[str, ...]
    applies: Callable[[Any], bool]
    apply: Callable[[Any, dict], dict]
    schema: type[Schema] | None = None
    order: int = 500
    offers_queue_removal: bool = True
    repeatable: bool = True
    always_offered: bool = False
    required_role: str = "clerk"
    choices: Callable[[Any], dict] | None = None
    """``choices(ctx)`` -> ``{field: [(value, label), ...]}`` for fields whose options
    depend on the encounter (codes on this claim, write-off reasons...)."""
    keywords: tuple[str, ...] = ()
    """Other words a clerk may search for it by (the command palette): "collections" for bad debt."""
    initial: Callable[[Any], dict] | None = None
    """``initial(ctx)`` -> ``{field: value}``: what the form starts filled in with, for an
    action that edits something already on file (the current secondary coverage...)."""


@dataclasses.dataclass(frozen=True)
class PaymentMethod:
    """A way money arrives (cash, check, card...): its fields as a marshmallow schema."""

    key: str
    label: str
    schema: type[Schema] | None = None
    reference_field: str | None = None
    order: int = 500


@dataclasses.dataclass(frozen=True)
class FeePolicy:
    """A returned-check fee rule: ``fee_cents(returned_cents, data)`` -> fee in cents.

    ``schema`` declares what the clerk enters when returning a check (service
    code, amount, provider...). A fee of 0 means no fee charge is made.
    """

    key: str
    label: str
    fee_cents: Callable[[int, dict], int]
    schema: type[Schema] | None = None
    order: int = 500


@dataclasses.dataclass(frozen=True)
class WriteoffReason:
    """A reason an amount may be written off; ``kind`` is "insurance" or "patient".

    ``required_role`` (plugin API 1.3): who may write off under this reason ("clerk",
    "supervisor" or "admin"), checked by the core whenever the reason is used, whatever form
    offered it. A plugin replacing a built-in reason never needs less than the built-in.
    """

    code: str
    label: str
    kind: str
    group_code: str = ""
    carc: str = ""
    required_role: str = "clerk"


@dataclasses.dataclass(frozen=True)
class DenialRoute:
    """Which work queue a denied claim goes to, by its adjustment codes (plugin API 1.2).

    ``code`` is a group and reason (``"CO-29"``), a whole group (``"CO"``) or a reason in
    any group (``"29"``); ``queue`` is a work queue key (``denied``, ``review``, ...).
    """

    code: str
    queue: str
    label: str = ""


@dataclasses.dataclass(frozen=True)
class RefundMethod:
    """A way money is given back (plugin API 1.4): a refund check, a card reversal, an EFT.

    ``schema`` holds the method's own fields (check number, card authorization, trace
    number), validated by the core when a refund is made; ``reference_field`` names the field
    shown as the refund's reference. ``payees`` says who it can pay: ``"patient"``,
    ``"payer"`` or both. The core does the money (docs/ledger.md): a method never posts.
    """

    key: str
    label: str
    schema: type[Schema] | None = None
    reference_field: str | None = None
    payees: tuple[str, ...] = ("patient", "payer")
    order: int = 500


@dataclasses.dataclass(frozen=True)
class AppliedEvent:
    """What the host tells ``claimdesk_action_applied`` after a commit."""

    action: str
    user: str
    encounter_id: int | None
    patient_id: int | None
    entry_ids: tuple[int, ...]
    audit_id: int
    result: dict
