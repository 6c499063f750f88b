"""Entering a clinic's own work by hand (a clerk's): ``patient add|edit``, ``coverage add|edit``,
``encounter add`` (with its charges), ``charge add|void`` (void: a supervisor's)."""

from __future__ import annotations

from claimdesk.core.cli.common import command, group, record_commands, schema_data, schema_options
from claimdesk.core.cli.output import Result, money, table
from claimdesk.core.services import charge_entry, coverages, patients


def register(subparsers) -> None:
    """Add patient add/edit, coverage add/edit, encounter add, charge add/void."""
    record_commands(subparsers, "patient", "Patients: register (account number made when none is given), change, "
                    "look up", patients.PATIENT, lambda r: f"{r['name']}, account {r['account_no']}")
    record_commands(subparsers, "coverage", "A patient's coverages (policies claims are billed to)",
                    coverages.COVERAGE, lambda r: (f"patient {r['patient_id']} with {r['payer']}, member "
                                                   f"{r['member_id']}, {r['relationship']}, plan {r['plan_type']}"))

    sub = group(subparsers, "encounter", "Encounters (claims): enter, look at")
    schema_options(command(sub, "add", "Enter an encounter with its charges (--charges JSON or @file, or all "
                           "of it with --data @file); its primary claim is queued", add_encounter),
                   charge_entry.EncounterInput)

    sub = group(subparsers, "charge", "Charge lines of an encounter")
    p = command(sub, "add", "Add a charge line to an encounter", add_charge)
    p.add_argument("encounter_id", metavar="ENC")
    schema_options(p, charge_entry.LineInput)
    p = command(sub, "void", "Void a charge line: its charge entry reversed (a supervisor's)", void_charge)
    p.add_argument("charge_id", metavar="CHARGE")
    p.add_argument("--reason", required=True, help="why (kept in the audit trail)")


def _lines(rows: list[dict]) -> str:
    return table([{**r, "fee": money(r["fee"]), "mods": ",".join(r["modifiers"]),
                   "ptr": ",".join(map(str, r["pointers"]))} for r in rows],
                 [("ln", "line_no"), ("charge", "charge_id"), ("code", "code"), ("mods", "mods"), ("units", "units"),
                  ("dx", "ptr"), ("control", "control_no"), ("fee", "fee"), ("", "status")], right=("fee",))


def add_encounter(args) -> Result:
    """Enter an encounter with its charges."""
    res = charge_entry.add_encounter(schema_data(args, charge_entry.EncounterInput))
    head = (f"encounter {res['encounter_id']} added for patient {res['patient_id']}: claim {res['claim_no']}, "
            f"{len(res['charges'])} charge(s), total {money(res['total'])}"
            + ("; primary claim queued" if res["claim_queued"] else ""))
    dx = ", ".join(f"{i}. {d}" for i, d in enumerate(res["diagnoses"], 1)) or "none"
    warnings = "".join(f"\nwarning: {w}" for w in res["warnings"])
    return Result(res, f"{head}\ndiagnoses: {dx}\n{_lines(res['charges'])}{warnings}")


def add_charge(args) -> Result:
    """Add a charge line."""
    res = charge_entry.add_charge(schema_data(args, charge_entry.LineInput, encounter_id=args.encounter_id))
    return Result(res, f"charge {res['charge_id']} added to encounter {res['encounter_id']}: line {res['line_no']}, "
                       f"{res['code']} x{res['units']}, {money(res['fee'])}")


def void_charge(args) -> Result:
    """Void a charge line."""
    res = charge_entry.void_charge({"charge_id": args.charge_id, "reason": args.reason})
    entries = ", ".join(map(str, res["reversing_entries"])) or "none: it posted nothing"
    return Result(res, f"charge {res['charge_id']} voided: {money(res['voided_fee'])} reversed "
                       f"(reversing entr{'y' if len(res['reversing_entries']) == 1 else 'ies'} {entries})")
