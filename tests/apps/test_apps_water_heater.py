"""The WaterHeater app: the tank's temperature and a heater switch in, switch calls and the
tank's entities out. 200 l hold 232.6 Wh per kelvin; the clock starts at 12:00 (UTC)."""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, calls, fire_state, logs, published, set_grid, set_solar

from load_juggler.hub import Hub
from load_juggler.loads.water_heater import WaterHeater
from load_juggler.loads.water_heater_mode import HEATER_MODE_OPTIONS

ON = "switch/turn_on"
OFF = "switch/turn_off"
SWITCH = {"suppress_log_messages": True, "entity_id": "switch.boiler"}
TANK_ARGS: dict[str, Any] = {
    "hub": "lj_hub",
    "switch": "switch.boiler",
    "power_w": 2000,
    "phase_map": ["B"],
    "temperature_sensor": "sensor.tank",
    "volume_l": 200,
}


def set_tank(given_that: Any, value: Any, unit: str = "°C", **stamps: Any) -> None:
    given_that.state_of("sensor.tank").is_set_to(
        str(value), {"unit_of_measurement": unit}, **stamps
    )


@pytest.fixture
def site(given_that: Any) -> Any:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of("switch.boiler").is_set_to("off")
    return given_that


def start(ad: Any, **args: Any) -> Any:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    return ad(WaterHeater, "tank", **{**TANK_ARGS, **args})


def test_continuous_heats_below_target_minus_hysteresis_and_stops_at_target(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, mode="continuous")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    assert published(hass_mocks, "sensor.load_juggler_tank_tank_temperature")[0] == "40.0"
    # 55 - 40 = 15 K * 232.6 Wh/K.
    needed, attrs = published(hass_mocks, "sensor.load_juggler_tank_energy_needed")
    assert needed == "3489" and attrs["unit_of_measurement"] == "Wh"
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert state == "heating"
    assert attrs["reason"] == "40.0 C, heating to 55 C from any source"
    assert published(hass_mocks, "sensor.load_juggler_tank_planned_start")[0] == "none"

    site.state_of("switch.boiler").is_set_to("on")
    set_tank(site, 55)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH]
    assert published(hass_mocks, "sensor.load_juggler_tank_thermostat")[0] == "satisfied"


def test_never_heats_at_max_c_whatever_the_mode(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, mode="continuous", max_c=70)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    site.state_of("switch.boiler").is_set_to("on")
    set_tank(site, 70.5)  # a stratified tank's top sensor, or a stuck element
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert (state, attrs["reason"]) == ("safety_stop", "safety stop: 70.5 C >= max_c 70 C")
    site.state_of("switch.boiler").is_set_to("off")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH]  # off already: nothing to switch
    # Turned on by hand at 70.5 C: unlike a switched load's manual toggle, it goes off again.
    site.state_of("switch.boiler").is_set_to("on")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH, SWITCH]


@pytest.mark.parametrize(
    ("value", "unit", "stamps", "why"),
    [
        ("unavailable", "°C", {}, "sensor.tank is unavailable"),
        ("-40", "°C", {}, "sensor.tank = -40 C is implausible (outside -20..110 C)"),
        ("55", "kWh", {}, "sensor.tank reports unit 'kWh', which is not a temperature"),
        (
            "40",
            "°C",
            {"last_updated": START - datetime.timedelta(hours=1)},
            "sensor.tank not updated for 3610 s (temp_stale_s 1800)",  # read at 12:00:10
        ),
    ],
)
def test_a_temperature_it_cannot_trust_switches_the_heater_off_and_says_why(
    ad: Any,
    site: Any,
    hass_mocks: Any,
    time_travel: Any,
    value: str,
    unit: str,
    stamps: dict[str, Any],
    why: str,
) -> None:
    set_tank(site, 40)
    start(ad, mode="continuous")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    site.state_of("switch.boiler").is_set_to("on")
    set_tank(site, value, unit, **stamps)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert state == "sensor_fault"
    assert why in attrs["reason"]
    assert published(hass_mocks, "sensor.load_juggler_tank_tank_temperature")[0] == "unavailable"


