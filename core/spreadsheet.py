"""Report cells a clinic opens in a spreadsheet.

A name comes from a clerk or from an imported file; one that starts like a formula
(``=HYPERLINK("http://...","Refund")``, ``+1+1``, ``@SUM(...)``) would be run by the spreadsheet
that opens a report's CSV. Every CSV report writes its text cells through :func:`text_cell`.
"""

from __future__ import annotations

#: What makes a spreadsheet read a cell as a formula (or, tab and carriage return, move it).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def text_cell(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows and never runs: a leading ``'`` before a
    formula's first character (what spreadsheets themselves do to mean "text")."""
    return "'" + text if text.startswith(_FORMULA_START) else text
