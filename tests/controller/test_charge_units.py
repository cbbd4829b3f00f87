"""A charger with two plugs through the controller and the real engine: cars come and go.

3-phase 230 V site, 25 A main breaker, 1 A of house per phase; both plugs 6..16 A, 3-phase.
"""

from __future__ import annotations

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    LoadState,
    Readings,
    SiteConfig,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import ChargeUnit, Load, LoadKind, Mode, Site

SETTINGS = ControlSettings(
    smoothing_alpha=1.0,
    start_delay_s=0.0,
    stop_delay_s=0.0,
    min_on_s=60.0,
    min_off_s=0.0,
    ramp_up_a_per_s=100.0,
)


def plug(load_id: str, unit: ChargeUnit, priority: int, mode: Mode = Mode.CONTINUOUS) -> Load:
    return Load(
        id=load_id,
        kind=LoadKind.EVSE,
        mode=mode,
        priority=priority,
        min_a=6.0,
        max_a=16.0,
        unit=unit,
    )


def controller(unit: ChargeUnit, right_mode: Mode = Mode.CONTINUOUS) -> Controller:
    loads = (plug("left", unit, 1), plug("right", unit, 2, right_mode))
    return Controller(SiteConfig(site=Site(), circuits=(), loads=loads, settings=SETTINGS))


def step(
    ctl: Controller, t: float, left: bool, right: bool, modes: dict[str, Mode] | None = None
) -> dict[str, tuple]:
    """One cycle with the given cars plugged in; (amps, state, reason) per plug."""
    modes = modes or {}
    loads = {
        name: LoadReading(connected=there, drawing=there, mode=modes.get(name))
        for name, there in (("left", left), ("right", right))
    }
    result = ctl.step(t, Readings(grid_a=(1.0, 1.0, 1.0), solar_w=0.0, loads=loads))
    return {
        name: (c.current_a if c.on else 0.0, c.state, c.reason)
        for name, c in result.commands.items()
    }


def test_sequential_unit_two_cars_arriving_and_leaving() -> None:
    ctl = controller(ChargeUnit("twin", max_a=16.0))
    # right's car arrives first and takes the unit (a start begins at min, then ramps).
    out = step(ctl, 0.0, left=False, right=True)
    assert out["right"][:2] == (6.0, LoadState.CHARGING)
    assert out["left"][1] is LoadState.DISCONNECTED
    # left (better priority) arrives: it waits, right keeps the unit for its whole session.
    for t in (5.0, 10.0, 600.0):
        out = step(ctl, t, left=True, right=True)
        assert out["right"][:2] == (16.0, LoadState.CHARGING)
        assert out["left"] == (0.0, LoadState.WAITING_FOR_UNIT, "waiting for unit: right holds it")
    # right's car leaves: left's turn in the same cycle.
    out = step(ctl, 605.0, left=True, right=False)
    assert out["left"][:2] == (6.0, LoadState.CHARGING)
    assert out["right"][1] is LoadState.DISCONNECTED
    # right's next car waits behind left.
    out = step(ctl, 610.0, left=True, right=True)
    assert out["left"][0] == 16.0
    assert out["right"][:2] == (0.0, LoadState.WAITING_FOR_UNIT)


def test_sequential_unit_swaps_to_a_more_urgent_mode_after_the_min_on_time() -> None:
    ctl = controller(ChargeUnit("twin", max_a=16.0), right_mode=Mode.SOLAR_PRIORITY)
    # No sun: solar_priority runs at its 6 A min, from the grid.
    out = step(ctl, 0.0, left=False, right=True)
    assert out["right"][:2] == (6.0, LoadState.CHARGING)
    # left arrives in continuous (more urgent): right keeps the unit through its 60 s min on.
    out = step(ctl, 5.0, left=True, right=True)
    assert out["right"][0] == 6.0
    assert out["left"][:2] == (0.0, LoadState.WAITING_FOR_UNIT)
    out = step(ctl, 55.0, left=True, right=True)
    assert out["left"][:2] == (0.0, LoadState.WAITING_FOR_UNIT)
    # 60 s on: the unit goes to the more urgent car, right is cut in the same cycle.
    out = step(ctl, 60.0, left=True, right=True)
    assert out["left"][:2] == (6.0, LoadState.CHARGING)
    assert out["right"] == (0.0, LoadState.WAITING_FOR_UNIT, "waiting for unit: left holds it")
    out = step(ctl, 65.0, left=True, right=True)
    assert out["left"][0] == 16.0


def test_a_live_mode_change_to_off_hands_the_unit_on() -> None:
    ctl = controller(ChargeUnit("twin", max_a=16.0))
    out = step(ctl, 0.0, left=True, right=True)
    assert out["left"][0] == 6.0
    assert out["right"][1] is LoadState.WAITING_FOR_UNIT
    out = step(ctl, 5.0, left=True, right=True, modes={"left": Mode.OFF})
    assert out["left"][:2] == (0.0, LoadState.OFF)
    assert out["right"][:2] == (6.0, LoadState.CHARGING)


def test_concurrent_unit_shares_its_limit_between_two_cars() -> None:
    ctl = controller(ChargeUnit("twin", max_a=20.0, concurrent=True))
    step(ctl, 0.0, left=True, right=False)
    out = step(ctl, 5.0, left=True, right=False)
    assert out["left"][0] == 16.0
    out = step(ctl, 10.0, left=True, right=True)
    # Minimums first: 6 + 6 of the unit's 20 A; left takes the 8 A left by priority.
    assert out["left"][0] == 14.0
    assert out["right"][:2] == (6.0, LoadState.CHARGING)
    out = step(ctl, 15.0, left=False, right=True)
    assert out["right"][0] == 16.0
