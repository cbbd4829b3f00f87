"""OCPP charger app driven through HA states: what goes out with ocpp/set_charge_rate."""

from __future__ import annotations

import copy
import datetime
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
    quiet_site_with_charger,
    set_charger,
    set_grid,
    set_solar,
)

from load_juggler.engine.control_types import Command, LoadState
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
    return build_site(ad, given_that)


def build_site(ad: Any, given_that: Any) -> Any:
    """The `site` fixture's apps; call it after setting how the charger answers."""
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
    assert limit_calls(hass_mocks)[-1] == {
        "suppress_log_messages": True,
        "devid": "cp1",
        "conn_id": 1,
        "custom_profile": absolute_profile(6.0, "2026-06-01T12:00:05Z", "2026-06-01T12:02:05Z"),
    }
    # The car draws the 6 A: grid = house 10 A + car 6 A. Headroom: 25 - 10 = 15 A.
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()  # 12:00:10
    assert limit_calls(hass_mocks)[-1]["custom_profile"] == absolute_profile(
        15.0, "2026-06-01T12:00:10Z", "2026-06-01T12:02:10Z"
    )
    # The house takes 5 A more on every phase: the car is cut at once to 10 A.
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 30, 30, 30)
    time_travel.fast_forward(5).seconds()  # 12:00:15
    assert limit_calls(hass_mocks)[-1]["custom_profile"] == absolute_profile(
        10.0, "2026-06-01T12:00:15Z", "2026-06-01T12:02:15Z"
    )
    assert len(limit_calls(hass_mocks)) == 3
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
    assert len(limit_calls(hass_mocks)) == 2
    time_travel.fast_forward(75).seconds()  # 12:01:25, 75 s after the last write: nothing new
    assert len(limit_calls(hass_mocks)) == 2
    time_travel.fast_forward(5).seconds()  # 12:01:30: 80 s = 2/3 of the 120 s validity
    sent = limit_calls(hass_mocks)
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
    assert limit_calls(hass_mocks) == [
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


@pytest.mark.parametrize(("tx", "tx_id"), [("4711", 4711), ("1", 1), ("2.0", 2)])
def test_tx_profile_during_a_transaction(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tx: str, tx_id: int
) -> None:
    # Every whole number above 0 is a transaction id, 1 (a charger's first session) included.
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0), transaction_id=tx)
    time_travel.fast_forward(5).seconds()
    profile = limit_calls(hass_mocks)[-1]["custom_profile"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["transactionId"] == tx_id
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 6.0}
    ]


def test_auto_unit_falls_back_to_watts_and_remembers(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    def charger_takes_only_watts(service: str, **data: Any) -> dict[str, Any]:
        unit = data["custom_profile"]["chargingSchedule"]["chargingRateUnit"]
        if unit == "A":
            raise RuntimeError("HomeAssistantError: SetChargingProfile rejected")
        return {"success": True}

    hass_mocks.hass_functions["call_service"].side_effect = charger_takes_only_watts
    _hub, cp = build_site(ad, given_that)
    # At start the fail-safe profile finds out: A refused, W taken. No draw measured yet, so
    # the watts are for one phase: 6 A x 230 V.
    units_tried = [c["custom_profile"]["chargingSchedule"] for c in failsafe_calls(hass_mocks)]
    assert [u["chargingRateUnit"] for u in units_tried] == ["A", "W"]
    assert units_tried[1]["chargingSchedulePeriod"][0]["limit"] == 1380.0
    time_travel.fast_forward(5).seconds()
    first = limit_calls(hass_mocks)
    assert len(first) == 1  # straight to W
    assert first[0]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 1380.0}
    ]
    assert cp.last_sent_a == 6.0
    assert logs(hass_mocks, "failed", "WARNING") == []  # the W retry worked: no failure episode
    # A 1-phase car (L1 only) keeps converting with one phase.
    set_charger(given_that, "cp1", "Charging", (6.0, 0.0, 0.0))
    set_grid(given_that, 16, 10, 10)
    time_travel.fast_forward(5).seconds()
    later = limit_calls(hass_mocks)[1:]
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
    sent_before = len(limit_calls(hass_mocks))

    hass_mocks.hass_functions["call_service"].side_effect = RuntimeError("charger is unavailable")
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0))
    set_grid(given_that, 30, 30, 30)  # needs a cut to 10 A
    time_travel.fast_forward(15).seconds()  # three cycles, all failing
    attempts = limit_calls(hass_mocks)[sent_before:]
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
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    hass_mocks.hass_functions["call_service"].return_value = {
        "success": False,
        "error": {"code": "home_assistant_error", "message": "rejected"},
    }
    _hub, cp = build_site(ad, given_that)
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a is None
    assert len(limit_calls(hass_mocks)) == 2  # auto: A then W, both refused
    assert len(failsafe_calls(hass_mocks)) == 4  # at start and at 12:00:05, A then W each
    assert len(logs(hass_mocks, "rejected", "WARNING")) == 1
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["failsafe_installed"] == (
        "false"
    )


