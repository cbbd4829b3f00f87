"""Load Juggler on the real stack: the hub and its loads in a real AppDaemon, steering the fake
OCPP charger and the boiler plug in a real Home Assistant, with the plant closing the loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from .conftest import start_load_juggler
from .ha_client import HAClient, wait_for
from .lj_apps import (
    BOILER_W,
    GRID_STALE_TIMEOUT_S,
    HOUSE_A,
    MAIN_BREAKER_A,
    MAX_A,
    MIN_A,
    PERIOD_S,
    VALIDITY_S,
    charger_debug,
    offered,
    set_baseline,
    wait_steady,
)
from .processes import AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e

SLACK_S = 1.0  # REST polling + HA -> AppDaemon -> HA round trips on a busy 2-core machine


@pytest.fixture(scope="module")
def load_juggler(ha: HomeAssistant) -> Iterator[AppDaemon]:
    """One AppDaemon with the hub, the charger and the boiler for the whole module."""
    appdaemon = start_load_juggler(ha, "ad-load-juggler")
    try:
        yield appdaemon
    finally:
        appdaemon.stop()


@pytest.fixture
def site(ha_client: HAClient, load_juggler: AppDaemon) -> HAClient:
    """The baseline site, with the hub settled on it."""
    set_baseline(ha_client)
    wait_steady(ha_client)
    return ha_client


def elapsed_until(
    client: HAClient, condition: Callable[[], bool], timeout_s: float, what: str
) -> float:
    """Seconds until `condition()` holds (polled every 0.1 s), failing after `timeout_s`."""
    began = time.monotonic()
    wait_for(condition, timeout_s, what, interval=0.1, describe=lambda: charger_debug(client))
    return time.monotonic() - began


def hold(client: HAClient, condition: Callable[[], bool], seconds: float, what: str) -> None:
    """`condition()` must stay true for `seconds` (sampled every 0.25 s)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition(), f"{what} no longer holds: {charger_debug(client)}"
        time.sleep(0.25)


def grid(client: HAClient, phase: int) -> float:
    """Grid CT current of site phase 1..3 (import positive)."""
    value = client.number(f"sensor.grid_current_l{phase}")
    assert value is not None, f"grid CT L{phase} has no value: {charger_debug(client)}"
    return value


@pytest.mark.timeout(90, func_only=True)
def test_hub_entities_appear_with_units(site: HAClient) -> None:
    """The hub and the loads publish their entities into HA, numbers with their units."""
    expected_units = {
        "sensor.load_juggler_available_current_phase_a": "A",
        "sensor.load_juggler_available_current_phase_b": "A",
        "sensor.load_juggler_available_current_phase_c": "A",
        "sensor.load_juggler_headroom_phase_a": "A",
        "sensor.load_juggler_headroom_phase_b": "A",
        "sensor.load_juggler_headroom_phase_c": "A",
        "sensor.load_juggler_solar_surplus": "W",
        "sensor.load_juggler_evse_allocated_current": "A",
    }
    missing = [eid for eid in expected_units if site.state(eid) is None]
    assert not missing, f"not published in HA: {missing}"
    for entity_id, unit in expected_units.items():
        state = site.state(entity_id)
        assert state is not None
        assert state["attributes"].get("unit_of_measurement") == unit, (entity_id, state)
        assert site.number(entity_id) is not None, (entity_id, state)
    assert site.value("sensor.load_juggler_status") == "ok"
    assert site.value("sensor.load_juggler_evse_state") == "charging"
    assert site.number("sensor.load_juggler_evse_allocated_current") == MAX_A
    assert site.value("sensor.load_juggler_boiler_state") is not None
    assert site.value("binary_sensor.load_juggler_boiler_allocated") == "off"
    for text in ("evse", "boiler"):
        assert site.value(f"sensor.load_juggler_{text}_reason"), f"{text} gives no reason"
    # Breaker minus what is not a managed load: the feedback removed the car's own draw.
    assert site.number("sensor.load_juggler_available_current_phase_a") == pytest.approx(
        MAIN_BREAKER_A - HOUSE_A, abs=0.5
    )


