"""One allocation decision: snapshot in, per-load currents and the reasons behind them out.

The order of service is the contract users rely on:

1. Loads are grouped in tiers by mode urgency (continuous, solar_priority, solar_only, excess);
   a tier is fully served before the next one may take anything, so a lower tier only ever
   gets what the higher tiers could not use. Within a tier, priority 1 goes first, ties by id,
   and the site's distribution strategy decides how the tier shares what is left.
2. Loads that are connected but not drawing come last, after every drawing load of every tier:
   each is offered its min current if that still fits. The offer is counted against every
   limit, so if the car resumes it stays safe; reason "not drawing: min offered". Under
   `strict` no offer is made while a drawing load of the same tier ranked before it is below
   its max (reason "not drawing: strict: waiting for ..."): once drawing it would be cut at once.
3. Every allocation respects every row of `circuits.Capacity` (site and circuit phases, circuit
   power, import cap, no-grid budget), and surplus-fed modes also the solar pool, so the hard
   invariants hold by construction rather than by cutting afterwards.

`allocate` calls `validate.validate` itself (linear, cheap) and raises `ConfigError` on a bad
configuration. Readings are not configuration: a missing or NaN grid reading falls back to
`house_a`, and with neither every phase is assumed full (reason "no grid reading").
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .battery import battery_levels
from .circuits import Capacity, CircuitTree, LoadTerms, SiteRows, build_rows, load_terms
from .model import (
    SITE_NODE,
    BatteryLevels,
    Decision,
    Load,
    LoadAllocation,
    LoadKind,
    Mode,
    NodeReport,
    Site,
    Snapshot,
    Strategy,
)
from .phases import (
    background_from_grid,
    background_from_house,
    reading_is_usable,
    site_phase_names,
    worst_case_background,
)
from .pools import energy_frame
from .validate import validate

EPS = 1e-9
RESOLUTION_A = 0.1
ROUNDING_SLACK_A = 1e-7

REASON_MAX = "max current"
REASON_OFF = "mode off"
REASON_NOT_CONNECTED = "not connected"
REASON_NO_READING = "no grid reading"
REASON_BATTERY_MIN = "battery below min"
REASON_BATTERY_TARGET = "battery below target"
REASON_SOLAR = "solar surplus"
REASON_EXCESS = "excess threshold"
REASON_OFFERED = "not drawing: min offered"
REASON_PLUG_ON = "fits"

# How a mode lets a load use energy: any source, only the solar pool, or at least its min
# from anywhere and the solar pool on top (solar_priority while the battery sits between
# min and target, or with no battery at all).
ANY = "any"
GREEN = "green"
GREEN_ABOVE_MIN = "green_above_min"


def floor_to_resolution(current_a: float) -> float:
    """Round down to 0.1 A.

    The tiny epsilon keeps 15.99999999 (float noise for 16) from becoming 15.9; the result
    may then exceed the input by at most ROUNDING_SLACK_A, far below any meter's precision.
    """
    return math.floor(current_a / RESOLUTION_A + 1e-7) * RESOLUTION_A


@dataclass
class _Item:
    """Working state of one eligible load during allocation."""

    load: Load
    mode: Mode
    plug: bool
    rule: str
    min_a: float
    max_a: float
    terms: LoadTerms
    order: int
    current_a: float = 0.0
    reason: str = ""

    @property
    def limit_terms(self) -> list[tuple[int, float]]:
        if self.rule == ANY:
            return self.terms.hard
        return self.terms.hard + self.terms.green


class _Allocator:
    """Holds the capacity rows and applies the strategies; one instance per decision."""

    def __init__(self, capacity: Capacity, rows: SiteRows, excess_threshold_w: float) -> None:
        self.capacity = capacity
        self.rows = rows
        self.excess_threshold_w = excess_threshold_w

    # -- primitives -------------------------------------------------------------------------

    def ceiling(self, item: _Item) -> tuple[float, str]:
        """Highest current `item` could have now, and the name of the row that stops it."""
        value, name = self.capacity.headroom(item.terms.hard, item.current_a)
        if item.rule != ANY:
            green, green_name = self.capacity.headroom(item.terms.green, item.current_a)
            if item.rule == GREEN_ABOVE_MIN and green < item.min_a:
                green, green_name = item.min_a, REASON_SOLAR
            if green < value:
                value, name = green, green_name
        if item.max_a <= value + EPS:
            value, name = item.max_a, REASON_PLUG_ON if item.plug else REASON_MAX
        return value, name

    def grant(self, item: _Item, current_a: float) -> None:
        self.capacity.take(item.terms, current_a - item.current_a)
        item.current_a = current_a

    def try_min(self, item: _Item) -> bool:
        """Give `item` its min (a plug: its whole current) if every row allows it."""
        value, name = self.ceiling(item)
        if value + EPS >= item.min_a:
            self.grant(item, item.min_a)
            item.reason = name if item.plug else (REASON_MAX if item.min_a >= item.max_a else name)
            return True
        self.grant(item, 0.0)
        item.reason = f"does not fit ({name})" if item.plug else f"below min current ({name})"
        return False

    def raise_to_ceiling(self, item: _Item) -> None:
        """Raise an item that holds its min as far as the rows allow, at 0.1 A resolution."""
        if item.plug:
            return
        value, name = self.ceiling(item)
        target = max(item.min_a, floor_to_resolution(value))
        if target > item.current_a + EPS and target <= value + ROUNDING_SLACK_A:
            self.grant(item, target)
        item.reason = name

    # -- strategies -------------------------------------------------------------------------

    def serve_tier(self, items: Sequence[_Item], strategy: Strategy) -> _Item | None:
        """Serve one tier; under `strict`, return the item the rest of the tier waits for."""
        if strategy is Strategy.OPTIMIZED:
            for item in items:
                if self.try_min(item):
                    self.raise_to_ceiling(item)
        elif strategy is Strategy.STRICT:
            waiting_for: _Item | None = None
            for item in items:
                if waiting_for is not None:
                    item.reason = f"strict: waiting for {waiting_for.load.id}"
                    continue
                if self.try_min(item):
                    self.raise_to_ceiling(item)
                if item.current_a < item.max_a - EPS or item.current_a <= 0:
                    waiting_for = item
            return waiting_for
        else:
            granted = [item for item in items if self.try_min(item)]
            if strategy is Strategy.SHARED:
                self.water_fill(granted)
            for item in granted:
                self.raise_to_ceiling(item)
        return None

    def water_fill(self, items: Sequence[_Item]) -> None:
        """Raise all items by the same amount until each meets its max or a full row.

        Progressive filling driven by a heap of events (an item reaching its max, a row
        running out), so the cost is O(rows touched x log n) rather than small steps.
        The result is floored to 0.1 A; the caller then tops items up in order, so no
        rounding leftover is stranded.
        """
        rows = self.capacity.rows
        active = [item for item in items if not item.plug and item.current_a < item.max_a - EPS]
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
            terms = item.terms.hard + item.terms.green
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
                if (
                    index not in saturated
                    and limited_count.get(index, 0) > 0
                    and slope[index] > EPS
                ):
                    heapq.heappush(
                        heap, (max(t, base[index] / slope[index]), 1, index, version[index])
                    )

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
            ceiling, _ = self.ceiling(item)
            target = floor_to_resolution(min(item.current_a + raise_a[n], ceiling))
            if target > item.current_a + EPS:
                self.grant(item, target)

    # -- not drawing --------------------------------------------------------------------------

    def offer_min(self, item: _Item) -> None:
        if self.try_min(item):
            item.reason = REASON_OFFERED
        else:
            item.reason = f"not drawing: {item.reason}"

    @contextmanager
    def excess_rules(self, item_mode: Mode, apply_threshold: bool) -> Iterator[None]:
        """While serving `excess` loads the solar pool is reduced by the export threshold."""
        row = self.capacity.rows[self.rows.green_total]
        threshold = self.excess_threshold_w
        if item_mode is not Mode.EXCESS or not apply_threshold or threshold <= 0:
            yield
            return
        row.remaining -= threshold
        row.name = REASON_EXCESS
        try:
            yield
        finally:
            row.remaining += threshold
            row.name = REASON_SOLAR


def _background(snapshot: Snapshot, site: Site) -> tuple[tuple[float, ...], bool]:
    """Background per phase, and whether it came from a real reading."""
    if reading_is_usable(snapshot.grid_a, site.phases):
        return background_from_grid(snapshot.grid_a, snapshot.loads, site), True  # type: ignore[arg-type]
    if reading_is_usable(snapshot.house_a, site.phases):
        return (
            background_from_house(
                snapshot.house_a,  # type: ignore[arg-type]
                snapshot.solar_w,
                snapshot.battery_power_w,
                site,
            ),
            True,
        )
    return worst_case_background(site), False


def _rule(mode: Mode, levels: BatteryLevels | None) -> tuple[str | None, str]:
    """How `mode` may use energy given the battery, or (None, reason) when it gets nothing."""
    if mode is Mode.OFF:
        return None, REASON_OFF
    if mode is Mode.CONTINUOUS:
        return ANY, ""
    if mode is Mode.SOLAR_PRIORITY:
        if levels is None:
            return GREEN_ABOVE_MIN, ""
        if not levels.above_min:
            return None, REASON_BATTERY_MIN
        return (ANY, "") if levels.above_target else (GREEN_ABOVE_MIN, "")
    if mode is Mode.SOLAR_ONLY:
        if levels is not None and not levels.above_target:
            return None, REASON_BATTERY_TARGET
        return GREEN, ""
    return GREEN, ""


def allocate(snapshot: Snapshot) -> Decision:
    """Decide every load's current for this cycle; pure and deterministic.

    `snapshot.battery_levels` is the previous cycle's `Decision.battery_levels` (for SoC
    hysteresis); the new levels come back in the decision.
    """
    site = snapshot.site
    validate(site, snapshot.circuits, snapshot.loads)
    strategy = Strategy(site.distribution)
    voltage_v = site.voltage_v
    phase_names = site_phase_names(site)

    background_a, has_reading = _background(snapshot, site)
    levels = battery_levels(snapshot.battery_soc_pct, site.battery, snapshot.battery_levels)
    frame = energy_frame(background_a, site, snapshot.solar_w, snapshot.battery_power_w, levels)

    tree = CircuitTree(snapshot.circuits)
    capacity = Capacity()
    rows = build_rows(
        capacity,
        site,
        tree,
        background_a,
        phase_names,
        frame.solar_pool_w,
        frame.green_phase_cap_w,
        None if site.allow_grid_charging else frame.no_grid_budget_w,
        snapshot.circuit_background_a,
        snapshot.circuit_background_w,
    )
    allocator = _Allocator(capacity, rows, site.excess_threshold_w)
    apply_threshold = not (levels is not None and levels.above_full)

    reasons: dict[str, str] = {}
    items: list[_Item] = []
    for order, load in enumerate(snapshot.loads):
        mode = Mode(load.mode)
        rule, reason = _rule(mode, levels)
        if mode is not Mode.OFF and not load.connected:
            rule, reason = None, REASON_NOT_CONNECTED
        if rule is None:
            reasons[load.id] = reason
            continue
        plug = LoadKind(load.kind) is LoadKind.PLUG
        if plug:
            fixed_a = float(load.power_w) / (voltage_v * load.phases)  # type: ignore[arg-type]
            min_a = max_a = fixed_a
        else:
            min_a, max_a = float(load.min_a), float(load.max_a)
        terms = load_terms(load, tree.path(load.circuit), rows, voltage_v)
        items.append(_Item(load, mode, plug, rule, min_a, max_a, terms, order))

    def sort_key(item: _Item) -> tuple[int, int, str]:
        return (item.mode.urgency, item.load.priority, item.load.id)

    drawing = sorted((i for i in items if i.load.drawing), key=sort_key)
    idle = sorted((i for i in items if not i.load.drawing), key=sort_key)

    # Under `strict`, per tier urgency: the drawing load that the rest of its tier waits for.
    waiting: dict[int, _Item] = {}
    start = 0
    while start < len(drawing):
        mode = drawing[start].mode
        end = start
        while end < len(drawing) and drawing[end].mode.urgency == mode.urgency:
            end += 1
        with allocator.excess_rules(mode, apply_threshold):
            blocker = allocator.serve_tier(drawing[start:end], strategy)
        if blocker is not None:
            waiting[mode.urgency] = blocker
        start = end
    for item in idle:
        # A load that is not drawing yet is offered only what it could keep once it draws:
        # under `strict` it would wait behind a load of its tier ranked before it that is not
        # at max, so an offer now would only start it to cut it in the next cycle.
        blocker = waiting.get(item.mode.urgency)
        if blocker is not None and sort_key(blocker) < sort_key(item):
            item.reason = f"not drawing: strict: waiting for {blocker.load.id}"
            continue
        with allocator.excess_rules(item.mode, apply_threshold):
            allocator.offer_min(item)

    by_id = {item.load.id: item for item in items}
    allocations: dict[str, LoadAllocation] = {}
    for load in snapshot.loads:
        item = by_id.get(load.id)
        current_a = item.current_a if item is not None else 0.0
        reason = item.reason if item is not None else reasons[load.id]
        if not has_reading and current_a <= 0 and item is not None:
            reason = REASON_NO_READING
        phases_a = {phase: current_a for phase in load.site_phases}
        if item is not None and item.plug and current_a > 0:
            power_w = float(load.power_w)  # type: ignore[arg-type]
        else:
            power_w = current_a * voltage_v * load.phases
        allocations[load.id] = LoadAllocation(
            id=load.id,
            current_a=current_a,
            on=current_a > 0,
            reason=reason,
            phases_a=phases_a,
            power_w=power_w,
        )

    nodes, import_w = _node_reports(snapshot, tree, background_a, phase_names, allocations)
    return Decision(
        loads=allocations,
        nodes=nodes,
        background_a=background_a,
        surplus_w=frame.surplus_w,
        solar_pool_w=frame.solar_pool_w,
        import_w=import_w,
        battery_levels=levels,
    )


def _node_reports(
    snapshot: Snapshot,
    tree: CircuitTree,
    background_a: Sequence[float],
    phase_names: Sequence[str],
    allocations: dict[str, LoadAllocation],
) -> tuple[dict[str, NodeReport], float]:
    """Per-phase use and headroom of the site and of every circuit.

    For the site, `power_w` is the predicted grid import and `max_power_w` the import cap; for a
    circuit they are its loads' power and its power limit. A node without a current limit
    reports an empty `headroom_a`.
    """
    site = snapshot.site
    node_ids = [SITE_NODE, *tree.circuits]
    allocated = {node: dict.fromkeys(phase_names, 0.0) for node in node_ids}
    power = dict.fromkeys(node_ids, 0.0)
    for load in snapshot.loads:
        allocation = allocations[load.id]
        if allocation.current_a <= 0:
            continue
        for node in tree.path(load.circuit):
            per_phase = allocated[node]
            for phase in load.site_phases:
                per_phase[phase] += allocation.current_a
            power[node] += allocation.power_w
    import_w = sum(background_a) * site.voltage_v + power[SITE_NODE]

    nodes: dict[str, NodeReport] = {}
    site_used = {p: background_a[i] + allocated[SITE_NODE][p] for i, p in enumerate(phase_names)}
    nodes[SITE_NODE] = NodeReport(
        id=SITE_NODE,
        limit_a=site.main_breaker_a,
        used_a=site_used,
        allocated_a=allocated[SITE_NODE],
        headroom_a={p: site.main_breaker_a - site_used[p] for p in phase_names},
        power_w=import_w,
        max_power_w=site.max_import_w,
    )
    for circuit in tree.circuits.values():
        used = dict(allocated[circuit.id])
        limit = circuit.limit_a
        nodes[circuit.id] = NodeReport(
            id=circuit.id,
            limit_a=limit,
            used_a=used,
            allocated_a=allocated[circuit.id],
            headroom_a={} if limit is None else {p: limit - used[p] for p in phase_names},
            power_w=power[circuit.id],
            max_power_w=circuit.max_power_w,
        )
    return nodes, import_w
