"""claimdesk's own X12 reader and writer (5010: 837P, 835), small and strict.

- :func:`read_interchange` reads a file: delimiters from ISA, envelope checked,
  segments with their place; values through :class:`Segment` accessors.
- :func:`hierarchy`, :func:`split_loops`, :func:`find` walk loops inside a transaction set.
- :class:`InterchangeWriter` writes one, with counts computed.

See docs/x12.md for what is accepted and refused.
"""

from claimdesk.core.x12.delimiters import Delimiters
from claimdesk.core.x12.envelope import FunctionalGroup, Interchange, TransactionSet
from claimdesk.core.x12.errors import NotX12Error, X12Error, X12Warning
from claimdesk.core.x12.loops import BILLING_PROVIDER, PATIENT, SUBSCRIBER, HLNode, find, find_all, hierarchy, split_loops
from claimdesk.core.x12.reader import read_interchange, read_interchanges
from claimdesk.core.x12.segment import Segment, element_name
from claimdesk.core.x12.values import format_amount, format_date, parse_amount, parse_date, parse_integer, parse_period
from claimdesk.core.x12.writer import InterchangeWriter, SegmentFormatter, X12WriteError

__all__ = [
    "BILLING_PROVIDER", "PATIENT", "SUBSCRIBER", "Delimiters", "FunctionalGroup", "HLNode", "Interchange",
    "InterchangeWriter", "NotX12Error", "Segment", "SegmentFormatter", "TransactionSet", "X12Error",
    "X12Warning", "X12WriteError", "element_name", "find", "find_all", "format_amount", "format_date",
    "hierarchy", "parse_amount", "parse_date", "parse_integer", "parse_period", "read_interchange", "read_interchanges",
    "split_loops",
]
