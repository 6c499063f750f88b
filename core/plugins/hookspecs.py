"""Hook specifications: what a claimdesk plugin may give the host.

A plugin is a module (or object) with functions marked ``@hookimpl`` named after
the specs below, registered through the ``claimdesk`` entry-point group::

    [project.entry-points.claimdesk]
    my_clinic = "my_clinic_plugin"

Plugins import only :mod:`claimdesk.api` (the versioned plugin API, :data:`API_VERSION`).
Every ``claimdesk_*`` list hook returns a list of records (``Action``, ``PaymentMethod``,
``FeePolicy``, ``WriteoffReason``, ``DenialRoute``, ``RefundMethod``); the host checks keys are unique across
plugins. The host calls every hook through pluggy (``pm.hook.<name>()``), so
``tryfirst``/``trylast`` and hook wrappers work as pluggy documents; adding arguments to a
spec later is backward compatible (pluggy passes only the arguments an implementation names).
"""

from __future__ import annotations

import pluggy

PROJECT = "claimdesk"
#: The plugin API version (semantic): a plugin declaring ``CLAIMDESK_API = "1.0"`` loads on
#: any 1.x host from 1.0 on; a new minor only adds, a new major may remove (docs/plugins.md).
API_VERSION = "1.4.0"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def claimdesk_advanced_actions():
    """Return a list of :class:`~claimdesk.core.plugins.records.Action` this plugin offers."""


@hookspec
def claimdesk_payment_methods():
    """Return a list of :class:`~claimdesk.core.plugins.records.PaymentMethod` (cash, check, ...)."""


@hookspec
def claimdesk_fee_policies():
    """Return a list of :class:`~claimdesk.core.plugins.records.FeePolicy` for returned checks."""


@hookspec
def claimdesk_writeoff_reasons():
    """Return a list of :class:`~claimdesk.core.plugins.records.WriteoffReason`."""


@hookspec
def claimdesk_denial_routes():
    """Return a list of :class:`~claimdesk.core.plugins.records.DenialRoute` (denial code -> work queue)."""


@hookspec
def claimdesk_refund_methods():
    """Return a list of :class:`~claimdesk.core.plugins.records.RefundMethod` (how money is given
    back: a refund check, a card reversal, an EFT...; plugin API 1.4)."""


@hookspec
def claimdesk_action_applied(event):
    """Called after a workflow or action committed; ``event`` is an :class:`AppliedEvent`.

    Return value ignored. An exception here is reported and never undoes the
    committed work.
    """