@pytest.mark.timeout(90, func_only=True)
def test_zero_valued_states_reach_ha(site: HAClient, load_juggler: AppDaemon) -> None:
    """An idle load's allocated current of 0 A is published like any other value."""
    refused = [
        line
        for line in load_juggler.main_log.read_text(errors="replace").splitlines()
        if "Bad Request" in line or "Error setting state" in line
    ]
    state = site.state("sensor.load_juggler_boiler_allocated_current")
    assert state is not None and not refused, (
        f"sensor.load_juggler_boiler_allocated_current is {state}; HA refused these set_state "
        "calls:\n" + "\n".join(refused[:6])
    )
    assert site.number("sensor.load_juggler_boiler_allocated_current") == 0.0
    assert state["attributes"].get("unit_of_measurement") == "A"


@pytest.mark.timeout(90, func_only=True)
def test_charger_limited_under_breaker_when_house_load_jumps(site: HAClient) -> None:
    """House load on L1 jumps: the car is cut so L1 stays under the 25 A breaker; when not even
    the minimum fits, the car is paused rather than overloading the phase."""
    site.set_number("input_number.house_l1_a", 15)
    headroom_a = MAIN_BREAKER_A - 15
    took = elapsed_until(
        site,
        lambda: (offered(site) or 0) <= headroom_a and grid(site, 1) <= MAIN_BREAKER_A,
        2 * PERIOD_S + SLACK_S,
        f"the car cut to the {headroom_a:g} A left on L1",
    )
    print(f"cut after the jump took {took:.1f} s")
    hold(
        site,
        lambda: grid(site, 1) <= MAIN_BREAKER_A and (offered(site) or 0) <= headroom_a,
        3 * PERIOD_S,
        "L1 under the breaker with the car cut to the headroom",
    )
    assert (offered(site) or 0) >= MIN_A, "10 A of headroom fits the minimum: keep charging"
    assert site.value("sensor.load_juggler_evse_state") == "charging"

    site.set_number("input_number.house_l1_a", 22)  # 3 A left: less than the car's 6 A minimum
    elapsed_until(
        site,
        lambda: offered(site) == 0 and grid(site, 1) <= MAIN_BREAKER_A,
        2 * PERIOD_S + SLACK_S,
        "the car paused with L1 under the breaker",
    )
    hold(site, lambda: grid(site, 1) <= MAIN_BREAKER_A, 2 * PERIOD_S, "L1 under the breaker")
    # The pause went out as a 0 A profile and arrived whole through AppDaemon's websocket
    # service call: `startPeriod: 0` and `limit: 0` were not dropped as falsy values.
    fake = site.state("sensor.fake_ocpp_charger")
    assert fake is not None
    call = fake["attributes"]["last_call"]
    assert fake["attributes"]["rejected"] == 0, charger_debug(site)
    assert call["devid"] == "charger" and call["conn_id"] == 1, call
    profile = call["custom_profile"]
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 0}
    ], call
    assert profile["chargingProfilePurpose"] in ("TxProfile", "TxDefaultProfile"), call
    assert profile["chargingSchedule"]["duration"] == VALIDITY_S, call
    assert site.value("sensor.load_juggler_evse_state") == "paused_by_us"


@pytest.mark.timeout(90, func_only=True)
def test_mode_change_from_input_select_within_two_cycles(site: HAClient) -> None:
    """Picking `Off` in the charger's input_select stops it within two hub cycles; `Continuous`
    brings it back."""
    site.select("input_select.evse_mode", "Off")
    took = elapsed_until(
        site, lambda: offered(site) == 0, 2 * PERIOD_S + SLACK_S, "the charger to offer 0 A"
    )
    print(f"mode Off took effect after {took:.1f} s (cycle {PERIOD_S:g} s)")
    wait_for(
        lambda: site.value("sensor.load_juggler_evse_state") == "off",
        PERIOD_S + SLACK_S,
        "the charger's state entity to say off",
        describe=lambda: charger_debug(site),
    )
    # The car draws nothing: the state (the sum of the lines) is 0; like the integration, the
    # stand-in keeps the last L1..L3 attributes, stale.
    assert float(site.state("sensor.charger_current_import")["state"]) == 0.0

    site.select("input_select.evse_mode", "Continuous")
    took = elapsed_until(
        site,
        lambda: (offered(site) or 0) >= MIN_A,
        2 * PERIOD_S + SLACK_S + 2,  # + min_off_s
        "the charger to offer current again",
    )
    print(f"mode Continuous took effect after {took:.1f} s")


