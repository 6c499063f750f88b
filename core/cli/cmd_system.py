"""System commands: ``verify`` (the ledger's invariants) and ``plugins`` (what is loaded)."""

from __future__ import annotations

from claimdesk.core.cli.common import NONE, command
from claimdesk.core.cli.errors import VIOLATIONS
from claimdesk.core.cli.output import Result, table
from claimdesk.core.errors import InputError
from claimdesk.core.plugins.host import get_host
from claimdesk.core.services import verify as verify_service
from claimdesk.core.services import views


def register(subparsers) -> None:
    """Add verify and plugins."""
    p = command(subparsers, "verify", "Recompute every balance from the ledger and check the invariants", verify)
    p.add_argument("--expect-head", metavar="ID:HASH",
                   help="the audit chain head an earlier verify printed (kept off this machine): "
                        "refuse if the chain no longer holds it (events cut from the end or rewritten)")
    p.add_argument("--anchor", metavar="FILE",
                   help="the file `claimdesk audit anchor --to FILE` appends to: check its latest head")
    command(subparsers, "plugins", "List plugins, the hooks they implement, what they add, and failures",
            plugins, needs=NONE)


def verify(args) -> Result:
    """Exit 0 when the books are clean, else list each violation and exit 1."""
    expect = args.expect_head
    if args.anchor:
        from claimdesk.core.services import anchors

        if expect:
            raise InputError({"anchor": ["give --anchor or --expect-head, not both"]})
        expect = anchors.latest(args.anchor)
    rep = verify_service.report(expect_head=expect)
    violations = [v.as_dict() for v in rep.violations]
    audit = rep.audit
    head = {"audit_id": audit.head[0], "hash": audit.head[1]} if audit.head else None
    data = {"ok": rep.ok, "violations": violations, "audit_events": audit.events, "head": head,
            "events_without_digest": audit.undigested}
    notes = [f"audit chain head: {audit.head_text()} (keep it off this machine; later: "
             f"claimdesk verify --expect-head {audit.head_text() if audit.head else 'ID:HASH'})"]
    if audit.undigested:
        notes.append(f"note: {audit.undigested} audit event(s) written before schema v3 carry no postings digest; "
                     f"their hash chain is checked, their postings only by the balance checks")
    if rep.ok:
        return Result(data, "\n".join(["verify: the books are clean (0 violations)", *notes]))
    text = "\n".join([f"verify: {len(violations)} violation(s)"]
                     + [f"  [{v['check']}] {v['message']}" for v in violations] + notes)
    return Result(data, text, exit_code=VIOLATIONS)


def plugins(args) -> Result:
    """Every plugin with distribution, version, hooks, contributed keys; failures with errors."""
    data = views.plugins_report(get_host(args.settings))
    rows = [{"name": p["name"], "dist": f"{p['distribution']} {p['version']}".strip(),
             "hooks": ", ".join(h.removeprefix("claimdesk_") for h in p["hooks"]),
             "adds": ", ".join(c.split(" ")[-1] for c in p["contributes"])} for p in data["plugins"]]
    text = [f"claimdesk plugin API {data['api_version']}",
            table(rows, [("plugin", "name"), ("distribution", "dist"), ("hooks", "hooks"), ("adds", "adds")])]
    if data["replaced"]:
        text.append("\nREPLACED BUILT-INS (the config file's [plugins] replace):")
        text += [f"  {f['name']}: {f['error']}" for f in data["replaced"]]
    if data["failures"]:
        text.append("\nfailures:")
        text += [f"  {f['name']} ({f['stage']}): {f['error']}" for f in data["failures"]]
    if data["skipped"]:
        text.append("\ndisabled in config: " + ", ".join(data["skipped"]))
    return Result(data, "\n".join(text))
