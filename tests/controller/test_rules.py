"""Time rules of the controller against a scripted engine: exact times, currents and reasons."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from load_juggler.engine.control_types import (
    ControlSettings,
    CycleResult,
    LoadReading,
    LoadState,
    SiteConfig,
    SiteStatus,
)
from load_juggler.engine.controller import Controller
from load_juggler.engine.model import Mode, Site

from .scripted import FAST, ScriptedEngine, boiler, car, make, readings


def run(
    controller: Controller,
    t0: float,
    t1: float,
    dt: float = 5.0,
    before: Callable[[float], None] | None = None,
    load_readings: Callable[[float], dict[str, LoadReading]] | None = None,
) -> dict[float, CycleResult]:
    """Step from t0 to t1 inclusive; `before(t)` may change the script first."""
    results = {}
    t = t0
    while t <= t1 + 1e-9:
        if before is not None:
            before(t)
        extra = load_readings(t) if load_readings else {"car": LoadReading()}
        results[t] = controller.step(t, readings(**extra))
        t += dt
    return results


def amps(results: dict[float, CycleResult], t: float, load_id: str = "car") -> float:
    command = results[t].commands[load_id]
    return command.current_a if command.on else 0.0


# --------------------------------------------------------------------------------- starting


def test_solar_only_starts_after_60_s_of_surplus_at_min() -> None:
    controller, engine = make(car())
    engine.offer_a["car"] = 10.0
    results = run(controller, 0.0, 70.0)
    assert amps(results, 55.0) == 0.0
    waiting = results[40.0].commands["car"]
    assert waiting.state is LoadState.WAITING
    assert waiting.reason == "start delay 40/60 s"
    assert amps(results, 60.0) == 6.0
    assert results[60.0].commands["car"].state is LoadState.CHARGING
    assert amps(results, 65.0) == 7.0


def test_a_dip_restarts_the_start_delay() -> None:
    controller, engine = make(car())

    def script(t: float) -> None:
        engine.offer_a["car"] = 0.0 if t == 35.0 else 10.0

    results = run(controller, 0.0, 100.0, before=script)
    assert results[35.0].commands["car"].state is LoadState.WAITING
    assert amps(results, 95.0) == 0.0
    assert results[95.0].commands["car"].reason == "start delay 55/60 s"
    assert amps(results, 100.0) == 6.0


def test_continuous_starts_at_once_at_min_then_ramps_1_a_per_5_s() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    results = run(controller, 0.0, 60.0)
    assert [amps(results, t) for t in (0.0, 5.0, 10.0, 15.0)] == [6.0, 7.0, 8.0, 9.0]
    assert results[5.0].commands["car"].reason == "ramp 7.0/16.0 A"
    assert amps(results, 50.0) == 16.0
    assert amps(results, 60.0) == 16.0


def test_cuts_are_immediate() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    run(controller, 0.0, 60.0)
    engine.room_a["car"] = 8.4
    result = controller.step(65.0, readings(car=LoadReading()))
    assert result.commands["car"].current_a == 8.4
    assert result.commands["car"].write is True


# --------------------------------------------------------------------------------- stopping


def test_stop_delay_holds_min_for_180_s_then_pauses() -> None:
    controller, engine = make(car())

    def script(t: float) -> None:
        engine.offer_a["car"] = 10.0 if t < 400.0 else 0.0

    results = run(controller, 0.0, 600.0, before=script)
    held = results[575.0].commands["car"]
    assert (held.current_a, held.state) == (6.0, LoadState.HOLDING_MIN)
    assert held.reason == "stop delay 175/180 s"
    stopped = results[580.0].commands["car"]
    assert (stopped.on, stopped.state, stopped.write) == (False, LoadState.PAUSED, True)
    assert amps(results, 600.0) == 0.0


def test_flickering_shortfall_still_stops_after_the_window() -> None:
    """Short, short, ok, ... : the majority is short, so brief recoveries do not reset the delay."""
    controller, engine = make(car())
    pattern = {0: 0.0, 1: 0.0, 2: 8.0}

    def script(t: float) -> None:
        engine.offer_a["car"] = 10.0 if t < 400.0 else pattern[int((t - 400.0) / 5.0) % 3]

    results = run(controller, 0.0, 700.0, before=script)
    on_times = [t for t in results if t >= 400.0 and amps(results, t) > 0]
    assert max(on_times) == 575.0
    assert amps(results, 580.0) == 0.0
    # Held at min while short; on good samples it ramps towards the offer (8 A) by 1 A per 5 s.
    assert {amps(results, t) for t in on_times} == {6.0, 7.0}


def test_mostly_good_surplus_with_dips_never_stops() -> None:
    controller, engine = make(car())

    def script(t: float) -> None:
        engine.offer_a["car"] = 0.0 if t >= 400.0 and int(t / 5.0) % 3 == 0 else 10.0

    results = run(controller, 0.0, 1200.0, before=script)
    assert all(amps(results, t) >= 6.0 for t in results if t >= 60.0)


def test_min_on_time_keeps_a_fresh_start_at_min_for_300_s() -> None:
    controller, engine = make(car())

    def script(t: float) -> None:
        engine.offer_a["car"] = 10.0 if t < 70.0 else 0.0

    results = run(controller, 0.0, 400.0, before=script)
    assert amps(results, 60.0) == 6.0
    # Stop delay runs out at 250 s, min on time (started at 60 s) at 360 s.
    assert results[250.0].commands["car"].reason == "min on time 190/300 s"
    assert results[355.0].commands["car"].state is LoadState.HOLDING_MIN
    assert amps(results, 355.0) == 6.0
    assert amps(results, 360.0) == 0.0


def test_min_off_time_delays_a_restart_to_180_s_after_the_stop() -> None:
    controller, engine = make(car())

    def script(t: float) -> None:
        engine.offer_a["car"] = 0.0 if 400.0 <= t < 585.0 else 10.0

    results = run(controller, 0.0, 800.0, before=script)
    assert amps(results, 580.0) == 0.0
    # Surplus back at 585 s; the start delay is done at 645 s, min off only at 760 s.
    blocked = results[700.0].commands["car"]
    assert (blocked.on, blocked.state, blocked.reason) == (
        False,
        LoadState.PAUSED,
        "min off time 120/180 s",
    )
    assert amps(results, 755.0) == 0.0
    assert amps(results, 760.0) == 6.0


def test_continuous_load_cut_by_a_limit_waits_min_off_before_restarting() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=replace(FAST, min_off_s=30.0))
    run(controller, 0.0, 10.0)
    engine.room_a["car"] = 3.0
    assert controller.step(15.0, readings(car=LoadReading())).commands["car"].on is False
    engine.room_a["car"] = 16.0
    assert controller.step(40.0, readings(car=LoadReading())).commands["car"].on is False
    assert controller.step(45.0, readings(car=LoadReading())).commands["car"].current_a == 6.0


def test_a_load_in_its_min_off_time_is_left_out_of_the_allocation_of_the_others() -> None:
    # Car a is cut at 5 s (room 3 A < its 6 A min). At 10 s the room is back and the engine
    # offers a 16 A, but a's min off time (12 s) runs until 17 s: the engine is asked again
    # with a off, so b's allocation does not leave room for a current a cannot take.
    two = (car("a", mode=Mode.CONTINUOUS), car("b", mode=Mode.CONTINUOUS))
    controller, engine = make(*two, settings=replace(FAST, min_off_s=12.0))
    both = {"a": LoadReading(), "b": LoadReading()}
    controller.step(0.0, readings(**both))
    engine.room_a["a"] = 3.0
    assert controller.step(5.0, readings(**both)).commands["a"].on is False
    del engine.room_a["a"]
    calls = len(engine.calls)
    locked = controller.step(10.0, readings(**both))
    assert len(engine.calls) == calls + 2
    assert [ld.mode for ld in engine.last.loads] == [Mode.OFF, Mode.CONTINUOUS]
    assert locked.decision.loads["a"].reason == "min off time"
    a = locked.commands["a"]
    assert (a.on, a.state, a.reason) == (False, LoadState.PAUSED, "min off time 5/12 s")
    assert locked.commands["b"].current_a == 16.0
    calls = len(engine.calls)
    free = controller.step(20.0, readings(**both))  # 15 s off: a starts again at min
    assert len(engine.calls) == calls + 1
    assert (free.commands["a"].on, free.commands["a"].current_a) == (True, 6.0)


def test_a_plug_held_by_its_stop_delay_pauses_when_the_breaker_has_no_room() -> None:
    controller, engine = make(boiler(), settings=replace(FAST, stop_delay_s=60.0))
    engine.offer_a["boiler"] = 10.0
    on = controller.step(0.0, readings(boiler=LoadReading())).commands["boiler"]
    assert (on.on, on.current_a) == (True, pytest.approx(2000.0 / 230.0))
    engine.offer_a["boiler"] = 0.0
    engine.room_a["boiler"] = 0.0  # its stop delay wants it held, but nothing fits
    cut = controller.step(5.0, readings(boiler=LoadReading())).commands["boiler"]
    assert (cut.on, cut.state, cut.reason) == (
        False,
        LoadState.PAUSED,
        "below min current (site.A)",
    )


# ----------------------------------------------------------------------------- pause budget


def _cycle_surplus(engine: ScriptedEngine, periods: int) -> Callable[[float], None]:
    """Surplus on for 10 s, off for 10 s, `periods` times, then off for good."""

    def script(t: float) -> None:
        on = t < periods * 20.0 and int(t / 10.0) % 2 == 0
        engine.offer_a["car"] = 10.0 if on else 0.0

    return script


def test_after_three_pauses_a_solar_only_car_holds_min_instead_of_stopping() -> None:
    controller, engine = make(car(), settings=FAST)
    results = run(controller, 0.0, 200.0, before=_cycle_surplus(engine, 5))
    starts = sum(
        1 for t in results if t > 0 and amps(results, t) > 0 and amps(results, t - 5.0) == 0
    )
    assert [amps(results, t) for t in (0.0, 5.0, 10.0)] == [6.0, 10.0, 0.0]
    assert starts == 3  # 0 s start, then restarts at 20, 40, 60 s; the 4th stop is refused
    held = results[200.0].commands["car"]
    assert (held.current_a, held.state) == (6.0, LoadState.HOLDING_MIN)
    assert held.reason == "pause budget used: holding min"
    assert all(amps(results, t) >= 6.0 for t in results if t >= 60.0)


def test_pause_budget_is_per_session_and_resets_on_disconnect() -> None:
    controller, engine = make(car(), settings=FAST)
    run(controller, 0.0, 200.0, before=_cycle_surplus(engine, 5))
    gone = controller.step(205.0, readings(car=LoadReading(connected=False, drawing=False)))
    assert (gone.commands["car"].on, gone.commands["car"].state) == (False, LoadState.DISCONNECTED)
    assert gone.commands["car"].reason == "not connected"
    engine.offer_a["car"] = 10.0
    assert controller.step(210.0, readings(car=LoadReading())).commands["car"].current_a == 6.0
    assert controller.step(215.0, readings(car=LoadReading())).commands["car"].current_a == 10.0
    engine.offer_a["car"] = 0.0
    again = controller.step(220.0, readings(car=LoadReading())).commands["car"]
    assert (again.on, again.state) == (False, LoadState.PAUSED)


def test_a_hold_is_refused_when_the_breaker_has_no_room_for_min() -> None:
    controller, engine = make(car())
    engine.offer_a["car"] = 10.0
    run(controller, 0.0, 100.0)
    engine.offer_a["car"] = 0.0
    engine.room_a["car"] = 4.0
    result = controller.step(105.0, readings(car=LoadReading()))
    command = result.commands["car"]
    assert (command.on, command.current_a, command.write) == (False, 0.0, True)
    assert command.reason == "below min current (site.A)"
    # The hold was checked with the load held at exactly its min, in its own mode (its rank).
    forced = engine.last.loads[0]
    assert (forced.mode, forced.held, forced.max_a) == (Mode.SOLAR_ONLY, True, 6.0)


def test_a_hold_takes_its_min_from_the_other_loads_not_from_the_breaker() -> None:
    controller, engine = make(car(), boiler(), settings=replace(FAST, stop_delay_s=60.0))
    engine.offer_a.update(car=10.0, boiler=20.0)
    run(
        controller,
        0.0,
        20.0,
        load_readings=lambda t: {"car": LoadReading(), "boiler": LoadReading()},
    )
    engine.offer_a["car"] = 0.0
    result = controller.step(25.0, readings(car=LoadReading(), boiler=LoadReading()))
    assert result.commands["car"].current_a == 6.0
    # The ceiling of every load is the second (forced) decision's allocation.
    for load_id, command in result.commands.items():
        assert command.current_a <= result.decision.loads[load_id].current_a + 1e-9


# ------------------------------------------------------------------------ deadband and writes


def test_write_deadband_of_half_an_amp() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    engine.room_a["car"] = 10.0
    assert controller.step(0.0, readings(car=LoadReading())).commands["car"].current_a == 6.0
    assert controller.step(1.0, readings(car=LoadReading())).commands["car"].current_a == 10.0
    engine.room_a["car"] = 10.3
    small = controller.step(5.0, readings(car=LoadReading())).commands["car"]
    assert (small.write, small.current_a) == (False, 10.0)
    engine.room_a["car"] = 10.6
    big = controller.step(10.0, readings(car=LoadReading())).commands["car"]
    assert (big.write, big.current_a) == (True, 10.6)
    engine.room_a["car"] = 10.4
    cut = controller.step(15.0, readings(car=LoadReading())).commands["car"]
    assert (cut.write, cut.current_a) == (True, 10.4)
    engine.room_a["car"] = 10.4
    same = controller.step(20.0, readings(car=LoadReading())).commands["car"]
    assert same.write is False


def test_slow_ramp_steps_below_the_deadband_still_add_up() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    results = run(controller, 0.0, 4.0, dt=1.0)
    commands = [results[float(t)].commands["car"] for t in range(5)]
    assert [c.write for c in commands] == [True, False, False, True, False]
    assert [c.current_a for c in commands] == pytest.approx([6.0, 6.0, 6.0, 6.6, 6.6])


def test_reaching_max_is_written_even_inside_the_deadband() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    engine.room_a["car"] = 15.8
    controller.step(0.0, readings(car=LoadReading()))
    assert controller.step(1.0, readings(car=LoadReading())).commands["car"].current_a == 15.8
    engine.room_a["car"] = 16.0
    command = controller.step(5.0, readings(car=LoadReading())).commands["car"]
    assert (command.write, command.current_a) == (True, 16.0)


# ---------------------------------------------------------------------------- modes, loads


def test_a_mode_switch_takes_effect_in_the_next_step() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    assert controller.step(0.0, readings(car=LoadReading())).commands["car"].on is True
    off = controller.step(5.0, readings(car=LoadReading(mode=Mode.OFF))).commands["car"]
    assert (off.on, off.state, off.reason) == (False, LoadState.OFF, "mode off")
    # The live mode is remembered: a reading without one keeps it.
    still = controller.step(7.5, readings(car=LoadReading())).commands["car"]
    assert (still.on, still.state, still.reason) == (False, LoadState.OFF, "mode off")
    result = controller.step(10.0, readings(car=LoadReading(mode=Mode.CONTINUOUS)))
    assert engine.last.loads[0].mode is Mode.CONTINUOUS
    assert result.commands["car"].current_a == 6.0  # a (re)start goes to min first
    assert result.commands["car"].reason == "start at min, ramping to 16.0 A"
    controller.step(15.0, readings(car=LoadReading()))
    assert engine.last.loads[0].mode is Mode.CONTINUOUS


def test_replace_and_remove_loads_keep_the_others_state() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    run(controller, 0.0, 20.0)  # ramped to 10 A
    controller.replace_plant(replace(controller.plant, loads=(car(mode=Mode.CONTINUOUS), boiler())))
    result = controller.step(25.0, readings(car=LoadReading(), boiler=LoadReading()))
    assert result.commands["car"].current_a == 11.0  # the ramp continues, no restart at min
    assert result.commands["boiler"].on is False
    smaller = replace(car(mode=Mode.CONTINUOUS), max_a=11.0)
    controller.replace_plant(replace(controller.plant, loads=(smaller, boiler())))
    assert controller.step(30.0, readings(car=LoadReading())).commands["car"].current_a == 11.0
    controller.replace_plant(replace(controller.plant, loads=(smaller,)))
    assert set(controller.step(35.0, readings(car=LoadReading())).commands) == {"car"}


def test_a_reload_keeps_the_live_mode_unless_the_configured_mode_changed() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS), settings=FAST)
    controller.step(0.0, readings(car=LoadReading(mode=Mode.OFF)))
    same_mode = replace(car(mode=Mode.CONTINUOUS), max_a=15.0)
    controller.replace_plant(replace(controller.plant, loads=(same_mode,)))
    controller.step(5.0, readings(car=LoadReading()))
    assert engine.last.loads[0].mode is Mode.OFF  # the live mode survives the reload
    controller.replace_plant(replace(controller.plant, loads=(car(), boiler())))
    controller.step(10.0, readings(car=LoadReading(), boiler=LoadReading()))
    # A changed configured mode wins; a new load starts in its configured mode.
    assert [ld.mode for ld in engine.last.loads] == [Mode.SOLAR_ONLY, Mode.EXCESS]


def test_a_reload_that_changes_the_site_phases_starts_the_site_filters_over() -> None:
    engine = ScriptedEngine()
    one = SiteConfig(site=Site(phases=1), circuits=(), loads=(car(mode=Mode.CONTINUOUS, phases=1),))
    controller = Controller(one, allocate_fn=engine)
    controller.step(0.0, readings((4.0,), car=LoadReading()))
    controller.replace_plant(replace(one, site=Site(phases=3)))
    result = controller.step(5.0, readings((1.0, 2.0, 3.0), car=LoadReading()))
    assert result.status is SiteStatus.OK
    # Filters for three phases from their first sample (the 4 A of phase A is forgotten).
    assert engine.last.grid_a == (1.0, 2.0, 3.0)


def test_an_unavailable_or_silent_load_gets_nothing() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    missing = controller.step(0.0, readings()).commands["car"]
    assert (missing.on, missing.state) == (False, LoadState.UNAVAILABLE)
    assert missing.reason == "load unavailable"
    gone = controller.step(5.0, readings(car=LoadReading(available=False))).commands["car"]
    assert (gone.on, gone.state) == (False, LoadState.UNAVAILABLE)
    assert engine.last.loads[0].mode is Mode.OFF


def test_status_is_ok_in_normal_operation() -> None:
    controller, _ = make(car(mode=Mode.CONTINUOUS))
    assert controller.step(0.0, readings(car=LoadReading())).status is SiteStatus.OK


def test_default_settings_are_designs() -> None:
    settings = ControlSettings()
    assert (settings.start_delay_s, settings.stop_delay_s) == (60.0, 180.0)
    assert (settings.min_on_s, settings.min_off_s, settings.pause_budget) == (300.0, 180.0, 3)


def test_an_unknown_mode_option_keeps_the_last_mode() -> None:
    controller, engine = make(car(mode=Mode.CONTINUOUS))
    result = controller.step(0.0, readings(car=LoadReading(mode="turbo")))  # type: ignore[arg-type]
    assert result.status is SiteStatus.OK
    assert engine.last.loads[0].mode is Mode.CONTINUOUS
    assert result.commands["car"].current_a == 6.0
