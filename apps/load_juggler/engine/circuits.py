"""The circuit tree and the linear constraints every allocation must respect.

Every limit the engine knows (a phase of a breaker, a circuit's power, the import cap, the
solar pool, the no-grid budget) is one row "sum of coef x current <= remaining". Each load
carries the short list of rows it touches, so asking "how far can this load go" costs a few
lookups whatever the size of the site, and allocation stays linear in the number of loads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .model import SITE_NODE, Circuit, Load, Site


class CircuitTree:
    """Parent links of the circuits under the site; assumes `validate` already ran."""

    def __init__(self, circuits: Iterable[Circuit]) -> None:
        self.circuits: dict[str, Circuit] = {c.id: c for c in circuits}
        self._paths: dict[str | None, tuple[str, ...]] = {None: (SITE_NODE,)}

    def path(self, circuit_id: str | None) -> tuple[str, ...]:
        """Nodes from the load's own circuit up to and including the site."""
        cached = self._paths.get(circuit_id)
        if cached is not None:
            return cached
        circuit = self.circuits[circuit_id]  # type: ignore[index]
        result = (circuit.id, *self.path(circuit.parent))
        self._paths[circuit_id] = result
        return result


@dataclass
class Row:
    """One constraint: `remaining` is what is left of it, in amps or watts."""

    name: str
    remaining: float


@dataclass
class LoadTerms:
    """The rows one load touches, each with the amount one amp of this load uses of it.

    `hard` rows always limit the load. `energy` rows (solar pool, green power, the excess
    threshold, inverter and per-phase metering shares) are consumed by every load, so that a
    continuous car eating the sun leaves nothing for the surplus-fed loads after it, but they
    limit only the loads restricted to them: `green` lists those that limit green-only loads
    (solar_only, and solar_priority above its min), `solar` those that limit an `excess` load
    (no battery, no grid), and `excess` is the row of the export above the threshold.
    Each row appears once per load: a phase that carries several lines has its coefs summed.
    """

    hard: list[tuple[int, float]] = field(default_factory=list)
    green: list[tuple[int, float]] = field(default_factory=list)
    solar: list[tuple[int, float]] = field(default_factory=list)
    excess: list[tuple[int, float]] = field(default_factory=list)
    energy: list[tuple[int, float]] = field(default_factory=list)


