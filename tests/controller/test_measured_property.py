"""Property tests of what the meters measure, over random sites and a tiny plant (issue 8).

1. On random sites, some with a metered sub-panel, with random meter lag per load, plugs
   switched on by hand and chargers that ignore their profile, no measured overload lasts
   longer than the guard allows (one cycle, or the grace), except while what we cannot
   control (house, plugs on by hand, stuck chargers) is alone above the breaker; and the
   status is never `ok` while a measured phase is above its limit. A reading above twice the
   breaker is a glitch to the controller (`plausible`), not a measurement: a real breaker
   would have tripped within seconds.
2. A cycle whose only change is a garbage reading (huge, negative, NaN, a string) on the grid,
   battery, solar or a load's draw never raises a load: each command stays at or below both
   the previous cycle's and what the same cycle with the last clean reading repeated gives,
   whichever is higher (a ramp may go on; garbage must not add to it). Per load, since a
   clean reading may hand room to a higher priority load that garbage leaves where it was.

Plant events (house steps, manual switching) happen every `EVENT_EVERY` cycles, so that an
overload counted here has one cause; a new event starts a new overload. Chargers that ignore
their profile do so from the start; switching by hand turns a plug on (the dangerous way).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    Readings,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import SITE_PHASES, Circuit, Load, LoadKind, Mode, Site
from load_juggler.engine.plausible import BREAKER_GLITCH_FACTOR

from .tinyplant import Device, TinyPlant

STEP_S = 5.0
CYCLES = 48
EVENT_EVERY = 8


@dataclass(frozen=True)
class Case:
    site: Site
    loads: tuple[Load, ...]
    grace_s: float | None
    meter_every: tuple[int, ...]
    stuck_a: tuple[float | None, ...]
    house_a: tuple[tuple[float, ...], ...]  # one per event
    manual: tuple[int | None, ...]  # per event: index of a plug switched on by hand
    sub_limit_a: float | None = None  # a metered sub-panel "sub", when not None
    sub_share: float = 0.0  # the part of the house behind the sub-panel


@st.composite
def cases(draw: st.DrawFn) -> Case:
    phases = draw(st.sampled_from((1, 3)))
    breaker_a = draw(st.sampled_from((16.0, 20.0, 25.0, 32.0, 40.0)))
    site = Site(phases=phases, main_breaker_a=breaker_a)
    names = SITE_PHASES[:phases]
    loads: list[Load] = []
    stuck: list[float | None] = []
    sub_limit_a = draw(st.sampled_from((None, 10.0, 16.0, 20.0)))
    for n in range(draw(st.integers(1, 4))):
        mode = draw(st.sampled_from((Mode.CONTINUOUS, Mode.SOLAR_PRIORITY)))
        priority = draw(st.integers(1, 3))
        circuit = "sub" if sub_limit_a is not None and draw(st.booleans()) else None
        if draw(st.booleans()):
            load_phases = draw(st.sampled_from((1, phases)))
            first = draw(st.sampled_from(names))
            phase_map = (first,) if load_phases == 1 else names
            max_a = draw(st.sampled_from((10.0, 16.0, 32.0)))
            loads.append(
                Load(
                    id=f"ev{n}",
                    kind=LoadKind.EVSE,
                    mode=mode,
                    priority=priority,
                    phases=load_phases,
                    phase_map=phase_map,
                    min_a=6.0,
                    max_a=max_a,
                    circuit=circuit,
                )
            )
            ignores = draw(st.integers(0, 4)) == 0
            stuck.append(draw(st.sampled_from((8.0, max_a))) if ignores else None)
        else:
            power_w = draw(st.sampled_from((1150.0, 2300.0, 3450.0)))
            loads.append(
                Load(
                    id=f"plug{n}",
                    kind=LoadKind.PLUG,
                    mode=mode,
                    priority=priority,
                    phases=1,
                    phase_map=(draw(st.sampled_from(names)),),
                    power_w=power_w,
                    min_a=power_w / 230.0,
                    max_a=power_w / 230.0,
                    circuit=circuit,
                )
            )
            stuck.append(None)
    events = CYCLES // EVENT_EVERY
    house = tuple(
        tuple(draw(st.floats(0.0, breaker_a * 1.2)) for _ in names) for _ in range(events)
    )
    plugs = [i for i, ld in enumerate(loads) if ld.kind is LoadKind.PLUG]
    manual = tuple(
        draw(st.sampled_from(plugs)) if plugs and draw(st.integers(0, 3)) == 0 else None
        for _ in range(events)
    )
    return Case(
        site=site,
        loads=tuple(loads),
        grace_s=draw(st.sampled_from((None, 0.0, 5.0, 10.0))),
        meter_every=tuple(draw(st.integers(1, 12)) for _ in loads),
        stuck_a=tuple(stuck),
        house_a=house,
        manual=manual,
        sub_limit_a=sub_limit_a,
        sub_share=draw(st.sampled_from((0.0, 0.25, 0.5))),
    )


def _setup(case: Case) -> tuple[Controller, TinyPlant]:
    settings = ControlSettings(overload_grace_s=case.grace_s)
    circuits = () if case.sub_limit_a is None else (Circuit(id="sub", limit_a=case.sub_limit_a),)
    controller = Controller(
        SiteConfig(site=case.site, circuits=circuits, loads=case.loads, settings=settings)
    )
    devices = {
        ld.id: Device(ld, meter_every=every, stuck_a=stuck)
        for ld, every, stuck in zip(case.loads, case.meter_every, case.stuck_a, strict=True)
    }
    plant = TinyPlant(
        phases=case.site.phases,
        house_a=list(case.house_a[0]),
        devices=devices,
        circuits={"sub": tuple(ld.id for ld in case.loads if ld.circuit == "sub")},
    )
    return controller, plant


def _sub_house_a(case: Case, plant: TinyPlant) -> tuple[float, ...]:
    return tuple(amps * case.sub_share for amps in plant.house_a)


def _readings(case: Case, plant: TinyPlant) -> Readings:
    if case.sub_limit_a is None:
        return plant.readings()
    return plant.readings(circuit_a={"sub": plant.circuit_a("sub", _sub_house_a(case, plant))})


def _event(case: Case, plant: TinyPlant, cycle: int) -> None:
    index = cycle // EVENT_EVERY
    plant.house_a = list(case.house_a[index])
    manual = case.manual[index]
    if manual is not None:
        plant.devices[case.loads[manual].id].on = True


def _uncontrolled_a(
    plant: TinyPlant,
    written_on: dict[str, bool],
    house_a: Sequence[float],
    members: Collection[str] | None = None,
) -> list[float]:
    """House plus the draw of what ignores us: stuck chargers and plugs on against an off."""
    total = list(house_a)
    index = {p: i for i, p in enumerate(SITE_PHASES[: plant.phases])}
    for device_id, device in plant.devices.items():
        if members is not None and device_id not in members:
            continue
        if device.stuck_a is None and not (device.on and not written_on.get(device_id, False)):
            continue
        for phase, amps in zip(device.load.site_phases, device.draw_a(230.0), strict=True):
            total[index[phase]] += amps
    return total


def _allowed_cycles(grace_s: float | None) -> int:
    """Consecutive cycles an overload may be measured: the guard cuts on the last of them."""
    if grace_s is None:
        return 2
    return 1 + math.ceil(grace_s / STEP_S)


#: Issue 8's once-a-minute charger meter: the car is cut after a house step while its meter
#: still shows the old current; only the guard removes the tolerance it leaves hidden.
LAGGING_METER = Case(
    site=Site(phases=1, main_breaker_a=32.0),
    loads=(
        Load(id="ev0", mode=Mode.CONTINUOUS, phases=1, phase_map=("A",), min_a=6.0, max_a=32.0),
    ),
    grace_s=None,
    meter_every=(12,),
    stuck_a=(None,),
    house_a=((10.0,),) * 3 + ((15.5,),) * 3,
    manual=(None,) * 6,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
@example(LAGGING_METER)
def test_no_measured_overload_outlasts_the_guard(case: Case) -> None:
    controller, plant = _setup(case)
    written_on: dict[str, bool] = {}
    run: dict[tuple[str, int], int] = {}
    for cycle in range(CYCLES):
        if cycle % EVENT_EVERY == 0:
            _event(case, plant, cycle)
            run = {}  # a new cause is a new overload
        readings = _readings(case, plant)
        result = controller.step(cycle * STEP_S, readings)
        assert readings.grid_a is not None
        nodes = [
            (
                "site",
                readings.grid_a,
                case.site.main_breaker_a,
                _uncontrolled_a(plant, written_on, plant.house_a),
            )
        ]
        if case.sub_limit_a is not None:
            members = plant.circuits["sub"]
            sub_house = _sub_house_a(case, plant)
            nodes.append(
                (
                    "sub",
                    readings.circuit_a["sub"],  # type: ignore[arg-type]
                    case.sub_limit_a,
                    _uncontrolled_a(plant, written_on, sub_house, members),
                )
            )
        for node, measured, limit_a, uncontrolled in nodes:
            for i, amps in enumerate(measured):
                assert amps is not None
                key = (node, i)
                if amps > BREAKER_GLITCH_FACTOR * limit_a:
                    # Not a measurement for the controller (a breaker trips within seconds).
                    run[key] = 0
                    continue
                over = amps > limit_a + 1e-6
                if over:
                    assert result.status is SiteStatus.OVERLOAD, (cycle, node, measured)
                if not over or uncontrolled[i] > limit_a + 1e-6:
                    run[key] = 0
                    continue
                run[key] = run.get(key, 0) + 1
                assert run[key] <= _allowed_cycles(case.grace_s), (cycle, node, measured)
        for load_id, command in result.commands.items():
            if command.write:
                written_on[load_id] = command.on
        plant.apply(result.commands)


GARBAGE = (1e9, -1e9, -100000.0, math.nan, math.inf, "garbage")


def _with_garbage(readings: Readings, target: str, value: object, load_id: str) -> Readings:
    if target == "grid":
        assert readings.grid_a is not None
        return replace(readings, grid_a=(value, *readings.grid_a[1:]))  # type: ignore[arg-type]
    if target == "solar":
        return replace(readings, solar_w=value)  # type: ignore[arg-type]
    if target == "battery":
        return replace(readings, battery_power_w=value)  # type: ignore[arg-type]
    loads = dict(readings.loads)
    previous = loads[load_id]
    phases = len(previous.draw_a or (0.0,))
    loads[load_id] = LoadReading(draw_a=tuple(value for _ in range(phases)))  # type: ignore[misc]
    return replace(readings, loads=loads)


def _amps(result_commands: dict, load_id: str) -> float:  # type: ignore[type-arg]
    command = result_commands[load_id]
    return command.current_a if command.on else 0.0


#: A grid glitch while the background filter is still falling after a load meter caught up
#: (ev1's meter refreshes every 11 cycles). Holding the filtered background left less room in
#: total than the last sample repeated (10.5 A against 12.25 A), yet more for ev1: with less
#: room neither 5 A plug fits, so ev1 took it all and ramped 8 -> 9 A, where the clean repeat
#: offers a plug 5 A (left unused: min off time) and ev1 7.2 A. Less room in total is not less
#: for every load.
HELD_BACKGROUND = (
    Case(
        site=Site(phases=1, main_breaker_a=20.0),
        loads=(
            Load(
                id="plug0",
                kind=LoadKind.PLUG,
                mode=Mode.CONTINUOUS,
                priority=1,
                phases=1,
                phase_map=("A",),
                power_w=1150.0,
                min_a=5.0,
                max_a=5.0,
            ),
            Load(
                id="ev1",
                mode=Mode.CONTINUOUS,
                priority=1,
                phases=1,
                phase_map=("A",),
                min_a=6.0,
                max_a=10.0,
            ),
            Load(
                id="plug2",
                kind=LoadKind.PLUG,
                mode=Mode.CONTINUOUS,
                priority=1,
                phases=1,
                phase_map=("A",),
                power_w=1150.0,
                min_a=5.0,
                max_a=5.0,
            ),
        ),
        grace_s=None,
        meter_every=(1, 11, 1),
        stuck_a=(None, None, None),
        house_a=((4.0,), (1.0,), (0.0,), (0.0,), (0.0,), (0.0,)),
        manual=(0, 0, None, None, None, None),
        sub_limit_a=10.0,
        sub_share=0.0,
    ),
    [(12, "grid", 1e9, 0)],
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cases(),
    st.lists(
        st.tuples(
            st.integers(1, CYCLES - 1),
            st.sampled_from(("grid", "solar", "battery", "load")),
            st.sampled_from(GARBAGE),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=8,
    ),
)
@example(*HELD_BACKGROUND)
def test_a_garbage_reading_never_raises_a_load(
    case: Case, garbage: list[tuple[int, str, object, int]]
) -> None:
    controller, plant = _setup(case)
    when = {cycle: (target, value, n) for cycle, target, value, n in garbage}
    last_clean: Readings | None = None
    previous: dict = {}  # type: ignore[type-arg]
    for cycle in range(CYCLES):
        now_s = cycle * STEP_S
        if cycle in when and last_clean is not None:
            target, value, n = when[cycle]
            load_id = case.loads[n % len(case.loads)].id
            twin = copy.deepcopy(controller)
            clean = twin.step(now_s, last_clean)
            dirty = controller.step(now_s, _with_garbage(last_clean, target, value, load_id))
            for ld in case.loads:
                allowed_a = max(_amps(previous, ld.id), _amps(clean.commands, ld.id))
                assert _amps(dirty.commands, ld.id) <= allowed_a + 1e-9, (
                    cycle,
                    target,
                    value,
                    ld.id,
                )
            plant.apply(dirty.commands)
            previous = dirty.commands
            continue
        if cycle % EVENT_EVERY == 0:
            _event(case, plant, cycle)
        last_clean = replace(_readings(case, plant), battery_power_w=0.0)
        result = controller.step(now_s, last_clean)
        plant.apply(result.commands)
        previous = result.commands
