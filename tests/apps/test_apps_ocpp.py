"""OCPP charger app driven through HA states: what goes out with ocpp/set_charge_rate."""

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
    set_solar,
)

from load_juggler.hub import Hub
from load_juggler.loads.base import CycleContext
from load_juggler.loads.ocpp import OcppCharger

SERVICE = "ocpp/set_charge_rate"


def absolute_profile(limit: float, start: str, valid_to: str, unit: str = "A") -> dict[str, Any]:
    return {
        "chargingProfileId": 901,
        "stackLevel": 5,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validTo": valid_to,
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "duration": 120,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            "startSchedule": start,
        },
    }


@pytest.fixture
def site(ad: Any, given_that: Any) -> Any:
    """Hub + one 3-phase charger in the garage; house 10 A per phase, car not drawing yet."""
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage")
    return hub, cp


def test_grid_change_sends_expiring_profile(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    _hub, cp = site
    time_travel.fast_forward(5).seconds()  # 12:00:05, first cycle: start at min
    assert calls(hass_mocks, SERVICE)[-1] == {
        "suppress_log_messages": True,
        "devid": "cp1",
        "conn_id": 1,
        "custom_profile": absolute_profile(6.0, "2026-06-01T12:00:05Z", "2026-06-01T12:02:05Z"),
    }
    # The car draws the 6 A: grid = house 10 A + car 6 A. Headroom: 25 - 10 = 15 A.
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()  # 12:00:10
    assert calls(hass_mocks, SERVICE)[-1]["custom_profile"] == absolute_profile(
        15.0, "2026-06-01T12:00:10Z", "2026-06-01T12:02:10Z"
    )
    # The house takes 5 A more on every phase: the car is cut at once to 10 A.
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 30, 30, 30)
    time_travel.fast_forward(5).seconds()  # 12:00:15
    assert calls(hass_mocks, SERVICE)[-1]["custom_profile"] == absolute_profile(
        10.0, "2026-06-01T12:00:15Z", "2026-06-01T12:02:15Z"
    )
    assert len(calls(hass_mocks, SERVICE)) == 3
    assert cp.last_sent_a == 10.0
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")
    assert state == "10.0"
    assert attrs["unit_of_measurement"] == "A"
    assert attrs["device_class"] == "current"
    assert attrs["state_class"] == "measurement"
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "charging"
    # The garage (20 A) carries the 10 A allocation: 10 A headroom on each phase.
    assert published(hass_mocks, "sensor.load_juggler_circuit_garage_headroom_phase_b")[0] == "10.0"
    assert (
        published(hass_mocks, "sensor.load_juggler_circuit_garage_allocated_phase_b")[0] == "10.0"
    )
    # Site: 25 A breaker, 15 A background house load -> 10 A available, all of it given to the car.
    assert published(hass_mocks, "sensor.load_juggler_available_current_phase_a")[0] == "10.0"
    assert published(hass_mocks, "sensor.load_juggler_headroom_phase_a")[0] == "0.0"


def test_profile_is_refreshed_before_it_expires(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()  # 12:00:10 -> 15 A
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 25, 25, 25)
    assert len(calls(hass_mocks, SERVICE)) == 2
    time_travel.fast_forward(75).seconds()  # 12:01:25, 75 s after the last write: nothing new
    assert len(calls(hass_mocks, SERVICE)) == 2
    time_travel.fast_forward(5).seconds()  # 12:01:30: 80 s = 2/3 of the 120 s validity
    sent = calls(hass_mocks, SERVICE)
    assert len(sent) == 3
    assert sent[-1]["custom_profile"] == absolute_profile(
        15.0, "2026-06-01T12:01:30Z", "2026-06-01T12:03:30Z"
    )


def test_relative_profile_and_options(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    set_charger(given_that, "wb", "Charging", (0.0, 0.0, 0.0))
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        OcppCharger,
        "evse2",
        hub="lj_hub",
        charger="wb",
        devid="wallbox_ocpp_id",
        conn_id=1,
        profile_validity="relative",
        validity_s=300,
        stack_level=3,
        profile_id=77,
        rate_unit="A",
    )
    time_travel.fast_forward(5).seconds()
    assert calls(hass_mocks, SERVICE) == [
        {
            "suppress_log_messages": True,
            "devid": "wallbox_ocpp_id",
            "conn_id": 1,
            "custom_profile": {
                "chargingProfileId": 77,
                "stackLevel": 3,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "duration": 300,
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
                },
            },
        }
    ]


