"""Short constructors for engine tests: defaults are a 3-phase 230 V site with a 25 A breaker."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from load_juggler.engine.allocate import allocate
from load_juggler.engine.model import (
    BatteryConfig,
    Circuit,
    Decision,
    Load,
    LoadKind,
    Mode,
    Site,
    Snapshot,
)

V = 230.0


def site(**kwargs: Any) -> Site:
    return Site(**kwargs)


def evse(load_id: str, **kwargs: Any) -> Load:
    return Load(id=load_id, kind=LoadKind.EVSE, **kwargs)


def one_phase(load_id: str, phase: str = "A", **kwargs: Any) -> Load:
    return Load(id=load_id, phases=1, phase_map=(phase,), **kwargs)


def plug(load_id: str, power_w: float, phase: str = "A", **kwargs: Any) -> Load:
    kwargs.setdefault("mode", Mode.CONTINUOUS)
    kwargs.setdefault("phases", 1)
    if kwargs["phases"] == 1:
        kwargs.setdefault("phase_map", (phase,))
    return Load(id=load_id, kind=LoadKind.PLUG, power_w=power_w, **kwargs)


def battery(**kwargs: Any) -> BatteryConfig:
    kwargs.setdefault("max_charge_w", 2070.0)
    kwargs.setdefault("max_discharge_w", 4140.0)
    return BatteryConfig(**kwargs)


def decide(
    the_site: Site,
    *loads: Load,
    circuits: tuple[Circuit, ...] = (),
    grid_a: tuple[float, ...] | None = None,
    **snapshot: Any,
) -> Decision:
    """Run the engine; `grid_a` defaults to no background at all when no house_a is given."""
    if grid_a is None and snapshot.get("house_a") is None:
        grid_a = tuple(0.0 for _ in range(the_site.phases))
    return allocate(
        Snapshot(site=the_site, loads=tuple(loads), circuits=circuits, grid_a=grid_a, **snapshot)
    )


def currents(decision: Decision) -> dict[str, float]:
    return {load_id: round(a.current_a, 6) for load_id, a in decision.loads.items()}


def reasons(decision: Decision) -> dict[str, str]:
    return {load_id: a.reason for load_id, a in decision.loads.items()}


__all__ = [
    "V",
    "battery",
    "currents",
    "decide",
    "evse",
    "one_phase",
    "plug",
    "reasons",
    "replace",
    "site",
]
