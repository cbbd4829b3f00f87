"""The WaterHeater app with a variable-power heater (PowerLoad's options, on an input_number
with an enable switch) and with a staged heater (StagedLoad's `stages`): the tank's
temperature and the heater's entities in, service calls out, never heating at `max_c`.

Site: HUB_ARGS (3 phases, 230 V, 25 A main breaker, 5 s cycles, 2 A of house per phase, no
sun). 200 l hold 232.6 Wh per kelvin; the clock starts at 12:00 (UTC)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, calls, published, set_grid, set_solar

from load_juggler.config import LoadConfigError
from load_juggler.config.kinds.water_heater import parse_water_heater
from load_juggler.engine.model import LoadKind
from load_juggler.hub import Hub
from load_juggler.loads.water_heater import WaterHeater

SET = "input_number/set_value"
ENABLE_ON = "input_boolean/turn_on"
ENABLE_OFF = "input_boolean/turn_off"
NUMBER = "input_number.boiler_power"
ENABLE = "input_boolean.boiler_enable"
WATTS = {"unit_of_measurement": "W", "min": 0, "max": 3000, "step": 1}
TANK = {"hub": "lj_hub", "temperature_sensor": "sensor.tank", "volume_l": 200, "max_c": 70}
POWER_HEATER = {
    "heater_entity": NUMBER,
    "enable_switch": ENABLE,
    "min_power_w": 500,
    "max_power_w": 3000,
    "step_w": 250,
    "phase_map": ["B"],
}
#: 1 kW and 2 kW elements on the one line: steps of 1 kW and 3 kW.
STAGED_HEATER = {
    "stages": [
        {"switch": "switch.element_1", "power_w": 1000},
        {"switch": "switch.element_2", "power_w": 2000},
    ],
    "phase_map": ["B"],
}


def entity_call(entity: str) -> dict[str, Any]:
    return {"suppress_log_messages": True, "entity_id": entity}


def set_tank(given_that: Any, value: float) -> None:
    given_that.state_of("sensor.tank").is_set_to(str(value), {"unit_of_measurement": "°C"})


@pytest.fixture
def site(given_that: Any) -> Any:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of(NUMBER).is_set_to("0", WATTS)
    given_that.state_of(ENABLE).is_set_to("off")
    given_that.state_of("switch.element_1").is_set_to("off")
    given_that.state_of("switch.element_2").is_set_to("off")
    return given_that


def start(ad: Any, heater: dict[str, Any], **args: Any) -> Any:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    return ad(WaterHeater, "tank", **copy.deepcopy({**TANK, **heater, **args}))


def test_a_variable_power_heater_heats_at_its_max_and_stops_at_max_c(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, POWER_HEATER, mode="continuous")
    time_travel.fast_forward(5).seconds()
    # A start goes to the minimum first (500 W), the enable switch on after the value.
    assert [c["value"] for c in calls(hass_mocks, SET)] == [500]
    assert calls(hass_mocks, ENABLE_ON) == [entity_call(ENABLE)]
    site.state_of(NUMBER).is_set_to("500", WATTS)
    site.state_of(ENABLE).is_set_to("on")
    set_grid(site, 2, 2 + 500 / 230, 2)
    time_travel.fast_forward(5).seconds()
    # Phase B has 25 - 2 = 23 A left: the whole 3000 W (13.04 A) fits.
    assert [c["value"] for c in calls(hass_mocks, SET)] == [500, 3000]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_state")
    assert state == "on"  # no car: on, not charging
    assert attrs["set_w"] == 3000.0 and attrs["thermostat"] == "heating"
    assert published(hass_mocks, "sensor.load_juggler_tank_allocated_power")[0] == "3000.0"

    site.state_of(NUMBER).is_set_to("3000", WATTS)
    set_grid(site, 2, 2 + 3000 / 230, 2)
    set_tank(site, 70.5)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ENABLE_OFF) == [entity_call(ENABLE)]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_thermostat")
    assert (state, attrs["reason"]) == ("safety_stop", "safety stop: 70.5 C >= max_c 70 C")
    site.state_of(ENABLE).is_set_to("off")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ENABLE_OFF) == [entity_call(ENABLE)]  # off already
    # Enabled by hand at 70.5 C: switched off again.
    site.state_of(ENABLE).is_set_to("on")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ENABLE_OFF) == [entity_call(ENABLE)] * 2
    assert [c["value"] for c in calls(hass_mocks, SET)] == [500, 3000]


def test_a_variable_power_heater_follows_the_surplus_in_solar_only(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, POWER_HEATER, mode="solar_only", phase_map=["A"])
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, SET) == []  # importing: no green power
    # 8 A exported on phase A = 1840 W: a start at the minimum, 500 W.
    set_solar(site, 3000)
    set_grid(site, -8, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert [c["value"] for c in calls(hass_mocks, SET)] == [500]
    # Drawing 500 W, the export shrinks by it: still 1840 W of surplus, rounded down to
    # 500 + 5 x 250 = 1750 W.
    site.state_of(NUMBER).is_set_to("500", WATTS)
    site.state_of(ENABLE).is_set_to("on")
    set_grid(site, -8 + 500 / 230, 0, 0)
    time_travel.fast_forward(5).seconds()
    assert [c["value"] for c in calls(hass_mocks, SET)] == [500, 1750]


def test_a_staged_heater_switches_its_largest_step_and_every_element_off_at_max_c(
    ad: Any, site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_tank(site, 40)
    start(ad, STAGED_HEATER, mode="continuous")
    time_travel.fast_forward(5).seconds()
    # A start takes the smallest step first: element 1 (1 kW).
    assert calls(hass_mocks, "switch/turn_on") == [entity_call("switch.element_1")]
    site.state_of("switch.element_1").is_set_to("on")
    set_grid(site, 2, 2 + 1000 / 230, 2)
    time_travel.fast_forward(5).seconds()
    # 3000 W on phase B (13.04 A) fits the 23 A left: both elements.
    assert calls(hass_mocks, "switch/turn_on") == [
        entity_call("switch.element_1"),
        entity_call("switch.element_2"),
    ]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_state")
    assert state == "on" and attrs["elements_wanted"] == "1+2"
    site.state_of("switch.element_2").is_set_to("on")
    set_grid(site, 2, 2 + 3000 / 230, 2)
    set_tank(site, 70.5)
    time_travel.fast_forward(5).seconds()
    # At max_c both go off at once, min_on_s (300 s) or not.
    assert calls(hass_mocks, "switch/turn_off") == [
        entity_call("switch.element_1"),
        entity_call("switch.element_2"),
    ]
    site.state_of("switch.element_1").is_set_to("off")
    site.state_of("switch.element_2").is_set_to("off")
    set_grid(site, 2, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, "switch/turn_off")) == 2  # off already
    # Element 2 switched on by hand at 70.5 C: off again.
    site.state_of("switch.element_2").is_set_to("on")
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, "switch/turn_off")[2:] == [entity_call("switch.element_2")]
    assert len(calls(hass_mocks, "switch/turn_on")) == 2


def test_the_engine_sees_the_heaters_kind_and_the_planner_its_max_power() -> None:
    common, tank = parse_water_heater("tank", {**TANK, **POWER_HEATER})
    assert common.kind is LoadKind.EVSE and common.power_range_w == (500, 3000)
    assert tank.tank.rated_w == 3000
    # 3000 W on one line of 230 V: 13.04 A; 500 W: 2.17 A.
    load = common.engine_load(230.0, None)
    assert (round(load.min_a, 2), round(load.max_a, 2)) == (2.17, 13.04)
    common, tank = parse_water_heater("tank", {**TANK, **STAGED_HEATER})
    assert common.kind is LoadKind.EVSE and common.step_line_w == (1000, 3000)
    assert tank.tank.rated_w == 3000
    assert common.engine_load(230.0, None).steps_a == pytest.approx(
        (1000 / 230, 3000 / 230), abs=0.1
    )
    common, tank = parse_water_heater("tank", {**TANK, "switch": "switch.b", "power_w": 2000})
    assert common.kind is LoadKind.PLUG and tank.tank.rated_w == 2000


@pytest.mark.parametrize(
    ("heater", "problem"),
    [
        (
            {},
            "key 'switch / heater_entity / stages' = None is invalid: exactly one is required",
        ),
        (
            {"switch": "switch.b", "power_w": 2000, "heater_entity": NUMBER, "max_power_w": 3000},
            "key 'switch / heater_entity / stages' = ['switch', 'heater_entity'] is invalid",
        ),
        ({"switch": "switch.b"}, "key 'power_w' = None is invalid: required with `switch`"),
        (
            {"heater_entity": NUMBER},
            "key 'max_power_w' = None is invalid: required with `heater_entity`",
        ),
        (
            {**STAGED_HEATER, "power_w": 2000},
            "key 'power_w' = 2000 is invalid: belongs to a `switch` heater, not with `stages`",
        ),
        (
            {**POWER_HEATER, "min_on_s": 60},
            "key 'min_on_s' = 60 is invalid: belongs to a `stages` heater, not with "
            "`heater_entity`",
        ),
    ],
)
def test_exactly_one_heater_and_only_its_keys(heater: dict[str, Any], problem: str) -> None:
    with pytest.raises(LoadConfigError) as err:
        parse_water_heater("tank", {**TANK, **heater})
    assert problem in str(err.value)


def test_a_tank_on_the_entity_of_a_variable_power_load_is_refused(
    ad: Any, site: Any, hass_mocks: Any
) -> None:
    from load_juggler.loads.power import PowerLoad

    set_tank(site, 40)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(PowerLoad, "diverter", hub="lj_hub", entity=NUMBER, max_power_w=3000)
    ad(WaterHeater, "tank", **copy.deepcopy({**TANK, **POWER_HEATER}))
    assert ad.apps["lj_hub"].load_names == ["diverter"]
    state, attrs = published(hass_mocks, "sensor.load_juggler_tank_state")
    assert state == "error"
    assert f"entity {NUMBER} is already driven by app 'diverter'" in attrs["reason"]