def test_tx_profile_during_a_transaction(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0), transaction_id="4711")
    time_travel.fast_forward(5).seconds()
    profile = calls(hass_mocks, SERVICE)[-1]["custom_profile"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == 4711
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6.0}
    ]


def test_auto_unit_falls_back_to_watts_and_remembers(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    _hub, cp = site

    def charger_takes_only_watts(service: str, **data: Any) -> dict[str, Any]:
        unit = data["custom_profile"]["chargingSchedule"]["chargingRateUnit"]
        if unit == "A":
            raise RuntimeError("HomeAssistantError: SetChargingProfile rejected")
        return {"success": True}

    hass_mocks.hass_functions["call_service"].side_effect = charger_takes_only_watts
    time_travel.fast_forward(5).seconds()
    first = calls(hass_mocks, SERVICE)
    assert [c["custom_profile"]["chargingSchedule"]["chargingRateUnit"] for c in first] == [
        "A",
        "W",
    ]
    # 6 A x 230 V x 3 phases
    assert (
        first[1]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        == 4140.0
    )
    assert cp.last_sent_a == 6.0
    assert logs(hass_mocks, "failed", "WARNING") == []  # the W retry worked: no failure episode
    # Next write goes straight to W; a 1-phase car (L1 only) converts with one phase.
    set_charger(given_that, "cp1", "Charging", (6.0, 0.0, 0.0))
    set_grid(given_that, 16, 10, 10)
    time_travel.fast_forward(5).seconds()
    later = calls(hass_mocks, SERVICE)[2:]
    assert len(later) == 1
    schedule = later[0]["custom_profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 15.0 * 230 * 1
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["rate_unit"] == "W"


def test_failing_service_is_logged_once_retried_and_not_remembered(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    _hub, cp = site
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 15.0
    sent_before = len(calls(hass_mocks, SERVICE))

    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("charger is unavailable")
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 30, 30, 30)  # needs a cut to 10 A
    time_travel.fast_forward(15).seconds()  # three cycles, all failing
    attempts = calls(hass_mocks, SERVICE)[sent_before:]
    limits = [
        a["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for a in attempts
    ]
    # The cut never reaches the car, so the site still measures 30 A on its 25 A breaker: on
    # the second cycle the overload guard cuts by the measured 5 A, 10 - 5 is below the 6 A
    # minimum, so 0; that cut fails too and is retried on the third cycle.
    assert limits == [10.0, 0.0, 0.0]
    assert cp.last_sent_a == 15.0  # not updated by a failed call
    warnings = logs(hass_mocks, "failed", "WARNING")
    assert len(warnings) == 1
    assert "charger is unavailable" in warnings[0]
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["service_ok"] == "false"

    hass_mocks.hass_functions["call_service"].side_effect = None
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 0.0
    assert len(logs(hass_mocks, "works again")) == 1
    time_travel.fast_forward(5).seconds()
    assert len(logs(hass_mocks, "works again")) == 1
    assert len(logs(hass_mocks, "failed", "WARNING")) == 1


def test_success_false_result_counts_as_failure(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    _hub, cp = site
    hass_mocks.hass_functions["call_service"].return_value = {
        "success": False,
        "error": {"code": "home_assistant_error", "message": "rejected"},
    }
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a is None
    assert len(calls(hass_mocks, SERVICE)) == 2  # auto: A then W, both refused
    assert len(logs(hass_mocks, "rejected", "WARNING")) == 1


def test_pause_is_a_zero_amp_profile(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(5).seconds()
    set_grid(given_that, 24, 24, 24)  # car draws 0, house 24 A: 1 A headroom < 6 A min
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    time_travel.fast_forward(5).seconds()
    last = calls(hass_mocks, SERVICE)[-1]
    assert last["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0.0}
    ]
    assert last["custom_profile"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "0.0"
    # No transaction stop: nothing but set_charge_rate was called.
    services = {c.args[0] for c in hass_mocks.hass_functions["call_service"].call_args_list}
    assert services == {SERVICE}


def test_connector_status_and_idle_car(site: Any, given_that: Any) -> None:
    _hub, cp = site
    ctx = CycleContext(now_s=1000.0, now_utc=START, voltage_v=230.0)
    set_charger(given_that, "cp1", "Available")
    r = cp.reading(ctx)
    assert (r.connected, r.drawing, r.available) == (False, False, True)
    set_charger(given_that, "cp1", "Faulted")
    assert cp.reading(ctx).available is False
    set_charger(given_that, "cp1", "SuspendedEVSE")
    r = cp.reading(ctx)
    assert (r.connected, r.drawing) == (True, True)
    # SuspendedEV at ~0 W: still drawing for 60 s, then not.
    set_charger(given_that, "cp1", "SuspendedEV", (0.0, 0.0, 0.0), power_kw=0.02)
    assert cp.reading(ctx).drawing is True
    assert cp.reading(CycleContext(1059.0, START, 230.0)).drawing is True
    assert cp.reading(CycleContext(1060.0, START, 230.0)).drawing is False
    set_charger(given_that, "cp1", "SuspendedEV", (2.0, 2.0, 2.0), power_kw=1.2)
    assert cp.reading(CycleContext(1065.0, START, 230.0)).drawing is True
    set_charger(given_that, "cp1", "Charging", (7.0, 8.0, 9.0))
    assert cp.reading(ctx).draw_a == (7.0, 8.0, 9.0)


def test_offered_current_falls_back_to_power_offered(
    site: Any, given_that: Any, time_travel: Any
) -> None:
    _hub, cp = site
    given_that.state_of("sensor.cp1_power_offered").is_set_to("7.36", {"unit_of_measurement": "kW"})
    time_travel.fast_forward(5).seconds()
    # 7360 W / (230 V x 3 phases)
    assert cp.device_attributes()["offered_a"] == 10.7


def test_per_phase_current_entities_override(ad: Any, given_that: Any, time_travel: Any) -> None:
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp9", "Charging")
    for n, amps in ((1, 5.5), (2, 6.5), (3, 7.5)):
        given_that.state_of(f"sensor.meter_l{n}").is_set_to(str(amps))
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(
        OcppCharger,
        "evse9",
        hub="lj_hub",
        charger="cp9",
        entities={"current_import": ["sensor.meter_l1", "sensor.meter_l2", "sensor.meter_l3"]},
    )
    assert cp.reading(CycleContext(0.0, START, 230.0)).draw_a == (5.5, 6.5, 7.5)


def test_rate_unit_w_override_sends_watts_only(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    given_that.state_of("sensor.cp1_voltage").is_set_to("240")
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", rate_unit="W")
    time_travel.fast_forward(5).seconds()
    sent = calls(hass_mocks, SERVICE)
    assert len(sent) == 1  # no A attempt first
    schedule = sent[0]["custom_profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 6.0 * 240 * 3}]
    assert cp.last_sent_a == 6.0
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["rate_unit"] == "W"


def test_ocpp_domain_unknown_at_startup_is_retried_until_it_appears(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """AppDaemon learns HA's services late: the first calls raise DomainException."""
    from appdaemon.exceptions import DomainException

    _hub, cp = site
    hass_mocks.hass_functions["call_service"].side_effect = DomainException("default", "ocpp")
    time_travel.fast_forward(10).seconds()
    assert len(calls(hass_mocks, SERVICE)) == 4  # two cycles, A then W each
    assert cp.last_sent_a is None
    warnings = logs(hass_mocks, "failed", "WARNING")
    assert len(warnings) == 1
    assert "domain 'ocpp' does not exist" in warnings[0]
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["rate_unit"] == "auto"

    hass_mocks.hass_functions["call_service"].side_effect = None
    time_travel.fast_forward(5).seconds()
    limit = published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0]
    assert cp.last_sent_a == float(limit) > 0
    schedule = calls(hass_mocks, SERVICE)[-1]["custom_profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"  # the unit was not "learned" from the outage
    assert len(logs(hass_mocks, "works again")) == 1
