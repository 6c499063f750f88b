"""Logs carry ids, never patient names or dates of birth, even with every logger at DEBUG.

A clinic may point the root logger at syslog at DEBUG while chasing a problem; what
claimdesk and its plugins (the ``claimdesk.events`` event log) write there must not
identify a patient. The workflows below are real (CLI and services), on both engines.
"""

from __future__ import annotations

import datetime as dt
import json
import logging


from claimdesk.core import db
from claimdesk.core.models import AuditEvent, Patient

from tests import builders as b

NAMES = ("Quartermaine", "Zebediah")
DOB = dt.date(1957, 4, 23)
DOB_TEXTS = ("1957-04-23", "04/23/1957", "4/23/1957", "19570423", "23.04.1957", "Apr 23, 1957",
             "date(1957, 4, 23)")  # the last: a date as a logged SQL parameter (repr)


def _everything(records) -> str:
    """Every record as a handler would print it, plus its raw args and any exception text."""
    out = []
    for r in records:
        out.append(f"{r.name} {r.levelname} {r.getMessage()} {r.args!r}")
        if r.exc_info:
            out.append(logging.Formatter().formatException(r.exc_info))
    return "\n".join(out)


PRIVATE = NAMES + DOB_TEXTS + ("12 Elm St", "555-0142")


def _patient() -> Patient:
    with db.write_transaction():
        return Patient.create(account_no="A0900", last_name=NAMES[0], first_name=NAMES[1], dob=DOB,
                              address="12 Elm St", phone="555-0142")


def _leaks(records) -> list[str]:
    text = _everything(records).lower()
    return [s for s in PRIVATE if s.lower() in text]


def test_workflows_logged_at_debug_name_ids_not_patients(cli, caplog):
    pat = _patient()
    medicare = b.payer("Medicare", "medicare")
    enc, (charge, _) = b.encounter(pat, [120_00, 30_00], payers=[medicare])

    caplog.set_level(logging.DEBUG)  # the root logger, as a clinic chasing a problem would: every library's
    # and plugin's records (peewee logs each SQL statement with its parameters at DEBUG)
    ins = b.voucher(medicare, 90_00)
    cli.json("eob", "post", "--data", json.dumps({
        "encounter_id": enc.id, "payer_id": medicare.id, "voucher_id": ins,
        "lines": [{"charge_id": charge.id, "allowed": "100.00", "paid": "80.00",
                   "adjustments": [{"group_code": "CO", "reason_code": "45", "amount": "20.00"},
                                   {"group_code": "PR", "reason_code": "2", "amount": "20.00"}]}]}))
    check = b.voucher(None, 25_00)
    credit = cli.json("credit", "post", "--patient", str(pat.id), "--voucher", str(check), "--keep-unapplied")
    cli.json("check", "return", str(check), "--reason", "NSF")
    cli.json("statements", "generate", str(pat.id))
    cli.json("patient", "show", str(pat.id))
    cli.json("audit", "--encounter", str(enc.id))
    cli.json("verify")

    events = [r for r in caplog.records if r.name == "claimdesk.events"]
    assert len(events) >= 4, "the event log plugin recorded the workflows"
    assert any(r.name == "peewee" for r in caplog.records), "DEBUG really was on for the libraries too"
    assert _leaks(caplog.records) == [], "patient data in the logs"
    # the log does say who did what to which ids
    audit_id = AuditEvent.get(AuditEvent.action == "credit.post").id
    credit_event = next(r.getMessage() for r in events if " credit.post " in r.getMessage())
    assert f"patient={pat.id}" in credit_event and f"audit={audit_id}" in credit_event
    assert f"entries={credit['credit']['entries']}" in credit_event
    assert any(f"encounter={enc.id}" in r.getMessage() for r in events)


def test_a_search_by_name_logged_at_debug_does_not_carry_the_name(cli, caplog):
    pat = _patient()
    caplog.set_level(logging.DEBUG)
    assert [r["patient_id"] for r in cli.json("patient", "find", NAMES[0])] == [pat.id]
    assert _leaks(caplog.records) == [], "patient data in the logs"
