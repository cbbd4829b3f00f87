"""Trust only what a load was allowed (issue 8) and implausible readings (issue 15).

The user situations are replayed against the real engine and a tiny plant; the numbers in the
assertions are worked out by hand in the comments.
"""

from __future__ import annotations

import math

from load_juggler.engine.control_types import (
    ControlSettings,
    CycleResult,
    LoadReading,
    LoadState,
    Overload,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Load, LoadKind, Mode, Site

from .scripted import FAST, ScriptedEngine, car, make, readings
from .tinyplant import Device, TinyPlant, evse


def _heater(mode: Mode, priority: int = 5) -> Load:
    return Load(
        id="heater",
        kind=LoadKind.PLUG,
        mode=mode,
        priority=priority,
        phases=1,
        phase_map=("A",),
        power_w=2300.0,
        min_a=10.0,
        max_a=10.0,
    )


def _run(
    controller: Controller, plant: TinyPlant, start_s: float, cycles: int
) -> list[CycleResult]:
    results = []
    for n in range(cycles):
        result = controller.step(start_s + 5.0 * n, plant.readings())
        plant.apply(result.commands)
        results.append(result)
    return results


def test_a_plug_switched_on_by_hand_is_background_and_flagged_after_90_s() -> None:
    site = Site(phases=3, main_breaker_a=25.0)
    loads = (evse("car"), _heater(Mode.OFF))
    controller = Controller(SiteConfig(site=site, circuits=(), loads=loads))
    plant = TinyPlant(
        phases=3,
        house_a=[10.0, 10.0, 10.0],
        devices={ld.id: Device(ld) for ld in loads},
    )
    warm = _run(controller, plant, 0.0, 20)
    # 25 A breaker - 10 A house = 15 A, reached by the 1 A/cycle ramp from 6 A.
    assert warm[-1].commands["car"].current_a == 15.0
    assert plant.grid_a() == (25.0, 25.0, 25.0)

    plant.devices["heater"].on = True  # switched on by hand; we decided "off"
    result = controller.step(100.0, plant.readings())
    plant.apply(result.commands)
    # Phase A measures 10 + 10 + 15 = 35 A. The heater was commanded 0, so none of its 10 A is
    # its "own": background is 35 - 15 = 20 A, leaving 5 A < the car's 6 A minimum.
    assert result.status is SiteStatus.OVERLOAD
    assert result.overloads == (Overload("site", "A", 35.0, 25.0, 0.0),)
    assert result.warnings == ("measured overload: site phase A carries 35.0 A, limit 25.0 A",)
    car_cmd = result.commands["car"]
    assert (car_cmd.current_a, car_cmd.on, car_cmd.write) == (0.0, False, True)
    assert result.commands["heater"].state is LoadState.OFF  # not flagged at once

    later = _run(controller, plant, 105.0, 18)  # up to t = 190 s
    assert plant.grid_a() == (20.0, 10.0, 10.0)
    assert all(r.status is SiteStatus.OK and r.overloads == () for r in later)
    by_t = {r.now_s: r for r in later}
    assert by_t[185.0].commands["heater"].state is LoadState.OFF
    flagged = by_t[190.0].commands["heater"]  # excess since t = 100 s, 90 s ago
    assert flagged.state is LoadState.NOT_OBEYING
    assert flagged.reason == "draws 10.0 A, allowed 0.0 A"
    lines = [w for r in later for w in r.warnings]
    assert lines == [
        "load 'heater' does not obey its command: draws 10.0 A, allowed 0.0 A; "
        "the excess counts as house load"
    ]


def _lagging_site(tolerance_a: float) -> tuple[Controller, TinyPlant]:
    site = Site(phases=1, main_breaker_a=32.0)
    load = evse("car", phases=1, max_a=32.0)
    settings = ControlSettings(draw_tolerance_a=tolerance_a)
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(load,), settings=settings))
    plant = TinyPlant(phases=1, house_a=[10.0], devices={"car": Device(load)})
    warm = _run(controller, plant, 0.0, 30)
    assert warm[-1].commands["car"].current_a == 22.0  # 32 - 10
    return controller, plant


def test_a_lagging_charger_meter_cannot_hide_a_house_step_with_no_tolerance() -> None:
    controller, plant = _lagging_site(tolerance_a=0.0)
    plant.devices["car"].meter_every = 10**9  # the meter keeps showing 22 A for minutes
    plant.house_a = [15.5]
    step = controller.step(150.0, plant.readings())
    plant.apply(step.commands)
    # 37.5 A measured, the car's own 22 A subtracted: background 15.5, car cut to 16.5 A.
    assert step.commands["car"].current_a == 16.5
    after = _run(controller, plant, 155.0, 24)
    # The meter still says 22 A, but only the 16.5 A command is the car's own: the background
    # stays 32 - 16.5 = 15.5 A and the car stays at 16.5 A; the breaker carries exactly 32 A.
    assert [r.commands["car"].current_a for r in after] == [16.5] * 24
    assert plant.grid_a() == (32.0,)
    assert all(r.status is SiteStatus.OK for r in after)


