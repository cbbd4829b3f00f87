"""The controller's deadline, price and capacity parts, one cycle at a time.

3-phase car, 25 A breaker, 230 V: a 3-phase amp is 690 W. Timers and ramps are off (`FAST`),
so after a start (at min, one cycle) a command is the engine's allocation.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    Readings,
    SiteConfig,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.deadline import ChargeGoal, PriceSlot
from load_juggler.engine.model import Load, Mode, Site

FAST = ControlSettings(
    smoothing_alpha=1.0,
    ramp_up_a_per_s=1000.0,
    start_delay_s=0.0,
    stop_delay_s=0.0,
    min_on_s=0.0,
    min_off_s=0.0,
)


def controller(mode: Mode, settings: ControlSettings = FAST) -> Controller:
    car = Load(id="car", mode=mode, min_a=6.0, max_a=16.0)
    return Controller(SiteConfig(site=Site(), circuits=(), loads=(car,), settings=settings))


def reading(goal: ChargeGoal | None, mode: Mode, grid_a: float = 1.0) -> Readings:
    return Readings(
        grid_a=(grid_a, grid_a, grid_a),
        voltage_v=230.0,
        loads={"car": LoadReading(draw_a=(0.0, 0.0, 0.0), mode=mode, goal=goal)},
    )


def amps(ctl: Controller, now_s: float, readings: Readings) -> float:
    command = ctl.step(now_s, readings).commands["car"]
    return command.current_a if command.on else 0.0


def settled(ctl: Controller, now_s: float, readings: Readings) -> float:
    """The command of the cycle after `now_s` (a start is at min for one cycle)."""
    amps(ctl, now_s, readings)
    return amps(ctl, now_s + 5.0, readings)


@pytest.mark.parametrize(
    ("price", "expected_a"),
    [(0.05, 16.0), (0.10, 16.0), (-0.2, 16.0), (0.11, 6.0)],
)
def test_a_price_at_or_below_max_price_lets_solar_priority_take_the_grid(price, expected_a):
    # No sun: solar_priority holds its 6 A minimum, unless the price allows continuous (16 A).
    goal = ChargeGoal(prices=(PriceSlot(0.0, 3600.0, price),), max_price=0.10)
    ctl = controller(Mode.SOLAR_PRIORITY)
    assert settled(ctl, 100.0, reading(goal, Mode.SOLAR_PRIORITY)) == expected_a


def test_outside_the_price_series_the_mode_is_its_own():
    goal = ChargeGoal(prices=(PriceSlot(0.0, 3600.0, 0.0),), max_price=0.10)
    ctl = controller(Mode.SOLAR_PRIORITY)
    assert settled(ctl, 4000.0, reading(goal, Mode.SOLAR_PRIORITY)) == 6.0


def test_a_deadline_starts_at_the_latest_start_and_keeps_running_once_started():
    # Rating 11040 W (first cycle), planned 9936 W: 9936 Wh take 3600 s, + 600 s margin:
    # the latest start for 07:00 (25200 s) is 21000 s.
    ctl = controller(Mode.SOLAR_ONLY)
    goal = ChargeGoal(ready_by_s=25200.0, energy_wh=9936.0)
    assert amps(ctl, 20990.0, reading(goal, Mode.SOLAR_ONLY)) == 0.0
    assert settled(ctl, 21000.0, reading(goal, Mode.SOLAR_ONLY)) == 16.0
    # The car took more than planned: 9000 Wh left would let it wait again (latest start
    # 25200 - 3260.9 - 600 = 21339 s), but a started deadline runs until its goal is met.
    later = replace(goal, energy_wh=9000.0)
    assert amps(ctl, 21010.0, reading(later, Mode.SOLAR_ONLY)) == 16.0
    # Met: the load is back in its own mode (no sun: off).
    done = replace(goal, energy_wh=0.0)
    assert amps(ctl, 21020.0, reading(done, Mode.SOLAR_ONLY)) == 0.0


def test_a_deadline_never_overrides_off():
    ctl = controller(Mode.OFF)
    goal = ChargeGoal(ready_by_s=3600.0, energy_wh=50000.0)
    result = ctl.step(0.0, reading(goal, Mode.OFF))
    assert not result.commands["car"].on
    assert result.plans["car"].miss_s > 0


@pytest.mark.parametrize(("limit_w", "expected_a"), [(10000.0, 13.0), (5000.0, 6.0)])
def test_the_capacity_limit_caps_the_import(limit_w, expected_a):
    # First sample of a window: the whole window left, aiming at 97 % of the limit. House
    # 1 A per phase = 690 W: 10000 -> 9700 - 690 = 9010 W = 13.06 A -> 13.0 A;
    # 5000 -> 4850 - 690 = 4160 W = 6.03 A -> 6.0 A.
    ctl = controller(Mode.CONTINUOUS, replace(FAST, capacity_limit_w=limit_w))
    result = ctl.step(0.0, reading(None, Mode.CONTINUOUS))
    assert result.decision is not None
    assert result.decision.loads["car"].current_a == expected_a
    assert result.decision.loads["car"].reason == "import cap"
    assert result.capacity is not None and result.capacity.cap_w == pytest.approx(limit_w * 0.97)


def test_without_the_capacity_limit_the_car_takes_its_max():
    assert settled(controller(Mode.CONTINUOUS), 0.0, reading(None, Mode.CONTINUOUS)) == 16.0


def test_an_overspent_window_allows_no_grid_import_for_the_loads():
    ctl = controller(Mode.CONTINUOUS, replace(FAST, capacity_limit_w=2000.0))
    ctl.step(0.0, reading(None, Mode.CONTINUOUS, grid_a=10.0))
    # 10 A x 3 x 230 = 6900 W for 300 s: 2070000 Ws, more than 1940 W x 900 s = 1746000.
    # The breaker alone would leave 15 A.
    assert settled(ctl, 300.0, reading(None, Mode.CONTINUOUS, grid_a=10.0)) == 0.0
    free = controller(Mode.CONTINUOUS)
    assert settled(free, 300.0, reading(None, Mode.CONTINUOUS, grid_a=10.0)) == 15.0
