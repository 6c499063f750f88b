"""The plugin host: discovers plugins through the ``claimdesk`` entry-point group.

Built-ins are registered exactly like a clinic's own package. Each entry point
is loaded in its own try/except: a plugin that fails to import, to register, or
to describe itself is reported (name, error) and skipped, and the rest keep
working. Keys must be unique across plugins; a clash names both plugins.

Built-ins win: a key a built-in plugin contributes (an action, a payment method, a fee
policy, a write-off reason, a denial route) given again by another plugin (or the config
file, or changed by a hook wrapper) is refused and reported, and the built-in stays. Only
the clinic's explicit setting lets a plugin replace a built-in::

    [plugins]
    replace = ["my_clinic"]

and then the replacement is reported loudly (stage ``replaces``) by ``claimdesk plugins``
and the Plugins screen. A replacement never needs a lesser role than the built-in it
replaces (an action's or a write-off reason's ``required_role`` is raised to the built-in's).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata as md
import re
import traceback
from typing import Any, Iterable

import pluggy

from claimdesk.core.errors import ClaimdeskError
from claimdesk.core.models.parties import ROLES
from claimdesk.core.plugins import hookspecs
from claimdesk.core.plugins.hookspecs import API_VERSION
from claimdesk.core.plugins.records import (
    Action,
    AppliedEvent,
    DenialRoute,
    FeePolicy,
    PaymentMethod,
    RefundMethod,
    WriteoffReason,
)

GROUP = hookspecs.PROJECT
WRITEOFF_KINDS = ("insurance", "patient")
#: Claim adjustment group codes (X12 835): contractual, patient responsibility, other,
#: payer initiated, correction/reversal; "" for a reason with no group (patient reasons).
GROUP_CODES = ("CO", "PR", "OA", "PI", "CR", "")
#: A claim adjustment reason code as on the X12 CARC list: 1-3 digits, or a letter and digits (A1, B7, P14...).
CARC_PATTERN = re.compile(r"^[A-Z]?\d{1,3}\Z", re.ASCII)
#: A denial route's code: group and reason (CO-29), a group (CO) or a reason (29).
ROUTE_CODE_PATTERN = re.compile(r"^(?:(?:CO|PR|OA|PI|CR)(?:-[A-Z]?\d{1,3})?|[A-Z]?\d{1,3})\Z", re.ASCII)
#: A work queue key (denied, needs_secondary, review...).
QUEUE_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*\Z")

#: hook name -> (record type, attribute that is the unique key)
LIST_HOOKS = {
    "claimdesk_advanced_actions": (Action, "key"),
    "claimdesk_payment_methods": (PaymentMethod, "key"),
    "claimdesk_fee_policies": (FeePolicy, "key"),
    "claimdesk_writeoff_reasons": (WriteoffReason, "code"),
    "claimdesk_denial_routes": (DenialRoute, "code"),
    "claimdesk_refund_methods": (RefundMethod, "key"),
}
#: list hooks the config file adds records to: hook -> what a record is called in a report
CONFIG_HOOKS = {"claimdesk_writeoff_reasons": "write-off reason", "claimdesk_denial_routes": "denial route"}


@dataclasses.dataclass
class PluginInfo:
    """One discovered plugin: where it came from and what it implements."""

    name: str
    module: str
    distribution: str
    version: str
    hooks: list[str] = dataclasses.field(default_factory=list)
    builtin: bool = False
    api: str = ""
    """The plugin API version it declares (``CLAIMDESK_API``); "" when it declares none."""


@dataclasses.dataclass
class PluginFailure:
    """A plugin that could not be used, and why."""

    name: str
    stage: str  # import | version | register | describe | applies | event | replaces (not a failure: a notice)
    error: str


#: The stage of a :class:`PluginFailure` that is a notice, not a failure: the plugin replaces a
#: built-in's record, as the config file's ``[plugins] replace`` allows.
REPLACES = "replaces"
#: Which hooks' records carry a ``required_role`` a replacement may not lower.
ROLE_RECORDS = (Action, WriteoffReason)


def stricter_role(*roles: str) -> str:
    """The highest of ``roles`` (clerk < supervisor < admin); an unknown one counts as admin."""
    return max(roles, key=lambda r: ROLES.index(r) if r in ROLES else len(ROLES))


class PluginHost:
    """Holds the pluggy manager and the records every plugin contributed.

    Hooks are called through the manager (``pm.hook.<name>()``), so ``tryfirst``/``trylast``,
    hook wrappers and spec arguments added later work as pluggy documents. Each plugin is
    registered behind a guard (:class:`_Guarded`): one plugin's hook that raises or returns
    malformed records is reported and contributes nothing, while the others keep working.
    """

    def __init__(self, disabled: Iterable[str] = (), extra_writeoff_reasons: Iterable[dict] = (),
                 extra_denial_routes: Iterable[dict] = (), replace: Iterable[str] = ()):
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        self.disabled = set(disabled)
        self.replace = set(replace)
        """Plugins (and "config") the clinic lets replace a built-in's key (``[plugins] replace``)."""
        self.plugins: list[PluginInfo] = []
        self.failures: list[PluginFailure] = []
        self.skipped: list[str] = []
        self._extra = {"claimdesk_writeoff_reasons": list(extra_writeoff_reasons),
                       "claimdesk_denial_routes": list(extra_denial_routes)}
        self._records: dict[str, dict[str, Any]] | None = None
        self._owner: dict[tuple[str, str], str] = {}
        self._conflicts: dict[tuple[str, str], list[str]] = {}
        self._returned: dict[int, tuple[str, Any]] = {}
        self._builtin_records: dict[tuple[str, str], tuple[str, Any]] = {}
        self._replaced: dict[tuple[str, str], str] = {}
        self._ambiguous: set[tuple[str, str]] = set()

    # -- discovery -----------------------------------------------------------
    def load_entrypoints(self) -> "PluginHost":
        """Load and register every entry point of the ``claimdesk`` group."""
        dists: dict[int, tuple[str, str]] = {}
        for ep in sorted(md.entry_points(group=GROUP), key=lambda e: e.name):
            if ep.name in self.disabled:
                self.skipped.append(ep.name)
                continue
            dist, version = _dist_facts(ep, dists)
            try:
                obj = ep.load()
            except Exception as exc:  # noqa: BLE001 - any import failure is reported
                self.failures.append(PluginFailure(ep.name, "import", _describe(exc)))
                continue
            # built-in: one of claimdesk's own modules, declared by claimdesk's own distribution
            # (another package's entry point naming one does not make its records win)
            self.register(obj, ep.name, distribution=dist, version=version,
                          builtin=ep.value.startswith("claimdesk.plugins.") and dist == "claimdesk")
        return self

    def register(self, obj: Any, name: str, *, distribution: str = "local", version: str = "",
                 builtin: bool = False) -> bool:
        """Register one plugin object; on failure report it and leave nothing behind.

        A plugin that declares ``CLAIMDESK_API = "MAJOR.MINOR"`` needing an API this host does
        not provide (another major version, or a newer minor) is refused, stage ``version``.
        """
        if name in self.disabled:
            self.skipped.append(name)
            return False
        needs = getattr(obj, "CLAIMDESK_API", None)
        refusal = api_refusal(needs)
        if refusal:
            self.failures.append(PluginFailure(name, "version", refusal))
            return False
        try:
            self.pm.register(_Guarded(obj, name, self), name=name)
            self.pm.check_pending()
        except Exception as exc:  # noqa: BLE001
            if self.pm.get_plugin(name) is not None:
                self.pm.unregister(name=name)
            self.failures.append(PluginFailure(name, "register", _describe(exc)))
            return False
        hooks = sorted(h.name for h in (self.pm.get_hookcallers(self.pm.get_plugin(name)) or []))
        self.plugins.append(PluginInfo(name, getattr(obj, "__name__", type(obj).__name__),
                                       distribution, version, hooks, builtin, str(needs or "")))
        self._records = None
        return True

    def unregister(self, name: str) -> None:
        """Remove a plugin (tests register one for their duration)."""
        self.pm.unregister(name=name)
        self.plugins = [p for p in self.plugins if p.name != name]
        self._records = None

    # -- records -------------------------------------------------------------
    def _returned_by(self, name: str, items: list) -> None:
        """Remember which plugin returned these records (the guard calls it)."""
        for item in items:
            self._returned[id(item)] = (name, item)

    def _call_list_hook(self, hook: str) -> list[tuple[str, Any]]:
        """``pm.hook.<hook>()``: every record with the plugin it came from, in pluggy's call order.

        A hook wrapper that raises is reported (each wrapper of the hook, tried one at a time)
        and the hook is called again without it. A record a wrapper added is the wrapper's.
        """
        wrappers = [i.plugin_name for i in getattr(self.pm.hook, hook).get_hookimpls()
                    if i.hookwrapper or i.wrapper]
        caller, broken = getattr(self.pm.hook, hook), []
        while True:
            self._returned = {}
            try:
                results = caller()
                break
            except Exception as exc:  # noqa: BLE001 - only a wrapper can raise here (the guard catches the rest)
                suspects = [w for w in wrappers if w not in broken]
                if not suspects:
                    results = []
                    break
                culprit = next((w for w in suspects if _calls(self._without(hook, broken + [w]))), suspects[0])
                broken.append(culprit)
                self.failures.append(PluginFailure(culprit, "describe", _describe(exc)))
                caller = self._without(hook, broken)
        added_by = " and ".join(w for w in wrappers if w not in broken) or "?"
        out = []
        for items in results:
            for item in items if isinstance(items, (list, tuple)) else [items]:
                owner = self._returned.get(id(item), (added_by, None))[0]
                out.append((owner, item))
        # what the built-ins returned, before any wrapper changed it: a wrapper that swaps a
        # built-in's record for its own is replacing it (allowed only by [plugins] replace)
        builtin = {p.name for p in self.plugins if p.builtin}
        kept = {id(item) for _o, item in out}
        keyattr = LIST_HOOKS[hook][1] if hook in LIST_HOOKS else None
        keys = {getattr(item, keyattr, None) for _o, item in out} if keyattr else set()
        for name, item in list(self._returned.values()):
            if name in builtin and id(item) not in kept and keyattr and getattr(item, keyattr, None) in keys:
                out.append((name, item))  # (swapped by a wrapper; one it only hid stays hidden)
        self._returned = {}
        return out

    def _without(self, hook: str, names: list[str]):
        """The hook's caller without the plugins ``names``."""
        return self.pm.subset_hook_caller(hook, [self.pm.get_plugin(n) for n in names])

    def _collect(self) -> dict[str, dict[str, Any]]:
        if self._records is not None:
            return self._records
        records: dict[str, dict[str, Any]] = {h: {} for h in LIST_HOOKS}
        self._owner = {}
        self._conflicts = {}
        self._builtin_records = {}
        self._replaced = {}
        self._ambiguous = set()
        self.failures = [f for f in self.failures if f.stage not in ("describe", REPLACES)]
        builtin = {p.name for p in self.plugins if p.builtin}
        # built-ins first, then the others in registration order (whatever order pluggy called them in)
        order = {p.name: (p.name not in builtin, i) for i, p in enumerate(self.plugins)}
        last = (True, len(order))
        for hook, (rtype, keyattr) in LIST_HOOKS.items():
            found = self._call_list_hook(hook)
            for owner, item in sorted(found, key=lambda oi: order.get(oi[0], last)):
                try:
                    _check_record(item, rtype)
                except Exception as exc:  # noqa: BLE001 - a wrapper added something malformed
                    self.failures.append(PluginFailure(owner, "describe", _describe(exc)))
                    continue
                key = getattr(item, keyattr)
                if owner in builtin and (hook, key) not in self._builtin_records:
                    self._builtin_records[(hook, key)] = (owner, item)
                if (hook, key) in self._owner:
                    item = self._second(hook, key, owner, f"plugin {owner!r}", item, builtin)
                    if item is None:
                        continue
                self._owner[(hook, key)] = owner
                records[hook][key] = item
        for hook, what in CONFIG_HOOKS.items():
            rtype, keyattr = LIST_HOOKS[hook]
            for raw in self._extra[hook]:
                try:
                    item = rtype(**raw)
                    _check_record(item, rtype)
                except Exception as exc:  # noqa: BLE001
                    self.failures.append(PluginFailure("config", "describe", f"{what} {raw!r}: {_describe(exc)}"))
                    continue
                key = getattr(item, keyattr)
                if (hook, key) in self._owner:
                    item = self._second(hook, key, "config", "the config file", item, builtin)
                    if item is None:
                        continue
                self._owner[(hook, key)] = "config"
                records[hook][key] = item
        for key, policy in list(records["claimdesk_fee_policies"].items()):  # (their code runs mid-workflow)
            owner = self._owner.get(("claimdesk_fee_policies", key), key)
            records["claimdesk_fee_policies"][key] = dataclasses.replace(
                policy, fee_cents=_named_fee(policy.fee_cents, key, owner))
        self._records = records
        return records

    def _second(self, hook: str, key: str, name: str, source: str, item: Any, builtin: set[str]) -> Any:
        """``item`` from ``name`` for a ``key`` already taken: the record to keep in its place (a
        replacement of a built-in the clinic allows, its role raised to the built-in's), or None
        (refused and reported: a built-in's key without the clinic's leave, or a clash between two
        non-built-ins, which keeps the first)."""
        first = self._owner[(hook, key)]
        kind = LIST_HOOKS[hook][0].__name__
        if first not in builtin or name in builtin:
            self._conflict(hook, key, name, source, kind)
            return None
        if name not in self.replace:
            self._conflicts.setdefault((hook, key), [first]).append(name)
            self.failures.append(PluginFailure(
                name, "describe", f"{source} defines the {_kind_words(kind)} {key!r} of the built-in plugin "
                                  f"{first!r}: refused, the built-in is kept (to replace it, the clinic lists "
                                  f"{name!r} under [plugins] replace in the config file)"))
            return None
        base = self._builtin_records[(hook, key)][1]
        note = ""
        if isinstance(item, ROLE_RECORDS) and isinstance(base, ROLE_RECORDS):
            role = stricter_role(getattr(item, "required_role", "clerk"), getattr(base, "required_role", "clerk"))
            if role != getattr(item, "required_role", "clerk"):
                note = f"; it still needs {_article(role)}, as the built-in does"
                item = dataclasses.replace(item, required_role=role)
        self._replaced[(hook, key)] = first
        self.failures.append(PluginFailure(
            name, REPLACES, f"REPLACES the built-in {_kind_words(kind)} {key!r} of plugin {first!r} "
                            f"(allowed by [plugins] replace in the config file){note}"))
        return item

    def replaced(self, hook: str, key: str) -> str | None:
        """The built-in plugin whose record for ``key`` another plugin replaces (by the clinic's
        ``[plugins] replace``), or None."""
        self._collect()
        return self._replaced.get((hook, key))

    def replacements(self) -> list[PluginFailure]:
        """The notices of built-ins replaced (stage ``replaces``)."""
        self._collect()
        return [f for f in self.failures if f.stage == REPLACES]

    def builtin_record(self, hook: str, key: str):
        """What the built-in plugins give for ``key`` (even when replaced or refused), or None."""
        self._collect()
        found = self._builtin_records.get((hook, key))
        return found[1] if found else None

    def _conflict(self, hook: str, key: str, name: str, source: str, kind: str) -> None:
        """A second definition of ``key``: reported naming both sources; the first is kept."""
        first = self._owner[(hook, key)]
        first_source = "the config file" if first == "config" else f"plugin {first!r}"
        self._conflicts.setdefault((hook, key), [first]).append(name)
        self._ambiguous.add((hook, key))
        self.failures.append(PluginFailure(
            name, "describe", f"conflicting {kind} key {key!r}: already provided by {first_source}; "
                              f"{source} defines it again (the first is kept)"))

    def conflicts(self, hook: str, key: str) -> list[str]:
        """Every source (plugin name, or "config") defining ``key`` more than once; [] if unique."""
        self._collect()
        return list(self._conflicts.get((hook, key), []))

    def ambiguous(self, hook: str, key: str) -> bool:
        """``key`` is defined twice and neither wins: a clash between plugins (or a plugin and the
        config file) that are not built-ins. A built-in's key defined again is not ambiguous: the
        built-in wins (or the replacement the clinic allowed, when it is the only one)."""
        self._collect()
        return (hook, key) in self._ambiguous

    def owner(self, hook: str, key: str) -> str | None:
        """Name of the plugin that contributed ``key`` to ``hook``."""
        self._collect()
        return self._owner.get((hook, key))

    def actions(self) -> list[Action]:
        """Every advanced action, in menu order."""
        return sorted(self._collect()["claimdesk_advanced_actions"].values(), key=lambda a: (a.order, a.key))

    def payment_methods(self) -> list[PaymentMethod]:
        """Every payment method, in menu order."""
        return sorted(self._collect()["claimdesk_payment_methods"].values(), key=lambda m: (m.order, m.key))

    def fee_policies(self) -> list[FeePolicy]:
        """Every returned-check fee policy, in menu order."""
        return sorted(self._collect()["claimdesk_fee_policies"].values(), key=lambda f: (f.order, f.key))

    def refund_methods(self, payee: str | None = None) -> list[RefundMethod]:
        """Every refund method (plugin API 1.4), in menu order; only those that can pay
        ``payee`` ("patient" or "payer") when given."""
        items = self._collect()["claimdesk_refund_methods"].values()
        return sorted((m for m in items if payee is None or payee in m.payees), key=lambda m: (m.order, m.key))

    def writeoff_reasons(self, kind: str | None = None) -> list[WriteoffReason]:
        """Write-off reasons, optionally only one kind (insurance | patient)."""
        items = self._collect()["claimdesk_writeoff_reasons"].values()
        return sorted((r for r in items if kind is None or r.kind == kind), key=lambda r: r.code)

    def denial_routes(self) -> list[DenialRoute]:
        """Every denial route (plugins and config), by code."""
        return sorted(self._collect()["claimdesk_denial_routes"].values(), key=lambda r: r.code)

    def get(self, hook: str, key: str):
        """One record by key, or ``None``."""
        return self._collect()[hook].get(key)

    def notify_applied(self, event: AppliedEvent) -> None:
        """``pm.hook.claimdesk_action_applied(event=...)``; a listener that raises is reported
        (stage ``event``) and the others still hear it."""
        self.pm.hook.claimdesk_action_applied(event=event)


