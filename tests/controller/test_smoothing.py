"""Sensor filtering: bad samples are ignored, grid rises are never hidden."""

from __future__ import annotations

import math

import pytest

from load_juggler.engine.control_types import LoadReading, Readings
from load_juggler.engine.model import Mode
from load_juggler.engine.smoothing import Ema, RiseFirstEma, finite_or_none

from .scripted import car, make, readings


@pytest.mark.parametrize(
    "raw", [None, math.nan, math.inf, -math.inf, "unavailable", "unknown", "", True, [1.0]]
)
def test_unusable_samples_are_none(raw: object) -> None:
    assert finite_or_none(raw) is None


def test_numbers_and_numeric_strings_are_kept() -> None:
    assert finite_or_none("12.5") == 12.5
    assert finite_or_none(-3) == -3.0


def test_ema_averages_and_holds_through_bad_samples() -> None:
    ema = Ema(alpha=0.5)
    assert ema.update(None) is None
    assert ema.update(10.0) == 10.0
    assert ema.update(20.0) == 15.0
    for bad in (math.nan, math.inf, None, "unknown"):
        assert ema.update(bad) == 15.0
    assert ema.update(5.0) == 10.0


def test_rise_first_ema_follows_a_rise_at_once_and_a_fall_slowly() -> None:
    ema = RiseFirstEma(alpha=0.5)
    ema.update(10.0)
    assert ema.update(20.0) == 20.0
    assert ema.update(0.0) == 10.0
    assert ema.update(0.0) == 5.0
    assert ema.update(math.nan) == 5.0
    assert ema.update(7.0) == 7.0


def test_controller_passes_a_grid_rise_unsmoothed_and_smooths_a_fall() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    controller.step(0.0, readings((5.0, 5.0, 5.0)))
    assert engine.last.grid_a == (5.0, 5.0, 5.0)
    controller.step(5.0, readings((15.0, 9.0, 5.0)))
    assert engine.last.grid_a == (15.0, 9.0, 5.0)
    controller.step(10.0, readings((5.0, 5.0, 5.0)))
    assert engine.last.grid_a == (10.0, 7.0, 5.0)


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf])
def test_controller_holds_the_last_grid_value_on_a_bad_sample(bad: float | None) -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    controller.step(0.0, readings((8.0, 6.0, 4.0)))
    controller.step(5.0, readings((bad, 6.0, bad)))
    assert engine.last.grid_a == (8.0, 6.0, 4.0)
    controller.step(10.0, readings(None))
    assert engine.last.grid_a == (8.0, 6.0, 4.0)


def test_bad_solar_battery_and_voltage_samples_hold_their_last_value() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    controller.step(
        0.0,
        Readings(grid_a=(1.0, 1.0, 1.0), solar_w=3000.0, battery_power_w=500.0, voltage_v=240.0),
    )
    controller.step(
        5.0,
        Readings(
            grid_a=(1.0, 1.0, 1.0), solar_w=math.nan, battery_power_w=None, voltage_v=math.inf
        ),
    )
    assert engine.last.solar_w == 3000.0
    assert engine.last.battery_power_w == 500.0
    assert engine.last.site.voltage_v == 240.0


def test_the_loads_own_draw_is_not_smoothed() -> None:
    """A car cut from 16 A to 6 A must not look like 10 A of house load for several cycles."""
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    controller.step(0.0, readings((20.0, 20.0, 20.0), car=LoadReading(draw_a=(16.0, 16.0, 16.0))))
    controller.step(5.0, readings((10.0, 10.0, 10.0), car=LoadReading(draw_a=(6.0, 6.0, 6.0))))
    # Background stayed 4 A; the engine gets background + this cycle's draw.
    assert engine.last.grid_a == (10.0, 10.0, 10.0)
    assert engine.last.loads[0].draw_a == (6.0, 6.0, 6.0)


def test_a_bad_load_draw_becomes_unknown() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    controller.step(0.0, readings(car=LoadReading(draw_a=(6.0, math.nan, 6.0))))
    assert engine.last.loads[0].draw_a is None