@pytest.mark.timeout(120, func_only=True)
def test_plug_switches_on_only_on_surplus(site: HAClient) -> None:
    """The boiler (Excess) stays off while nothing or too little is exported, switches on once
    the export covers its 2 kW, and off again when the sun goes."""
    site.select("input_select.evse_mode", "Off")  # the car would take any surplus first
    wait_for(
        lambda: offered(site) == 0,
        2 * PERIOD_S + SLACK_S,
        "the car to stop",
        describe=lambda: charger_debug(site),
    )
    house_w = 3 * HOUSE_A * 230
    site.set_number("input_number.solar_w", house_w + BOILER_W / 2)  # export: half a boiler
    hold(
        site,
        lambda: site.value("switch.boiler") == "off",
        4 * PERIOD_S,
        "the boiler staying off without enough surplus",
    )

    site.set_number("input_number.solar_w", house_w + BOILER_W + 1000)
    took = elapsed_until(
        site,
        lambda: site.value("switch.boiler") == "on",
        2 + 3 * PERIOD_S + SLACK_S,  # start_delay_s + cycles
        "the boiler to switch on on surplus",
    )
    print(f"boiler on after {took:.1f} s of surplus")
    hold(
        site,
        lambda: site.value("switch.boiler") == "on",
        3 * PERIOD_S,
        "the boiler staying on while its own draw is covered",
    )
    assert site.number("sensor.grid_power") < 0, "still exporting with the boiler on"

    site.set_number("input_number.solar_w", 0)
    elapsed_until(
        site,
        lambda: site.value("switch.boiler") == "off",
        2 + 2 + 3 * PERIOD_S + SLACK_S,  # stop_delay_s + min_on_s + cycles
        "the boiler to switch off without surplus",
    )


@pytest.mark.timeout(90, func_only=True)
def test_grid_sensor_unavailable_falls_back_to_min_after_timeout(site: HAClient) -> None:
    """CTs unavailable: the hub holds the last reading until grid_stale_timeout_s, then drops the
    charging car to its minimum; it goes back up once the CTs report again."""
    site.switch("input_boolean.grid_fault", True)
    wait_for(lambda: site.value("sensor.grid_current_l1") == "unavailable", 3, "the CT fault")
    # The hub may count staleness from its last good reading, up to a cycle before the fault.
    held_s = GRID_STALE_TIMEOUT_S - PERIOD_S - SLACK_S
    hold(site, lambda: offered(site) == MAX_A, held_s, "the car at max before the stale timeout")
    took = held_s + elapsed_until(
        site,
        lambda: offered(site) == MIN_A,
        PERIOD_S + 3 * PERIOD_S + SLACK_S,
        f"the min-current fallback ({MIN_A:g} A)",
    )
    print(f"fallback after {took:.1f} s (timeout {GRID_STALE_TIMEOUT_S:g} s)")
    wait_for(  # the hub publishes its status just after it has written the loads
        lambda: site.value("sensor.load_juggler_status") == "grid_stale",
        PERIOD_S,
        "the hub's status to say grid_stale",
        describe=lambda: charger_debug(site),
    )
    hold(site, lambda: offered(site) == MIN_A, 2 * PERIOD_S, "the car held at min while stale")

    site.switch("input_boolean.grid_fault", False)
    wait_for(
        lambda: offered(site) == MAX_A and site.value("sensor.load_juggler_status") == "ok",
        4 * PERIOD_S + SLACK_S,
        "recovery to max once the CTs report",
        describe=lambda: charger_debug(site),
    )