class Capacity:
    """Remaining capacity of every row, updated as loads are given current."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, name: str, remaining: float) -> int:
        self.rows.append(Row(name, remaining))
        return len(self.rows) - 1

    def headroom(self, terms: Sequence[tuple[int, float]], current_a: float) -> tuple[float, str]:
        """Largest current the rows allow this load (counting its own `current_a` as free)."""
        best = math.inf
        name = ""
        rows = self.rows
        for index, coef in terms:
            value = rows[index].remaining / coef
            if value < best:
                best = value
                name = rows[index].name
        return best + current_a, name

    def take(self, terms: LoadTerms, delta_a: float) -> None:
        rows = self.rows
        for index, coef in terms.hard:
            rows[index].remaining -= coef * delta_a
        for index, coef in terms.energy:
            rows[index].remaining -= coef * delta_a


@dataclass
class SiteRows:
    """Indices of the shared rows, so terms can be assembled per load.

    `green_total` is the green power row and `green_phase` the inverter's per-phase caps
    (both from `build_rows`); `add_energy_rows` adds the solar-only pool, the excess
    threshold and the per-phase metering rows.
    """

    node_phase: dict[tuple[str, str], int]
    node_power: dict[str, int]
    import_cap: int | None
    no_grid: int | None
    green_total: int
    green_phase: dict[str, int]
    solar_total: int | None = None
    excess: int | None = None
    metered_green_phase: dict[str, int] = field(default_factory=dict)
    metered_solar_phase: dict[str, int] = field(default_factory=dict)


def build_rows(
    capacity: Capacity,
    site: Site,
    tree: CircuitTree,
    background_a: Sequence[float],
    site_phases: Sequence[str],
    green_total_w: float,
    green_phase_cap_w: Sequence[float],
    no_grid_budget_w: float | None,
    circuit_background_a: Mapping[str, Sequence[float]] | None = None,
    circuit_background_w: Mapping[str, float] | None = None,
) -> SiteRows:
    """Create the rows for the site, every circuit, the import cap and the energy pools.

    A circuit with a measured background (its meter minus the managed draw behind it: a
    sub-panel's unmanaged loads) has that much less room; a negative background (a sub-panel
    with its own solar) never adds room beyond the breaker's rating, since the generation can
    stop at any moment.
    """
    node_phase: dict[tuple[str, str], int] = {}
    node_power: dict[str, int] = {}
    measured_a = circuit_background_a or {}
    measured_w = circuit_background_w or {}
    for i, phase in enumerate(site_phases):
        node_phase[(SITE_NODE, phase)] = capacity.add(
            f"site phase {phase}", site.main_breaker_a - background_a[i]
        )
    for circuit in tree.circuits.values():
        if circuit.limit_a is not None:
            circuit_bg = measured_a.get(circuit.id)
            for i, phase in enumerate(site_phases):
                used_a = 0.0
                if circuit_bg is not None and i < len(circuit_bg):
                    used_a = max(0.0, circuit_bg[i])
                node_phase[(circuit.id, phase)] = capacity.add(
                    f"circuit {circuit.id} phase {phase}", circuit.limit_a - used_a
                )
        if circuit.max_power_w is not None:
            used_w = max(0.0, measured_w.get(circuit.id, 0.0))
            node_power[circuit.id] = capacity.add(
                f"circuit {circuit.id} power", circuit.max_power_w - used_w
            )
    import_cap = None
    if site.max_import_w is not None:
        import_now_w = sum(background_a) * site.voltage_v
        import_cap = capacity.add("import cap", site.max_import_w - import_now_w)
    no_grid = None
    if no_grid_budget_w is not None:
        no_grid = capacity.add("no grid import allowed", no_grid_budget_w)
    green_total = capacity.add("solar surplus", green_total_w)
    green_phase = {
        phase: capacity.add("inverter limit", cap)
        for phase, cap in zip(site_phases, green_phase_cap_w, strict=False)
    }
    return SiteRows(node_phase, node_power, import_cap, no_grid, green_total, green_phase)


REASON_SOLAR = "solar surplus"
REASON_SOLAR_AND_BATTERY = "solar surplus and battery"
REASON_BATTERY_CHARGES_FIRST = "solar surplus after battery charge"
REASON_EXCESS = "excess threshold"


def add_energy_rows(
    capacity: Capacity,
    rows: SiteRows,
    site_phases: Sequence[str],
    *,
    solar_w: float,
    green_w: float,
    battery_due_w: float,
    green_discharge_w: float,
    excess_threshold_w: float,
    solar_phase_w: Sequence[float] = (),
    green_phase_w: Sequence[float] = (),
) -> None:
    """Add the energy rows `build_rows` does not make, and name the green row after its source.

    `solar_w` and `green_w` are budgets (surplus after the battery's due, plus the battery's
    green discharge for `green_w`) and may be negative when the house already imports.
    """
    green_row = capacity.rows[rows.green_total]
    if green_discharge_w > 0:
        green_row.name = REASON_SOLAR_AND_BATTERY
    elif battery_due_w > 0:
        green_row.name = REASON_BATTERY_CHARGES_FIRST
    else:
        green_row.name = REASON_SOLAR
    green_row.remaining = green_w
    solar_name = REASON_BATTERY_CHARGES_FIRST if battery_due_w > 0 else REASON_SOLAR
    rows.solar_total = capacity.add(solar_name, solar_w)
    rows.excess = capacity.add(REASON_EXCESS, solar_w - max(0.0, excess_threshold_w))
    for phase, value in zip(site_phases, green_phase_w, strict=False):
        rows.metered_green_phase[phase] = capacity.add(f"{green_row.name} phase {phase}", value)
    for phase, value in zip(site_phases, solar_phase_w, strict=False):
        rows.metered_solar_phase[phase] = capacity.add(f"{solar_name} phase {phase}", value)


def _watt_terms(
    phase_rows: Mapping[str, int], lines: Mapping[str, int], voltage_v: float
) -> list[tuple[int, float]]:
    """Terms of per-phase watt rows: one amp on a phase carrying `count` lines uses V x count."""
    return [
        (phase_rows[phase], voltage_v * count)
        for phase, count in lines.items()
        if phase in phase_rows
    ]


def load_terms(load: Load, path: Sequence[str], rows: SiteRows, voltage_v: float) -> LoadTerms:
    """The rows `load` touches, following its circuit path up to the site.

    Repeated phases are merged into one term per row with the line count as coef, so
    `Capacity.headroom` divides each row's remaining by the load's whole use of it.
    """
    lines = load.lines_per_phase
    watts_per_a = voltage_v * len(load.site_phases)
    terms = LoadTerms()
    for node in path:
        for phase, count in lines.items():
            index = rows.node_phase.get((node, phase))
            if index is not None:
                terms.hard.append((index, float(count)))
        index = rows.node_power.get(node)
        if index is not None:
            terms.hard.append((index, watts_per_a))
    if rows.import_cap is not None:
        terms.hard.append((rows.import_cap, watts_per_a))
    if rows.no_grid is not None:
        terms.hard.append((rows.no_grid, watts_per_a))

    inverter = _watt_terms(rows.green_phase, lines, voltage_v)
    terms.green.append((rows.green_total, watts_per_a))
    terms.green.extend(_watt_terms(rows.metered_green_phase, lines, voltage_v))
    terms.green.extend(inverter)
    if rows.solar_total is not None:
        terms.solar.append((rows.solar_total, watts_per_a))
    terms.solar.extend(_watt_terms(rows.metered_solar_phase, lines, voltage_v))
    terms.solar.extend(inverter)
    if rows.excess is not None:
        terms.excess.append((rows.excess, watts_per_a))
    seen: set[int] = set()
    for index, coef in (*terms.green, *terms.solar, *terms.excess):
        if index not in seen:
            seen.add(index)
            terms.energy.append((index, coef))
    return terms