def test_a_water_heater_entitys_current_temperature_in_fahrenheit(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    site.state_of("water_heater.tank").is_set_to(
        "eco", {"current_temperature": 104, "unit_of_measurement": "°F"}
    )
    start(ad, mode="continuous", temperature_sensor="water_heater.tank")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_tank_tank_temperature")[0] == "40.0"
    assert calls(hass_mocks, ON) == [SWITCH]


def test_solar_only_waits_for_the_latest_start_then_heats_from_the_grid(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 30)
    start(ad, mode="solar_only", min_c=50, min_c_by="17:00")
    time_travel.fast_forward(5).seconds()
    # From 30 C at 12:00, 5 h to go: planned at 0.9 * 2 kW, r = 7.48065 K/h and
    # w = (5 r - 20) / (r + 0.25795) = 2.24886 h = 8095.9 s, minus 900 s: 13:59:56.
    planned, _ = published(hass_mocks, "sensor.load_juggler_tank_planned_start")
    assert planned.startswith("2026-06-01T13:59:5")
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert state == "waiting_for_green"
    assert attrs["reason"].endswith("grid from 14:00 if still short")
    assert published(hass_mocks, "sensor.load_juggler_tank_state")[0] == "waiting_for_surplus"
    assert calls(hass_mocks, ON) == []

    # The sensor stays at 30 C (no loss seen), so the start moves to where 30 C still do:
    # D r - 20 = 0.25 h (r + 0.25795) -> D = 21.93465 / 7.48065 = 2.93217 h before 17:00,
    # 14:04:04.2.
    time_travel.fast_forward(2 * 3600 + 3 * 60 + 55).seconds()  # 14:04:00: not yet
    assert calls(hass_mocks, ON) == []
    time_travel.fast_forward(5).seconds()  # 14:04:05
    assert calls(hass_mocks, ON) == [SWITCH]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert state == "heating_for_deadline"
    assert attrs["reason"].startswith("30.0 C, must reach 50 C by 17:00")


def test_boost_on_the_select_heats_now_then_hands_the_select_back(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    options = {"options": list(HEATER_MODE_OPTIONS)}
    site.state_of("input_select.tank_mode").is_set_to("Solar Only", options)
    set_tank(site, 52)
    start(ad, mode="continuous", mode_select="input_select.tank_mode")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == []
    assert published(hass_mocks, "sensor.load_juggler_tank_state")[1]["heater_mode"] == "solar_only"

    site.state_of("input_select.tank_mode").is_set_to("Boost", options)
    assert fire_state(hass_mocks, "input_select.tank_mode", "Boost", "Solar Only") == 1
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    assert published(hass_mocks, "sensor.load_juggler_tank_thermostat")[0] == "boost"

    site.state_of("switch.boiler").is_set_to("on")
    set_tank(site, 55)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, OFF) == [SWITCH]
    assert calls(hass_mocks, "input_select/select_option") == [
        {"entity_id": "input_select.tank_mode", "option": "Solar Only"}
    ]
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_tank_state")[1]["heater_mode"] == "solar_only"


def test_the_learned_model_and_the_legionella_run_are_kept_in_the_state_file(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 61)
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    kept = {"heat_c_per_kwh": 5.0, "loss_c_per_h": 0.4, "heat_samples": 3, "loss_samples": 2}
    hub.state.put("thermal", {"tank": {"model": kept}})
    ad(WaterHeater, "tank", **TANK_ARGS, legionella={"temp_c": 60, "every_days": 7})
    time_travel.fast_forward(5).seconds()
    attrs = published(hass_mocks, "sensor.load_juggler_tank_state")[1]
    assert (attrs["heat_c_per_kwh"], attrs["loss_c_per_h"]) == (5.0, 0.4)
    entry = hub.state.get("thermal")["tank"]
    assert entry["model"] == kept
    # 61 C >= 60 C: the legionella run is done as of now.
    assert entry["legionella_at_s"] == round(START.replace(tzinfo=datetime.UTC).timestamp() + 5)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"target_c": 80}, "key 'target_c' = 80.0 is invalid: must be < max_c (75)"),
        ({"mode": "boost"}, "key 'mode' = 'boost' is invalid: boost is a one-off"),
        ({"min_c": 60}, "key 'min_c' = 60.0 is invalid: must be <= target_c (55)"),
        ({"min_c_by": "25:00"}, "key 'min_c_by' = '25:00' is invalid: must be a time of day"),
        (
            {"legionella": {"temp_c": 80}},
            "key 'legionella.temp_c' = 80.0 is invalid: must be < max_c (75)",
        ),
        ({"temperature_sensor": "switch.x"}, "key 'temperature_sensor' = 'switch.x'"),
        ({"volume_l": None}, "key 'volume_l' = None is invalid: required"),
        (
            {"target_c": 30, "hysteresis_c": 28},
            "key 'hysteresis_c' = 28.0 is invalid: must be <= target_c - 5 (25)",
        ),
    ],
)
def test_config_problems_name_the_key(
    ad: Any, site: Any, hass_mocks: Any, args: dict[str, Any], problem: str
) -> None:
    set_tank(site, 40)
    merged = {**TANK_ARGS, **args}
    merged = {k: v for k, v in merged.items() if v is not None}
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    app = ad(WaterHeater, "tank", **merged)
    assert not app.config_ok
    assert published(hass_mocks, "sensor.load_juggler_tank_state")[0] == "error"
    assert any(problem in p for p in app.problems), app.problems
    assert logs(hass_mocks, "not started")