def test_pause_is_a_zero_amp_profile(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(5).seconds()
    set_grid(given_that, 24, 24, 24)  # car draws 0, house 24 A: 1 A headroom < 6 A min
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0))
    time_travel.fast_forward(5).seconds()
    last = limit_calls(hass_mocks)[-1]
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
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    given_that.state_of("sensor.cp1_power_offered").is_set_to("7.36", {"unit_of_measurement": "kW"})
    given_that.state_of("sensor.cp1_current_offered").is_set_to("unavailable")
    time_travel.fast_forward(5).seconds()
    # 7360 W / (230 V x 3 phases)
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["offered_a"] == 10.7


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
    sent = limit_calls(hass_mocks)
    assert len(sent) == 1  # no A attempt first
    schedule = sent[0]["custom_profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "W"
    # No draw measured yet: watts for one phase, 6 A x 240 V (the charger's voltage).
    assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 6.0 * 240}]
    assert cp.last_sent_a == 6.0
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["rate_unit"] == "W"


def test_ocpp_domain_unknown_at_startup_is_retried_until_it_appears(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """AppDaemon learns HA's services late: the first calls raise DomainException."""
    from appdaemon.exceptions import DomainException

    hass_mocks.hass_functions["call_service"].side_effect = DomainException("default", "ocpp")
    _hub, cp = build_site(ad, given_that)
    time_travel.fast_forward(10).seconds()
    assert len(limit_calls(hass_mocks)) == 4  # two cycles, A then W each
    assert cp.last_sent_a is None
    warnings = logs(hass_mocks, "failed", "WARNING")
    assert len(warnings) == 1
    assert "domain 'ocpp' does not exist" in warnings[0]
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[1]["rate_unit"] == "auto"

    hass_mocks.hass_functions["call_service"].side_effect = None
    time_travel.fast_forward(5).seconds()
    limit = published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0]
    assert cp.last_sent_a == float(limit) > 0
    schedule = limit_calls(hass_mocks)[-1]["custom_profile"]["chargingSchedule"]
    assert schedule["chargingRateUnit"] == "A"  # the unit was not "learned" from the outage
    assert len(logs(hass_mocks, "works again")) == 1


def car_at_max_behind_breaker(ad: Any, given_that: Any, time_travel: Any) -> OcppCharger:
    """The real timers (min off 180 s, stop delay 180 s) and a car at 15 A: house 10 A per
    phase under the 25 A breaker. Returns the charger app in that steady state."""
    args = copy.deepcopy(HUB_ARGS)
    args["control"].update({"min_off_s": 180, "stop_delay_s": 180, "min_on_s": 300})
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", (0.0, 0.0, 0.0), transaction_id="7")
    ad(Hub, "lj_hub", **args)
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="7")
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0), transaction_id="7")
    set_grid(given_that, 25, 25, 25)
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 15.0  # 25 A breaker - 10 A house
    return cp


