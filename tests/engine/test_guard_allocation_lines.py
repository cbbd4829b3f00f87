"""The allocation's last lines of defence (issue 8, "Done when").

Both guard against rounding and float drift that the normal arithmetic never produces, so the
tests inject the fault: an item asked to rise although its min does not fit, and event times
that drift upward inside the water fill. Each test fails when its line is deleted.
"""

from __future__ import annotations

import heapq
from typing import Any

import pytest

from load_juggler.engine import water_fill as water_fill_module
from load_juggler.engine.alloc_item import EnergyRule, Item
from load_juggler.engine.allocator import Allocator
from load_juggler.engine.circuits import Capacity, LoadTerms
from load_juggler.engine.model import Load, Mode


def _allocator(remaining_a: float) -> tuple[Allocator, Capacity]:
    capacity = Capacity()
    capacity.add("site phase A", remaining_a)
    capacity.add("solar surplus", 0.0)
    return Allocator(capacity), capacity


def _item(load_id: str, current_a: float, order: int = 0) -> Item:
    load = Load(id=load_id, phases=1, phase_map=("A",), min_a=6.0, max_a=16.0)
    item = Item(
        load, Mode.CONTINUOUS, False, EnergyRule.ANY, 6.0, 16.0, LoadTerms(hard=[(0, 1.0)]), order
    )
    item.current_a = current_a
    item.running = True  # holds its min (or is asked to): step 2 may raise it
    return item


def test_raise_to_ceiling_never_lifts_an_item_to_a_min_the_rows_do_not_have() -> None:
    allocator, capacity = _allocator(4.0)
    item = _item("car", 0.0)
    allocator.raise_to_ceiling(item)
    # The row has 4 A; max(min 6, floor(4)) = 6 A would overdraw it by 2 A.
    assert item.current_a == 0.0
    assert capacity.rows[0].remaining == 4.0


class _DriftingHeap:
    """heapq whose row events come out 1 A late, as float drift in event times would."""

    heapify = staticmethod(heapq.heapify)
    heappush = staticmethod(heapq.heappush)

    @staticmethod
    def heappop(heap: list[Any]) -> tuple[float, int, int, int]:
        t, kind, index, stamp = heapq.heappop(heap)
        return (t + 1.0 if kind == 1 else t, kind, index, stamp)


def test_water_fill_caps_each_item_at_what_the_rows_still_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(water_fill_module, "heapq", _DriftingHeap)
    allocator, capacity = _allocator(10.0)
    first, second = _item("a", 6.0, 0), _item("b", 6.0, 1)
    allocator.water_fill([first, second])
    # True fill: +5 A each. With the late event each would get +6 (12 A of 10 A left): the
    # cap gives the first its 6 and the second the remaining 4.
    assert (first.current_a, second.current_a) == (12.0, 10.0)
    assert capacity.rows[0].remaining == pytest.approx(0.0)
