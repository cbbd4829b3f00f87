"""Deadlines and prices: when a load with a `ready_by` must run, and when a price lets it run.

Pure decision code, no clock of its own: every time is on the controller's clock (the hub's is
UTC epoch seconds), so a plan made here is replayed exactly by the simulator and the tests.

A deadline never makes a load less urgent: before its planned start the load follows its own
mode (solar first); from the planned start it runs as `continuous`. The planned start is
recomputed every cycle from the energy still needed and the power the load can really get
now (`deliverable_power_w`: breakers, circuits, the import cap and the other loads' minimums),
so a rising house load moves the start earlier. With a price series the load is planned into
the cheapest slots before `ready_by` instead of the latest ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .model import Decision, Load, LoadKind, Mode, Snapshot

#: The plan assumes the load gets this share of the power it could get now (the house may
#: rise later, the car may taper near full), so it starts early enough to absorb that.
POWER_SHARE = 0.9
#: And it starts this much earlier again, so a plan at the edge of a slot still makes it.
START_MARGIN_S = 600.0
#: Below this the load is taken as done.
DONE_WH = 1.0

#: Modes a price at or below `max_price` turns into `continuous` (the issue's rule: a load
#: that would otherwise wait for the sun may then take the grid).
PRICE_MODES = frozenset({Mode.SOLAR_PRIORITY, Mode.EXCESS})


@dataclass(frozen=True)
class PriceSlot:
    """One tariff interval [start_s, end_s) at `price` (any currency per kWh; may be < 0)."""

    start_s: float
    end_s: float
    price: float


@dataclass(frozen=True)
class ChargeGoal:
    """What a load app asks of the planner this cycle, read from its options and sensors.

    `ready_by_s` and `energy_wh` (still needed) make a deadline; `prices` and `max_price`
    work with or without one.
    """

    ready_by_s: float | None = None
    energy_wh: float | None = None
    prices: tuple[PriceSlot, ...] = ()
    max_price: float | None = None


@dataclass(frozen=True)
class DeadlinePlan:
    """A deadline's plan as published: what is still needed, when it starts, whether it makes it.

    `power_w` is the power the plan counts on (`POWER_SHARE` of the deliverable power),
    `planned_start_s` the start of the first slot it runs in (the latest start without prices),
    `run_now` whether this cycle lies in a planned slot, `miss_s` how late the target will be
    reached even when running from now on (0: it makes it).
    """

    ready_by_s: float
    energy_wh: float
    power_w: float
    latest_start_s: float
    planned_start_s: float
    run_now: bool
    miss_s: float

    @property
    def urgent(self) -> bool:
        """The latest start has come: from now on only running without a break makes it."""
        return self.run_now and self.planned_start_s >= self.latest_start_s

    @property
    def reason(self) -> str:
        """One line for the load's reason and the log."""
        if math.isinf(self.miss_s):
            return "deadline: will miss it, no power available now"
        if self.miss_s > 0:
            return f"deadline: will miss by {math.ceil(self.miss_s / 60.0):.0f} min"
        if self.run_now:
            return f"deadline: {self.energy_wh / 1000.0:.1f} kWh still needed"
        return "deadline: waiting for the planned start"


def price_at(prices: Sequence[PriceSlot], t_s: float) -> float | None:
    """The price in force at `t_s`, None when the series does not cover it."""
    for slot in prices:
        if slot.start_s <= t_s < slot.end_s:
            return slot.price
    return None


def plan_deadline(
    now_s: float,
    ready_by_s: float,
    energy_wh: float,
    power_w: float,
    prices: Sequence[PriceSlot] = (),
) -> DeadlinePlan:
    """The plan for `energy_wh` by `ready_by_s` at the deliverable `power_w`.

    Without prices the load runs from its latest start (`ready_by` minus the run time at
    `POWER_SHARE` of the power, minus `START_MARGIN_S`). With prices the time between now and
    `ready_by` is cut into slots (a gap in the series counts as dearer than any price) and the
    cheapest ones, latest first among equals, are taken until they hold the run time plus
    the margin; the load runs while now lies in one. A load that cannot make it at all runs
    now, and `miss_s` says by how much it will be late.
    """
    planned_w = max(0.0, power_w) * POWER_SHARE
    run_s = math.inf if planned_w <= 0.0 else energy_wh / planned_w * 3600.0
    latest_start_s = ready_by_s - run_s - START_MARGIN_S
    needed_s = run_s + START_MARGIN_S
    miss_s = 0.0
    if now_s + run_s > ready_by_s:
        miss_s = math.inf if math.isinf(run_s) else now_s + run_s - ready_by_s
    if now_s >= latest_start_s or not prices:
        run_now = now_s >= latest_start_s
        planned = max(now_s, latest_start_s) if math.isfinite(latest_start_s) else now_s
        return DeadlinePlan(
            ready_by_s, energy_wh, planned_w, latest_start_s, planned, run_now, miss_s
        )
    chosen = cheapest_slots(_segments(now_s, ready_by_s, prices), needed_s)
    run_now = any(start <= now_s < end for start, end in chosen)
    planned = min((start for start, _ in chosen), default=latest_start_s)
    return DeadlinePlan(ready_by_s, energy_wh, planned_w, latest_start_s, planned, run_now, miss_s)


