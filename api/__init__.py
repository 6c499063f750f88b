"""claimdesk.api — the public, versioned plugin API (the only module a plugin imports).

A plugin (a module or object registered through the ``claimdesk`` entry-point group)
declares the API it was written for and implements hooks::

    from claimdesk.api import Action, ConfirmForm, hookimpl

    CLAIMDESK_API = "1.0"

    def applies(ctx):                  # ctx: ActionContext, read-only views of the claim
        return ctx.active and ctx.patient_balance > 0

    def apply(ctx, data):              # changes go through ctx.ops, in the core's transaction
        lines = ctx.ops.write_off(ctx.patient_splits(), data["amount"], ctx.writeoff_reason("COURTESY", "patient"))
        return {"written_off": data["amount"], "lines": lines}

    @hookimpl
    def claimdesk_advanced_actions():
        return [Action(key="courtesy", title="Courtesy write-off", when="...", steps=("...",),
                       applies=applies, apply=apply, schema=...)]

What is here is stable across 1.x: a minor version only adds (a name, an optional
argument, a new hook), a major version may remove or change, announced one minor version
ahead in docs/plugins.md ("Stability"). Everything else under ``claimdesk.*`` is the
host's own and may change in any release. :data:`API_VERSION` is this host's version.
"""

from __future__ import annotations

from claimdesk.core.errors import ClaimdeskError, InputError, NotFound, Refused
from claimdesk.core.models import INSURANCE_RANKS, RANKS
from claimdesk.core.money import Cents, cents, fmt, to_cents, to_decimal
from claimdesk.core.plugins.context import (
    ActionContext, ChargeView, ClaimView, CoverageView, EncounterView, PatientView, PayerView, SlotView,
    SplitView, StatementView,
)
from claimdesk.core.plugins.forms import (
    RELATIONSHIPS, AmountForm, ConfirmForm, FeeChargeFields, PayerForm, confirm_field,
)
from claimdesk.core.plugins.hookspecs import API_VERSION, hookimpl
from claimdesk.core.plugins.ops import WRITEOFF_KINDS, ActionOps
from claimdesk.core.plugins.records import (
    Action, AppliedEvent, DenialRoute, FeePolicy, PaymentMethod, RefundMethod, WriteoffReason,
)
from claimdesk.core.validation import Id, Money, Text, date_field

__all__ = [
    "API_VERSION", "hookimpl", "action_plugin",
    # records a plugin hands the host
    "Action", "PaymentMethod", "FeePolicy", "WriteoffReason", "DenialRoute", "RefundMethod",
    "AppliedEvent",
    # what an action sees and may do
    "ActionContext", "ActionOps", "EncounterView", "PatientView", "SlotView", "PayerView", "CoverageView",
    "ChargeView", "SplitView", "ClaimView", "StatementView", "RANKS", "INSURANCE_RANKS", "WRITEOFF_KINDS",
    # forms
    "Money", "Id", "Text", "date_field", "confirm_field", "ConfirmForm", "PayerForm", "AmountForm",
    "FeeChargeFields", "RELATIONSHIPS",
    # money
    "Cents", "cents", "fmt", "to_cents", "to_decimal",
    # errors a plugin may raise (naming the field) or catch
    "ClaimdeskError", "Refused", "InputError", "NotFound",
]


class _ActionsPlugin:
    """A plugin object offering a fixed list of actions (see :func:`action_plugin`)."""

    def __init__(self, name: str, actions: tuple[Action, ...], needs: str | None):
        self.__name__ = name
        self.actions = actions
        if needs is not None:
            self.CLAIMDESK_API = needs

    @hookimpl
    def claimdesk_advanced_actions(self):
        """The actions this plugin object was made with."""
        return list(self.actions)


def action_plugin(name: str, *actions: Action, needs: str | None = None):
    """A plugin object offering ``actions`` and needing plugin API ``needs`` (like a module's
    ``CLAIMDESK_API``): point an entry point at it when one module builds several actions from
    one factory (``my_clinic_primary = "my_pkg.actions:primary"``)."""
    return _ActionsPlugin(name, actions, needs)
