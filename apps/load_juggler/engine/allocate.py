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

from collections.abc import Sequence

from .alloc_item import EPS, Item, by_tier, energy_rule, floor_to_resolution
from .allocator import Allocator
from .battery import battery_levels
from .charge_units import as_circuits, waiting_for_unit, waiting_reason
from .circuits import (
    REASON_EXCESS,
    REASON_SOLAR,
    Capacity,
    CircuitTree,
    add_energy_rows,
    build_rows,
    load_terms,
)
from .model import (
    SITE_NODE,
    Decision,
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

REASON_OFF = "mode off"
REASON_NOT_CONNECTED = "not connected"
REASON_NO_READING = "no grid reading"
__all__ = ["REASON_EXCESS", "REASON_SOLAR", "allocate", "floor_to_resolution"]


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


def allocate(snapshot: Snapshot) -> Decision:
    """Decide every load's current for this cycle; pure and deterministic.

    `snapshot.battery_levels` is the previous cycle's `Decision.battery_levels` (for SoC
    hysteresis); the new levels come back in the decision.
    """
    site = snapshot.site
    validate(site, snapshot.circuits, snapshot.loads)
    # A charger unit is a circuit node over its plugs; a sequential one lets one plug in.
    snapshot = as_circuits(snapshot)
    unit_waits = waiting_for_unit(snapshot)
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
    allocator = Allocator(capacity)

    reasons: dict[str, str] = {}
    items: list[Item] = []
    for order, load in enumerate(snapshot.loads):
        mode = Mode(load.mode)
        rule = energy_rule(mode, levels, held=load.held)
        if rule is None:
            reasons[load.id] = REASON_OFF
            continue
        if not load.connected:
            reasons[load.id] = REASON_NOT_CONNECTED
            continue
        if load.id in unit_waits:
            reasons[load.id] = waiting_reason(unit_waits[load.id])
            continue
        plug = LoadKind(load.kind) is LoadKind.PLUG
        if plug:
            fixed_a = float(load.power_w) / (voltage_v * load.phases)  # type: ignore[arg-type]
            min_a = max_a = fixed_a
        else:
            min_a, max_a = float(load.min_a), float(load.max_a)
        terms = load_terms(load, tree.path(load.circuit), rows, voltage_v)
        items.append(Item(load, mode, plug, rule, min_a, max_a, terms, order))

    def sort_key(item: Item) -> tuple[int, int, str]:
        return (item.mode.urgency, item.load.priority, item.load.id)

    drawing = sorted((i for i in items if i.load.drawing), key=sort_key)
    idle = sorted((i for i in items if not i.load.drawing), key=sort_key)
    tiers = by_tier(drawing)

    def raise_all() -> dict[int, Item]:
        """Step 2 over every tier in urgency order.

        When a `strict` tier gives capacity back (its blocker takes it from the loads that
        must now wait), the pass starts again from the most urgent tier, so that capacity
        goes to more urgent loads before the blocker.
        """
        blockers: dict[int, Item] = {}
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
        late_start = False
        for item in drawing:
            if (
                not item.running
                and not item.frozen
                and allocator.ceiling(item)[0] + EPS >= item.min_a  # else keep its reason
                and allocator.try_min(item)
            ):
                allocator.raise_to_ceiling(item)
                late_start = True
        if late_start:
            # Its min (from any source, for a held load) comes before a green load's extra:
            # what a green load ranked before it took may no longer be green.
            allocator.settle_green(drawing)

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
