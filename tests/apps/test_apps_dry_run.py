"""The hub's `dry_run`: every app decides and publishes, but no service call reaches a device.

What would have been sent is logged once per change and published as `would_send` on each
load's state entity; a hub reloaded without the dry run takes over at its next cycle.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import (
    HUB_ARGS,
    START,
    calls,
    failsafe_calls,
    limit_calls,
    logs,
    published,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.config import HubConfigError, parse_hub
from load_juggler.hub import Hub
from load_juggler.loads.device_host import call_target, describe_call
from load_juggler.loads.ocpp import OcppCharger
from load_juggler.loads.switch import SwitchLoad

#: The charger's two profiles as `would_send` lines (defaults: profile id 900 + conn_id at
#: stack level 5, absolute, 120 s; fail-safe id 950 + conn_id one level lower at `min_a` 6 A).
FAILSAFE_6A = (
    "ocpp/set_charge_rate devid=cp1 conn_id=1 custom_profile=TxDefaultProfile 6 A (id 951, stack 4)"
)


def limit_line(amps: str) -> str:
    return (
        "ocpp/set_charge_rate devid=cp1 conn_id=1 "
        f"custom_profile=TxDefaultProfile {amps} A for 120 s (id 901, stack 5)"
    )


def service_calls(hass_mocks: Any) -> list[Any]:
    """Every call_service so far, to any domain."""
    return list(hass_mocks.hass_functions["call_service"].call_args_list)


def hub_args(*, dry_run: bool) -> dict[str, Any]:
    return {**copy.deepcopy(HUB_ARGS), "dry_run": dry_run}


@pytest.fixture
def charger(ad: Any, given_that: Any) -> Any:
    """Hub in dry run + a 3-phase charger in the garage; house 10 A per phase, car not drawing."""
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    ad(Hub, "lj_hub", **hub_args(dry_run=True))
    return ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")


@pytest.fixture
def boiler(ad: Any, given_that: Any) -> Any:
    """Hub in dry run + a 2 kW boiler plug on phase B, switched off; 2 A house, no sun."""
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    given_that.state_of("switch.boiler").is_set_to("off")
    given_that.state_of("sensor.boiler_power").is_set_to("0", {"unit_of_measurement": "W"})
    ad(Hub, "lj_hub", **hub_args(dry_run=True))
    return ad(
        SwitchLoad,
        "boiler",
        hub="lj_hub",
        switch="switch.boiler",
        power_sensor="sensor.boiler_power",
        power_w=2000,
        phase_map=["B"],
    )


def sunny(given_that: Any) -> None:
    """5 kW of sun: 7.25 A per phase, house 2 A -> 5.25 A exported per phase (3.6 kW)."""
    set_solar(given_that, 5000)
    set_grid(given_that, -5.25, -5.25, -5.25)


def test_charger_in_dry_run_calls_nothing_and_publishes_what_it_would_send(
    charger: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(5).seconds()  # first cycle: start at min 6 A
    # The car draws the 6 A: grid = house 10 A + 6 A. Headroom 25 - 10 = 15 A (garage 20 A).
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    assert service_calls(hass_mocks) == []
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "15.0"
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert state == "charging"
    assert attrs["dry_run"] == "true"
    # The fail-safe first (installed at start), then our limit, which replaced its 6 A line.
    assert attrs["would_send"] == [FAILSAFE_6A, limit_line("15")]
    assert published(hass_mocks, "sensor.load_juggler_status")[1]["dry_run"] == "true"
    warnings = logs(hass_mocks, "dry run: deciding and publishing", "WARNING")
    assert warnings == [
        "dry run: deciding and publishing, but no load sends anything to its device; nothing "
        "protects the breakers until 'dry_run' is false"
    ]

    # The car takes its 15 A; the decision stays, and the profile falls due for refresh at
    # 80 s (2/3 of 120 s): still no call, and no new line (the refresh says nothing new).
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 25, 25, 25)
    time_travel.fast_forward(90).seconds()
    assert service_calls(hass_mocks) == []
    assert logs(hass_mocks, "dry run: would call") == [
        f"dry run: would call {FAILSAFE_6A}",
        f"dry run: would call {limit_line('6')}",
        f"dry run: would call {limit_line('15')}",
    ]
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["would_send"] == [
        FAILSAFE_6A,
        limit_line("15"),
    ]


def test_switch_in_dry_run_calls_nothing_and_publishes_what_it_would_send(
    boiler: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(10).seconds()  # importing: off, as it is
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[1]["would_send"] == []
    sunny(given_that)
    time_travel.fast_forward(15).seconds()
    assert service_calls(hass_mocks) == []
    assert published(hass_mocks, "binary_sensor.load_juggler_boiler_allocated")[0] == "on"
    state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")
    assert state == "on"
    assert attrs["would_send"] == ["switch/turn_on entity_id=switch.boiler"]
    assert logs(hass_mocks, "dry run: would call") == [
        "dry run: would call switch/turn_on entity_id=switch.boiler"
    ]
    assert logs(hass_mocks, "switch.boiler turned") == []  # it was not


def test_switch_takes_over_at_once_when_the_hub_is_reloaded_without_dry_run(
    boiler: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    sunny(given_that)
    time_travel.fast_forward(5).seconds()  # 12:00:05: on, kept back
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[1]["would_send"] == [
        "switch/turn_on entity_id=switch.boiler"
    ]
    # apps.yaml edited: AppDaemon reloads the hub; this load app was not reloaded with it.
    ad.stop("lj_hub")
    ad(Hub, "lj_hub", **hub_args(dry_run=False))
    # The load re-registers at its 10 s check (12:00:10) and hears the dry run is over; the
    # next cycle decides "on" again, and the switch, still off, gets it: the dry-run "on" was
    # never sent, so it must not count as sent.
    time_travel.fast_forward(10).seconds()
    assert calls(hass_mocks, "switch/turn_on") == [
        {"suppress_log_messages": True, "entity_id": "switch.boiler"}
    ]
    assert calls(hass_mocks, "switch/turn_off") == []
    assert logs(hass_mocks, "dry run over (hub 'lj_hub'): the next command goes to the device")
    attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")[1]
    assert (attrs["would_send"], attrs["dry_run"]) == ([], "false")
    assert attrs["switched_on"] == "true"
    assert published(hass_mocks, "sensor.load_juggler_status")[1]["dry_run"] == "false"


def test_charger_takes_over_with_the_current_decision_despite_the_deadband(
    charger: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(5).seconds()  # 12:00:05: start at min 6 A, kept back
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["would_send"] == [
        FAILSAFE_6A,
        limit_line("6"),
    ]
    ad.stop("lj_hub")
    ad(Hub, "lj_hub", **hub_args(dry_run=False))
    # 12:00:10 the load re-registers and the new hub starts the car at min 6 A again: the same
    # 6 A the dry run "sent" at 12:00:05, well within the 80 s refresh. The charger never got
    # it, so it goes out at once (before the car is raised), and the fail-safe with it.
    time_travel.fast_forward(10).seconds()
    sent = limit_calls(hass_mocks)
    assert sent[0]["devid"] == "cp1"
    assert sent[0]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6.0}
    ]
    assert [c["custom_profile"]["chargingProfileId"] for c in failsafe_calls(hass_mocks)] == [951]


def test_dry_run_stays_on_when_the_hub_is_gone(
    boiler: Any, ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    # The user runs the boiler by hand; our hub (in dry run) stops: the no-hub safe state
    # (off) is kept back too, the load having no word that the dry run is over.
    given_that.state_of("switch.boiler").is_set_to("on")
    time_travel.fast_forward(5).seconds()
    ad.stop("lj_hub")
    time_travel.fast_forward(70).seconds()
    assert service_calls(hass_mocks) == []
    state, attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")
    assert state == "no_hub"
    assert attrs["would_send"] == ["switch/turn_off entity_id=switch.boiler"]


def test_a_refused_load_stays_dry_too(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    given_that.state_of("switch.heater").is_set_to("on")
    ad(Hub, "lj_hub", **hub_args(dry_run=True))
    ad(SwitchLoad, "heater", hub="lj_hub", switch="switch.heater", power_w=1000, circuit="attic")
    assert logs(hass_mocks, "hub 'lj_hub' refused this load", "ERROR")
    time_travel.fast_forward(65).seconds()  # no command for 60 s: the safe state, kept back
    assert service_calls(hass_mocks) == []
    state, attrs = published(hass_mocks, "sensor.load_juggler_heater_state")
    assert state == "no_hub"
    assert attrs["would_send"] == ["switch/turn_off entity_id=switch.heater"]


def test_a_failure_episode_ends_when_the_dry_run_begins(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    given_that.state_of("switch.boiler").is_set_to("off")
    sunny(given_that)
    ad(Hub, "lj_hub", **hub_args(dry_run=False))
    ad(SwitchLoad, "boiler", hub="lj_hub", switch="switch.boiler", power_w=2000)
    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("not reachable")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_boiler_state")[1]["service_ok"] == "false"
    ad.stop("lj_hub")
    ad(Hub, "lj_hub", **hub_args(dry_run=True))
    time_travel.fast_forward(10).seconds()  # re-registered, one dry cycle
    attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")[1]
    assert attrs["would_send"] == ["switch/turn_on entity_id=switch.boiler"]
    assert attrs["service_ok"] == "true"
    assert logs(hass_mocks, "works again") == []  # a call kept back is no call that works


def test_a_live_hub_sends_and_publishes_no_would_send(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    given_that.state_of("switch.boiler").is_set_to("off")
    sunny(given_that)
    ad(Hub, "lj_hub", **hub_args(dry_run=False))
    ad(SwitchLoad, "boiler", hub="lj_hub", switch="switch.boiler", power_w=2000)
    time_travel.fast_forward(5).seconds()
    assert len(calls(hass_mocks, "switch/turn_on")) == 1
    attrs = published(hass_mocks, "sensor.load_juggler_boiler_state")[1]
    assert (attrs["would_send"], attrs["dry_run"]) == ([], "false")
    assert logs(hass_mocks, "dry run") == []


def test_dry_run_must_be_a_boolean() -> None:
    args = {**copy.deepcopy(HUB_ARGS), "dry_run": "yes"}
    with pytest.raises(HubConfigError) as err:
        parse_hub("lj_hub", args)
    assert [str(p) for p in err.value.problems] == [
        "app 'lj_hub': key 'dry_run' = 'yes' is invalid: must be true or false"
    ]
    assert parse_hub("lj_hub", copy.deepcopy(HUB_ARGS)).dry_run is False
    assert parse_hub("lj_hub", {**copy.deepcopy(HUB_ARGS), "dry_run": True}).dry_run is True


def test_a_call_is_described_without_timestamps_and_targeted_per_profile() -> None:
    profile = {
        "chargingProfileId": 902,
        "stackLevel": 5,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute",
        "transactionId": 7,
        "validTo": "2026-06-01T12:02:05Z",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "duration": 120,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4140.0}],
            "startSchedule": "2026-06-01T12:00:05Z",
        },
    }
    data = {"devid": "wb", "conn_id": 2, "custom_profile": profile}
    assert describe_call("ocpp/set_charge_rate", data) == (
        "ocpp/set_charge_rate devid=wb conn_id=2 "
        "custom_profile=TxProfile 4140 W for 120 s (id 902, stack 5, tx 7)"
    )
    assert call_target(data) == "devid=wb conn_id=2 profile=902"
    assert call_target({"entity_id": "switch.x"}) == "entity_id=switch.x"
