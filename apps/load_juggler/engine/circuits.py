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

    `hard` rows always limit the load; `green` rows (solar pool, inverter shares) limit only
    loads restricted to surplus, but every load consumes them so that a continuous car eating
    the sun leaves nothing for the surplus-fed loads after it.
    """

    hard: list[tuple[int, float]] = field(default_factory=list)
    green: list[tuple[int, float]] = field(default_factory=list)


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
        for index, coef in terms.green:
            rows[index].remaining -= coef * delta_a


@dataclass
class SiteRows:
    """Indices of the shared rows, so terms can be assembled per load."""

    node_phase: dict[tuple[str, str], int]
    node_power: dict[str, int]
    import_cap: int | None
    no_grid: int | None
    green_total: int
    green_phase: dict[str, int]


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


def load_terms(load: Load, path: Sequence[str], rows: SiteRows, voltage_v: float) -> LoadTerms:
    """The rows `load` touches, following its circuit path up to the site."""
    phases = load.site_phases
    watts_per_a = voltage_v * len(phases)
    terms = LoadTerms()
    for node in path:
        for phase in phases:
            index = rows.node_phase.get((node, phase))
            if index is not None:
                terms.hard.append((index, 1.0))
        index = rows.node_power.get(node)
        if index is not None:
            terms.hard.append((index, watts_per_a))
    if rows.import_cap is not None:
        terms.hard.append((rows.import_cap, watts_per_a))
    if rows.no_grid is not None:
        terms.hard.append((rows.no_grid, watts_per_a))
    terms.green.append((rows.green_total, watts_per_a))
    for phase in phases:
        index = rows.green_phase.get(phase)
        if index is not None:
            terms.green.append((index, voltage_v))
    return terms
