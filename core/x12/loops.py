"""Walking the loops inside a transaction set: the HL hierarchy of an 837 and plain
"loop starts at this tag" cutting (claims at CLM, lines at LX, 835 claims at CLP...).

Typical 837 walk::

    for node in transaction.hierarchy():
        if node.level in (SUBSCRIBER, PATIENT):
            head, claims, _ = split_loops(node.segments, "CLM")
            for claim in claims:
                clm_head, lines, _ = split_loops(claim, "LX")
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

from claimdesk.core.x12.segment import Segment, element_property

#: HL03 hierarchical level codes of the 837.
BILLING_PROVIDER = "20"
SUBSCRIBER = "22"
PATIENT = "23"


@dataclass(eq=False)
class HLNode:
    """One HL segment and the segments of its level (the HL up to the next HL or the end),
    linked to its parent and children."""

    segment: Segment
    segments: list[Segment]
    parent: HLNode | None = None
    children: list[HLNode] = field(default_factory=list)

    id = element_property("segment", 1, "HL01.")
    parent_id = element_property("segment", 2, 'HL02 ("" for a top level).')
    level = element_property("segment", 3, "HL03: ``20`` billing provider, ``22`` subscriber, ``23`` patient.")

    @property
    def has_children(self) -> bool:
        """HL04 is ``1``."""
        return self.segment.get(4) == "1"

    def ancestor(self, level: str) -> HLNode | None:
        """The nearest node above this one at ``level`` (e.g. a patient's subscriber)."""
        node = self.parent
        while node is not None and node.level != level:
            node = node.parent
        return node

    def descendants(self) -> Iterator[HLNode]:
        """Every node below this one, depth first in file order."""
        for child in self.children:
            yield child
            yield from child.descendants()

    def __repr__(self) -> str:
        return f"HLNode(id={self.id!r}, parent={self.parent_id!r}, level={self.level!r}, line={self.segment.line})"


def hierarchy(segments: list[Segment]) -> list[HLNode]:
    """The HL nodes of a transaction set's ``segments`` in file order, parents linked.

    Refuses an HL without HL01 or HL03, an id used twice and a parent (HL02) that no
    earlier HL has. Segments before the first HL are not part of any node.
    """
    starts = [i for i, segment in enumerate(segments) if segment.tag == "HL"]
    nodes: list[HLNode] = []
    by_id: dict[str, HLNode] = {}
    for start, end in zip(starts, [*starts[1:], len(segments)]):
        hl = segments[start]
        node = HLNode(hl, segments[start:end])
        node_id = hl.required(1)
        hl.required(3)
        if node_id in by_id:
            raise hl.error(f"{node_id!r} is already the id of the HL at line {by_id[node_id].segment.line}", 1)
        parent_id = hl.get(2)
        if parent_id:
            parent = by_id.get(parent_id)
            if parent is None:
                raise hl.error(f"{parent_id!r} names no earlier HL", 2)
            node.parent = parent
            parent.children.append(node)
        by_id[node_id] = node
        nodes.append(node)
    return nodes


def split_loops(
    segments: list[Segment], start: str | Collection[str], end: Collection[str] = ()
) -> tuple[list[Segment], list[list[Segment]], list[Segment]]:
    """Cut ``segments`` into ``(head, loops, tail)``: ``head`` is what comes before the
    first ``start`` segment, each loop begins at a ``start`` segment and runs to the next
    one, and ``tail`` begins at the first ``end`` segment (if any) and runs to the end.

    ``split_loops(claim, "LX")`` gives a claim's header and its service lines;
    ``split_loops(body_835, "LX", end={"PLB"})`` gives the 835 header, its LX groups and
    the PLB segments.
    """
    starts = {start} if isinstance(start, str) else set(start)
    stop = set(end)
    head: list[Segment] = []
    loops: list[list[Segment]] = []
    current = head
    for segment in segments:
        tag = segment.tag
        if tag in stop:  # (head and the loops hold every segment before this one)
            return head, loops, segments[len(head) + sum(map(len, loops)):]
        if tag in starts:
            current = [segment]
            loops.append(current)
        else:
            current.append(segment)
    return head, loops, []


def find(segments: Iterable[Segment], tag: str, qualifier: str | None = None) -> Segment | None:
    """The first segment with ``tag`` (and element 1 = ``qualifier`` when given), or None:
    ``find(node.segments, "NM1", "85")`` is the billing provider's name."""
    for segment in segments:
        if segment.tag == tag and (qualifier is None or segment.get(1) == qualifier):
            return segment
    return None


def find_all(segments: Iterable[Segment], tag: str, qualifier: str | None = None) -> list[Segment]:
    """Every segment with ``tag`` (and element 1 = ``qualifier`` when given)."""
    return [s for s in segments if s.tag == tag and (qualifier is None or s.get(1) == qualifier)]