def cheapest_slots(
    segments: Sequence[tuple[float, float, float]], needed_s: float
) -> list[tuple[float, float]]:
    """(start, end) of the cheapest segments holding `needed_s`; the last one cut short.

    `segments` are (start_s, end_s, price); ties go to the later segment (as without prices,
    the grid is used as late as it may be, leaving the time before to the load's own mode),
    and a segment only partly needed is used from its start (so the plan does not move while
    it runs).
    """
    chosen: list[tuple[float, float]] = []
    left_s = needed_s
    for start, end, _ in sorted(segments, key=lambda s: (s[2], -s[0])):
        if left_s <= 0:
            break
        take_s = min(end - start, left_s)
        chosen.append((start, start + take_s))
        left_s -= take_s
    return chosen


def _segments(
    now_s: float, ready_by_s: float, prices: Sequence[PriceSlot]
) -> list[tuple[float, float, float]]:
    """[now, ready_by) cut by the price series; uncovered time at +inf (dearer than any)."""
    inner = sorted(
        (max(s.start_s, now_s), min(s.end_s, ready_by_s), s.price)
        for s in prices
        if s.end_s > now_s and s.start_s < ready_by_s and math.isfinite(s.price)
    )
    segments: list[tuple[float, float, float]] = []
    cursor = now_s
    for start, end, price in inner:
        start = max(start, cursor)
        if end <= start:
            continue
        if start > cursor:
            segments.append((cursor, start, math.inf))
        segments.append((start, end, price))
        cursor = end
    if cursor < ready_by_s:
        segments.append((cursor, ready_by_s, math.inf))
    return segments


def effective_mode(
    mode: Mode, plan: DeadlinePlan | None, price: float | None, max_price: float | None
) -> tuple[Mode, str | None]:
    """The mode the load runs in this cycle, and why it is not its own (None: it is).

    `off` stays off (the user's word wins). A deadline plan that says run makes the load
    `continuous`; so does a price at or below `max_price` for a `solar_priority` or `excess`
    load. Meant to be combined with other mode rules (schedules, commands): pass it the mode
    they chose.
    """
    if mode is Mode.OFF:
        return mode, None
    if plan is not None and plan.run_now:
        return Mode.CONTINUOUS, plan.reason
    if max_price is not None and price is not None and mode in PRICE_MODES and price <= max_price:
        return Mode.CONTINUOUS, f"price {price:g} <= max_price {max_price:g}"
    return mode, None


AllocateFn = Callable[[Snapshot], Decision]


def deliverable_power_w(
    snapshot: Snapshot, load: Load, allocate_fn: AllocateFn, voltage_v: float
) -> float:
    """The power `load` would get now if it ran as `continuous`, ahead of its own tier.

    `load` is the configured load. One engine run on the cycle's snapshot with the load
    continuous, priority 1, drawing and at its configured limits:
    every breaker, circuit and the import cap bound it, and the other loads keep their
    minimums (mins are served first). A load missing from the snapshot: its rating.
    """
    full_w = rated_w(load, voltage_v)
    seen = next((ld for ld in snapshot.loads if ld.id == load.id), None)
    if seen is None:
        return full_w
    # The configured limits, not the snapshot's (a held load is in it with max = min).
    wanted = replace(
        load,
        mode=Mode.CONTINUOUS,
        priority=1,
        held=False,
        connected=True,
        drawing=True,
        draw_a=seen.draw_a,
    )
    loads = tuple(wanted if ld.id == load.id else ld for ld in snapshot.loads)
    allocation = allocate_fn(replace(snapshot, loads=loads)).loads.get(load.id)
    if allocation is None or not allocation.on:
        return 0.0
    return min(full_w, allocation.power_w) if allocation.power_w > 0 else 0.0


def rated_w(load: Load, voltage_v: float) -> float:
    """The most the load can take: a plug's power, a charger's max current on its phases."""
    if load.kind is LoadKind.PLUG:
        return load.power_w or 0.0
    return load.max_a * voltage_v * load.phases
