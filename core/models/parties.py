"""Who is involved: users, patients, payers, coverages, providers, service codes."""

from __future__ import annotations

import peewee

from claimdesk.core import db
from claimdesk.core.models.base import BaseModel, CentsField

ROLES = ("clerk", "supervisor", "admin")
#: medigap: a Medicare supplement (it pays after Medicare only).
PAYER_KINDS = ("medicare", "medicaid", "commercial", "medigap", "workers_comp", "patient", "inactive")
#: The pseudo payers' kinds: the patient's own share and a payer no longer billed.
PSEUDO_KINDS = ("patient", "inactive")
#: The two pseudo payers every database has.
PATIENT_PAYER = "Patient"
INACTIVE_PAYER = "Inactive Payer"


class User(BaseModel):
    """A person using claimdesk, matched by their login (OS user; on PostgreSQL their database
    role); role gates workflows. ``passphrase`` (schema v10) is the scrypt hash of what unlocks
    the app after it locked itself ("" until they set one with ``claimdesk users passwd``)."""

    username = peewee.CharField(unique=True)
    full_name = peewee.CharField(default="")
    role = peewee.CharField(default="clerk")
    active = peewee.BooleanField(default=True)
    passphrase = peewee.CharField(default="", constraints=[peewee.SQL("DEFAULT ''")])


class Payer(BaseModel):
    """Who pays: an insurer, a workers' comp carrier, or a pseudo payer."""

    name = peewee.CharField(unique=True)
    kind = peewee.CharField(default="commercial")
    payer_code = peewee.CharField(default="")  # the payer id claims and remittances carry
    #: the other ids its 835 remittances name it by (REF*2U, N1*PR04 or TRN03), comma separated (schema v16)
    remit_ids = peewee.CharField(default="", constraints=[peewee.SQL("DEFAULT ''")])
    address = peewee.CharField(default="")
    city = peewee.CharField(default="")  # schema v7
    state = peewee.CharField(default="")  # schema v7
    zip = peewee.CharField(default="")  # schema v7
    phone = peewee.CharField(default="")

    @property
    def is_pseudo(self) -> bool:
        return self.kind in PSEUDO_KINDS

    @property
    def is_insurance(self) -> bool:
        return self.insurance_kind(self.kind)

    @staticmethod
    def insurance_kind(kind: str) -> bool:
        """A payer of this kind is a real insurer (not the pseudo payers Patient and Inactive)."""
        return kind not in PSEUDO_KINDS

    @classmethod
    def insurers_by_name(cls) -> peewee.ModelSelect:
        """The real insurers (workers' comp carriers included), in alphabetical order of their
        names as every list of names is (:func:`claimdesk.core.db.name_order`)."""
        return cls.select().where(cls.kind.not_in(PSEUDO_KINDS)).order_by(*db.name_order(cls.name), cls.id)


class Patient(BaseModel):
    """A patient account; what the patient owes is derived from the ledger."""

    account_no = peewee.CharField(unique=True)
    last_name = peewee.CharField(index=True)
    first_name = peewee.CharField()
    dob = peewee.DateField(null=True)
    sex = peewee.CharField(default="U")  # M | F | U (schema v7)
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
    """A patient's policy with a payer.

    ``relationship`` is who the subscriber (the policy holder) is to the patient: self,
    spouse, child or other (X12 codes in :mod:`claimdesk.core.claim_rules`). When it is not
    self, the ``subscriber_*`` columns hold that person (schema v7); ``subscriber`` is the
    holder's name as shown (or a workers' comp employer). ``plan_type`` is the claim filing
    indicator (SBR09: MB, MC, CI, WC...).
    """

    patient = peewee.ForeignKeyField(Patient, backref="coverages", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    member_id = peewee.CharField(default="")
    group_no = peewee.CharField(default="")
    subscriber = peewee.CharField(default="")
    relationship = peewee.CharField(default="self")
    effective_from = peewee.DateField(null=True)
    effective_to = peewee.DateField(null=True)
    active = peewee.BooleanField(default=True)
    plan_type = peewee.CharField(default="")  # schema v7 (from here down)
    subscriber_last_name = peewee.CharField(default="")
    subscriber_first_name = peewee.CharField(default="")
    subscriber_dob = peewee.DateField(null=True)
    subscriber_sex = peewee.CharField(default="U")
    subscriber_address = peewee.CharField(default="")
    subscriber_city = peewee.CharField(default="")
    subscriber_state = peewee.CharField(default="")
    subscriber_zip = peewee.CharField(default="")


#: clinical: renders services; administrative: the office's own charges ("Office");
#: referring: an outside clinician who sends patients (named on claims, renders nothing here).
PROVIDER_KINDS = ("clinical", "administrative", "referring")


class Provider(BaseModel):
    """A rendering provider, a referring one, or an administrative one (e.g. "Office").

    ``entity`` is person or organization; an organization's name is in ``last_name``, as
    the claim's NM103 carries it (schema v7, with taxonomy, tax id and address).
    """

    name = peewee.CharField(unique=True)
    npi = peewee.CharField(default="")
    kind = peewee.CharField(default="clinical")  # see PROVIDER_KINDS
    entity = peewee.CharField(default="person")  # person | organization
    last_name = peewee.CharField(default="")
    first_name = peewee.CharField(default="")
    taxonomy = peewee.CharField(default="")
    tax_id = peewee.CharField(default="")
    address = peewee.CharField(default="")
    city = peewee.CharField(default="")
    state = peewee.CharField(default="")
    zip = peewee.CharField(default="")

    @classmethod
    def by_name(cls, *first) -> peewee.ModelSelect:
        """Every provider in alphabetical order of their names as every list of names is
        (:func:`claimdesk.core.db.name_order`), after the orderings ``first`` when given."""
        return cls.select().order_by(*first, *db.name_order(cls.name), cls.id)


class ServiceCode(BaseModel):
    """A CPT/HCPCS code (the procedure code a claim line carries) or an office fee code (never
    on a claim), with its default fee."""

    code = peewee.CharField(unique=True)
    description = peewee.CharField(default="")
    kind = peewee.CharField(default="cpt")  # cpt | hcpcs | office
    default_fee = CentsField(default=0)