def sent_limits(hass_mocks: Any) -> list[float]:
    return [
        c["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        for c in limit_calls(hass_mocks)
    ]


@pytest.mark.parametrize("lost", ["unknown", "unavailable"])
def test_current_import_unknown_for_30_s_does_not_cut_the_car(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any, lost: str
) -> None:
    """One lost MeterValues used to make the car's draw unknown: its 15 A then counted as house
    load (25 A background), the car was cut to 0 A and kept off by min_off_s for 180 s."""
    car_at_max_behind_breaker(ad, given_that, time_travel)
    before = len(sent_limits(hass_mocks))
    # The integration's sensor goes unknown (no L1/L2/L3 attributes); the car keeps drawing.
    given_that.state_of("sensor.cp1_current_import").is_set_to(lost, {})
    time_travel.fast_forward(30).seconds()
    set_charger(given_that, "cp1", "Charging", (15.0, 15.0, 15.0), transaction_id="7")
    time_travel.fast_forward(30).seconds()
    assert 0.0 not in sent_limits(hass_mocks)[before:]
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "15.0"
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "charging"


def test_held_line_reading_expires_after_the_stale_timeout(
    ad: Any, given_that: Any, time_travel: Any
) -> None:
    cp = car_at_max_behind_breaker(ad, given_that, time_travel)
    t0 = START.timestamp() + 15  # the last valid reading
    given_that.state_of("sensor.cp1_current_import").is_set_to("unavailable", {})
    ctx = CycleContext(now_s=t0 + 59, now_utc=START, voltage_v=230.0, stale_timeout_s=60.0)
    assert cp.reading(ctx).draw_a == (15.0, 15.0, 15.0)
    stale = CycleContext(now_s=t0 + 60, now_utc=START, voltage_v=230.0, stale_timeout_s=60.0)
    assert cp.reading(stale).draw_a is None
    # A shorter hub timeout applies as it comes with the cycle.
    short = CycleContext(now_s=t0 + 20, now_utc=START, voltage_v=230.0, stale_timeout_s=20.0)
    assert cp.reading(short).draw_a is None


def test_held_line_is_capped_at_the_limit_sent_since(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A car cut since its last reading cannot draw more than the cut: holding less draw leaves
    more of the grid reading to the house, the cautious side."""
    cp = car_at_max_behind_breaker(ad, given_that, time_travel)
    set_grid(given_that, 33, 33, 33)  # the house takes 8 A more: cut to 7 A
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 7.0
    given_that.state_of("sensor.cp1_current_import").is_set_to("unknown", {})
    ctx = CycleContext(now_s=START.timestamp() + 25, now_utc=START, voltage_v=230.0)
    assert cp.reading(ctx).draw_a == (7.0, 7.0, 7.0)


def failsafe(limit: float, unit: str = "A", stack: int = 4, pid: int = 951) -> dict[str, Any]:
    """The persistent base profile as it must reach the charger: no duration, no validTo."""
    return {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


def test_failsafe_profile_is_installed_at_start_below_ours(
    site: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """Default failsafe_a = min_a (6 A), stack level 5 - 1, id 950 + conn_id: the charger falls
    back to it, not to its hardware maximum, when our expiring profile lapses."""
    sent = calls(hass_mocks, SERVICE)
    assert sent == [
        {
            "suppress_log_messages": True,
            "devid": "cp1",
            "conn_id": 1,
            "custom_profile": failsafe(6.0),
        }
    ]
    time_travel.fast_forward(5).seconds()
    ours = limit_calls(hass_mocks)[-1]["custom_profile"]
    assert ours["stackLevel"] == 5 > 4
    assert ours["chargingProfileId"] != 951
    assert len(failsafe_calls(hass_mocks)) == 1  # not re-sent every cycle
    attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")[1]
    assert attrs["failsafe_installed"] == "true"
    assert attrs["failsafe_a"] == 6.0


def test_failsafe_options_and_hourly_refresh(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(
        OcppCharger,
        "evse1",
        hub="lj_hub",
        charger="cp1",
        failsafe_a=0,
        stack_level=2,
        failsafe_profile_id=42,
    )
    assert [c["custom_profile"] for c in failsafe_calls(hass_mocks)] == [
        failsafe(0.0, stack=1, pid=42)
    ]
    time_travel.fast_forward(3595).seconds()
    assert len(failsafe_calls(hass_mocks)) == 1
    time_travel.fast_forward(5).seconds()  # one hour after the install
    assert [c["custom_profile"] for c in failsafe_calls(hass_mocks)] == [
        failsafe(0.0, stack=1, pid=42)
    ] * 2


def test_failsafe_is_installed_again_after_the_charger_reconnects(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    time_travel.fast_forward(10).seconds()
    assert len(failsafe_calls(hass_mocks)) == 1
    given_that.state_of("sensor.cp1_status_connector").is_set_to("unavailable")
    time_travel.fast_forward(5).seconds()
    assert len(failsafe_calls(hass_mocks)) == 1  # offline: nothing to install on
    given_that.state_of("sensor.cp1_status_connector").is_set_to("Charging")
    time_travel.fast_forward(5).seconds()
    assert len(failsafe_calls(hass_mocks)) == 2
    time_travel.fast_forward(20).seconds()
    assert len(failsafe_calls(hass_mocks)) == 2


def test_failsafe_is_installed_without_a_hub(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """The load's own timer installs it: a hub that never starts does not leave it out."""
    quiet_site_with_charger(given_that)
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", failsafe_a=10, max_a=16)
    assert [c["custom_profile"] for c in failsafe_calls(hass_mocks)] == [failsafe(10.0)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"failsafe_a": 17},
            "app 'evse1': key 'failsafe_a' = 17 is invalid: must be a number from 0 to max_a (16)",
        ),
        ({"failsafe_a": -1}, "key 'failsafe_a' = -1 is invalid: must be a number from 0 to max_a"),
        ({"failsafe_a": "low"}, "key 'failsafe_a' = 'low' is invalid: must be a number"),
        ({"stack_level": 0}, "key 'stack_level' = 0 is invalid: must be a whole number >= 1"),
        (
            {"profile_id": 7, "failsafe_profile_id": 7},
            "key 'failsafe_profile_id' = 7 is invalid: must differ from profile_id (7)",
        ),
    ],
)
def test_bad_failsafe_options_are_refused(
    ad: Any, given_that: Any, hass_mocks: Any, extra: dict[str, Any], message: str
) -> None:
    quiet_site_with_charger(given_that)
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", **extra)
    errors = logs(hass_mocks, "app 'evse1'", "ERROR")
    assert len(errors) == 1
    assert message in errors[0]
    assert calls(hass_mocks, SERVICE) == []


