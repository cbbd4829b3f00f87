"""Hub site inputs and outputs through HA states: every grid sensor layout, the voltage used for
watts, the max-import entity, the circuit tree with `members`, the default cycle and the
attributes HA needs on the published sensors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import (
    HUB_ARGS,
    START,
    calls,
    logs,
    published,
    quiet_site_with_charger,
    set_charger,
    set_grid,
)

from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger

SERVICE = "ocpp/set_charge_rate"


def hub_args(**changes: Any) -> dict[str, Any]:
    args = copy.deepcopy(HUB_ARGS)
    args.update(changes)
    return args


def last_limit(hass_mocks: Any) -> float:
    profile = calls(hass_mocks, SERVICE)[-1]["custom_profile"]
    return profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]


def test_default_cycle_is_five_seconds(ad: Any, given_that: Any, hass_mocks: Any) -> None:
    given_that.time_is(START)
    args = hub_args()
    del args["period_s"]
    hub = ad(Hub, "lj_hub", **args)
    hass_mocks.hass_functions["run_every"].assert_any_call(hub.tick, "now", 5.0)


def test_grid_current_one_entity_with_phase_attributes(
    ad: Any, given_that: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    given_that.state_of("sensor.grid").is_set_to(
        "4.0", {"L1": 3.5, "L2": "7.25", "L3": -1.5, "unit_of_measurement": "A"}
    )
    hub = ad(Hub, "lj_hub", **hub_args(sensors={"grid_current": "sensor.grid"}))
    time_travel.fast_forward(5).seconds()
    assert hub.last_result.snapshot.grid_a == (3.5, 7.25, -1.5)

    # Custom attribute names.
    given_that.state_of("sensor.meter").is_set_to("4.0", {"i_a": 1.0, "i_b": 0, "i_c": 2.0})
    hub2 = ad(
        Hub,
        "lj_hub2",
        **hub_args(
            sensors={"grid_current": "sensor.meter", "grid_phase_attributes": ["i_a", "i_b", "i_c"]}
        ),
    )
    time_travel.fast_forward(5).seconds()
    assert hub2.last_result.snapshot.grid_a == (1.0, 0.0, 2.0)


def test_grid_power_per_phase_is_divided_by_the_measured_voltage(
    ad: Any, given_that: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    for n, watts in ((1, "480"), (2, "2400"), (3, "-1200")):
        given_that.state_of(f"sensor.grid_power_l{n}").is_set_to(
            watts, {"unit_of_measurement": "W"}
        )
    given_that.state_of("sensor.grid_voltage").is_set_to("240")
    sensors = {
        "grid_power": ["sensor.grid_power_l1", "sensor.grid_power_l2", "sensor.grid_power_l3"],
        "voltage": "sensor.grid_voltage",
    }
    hub = ad(Hub, "lj_hub", **hub_args(sensors=sensors))
    time_travel.fast_forward(5).seconds()
    assert hub.last_result.snapshot.grid_a == (2.0, 10.0, -5.0)  # W / 240 V, not / 230 V

    # An implausible voltage reading keeps the last good one until it is stale
    # (control.sensor_stale_timeout_s, 300 s), then falls back to site.voltage (230 V).
    given_that.state_of("sensor.grid_voltage").is_set_to("0")
    time_travel.fast_forward(290).seconds()
    assert hub.last_result.snapshot.grid_a == (2.0, 10.0, -5.0)
    time_travel.fast_forward(10).seconds()
    assert hub.last_result.snapshot.grid_a == pytest.approx(
        (480 / 230, 2400 / 230, -1200 / 230), abs=0.001
    )


def test_max_import_entity_caps_what_the_charger_gets(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    given_that.state_of("sensor.import_cap").is_set_to("20.7", {"unit_of_measurement": "kW"})
    sensors = {**HUB_ARGS["sensors"], "max_import": "sensor.import_cap"}
    ad(Hub, "lj_hub", **hub_args(sensors=sensors))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", max_a=16)
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 8, 8, 8)
    time_travel.fast_forward(5).seconds()
    assert last_limit(hass_mocks) == 16.0  # 20.7 kW = 30 A per phase: no cap reached

    # The cap entity drops to 6.9 kW = 10 A per phase; the house takes 2 A of it.
    given_that.state_of("sensor.import_cap").is_set_to("6.9", {"unit_of_measurement": "kW"})
    set_charger(given_that, "cp1", "Charging", (16.0, 16.0, 16.0))
    set_grid(given_that, 18, 18, 18)
    time_travel.fast_forward(5).seconds()
    assert last_limit(hass_mocks) == pytest.approx(8.0, abs=0.1)
    _, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert attrs["allocation"]["evse1"]["reason"] == "import cap"
    assert attrs["binding_constraints"] == ["import cap"]


def test_circuit_tree_with_members_limits_the_load(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """`members:` puts a load (without `circuit:`) on a circuit; the parent's limit binds too."""
    quiet_site_with_charger(given_that)
    circuits = {
        "panel": {"limit_a": 12},
        "garage": {"limit_a": 20, "parent": "panel", "members": ["evse1"]},
    }
    hub = ad(Hub, "lj_hub", **hub_args(circuits=circuits))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", max_a=16)
    assert hub._specs["evse1"].circuit == "garage"
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 8, 8, 8)
    time_travel.fast_forward(5).seconds()
    assert last_limit(hass_mocks) == 12.0  # the panel above the garage: 12 A
    _, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert attrs["allocation"]["evse1"]["reason"] == "circuit panel phase A"
    for circuit, headroom in (("panel", "0.0"), ("garage", "8.0")):
        assert published(hass_mocks, f"sensor.load_juggler_circuit_{circuit}_allocated_phase_a")[
            0
        ] == ("12.0")
        assert (
            published(hass_mocks, f"sensor.load_juggler_circuit_{circuit}_headroom_phase_a")[0]
            == headroom
        )