def test_a_lagging_charger_meter_leaves_at_most_the_tolerance_for_at_most_two_cycles() -> None:
    controller, plant = _lagging_site(tolerance_a=1.0)
    plant.devices["car"].meter_every = 10**9
    plant.house_a = [15.5]
    grids = []
    for n in range(60):  # five minutes
        result = controller.step(150.0 + 5.0 * n, plant.readings())
        plant.apply(result.commands)
        grids.append(plant.grid_a()[0])
    # Without the rule the car crept back to 33-37.5 A. With it, at most the 1 A tolerance is
    # hidden, and the guard removes it on the second cycle that measures it.
    assert max(grids) <= 33.0
    run = longest = 0
    for amps in grids:
        run = run + 1 if amps > 32.0 + 1e-9 else 0
        longest = max(longest, run)
    assert longest <= 2


def test_the_guard_reaches_past_a_charger_that_ignores_its_profile() -> None:
    site = Site(phases=1, main_breaker_a=32.0)
    heater = _heater(Mode.CONTINUOUS, priority=1)
    car_load = evse("car", phases=1, max_a=32.0, priority=2)
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(heater, car_load)))
    plant = TinyPlant(
        phases=1, house_a=[5.0], devices={"heater": Device(heater), "car": Device(car_load)}
    )
    warm = _run(controller, plant, 0.0, 20)
    assert warm[-1].commands["car"].current_a == 17.0  # 32 - 5 - 10

    plant.devices["car"].stuck_a = 17.0  # from now on the charger ignores its profile
    plant.house_a = [9.0]
    first = controller.step(100.0, plant.readings())
    plant.apply(first.commands)
    # 9 + 10 + 17 = 36 A: background 9, car cut to 32 - 9 - 10 = 13 A (ignored).
    assert first.commands["car"].current_a == 13.0
    assert first.status is SiteStatus.OVERLOAD
    second = controller.step(105.0, plant.readings())
    plant.apply(second.commands)
    # Still 36 A. Only the car's 13 A command of its 17 A is trusted (above command + 1 A
    # tolerance the command counts): background 36 - 10 - 13 = 13, car 9 A. The guard (second
    # cycle) needs 4 A: the car, last served, would go to 9 - 4 = 5 A, below its 6 A min, so to
    # 0, but it ignores commands, so that is not counted on; the heater goes off (10 A).
    assert second.commands["car"].current_a == 0.0
    heater_cmd = second.commands["heater"]
    assert (heater_cmd.on, heater_cmd.write) == (False, True)
    assert heater_cmd.reason == "measured overload site phase A: 36.0/32.0 A"
    third = controller.step(110.0, plant.readings())
    plant.apply(third.commands)
    assert plant.grid_a() == (26.0,)  # 9 + 17
    assert third.status is SiteStatus.OK
    flagged = _run(controller, plant, 115.0, 18)[-1]  # t = 200 s: excess since 105 s
    assert flagged.commands["car"].state is LoadState.NOT_OBEYING
    assert flagged.commands["car"].reason.startswith("draws 17.0 A, allowed ")


def test_a_grid_meter_at_minus_100000_is_a_glitch_not_export() -> None:
    site = Site(phases=3, main_breaker_a=25.0)
    load = evse("car")
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(load,)))
    plant = TinyPlant(phases=3, house_a=[18.0, 18.0, 18.0], devices={"car": Device(load)})
    assert _run(controller, plant, 0.0, 4)[-1].commands["car"].current_a == 7.0  # 25 - 18
    garbage = []
    for n in range(5):
        result = controller.step(20.0 + 5.0 * n, plant.readings(grid_a=(-100000.0,) * 3))
        plant.apply(result.commands)
        garbage.append(result)
    assert [r.commands["car"].current_a for r in garbage] == [7.0] * 5
    assert all(r.status is SiteStatus.OK for r in garbage)
    first_lines = garbage[0].warnings
    assert len(first_lines) == 3
    assert first_lines[0] == (
        "grid phase A reading -100000.0 A is implausible (allowed -50.0..57.0 A with the "
        "managed loads' 7.0 A): treated as unavailable, last good value held"
    )
    assert all(r.warnings == () for r in garbage[1:])


