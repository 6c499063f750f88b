"""Advanced Actions: ``actions list``, ``actions describe``, ``actions apply``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, load_object
from claimdesk.core.cli.errors import REFUSED
from claimdesk.core.cli.output import Result, money, pairs, table
from claimdesk.core.errors import InputError
from claimdesk.core.services import actions
from claimdesk.core.usecases.advanced_actions import ActionSession, Applied


def register(subparsers) -> None:
    """Add the actions group."""
    sub = group(subparsers, "actions", "Advanced Actions on an encounter")
    command(sub, "list", "The actions that apply to an encounter",
            list_actions).add_argument("encounter_id", metavar="ENC")
    p = command(sub, "describe", "An action's guided inputs (fields and choices)", describe)
    p.add_argument("encounter_id", metavar="ENC")
    p.add_argument("key", metavar="KEY")
    p = command(sub, "apply", "Apply an action (one transaction, audited)", apply)
    p.add_argument("encounter_id", metavar="ENC")
    p.add_argument("key", metavar="KEY")
    p.add_argument("--data", metavar="JSON", help="the inputs as a JSON object (@file or - for stdin)")
    p.add_argument("--remove-from-queue", action="store_true", help="then take the encounter off its queue")
    p.add_argument("--also", metavar="ENC,ENC|all",
                   help="then apply the same action to these other encounters of the patient (all: every one it fits)")
    p.add_argument("--dry-run", action="store_true",
                   help="show what it would do (the same checks and summary), writing nothing")


def list_actions(args) -> Result:
    """Key, title, when it appears and steps of every action that fits."""
    d = actions.assess(args.encounter_id)
    lines = [f"encounter {d['encounter_id']} (patient {d['patient_id']}): {len(d['offers'])} action(s)"]
    for o in d["offers"]:
        lines.append(f"\n{o['key']}  -  {o['title']}")
        lines.append(f"  when: {o['when']}")
        lines += [f"  {i}. {s}" for i, s in enumerate(o["steps"], 1)]
    for f in d["failures"]:
        lines.append(f"\nplugin {f['name']} failed in {f['stage']}: {f['error']}")
    return Result(d, "\n".join(lines))


def describe(args) -> Result:
    """The form of one action for one encounter."""
    action = actions.get_action(args.key)
    fields = actions.form(args.encounter_id, args.key)
    data = {"key": action.key, "title": action.title, "encounter_id": args.encounter_id, "fields": fields}
    lines = [f"{action.key}  -  {action.title}", "fields (pass them with --data '{\"name\": value}'):"]

    def render(items, indent="  "):
        for f in items:
            req = "required" if f["required"] else "optional"
            lines.append(f"{indent}{f['name']}  ({f['kind']}, {req})  {f['label']}"
                         + (f"  - {f['help']}" if f["help"] else ""))
            if f["choices"]:
                lines.append(f"{indent}    choices: " + ", ".join(
                    f"{v}" if str(v) == str(lbl) else f"{v} ({lbl})" for v, lbl in f["choices"]))
            if f.get("fields"):
                lines.append(f"{indent}    each row:")
                render(f["fields"], indent + "      ")

    render(fields)
    if not fields:
        lines.append("  (none)")
    return Result(data, "\n".join(lines))


def _others(args) -> list | str:
    """The --also list: ``"all"`` or the encounter ids typed."""
    if args.also.strip().lower() == "all":
        return "all"
    ids = [p.strip() for p in args.also.split(",") if p.strip()]
    if not ids:
        raise InputError({"also": ["list encounter IDs separated by commas, or all"]})
    return ids


def _summary(res: Applied, dry_run: bool = False) -> list[str]:
    b, a = res.before, res.after
    ranks = sorted(set(b.by_rank) | set(a.by_rank))
    rows = [{"what": f"encounter {r}", "before": money(b.by_rank.get(r, 0)), "after": money(a.by_rank.get(r, 0))}
            for r in ranks]
    rows += [{"what": k.replace("_", " "), "before": money(getattr(b, k)), "after": money(getattr(a, k))}
             for k in ("encounter_total", "patient_due", "insurance_pending")]
    out = [table(rows, [("", "what"), ("before", "before"), ("after", "after")], right=("before", "after"))]
    entries = (f"{len(res.entries)} would be posted" if dry_run and res.entries
               else ", ".join(map(str, res.entries)) or "none")
    made = (f"{len(res.statements_made)} would be made" if dry_run and res.statements_made
            else ", ".join(map(str, res.statements_made)) or "none")
    out.append(pairs([("journal entries", entries),
                      ("queue", " -> ".join(str(q) for q in res.queue_change) if res.queue_change
                       else (a.queue or "none")),
                      ("statements made", made),
                      ("statements voided", ", ".join(map(str, res.statements_voided)) or "none")]))
    return out


def apply(args) -> Result:
    """Apply; then remove from the queue; then apply to the others; report each. With
    ``--dry-run`` all of it is done and rolled back: what it would do, nothing written."""
    data = load_object(args.data, "data") if args.data else {}
    session = ActionSession(args.encounter_id, args.key, data)
    others = _others(args) if args.also else None
    session.check_options(remove_from_queue=args.remove_from_queue, also=bool(others))
    if others:
        session.check_others(others)  # before the first is applied: a retried command never applies it twice
    if args.dry_run:
        out, lines = actions.dry_run(_apply, session, args, others, dry_run=True)
        out["dry_run"] = True
        lines.insert(0, "dry run, nothing written")
    else:
        out, lines = _apply(session, args, others)
    failed = any(not o["ok"] for o in out["others"])
    return Result(out, "\n".join(lines), exit_code=REFUSED if failed else 0)


def _apply(session: ActionSession, args, others: list | str | None, dry_run: bool = False) -> tuple[dict, list[str]]:
    """The steps of ``actions apply``: what was done (as ``--json`` prints it) and its summary lines."""
    res = session.apply()
    out = {"result": res.stored, "removed_from_queue": None, "others": []}
    head = (f"would apply {args.key} to encounter {res.encounter_id}" if dry_run
            else f"applied {args.key} to encounter {res.encounter_id} (audit {res.audit_id})")
    lines = [head] + _summary(res, dry_run)
    would = "would be " if dry_run else ""
    if args.remove_from_queue:
        answer = session.remove_from_queue()
        if answer.removed_from is None:
            lines.append(answer.note)
        else:
            out["removed_from_queue"] = {"encounter_id": answer.encounter_id, "removed_from": answer.removed_from,
                                         "after_action": args.key, "audit_id": answer.audit_id}
            lines.append(f"{would}removed from queue {answer.removed_from}")
    if others == "all" and not session.others():
        lines.append("no other encounter of this patient fits this action")
    elif others:
        done = session.apply_to_others(others)
        out["others"] = [{"encounter_id": o.encounter_id, "ok": o.ok, "removed_from_queue": o.removed_from,
                          **({"result": o.applied.stored} if o.ok else {"error": o.error})} for o in done]
        lines += [f"encounter {o.encounter_id}: "
                  + (f"{would}applied" if o.ok else f"{'would not be' if dry_run else 'not'} applied: {o.error}")
                  + (f", {would}removed from queue {o.removed_from}" if o.removed_from else "") for o in done]
    return out, lines
