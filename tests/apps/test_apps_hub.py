"""Hub app: loop registration, modes, stale grid, bad configs, loads coming and going."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import (
    HUB_ARGS,
    START,
    calls,
    fire_state,
    limit_calls,
    logs,
    published,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.config import MODE_OPTIONS
from load_juggler.hub import Hub
from load_juggler.loads.base import REGISTER_CHECK_S
from load_juggler.loads.ocpp import OcppCharger

SERVICE = "ocpp/set_charge_rate"


def limits(hass_mocks: Any, devid: str | None = None) -> list[float]:
    return [
        c["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for c in limit_calls(hass_mocks)
        if devid is None or c["devid"] == devid
    ]


@pytest.fixture
def quiet_site(given_that: Any) -> None:
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging")
    set_charger(given_that, "cp2", "Charging")


def test_run_every_is_registered_with_the_period(ad: Any, quiet_site: Any, hass_mocks: Any) -> None:
    args = copy.deepcopy(HUB_ARGS)
    args["period_s"] = 7
    hub = ad(Hub, "lj_hub", **args)
    hass_mocks.hass_functions["run_every"].assert_any_call(hub.tick, "now", 7.0)


def test_two_chargers_share_the_garage_circuit(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_grid(given_that, 2, 2, 2)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage", priority=1)
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2", circuit="garage", priority=2)
    time_travel.fast_forward(5).seconds()
    assert limits(hass_mocks, "cp1") == [6.0]
    assert limits(hass_mocks, "cp2") == [6.0]
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_charger(given_that, "cp2", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 14, 14, 14)
    time_travel.fast_forward(5).seconds()
    # Garage 20 A: both get min (12 A), the remaining 8 A go to priority 1.
    assert limits(hass_mocks, "cp1")[-1] == 14.0
    assert limits(hass_mocks, "cp2")[-1] == 6.0
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "ok"
    assert attrs["allocation"]["evse1"]["current_a"] == 14.0
    assert attrs["allocation"]["evse2"]["current_a"] == 6.0
    assert attrs["allocation"]["evse1"]["state"] == "charging"
    assert attrs["limits"] == {
        "evse1": "circuit garage phase A",
        "evse2": "circuit garage phase A",
    }
    assert attrs["binding_constraints"] == ["circuit garage phase A"]
    assert attrs["loads"] == ["evse1", "evse2"]
    assert published(hass_mocks, "sensor.load_juggler_circuit_garage_headroom_phase_c")[0] == "0.0"
    assert (
        published(hass_mocks, "sensor.load_juggler_circuit_garage_allocated_phase_c")[0] == "20.0"
    )


def test_mode_select_change_takes_effect_next_cycle(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": list(MODE_OPTIONS)}
    )
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", mode_select="input_select.evse1_mode")
    hass_mocks.hass_functions["listen_state"].assert_any_call(
        ad.apps["evse1"]._on_mode_select, "input_select.evse1_mode"
    )
    time_travel.fast_forward(5).seconds()
    assert limits(hass_mocks) == [6.0]
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["mode"] == "continuous"

    given_that.state_of("input_select.evse1_mode").is_set_to("Off", {"options": list(MODE_OPTIONS)})
    assert fire_state(hass_mocks, "input_select.evse1_mode", "Off", "Continuous") == 1
    assert limits(hass_mocks) == [6.0]  # nothing happens between cycles
    time_travel.fast_forward(5).seconds()
    assert limits(hass_mocks) == [6.0, 0.0]
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert state == "off"
    assert attrs["mode"] == "off"
    assert published(hass_mocks, "sensor.load_juggler_evse1_reason")[0] == "mode off"

    # An option that is not a mode is ignored with a warning; the mode stays off.
    fire_state(hass_mocks, "input_select.evse1_mode", "Turbo", "Off")
    assert len(logs(hass_mocks, "'Turbo', which is not a mode", "WARNING")) == 1
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["mode"] == "off"


def test_mode_select_with_wrong_options(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any
) -> None:
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": ["Continuous", "Off", "Fast"]}
    )
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", mode_select="input_select.evse1_mode")
    missing = logs(hass_mocks, "lacks the option(s)", "WARNING")
    assert missing == [
        "mode_select input_select.evse1_mode lacks the option(s) Solar Priority, Solar Only, "
        "Excess (it has: Continuous, Off, Fast)"
    ]
    assert calls(hass_mocks, "input_select/set_options") == []
    ad(
        OcppCharger,
        "evse2",
        hub="lj_hub",
        charger="cp2",
        mode_select="input_select.evse1_mode",
        fix_mode_options=True,
    )
    assert calls(hass_mocks, "input_select/set_options") == [
        {"entity_id": "input_select.evse1_mode", "options": list(MODE_OPTIONS)}
    ]


def test_unavailable_grid_sensor_falls_back_to_min_after_timeout(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()  # t=10 s: 15 A, last good grid reading
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    assert limits(hass_mocks) == [6.0, 15.0]
    set_grid(given_that, "unavailable", "unavailable", "unavailable")
    time_travel.fast_forward(55).seconds()  # t=65 s: 55 s without a reading, value held
    assert limits(hass_mocks) == [6.0, 15.0]
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "ok"
    time_travel.fast_forward(10).seconds()  # t=75 s: stale for >= 60 s
    assert limits(hass_mocks) == [6.0, 15.0, 6.0]
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "grid_stale"
    assert attrs["allocation"]["evse1"]["state"] == "stale_fallback"
    assert len(logs(hass_mocks, "grid current sensor has no valid value", "WARNING")) == 1
    # The sensor comes back: normal control resumes. The car follows its 6 A fallback, so the
    # grid shows 10 A of house plus 6 A of car.
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_status")[0] == "ok"
    assert limits(hass_mocks)[-1] == 15.0


def test_bad_hub_config_allocates_nothing_and_says_why(
    ad: Any, quiet_site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    args = copy.deepcopy(HUB_ARGS)
    args["site"] = {"phases": 2, "voltage": 230}  # bad phases, no main breaker
    args["perid_s"] = 5
    args["circuits"]["garage"]["parent"] = "panel"
    hub = ad(Hub, "lj_hub", **args)
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(30).seconds()
    errors = [
        str(c.args[0])
        for c in hass_mocks.hass_functions["log"].call_args_list
        if c.kwargs.get("level") == "ERROR" and "app 'lj_hub'" in str(c.args[0])
    ]
    assert errors == [
        "app 'lj_hub': key 'site.phases' = 2 is invalid: must be one of 1, 3",
        "app 'lj_hub': key 'site.main_breaker_a' = None is invalid: required: a number",
        "app 'lj_hub': key 'circuits.garage.parent' = 'panel' is invalid: must be another circuit "
        "id (none) or omitted for the main breaker",
        "app 'lj_hub': key 'perid_s' = 5 is invalid: unknown key; did you mean 'period_s'? "
        "allowed: battery, capacity_limit_w, capacity_window_s, circuits, control, dry_run, "
        "entity_prefix, inverter, period_s, "
        "republish_s, sensors, site, state_file",
    ]
    tick_timers = [
        c for c in hass_mocks.hass_functions["run_every"].call_args_list if c.args[0] == hub.tick
    ]
    assert tick_timers == []
    assert limit_calls(hass_mocks) == []
    state, attrs = published(hass_mocks, "sensor.load_juggler_status")
    assert state == "error"
    assert attrs["reason"] == errors[0]
    assert len(attrs["problems"]) == 4
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "error"
    assert hub.load_names == []


def test_bad_load_app_fails_alone(
    ad: Any, quiet_site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse_bad", hub="lj_hub", charger="cp2", max_amps=16, min_a=0, mode="fast")
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(5).seconds()
    bad = logs(hass_mocks, "app 'evse_bad'", "ERROR")
    assert bad == [
        "app 'evse_bad': key 'mode' = 'fast' is invalid: must be one of continuous, "
        "solar_priority, solar_only, excess, off",
        "app 'evse_bad': key 'min_a' = 0 is invalid: must be a number > 0 and <= 80",
        "app 'evse_bad': key 'max_amps' = 16 is invalid: unknown key; did you mean 'max_a'? "
        "allowed: auto_remap, battery_kwh, charge_efficiency, charger, circuit, conn_id, "
        "connectors, device, devid, entities, failsafe_a, failsafe_profile_id, fix_mode_options, "
        "hub, idle_power_w, idle_timeout_s, max_a, max_price, min_a, mode, mode_select, "
        "phase_map, phases, price_attribute, price_sensor, priority, profile_id, "
        "profile_validity, rate_unit, ready_by, refresh_s, schedule, soc_sensor, stack_level, "
        "target_energy_kwh, target_soc, validity_s, verify_s",
    ]
    assert published(hass_mocks, "sensor.load_juggler_evse_bad_state")[0] == "error"
    assert ad.apps["lj_hub"].load_names == ["evse1"]
    assert limits(hass_mocks, "cp1") == [6.0]
    assert limits(hass_mocks, "cp2") == []


def test_load_with_unknown_circuit_is_refused(
    ad: Any, quiet_site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garag")
    reason = (
        "app 'evse1': key 'circuit' = 'garag' is invalid: "
        "must name a circuit of hub 'lj_hub': garage"
    )
    assert logs(hass_mocks, reason, "ERROR") == [
        f"rejected load: {reason}",
        f"hub 'lj_hub' refused this load: {reason}",
    ]
    assert hub.load_names == []
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "error"
    time_travel.fast_forward(30).seconds()
    assert len(logs(hass_mocks, "refused this load", "ERROR")) == 1  # re-checked, not re-logged


def test_loads_register_and_unregister_at_runtime(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_grid(given_that, 2, 2, 2)
    # A load whose hub is not running yet waits, then registers by itself.
    early = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    assert len(logs(hass_mocks, "hub app 'lj_hub' is not running (yet)", "WARNING")) == 1
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "waiting_for_hub"
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    assert hub.load_names == []
    time_travel.fast_forward(REGISTER_CHECK_S).seconds()
    assert hub.load_names == ["evse1"]
    assert hub.is_registered(early)

    # A second load added while running is balanced from the next cycle.
    ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2", circuit="garage")
    assert hub.load_names == ["evse1", "evse2"]
    time_travel.fast_forward(5).seconds()
    assert sorted(hub.last_result.commands) == ["evse1", "evse2"]

    # Removed from apps.yaml: AppDaemon terminates it and the hub forgets it.
    ad.stop("evse1")
    assert hub.load_names == ["evse2"]
    n_cp1 = len(limits(hass_mocks, "cp1"))
    time_travel.fast_forward(5).seconds()
    assert sorted(hub.last_result.commands) == ["evse2"]
    assert len(limits(hass_mocks, "cp1")) == n_cp1

    # Reloaded with another config: the new instance replaces the old one.
    old = ad.apps["evse2"]
    ad.stop("evse2")
    new = ad(OcppCharger, "evse2", hub="lj_hub", charger="cp2", circuit="garage", max_a=10)
    assert hub.is_registered(new)
    assert not hub.is_registered(old)
    assert hub._specs["evse2"].max_a == 10.0

    # The hub itself restarts: loads find the new instance within one check period.
    ad.stop("lj_hub")
    hub2 = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    time_travel.fast_forward(REGISTER_CHECK_S).seconds()
    assert hub2.load_names == ["evse2"]


def test_grid_power_entity_with_phase_attributes(
    ad: Any, given_that: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    given_that.state_of("sensor.grid_power").is_set_to(
        "3.45", {"L1": 0.46, "L2": 1.15, "L3": -0.23, "unit_of_measurement": "kW"}
    )
    given_that.state_of("sensor.grid_voltage").is_set_to("230")
    given_that.state_of("sensor.battery_soc").is_set_to("55")
    given_that.state_of("sensor.battery_power").is_set_to("-1200", {"unit_of_measurement": "W"})
    args = copy.deepcopy(HUB_ARGS)
    args["sensors"] = {
        "grid_power": "sensor.grid_power",
        "voltage": "sensor.grid_voltage",
        "battery_soc": "sensor.battery_soc",
        "battery_power": "sensor.battery_power",
        "battery_power_invert": True,
    }
    args["battery"] = {
        "min_soc": 20,
        "target_soc": 80,
        "max_charge_w": 3000,
        "max_discharge_w": 3000,
    }
    hub = ad(Hub, "lj_hub", **args)
    time_travel.fast_forward(5).seconds()
    snap = hub.last_result.snapshot
    assert snap.grid_a == (2.0, 5.0, -1.0)
    assert snap.battery_soc_pct == 55.0
    assert snap.battery_power_w == 1200.0  # inverted: the sensor's -1200 W means charging


def test_refused_set_options_is_reported_not_claimed(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any
) -> None:
    """HA answers success False (e.g. the helper is YAML-defined): say so, don't claim success."""
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": ["Continuous", "Off"]}
    )
    hass_mocks.hass_functions["call_service"].return_value = {
        "success": False,
        "error": {"code": "home_assistant_error", "message": "not editable"},
    }
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        mode_select="input_select.evse1_mode",
        fix_mode_options=True,
    )
    assert len(calls(hass_mocks, "input_select/set_options")) == 1
    assert logs(hass_mocks, "set the options of", "INFO") == []
    refused = logs(hass_mocks, "could not set the options of input_select.evse1_mode", "WARNING")
    assert len(refused) == 1 and "not editable" in refused[0]


def test_a_second_hub_on_the_same_prefix_is_warned_about(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any
) -> None:
    # Another site's hub already publishes sensor.load_juggler_status.
    given_that.state_of("sensor.load_juggler_status").is_set_to("ok", {"hub": "garage_hub"})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    assert logs(hass_mocks, "published by hub 'garage_hub'", level="WARNING") == [
        "sensor.load_juggler_status was published by hub 'garage_hub': if that hub still runs, "
        "give one of them its own entity_prefix, or both write sensor.load_juggler_* (ignore "
        "this after renaming a hub)"
    ]


def test_the_hubs_own_status_entity_is_no_reason_to_warn(
    ad: Any, quiet_site: Any, given_that: Any, hass_mocks: Any
) -> None:
    given_that.state_of("sensor.load_juggler_status").is_set_to("ok", {"hub": "lj_hub"})
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    assert logs(hass_mocks, "published by hub", level="WARNING") == []
    assert logs(hass_mocks, "started: 3-phase site") != []
