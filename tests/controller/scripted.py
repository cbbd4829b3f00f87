"""A scripted stand-in for `allocate`, so time rules can be tested against exact engine answers.

The real engine's numbers depend on physics and strategies; the controller's rules only depend
on what the engine answered. `ScriptedEngine` answers `offer_a` for a load in its own mode and
honours `room_a` (the physical room, e.g. a breaker) in every mode, including the run with a
held load (at its min, from any source) the controller makes to check a hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    Readings,
    SiteConfig,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import (
    Decision,
    Load,
    LoadAllocation,
    LoadKind,
    Mode,
    Site,
    Snapshot,
)


@dataclass
class ScriptedEngine:
    offer_a: dict[str, float] = field(default_factory=dict)
    room_a: dict[str, float] = field(default_factory=dict)
    fail: bool = False
    calls: list[Snapshot] = field(default_factory=list)

    def __call__(self, snapshot: Snapshot) -> Decision:
        self.calls.append(snapshot)
        if self.fail:
            raise RuntimeError("scripted engine failure")
        allocations = {}
        no_reading = snapshot.grid_a is None and snapshot.house_a is None
        for load in snapshot.loads:
            room = self.room_a.get(load.id, math.inf)
            if no_reading:  # like the real engine: every phase assumed at the breaker
                amps, reason = 0.0, "no grid reading"
            elif load.mode is Mode.OFF or not load.connected:
                amps, reason = 0.0, "mode off"
            elif load.mode is Mode.CONTINUOUS or load.held:
                amps, reason = min(load.max_a, room), "continuous"
            else:
                amps, reason = (
                    min(self.offer_a.get(load.id, 0.0), load.max_a, room),
                    "solar surplus",
                )
            if amps < load.min_a - 1e-9:
                amps, reason = 0.0, "below min current (site.A)"
            allocations[load.id] = LoadAllocation(
                id=load.id, current_a=amps, on=amps > 0, reason=reason
            )
        return Decision(
            loads=allocations,
            nodes={},
            background_a=(0.0, 0.0, 0.0),
            surplus_w=0.0,
            solar_pool_w=0.0,
            import_w=0.0,
        )

    @property
    def last(self) -> Snapshot:
        return self.calls[-1]


FAST = ControlSettings(
    start_delay_s=0.0, stop_delay_s=0.0, min_on_s=0.0, min_off_s=0.0, ramp_up_a_per_s=100.0
)


def car(load_id: str = "car", mode: Mode = Mode.SOLAR_ONLY, **kwargs: object) -> Load:
    return Load(id=load_id, kind=LoadKind.EVSE, mode=mode, min_a=6.0, max_a=16.0, **kwargs)  # type: ignore[arg-type]


def boiler(load_id: str = "boiler", mode: Mode = Mode.EXCESS) -> Load:
    return Load(
        id=load_id,
        kind=LoadKind.PLUG,
        mode=mode,
        phases=1,
        phase_map=("B",),
        power_w=2000.0,
        min_a=2000.0 / 230.0,
        max_a=2000.0 / 230.0,
    )


def make(
    *loads: Load, settings: ControlSettings | None = None, engine: ScriptedEngine | None = None
) -> tuple[Controller, ScriptedEngine]:
    engine = engine or ScriptedEngine()
    plant = SiteConfig(
        site=Site(), circuits=(), loads=loads, settings=settings or ControlSettings()
    )
    return Controller(plant, allocate_fn=engine), engine


def readings(
    grid_a: tuple[float | None, ...] | None = (1.0, 1.0, 1.0),
    **loads: LoadReading,
) -> Readings:
    return Readings(grid_a=grid_a, solar_w=0.0, loads=dict(loads))


def connected(**kwargs: object) -> LoadReading:
    return LoadReading(**kwargs)  # type: ignore[arg-type]