def test_watts_for_one_phase_until_more_phases_draw(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A 1-phase car on a 3-phase charger must never be offered three times its current."""
    quiet_site_with_charger(given_that)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", rate_unit="W")
    assert failsafe_calls(hass_mocks)[-1]["custom_profile"] == failsafe(6.0 * 230, "W")
    time_travel.fast_forward(5).seconds()

    def last_limit() -> float:
        profile = limit_calls(hass_mocks)[-1]["custom_profile"]
        return profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]

    assert last_limit() == 6.0 * 230  # nothing measured: one phase
    # A 1-phase car: L1 only. Still one phase.
    set_charger(given_that, "cp1", "Charging", (6.0, 0.0, 0.0))
    set_grid(given_that, 8, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert last_limit() == 16.0 * 230
    # Next session a 3-phase car draws on all three lines: now three phases, the fail-safe too.
    set_charger(given_that, "cp1", "Charging", (16.0, 16.0, 16.0))
    set_grid(given_that, 18, 18, 18)
    time_travel.fast_forward(5).seconds()
    assert last_limit() == 16.0 * 230 * 3
    assert failsafe_calls(hass_mocks)[-1]["custom_profile"] == failsafe(6.0 * 230 * 3, "W")
    # Unplugged: the next car may be a 1-phase one again.
    set_charger(given_that, "cp1", "Available")
    set_grid(given_that, 2, 2, 2)
    time_travel.fast_forward(5).seconds()
    assert failsafe_calls(hass_mocks)[-1]["custom_profile"] == failsafe(6.0 * 230, "W")
    set_charger(given_that, "cp1", "Preparing", power_kw=0.0)
    time_travel.fast_forward(5).seconds()
    assert last_limit() == 6.0 * 230


@pytest.mark.parametrize("status", ["charging", "Charging ", " CHARGING", "SuspendedEvse"])
def test_connector_status_ignores_case_and_spaces(site: Any, given_that: Any, status: str) -> None:
    _hub, cp = site
    set_charger(given_that, "cp1", status, (7.0, 7.0, 7.0))
    r = cp.reading(CycleContext(now_s=1000.0, now_utc=START, voltage_v=230.0))
    assert (r.available, r.connected, r.drawing) == (True, True, True)


def test_suspended_ev_in_any_case_goes_by_power(site: Any, given_that: Any) -> None:
    _hub, cp = site
    set_charger(given_that, "cp1", "SuspendedEv", (0.0, 0.0, 0.0), power_kw=0.0)
    assert cp.reading(CycleContext(1000.0, START, 230.0)).drawing is True  # idle timer starts
    assert cp.reading(CycleContext(1060.0, START, 230.0)).drawing is False  # 60 s idle


def test_unknown_connector_status_is_warned_once_and_goes_by_power(
    site: Any, given_that: Any, hass_mocks: Any
) -> None:
    _hub, cp = site
    set_charger(given_that, "cp1", "Occupied", (10.0, 10.0, 10.0), power_kw=6.9)
    for t in (1000.0, 1005.0, 1010.0):
        r = cp.reading(CycleContext(t, START, 230.0))
        assert (r.available, r.connected, r.drawing) == (True, True, True)
    warnings = logs(hass_mocks, "Occupied", "WARNING")
    assert len(warnings) == 1
    assert "connector status 'Occupied' of sensor.cp1_status_connector" in warnings[0]
    set_charger(given_that, "cp1", "Occupied", (0.0, 0.0, 0.0), power_kw=0.0)
    assert cp.reading(CycleContext(1015.0, START, 230.0)).drawing is True
    assert cp.reading(CycleContext(1075.0, START, 230.0)).drawing is False
    assert len(logs(hass_mocks, "Occupied", "WARNING")) == 1


def test_suspended_evse_wants_current(site: Any, given_that: Any) -> None:
    """SuspendedEVSE is the charger pausing the car (we offered 0 A), not the car being done:
    if it read as not drawing, a paused car would never be offered current again."""
    _hub, cp = site
    set_charger(given_that, "cp1", "SuspendedEVSE", (0.0, 0.0, 0.0), power_kw=0.0)
    for t in (1000.0, 2000.0):  # long past idle_timeout_s: still wants current
        r = cp.reading(CycleContext(t, START, 230.0))
        assert (r.connected, r.drawing) == (True, True)


@pytest.mark.parametrize("tx", ["0", "-3", "12.5", "unknown", "abc"])
def test_transaction_id_that_is_no_id_gets_a_tx_default_profile(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any, tx: str
) -> None:
    set_charger(given_that, "cp1", "Charging", transaction_id=tx)
    time_travel.fast_forward(5).seconds()
    profile = limit_calls(hass_mocks)[-1]["custom_profile"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert "transactionId" not in profile


def test_stale_transaction_id_after_stop_transaction_is_not_used(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """After StopTransaction the integration keeps the old id: the connector status tells that
    no session runs, and that id is never used again; a new session brings a new id."""
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="41")
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    assert limit_calls(hass_mocks)[-1]["custom_profile"]["transactionId"] == 41

    def purposes_since(n: int) -> list[tuple[str, int | None]]:
        return [
            (
                c["custom_profile"]["chargingProfilePurpose"],
                c["custom_profile"].get("transactionId"),
            )
            for c in limit_calls(hass_mocks)[n:]
        ]

    for status in ("Finishing", "Available", "Preparing"):
        n = len(limit_calls(hass_mocks))
        set_charger(given_that, "cp1", status, transaction_id="41")
        set_grid(given_that, 10, 10, 10)
        time_travel.fast_forward(5).seconds()
        assert ("TxProfile", 41) not in purposes_since(n), status
    n = len(limit_calls(hass_mocks))
    set_charger(given_that, "cp1", "Preparing", transaction_id="41")
    time_travel.fast_forward(30).seconds()  # Preparing with the old id: still TxDefault
    assert all(p == ("TxDefaultProfile", None) for p in purposes_since(n))
    # StartTransaction: a new id while still Preparing: no TxProfile before a session status.
    n = len(limit_calls(hass_mocks))
    set_charger(given_that, "cp1", "Preparing", transaction_id="42")
    time_travel.fast_forward(5).seconds()
    assert all(p == ("TxDefaultProfile", None) for p in purposes_since(n))
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="42")
    time_travel.fast_forward(5).seconds()
    assert limit_calls(hass_mocks)[-1]["custom_profile"]["transactionId"] == 42


def test_without_commands_a_charging_car_is_held_at_the_lower_of_min_and_failsafe(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """The hub is removed: after the stale timeout (60 s, no other one known yet) the charger app
    holds the car at min(min_a 6, failsafe_a 4) = 4 A itself, says so once, and keeps that
    profile refreshed; a hub that comes back takes over again."""
    quiet_site_with_charger(given_that)
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0))
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", failsafe_a=4)
    time_travel.fast_forward(10).seconds()  # 12:00:10, last command
    assert cp.last_sent_a == 16.0
    ad.stop("lj_hub")
    time_travel.fast_forward(55).seconds()  # 12:01:05: 55 s without a command
    assert cp.last_sent_a == 16.0
    assert not cp.on_own
    time_travel.fast_forward(5).seconds()  # 12:01:10: 60 s
    assert cp.on_own
    assert cp.last_sent_a == 4.0
    assert limit_calls(hass_mocks)[-1]["custom_profile"]["chargingSchedule"][
        "chargingSchedulePeriod"
    ] == [{"startPeriod": 0, "limit": 4.0}]
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert state == "no_hub"
    assert "no command from hub 'lj_hub' for 60 s" in attrs["reason"]
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "4.0"
    warnings = logs(hass_mocks, "no command from hub", "WARNING")
    assert len(warnings) == 1
    assert warnings[0].endswith("safe state on my own: 4 A")
    sent = len(limit_calls(hass_mocks))
    time_travel.fast_forward(80).seconds()  # refresh_s: the 4 A profile must not lapse
    assert len(limit_calls(hass_mocks)) == sent + 1
    assert cp.last_sent_a == 4.0
    assert len(logs(hass_mocks, "no command from hub", "WARNING")) == 1

    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    time_travel.fast_forward(15).seconds()  # re-registration (10 s) + a cycle
    assert not cp.on_own
    assert cp.last_sent_a == 16.0
    assert len(logs(hass_mocks, "commands from hub 'lj_hub' again")) == 1
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "charging"


def test_without_a_hub_ever_a_car_that_does_not_draw_gets_0_a(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A hub that never starts (removed, config error): 60 s after start the load acts alone."""
    quiet_site_with_charger(given_that)
    set_charger(given_that, "cp1", "Available")
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(55).seconds()
    assert limit_calls(hass_mocks) == []
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 0.0
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert state == "no_hub"
    # The reason carries what registration found out.
    assert attrs["reason"].endswith(
        "hub app 'lj_hub' is not running (yet); waiting for it. "
        "Add 'dependencies: [lj_hub]' to this app to start it after "
        "the hub"
    )


def test_stale_timeout_comes_from_the_last_cycle_context(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    quiet_site_with_charger(given_that)
    set_charger(given_that, "cp1", "Charging", (10.0, 10.0, 10.0))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1")
    time_travel.fast_forward(5).seconds()
    now = START + datetime.timedelta(seconds=5)
    ctx = CycleContext(now.timestamp(), now, 230.0, stale_timeout_s=20.0)
    cp.apply(Command("evse1", 10.0, True, True, LoadState.CHARGING, "max current"), ctx)
    assert cp.last_sent_a == 10.0
    time_travel.fast_forward(15).seconds()  # 15 s since the command
    assert cp.last_sent_a == 10.0
    time_travel.fast_forward(5).seconds()  # 20 s: the hub's timeout
    assert cp.last_sent_a == 6.0  # min_a (failsafe_a defaults to it)
    assert cp.on_own


@pytest.mark.parametrize(
    ("value", "unit", "drawing"),
    [
        ("0.2", None, True),  # no unit: HA OCPP power is kW -> 200 W >= idle_power_w 100
        ("0.2", "W", False),  # 0.2 W: idle
        ("0.2", "kw", True),
        ("150", "W", True),
        ("0.00005", "MW", False),  # 50 W
    ],
)
def test_charger_power_units(
    site: Any, given_that: Any, value: str, unit: str | None, drawing: bool
) -> None:
    _hub, cp = site
    set_charger(given_that, "cp1", "SuspendedEV", (0.0, 0.0, 0.0))
    attrs = {} if unit is None else {"unit_of_measurement": unit}
    given_that.state_of("sensor.cp1_power_active_import").is_set_to(value, attrs)
    cp.reading(CycleContext(1000.0, START, 230.0))  # a first idle reading starts the timer
    assert cp.reading(CycleContext(1060.0, START, 230.0)).drawing is drawing


def test_charger_entity_with_a_wrong_unit_is_refused_once(
    site: Any, given_that: Any, hass_mocks: Any
) -> None:
    _hub, cp = site
    given_that.state_of("sensor.cp1_current_import").is_set_to(
        "7", {"L1": 7.0, "L2": 7.0, "L3": 7.0, "unit_of_measurement": "mA"}
    )
    assert cp.reading(CycleContext(1000.0, START, 230.0)).draw_a == (0.007, 0.007, 0.007)
    given_that.state_of("sensor.cp1_current_import").is_set_to(
        "7", {"L1": 7.0, "L2": 7.0, "L3": 7.0, "unit_of_measurement": "kWh"}
    )
    for t in (1001.0, 1002.0):
        # Refused: counts as unknown, so the last valid lines are held.
        assert cp.reading(CycleContext(t, START, 230.0)).draw_a == (0.007, 0.007, 0.007)
    assert cp.reading(CycleContext(1060.0, START, 230.0)).draw_a is None
    warnings = logs(hass_mocks, "sensor.cp1_current_import", "WARNING")
    assert warnings == [
        "sensor.cp1_current_import reports unit 'kWh', which is not a current or a power "
        "(A, mA, W, kW or MW); its value is ignored until the unit is fixed"
    ]


@pytest.mark.parametrize(
    ("state", "offered", "draw_a"),
    [
        # The state is the sum of the lines; each line carries at least what the other two
        # (at most max_a 16 A each) cannot: 48 - 2 x 16 = 16 A.
        ("48", None, (16.0, 16.0, 16.0)),
        ("45", None, (13.0, 13.0, 13.0)),  # 45 - 32: a 3 x 15 A car counts 13 A a line
        ("15", None, (0.0, 0.0, 0.0)),  # may be a one-phase car: no line is sure to carry any
        # The charger offers 20 A: a line may carry 20 A, 48 - 2 x 20 = 8 A.
        ("48", "20", (8.0, 8.0, 8.0)),
    ],
)
def test_a_charger_without_line_currents_counts_the_least_each_line_carries(
    ad: Any,
    given_that: Any,
    time_travel: Any,
    state: str,
    offered: str | None,
    draw_a: tuple[float, ...],
) -> None:
    cp = car_at_max_behind_breaker(ad, given_that, time_travel)
    given_that.state_of("sensor.cp1_current_import").is_set_to(state, {"unit_of_measurement": "A"})
    if offered is not None:
        given_that.state_of("sensor.cp1_current_offered").is_set_to(offered)
    ctx = CycleContext(now_s=START.timestamp() + 20, now_utc=START, voltage_v=230.0)
    assert cp.reading(ctx).draw_a == draw_a


def test_a_one_phase_charger_reads_its_state_as_the_line(
    ad: Any, given_that: Any, time_travel: Any
) -> None:
    given_that.time_is(START)
    set_grid(given_that, 10, 10, 10)
    set_solar(given_that, 0)
    set_charger(given_that, "cp1", "Charging", transaction_id="7")
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", phases=1)
    given_that.state_of("sensor.cp1_current_import").is_set_to("12.5", {"unit_of_measurement": "A"})
    assert cp.reading(_ctx(START.timestamp() + 5)).draw_a == (12.5,)


@pytest.mark.parametrize(
    ("status", "state"),
    [
        # After StopTransaction / in SuspendedEV(SE) the integration zeroes the state and keeps
        # the last L1/L2/L3 attributes: an unplugged car must not count 12.5 A.
        ("Charging", "0"),
        ("Charging", "0.0"),
        ("SuspendedEV", "0"),
        ("SuspendedEVSE", "0"),
        # Whatever the state, no current flows in these statuses: stale attributes.
        ("Available", "37.5"),
        ("Finishing", "37.5"),
        ("Preparing", "37.5"),
    ],
)
def test_stale_line_attributes_count_0_a_unless_current_flows(
    ad: Any, given_that: Any, time_travel: Any, status: str, state: str
) -> None:
    cp = car_at_max_behind_breaker(ad, given_that, time_travel)
    given_that.state_of("sensor.cp1_status_connector").is_set_to(status)
    given_that.state_of("sensor.cp1_current_import").is_set_to(
        state, {"L1": 12.5, "L2": 12.5, "L3": 12.5, "unit_of_measurement": "A"}
    )
    assert cp.reading(_ctx(START.timestamp() + 20)).draw_a == (0.0, 0.0, 0.0)
    # The same attributes count once the state and the status say current flows.
    given_that.state_of("sensor.cp1_status_connector").is_set_to("Charging")
    given_that.state_of("sensor.cp1_current_import").is_set_to(
        "37.5", {"L1": 12.5, "L2": 12.5, "L3": 12.5, "unit_of_measurement": "A"}
    )
    assert cp.reading(_ctx(START.timestamp() + 25)).draw_a == (12.5, 12.5, 12.5)


def test_an_unplugged_car_with_stale_attributes_leaves_the_house_its_headroom(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """The car leaves (StopTransaction, Available); the integration keeps L1..L3 = 15 A. The
    grid reads the house alone, 10 A: counting the stale 15 A would make the house -5 A and
    the available current 15 A above the truth. 25 A breaker - 10 A house = 15 A available."""
    car_at_max_behind_breaker(ad, given_that, time_travel)
    given_that.state_of("sensor.cp1_status_connector").is_set_to("Available")
    given_that.state_of("sensor.cp1_current_import").is_set_to(
        "0", {"L1": 15.0, "L2": 15.0, "L3": 15.0, "unit_of_measurement": "A"}
    )
    set_grid(given_that, 10, 10, 10)
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_available_current_phase_a")[0] == "15.0"


def _ctx(now_s: float) -> CycleContext:
    return CycleContext(now_s=now_s, now_utc=START, voltage_v=230.0)


def test_finishing_is_finished_and_a_car_asking_again_is_not(site: Any, given_that: Any) -> None:
    _hub, cp = site
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="41")
    assert cp.reading(_ctx(1000.0)).rest is None
    set_charger(given_that, "cp1", "Finishing", transaction_id="41")
    r = cp.reading(_ctx(1005.0))
    assert (r.available, r.connected, r.drawing) == (True, True, False)
    assert r.rest is not None
    assert r.rest.state is LoadState.FINISHED
    assert (
        r.rest.reason == "car finished its session (connector Finishing): 0 A until it asks again"
    )
    for status in ("SuspendedEVSE", "Charging", "Preparing"):
        set_charger(given_that, "cp1", "Finishing", transaction_id="41")
        assert cp.reading(_ctx(1010.0)).rest is not None
        set_charger(given_that, "cp1", status, transaction_id="41")
        r = cp.reading(_ctx(1015.0))
        assert (r.connected, r.drawing, r.rest) == (True, True, None), status


def test_a_new_transaction_id_ends_finished_even_before_the_status_changes(
    site: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="41")
    set_grid(given_that, 16, 16, 16)
    time_travel.fast_forward(5).seconds()
    set_charger(given_that, "cp1", "Finishing", transaction_id="41")
    set_grid(given_that, 10, 10, 10)
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "finished"
    assert sent_limits(hass_mocks)[-1] == 0.0
    # StartTransaction 42 reaches HA before the status leaves Finishing: the car asks. It is
    # offered its 6 A min at once, in a TxDefaultProfile: not yet a session status.
    set_charger(given_that, "cp1", "Finishing", transaction_id="42")
    time_travel.fast_forward(5).seconds()
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] != "finished"
    last = limit_calls(hass_mocks)[-1]["custom_profile"]
    assert last["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 6.0
    assert last["chargingProfilePurpose"] == "TxDefaultProfile"
    assert "transactionId" not in last
    # Charging: the new transaction gets its TxProfile.
    set_charger(given_that, "cp1", "Charging", transaction_id="42")
    time_travel.fast_forward(5).seconds()
    assert limit_calls(hass_mocks)[-1]["custom_profile"]["transactionId"] == 42


@pytest.mark.parametrize(
    ("tx", "idle"),
    [("0", True), ("41", True), ("42", False), ("unknown", False), ("unavailable", False)],
)
def test_suspended_ev_without_a_session_is_idle(
    site: Any, given_that: Any, tx: str, idle: bool
) -> None:
    # Transaction 41 ended (Finishing), then the charger shows SuspendedEV. With no id, or the
    # id of the session that ended, no session runs: idle. A new id (42) is a session, and an
    # unknown sensor proves nothing: both go by power as before.
    _hub, cp = site
    set_charger(given_that, "cp1", "Charging", (6.0, 6.0, 6.0), transaction_id="41")
    cp.reading(_ctx(1000.0))
    set_charger(given_that, "cp1", "Finishing", transaction_id="41")
    cp.reading(_ctx(1005.0))
    set_charger(given_that, "cp1", "SuspendedEV", power_kw=0.0, transaction_id=tx)
    r = cp.reading(_ctx(1010.0))
    if idle:
        assert r.rest is not None
        assert r.rest.state is LoadState.IDLE
        assert r.rest.reason.startswith("connected, no session (connector SuspendedEV, ")
        assert (r.connected, r.drawing) == (True, False)
    else:
        assert r.rest is None
        assert (r.connected, r.drawing) == (True, True)  # idle_timeout_s not over yet


def test_finished_car_gets_0_a_and_its_min_as_soon_as_it_asks(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    # Real timers: min on 300 s, min off 180 s. The car at 15 A ends its session: 0 A at once
    # (no min on time for a car that is done). 10 s later it asks again (SuspendedEVSE): its
    # 6 A min goes out in that cycle, the 180 s min off time of the ended session not applied.
    cp = car_at_max_behind_breaker(ad, given_that, time_travel)
    set_charger(given_that, "cp1", "Finishing", transaction_id="7")
    set_grid(given_that, 10, 10, 10)
    time_travel.fast_forward(5).seconds()
    state, attrs = published(hass_mocks, "sensor.load_juggler_evse1_state")
    assert state == "finished"
    assert attrs["reason"].startswith("car finished its session")
    assert cp.last_sent_a == 0.0
    assert published(hass_mocks, "sensor.load_juggler_evse1_allocated_current")[0] == "0.0"
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 0.0
    set_charger(given_that, "cp1", "SuspendedEVSE", transaction_id="7")
    time_travel.fast_forward(5).seconds()
    assert cp.last_sent_a == 6.0
    assert published(hass_mocks, "sensor.load_juggler_evse1_state")[0] == "charging"


def test_each_session_end_is_remembered(site: Any, given_that: Any) -> None:
    # Session 41 ends, session 42 runs and ends: in Finishing with 42 the car is finished (42
    # is the session that ended, not a new one), and SuspendedEV with 42 is idle.
    _hub, cp = site
    steps = [
        ("Charging", "41", None),
        ("Finishing", "41", LoadState.FINISHED),
        ("Charging", "42", None),
        ("Finishing", "42", LoadState.FINISHED),
        ("SuspendedEV", "42", LoadState.IDLE),
    ]
    for n, (status, tx, state) in enumerate(steps):
        set_charger(given_that, "cp1", status, power_kw=0.0, transaction_id=tx)
        rest = cp.reading(_ctx(1000.0 + 5.0 * n)).rest
        assert (rest.state if rest is not None else None) is state, (status, tx)
