"""Claims: encounters, their payer list, charges, responsibility splits, EOBs, batches."""

from __future__ import annotations

import peewee

from claimdesk.core.models.base import BaseModel, CentsField
from claimdesk.core.models.parties import Coverage, Patient, Payer, Provider, ServiceCode
from claimdesk.core.models.work import WorkQueue

CLAIM_TYPES = ("medical", "workers_comp")
#: Responsibility ranks in the order balances move through them.
RANKS = ("primary", "secondary", "tertiary", "patient")
INSURANCE_RANKS = RANKS[:3]


class Encounter(BaseModel):
    """A claim: one visit of a patient to a provider, with charges.

    ``provider`` is the rendering provider (who saw the patient). What a professional claim
    carries besides (schema v7): the place of service, up to 12 ICD-10-CM ``diagnoses`` in
    order (stored without dots, comma separated: ``"E119,I10"``), the referring provider,
    the clinic's ``claim_no`` (the patient control number sent as CLM01, unique; payers
    echo it on remittances) and the claim ``frequency`` (1 original, 7 replacement, 8 void).
    """

    patient = peewee.ForeignKeyField(Patient, backref="encounters", index=True)
    provider = peewee.ForeignKeyField(Provider)
    dos = peewee.DateField(index=True)
    claim_type = peewee.CharField(default="medical")
    billable = peewee.BooleanField(default=True)
    status = peewee.CharField(default="active")  # active | removed
    queue = peewee.ForeignKeyField(WorkQueue, null=True, index=False)  # (led by the queue-order index)
    tags = peewee.CharField(default="")  # comma separated, e.g. "Non-Billable"
    replaces = peewee.ForeignKeyField("self", null=True, backref="replaced_by")
    created_at = peewee.DateTimeField()
    place_of_service = peewee.CharField(default="11")  # schema v7 (from here down)
    diagnoses = peewee.CharField(default="")
    referring_provider = peewee.ForeignKeyField(Provider, null=True, backref="+")
    claim_no = peewee.CharField(null=True, unique=True)  # None only until claim_numbers gives one
    frequency = peewee.CharField(default="1")

    class Meta:
        # a work queue in queue order (date of service, id): counts, pages by key
        indexes = ((("queue", "status", "dos", "id"), False),)

    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    def diagnosis_list(self) -> list[str]:
        """The diagnoses in order, as stored (``["E119", "I10"]``)."""
        return [d for d in self.diagnoses.split(",") if d]


class EncounterPayer(BaseModel):
    """One slot of an encounter's ordered payer list (primary/secondary/tertiary).

    ``placeholder`` marks the pseudo payer "Patient" put in by an advanced action
    (self-pay); ``replaced_payer`` remembers the payer it displaced.
    """

    encounter = peewee.ForeignKeyField(Encounter, backref="payers", index=False)  # (led by the unique index)
    rank = peewee.CharField()
    payer = peewee.ForeignKeyField(Payer)
    coverage = peewee.ForeignKeyField(Coverage, null=True)
    placeholder = peewee.BooleanField(default=False)
    replaced_payer = peewee.ForeignKeyField(Payer, null=True)

    class Meta:
        indexes = ((("encounter", "rank"), True),)


class Charge(BaseModel):
    """A line of an encounter: service code, units, fee, provider, date.

    For the claim line (schema v7): up to 4 ``modifiers`` and up to 4 ``diagnosis_pointers``
    (positions in the encounter's diagnoses), comma separated (``"25,59"``, ``"1,2"``), and
    the line's ``control_no`` (REF*6R, unique within the encounter; payers echo it). A charge
    ``status`` is "void" once a supervisor voided it (its charge entry reversed, never edited).
    """

    encounter = peewee.ForeignKeyField(Encounter, backref="charges", index=False)  # (both lead an index below)
    patient = peewee.ForeignKeyField(Patient, index=False)
    line_no = peewee.IntegerField(default=1)
    service_code = peewee.ForeignKeyField(ServiceCode)
    units = peewee.IntegerField(default=1)
    fee = CentsField()
    provider = peewee.ForeignKeyField(Provider)
    dos = peewee.DateField()
    kind = peewee.CharField(default="service")  # service | returned_check_fee
    primary_marked_paid = peewee.BooleanField(default=False)
    modifiers = peewee.CharField(default="")  # schema v7 (from here down)
    diagnosis_pointers = peewee.CharField(default="")
    control_no = peewee.CharField(null=True)  # None only until post_charges gives one
    status = peewee.CharField(default="active")  # active | void

    class Meta:
        # a patient's charges oldest first: auto-apply walks it and stops where the money ends;
        # a line's control number is unique within its encounter
        indexes = ((("patient", "dos", "id"), False), (("encounter", "control_no"), True))


