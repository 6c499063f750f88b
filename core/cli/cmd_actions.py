"""Advanced Actions: ``actions list``, ``actions describe``, ``actions apply``."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, load_object
from claimdesk.core.cli.errors import REFUSED
from claimdesk.core.cli.output import Result, money, pairs, table
from claimdesk.core.errors import InputError
from claimdesk.core.services import actions

#: Keys of action results (core snapshots and the built-in plugins' reports) holding cents.
RESULT_MONEY = ("encounter_by_rank", "encounter_total", "patient_due", "insurance_pending", "balance",
                "amount", "amount_due", "written_off", "balance_moved", "balance_restored", "adjusted",
                "previous_balance", "final_balance", "patient_balance", "billed_to_patient", "promoted_balance")


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


def _others(args) -> list:
    if not args.also:
        return []
    if args.also.strip().lower() == "all":
        return [o["encounter_id"] for o in actions.other_encounters(args.encounter_id, args.key)]
    ids = [p.strip() for p in args.also.split(",") if p.strip()]
    if not ids:
        raise InputError({"also": ["list encounter IDs separated by commas, or all"]})
    return ids


def _check_options(args, action) -> None:
    """Refuse options the action does not allow before anything is applied."""
    if args.remove_from_queue and not action.offers_queue_removal:
        raise InputError({"remove_from_queue": [
            f"{action.title!r} does not offer to take the encounter off its work queue"]})
    if args.also and not action.repeatable:
        raise InputError({"also": [f"{action.title!r} is applied to one encounter at a time; "
                                   f"it cannot be applied to the patient's other encounters"]})


def _summary(res: dict) -> list[str]:
    b, a = res["before"], res["after"]
    ranks = sorted(set(b["encounter_by_rank"]) | set(a["encounter_by_rank"]))
    rows = [{"what": f"encounter {r}", "before": money(b["encounter_by_rank"].get(r, 0)),
             "after": money(a["encounter_by_rank"].get(r, 0))} for r in ranks]
    rows += [{"what": k.replace("_", " "), "before": money(b[k]), "after": money(a[k])}
             for k in ("encounter_total", "patient_due", "insurance_pending")]
    out = [table(rows, [("", "what"), ("before", "before"), ("after", "after")], right=("before", "after"))]
    out.append(pairs([("journal entries", ", ".join(map(str, res.get("entries", []))) or "none"),
                      ("queue", " -> ".join(str(q) for q in res["queue_change"]) if res["queue_change"]
                       else (a["queue"] or "none")),
                      ("statements made", ", ".join(map(str, res["statements_made"])) or "none"),
                      ("statements voided", ", ".join(map(str, res["statements_voided"])) or "none")]))
    return out


def apply(args) -> Result:
    """Apply; then remove from the queue; then apply to the others; report each."""
    data = load_object(args.data, "data") if args.data else {}
    _check_options(args, actions.get_action(args.key))
    res = actions.apply(args.encounter_id, args.key, data)
    out = {"result": res, "removed_from_queue": None, "others": []}
    lines = [f"applied {args.key} to encounter {res['encounter_id']} (audit {res['audit_id']})"] + _summary(res)
    if args.remove_from_queue:
        if res["after"]["queue"] is None:
            lines.append("not on a work queue: nothing to remove")
        else:
            out["removed_from_queue"] = actions.remove_from_queue(res["encounter_id"], after_action=args.key)
            lines.append(f"removed from queue {out['removed_from_queue']['removed_from']}")
    others = _others(args)
    if others:
        out["others"] = actions.apply_to_others(args.key, others, data, first=res["encounter_id"])
        for o in out["others"]:
            lines.append(f"encounter {o['encounter_id']}: "
                         + ("applied" if o["ok"] else f"not applied: {o['error']}"))
    elif args.also:
        lines.append("no other encounter of this patient fits this action")
    failed = any(not o["ok"] for o in out["others"])
    return Result(out, "\n".join(lines), money=RESULT_MONEY, exit_code=REFUSED if failed else 0)
