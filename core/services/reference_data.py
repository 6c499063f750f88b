"""Reference data: payers, providers and service codes (a supervisor's work).

Claims and remittances find these by their identifiers, so each is unique: a payer's payer
id (``payer_code``, as claims carry it), a provider's NPI (check digit checked), a service
code. The pseudo payers ("Patient", "Inactive Payer") are built in and cannot be edited.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from claimdesk.core.claim_rules import (
    CODE_KINDS, check_npi, check_service_code, check_state, check_tax_id, check_taxonomy, check_zip,
)
from claimdesk.core.errors import Refused
from claimdesk.core.models import PAYER_KINDS, PROVIDER_KINDS, PSEUDO_KINDS, Payer, Provider, ServiceCode
from claimdesk.core.money import Cents
from claimdesk.core.services import records
from claimdesk.core.validation import Coded, Money, Text

#: Payer kinds a person may give (the pseudo payers' kinds are built in).
INSURANCE_KINDS = tuple(k for k in PAYER_KINDS if k not in PSEUDO_KINDS)
ENTITIES = ("person", "organization")


def _one_of(values) -> validate.OneOf:
    return validate.OneOf(values, error=f"must be one of {', '.join(values)}")


def _unique(model, field: str, value, record, label: str, what: str) -> None:
    """Refuse ``value`` when another ``what`` (a row of ``model``) holds it in ``field``."""
    other = model.get_or_none((getattr(model, field) == value) & (model.id != (record.id if record else 0)))
    if other is not None:
        shown = getattr(other, "name", None) or getattr(other, "code", "")
        raise Refused(f"{label} {value} is taken by {what} {other.id} ({shown})", field=field)


# --- payers -----------------------------------------------------------------------------------
class PayerInput(Schema):
    """A payer's fields."""

    name = Text(required=True, min_length=1, max_length=60)
    kind = fields.String(load_default="commercial", validate=_one_of(INSURANCE_KINDS))
    payer_code = Text(required=True, min_length=2, max_length=80, validate=validate.Regexp(
        r"^[A-Za-z0-9]+\Z", error="letters and digits only"), metadata={"help": "the payer id claims carry"})
    address = Text(max_length=55, load_default="")
    city = Text(max_length=30, load_default="")
    state = Coded(check_state, load_default="")
    zip = Coded(check_zip, load_default="")
    phone = Text(max_length=20, load_default="")
    remit_ids = Text(max_length=200, load_default="", validate=validate.Regexp(
        r"^[A-Za-z0-9, ]*\Z", error="payer ids (letters and digits) separated by commas"),
        metadata={"help": "other ids its 835 remittances carry (REF*2U, N1*PR04, TRN03), comma separated"})


def _check_payer(values: dict, record: Payer | None) -> dict:
    """A payer's rules: not a pseudo payer; a unique name; its payer id (stored upper case) and
    the other ids its remittances carry (``remit_ids``, upper case, each once) none another
    payer holds as either."""
    if record is not None and record.is_pseudo:
        raise Refused(f"{record.name} is built in and cannot be changed", field="payer_id")
    values["payer_code"] = values["payer_code"].upper()
    _unique(Payer, "name", values["name"], record, "name", "payer")
    ids = [i for i in dict.fromkeys(values.get("remit_ids", "").upper().replace(",", " ").split())
           if i != values["payer_code"]]
    mine = [values["payer_code"], *ids]
    for other in Payer.select().where(Payer.id != (record.id if record else 0)).order_by(Payer.id):
        theirs = {other.payer_code.upper(), *payer_remit_ids(other.remit_ids)}
        held = next((i for i in mine if i in theirs), None)
        if held is not None:
            raise Refused(f"payer id {held} is taken by payer {other.id} ({other.name})",
                          field="payer_code" if held == values["payer_code"] else "remit_ids")
    values["remit_ids"] = ",".join(ids)
    return values


def payer_remit_ids(text: str) -> list[str]:
    """The ids of a payer's ``remit_ids`` column ("" is none)."""
    return [i for i in text.split(",") if i]


PAYER = records.RecordKind(Payer, "payer", "supervisor", PayerInput, _check_payer, work="changing payers")
#: Workflows (supervisor): add an insurance payer; change the fields given of one.
add_payer, edit_payer = PAYER.add, PAYER.edit


# --- providers --------------------------------------------------------------------------------
class ProviderInput(Schema):
    """A provider's fields; an organization's name is its ``last_name``."""

    name = Text(max_length=60, load_default="", metadata={"help": "as shown (default: first and last name)"})
    kind = fields.String(load_default="clinical", validate=_one_of(PROVIDER_KINDS))
    entity = fields.String(load_default="person", validate=_one_of(ENTITIES))
    last_name = Text(required=True, min_length=1, max_length=60)
    first_name = Text(max_length=35, load_default="")
    npi = Coded(check_npi, load_default="")
    taxonomy = Coded(check_taxonomy, load_default="")
    tax_id = Coded(check_tax_id, load_default="")
    address = Text(max_length=55, load_default="")
    city = Text(max_length=30, load_default="")
    state = Coded(check_state, load_default="")
    zip = Coded(check_zip, load_default="")


def _check_provider(values: dict, record: Provider | None) -> dict:
    """A provider's rules: a person has a first name; an NPI unless administrative, and never
    another provider's; a unique name (default "First Last", an organization's own)."""
    if values["entity"] == "person" and not values["first_name"]:
        raise Refused("a person needs a first name (or set entity to organization)", field="first_name")
    if values["kind"] != "administrative" and not values["npi"]:
        raise Refused(f"a {values['kind']} provider needs an NPI (it goes on claims)", field="npi")
    if values["npi"]:
        _unique(Provider, "npi", values["npi"], record, "NPI", "provider")
    if not values["name"]:
        values["name"] = (values["last_name"] if values["entity"] == "organization"
                          else f"{values['first_name']} {values['last_name']}")
    _unique(Provider, "name", values["name"], record, "name", "provider")
    return values


PROVIDER = records.RecordKind(Provider, "provider", "supervisor", ProviderInput, _check_provider,
                              work="changing providers")
#: Workflows (supervisor): add a provider (rendering, referring or administrative); change one.
add_provider, edit_provider = PROVIDER.add, PROVIDER.edit


# --- service codes ----------------------------------------------------------------------------
class CodeInput(Schema):
    """A service code's fields: the kind is read from the code's shape unless given (an office
    fee code must say kind office)."""

    code = Text(required=True, min_length=1, max_length=12)
    kind = fields.String(load_default=None, allow_none=True, validate=_one_of(CODE_KINDS))
    description = Text(max_length=80, load_default="")
    default_fee = Money(load_default=Cents(0))


def _check_code(values: dict, record: ServiceCode | None) -> dict:
    """A service code's rules: CPT or HCPCS by its shape (an office code by its kind), unique."""
    try:
        values["code"], values["kind"] = check_service_code(values["code"], values["kind"])
    except ValueError as exc:
        raise Refused(str(exc), field="code") from None
    _unique(ServiceCode, "code", values["code"], record, "code", "service code")
    return values


def shown_code(c: ServiceCode) -> dict:
    """A service code as plain data (its fee as money)."""
    return {**CODE.show_fields(c), "default_fee": Cents(c.default_fee)}


CODE = records.RecordKind(ServiceCode, "service code", "supervisor", CodeInput, _check_code, shown_code,
                          work="adding service codes")
#: Workflow (supervisor): add a service code with its default fee.
add_code = CODE.add