class ChargeSplit(BaseModel):
    """The part of a charge owed by one payer at one rank.

    ``balance`` is a cache of the ledger's AR postings for this split; the ledger
    keeps it and ``claimdesk verify`` recomputes it.
    """

    charge = peewee.ForeignKeyField(Charge, backref="splits", index=False)  # (led by the unique index)
    rank = peewee.CharField()
    payer = peewee.ForeignKeyField(Payer, index=True)
    patient = peewee.ForeignKeyField(Patient, index=True)
    balance = CentsField(default=0)
    denied = peewee.BooleanField(default=False)
    denial_code = peewee.CharField(default="")

    class Meta:
        indexes = ((("charge", "rank", "payer"), True),)


# Open splits only (a small part of all splits): aging, statements and auto-apply read
# them without touching the paid ones; the columns cover the aging snapshot's needs.
ChargeSplit.add_index(ChargeSplit.index(ChargeSplit.charge, ChargeSplit.patient, ChargeSplit.payer,
                                        ChargeSplit.balance, name="charge_split_open",
                                        where=(ChargeSplit.balance > 0)))

# Zero-fee charges only (the Outstanding Zero Splits list reads them oldest first, a page at a
# time); a query must say ``fee = 0`` literally (core.services.zero_splits) for it to be used.
Charge.add_index(Charge.index(Charge.dos, Charge.id, name="charge_zero_fee", where=(Charge.fee == 0)))


class Eob(BaseModel):
    """A payer's explanation of benefits for an encounter."""

    encounter = peewee.ForeignKeyField(Encounter, backref="eobs", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    rank = peewee.CharField(default="primary")
    voucher = peewee.DeferredForeignKey("Voucher", null=True)
    received_on = peewee.DateField()
    dummy = peewee.BooleanField(default=False)
    moved_from = peewee.ForeignKeyField(Payer, null=True)
    claim_ref = peewee.CharField(default="")


class EobLine(BaseModel):
    """Per charge: allowed, paid, denial."""

    eob = peewee.ForeignKeyField(Eob, backref="lines", index=True)
    charge = peewee.ForeignKeyField(Charge, index=True)
    allowed = CentsField(default=0)
    paid = CentsField(default=0)
    denied = peewee.BooleanField(default=False)
    denial_code = peewee.CharField(default="")


class EobAdjustment(BaseModel):
    """An adjustment on an EOB line: group code (CO/PR/OA/PI) + CARC reason."""

    line = peewee.ForeignKeyField(EobLine, backref="adjustments", index=True)
    group_code = peewee.CharField()
    reason_code = peewee.CharField()
    amount = CentsField()


class ClaimBatch(BaseModel):
    """One run of claim submissions."""

    created_at = peewee.DateTimeField()
    created_by = peewee.CharField()
    export_path = peewee.CharField(default="")


class Claim(BaseModel):
    """An encounter billed (or queued to be billed) to one payer at one rank; ``resend`` when
    it goes again (``claims requeue``), ``voids`` when it asks the payer to void the claim it
    adjudicated (``claims void``: an 837P of frequency 8)."""

    encounter = peewee.ForeignKeyField(Encounter, backref="claims", index=True)
    payer = peewee.ForeignKeyField(Payer, index=True)
    rank = peewee.CharField()
    status = peewee.CharField(default="queued", index=True)  # queued | sent | void
    queued_at = peewee.DateTimeField()
    batch = peewee.ForeignKeyField(ClaimBatch, null=True, backref="claims")
    sent_at = peewee.DateTimeField(null=True)
    resend = peewee.BooleanField(default=False)
    voids = peewee.BooleanField(default=False, constraints=[peewee.SQL("DEFAULT FALSE")])  # schema v10: asks the payer to void its claim (frequency 8)
