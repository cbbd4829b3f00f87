"""Configuration checks that turn a bad apps.yaml into one message a user can act on.

Every check raises `ConfigError` naming the item ("site", "circuit 'garage'", "load 'evse1'"),
the key and what is allowed. `allocate` runs `validate` on every call: it is linear in the
number of loads and circuits and far cheaper than acting on a nonsensical configuration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

from .charge_units import validate_units
from .errors import ConfigError
from .model import (
    SITE_NODE,
    SITE_PHASES,
    Circuit,
    Load,
    LoadKind,
    Metering,
    Mode,
    Site,
    Strategy,
)
from .steps import steps_problem


def _enum(item: str, key: str, value: Any, enum_type: type[Enum]) -> Enum:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum_type)
        raise ConfigError(item, key, value, f"must be one of: {allowed}") from None


def _number(item: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(item, key, value, "must be a finite number")
    return float(value)


def _positive(item: str, key: str, value: Any) -> None:
    if _number(item, key, value) <= 0:
        raise ConfigError(item, key, value, "must be > 0")


def _non_negative(item: str, key: str, value: Any) -> None:
    if _number(item, key, value) < 0:
        raise ConfigError(item, key, value, "must be >= 0")


def _validate_site(site: Site) -> None:
    item = "site"
    if site.phases not in (1, 3):
        raise ConfigError(item, "phases", site.phases, "must be 1 or 3")
    _positive(item, "voltage_v", site.voltage_v)
    _positive(item, "main_breaker_a", site.main_breaker_a)
    if site.max_import_w is not None:
        _positive(item, "max_import_w", site.max_import_w)
    _non_negative(item, "excess_threshold_w", site.excess_threshold_w)
    _enum(item, "distribution", site.distribution, Strategy)
    _enum(item, "metering", site.metering, Metering)
    battery = site.battery
    if battery is not None:
        for key in ("min_soc_pct", "target_soc_pct", "full_soc_pct"):
            value = getattr(battery, key)
            if not 0 <= _number(item, f"battery.{key}", value) <= 100:
                raise ConfigError(item, f"battery.{key}", value, "must be within 0..100")
        if battery.min_soc_pct > battery.target_soc_pct:
            raise ConfigError(
                item,
                "battery.min_soc_pct",
                battery.min_soc_pct,
                f"must be <= target_soc_pct ({battery.target_soc_pct})",
            )
        if battery.target_soc_pct > battery.full_soc_pct:
            raise ConfigError(
                item,
                "battery.target_soc_pct",
                battery.target_soc_pct,
                f"must be <= full_soc_pct ({battery.full_soc_pct})",
            )
        for key in ("max_charge_w", "max_discharge_w", "hysteresis_pct"):
            _non_negative(item, f"battery.{key}", getattr(battery, key))
    inverter = site.inverter
    if inverter is not None:
        if inverter.max_w is not None:
            _positive(item, "inverter.max_w", inverter.max_w)
        if inverter.max_w_per_phase is not None:
            _positive(item, "inverter.max_w_per_phase", inverter.max_w_per_phase)


def _validate_circuits(circuits: Sequence[Circuit]) -> dict[str, Circuit]:
    by_id: dict[str, Circuit] = {}
    for circuit in circuits:
        item = f"circuit '{circuit.id}'"
        if circuit.id == SITE_NODE:
            raise ConfigError(item, "id", circuit.id, f"'{SITE_NODE}' is reserved for the site")
        if circuit.id in by_id:
            raise ConfigError(item, "id", circuit.id, "must be unique among circuits")
        by_id[circuit.id] = circuit
        if circuit.limit_a is not None:
            _positive(item, "limit_a", circuit.limit_a)
        if circuit.max_power_w is not None:
            _positive(item, "max_power_w", circuit.max_power_w)
    for circuit in circuits:
        if circuit.parent is not None and circuit.parent not in by_id:
            raise ConfigError(
                f"circuit '{circuit.id}'", "parent", circuit.parent, "must name a known circuit"
            )
    parents = {c.id: c.parent for c in circuits}
    reaches_site: set[str] = set()
    for circuit in circuits:
        loop = parent_loop(parents, circuit.id, reaches_site)
        if loop is not None:
            node = loop[-1]
            raise ConfigError(
                f"circuit '{node}'",
                "parent",
                by_id[node].parent,
                "circuits must not form a cycle: " + " -> ".join(loop),
            )
    return by_id


def parent_loop(
    parents: Mapping[str, str | None], start: str, reaches_site: set[str] | None = None
) -> list[str] | None:
    """The walk up from `start` that comes back to a circuit on it (`[a, b, a]`), or None.

    The one loop check of the circuit tree, for apps.yaml, scenario files and `validate`. The
    walk ends at the site (parent None) or at a parent that is no circuit (reported on its own);
    `reaches_site` remembers circuits proven loop-free, so checking every circuit stays linear.
    """
    known = set() if reaches_site is None else reaches_site
    seen: list[str] = []
    node: str | None = start
    while node is not None and node in parents and node not in known:
        if node in seen:
            return [*seen, node]
        seen.append(node)
        node = parents[node]
    known.update(seen)
    return None


def member_conflicts(members: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """`(circuit, load, first circuit)` for each load a circuit lists that an earlier `members`
    entry (of another circuit, or the same one again) already listed: a load hangs on one
    breaker only. The one membership check, for apps.yaml, scenario files and the engine."""
    first: dict[str, str] = {}
    conflicts: list[tuple[str, str, str]] = []
    for circuit_id, load_ids in members.items():
        for load_id in load_ids:
            if load_id in first:
                conflicts.append((circuit_id, load_id, first[load_id]))
            first.setdefault(load_id, circuit_id)
    return conflicts


def _validate_load(load: Load, site: Site, circuits: Mapping[str, Circuit]) -> None:
    item = f"load '{load.id}'"
    kind = _enum(item, "kind", load.kind, LoadKind)
    _enum(item, "mode", load.mode, Mode)
    if (
        isinstance(load.priority, bool)
        or not isinstance(load.priority, int)
        or not 1 <= load.priority <= 10
    ):
        raise ConfigError(item, "priority", load.priority, "must be an integer within 1..10")
    if isinstance(load.phases, bool) or load.phases not in (1, 2, 3):
        raise ConfigError(item, "phases", load.phases, "must be 1, 2 or 3")
    phase_map = tuple(load.phase_map)
    if len(phase_map) < load.phases:
        raise ConfigError(
            item,
            "phase_map",
            list(phase_map),
            f"needs {load.phases} site phases (one per line L1..L{load.phases})",
        )
    for phase in phase_map:
        if phase not in SITE_PHASES:
            raise ConfigError(item, "phase_map", list(phase_map), "phases must be A, B or C")
    # A phase may repeat: a 3-phase charger on a 1-phase supply has every line on A.
    site_phases = SITE_PHASES[: site.phases]
    for phase in load.site_phases:
        if phase not in site_phases:
            hint = ""
            if site.phases == 1:
                hint = f"; a {load.phases}-phase load on a 1-phase supply needs phase_map "
                hint += "[" + ", ".join("A" for _ in range(load.phases)) + "]"
            raise ConfigError(
                item,
                "phase_map",
                list(phase_map),
                f"phase {phase} does not exist on a {site.phases}-phase site (only A){hint}",
            )
    min_a = _number(item, "min_a", load.min_a)
    max_a = _number(item, "max_a", load.max_a)
    if min_a < 0:
        raise ConfigError(item, "min_a", load.min_a, "must be >= 0")
    if max_a <= 0:
        raise ConfigError(item, "max_a", load.max_a, "must be > 0")
    if min_a > max_a:
        raise ConfigError(item, "min_a", load.min_a, f"must be <= max_a ({load.max_a})")
    steps = steps_problem(tuple(load.steps_a), min_a, max_a)
    if steps is not None:
        raise ConfigError(item, "steps_a", list(load.steps_a), steps)
    if kind is LoadKind.PLUG and (
        load.power_w is None or _number(item, "power_w", load.power_w) <= 0
    ):
        raise ConfigError(item, "power_w", load.power_w, "a plug needs power_w > 0")
    if load.circuit is not None and load.circuit not in circuits:
        raise ConfigError(item, "circuit", load.circuit, "must name a known circuit")


def validate(site: Site, circuits: Sequence[Circuit], loads: Iterable[Load]) -> None:
    """Raise `ConfigError` for the first problem found; return None when all is well."""
    _validate_site(site)
    by_id = _validate_circuits(tuple(circuits))
    seen: set[str] = set()
    loads = tuple(loads)
    for load in loads:
        if load.id in seen:
            raise ConfigError(f"load '{load.id}'", "id", load.id, "must be unique among loads")
        seen.add(load.id)
        _validate_load(load, site, by_id)
    validate_units(tuple(circuits), loads)


def circuit_of_members(members: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Map each load id to the circuit whose `members` list names it.

    Config parsers use this when circuits list their loads; a load can hang on one breaker only,
    so a load listed by two circuits is an error rather than a silent last-one-wins.
    """
    for circuit_id, load_id, previous in member_conflicts(members):
        if previous != circuit_id:
            raise ConfigError(
                f"load '{load_id}'",
                "circuit",
                [previous, circuit_id],
                "a load can be a member of one circuit only",
            )
    return {load_id: circuit_id for circuit_id, ids in members.items() for load_id in ids}
