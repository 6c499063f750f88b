"""What a denial's code says about who may be billed for it.

A payer's denial carries a claim adjustment group and reason (``CO-16``, ``PR-27``). The
group decides whose money it is: ``CO`` (contractual obligation) amounts are the clinic's
to write off or appeal and never the patient's to pay; ``PR`` (patient responsibility) are
the patient's; ``OA``/``PI`` and a bare reason (``22``) are for the clerk to judge.
"""

from __future__ import annotations

#: Denial group codes, as they head a denial code.
GROUPS = ("CO", "PR", "OA", "PI")


def group_of(denial_code: str) -> str:
    """The group of a denial code (``"CO"`` for ``CO-16`` or ``CO16``), or ``""`` when it has none."""
    code = (denial_code or "").strip().upper()
    return next((g for g in GROUPS if code.startswith(g)), "")


def is_contractual(denial_code: str) -> bool:
    """True for a CO-group denial: not the patient's to pay (billing the patient needs a
    supervisor's override with a reason)."""
    return group_of(denial_code) == "CO"
