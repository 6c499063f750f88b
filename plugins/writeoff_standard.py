"""The standard write-off reasons: office patient write-offs and insurance write-offs by CARC.

Insurance reasons carry the claim adjustment group code and CARC (X12 835) so a
write-off posts with the code a payer would have used.
"""

from __future__ import annotations

from claimdesk.api import WriteoffReason, hookimpl

CLAIMDESK_API = "1.3"  # WriteoffReason.required_role

PATIENT = (
    ("COURTESY", "Professional courtesy"),
    ("HARDSHIP", "Financial hardship"),
    ("SMALL_BAL", "Small balance"),
    ("SERVICE", "Service recovery / complaint"),
    ("PROMPT", "Prompt-payment discount"),
    ("NEGOTIATED", "Negotiated balance"),
    ("BAD_DEBT", "Bad debt (uncollectible)"),
)
#: Reasons only a supervisor may write off under, whichever action offers them: bad debt (the
#: "bad debt" action needs a supervisor) and a negotiated balance booked as an office write-off
#: (the "negotiate the balance" action records the agreed balance itself).
SUPERVISOR = ("BAD_DEBT", "NEGOTIATED")

INSURANCE = (
    ("CO29", "Timely filing limit expired", "CO", "29"),
    ("CO50", "Not medically necessary", "CO", "50"),
    ("CO45", "Charge exceeds fee schedule", "CO", "45"),
    ("CO97", "Bundled / included in another service", "CO", "97"),
    ("CO16", "Missing information, not resubmitted", "CO", "16"),
    ("CO197", "No precertification / authorization", "CO", "197"),
    ("CO109", "Not covered by this payer", "CO", "109"),
    ("CO18", "Duplicate claim", "CO", "18"),
    ("OA23", "Impact of prior payer adjudication", "OA", "23"),
)


@hookimpl
def claimdesk_writeoff_reasons():
    """Office and insurance write-off reasons."""
    return ([WriteoffReason(code=c, label=lbl, kind="patient",
                            required_role="supervisor" if c in SUPERVISOR else "clerk") for c, lbl in PATIENT]
            + [WriteoffReason(code=c, label=lbl, kind="insurance", group_code=g, carc=r) for c, lbl, g, r in INSURANCE])
