"""System commands: ``verify`` (the ledger's invariants) and ``plugins`` (what is loaded)."""

from __future__ import annotations

from claimdesk.core.cli.common import NONE, command
from claimdesk.core.cli.errors import VIOLATIONS
from claimdesk.core.cli.output import Result, table
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import verify as verify_service
from claimdesk.core.services import views


def register(subparsers) -> None:
    """Add verify and plugins."""
    command(subparsers, "verify", "Recompute every balance from the ledger and check the invariants", verify)
    command(subparsers, "plugins", "List plugins, the hooks they implement, what they add, and failures",
            plugins, needs=NONE)


def verify(args) -> Result:
    """Exit 0 when the books are clean, else list each violation and exit 1."""
    violations = [v.as_dict() for v in verify_service.verify()]
    data = {"ok": not violations, "violations": violations}
    if not violations:
        return Result(data, "verify: the books are clean (0 violations)")
    text = "\n".join([f"verify: {len(violations)} violation(s)"]
                     + [f"  [{v['check']}] {v['message']}" for v in violations])
    return Result(data, text, exit_code=VIOLATIONS)


def plugins(args) -> Result:
    """Every plugin with distribution, version, hooks, contributed keys; failures with errors."""
    data = views.plugins_report(get_host(args.settings))
    rows = [{"name": p["name"], "dist": f"{p['distribution']} {p['version']}".strip(),
             "hooks": ", ".join(h.removeprefix("claimdesk_") for h in p["hooks"]),
             "adds": ", ".join(c.split(" ")[-1] for c in p["contributes"])} for p in data["plugins"]]
    text = [table(rows, [("plugin", "name"), ("distribution", "dist"), ("hooks", "hooks"), ("adds", "adds")])]
    if data["failures"]:
        text.append("\nfailures:")
        text += [f"  {f['name']} ({f['stage']}): {f['error']}" for f in data["failures"]]
    if data["skipped"]:
        text.append("\ndisabled in config: " + ", ".join(data["skipped"]))
    return Result(data, "\n".join(text))
