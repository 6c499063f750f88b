"""A patient's coverages: the policies claims are billed to (a clerk's work).

The subscriber (the policy holder) is the patient when ``relationship`` is self; otherwise the
``subscriber_*`` fields hold that person, last and first name required. The plan type (the
claim filing indicator) defaults from the payer's kind (:func:`claimdesk.core.claim_rules.plan_type_for`).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core.claim_rules import (
    RELATIONSHIPS, check_plan_type, check_sex, check_state, check_zip, plan_type_for, relationship_code,
)
from claimdesk.core.errors import Refused
from claimdesk.core.models import Coverage, Patient, Payer
from claimdesk.core.services import records
from claimdesk.core.services.common import get
from claimdesk.core.validation import Coded, Id, Text, date_field

#: The fields that describe the subscriber when it is not the patient.
SUBSCRIBER_FIELDS = ("subscriber_last_name", "subscriber_first_name", "subscriber_dob", "subscriber_sex",
                     "subscriber_address", "subscriber_city", "subscriber_state", "subscriber_zip")


class CoverageInput(Schema):
    """A coverage's fields."""

    patient_id = Id(required=True)
    payer_id = Id(required=True)
    member_id = Text(required=True, min_length=1, max_length=80)
    group_no = Text(max_length=50, load_default="")
    relationship = fields.String(load_default="self", validate=validate.OneOf(
        RELATIONSHIPS, error=f"must be one of {', '.join(RELATIONSHIPS)}"))
    subscriber = Text(max_length=60, load_default="", metadata={
        "help": "the holder's name as shown (default: from the names), or a workers' comp employer"})
    subscriber_last_name = Text(max_length=60, load_default="")
    subscriber_first_name = Text(max_length=35, load_default="")
    subscriber_dob = date_field(load_default=None, allow_none=True)
    subscriber_sex = Coded(check_sex, load_default="U")
    subscriber_address = Text(max_length=55, load_default="")
    subscriber_city = Text(max_length=30, load_default="")
    subscriber_state = Coded(check_state, load_default="")
    subscriber_zip = Coded(check_zip, load_default="")
    plan_type = Coded(check_plan_type, load_default="", metadata={
        "help": "claim filing indicator (MB, MC, CI, WC, BL, HM...); default from the payer's kind"})
    effective_from = date_field(load_default=None, allow_none=True)
    effective_to = date_field(load_default=None, allow_none=True)
    active = fields.Boolean(load_default=True)


def _check(values: dict, record: Coverage | None) -> dict:
    """A coverage's rules: an existing patient (the same one on an edit) and an insurance payer;
    subscriber fields only for a subscriber who is not the patient, and then a name; dates in
    order; the plan type by the payer's kind unless given; one active coverage per member id."""
    patient = get(Patient, values["patient_id"], "patient", field="patient_id")
    if record is not None and patient.id != record.patient_id:
        raise Refused("a coverage stays with its patient; add a new coverage for another patient", field="patient_id")
    payer = get(Payer, values["payer_id"], "payer", field="payer_id")
    if not payer.is_insurance:
        raise Refused(f"{payer.name} is not an insurance payer; a patient without insurance needs no coverage",
                      field="payer_id")
    if values["relationship"] == "self" and record is not None and record.relationship != "self":
        for name in (*SUBSCRIBER_FIELDS, "subscriber"):  # the person the record held is the patient now
            if values[name] == getattr(record, name):
                values[name] = CoverageInput._declared_fields[name].load_default
    if values["relationship"] == "self":
        given = next((f for f in SUBSCRIBER_FIELDS if values.get(f) not in ("", None, "U")), None)
        if given:
            raise Refused("leave the subscriber's fields empty when the patient is the subscriber (relationship "
                          "self)", field=given)
    else:
        for name in ("subscriber_last_name", "subscriber_first_name"):
            if not values.get(name):
                raise Refused(f"the subscriber is the patient's {values['relationship']}: give their name", field=name)
    if values["effective_from"] and values["effective_to"] and values["effective_to"] < values["effective_from"]:
        raise Refused(f"ends {values['effective_to']}, before it starts ({values['effective_from']})",
                      field="effective_to")
    if not values["plan_type"] or (record is not None and payer.id != record.payer_id
                                   and values["plan_type"] == plan_type_for(record.payer.kind)):
        values["plan_type"] = plan_type_for(payer.kind)  # (a new payer's default, unless one was chosen)
    if not values["subscriber"]:
        values["subscriber"] = (patient.name if values["relationship"] == "self"
                                else f"{values['subscriber_last_name']}, {values['subscriber_first_name']}")
    twin = (Coverage.select().where((Coverage.patient == patient.id) & (Coverage.payer == payer.id)
                                    & (Coverage.member_id == values["member_id"]) & Coverage.active
                                    & (Coverage.id != (record.id if record else 0))).first())
    if twin is not None and values["active"]:
        raise Refused(f"the patient already has coverage {twin.id} with {payer.name}, member {values['member_id']}",
                      field="member_id")
    return values


def shown(c: Coverage) -> dict:
    """A coverage as plain data, with its payer's name and the relationship's X12 code."""
    code = relationship_code(c.relationship) if c.relationship in RELATIONSHIPS else ""
    return {**COVERAGE.show_fields(c), "payer": c.payer.name, "relationship_code": code}


COVERAGE = records.RecordKind(Coverage, "coverage", "clerk", CoverageInput, _check, shown, work="entering coverage")
#: Workflows (clerk): add a coverage to a patient; change one.
add_coverage, edit_coverage = COVERAGE.add, COVERAGE.edit
