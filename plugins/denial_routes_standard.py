"""The standard denial routes: which work queue a denied claim goes to, by its adjustment codes.

What can be fixed and resubmitted (missing information, authorization, eligibility, another
payer first) goes to Review; a work-related injury to Workers' comp; the rest (timely filing,
medical necessity, anything without a route) to Denied, to appeal, bill or write off.
A clinic changes these in its own plugin or in the config file (``[[era.routes]]``).
"""

from __future__ import annotations

from claimdesk.api import DenialRoute, hookimpl

CLAIMDESK_API = "1.2"

ROUTES = (
    ("CO-16", "review", "Missing information or billing error: correct and resubmit"),
    ("15", "review", "Authorization number missing or invalid"),
    ("CO-197", "review", "No authorization on file: get one or appeal"),
    ("CO-198", "review", "Authorization exceeded"),
    ("22", "review", "Another payer may be primary: check coordination of benefits"),
    ("26", "review", "Service before coverage began: check eligibility"),
    ("27", "review", "Service after coverage ended: check eligibility"),
    ("200", "review", "Lapse in coverage: check eligibility"),
    ("31", "review", "Patient not found as insured: check the member id"),
    ("140", "review", "Member id and name do not match: check registration"),
    ("CO-109", "review", "Not this payer's claim: find the right payer"),
    ("19", "workers_comp", "Work-related injury: bill the workers' comp carrier"),
    ("CO-29", "denied", "Timely filing limit expired"),
    ("CO-50", "denied", "Not medically necessary: appeal or write off"),
)


@hookimpl
def claimdesk_denial_routes():
    """The standard routes from denial codes to work queues."""
    return [DenialRoute(code=code, queue=queue, label=label) for code, queue, label in ROUTES]