class _Guarded:
    """What the host registers for a plugin: the plugin's own hook functions, each (but hook
    wrappers, which pluggy drives itself) behind a guard that reports an exception or a
    malformed record as that plugin's failure and contributes nothing instead."""

    def __init__(self, plugin: Any, name: str, host: "PluginHost"):
        self.__name__ = getattr(plugin, "__name__", type(plugin).__name__)
        self.plugin = plugin
        self._hooks: list[str] = []
        for attr in dir(plugin):
            if not attr.startswith(f"{GROUP}_"):
                continue
            fn = getattr(plugin, attr)
            opts = host.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None:
                continue
            if opts.get("wrapper") or opts.get("hookwrapper"):
                setattr(self, attr, fn)
            else:
                setattr(self, attr, _guard(fn, attr, name, host))
            self._hooks.append(attr)

    def __dir__(self) -> list[str]:
        """The hook functions only: what pluggy looks through when registering (not the ~30
        attributes every object has, each inspected statically: a third of loading the plugins)."""
        return list(self._hooks)


def _guard(fn, hook: str, name: str, host: "PluginHost"):
    spec = LIST_HOOKS.get(hook)

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
            if spec is None:
                return out
            items = list(out or [])
            for item in items:
                _check_record(item, spec[0])
        except Exception as exc:  # noqa: BLE001 - one broken plugin never takes the others down
            host.failures.append(PluginFailure(name, "describe" if spec else "event", _describe(exc)))
            return None
        host._returned_by(name, items)
        return items

    return guarded


