"""The longest value X12 (005010) allows in each element the readers keep, and the characters
none of them may hold.

A file that breaks one is refused where its part of the file is read, naming the element,
the segment and the line, as any other element that breaks a rule: an 837P claim (or the
claims under a subscriber or patient level) is refused and the others import; an 835
payment is refused; an envelope segment refuses the file. Nothing longer than the standard
allows reaches the database, which on PostgreSQL would refuse it with an error of its own
(``value too long``) instead of saying which element of which segment is at fault.

Such a value must not hold a control character (X12's character sets have none but the
delimiters, which never stand inside a value) or a bidirectional control, which would change
how a name shows on a screen or a statement: the rule a clerk's typed text passes
(:func:`claimdesk.core.validation.text_problem`).

Only maximum lengths are checked (a value shorter than the standard's minimum is left to
the rules that read it), and only of the elements in :data:`MAX_LENGTHS`: codes checked against
a list, and a composite's components (procedure codes, modifiers, diagnoses, places of service),
are read by rules of their own.
"""

from __future__ import annotations

from typing import Iterable

from claimdesk.core.validation import text_problem
from claimdesk.core.x12.segment import Segment

#: Segment tag -> ((element, the most characters it may hold), ...): the free-text and identifier
#: (AN) elements the readers keep, and the adjustment reason codes the ledger keeps, from the
#: X12 005010 data element dictionary as the 837P (005010X222A1) and 835 (005010X221A1) use
#: them. Codes the readers check against their lists (states, qualifiers, statuses) are not here.
MAX_LENGTHS: dict[str, tuple[tuple[int, int], ...]] = {
    # envelope
    "GS": ((2, 15), (3, 15), (6, 9), (8, 12)),
    "ST": ((2, 9), (3, 35)),
    "SE": ((2, 9),),
    "GE": ((2, 9),),
    # parties: names, identifiers, addresses, contacts
    "NM1": ((3, 60), (4, 35), (5, 25), (9, 80), (12, 60)),
    "N1": ((2, 60), (4, 80)),
    "N3": ((1, 55), (2, 55)),
    "N4": ((1, 30), (3, 15)),
    "REF": ((2, 50), (3, 80)),
    "PER": ((2, 60), (4, 256), (6, 256), (8, 256)),
    "PRV": ((3, 50),),
    "DMG": ((2, 35),),
    "DTP": ((3, 35),),
    # 837P
    "SBR": ((3, 50), (4, 60)),
    "CLM": ((1, 38),),
    "SVD": ((1, 80),),
    "CAS": ((2, 5), (5, 5), (8, 5), (11, 5), (14, 5), (17, 5)),
    # 835
    "TRN": ((2, 50), (4, 50)),
    "CLP": ((1, 38), (7, 50)),
    "SVC": ((4, 48),),
    "LQ": ((2, 30),),
    "MOA": ((3, 50), (4, 50), (5, 50), (6, 50), (7, 50)),
    "MIA": ((5, 50), (20, 50), (21, 50), (22, 50), (23, 50)),
    "PLB": ((1, 50),),
}


def check(segments: Iterable[Segment]) -> None:
    """Refuse the first element of ``segments`` longer than X12 allows, or holding a character no
    value may hold (see the module): :class:`~claimdesk.core.x12.errors.X12Error` naming the
    element and what is wrong with it."""
    limits = MAX_LENGTHS
    for segment in segments:
        rule = limits.get(segment.tag)
        if rule is None:
            continue
        elements = segment.elements
        for index, most in rule:
            if index < len(elements):
                value = elements[index]
                if len(value) > most:
                    raise segment.error(f"is {len(value)} characters long; X12 allows at most {most}", index)
                problem = text_problem(value)
                if problem:
                    raise segment.error(problem, index)
