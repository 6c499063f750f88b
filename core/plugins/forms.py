"""The guided-input pieces plugins build their forms from, and the write-off reason lookups.

The app renders a form from a plugin's marshmallow schema: ``Money`` fields become amount
inputs, ``Boolean`` a checkbox, dates a date, ``OneOf``/``choices`` a select, ``List(Nested)``
rows. Public through :mod:`claimdesk.api`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core import claim_rules
from claimdesk.core.plugins.host import get_host
from claimdesk.core.validation import Id, Money, Text, date_field

#: How the subscriber is related to the patient (the coverage forms' choices; the words of
#: :data:`claimdesk.core.claim_rules.RELATIONSHIP_CODES`).
RELATIONSHIPS = list(claim_rules.RELATIONSHIPS)


def confirm_field() -> fields.Boolean:
    """A required "yes, do it" checkbox."""
    return fields.Boolean(required=True, validate=validate.Equal(True, error="tick confirm to apply"),
                          metadata={"label": "Confirm"})


class ConfirmForm(Schema):
    """Just a confirmation and an optional reason."""

    confirm = confirm_field()
    reason = Text(max_length=200, load_default="", metadata={"label": "Reason (optional)"})


class PayerForm(Schema):
    """A payer and the patient's coverage details with it."""

    payer_id = Id(required=True, metadata={"label": "Payer"})
    member_id = Text(required=True, min_length=1, max_length=40, metadata={"label": "Member ID"})
    group_no = Text(max_length=40, load_default="", metadata={"label": "Group number"})
    subscriber = Text(max_length=80, load_default="", metadata={"label": "Subscriber"})
    relationship = fields.String(load_default="self", validate=validate.OneOf(RELATIONSHIPS),
                                 metadata={"label": "Relationship", "choices": RELATIONSHIPS})
    effective_from = date_field(load_default=None, metadata={"label": "Effective from"})


class AmountForm(Schema):
    """An amount, a reason code and a note."""

    amount = Money(required=True, positive=True, metadata={"label": "Amount"})
    reason = fields.String(required=True, metadata={"label": "Reason"})
    note = Text(max_length=200, load_default="", metadata={"label": "Note"})


class FeeChargeFields(Schema):
    """What every fee-charging returned-check policy asks for: the fee becomes a charge under
    which service code, for which provider (e.g. an administrative "Office" provider)."""

    # the form starts with the usual returned-check fee code (the demo clinic's, SOS's habit)
    service_code = Text(required=True, min_length=1, max_length=20,
                        metadata={"label": "Service code", "default": "RCFEE"})
    provider_id = Id(required=True, metadata={"label": "Provider"})


HOOK = "claimdesk_writeoff_reasons"


def reason_choices(kind: str, *, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(code, label) of write-off reasons of ``kind`` from the plugins and config that the
    person working may use (a reason needing a supervisor is not offered to a clerk).

    A code defined twice by plugins (or a plugin and the config file) that are not built-ins is
    left out: it is ambiguous until the duplicate is fixed (``claimdesk plugins`` names both
    sources). A built-in's code defined again is the built-in's (``[plugins] replace`` aside).
    """
    host = get_host()
    return [(r.code, r.label) for r in host.writeoff_reasons(kind)
            if r.code not in exclude and not host.ambiguous(HOOK, r.code) and _may(required_role(r))]


def _source(name: str) -> str:
    return "the config file" if name == "config" else f"plugin {name!r}"


def required_role(rec) -> str:
    """Who may write off under the reason ``rec``: its own ``required_role``, never less than the
    built-in reason of the same code requires (whatever record a plugin hands over)."""
    from claimdesk.core.plugins.host import stricter_role

    roles = [getattr(rec, "required_role", "clerk")]
    host = get_host()
    for other in (host.get(HOOK, rec.code), host.builtin_record(HOOK, rec.code)):
        if other is not None:
            roles.append(getattr(other, "required_role", "clerk"))
    return stricter_role(*roles)


def _may(role: str) -> bool:
    if role == "clerk":
        return True
    from claimdesk.core.users import has_role

    try:
        return has_role(role)
    except Exception:  # noqa: BLE001 - no database or no user here: offer only what a clerk may use
        return False


def require_reason_role(rec, field: str = "reason") -> None:
    """Refuse (naming ``field``) a write-off under ``rec`` by someone below its required role."""
    from claimdesk.core.errors import PermissionDenied
    from claimdesk.core.users import require_role

    role = required_role(rec)
    if role == "clerk":
        return
    try:
        require_role(role, f"writing off under the reason {rec.code!r} ({rec.label})")
    except PermissionDenied as exc:
        raise PermissionDenied(exc.message, field=field) from None


def reason(code: str, kind: str, field: str = "reason"):
    """The write-off reason record for ``code`` of ``kind`` or a field-named error (unknown, of
    the other kind, ambiguous: defined by two plugins; or needing a role the person working does
    not hold: a clerk cannot book bad debt through the office write-off)."""
    from claimdesk.core.errors import InputError

    host = get_host()
    rec = host.get(HOOK, code) if isinstance(code, str) else None
    if rec is None or rec.kind != kind:
        known = ", ".join(c for c, _ in reason_choices(kind))
        raise InputError({field: [f"unknown {kind} write-off reason {code!r} (known: {known})"]})
    if host.ambiguous(HOOK, code):
        sources = host.conflicts(HOOK, code)
        raise InputError({field: [f"write-off reason {code!r} is ambiguous: defined by "
                                  f"{' and by '.join(_source(s) for s in sources)}; remove the duplicate "
                                  f"before using it"]})
    require_reason_role(rec, field)
    return rec
