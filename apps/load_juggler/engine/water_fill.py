"""`shared`: progressive filling, every running load of a tier raised by the same amount."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .alloc_item import EPS, Item

if TYPE_CHECKING:
    from .allocator import Allocator


def water_fill(allocator: Allocator, items: Sequence[Item]) -> None:
    """Raise all items by the same amount until each meets its max or a full row.

    Progressive filling driven by a heap of events (an item reaching its max, a row
    running out), so the cost is O(rows touched x log n) rather than small steps.
    The result is floored to 0.1 A; the caller then tops items up in order, so no
    rounding leftover is stranded.
    """
    rows = allocator.capacity.rows
    active = [
        item
        for item in items
        if not item.plug and not item.frozen and item.running and item.current_a < item.max_a - EPS
    ]
    if not active:
        return
    # Per row: remaining = base - slope * t, with t the common raise in amps.
    base: dict[int, float] = {}
    slope: dict[int, float] = {}
    limited_by: dict[int, list[int]] = {}
    limited_count: dict[int, int] = {}
    touched: list[list[tuple[int, float]]] = []
    limiting: list[set[int]] = []
    for n, item in enumerate(active):
        terms = item.touched_terms
        touched.append(terms)
        limit_rows = {index for index, _ in item.limit_terms}
        limiting.append(limit_rows)
        for index, coef in terms:
            if index not in base:
                base[index] = rows[index].remaining
                slope[index] = 0.0
            slope[index] += coef
        for index in limit_rows:
            limited_by.setdefault(index, []).append(n)
            limited_count[index] = limited_count.get(index, 0) + 1

    version: dict[int, int] = dict.fromkeys(base, 0)
    heap: list[tuple[float, int, int, int]] = []  # (t, kind 0=item 1=row, index, version)
    for n, item in enumerate(active):
        heap.append((item.max_a - item.current_a, 0, n, 0))
    for index in limited_by:
        if slope[index] > EPS:
            heap.append((max(0.0, base[index] / slope[index]), 1, index, 0))
    heapq.heapify(heap)

    raise_a = [0.0] * len(active)
    frozen = [False] * len(active)
    saturated: set[int] = set()

    def freeze(n: int, t: float) -> None:
        frozen[n] = True
        raise_a[n] = t
        for index, coef in touched[n]:
            base[index] -= coef * t
            slope[index] -= coef
            if index in limiting[n]:
                limited_count[index] -= 1
            version[index] += 1
            if index not in saturated and limited_count.get(index, 0) > 0 and slope[index] > EPS:
                heapq.heappush(heap, (max(t, base[index] / slope[index]), 1, index, version[index]))

    while heap:
        t, kind, index, stamp = heapq.heappop(heap)
        if kind == 0:
            if not frozen[index]:
                freeze(index, t)
            continue
        if index in saturated or stamp != version[index]:
            continue
        saturated.add(index)
        for n in limited_by[index]:
            if not frozen[n]:
                freeze(n, t)

    # Apply in order, each capped by what the rows still allow: float drift in the event
    # times can never push a row over its limit.
    for n, item in enumerate(active):
        ceiling, _ = allocator.ceiling(item)
        target = item.floor(min(item.current_a + raise_a[n], ceiling))
        if target > item.current_a + EPS:
            allocator.grant(item, target)
