"""Property: garbage in any sensor the hub reads never raises a load's current.

Random garbage (huge, negative, NaN, inf, text, wrong units) replaces one site sensor's state for
one cycle after the site has settled; no load's allocated current may be higher on that cycle
than on the settled one before it. Examples are few: every one drives the real apps through
appdaemontestframework.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lj_support import HUB_ARGS, START, set_charger

from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.switch import SwitchLoad

#: Every site sensor the hub reads, with its good state and unit.
GOOD: dict[str, tuple[str, dict[str, Any]]] = {
    "sensor.grid_l1": ("-2", {"unit_of_measurement": "A"}),
    "sensor.grid_l2": ("-2", {"unit_of_measurement": "A"}),
    "sensor.grid_l3": ("-2", {"unit_of_measurement": "A"}),
    "sensor.solar_power": ("5000", {"unit_of_measurement": "W"}),
    "sensor.voltage": ("230", {"unit_of_measurement": "V"}),
    "sensor.soc": ("85", {"unit_of_measurement": "%"}),
    "sensor.battery_power": ("0", {"unit_of_measurement": "W"}),
    "sensor.cap": ("10", {"unit_of_measurement": "kW"}),
    "sensor.garage_current": ("0", {"L1": 6, "L2": 6, "L3": 6, "unit_of_measurement": "A"}),
    "sensor.garage_power": ("4.1", {"unit_of_measurement": "kW"}),
}

HUGE = st.floats(min_value=1e6, max_value=1e15).flatmap(lambda x: st.sampled_from([x, -x]))
NEGATIVE = st.floats(min_value=-1e4, max_value=-1000)
ODD = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), "unavailable", "unknown", "", "abc", "12,5", "on"]
)
WRONG_UNITS = st.sampled_from(["kWh", "°C", "Hz", "VA", "var", "km"])


@st.composite
def garbage(draw: Any) -> tuple[str, str, dict[str, Any]]:
    """(entity, state, attributes): one sensor with a state or unit no working meter reports."""
    entity = draw(st.sampled_from(sorted(GOOD)))
    state, attrs = GOOD[entity]
    attrs = dict(attrs)
    kind = draw(st.sampled_from(["huge", "negative", "odd", "unit"]))
    value: Any = state
    if kind == "huge":
        value = draw(HUGE)
    elif kind == "negative":
        value = draw(NEGATIVE)
    elif kind == "odd":
        value = draw(ODD)
    else:  # a number that would matter if read in the entity's own unit
        attrs["unit_of_measurement"] = draw(WRONG_UNITS)
        value = draw(st.floats(min_value=-30, max_value=20000).map(lambda x: round(x, 1)))
    if entity == "sensor.garage_current":
        attrs[draw(st.sampled_from(["L1", "L2", "L3"]))] = value
    elif entity.startswith("sensor.grid") and kind == "negative":
        value = -abs(value) * 10  # a modest negative grid reading is real export, not garbage
    else:
        state = str(value)
    return entity, state, attrs


def settle(given_that: Any, time_travel: Any, hub: Hub) -> dict[str, float]:
    for entity, (state, attrs) in GOOD.items():
        given_that.state_of(entity).is_set_to(state, attrs)
    before: dict[str, float] = {}
    for _ in range(6):
        time_travel.fast_forward(5).seconds()
        now = allocated(hub)
        if now == before:
            return now
        before = now
    raise AssertionError(f"the site does not settle: {before}")


def allocated(hub: Hub) -> dict[str, float]:
    assert hub.last_result is not None
    return {
        name: (cmd.current_a if cmd.on else 0.0) for name, cmd in hub.last_result.commands.items()
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=garbage())
def test_garbage_in_a_sensor_never_raises_a_load(
    ad: Any, given_that: Any, time_travel: Any, bad: tuple[str, str, dict[str, Any]]
) -> None:
    hub = ad.apps.get("lj_hub")
    if hub is None:  # first example: build the site once, examples share it
        given_that.time_is(START)
        args = copy.deepcopy(HUB_ARGS)
        args["site"]["max_import_w"] = 11000
        args["sensors"] = {
            "grid_current": ["sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3"],
            "solar_power": "sensor.solar_power",
            "voltage": "sensor.voltage",
            "battery_soc": "sensor.soc",
            "battery_power": "sensor.battery_power",
            "max_import": "sensor.cap",
        }
        args["battery"] = {"max_charge_w": 3000, "max_discharge_w": 0}
        args["circuits"] = {
            "garage": {
                "limit_a": 20,
                "current_sensor": "sensor.garage_current",
                "power_sensor": "sensor.garage_power",
            }
        }
        for entity, (state, attrs) in GOOD.items():
            given_that.state_of(entity).is_set_to(state, attrs)
        set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
        given_that.state_of("switch.boiler").is_set_to("on")
        hub = ad(Hub, "lj_hub", **args)
        ad(
            OcppCharger,
            "evse1",
            hub="lj_hub",
            charger="cp1",
            circuit="garage",
            mode="solar_priority",
            max_a=32,
        )
        ad(
            SwitchLoad,
            "boiler",
            hub="lj_hub",
            switch="switch.boiler",
            power_w=1500,
            mode="excess",
            phase_map=["B"],
        )
    settled = settle(given_that, time_travel, hub)
    assert 6.0 < settled["evse1"] < 20.0  # solar-limited: free to rise if garbage looked like sun
    entity, state, attrs = bad
    given_that.state_of(entity).is_set_to(state, attrs)
    time_travel.fast_forward(5).seconds()
    after = allocated(hub)
    for name, amps in after.items():
        assert amps <= settled.get(name, 0.0) + 1e-9, (name, settled, after, bad)