class PluginFailed(ClaimdeskError):
    """Code a plugin contributed raised (or answered nonsense) while claimdesk used it in a
    workflow: the message names the plugin, the record and the error; the workflow's transaction
    is rolled back, so nothing was written."""


def _named_fee(fn, key: str, owner: str):
    """``fn``, a fee policy's ``fee_cents``, with its failures named: anything it raises (but a
    :class:`ClaimdeskError` it raises on purpose) and an answer that is not a whole number of
    cents, 0 or more, become :class:`PluginFailed` on ``fee_policy``."""
    if getattr(fn, "_claimdesk_named", False):
        return fn

    @functools.wraps(fn)
    def fee_cents(returned_cents, data):
        try:
            fee = fn(returned_cents, data)
        except ClaimdeskError:
            raise
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, named instead of "unexpected"
            raise PluginFailed(f"fee policy {key!r} (plugin {owner}) failed: {_describe(exc)}; nothing was "
                               f"written (see `claimdesk plugins`)", field="fee_policy") from exc
        if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
            raise PluginFailed(f"fee policy {key!r} (plugin {owner}) answered {fee!r}, not a fee in cents (a whole "
                               f"number, 0 or more); nothing was written", field="fee_policy")
        return fee

    fee_cents._claimdesk_named = True
    return fee_cents


