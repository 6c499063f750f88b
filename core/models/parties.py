"""Who is involved: users, patients, payers, coverages, providers, service codes."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField

ROLES = ("clerk", "supervisor", "admin")
PAYER_KINDS = ("medicare", "medicaid", "commercial", "workers_comp", "patient", "inactive")
#: The two pseudo payers every database has.
PATIENT_PAYER = "Patient"
INACTIVE_PAYER = "Inactive Payer"


class User(BaseModel):
    """A person using claimdesk, matched by OS user name; role gates workflows."""

    username = peewee.CharField(unique=True)
    full_name = peewee.CharField(default="")
    role = peewee.CharField(default="clerk")
    active = peewee.BooleanField(default=True)


class Payer(BaseModel):
    """Who pays: an insurer, a workers' comp carrier, or a pseudo payer."""

    name = peewee.CharField(unique=True)
    kind = peewee.CharField(default="commercial")
    payer_code = peewee.CharField(default="")
    address = peewee.CharField(default="")
    phone = peewee.CharField(default="")

    @property
    def is_pseudo(self) -> bool:
        return self.kind in ("patient", "inactive")

    @property
    def is_insurance(self) -> bool:
        return self.kind not in ("patient", "inactive")


class Patient(BaseModel):
    """A patient account; what the patient owes is derived from the ledger."""

    account_no = peewee.CharField(unique=True)
    last_name = peewee.CharField(index=True)
    first_name = peewee.CharField()
    dob = peewee.DateField(null=True)
    address = peewee.CharField(default="")
    city = peewee.CharField(default="")
    state = peewee.CharField(default="")
    zip = peewee.CharField(default="")
    phone = peewee.CharField(default="")
    bad_debt = peewee.BooleanField(default=False)
    unpaid_statements = peewee.IntegerField(default=0)

    @property
    def name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class Coverage(BaseModel):
    """A patient's policy with a payer."""

    patient = peewee.ForeignKeyField(Patient, backref="coverages", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    member_id = peewee.CharField(default="")
    group_no = peewee.CharField(default="")
    subscriber = peewee.CharField(default="")
    relationship = peewee.CharField(default="self")
    effective_from = peewee.DateField(null=True)
    effective_to = peewee.DateField(null=True)
    active = peewee.BooleanField(default=True)


class Provider(BaseModel):
    """A rendering provider, or an administrative one (e.g. "Office")."""

    name = peewee.CharField(unique=True)
    npi = peewee.CharField(default="")
    kind = peewee.CharField(default="clinical")  # clinical | administrative


class ServiceCode(BaseModel):
    """A CPT/HCPCS code or an office fee code, with its default fee."""

    code = peewee.CharField(unique=True)
    description = peewee.CharField(default="")
    kind = peewee.CharField(default="cpt")  # cpt | hcpcs | office
    default_fee = CentsField(default=0)
