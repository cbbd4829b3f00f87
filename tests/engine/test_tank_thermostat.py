"""The tank's thermostat: the engine mode its heater asks for, by heater mode, temperature,
deadline and legionella run. Times are seconds; day_s is the local time of day."""

from __future__ import annotations

import pytest

from load_juggler.engine.model import Mode
from load_juggler.engine.tank_thermostat import (
    HeaterMode,
    Legionella,
    TankInput,
    TankSettings,
    TankThermostat,
)
from load_juggler.engine.thermal import volume_model

MODEL = volume_model(200.0)
H = 3600.0
SETTINGS = TankSettings(target_c=55.0, hysteresis_c=5.0, max_c=75.0, rated_w=2000.0)


def at(
    hour: float, temp_c: float | None, mode: HeaterMode = HeaterMode.CONTINUOUS, fault: str = ""
) -> TankInput:
    """Day 0 starts at local midnight, so now_s and day_s agree."""
    return TankInput(
        now_s=hour * H,
        day_s=(hour * H) % 86400.0,
        temp_c=temp_c,
        mode=mode,
        model=MODEL,
        fault=fault,
    )


@pytest.mark.parametrize("mode", [m for m in HeaterMode if m is not HeaterMode.OFF])
def test_at_or_above_max_c_nothing_heats_in_any_mode(mode: HeaterMode) -> None:
    settings = TankSettings(target_c=55.0, max_c=60.0, min_c=50.0, rated_w=2000.0)
    thermostat = TankThermostat(settings)
    assert thermostat.decide(at(16.9, 45.0, mode)).mode is not Mode.OFF  # calling for heat
    # A tank reading 60 C while calling (a stratified tank, a stuck element): stop anyway.
    decision = thermostat.decide(at(16.9, 60.0, mode))
    assert decision.mode is Mode.OFF
    assert decision.state == "safety_stop"
    assert decision.reason == "safety stop: 60.0 C >= max_c 60 C"


def test_a_temperature_that_cannot_be_trusted_stops_the_heater_and_says_why() -> None:
    thermostat = TankThermostat(SETTINGS)
    assert thermostat.decide(at(10, 20.0)).mode is Mode.CONTINUOUS
    decision = thermostat.decide(at(10, None, fault="sensor.tank is unavailable"))
    assert decision.mode is Mode.OFF
    assert decision.state == "sensor_fault"
    assert "sensor.tank is unavailable" in decision.reason


def test_continuous_heats_below_target_minus_hysteresis_until_target() -> None:
    thermostat = TankThermostat(SETTINGS)
    assert thermostat.decide(at(10, 52.0)).mode is Mode.OFF  # above 50: not yet
    assert thermostat.decide(at(10, 49.9)).mode is Mode.CONTINUOUS
    assert thermostat.decide(at(10, 53.0)).mode is Mode.CONTINUOUS  # still calling
    decision = thermostat.decide(at(10, 55.0))
    assert (decision.mode, decision.state) == (Mode.OFF, "satisfied")
    assert thermostat.decide(at(10, 53.0)).mode is Mode.OFF  # not calling again above 50


@pytest.mark.parametrize(
    ("mode", "engine"),
    [(HeaterMode.SOLAR_ONLY, Mode.SOLAR_ONLY), (HeaterMode.EXCESS, Mode.EXCESS)],
)
def test_green_modes_ask_for_green_power_until_the_planned_start(
    mode: HeaterMode, engine: Mode
) -> None:
    settings = TankSettings(min_c=50.0, min_c_by_s=17 * H, rated_w=2000.0)
    thermostat = TankThermostat(settings)
    # 30 C at 00:00: 30 -> 50 C needs the element from about 13:36 (see test_thermal).
    early = thermostat.decide(at(0, 30.0, mode))
    assert early.mode is engine
    assert early.planned_start_s == pytest.approx(48956.0, abs=1.0)
    assert "grid from 13:36 if still short" in early.reason
    # At 13:40, cooled by 13.67 h * 0.258 K/h to 26.5 C: the latest start has passed (3.33 h
    # at 7.48 K/h lift 24.9 K, 23.5 K are needed, less than the 900 s margin ahead): the grid
    # is allowed, latched.
    late = thermostat.decide(at(13 + 40 / 60, 26.5, mode))
    assert (late.mode, late.state) == (Mode.CONTINUOUS, "heating_for_deadline")
    assert late.reason.startswith("26.5 C, must reach 50 C by 17:00")
    # Halfway the re-plan would find a later start; the window stays open to the goal.
    assert thermostat.decide(at(15, 40.0, mode)).mode is Mode.CONTINUOUS
    assert thermostat.decide(at(16.5, 50.0, mode)).mode is engine  # min_c reached: green again


def test_the_deadline_also_rules_in_continuous_and_a_missed_one_opens_tomorrows() -> None:
    settings = TankSettings(target_c=55.0, min_c=50.0, min_c_by_s=17 * H, rated_w=2000.0)
    thermostat = TankThermostat(settings)
    decision = thermostat.decide(at(16.9, 45.0, HeaterMode.SOLAR_ONLY))
    assert decision.mode is Mode.CONTINUOUS and decision.deadline_s == 17 * H
    # 17:00 passed short of 50 C: the window closes; tomorrow's start is far off.
    after = thermostat.decide(at(17.1, 46.0, HeaterMode.SOLAR_ONLY))
    assert after.mode is Mode.SOLAR_ONLY
    assert after.planned_start_s is not None and after.planned_start_s > 30 * H


def test_boost_heats_now_to_target_then_says_it_is_done() -> None:
    thermostat = TankThermostat(SETTINGS)
    decision = thermostat.decide(at(10, 52.0, HeaterMode.BOOST))  # above target - hysteresis
    assert (decision.mode, decision.state) == (Mode.CONTINUOUS, "boost")
    assert decision.energy_needed_wh == pytest.approx(3 * 232.6, abs=0.5)
    assert not decision.boost_done
    done = thermostat.decide(at(10.5, 55.0, HeaterMode.BOOST))
    assert done.mode is Mode.OFF and done.boost_done


def test_a_due_legionella_run_raises_the_goal_until_reached_then_waits_its_period() -> None:
    settings = TankSettings(
        target_c=55.0, min_c=45.0, legionella=Legionella(60.0, 7.0), rated_w=2000.0
    )
    thermostat = TankThermostat(settings)
    decision = thermostat.decide(at(10, 54.0, HeaterMode.SOLAR_ONLY))
    assert decision.goal_c == 60.0 and decision.mode is Mode.SOLAR_ONLY
    assert decision.reason.startswith("legionella run due: ")
    # The deadline goal is 60 C too: at 16:30 it is time for the grid.
    late = thermostat.decide(at(16.5, 54.0, HeaterMode.SOLAR_ONLY))
    assert late.mode is Mode.CONTINUOUS and "must reach legionella 60 C" in late.reason
    thermostat.decide(at(16.9, 60.0, HeaterMode.SOLAR_ONLY))
    assert thermostat.legionella_at_s == 16.9 * H
    assert thermostat.decide(at(17.5, 54.0, HeaterMode.SOLAR_ONLY)).goal_c == 55.0
    assert not thermostat.legionella_due((16.9 + 7 * 24) * H - 1)
    assert thermostat.legionella_due((16.9 + 7 * 24) * H)


def test_off_is_off() -> None:
    thermostat = TankThermostat(TankSettings(min_c=50.0, rated_w=2000.0))
    decision = thermostat.decide(at(16.9, 20.0, HeaterMode.OFF))
    assert (decision.mode, decision.state) == (Mode.OFF, "off")
