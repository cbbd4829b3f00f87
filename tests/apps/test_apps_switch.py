"""Switched load (boiler plug) driven through HA states."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, calls, logs, published, set_grid, set_solar

from load_juggler.engine.control_types import LoadState
from load_juggler.hub import Hub
from load_juggler.loads.base import CycleContext
from load_juggler.loads.switch import SwitchLoad

ON = "switch/turn_on"
OFF = "switch/turn_off"


@pytest.fixture
def boiler(ad: Any, given_that: Any) -> Any:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of("switch.boiler").is_set_to("off")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    return ad(
        SwitchLoad,
        "boiler",
        hub="lj_hub",
        switch="switch.boiler",
        power_sensor="sensor.boiler_power",
        power_w=2000,
        phase_map=["B"],
    )


def test_plug_turns_on_only_on_surplus(
    boiler: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(15).seconds()  # three cycles importing 2 A per phase
    assert calls(hass_mocks, ON) == []
    assert calls(hass_mocks, OFF) == []  # already off: nothing to switch
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "off"
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[0] == "waiting_for_surplus"

    # 5 kW of sun: 7.25 A per phase, house 2 A -> 5.25 A exported per phase (3.6 kW).
    set_solar(given_that, 5000)
    set_grid(given_that, -5.25, -5.25, -5.25)
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, ON) == [{"suppress_log_messages": True, "entity_id": "switch.boiler"}]
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "on"
    state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_allocated_current")
    assert state == str(round(2000 / 230, 2))
    assert attrs["on"] == "true"

    # The boiler runs on phase B; the decision stays "on": no second call.
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("2.0", {"unit_of_measurement": "kW"})
    set_grid(given_that, -5.25, -5.25 + 2000 / 230, -5.25)
    time_travel.fast_forward(15).seconds()
    assert len(calls(hass_mocks, ON)) == 1
    assert calls(hass_mocks, OFF) == []
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[1]["power_w"] == 2000.0

    # Clouds: no more export, the plug goes off once.
    set_solar(given_that, 0)
    set_grid(given_that, 2, 2 + 2000 / 230, 2)
    time_travel.fast_forward(10).seconds()
    assert calls(hass_mocks, OFF) == [{"suppress_log_messages": True, "entity_id": "switch.boiler"}]
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "off"


def test_input_boolean_and_failed_switching_is_retried(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, -9, -9, -9)
    set_solar(given_that, 8000)
    given_that.state_of("input_boolean.heater").is_set_to("off")
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        SwitchLoad,
        "heater",
        hub="lj_hub",
        switch="input_boolean.heater",
        power_w=1000,
        mode="Excess",
    )
    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("not reachable")
    time_travel.fast_forward(10).seconds()
    assert len(calls(hass_mocks, "input_boolean/turn_on")) == 2  # tried in each cycle
    assert published(hass_mocks, "sensor.load_juggler_heater_state")[1]["switched_on"] is None
    hass_mocks.hass_functions["call_service"].side_effect = None
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, "input_boolean/turn_on")) == 3
    assert published(hass_mocks, "sensor.load_juggler_heater_state")[1]["switched_on"] == "true"
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, "input_boolean/turn_on")) == 3


def test_switch_is_turned_off_when_no_hub_sends_commands(
    boiler: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_solar(given_that, 5000)
    set_grid(given_that, -5.25, -5.25, -5.25)
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, ON)) == 1
    given_that.state_of("switch.boiler").is_set_to("on")
    ad.stop("lj_hub")  # removed, or reloading with a configuration error
    time_travel.fast_forward(55).seconds()
    assert calls(hass_mocks, OFF) == []
    time_travel.fast_forward(5).seconds()  # 60 s without a command
    assert calls(hass_mocks, OFF) == [{"suppress_log_messages": True, "entity_id": "switch.boiler"}]
    state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")
    assert state == "no_hub"
    assert attrs["reason"].startswith("no command from hub 'lj_hub' for 60 s")
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "off"
    time_travel.fast_forward(60).seconds()
    assert len(calls(hass_mocks, OFF)) == 1  # switched once, not every tick
    warnings = logs(hass_mocks, "no command from hub", "WARNING")
    assert len(warnings) == 1
    assert warnings[0].endswith("safe state on my own: off")


@pytest.mark.parametrize(
    ("state", "unit", "watts"),
    [
        ("1500", None, 1500.0),
        ("1.5", "kW", 1500.0),
        ("1.5", "KW", 1500.0),
        ("0.0015", "MW", 1500.0),
    ],
)
def test_power_sensor_units(
    boiler: Any, given_that: Any, state: str, unit: str | None, watts: float
) -> None:
    attrs = {} if unit is None else {"unit_of_measurement": unit}
    given_that.state_of("sensor.boiler_power").is_set_to(state, attrs)
    given_that.state_of("switch.boiler").is_set_to("on")
    reading = boiler.reading(CycleContext(0.0, START, 230.0))
    assert reading.draw_a == (round(watts / 230, 3),)


def test_power_sensor_with_a_wrong_unit_is_refused_once(
    boiler: Any, given_that: Any, hass_mocks: Any
) -> None:
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("1.5", {"unit_of_measurement": "kWh"})
    for _ in range(3):
        assert boiler.reading(CycleContext(0.0, START, 230.0)).draw_a is None
    warnings = logs(hass_mocks, "sensor.boiler_power", "WARNING")
    assert warnings == [
        "sensor.boiler_power reports unit 'kWh', which is not a power (W, kW or MW); its value "
        "is ignored until the unit is fixed"
    ]
    given_that.state_of("sensor.boiler_power").is_set_to("1.5", {"unit_of_measurement": "kW"})
    assert boiler.reading(CycleContext(0.0, START, 230.0)).draw_a == (round(1500 / 230, 3),)
    given_that.state_of("sensor.boiler_power").is_set_to("1.5", {"unit_of_measurement": "kWh"})
    boiler.reading(CycleContext(0.0, START, 230.0))
    assert len(logs(hass_mocks, "sensor.boiler_power", "WARNING")) == 2  # a new episode


def _ctx(now_s: float) -> CycleContext:
    return CycleContext(now_s, START, 230.0)


def test_switch_satisfied_after_idle_timeout_below_a_tenth_of_its_rating(
    boiler: Any, given_that: Any
) -> None:
    # 2000 W rated: below 200 W counts as drawing nothing; default idle_timeout_s 300 s.
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("150", {"unit_of_measurement": "W"})
    assert boiler.reading(_ctx(1000.0)).rest is None
    assert boiler.reading(_ctx(1299.0)).rest is None
    rest = boiler.reading(_ctx(1300.0)).rest
    assert rest is not None
    assert rest.state is LoadState.SATISFIED
    assert rest.reason.startswith("on, draws 150 W (< 200 W, 10% of 2000 W) for 300 s")
    # 200 W is a tenth: drawing again, the rest ends at once and the spell starts over.
    given_that.state_of("sensor.boiler_power").is_set_to("200", {"unit_of_measurement": "W"})
    assert boiler.reading(_ctx(1305.0)).rest is None
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    assert boiler.reading(_ctx(1310.0)).rest is None
    assert boiler.reading(_ctx(1609.0)).rest is None
    assert boiler.reading(_ctx(1610.0)).rest is not None


@pytest.mark.parametrize("case", ["switch off", "power unknown"])
def test_switch_off_or_unknown_power_is_not_satisfied(
    boiler: Any, given_that: Any, case: str
) -> None:
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    boiler.reading(_ctx(0.0))
    if case == "switch off":
        given_that.state_of("switch.boiler").is_set_to("off")
    else:
        given_that.state_of("sensor.boiler_power").is_set_to("unavailable")
    assert boiler.reading(_ctx(200.0)).rest is None
    # Either breaks the low spell: 300 s more at 0 W before the switch counts as satisfied.
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    assert boiler.reading(_ctx(300.0)).rest is None
    assert boiler.reading(_ctx(599.0)).rest is None
    assert boiler.reading(_ctx(600.0)).rest is not None


def test_switch_without_power_sensor_is_never_satisfied(ad: Any, given_that: Any) -> None:
    given_that.state_of("switch.plug").is_set_to("on")
    plug = ad(SwitchLoad, "plug", hub="lj_hub", switch="switch.plug", power_w=1000)
    for now_s in (0.0, 400.0, 4000.0):
        assert plug.reading(_ctx(now_s)).rest is None


def test_satisfied_boiler_stays_on_with_nothing_reserved_and_is_reserved_when_it_draws(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of("switch.boiler").is_set_to("off")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        SwitchLoad,
        "boiler",
        hub="lj_hub",
        switch="switch.boiler",
        power_sensor="sensor.boiler_power",
        power_w=2300,
        phase_map=["B"],
        mode="Continuous",
        idle_timeout_s=60,
    )
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, ON)) == 1
    given_that.state_of("switch.boiler").is_set_to("on")
    given_that.state_of("sensor.boiler_power").is_set_to("2300", {"unit_of_measurement": "W"})
    set_grid(given_that, 2, 12, 2)  # house 2 A + 2300 W / 230 V = 10 A on phase B
    time_travel.fast_forward(10).seconds()
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[0] == "on"
    assert published(hass_mocks, "sensor.load_juggler_boiler_allocated_current")[0] == "10.0"

    # At temperature: 0 W. Within the 60 s it still holds its 10 A.
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    set_grid(given_that, 2, 2, 2)
    time_travel.fast_forward(55).seconds()
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[0] == "on"
    time_travel.fast_forward(10).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")
    assert state == "satisfied"
    assert attrs["reason"].startswith("on, draws 0 W (< 230 W, 10% of 2300 W) for 60 s")
    assert published(hass_mocks, "sensor.load_juggler_boiler_allocated_current")[0] == "0.0"
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "on"
    assert calls(hass_mocks, OFF) == []  # kept switched on

    # The thermostat calls for heat: reserved again in the next cycle.
    given_that.state_of("sensor.boiler_power").is_set_to("2300", {"unit_of_measurement": "W"})
    set_grid(given_that, 2, 12, 2)
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[0] == "on"
    assert published(hass_mocks, "sensor.load_juggler_boiler_allocated_current")[0] == "10.0"
    assert calls(hass_mocks, OFF) == []
    assert len(calls(hass_mocks, ON)) == 1