def test_heating_with_a_power_sensor_teaches_the_model_and_the_state_file_keeps_it(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    site.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    set_tank(site, 40.0)
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(WaterHeater, "tank", **TANK_ARGS, power_sensor="sensor.boiler_power")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    site.state_of("switch.boiler").is_set_to("on")
    site.state_of("sensor.boiler_power").is_set_to("2.0", {"unit_of_measurement": "kW"})
    # The element really lifts this tank 6 K per kWh (the volume says 4.30): 0.2 K a minute.
    temp = 40.0
    for _ in range(30):
        time_travel.fast_forward(60).seconds()
        temp += 0.2
        set_tank(site, round(temp, 2))
    model = hub.state.get("thermal")["tank"]["model"]
    assert model["heat_samples"] >= 1
    # Each 500 Wh window sees about (3 K + 0.26 K/h * 0.25 h) / 0.5 kWh = 6.1 K/kWh and moves
    # the model a quarter of the way from 4.30: above 4.7 after the first.
    assert 4.7 < model["heat_c_per_kwh"] < 6.2
    attrs = published(hass_mocks, "sensor.load_juggler_tank_state")[1]
    assert attrs["heat_c_per_kwh"] == pytest.approx(model["heat_c_per_kwh"], abs=1e-4)


def test_the_hub_refuses_a_tank_on_a_switch_another_app_drives(
    ad: Any, site: Any, hass_mocks: Any
) -> None:
    from load_juggler.loads.switch import SwitchLoad

    set_tank(site, 40)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(SwitchLoad, "boiler", hub="lj_hub", switch="switch.boiler", power_w=2000)
    ad(WaterHeater, "tank", **TANK_ARGS)
    assert ad.apps["lj_hub"].load_names == ["boiler"]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_state")
    assert state == "error"
    assert "switch switch.boiler is already driven by app 'boiler'" in attrs["reason"]


def test_without_a_hub_the_heater_goes_off(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, mode="continuous")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [SWITCH]
    site.state_of("switch.boiler").is_set_to("on")
    ad.stop("lj_hub")
    time_travel.fast_forward(60).seconds()  # the hub's 60 s stale timeout
    assert calls(hass_mocks, OFF) == [SWITCH]
    assert published(hass_mocks, "sensor.load_juggler_tank_state")[0] == "no_hub"
