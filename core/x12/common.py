"""What the 837P and 835 readers share: the N3/N4 address record and how it is read, and
the pause of Python's cycle collector while a big file's records are built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from claimdesk.core.x12.loops import find
from claimdesk.core.x12.segment import Segment


@dataclass(frozen=True, slots=True)
class Address:
    """N3 (one or two street lines) and N4 (city, state, ZIP as written)."""

    line1: str
    line2: str
    city: str
    state: str
    zip: str


def read_address(loop: list[Segment]) -> Address | None:
    """N3 and N4 of ``loop`` (None when it has neither)."""
    n3, n4 = find(loop, "N3"), find(loop, "N4")
    if n3 is None and n4 is None:
        return None
    line1, line2 = (n3.get(1), n3.get(2)) if n3 is not None else ("", "")
    city, state, zip_code = (n4.get(1), n4.get(2), n4.get(3)) if n4 is not None else ("", "", "")
    return Address(line1, line2, city, state, zip_code)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a file of 10,000 claims makes over a million small
    objects that live until the parse ends, and every full collection on the way walks them
    all (about half the time). The records themselves hold no cycles, so nothing is lost;
    collection resumes as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