def test_circuit_entities_count_a_repeated_phase_once_per_line(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A 3-phase charger wired [A, A, A] (a 1-phase supply) puts its current three times on A."""
    quiet_site_with_charger(given_that)
    circuits = {"garage": {"limit_a": 24, "members": ["evse1"]}}
    ad(Hub, "lj_hub", **hub_args(circuits=circuits))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", max_a=16, phase_map=["A", "A", "A"])
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 19, 1, 1)  # 1 A of house on each phase + the car's 3 x 6 A on A
    time_travel.fast_forward(5).seconds()
    # Phase A: (25 A breaker - 1 A house) / 3 lines = 8 A; the garage: 24 A / 3 lines = 8 A.
    assert last_limit(hass_mocks) == 8.0
    garage = "sensor.load_juggler_circuit_garage_"
    assert published(hass_mocks, f"{garage}allocated_phase_a")[0] == "24.0"
    assert published(hass_mocks, f"{garage}headroom_phase_a")[0] == "0.0"
    assert published(hass_mocks, f"{garage}allocated_phase_b")[0] == "0.0"
    assert published(hass_mocks, f"{garage}headroom_phase_b")[0] == "24.0"
    state, attrs = published(hass_mocks, "sensor.load_juggler_headroom_phase_a")
    assert (state, attrs["managed_a"], attrs["background_a"]) == ("0.0", 24.0, 1.0)


def test_published_sensors_carry_what_ha_needs(
    ad: Any, given_that: Any, time_travel: Any, hass_mocks: Any
) -> None:
    quiet_site_with_charger(given_that)
    ad(Hub, "lj_hub", **hub_args())
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    time_travel.fast_forward(5).seconds()
    numeric = {
        "sensor.load_juggler_available_current_phase_a": ("A", "current"),
        "sensor.load_juggler_headroom_phase_b": ("A", "current"),
        "sensor.load_juggler_solar_surplus": ("W", "power"),
        "sensor.load_juggler_circuit_garage_allocated_phase_c": ("A", "current"),
        "sensor.load_juggler_circuit_garage_headroom_phase_a": ("A", "current"),
        "sensor.load_juggler_evse1_allocated_current": ("A", "current"),
    }
    for entity_id, (unit, device_class) in numeric.items():
        _, attrs = published(hass_mocks, entity_id)
        assert attrs["friendly_name"], entity_id
        assert attrs["unit_of_measurement"] == unit, entity_id
        assert attrs["device_class"] == device_class, entity_id
        assert attrs["state_class"] == "measurement", entity_id
    for entity_id in ("sensor.load_juggler_status", "sensor.load_juggler_evse1_state"):
        _, attrs = published(hass_mocks, entity_id)
        assert attrs["friendly_name"] and attrs["device_class"] == "enum", entity_id
        assert "unit_of_measurement" not in attrs and "state_class" not in attrs, entity_id
    assert published(hass_mocks, "sensor.load_juggler_evse1_reason")[1]["friendly_name"]


def test_a_grid_entity_in_a_wrong_unit_is_refused_once_and_goes_stale(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    hub = ad(Hub, "lj_hub", **hub_args())
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(5).seconds()
    given_that.state_of("sensor.grid_l2").is_set_to("2", {"unit_of_measurement": "kWh"})
    time_travel.fast_forward(30).seconds()
    assert hub.last_result.status.value == "ok"  # held within grid_stale_timeout_s
    time_travel.fast_forward(35).seconds()
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "grid_stale"
    assert logs(hass_mocks, "sensor.grid_l2 reports", "WARNING") == [
        "sensor.grid_l2 reports unit 'kWh', which is not a current or a power (A, mA, W, kW or "
        "MW); its value is ignored until the unit is fixed"
    ]
    given_that.state_of("sensor.grid_l2").is_set_to("2.3", {"unit_of_measurement": "kW"})
    time_travel.fast_forward(5).seconds()
    assert hub.last_result.snapshot.grid_a[1] == 10.0  # 2300 W / 230 V
    assert logs(hass_mocks, "sensor.grid_l2 reports a usable unit again ('kW')", "INFO")
