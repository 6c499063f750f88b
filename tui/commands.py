"""The command palette (Ctrl+P): every workflow and every action the plugins offer.

Entries are built from the plugin host on each search, so a clinic's own action,
payment method or fee policy gets a searchable entry without any TUI change.
"""

from __future__ import annotations

import re
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from claimdesk.core.plugins.host import get_host

#: Other words clerks search the workflow screens by (the titles are searched as well).
SCREEN_WORDS = {
    "Credit entry": "payment post pay receive money apply unapplied",
    "Payer checks": "returned check bounced nsf voucher find",
    "Batch posting": "lockbox lines csv paste type deposit spread check",
    "Post ERA (835 remittance)": "era 835 remittance remit electronic auto posting eob payer payment x12 edi file import",
    "ERA exceptions": "era 835 remittance exceptions unposted unmatched resolve",
    "Patient ledger": "account history balance unapplied credits",
    "Credit balances and refunds": "refund overpaid overpayment credit balance unapplied undistributed give back "
                                   "money owed recoup",
    "Payment plans": "plan instalment installment monthly weekly missed payment arrangement",
    "Outstanding Zero Splits": "zero fee mark paid secondary",
    "Claim batches": "send claims submit",
    "Aging": "accounts receivable ar buckets recalc",
    "Statements": "bill patient dunning regenerate view statement run",
    "Admin inbox": "messages questions answer",
    "Audit log": "history who did",
    "Daysheet and provider activity": "day sheet close payroll",
    "Patient registration": "register new patient add edit find demographics coverage insurance policy member",
    "Charge entry": "new encounter visit charges superbill cpt hcpcs diagnosis icd modifiers claim",
    "Clinic setup": "reference data payer provider npi taxonomy service code fee schedule",
    "Import 837 claim file": "837p edi x12 claims ehr practice system import file",
}


def search_words(title: str, extra: str = "") -> str:
    """What an entry is found by: its title with the punctuation as spaces and the joined
    forms ("Write-Off" is found by "write off" and "writeoff"), and ``extra`` words."""
    plain = re.sub(r"[-_:,./()'’]+", " ", title).lower()
    joined = " ".join(re.sub(r"[-_]", "", w) for w in title.lower().split() if "-" in w or "_" in w)
    return " ".join(p for p in (plain, joined, extra.lower()) if p)


def palette_entries(app) -> list[tuple[str, str, object]]:
    """(title, help, callback) for every workflow screen and every plugin contribution."""
    host = get_host()
    entries: list[tuple[str, str, object]] = [
        ("Home", "Work queues and menus", app.go_home),
        ("Patient registration", "Find, register or change a patient; their coverage", app.open_registration),
        ("Charge entry", "A new encounter: lines, diagnoses picked and pointed, who is billed",
         app.open_charge_entry),
        ("Clinic setup", "The clinic's payers, providers and service codes", app.open_clinic_setup),
        ("Clinic setup: add a payer", "A new insurance payer (Clinic setup, Payers tab, n)",
         partial(app.open_clinic_setup, "payers", True)),
        ("Clinic setup: add a provider", "A new rendering or referring provider (Clinic setup, Providers tab, n)",
         partial(app.open_clinic_setup, "providers", True)),
        ("Clinic setup: add a service code", "A new CPT/HCPCS or office fee code (Clinic setup, Service codes tab, n)",
         partial(app.open_clinic_setup, "codes", True)),
        ("Advanced Actions", "Open an encounter and pick what describes the situation", app.open_advanced),
        ("Credit entry", "Draw money from a voucher onto a patient account", app.open_credit),
        ("Payer checks", "Vouchers with undistributed money; return a check", app.open_checks),
        ("Post ERA (835 remittance)", "Payers' 835 remittance files: preview, then post as vouchers and EOBs",
         app.open_era_import),
        ("ERA exceptions", "Remittance claims not posted, with their reasons: resolve with a note",
         app.open_era_exceptions),
        ("Batch posting", "Type, paste or load lockbox lines: one payer check over many patients",
         app.open_batch_posting),
        ("Patient ledger", "Charges, splits, credits, adjustments and balances", app.open_ledger),
        ("Credit balances and refunds", "Every account holding money, with its age; refund it",
         app.open_credit_balances),
        ("Payment plans", "Patients paying a balance in instalments: due now, missed; make a plan",
         app.open_payment_plans),
        ("Daysheet and provider activity", "Today's entries and the payroll view", app.open_daysheet),
        ("Outstanding Zero Splits", "Zero-fee charges waiting for the primary to be marked paid",
         app.open_zero_splits),
        ("Claim batches", "Claims queued for the next batch; build it", app.open_claim_batches),
        ("Aging", "Open balances by age, by payer or patient; recalculate", app.open_aging),
        ("Statements", "Statement run, or one patient's statement now", app.open_statements),
        ("Admin inbox", "Questions sent to the administrator", app.open_inbox),
        ("Audit log", "Who did what, when, with which inputs", app.open_audit),
        ("Plugins", "Loaded and failed plugins, with errors", app.open_plugins),
    ]
    if app.claim_import_available():
        entries.append(("Import 837 claim file", "The clinic's 837P claim files: preview, then import",
                        app.open_claim_import))
    for action in host.actions():
        entries.append((f"Action: {action.title}", action.when,
                        partial(app.open_advanced, None, action.key)))
    entries.append(("Apply unapplied money", "Patient ledger, Credits tab: Enter on a credit holding money",
                     app.open_ledger))
    for method in host.payment_methods():
        entries.append((f"Credit entry: {method.label}", f"Credit entry with payment method {method.key}",
                        partial(app.open_credit, method.key)))
    for policy in host.fee_policies():
        entries.append((f"Return a check: {policy.label} fee", "Payer checks, then Return check",
                        app.open_checks))
    return entries


class WorkflowCommands(Provider):
    """Searchable entries for every screen and every plugin-provided workflow."""

    async def discover(self) -> Hits:
        for title, help_text, callback in palette_entries(self.app):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        host = get_host()
        words = {f"Action: {a.title}": " ".join(a.keywords) for a in host.actions()}
        for title, help_text, callback in palette_entries(self.app):
            score = matcher.match(title)
            if score <= 0:  # found by its other words, ranked below the titles that match
                extra = SCREEN_WORDS.get(title, "") or words.get(title, "")
                score = matcher.match(search_words(title, extra)) * 0.8
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
