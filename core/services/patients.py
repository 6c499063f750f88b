"""Registering patients and changing what is known about them (a clerk's work).

A new patient gets the next account number (``A000241``) unless one is given. A second
patient with the same name and date of birth is refused as a likely duplicate unless the
clerk says ``duplicate_ok``. Finding patients is :func:`claimdesk.core.services.patient_views.find_patients`.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from peewee import fn

from claimdesk.core import clock, db
from claimdesk.core.claim_rules import check_sex, check_state, check_zip
from claimdesk.core.errors import Refused
from claimdesk.core.models import Patient
from claimdesk.core.services import records
from claimdesk.core.validation import Coded, Text, date_field

#: Automatic account numbers: this letter and six digits, the next after the highest.
ACCOUNT_PREFIX, ACCOUNT_DIGITS = "A", 6
_PG_ACCOUNT_LOCK = 7_340_015


class DuplicatePatient(Refused):
    """A patient with the same name and date of birth exists: ``other`` is that patient
    (patient_id, name, account_no); saying ``duplicate_ok`` registers this one anyway."""

    def __init__(self, message: str, other: dict):
        super().__init__(message, field="dob")
        self.other = other


class PatientInput(Schema):
    """A patient's fields (all but the names and birth date optional)."""

    account_no = Text(max_length=20, validate=validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9-]*\Z", error="letters, digits and dashes only"))
    last_name = Text(required=True, min_length=1, max_length=60)
    first_name = Text(required=True, min_length=1, max_length=35)
    dob = date_field(required=True)
    sex = Coded(check_sex, load_default="U")
    address = Text(max_length=55, load_default="")
    city = Text(max_length=30, load_default="")
    state = Coded(check_state, load_default="")
    zip = Coded(check_zip, load_default="")
    phone = Text(max_length=20, load_default="")
    duplicate_ok = fields.Boolean(load_default=False, metadata={
        "help": "add even when a patient with this name and birth date exists"})


def _check(values: dict, record: Patient | None) -> dict:
    """A patient's rules: a birth date not in the future, a unique account number (made when
    none), no second patient with the same name and birth date unless ``duplicate_ok``."""
    duplicate_ok = values.pop("duplicate_ok", False)
    if values["dob"] > clock.today():
        raise Refused(f"the date of birth {values['dob']} is in the future", field="dob")
    values["account_no"] = (values.get("account_no") or "").upper() or next_account_no()
    other = Patient.get_or_none((Patient.account_no == values["account_no"])
                                & (Patient.id != (record.id if record else 0)))
    if other is not None:
        raise Refused(f"account number {values['account_no']} belongs to patient {other.id} ({other.name})",
                      field="account_no")
    who = (values["last_name"].lower(), values["first_name"].lower(), values["dob"])
    if record is not None and who == (record.last_name.lower(), record.first_name.lower(), record.dob):
        return values  # name and birth date unchanged: nothing new to compare
    same = (Patient.select().where((fn.LOWER(Patient.last_name) == who[0]) & (fn.LOWER(Patient.first_name) == who[1])
                                   & (Patient.dob == who[2]) & (Patient.id != (record.id if record else 0)))
            .first())
    if same is not None and not duplicate_ok:
        raise DuplicatePatient(f"patient {same.id} ({same.name}, account {same.account_no}) has the same name and "
                               f"date of birth; if this is another person, say duplicate_ok",
                               {"patient_id": same.id, "name": same.name, "account_no": same.account_no})
    return values


def next_account_no() -> str:
    """The next automatic account number: one after the highest ``A`` + six digits in use."""
    if db.is_postgres():  # two clerks registering at once take turns (SQLite holds the write lock already)
        db.sql("SELECT pg_advisory_xact_lock({p})", [_PG_ACCOUNT_LOCK])
    width = len(ACCOUNT_PREFIX) + ACCOUNT_DIGITS
    highest = (Patient.select(Patient.account_no)
               .where(Patient.account_no.startswith(ACCOUNT_PREFIX) & (fn.LENGTH(Patient.account_no) == width))
               .order_by(Patient.account_no.desc()).limit(50).tuples())
    tails = [a[len(ACCOUNT_PREFIX):] for (a,) in highest]
    numbers = [int(t) for t in tails if t.isascii() and t.isdigit()]
    return f"{ACCOUNT_PREFIX}{max(numbers, default=0) + 1:0{ACCOUNT_DIGITS}d}"


def shown(p: Patient) -> dict:
    """A patient's registration as plain data, with the name as shown ("Last, First")."""
    return {**PATIENT.show_fields(p), "name": p.name}


PATIENT = records.RecordKind(Patient, "patient", "clerk", PatientInput, _check, shown, work="registering patients")
#: Workflows (clerk): register a patient (the registration with its account number); change one.
add_patient, edit_patient = PATIENT.add, PATIENT.edit