def _calls(caller) -> bool:
    try:
        caller()
        return True
    except Exception:  # noqa: BLE001
        return False


def api_refusal(needs: Any) -> str | None:
    """Why a plugin declaring ``CLAIMDESK_API = needs`` cannot be loaded, or None when it can
    (not declaring is taken as needing 1.0)."""
    if needs is None:
        return None
    m = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", str(needs).strip())
    if not m:
        return (f"declares CLAIMDESK_API = {needs!r}; expected a version like \"1.0\" "
                f"(this claimdesk provides plugin API {API_VERSION})")
    have_major, have_minor = (int(x) for x in API_VERSION.split(".")[:2])
    major, minor = int(m.group(1)), int(m.group(2))
    if major != have_major or minor > have_minor:
        return (f"needs the claimdesk plugin API {major}.{minor}; this claimdesk provides {API_VERSION} "
                f"(install a version of the plugin made for API {have_major}.x, or a claimdesk that provides "
                f"{major}.{minor})")
    return None


def _dist_facts(ep: md.EntryPoint, seen: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """(distribution name, version) of an entry point's package; its metadata is parsed once
    per distribution (``ep.dist.name`` and ``.version`` parse the whole METADATA file each time)."""
    dist = ep.dist
    if dist is None:
        return "?", "?"
    facts = seen.get(id(dist))
    if facts is None:
        meta = dist.metadata
        facts = seen[id(dist)] = (meta["Name"], meta["Version"])
    return facts


def _check_record(item: Any, rtype: type) -> None:
    if not isinstance(item, rtype):
        raise TypeError(f"expected {rtype.__name__}, got {type(item).__name__}")
    if rtype is WriteoffReason:
        if item.kind not in WRITEOFF_KINDS:
            raise ValueError(f"write-off reason {item.code!r}: kind must be one of {WRITEOFF_KINDS}")
        if not isinstance(item.code, str) or not item.code.strip() or not isinstance(item.label, str) \
                or not item.label.strip():
            raise ValueError("write-off reason needs a code and a label")
        if item.group_code not in GROUP_CODES:
            raise ValueError(f"write-off reason {item.code!r}: unknown group code {item.group_code!r} "
                             f"(one of {', '.join(g for g in GROUP_CODES if g)})")
        if item.carc and (not isinstance(item.carc, str) or not CARC_PATTERN.match(item.carc)):
            raise ValueError(f"write-off reason {item.code!r}: {item.carc!r} is not a claim adjustment reason "
                             f"code (CARC: digits, or a letter and digits, e.g. 45, 197, A1, P14)")
        if item.carc and not item.group_code:
            raise ValueError(f"write-off reason {item.code!r}: CARC {item.carc!r} needs a group code "
                             f"(one of {', '.join(g for g in GROUP_CODES if g)})")
    if rtype is DenialRoute:
        if not isinstance(item.code, str) or not ROUTE_CODE_PATTERN.match(item.code):
            raise ValueError(f"denial route {item.code!r}: code must be a group and reason (CO-29), a group "
                             f"(CO, PR, OA, PI, CR) or a reason (29, B7)")
        if not isinstance(item.queue, str) or not QUEUE_KEY_PATTERN.match(item.queue):
            raise ValueError(f"denial route {item.code!r}: queue must be a work queue key like 'review', "
                             f"got {item.queue!r}")
        if not isinstance(item.label, str):
            raise ValueError(f"denial route {item.code!r}: label must be text")
    if rtype is RefundMethod and (not isinstance(item.payees, tuple) or not item.payees
                                  or any(p not in ("patient", "payer") for p in item.payees)):
        raise ValueError(f"refund method {item.key!r}: payees must be a tuple of \"patient\" and/or \"payer\", "
                         f"got {item.payees!r}")
    if rtype is Action and (not callable(item.applies) or not callable(item.apply)):
        raise TypeError(f"action {item.key!r}: applies and apply must be callable")
    if rtype in ROLE_RECORDS and getattr(item, "required_role", "clerk") not in ROLES:
        what = item.key if rtype is Action else item.code
        raise ValueError(f"{rtype.__name__} {what!r}: required_role must be one of {', '.join(ROLES)}, "
                         f"got {getattr(item, 'required_role', None)!r}")


def _kind_words(kind: str) -> str:
    """``"WriteoffReason"`` -> ``"write-off reason"``."""
    return {"Action": "action", "PaymentMethod": "payment method", "FeePolicy": "fee policy",
            "WriteoffReason": "write-off reason", "DenialRoute": "denial route",
            "RefundMethod": "refund method"}.get(kind, kind)


def _article(role: str) -> str:
    return ("an " if role[0] in "aeiou" else "a ") + role


def _describe(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" ({last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


_host: PluginHost | None = None


def get_host(settings=None) -> PluginHost:
    """The process-wide host, loaded on first use from the entry points."""
    global _host
    if _host is None:
        disabled = settings.disabled_plugins if settings else ()
        extra = settings.extra_writeoff_reasons if settings else ()
        routes = settings.extra_denial_routes if settings else ()
        replace = replace_setting(settings) if settings else ()
        _host = PluginHost(disabled, extra, routes, replace=replace).load_entrypoints()
    return _host


def replace_setting(settings=None) -> list[str]:
    """The plugins the clinic lets replace built-ins: ``[plugins] replace = ["my_clinic"]`` in the
    config file (``"config"`` for the file's own ``[[writeoff_reasons]]``/``[[era.routes]]``).
    Anything but a list of names raises :class:`~claimdesk.core.config.ConfigError` naming the key."""
    from claimdesk.core import config

    path = getattr(settings, "config_path", None) or config.config_path()
    table = config.read_config_file(path).get("plugins", {})
    value = table.get("replace", []) if isinstance(table, dict) else []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise config.ConfigError(path, "[plugins] replace",
                                 f'must be a list of plugin names like ["my_clinic"], got {value!r}')
    return [v.strip() for v in value]


def reset_host(host: PluginHost | None = None) -> None:
    """Drop (or replace) the process-wide host; used by tests and by config reloads."""
    global _host
    _host = host