def test_a_charger_reporting_1e6_a_per_line_is_held_not_subtracted() -> None:
    site = Site(phases=3, main_breaker_a=25.0)
    load = evse("car")
    controller = Controller(SiteConfig(site=site, circuits=(), loads=(load,)))
    plant = TinyPlant(phases=3, house_a=[19.0, 19.0, 19.0], devices={"car": Device(load)})
    assert _run(controller, plant, 0.0, 3)[-1].commands["car"].current_a == 6.0  # 25 - 19
    results = []
    for n in range(4):
        bad = plant.readings()
        bad.loads["car"] = LoadReading(draw_a=(1e6, 1e6, 1e6))
        result = controller.step(15.0 + 5.0 * n, bad)
        plant.apply(result.commands)
        results.append(result)
    assert [r.commands["car"].current_a for r in results] == [6.0] * 4
    assert len(results[0].warnings) == 1
    assert (
        results[0]
        .warnings[0]
        .startswith("load 'car' draw reading [1000000.0, 1000000.0, 1000000.0] A is implausible")
    )
    assert all(r.warnings == () for r in results[1:])


def test_a_normal_cut_seen_through_a_once_a_minute_meter_is_not_disobedience() -> None:
    controller, plant = _lagging_site(tolerance_a=1.0)
    plant.devices["car"].meter_every = 12  # refreshes every 60 s
    plant.house_a = [15.5]
    results = _run(controller, plant, 150.0, 40)
    assert all(r.commands["car"].state is not LoadState.NOT_OBEYING for r in results)
    assert not any("does not obey" in w for r in results for w in r.warnings)


def test_draw_above_the_command_is_trusted_only_up_to_the_tolerance() -> None:
    controller, engine = make(
        car(mode=Mode.CONTINUOUS), engine=ScriptedEngine(room_a={"car": 10.0}), settings=FAST
    )
    controller.step(0.0, readings(car=LoadReading(draw_a=(0.0, 0.0, 0.0))))  # start at 6
    result = controller.step(5.0, readings(car=LoadReading(draw_a=(6.0, 6.0, 6.0))))
    assert result.commands["car"].current_a == 10.0
    controller.step(10.0, readings(car=LoadReading(draw_a=(12.0, 10.8, 9.0))))
    # Commanded 10 A, tolerance 1 A: 12 is above 10 + 1, so only the 10 A command counts;
    # 10.8 is within the tolerance (meter error) and counts as measured.
    assert engine.last.loads[0].draw_a == (10.0, 10.8, 9.0)


def test_a_load_commanded_0_gets_no_tolerance() -> None:
    controller, engine = make(car(mode=Mode.OFF), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(draw_a=(0.0, 0.0, 0.0))))
    controller.step(5.0, readings(car=LoadReading(draw_a=(0.8, 3.0, 0.0))))
    assert engine.last.loads[0].draw_a == (0.0, 0.0, 0.0)


def test_before_the_first_write_a_load_is_trusted_up_to_its_max() -> None:
    controller, engine = make(car(mode=Mode.OFF), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(draw_a=(20.0, 16.0, 3.0))))
    # Trusted up to its max 16 A: 20 is beyond max + 1 A tolerance, so 16 counts.
    assert engine.calls[0].loads[0].draw_a == (16.0, 16.0, 3.0)


def test_a_negative_draw_counts_as_no_draw() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(draw_a=(-3.0, 6.0, -0.2))))
    assert engine.last.loads[0].draw_a == (0.0, 6.0, 0.0)


def test_a_hugely_negative_draw_is_a_glitch_held_not_no_draw() -> None:
    # -1e9 A is no reversed clamp: taken as 0 the car's own 6 A would look like house load.
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(draw_a=(6.0, 6.0, 6.0))))
    result = controller.step(5.0, readings(car=LoadReading(draw_a=(-1e9, 6.0, 6.0))))
    assert engine.last.loads[0].draw_a == (6.0, 6.0, 6.0)
    assert [w for w in result.warnings if "implausible" in w] == [
        "load 'car' draw reading [-1000000000.0, 6.0, 6.0] A is implausible (allowed "
        "-22.0..22.0 A per phase): held like an unknown draw"
    ]


def test_an_unknown_draw_keeps_the_last_valid_value_for_the_stale_timeout() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(draw_a=(6.0, 6.0, 6.0))))
    for t in (5.0, 30.0, 55.0):
        controller.step(t, readings(car=LoadReading(draw_a=(math.nan, 6.0, "unknown"))))  # type: ignore[arg-type]
        assert engine.last.loads[0].draw_a == (6.0, 6.0, 6.0)
    controller.step(60.0, readings(car=LoadReading(draw_a=None)))  # 60 s since the last value
    assert engine.last.loads[0].draw_a is None
