"""Stale grid sensor, engine failures and the rule that a command never exceeds the engine."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from load_juggler.engine.control_types import (
    ControlSettings,
    LoadReading,
    LoadState,
    Readings,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Mode, Site

from .scripted import ScriptedEngine, boiler, car, make, readings

BOTH = {"car": LoadReading(), "boiler": LoadReading()}


def _grid(t: float, lost_from: float = 100.0, back_at: float = 300.0) -> tuple[float, ...] | None:
    return None if lost_from <= t < back_at else (2.0, 2.0, 2.0)


def test_a_stale_grid_sensor_drops_cars_to_min_after_60_s_and_recovers() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS), boiler(mode=Mode.CONTINUOUS))
    results = {}
    t = 0.0
    while t <= 340.0:
        results[t] = controller.step(t, readings(_grid(t), **BOTH))
        t += 5.0
    assert results[95.0].commands["car"].current_a == 16.0
    # Last valid reading at 95 s; held until 60 s have passed without one.
    assert results[150.0].status is SiteStatus.OK
    assert results[150.0].commands["car"].current_a == 16.0
    fallback = results[155.0]
    assert fallback.status is SiteStatus.GRID_STALE
    assert len(fallback.messages) == 1 and "no valid value for 60 s" in fallback.messages[0]
    car_cmd, boiler_cmd = fallback.commands["car"], fallback.commands["boiler"]
    assert (car_cmd.current_a, car_cmd.write, car_cmd.state) == (
        6.0,
        True,
        LoadState.STALE_FALLBACK,
    )
    assert car_cmd.reason == "grid stale"
    assert (boiler_cmd.on, boiler_cmd.write, boiler_cmd.state) == (
        False,
        True,
        LoadState.STALE_FALLBACK,
    )
    assert fallback.decision is not None
    assert fallback.decision.loads["boiler"].reason == "grid stale"
    assert results[160.0].messages == ()
    assert all(results[t].commands["car"].current_a == 6.0 for t in results if 155 <= t < 300)
    back = results[300.0]
    assert back.status is SiteStatus.OK
    assert back.messages == ("grid current sensor is back: normal control resumed",)
    assert back.commands["car"].current_a == 7.0  # ramps up again from min
    assert results[340.0].commands["car"].current_a == 15.0


def test_stale_fallback_gives_0_when_the_last_headroom_did_not_allow_min() -> None:
    engine = ScriptedEngine(room_a={"car": 16.0})
    controller, _ = make(car(mode=Mode.CONTINUOUS), engine=engine)
    for t in range(0, 100, 5):
        controller.step(float(t), readings(car=LoadReading()))
    engine.room_a["car"] = 4.0  # what the held readings allow: less than min
    result = controller.step(160.0, readings(None, car=LoadReading()))
    assert result.status is SiteStatus.GRID_STALE
    assert (result.commands["car"].on, result.commands["car"].write) == (False, True)


def test_stale_fallback_holds_a_solar_car_at_min_while_its_surplus_fades() -> None:
    # The sun goes as the grid CT dies: the solar_only car is charging at min in its stop delay
    # (the engine now offers it nothing). It is still a charging car, and 16 A of breaker room
    # remain, so the fallback holds it at 6 A instead of stopping it.
    engine = ScriptedEngine(offer_a={"car": 10.0}, room_a={"car": 16.0})
    controller, _ = make(car(mode=Mode.SOLAR_ONLY), engine=engine)
    for t in range(0, 100, 5):
        last = controller.step(float(t), readings(car=LoadReading()))
    assert last.commands["car"].on and last.commands["car"].current_a > 6.0
    engine.offer_a["car"] = 0.0
    shortfall = controller.step(100.0, readings(None, car=LoadReading()))
    assert (shortfall.commands["car"].current_a, shortfall.commands["car"].state) == (
        6.0,
        LoadState.HOLDING_MIN,
    )
    stale = controller.step(160.0, readings(None, car=LoadReading()))
    assert stale.status is SiteStatus.GRID_STALE
    assert (stale.commands["car"].on, stale.commands["car"].current_a) == (True, 6.0)
    assert stale.commands["car"].state is LoadState.STALE_FALLBACK
    assert stale.decision is not None and stale.decision.loads["car"].current_a == 6.0
    # The held check is physical: with the breaker room under min, the car is stopped.
    engine.room_a["car"] = 4.0
    assert controller.step(165.0, readings(None, car=LoadReading())).commands["car"].on is False


def test_no_grid_reading_ever_means_the_engine_assumes_the_worst() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    first = controller.step(0.0, readings(None, car=LoadReading()))
    assert engine.last.grid_a is None
    assert first.status is SiteStatus.OK
    assert controller.step(55.0, readings(None, car=LoadReading())).status is SiteStatus.OK
    stale = controller.step(60.0, readings(None, car=LoadReading()))
    assert stale.status is SiteStatus.GRID_STALE
    assert stale.commands["car"].on is False  # never charged, so nothing is held


def test_no_grid_reading_ever_with_the_real_engine_gives_nothing() -> None:
    plant = SiteConfig(site=Site(), circuits=(), loads=(car(mode=Mode.CONTINUOUS),))
    controller = Controller(plant)
    result = controller.step(0.0, Readings(grid_a=None, loads={"car": LoadReading()}))
    assert result.commands["car"].on is False
    assert result.commands["car"].reason == "no grid reading"


def test_a_grid_reading_with_one_bad_phase_is_not_fresh() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    controller.step(0.0, readings((1.0, 1.0, 1.0), car=LoadReading()))
    for t in range(5, 65, 5):
        result = controller.step(float(t), readings((1.0, math.nan, 1.0), car=LoadReading()))
    assert result.status is SiteStatus.GRID_STALE


def test_an_engine_exception_commands_everything_to_0_and_never_raises() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), boiler(mode=Mode.CONTINUOUS))
    for t in range(0, 30, 5):
        controller.step(float(t), readings(**BOTH))
    engine.fail = True
    failed = controller.step(30.0, readings(**BOTH))
    assert failed.status is SiteStatus.ERROR
    assert failed.messages == (
        "engine error, all loads off: RuntimeError: scripted engine failure",
    )
    assert failed.decision is None
    for command in failed.commands.values():
        assert (command.current_a, command.on, command.write, command.state) == (
            0.0,
            False,
            True,
            LoadState.ERROR,
        )
        assert command.reason == "engine error: RuntimeError"
    assert controller.step(35.0, readings(**BOTH)).messages == ()
    engine.fail = False
    recovered = controller.step(40.0, readings(**BOTH))
    assert recovered.status is SiteStatus.OK
    assert recovered.messages == ("engine recovered: normal control resumed",)
    # We stopped the car, so its min off time applies before it restarts, at min.
    assert recovered.commands["car"].reason == "min off time 10/180 s"
    # The safe state wrote 0 and the car still waits at 0: nothing to write again.
    assert (recovered.commands["car"].on, recovered.commands["car"].write) == (False, False)
    assert controller.step(205.0, readings(**BOTH)).commands["car"].on is False
    assert controller.step(210.0, readings(**BOTH)).commands["car"].current_a == 6.0


def test_garbage_input_yields_the_safe_state_not_an_exception() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    result = controller.step(math.nan, readings(car=LoadReading()))
    assert result.status is SiteStatus.ERROR
    assert result.commands["car"].on is False
    bad = controller.step(5.0, "not readings")  # type: ignore[arg-type]
    assert bad.status is SiteStatus.ERROR


@settings(max_examples=150, deadline=None)
@given(
    script=st.lists(
        st.tuples(
            st.sampled_from([0.0, 3.0, 6.0, 7.5, 10.0, 16.0]),  # offer (surplus)
            st.sampled_from([0.0, 4.0, 6.0, 9.3, 12.0, 16.0, math.inf]),  # room (breaker)
            st.booleans(),  # grid reading present
            st.sampled_from([1.0, 5.0, 30.0]),  # time step
        ),
        min_size=5,
        max_size=80,
    ),
    mode=st.sampled_from([Mode.SOLAR_ONLY, Mode.CONTINUOUS, Mode.SOLAR_PRIORITY, Mode.EXCESS]),
)
def test_what_the_device_is_set_to_never_exceeds_the_engine(
    script: list[tuple[float, float, bool, float]], mode: Mode
) -> None:
    quick = ControlSettings(start_delay_s=10, stop_delay_s=30, min_on_s=40, min_off_s=20)
    controller, engine = make(car(mode=mode), boiler(), settings=quick)
    device = {"car": 0.0, "boiler": 0.0}
    t = 0.0
    for offer, room, grid_ok, dt in script:
        engine.offer_a.update(car=offer, boiler=offer)
        engine.room_a.update(car=room, boiler=room)
        result = controller.step(t, readings((1.0, 1.0, 1.0) if grid_ok else None, **BOTH))
        for load_id, command in result.commands.items():
            if command.write:
                device[load_id] = command.current_a if command.on else 0.0
            assert device[load_id] == (command.current_a if command.on else 0.0)
            if result.status is SiteStatus.OK:
                ceiling = result.decision.loads[load_id]
                allowed = ceiling.current_a if ceiling.on else 0.0
                assert device[load_id] <= allowed + 1e-9
            elif result.status is SiteStatus.GRID_STALE:
                assert device[load_id] in (0.0, 6.0) if load_id == "car" else device[load_id] == 0
            if command.on and load_id == "car":
                assert 6.0 <= command.current_a <= 16.0
        t += dt
