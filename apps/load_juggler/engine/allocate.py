"""One allocation decision: snapshot in, per-load currents and the reasons behind them out.

The order of service is the contract users rely on (DESIGN.md "Control rules"):

1. Every eligible load is ranked by mode urgency (continuous, solar_priority, solar_only,
   excess), then `priority` (1 first), then id. Every strategy is two steps over that ranking:
   - minimums first: in rank order, each load gets its min while it fits. Under `optimized`
     and `strict` the strategy first decides, tier by tier, which loads of the tier run
     (`optimized`: to max in order, skipping a load whose min does not fit; `strict`: the next
     load only when the previous is at max), and those keep their min;
   - then the remainder, tier by tier in urgency order, per the strategy (`priority` and
     `optimized`: in order up to each load's ceiling; `shared`: equal raises; `strict`: in
     order, and a load short of its max makes every later load of its tier wait).
   So a less urgent load's min is never taken by a more urgent load's extra. Under
   `optimized`, a load skipped while its tier was filled still gets its min at the end if
   it fits in what the loads before it did not keep.
2. Green power is owed in rank order: a load restricted to green power (solar_only, excess,
   solar_priority above its min) only keeps what is left after every load ranked before it
   has drawn. A more urgent continuous car that takes the sun after the minimums were handed
   out therefore lowers the green loads ranked after it, least urgent first, and the breaker
   capacity that frees goes back to the loads ranked first.
3. Loads that are connected but not drawing come last, after every drawing load of every tier:
   each is offered its min current if that still fits. The offer is counted against every
   limit, so if the car resumes it stays safe; reason "not drawing: min offered". Under
   `strict` no offer is made while a drawing load of the same tier ranked before it is below
   its max (reason "not drawing: strict: waiting for ..."): once drawing it would be cut at once.
4. Every allocation respects every row of `circuits.Capacity` (site and circuit phases, circuit
   power, import cap, no-grid budget), and green-restricted rules also their energy rows, so
   the hard invariants hold by construction rather than by cutting afterwards.

Where each mode's energy may come from (DESIGN.md "Where the energy may come from"):
continuous: any source; solar_priority: its min from any source whatever the SoC, above it
green power only (the solar pool, plus the battery's discharge potential at or above target);
solar_only: green power only; excess: only the solar pool (never the battery), and only while
it exceeds `excess_threshold_w`, then `max(min, export above the threshold)`; at or above
`full_soc` excess behaves like solar_only.

`allocate` calls `validate.validate` itself (linear, cheap) and raises `ConfigError` on a bad
configuration. Readings are not configuration: a missing or NaN grid reading falls back to
`house_a`, and with neither every phase is assumed full (reason "no grid reading").
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .battery import battery_levels
from .circuits import (
    REASON_EXCESS,
    REASON_SOLAR,
    Capacity,
    CircuitTree,
    LoadTerms,
    add_energy_rows,
    build_rows,
    load_terms,
)
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
from .node_totals import node_totals
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
REASON_OFFERED = "not drawing: min offered"
REASON_PLUG_ON = "fits"
__all__ = ["REASON_EXCESS", "REASON_SOLAR", "allocate", "floor_to_resolution"]

# How a mode lets a load use energy: any source; only green power; at least its min from
# anywhere and green power on top (solar_priority); only the solar pool above the excess
# threshold, at least its min once it runs (excess below full SoC).
ANY = "any"
GREEN = "green"
GREEN_ABOVE_MIN = "green_above_min"
EXCESS = "excess"
GREEN_RULES = frozenset({GREEN, GREEN_ABOVE_MIN, EXCESS})


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
    #: Lowered because a load ranked before it took its green power: not raised again.
    frozen: bool = False
    #: Holds its min (which may be 0 A): the remainder may raise it.
    running: bool = False
    #: Set once step 2 looked at it: later passes keep the reason of the row that bound it.
    raised: bool = False

    @property
    def limit_terms(self) -> list[tuple[int, float]]:
        """Rows that stop this item from rising above its min."""
        if self.rule == ANY:
            return self.terms.hard
        if self.rule == EXCESS:
            return self.terms.hard + self.terms.solar + self.terms.excess
        return self.terms.hard + self.terms.green

    @property
    def touched_terms(self) -> list[tuple[int, float]]:
        return self.terms.hard + self.terms.energy


class _Allocator:
    """Holds the capacity rows and applies the strategies; one instance per decision."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        #: How many times a `strict` tier gave capacity back in step 2.
        self.released = 0

    # -- primitives -------------------------------------------------------------------------

    def ceiling(self, item: _Item) -> tuple[float, str]:
        """Highest current `item` could have now, and the name of the row that stops it."""
        headroom = self.capacity.headroom
        value, name = headroom(item.terms.hard, item.current_a)
        green, green_name = math.inf, ""
        if item.rule in (GREEN, GREEN_ABOVE_MIN):
            green, green_name = headroom(item.terms.green, item.current_a)
            if item.rule == GREEN_ABOVE_MIN and green < item.min_a:
                green = item.min_a
        elif item.rule == EXCESS:
            # Export above the threshold must exist at all; then the load may run at its min
            # (fed by export below the threshold), never by battery or grid.
            green, green_name = headroom(item.terms.solar, item.current_a)
            above, above_name = headroom(item.terms.excess, item.current_a)
            if above <= EPS:
                green, green_name = 0.0, above_name
            elif max(above, item.min_a) < green:
                green, green_name = max(above, item.min_a), above_name
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
            item.running = True
            item.reason = name if item.plug else (REASON_MAX if item.min_a >= item.max_a else name)
            return True
        self.grant(item, 0.0)
        item.running = False
        item.reason = _refused(item, name)
        return False

    def raise_to_ceiling(self, item: _Item) -> None:
        """Raise an item that holds its min as far as the rows allow, at 0.1 A resolution."""
        if item.plug or item.frozen or not item.running:
            return
        value, name = self.ceiling(item)
        target = max(item.min_a, floor_to_resolution(value))
        if target > item.current_a + EPS and target <= value + ROUNDING_SLACK_A:
            self.grant(item, target)
            item.reason = name
        elif not item.raised:
            item.reason = name
        item.raised = True

    def release_to_min(self, item: _Item) -> None:
        if item.current_a > item.min_a + EPS:
            self.grant(item, item.min_a)

    # -- step 1: minimums -------------------------------------------------------------------

    def start_tier(self, items: Sequence[_Item], strategy: Strategy) -> None:
        """Give the tier's loads that run under `strategy` their min, in rank order.

        `optimized` and `strict` decide who runs by filling the tier in order as if it had
        everything left; the extras are then handed back so that less urgent loads' minimums
        come before them.
        """
        if strategy is Strategy.OPTIMIZED:
            for item in items:
                if self.try_min(item):
                    self.raise_to_ceiling(item)
        elif strategy is Strategy.STRICT:
            self.strict_pass(items)
        else:
            for item in items:
                self.try_min(item)
        for item in items:
            self.release_to_min(item)
            item.raised = False  # step 2 names the row that binds it there

    # -- step 2: the remainder --------------------------------------------------------------

    def raise_tier(self, items: Sequence[_Item], strategy: Strategy) -> _Item | None:
        """Raise the running loads of one tier; under `strict`, return the load others wait for."""
        if strategy is Strategy.STRICT:
            return self.strict_pass(items, defer=True)
        if strategy is Strategy.SHARED:
            self.water_fill(items)
        for item in items:
            self.raise_to_ceiling(item)
        return None

    def strict_pass(self, items: Sequence[_Item], *, defer: bool = False) -> _Item | None:
        """In order: each load to its ceiling; the first one short of its max blocks the rest.

        A load that cannot reach its max takes back what the loads after it hold; if it still
        falls short it is the blocker, and every load after it waits at 0. With `defer` (step
        2) the capacity taken back is not used at once: `released` counts up so that the
        caller lets the more urgent tiers have it first and then runs this tier again.
        """
        blocker: _Item | None = None
        for n, item in enumerate(items):
            if blocker is not None:
                if item.running:
                    self.grant(item, 0.0)
                    item.running = False
                item.reason = f"strict: waiting for {blocker.load.id}"
                continue
            if self.strict_serve(item):
                continue
            later_running = [later for later in items[n + 1 :] if later.running]
            for later in later_running:
                self.grant(later, 0.0)
                later.running = False
            if later_running and defer:
                self.released += 1
                blocker = item
            elif not self.strict_serve(item):
                blocker = item
        return blocker

    def strict_serve(self, item: _Item) -> bool:
        """Start (if needed) and raise one load under `strict`; True when it is at its max."""
        if not item.running and (item.frozen or not self.try_min(item)):
            return False
        self.raise_to_ceiling(item)
        return item.plug or item.current_a >= item.max_a - EPS

    def water_fill(self, items: Sequence[_Item]) -> None:
        """Raise all items by the same amount until each meets its max or a full row.

        Progressive filling driven by a heap of events (an item reaching its max, a row
        running out), so the cost is O(rows touched x log n) rather than small steps.
        The result is floored to 0.1 A; the caller then tops items up in order, so no
        rounding leftover is stranded.
        """
        rows = self.capacity.rows
        active = [
            item
            for item in items
            if not item.plug
            and not item.frozen
            and item.running
            and item.current_a < item.max_a - EPS
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

    # -- step 3: green power is owed in rank order ------------------------------------------

    def settle_green(self, ranked: Sequence[_Item]) -> bool:
        """Lower the green-restricted loads that hold power no longer green, least urgent first.

        Loads ranked before them (a continuous car raised after the minimums) may have drawn
        the green power they were given in step 1; each keeps only what its rows still allow,
        or stops below its min. Going from the least urgent up, a lowered load gives its green
        power back before a more urgent one is checked. Returns whether any load was lowered.
        """
        lowered = False
        held_after: list[_Item] = []  # held loads ranked after the one being checked
        for item in reversed(ranked):
            if item.load.held and item.current_a > 0:
                held_after.append(item)
            if item.rule not in GREEN_RULES or item.current_a <= 0:
                continue
            value, name = self.ceiling(item)
            if value >= item.current_a - ROUNDING_SLACK_A:
                continue
            if value < item.min_a - EPS and self.min_before_held(item, held_after):
                value = item.min_a
            floored = floor_to_resolution(value)
            if floored > value + ROUNDING_SLACK_A:
                floored -= RESOLUTION_A
            if item.rule == GREEN_ABOVE_MIN:
                target = max(item.min_a, floored)  # its min may come from anywhere
            elif item.plug or floored < item.min_a - EPS:
                target = 0.0
            else:
                target = max(item.min_a, floored)
            self.grant(item, target)
            item.running = target > 0
            item.reason = name if target > 0 else _refused(item, name)
            item.frozen = True
            item.raised = False
            lowered = True
        return lowered

    def min_before_held(self, item: _Item, held_after: Sequence[_Item]) -> bool:
        """Whether `item`'s min fits in green power if the held loads ranked after it took
        their min from other sources.

        A held load keeps its rank: its min comes after the minimums of the loads ranked
        before it, from any source, so it must not stop a more urgent green load. Only the
        energy rows are given back for the check; the breaker rows stay taken.
        """
        if not held_after:
            return False
        lent = [(LoadTerms(energy=held.terms.energy), held.current_a) for held in held_after]
        for terms, current_a in lent:
            self.capacity.take(terms, -current_a)
        value, _ = self.ceiling(item)
        for terms, current_a in lent:
            self.capacity.take(terms, current_a)
        return value + EPS >= item.min_a

    # -- not drawing --------------------------------------------------------------------------

    def offer_min(self, item: _Item) -> None:
        if self.try_min(item):
            item.reason = REASON_OFFERED
        else:
            item.reason = f"not drawing: {item.reason}"


def _refused(item: _Item, name: str) -> str:
    return f"does not fit ({name})" if item.plug else f"below min current ({name})"


def _tiers(items: Sequence[_Item]) -> list[list[_Item]]:
    """Ranked items grouped by mode urgency, most urgent first."""
    tiers: list[list[_Item]] = []
    for item in items:
        if tiers and tiers[-1][0].mode.urgency == item.mode.urgency:
            tiers[-1].append(item)
        else:
            tiers.append([item])
    return tiers


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


def _rule(mode: Mode, levels: BatteryLevels | None, *, held: bool = False) -> str | None:
    """How `mode` may use energy given the battery levels; None for `off`.

    A held load (its time rules keep it at its min) takes its min from any source in its own
    place in the ranking, so it never goes before a more urgent load's minimum.

    The battery enters through the energy rows (its due charge below target, its discharge
    potential at or above target), so only `excess` depends on the levels here: at or above
    `full_soc` it behaves like solar_only.
    """
    if mode is Mode.OFF:
        return None
    if mode is Mode.CONTINUOUS:
        return ANY
    if mode is Mode.SOLAR_PRIORITY or held:
        return GREEN_ABOVE_MIN
    if mode is Mode.SOLAR_ONLY:
        return GREEN
    if levels is not None and levels.above_full:
        return GREEN
    return EXCESS


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
        frame.green_w,
        frame.green_phase_cap_w,
        None if site.allow_grid_charging else frame.no_grid_budget_w,
        snapshot.circuit_background_a,
        snapshot.circuit_background_w,
    )
    add_energy_rows(
        capacity,
        rows,
        phase_names,
        solar_w=frame.solar_left_w,
        green_w=frame.green_w,
        battery_due_w=frame.battery_due_w,
        green_discharge_w=frame.green_discharge_w,
        excess_threshold_w=site.excess_threshold_w,
        solar_phase_w=frame.solar_phase_w,
        green_phase_w=frame.green_phase_w,
    )
    allocator = _Allocator(capacity)

    reasons: dict[str, str] = {}
    items: list[_Item] = []
    for order, load in enumerate(snapshot.loads):
        mode = Mode(load.mode)
        rule = _rule(mode, levels, held=load.held)
        if rule is None:
            reasons[load.id] = REASON_OFF
            continue
        if not load.connected:
            reasons[load.id] = REASON_NOT_CONNECTED
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
    tiers = _tiers(drawing)

    def raise_all() -> dict[int, _Item]:
        """Step 2 over every tier in urgency order.

        When a `strict` tier gives capacity back (its blocker takes it from the loads that
        must now wait), the pass starts again from the most urgent tier, so that capacity
        goes to more urgent loads before the blocker.
        """
        blockers: dict[int, _Item] = {}
        for _ in range(2 * len(drawing) + 2):
            mark = allocator.released
            blockers = {}
            for n, tier in enumerate(tiers):
                blocker = allocator.raise_tier(tier, strategy)
                if blocker is not None:
                    blockers[tier[0].mode.urgency] = blocker
                if allocator.released != mark:
                    # Extras handed out from this tier on are taken back and handed out again.
                    for later_tier in tiers[n:]:
                        for item in later_tier:
                            allocator.release_to_min(item)
                    break
            else:
                return blockers
        return blockers

    for tier in tiers:
        allocator.start_tier(tier, strategy)
    waiting = raise_all()
    # Each pass lowers the green loads that lost their green power (lowered loads are not
    # raised again); the breaker capacity they free goes back to the loads ranked first, which
    # may take more green power, hence the next pass. Green loads only go down and the others
    # only up, so this settles; the bound is a guard, after which the green loads are settled
    # once more without handing capacity out again.
    for attempt in range(2 * len(drawing) + 2):
        if not allocator.settle_green(drawing):
            if attempt == 0:
                break
            # A load lowered early may have regained green power when a load ranked before it
            # was lowered later: raise every running load once more within its rows (no row a
            # green load relies on goes negative by it; the others are at their ceiling).
            for item in drawing:
                item.frozen = False
            waiting = raise_all()
            break
        waiting = raise_all()
    else:
        allocator.settle_green(drawing)
    if strategy is Strategy.OPTIMIZED:
        # `optimized` decided who runs with the tier filled to max in order; a load skipped
        # then may fit in what the earlier loads of its tier did not keep in the end.
        for item in drawing:
            if not item.running and not item.frozen and allocator.try_min(item):
                allocator.raise_to_ceiling(item)

    for item in idle:
        # A load that is not drawing yet is offered only what it could keep once it draws:
        # under `strict` it would wait behind a load of its tier ranked before it that is not
        # at max, so an offer now would only start it to cut it in the next cycle.
        blocker = waiting.get(item.mode.urgency)
        if blocker is not None and sort_key(blocker) < sort_key(item):
            item.reason = f"not drawing: strict: waiting for {blocker.load.id}"
            continue
        allocator.offer_min(item)

    by_id = {item.load.id: item for item in items}
    allocations: dict[str, LoadAllocation] = {}
    for load in snapshot.loads:
        item = by_id.get(load.id)
        current_a = item.current_a if item is not None else 0.0
        reason = item.reason if item is not None else reasons[load.id]
        if not has_reading and current_a <= 0 and item is not None:
            reason = REASON_NO_READING
        phases_a = {phase: current_a * count for phase, count in load.lines_per_phase.items()}
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
        green_w=max(0.0, frame.green_w),
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
    shares = (
        (load.circuit, allocations[load.id].phases_a.items(), allocations[load.id].power_w)
        for load in snapshot.loads
        if allocations[load.id].current_a > 0
    )
    totals = node_totals(shares, tree, phase_names)
    allocated, power = totals.amps, totals.watts
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
