"""Commands from Home Assistant (event `load_juggler_command`): every command with good and bad
fields, the answer event and log line, and what each does to the load."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from commands_support import answers, car_follows, last_limit, run_cycles, send
from lj_support import (
    HUB_ARGS,
    START,
    calls,
    fire_state,
    logs,
    published,
    quiet_site_with_charger,
    set_grid,
)

from load_juggler.config import MODE_OPTIONS
from load_juggler.engine.model import Strategy
from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.switch import SwitchLoad

STATE = "sensor.load_juggler_evse1_state"


@pytest.fixture
def site(ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any) -> Any:
    """Hub (25 A main, garage 20 A), charger evse1 (6..16 A, 3 phases, garage, continuous)
    and a 2000 W boiler on phase B; the car charges at 16 A after a few cycles."""
    quiet_site_with_charger(given_that)
    given_that.state_of("switch.boiler").is_set_to("off")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    ad(
        SwitchLoad,
        "boiler",
        hub="lj_hub",
        switch="switch.boiler",
        power_sensor="sensor.boiler_power",
        power_w=2000,
        phase_map=["B"],
        mode="off",
    )
    assert run_cycles(given_that, hass_mocks, time_travel, 4) == 16.0
    return hub


def refused(answer: dict[str, Any] | None, *words: str) -> str:
    assert answer is not None and answer["result"] == "error", answer
    reason = str(answer["reason"])
    for word in words:
        assert word in reason, reason
    return reason


# -- set_mode


def test_set_mode_for_a_while_then_the_previous_mode_returns(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    answer = send(
        hass_mocks, command="set_mode", load="evse1", mode="Solar Only", for_s=600, id="a1"
    )
    assert answer == {
        "command": "set_mode",
        "hub": "lj_hub",
        "load": "evse1",
        "result": "ok",
        "reason": "evse1: mode solar_only until 2026-06-01T12:10:20+00:00",
        "id": "a1",
    }
    assert logs(hass_mocks, "command set_mode: evse1: mode solar_only until")
    # No sun: solar_only has nothing to run on.
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0
    _, attrs = published(hass_mocks, STATE)
    assert attrs["mode"] == "solar_only"
    assert attrs["mode_source"] == "command"
    assert attrs["override"] == "mode solar_only"
    assert attrs["override_until"] == "2026-06-01T12:10:20+00:00"
    # 600 s after the command (12:10:20) the configured continuous returns.
    time_travel.fast_forward(580).seconds()
    assert last_limit(hass_mocks) == 0.0
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 16.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"], attrs["override"]) == (
        "continuous",
        "config",
        "none",
    )
    assert logs(hass_mocks, "override: evse1: set_mode solar_only ended")


def test_set_mode_until_a_clock_time(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    answer = send(hass_mocks, command="set_mode", load="evse1", mode="off", until="13:00")
    assert answer is not None and answer["result"] == "ok"
    assert answer["reason"] == "evse1: mode off until 2026-06-01T13:00:00+00:00"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0


def test_until_is_read_in_the_home_assistant_time_zone(site: Any, hass_mocks: Any) -> None:
    hass_mocks.AD.time_zone = "Europe/Brussels"
    # 12:00:20 UTC is 14:00:20 in Brussels (CEST): "15:00" is 13:00 UTC today, "14:00" is
    # tomorrow's, and a naive ISO time is Brussels time too.
    answer = send(hass_mocks, command="set_mode", load="evse1", mode="off", until="15:00")
    assert answer is not None and answer["reason"].endswith("until 2026-06-01T13:00:00+00:00")
    answer = send(hass_mocks, command="set_mode", load="evse1", mode="off", until="14:00")
    assert answer is not None and answer["reason"].endswith("until 2026-06-02T12:00:00+00:00")
    # An unquoted 15:30 in an automation's YAML arrives as 930 (base 60).
    answer = send(hass_mocks, command="set_mode", load="evse1", mode="off", until=930)
    assert answer is not None and answer["reason"].endswith("until 2026-06-01T13:30:00+00:00")
    answer = send(
        hass_mocks, command="boost", load="evse1", until="2026-06-01T18:30:00", energy_kwh=2
    )
    assert answer is not None
    assert answer["reason"] == "evse1: boost: continuous for 2 kWh until 2026-06-01T16:30:00+00:00"


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"mode": "off"}, ("key 'load' = None", "required")),
        ({"load": "evse9", "mode": "off"}, ("key 'load' = 'evse9'", "boiler, evse1")),
        ({"load": "evse1", "mode": "turbo"}, ("key 'mode' = 'turbo'", "continuous")),
        ({"load": "evse1"}, ("key 'mode' = None", "required")),
        ({"load": "evse1", "mode": "off", "for_s": -5}, ("key 'for_s' = -5", "> 0")),
        ({"load": "evse1", "mode": "off", "for_s": "soon"}, ("key 'for_s'", "number")),
        (
            {"load": "evse1", "mode": "off", "for_s": 60, "until": "13:00"},
            ("key 'for_s'", "not both"),
        ),
        ({"load": "evse1", "mode": "off", "until": "25:00"}, ("key 'until' = '25:00'",)),
        (
            {"load": "evse1", "mode": "off", "until": "2026-06-01T11:00:00+00:00"},
            ("key 'until'", "lie ahead"),
        ),
        ({"load": "evse1", "mode": "off", "for": 60}, ("key 'for'", "did you mean 'for_s'")),
    ],
)
def test_set_mode_with_bad_fields_is_refused_and_changes_nothing(
    site: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
    fields: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    reason = refused(send(hass_mocks, command="set_mode", **fields), "command set_mode", *words)
    assert logs(hass_mocks, f"command refused: {reason}", "WARNING")
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 16.0
    assert published(hass_mocks, STATE)[1]["override"] == "none"


def test_an_unknown_command_and_bad_event_data_are_refused(site: Any, hass_mocks: Any) -> None:
    refused(send(hass_mocks, command="turbo", load="evse1"), "key 'command' = 'turbo'", "set_mode")
    refused(send(hass_mocks, load="evse1"), "key 'command' = None")


def test_a_command_for_another_hub_is_left_to_it(site: Any, hass_mocks: Any) -> None:
    assert send(hass_mocks, command="pause", load="evse1", hub="garage_hub") is None
    assert answers(hass_mocks) == []
    answer = send(hass_mocks, command="pause", load="evse1", hub="lj_hub")
    assert answer is not None and answer["result"] == "ok"


def test_a_hand_change_of_the_select_ends_a_set_mode(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": list(MODE_OPTIONS)}
    )
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", mode_select="input_select.evse1_mode")
    run_cycles(given_that, hass_mocks, time_travel, 2)
    send(hass_mocks, command="set_mode", load="evse1", mode="off")
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0
    time_travel.fast_forward(5).seconds()
    given_that.state_of("input_select.evse1_mode").is_set_to(
        "Continuous", {"options": list(MODE_OPTIONS)}
    )
    fire_state(hass_mocks, "input_select.evse1_mode", "Solar Priority", "Continuous")
    # Solar priority without sun: the car keeps its minimum (from the grid).
    assert run_cycles(given_that, hass_mocks, time_travel, 3) == 6.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"], attrs["override"]) == (
        "solar_priority",
        "select",
        "none",
    )
    assert logs(hass_mocks, "set_mode off ended: the mode select was changed by hand")


# -- set_current_limits


def test_set_current_limits_narrows_the_range(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    answer = send(hass_mocks, command="set_current_limits", load="evse1", max_a=10)
    assert answer is not None and answer["result"] == "ok"
    assert answer["reason"] == "evse1: current range 6 .. 10 A"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 10.0
    assert published(hass_mocks, STATE)[1]["override"] == "max 10 A"
    # Back to the configured maximum: no override left.
    send(hass_mocks, command="set_current_limits", load="evse1", max_a=16)
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 16.0
    assert published(hass_mocks, STATE)[1]["override"] == "none"


def test_a_raised_minimum_still_fits_under_the_breaker(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    answer = send(hass_mocks, command="set_current_limits", load="evse1", min_a=12, max_a=14)
    assert answer is not None and answer["result"] == "ok"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 14.0
    # The house takes 12 A more per phase: 25 A main - 14 A house leaves 11 A, under the
    # new 12 A minimum: the car stops rather than overload the main breaker.
    for _ in range(3):
        amps = car_follows(given_that, hass_mocks)
        set_grid(given_that, 14 + amps, 14 + amps, 14 + amps)
        time_travel.fast_forward(5).seconds()
    assert last_limit(hass_mocks) == 0.0


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"load": "evse1", "max_a": 20}, ("key 'max_a' = 20", "range 6 .. 16 A")),
        ({"load": "evse1", "min_a": 4}, ("key 'min_a' = 4", "range 6 .. 16 A")),
        ({"load": "evse1", "min_a": 12, "max_a": 8}, ("key 'min_a' = 12", "<= max_a (8)")),
        ({"load": "evse1", "max_a": "lots"}, ("key 'max_a' = 'lots'", "number")),
        ({"load": "evse1"}, ("key 'max_a' = None", "min_a and/or max_a")),
        ({"load": "boiler", "max_a": 8}, ("key 'load' = 'boiler'", "switched load")),
    ],
)
def test_set_current_limits_with_bad_fields_is_refused(
    site: Any,
    given_that: Any,
    hass_mocks: Any,
    time_travel: Any,
    fields: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    refused(send(hass_mocks, command="set_current_limits", **fields), *words)
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 16.0


def test_a_minimum_above_the_commanded_maximum_is_refused(site: Any, hass_mocks: Any) -> None:
    send(hass_mocks, command="set_current_limits", load="evse1", max_a=10)
    refused(
        send(hass_mocks, command="set_current_limits", load="evse1", min_a=12),
        "key 'min_a' = 12.0",
        "12 .. 10 A",
    )


# -- set_distribution


def test_set_distribution_changes_the_hubs_strategy(site: Any, hass_mocks: Any) -> None:
    answer = send(hass_mocks, command="set_distribution", distribution="Shared")
    assert answer is not None and answer["result"] == "ok"
    assert answer["reason"] == "distribution -> shared"
    assert site.config.site.distribution is Strategy.SHARED
    assert site._controller.plant.site.distribution is Strategy.SHARED


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"distribution": "fair"}, ("key 'distribution' = 'fair'", "priority, shared")),
        ({}, ("key 'distribution' = None", "required")),
        ({"distribution": "shared", "load": "evse1"}, ("key 'load'", "unknown key")),
    ],
)
def test_set_distribution_with_bad_fields_is_refused(
    site: Any, hass_mocks: Any, fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    refused(send(hass_mocks, command="set_distribution", **fields), *words)
    assert site.config.site.distribution is Strategy.PRIORITY


# -- boost


def test_boost_runs_continuous_until_its_energy_is_delivered(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    send(hass_mocks, command="set_mode", load="evse1", mode="solar_only")
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0
    answer = send(hass_mocks, command="boost", load="evse1", energy_kwh=1)
    assert answer is not None and answer["reason"] == "evse1: boost: continuous for 1 kWh"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 16.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "boost"
    # 16 A on three phases at 230 V is 11040 W: 1 kWh takes 1000 / 11040 h = 326 s, 66 cycles.
    assert run_cycles(given_that, hass_mocks, time_travel, 60) == 16.0
    assert run_cycles(given_that, hass_mocks, time_travel, 10) == 0.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"]) == ("solar_only", "command")
    assert logs(hass_mocks, "override: evse1: boost ended: 1 kWh delivered")


def test_boost_until_a_time(site: Any, given_that: Any, hass_mocks: Any, time_travel: Any) -> None:
    send(hass_mocks, command="set_mode", load="evse1", mode="off")
    send(hass_mocks, command="boost", load="evse1", for_s=60)
    assert run_cycles(given_that, hass_mocks, time_travel, 6) == 16.0
    assert run_cycles(given_that, hass_mocks, time_travel, 8) == 0.0
    assert logs(hass_mocks, "override: evse1: boost ended at its time")


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"load": "evse1"}, ("key 'energy_kwh' = None", "energy_kwh, until or for_s")),
        ({"load": "evse1", "energy_kwh": 0}, ("key 'energy_kwh' = 0", "> 0")),
        ({"load": "evse1", "energy_kwh": 9999}, ("key 'energy_kwh' = 9999", "<= 500")),
        ({"load": "evse1", "kwh": 5}, ("key 'kwh'", "unknown key")),
        ({"energy_kwh": 5}, ("key 'load' = None",)),
    ],
)
def test_boost_with_bad_fields_is_refused(
    site: Any, hass_mocks: Any, fields: dict[str, Any], words: tuple[str, ...]
) -> None:
    refused(send(hass_mocks, command="boost", **fields), "command boost", *words)


# -- pause / resume


def test_pause_and_resume(site: Any, given_that: Any, hass_mocks: Any, time_travel: Any) -> None:
    answer = send(hass_mocks, command="pause", load="evse1")
    assert answer is not None and answer["reason"] == "evse1: paused until resume"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0
    _, attrs = published(hass_mocks, STATE)
    assert (attrs["mode"], attrs["mode_source"], attrs["override"]) == ("off", "pause", "paused")
    # A boost does not undo a pause.
    send(hass_mocks, command="boost", load="evse1", for_s=600)
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 0.0
    answer = send(hass_mocks, command="resume", load="evse1")
    assert answer is not None and answer["reason"] == "evse1: resumed"
    assert run_cycles(given_that, hass_mocks, time_travel, 2) == 16.0
    assert published(hass_mocks, STATE)[1]["mode_source"] == "boost"


def test_resume_of_a_load_that_is_not_paused_and_bad_loads_are_refused(
    site: Any, hass_mocks: Any
) -> None:
    refused(send(hass_mocks, command="resume", load="evse1"), "'evse1' is not paused")
    refused(send(hass_mocks, command="pause"), "key 'load' = None", "required")
    refused(send(hass_mocks, command="pause", load=["evse1"]), "key 'load'", "text")
    refused(send(hass_mocks, command="pause", load="evse1", mode="off"), "key 'mode'", "unknown")


# -- reset_charger


def test_reset_charger_clears_the_profiles_and_sends_ours_again_at_once(
    site: Any, hass_mocks: Any
) -> None:
    sent_before = len(calls(hass_mocks, "ocpp/set_charge_rate"))
    answer = send(hass_mocks, command="reset_charger", load="evse1")
    assert answer is not None and answer["result"] == "ok"
    assert calls(hass_mocks, "ocpp/clear_profile")[-1]["devid"] == "cp1"
    again = calls(hass_mocks, "ocpp/set_charge_rate")[sent_before:]
    # The fail-safe base profile, then our limit (16 A, what the last cycle decided).
    assert len(again) == 2
    assert "duration" not in again[0]["custom_profile"]["chargingSchedule"]
    assert last_limit(hass_mocks) == 16.0
    assert (
        again[1]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.0
    )


def test_reset_charger_of_a_switch_or_a_failing_clear_is_refused(
    site: Any, hass_mocks: Any
) -> None:
    refused(send(hass_mocks, command="reset_charger", load="boiler"), "OCPP charger")
    assert calls(hass_mocks, "ocpp/clear_profile") == []
    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("charger offline")
    refused(
        send(hass_mocks, command="reset_charger", load="evse1"),
        "ocpp/clear_profile failed",
        "charger offline",
    )


def test_commands_to_a_hub_with_a_bad_configuration_are_refused(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    given_that.time_is(START)
    ad(Hub, "lj_hub", **{**copy.deepcopy(HUB_ARGS), "site": {"main_breaker_a": -1}})
    hass_mocks.hass_functions["listen_event"].assert_not_called()
