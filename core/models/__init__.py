"""All peewee models, importable from one place; ``ALL_MODELS`` in creation order."""

from claimdesk.core.models.audit import AgingRow, AuditEvent, SchemaVersion
from claimdesk.core.models.base import BaseModel, CentsField, JSONField
from claimdesk.core.models.claims import (
    CLAIM_TYPES,
    INSURANCE_RANKS,
    RANKS,
    Charge,
    ChargeSplit,
    Claim,
    ClaimBatch,
    Encounter,
    EncounterPayer,
    Eob,
    EobAdjustment,
    EobLine,
)
from claimdesk.core.models.ledger import JournalEntry, Posting
from claimdesk.core.models.messages import AdminMessage
from claimdesk.core.models.parties import (
    INACTIVE_PAYER,
    PATIENT_PAYER,
    PAYER_KINDS,
    PSEUDO_KINDS,
    PROVIDER_KINDS,
    ROLES,
    Coverage,
    Patient,
    Payer,
    Provider,
    ServiceCode,
    User,
)
from claimdesk.core.models.payments import Adjustment, Credit, CreditSplit, Voucher
from claimdesk.core.models.statements import Statement, StatementLine
from claimdesk.core.models.work import Daysheet, WorkQueue

ALL_MODELS = [
    SchemaVersion,
    User,
    Payer,
    Patient,
    Coverage,
    Provider,
    ServiceCode,
    WorkQueue,
    Daysheet,
    Encounter,
    EncounterPayer,
    Charge,
    ChargeSplit,
    ClaimBatch,
    Claim,
    Voucher,
    Eob,
    EobLine,
    EobAdjustment,
    Credit,
    CreditSplit,
    Adjustment,
    JournalEntry,
    Posting,
    AdminMessage,
    Statement,
    StatementLine,
    AuditEvent,
    AgingRow,
]
