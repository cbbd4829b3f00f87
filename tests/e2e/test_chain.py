"""The e2e chain itself, with a trivial app: HA up with the plant, AppDaemon connected, an app
reading states and calling the fake OCPP service, the plant closing the loop through the grid CTs.
Also checks the fake charger's profile semantics on the real HA, since the fail-safe tests of Load
Juggler depend on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import E2E_DIR, start_appdaemon
from .ha_client import HAClient, HAError, wait_for
from .lj_apps import CAR_MAX_A, CHARGER_DEFAULT_A, HOUSE_A, offered
from .processes import AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e


@pytest.fixture
def plant(ha_client: HAClient) -> HAClient:
    """The plant back at its configured start: no profiles, car plugged in, 2 A house, no sun."""
    ha_client.call("fake_ocpp", "reset")
    for phase in ("l1", "l2", "l3"):
        ha_client.set_number(f"input_number.house_{phase}_a", HOUSE_A)
    ha_client.set_number("input_number.solar_w", 0)
    ha_client.set_number("input_number.battery_w", 0)
    ha_client.switch("input_boolean.grid_fault", False)
    return ha_client


@pytest.mark.timeout(30, func_only=True)
def test_home_assistant_started_cleanly(ha: HomeAssistant) -> None:
    """The throw-away HA runs our integrations with nothing installed at start and no errors."""
    assert ha.client is not None
    config = ha.client.get("/api/config")
    assert config["state"] == "RUNNING"
    assert config["recovery_mode"] is False
    assert {"fake_ocpp", "input_select", "template", "websocket_api"} <= set(config["components"])
    log = ha.log_path.read_text(errors="replace")
    assert "Skipping pip installation" in log, "HA must run with --skip-pip"
    assert ha.error_lines() == []


@pytest.mark.timeout(60, func_only=True)
def test_plant_entities_and_closed_loop(plant: HAClient) -> None:
    """Grid CT per phase = house + car - solar / (3 V); without a profile the charger offers its
    maximum and the car takes all it can."""
    wait_for(lambda: offered(plant) == CHARGER_DEFAULT_A, 5, "the default offer")
    current = plant.state("sensor.charger_current_import")
    assert current is not None
    assert current["attributes"]["unit_of_measurement"] == "A"
    assert [current["attributes"][p] for p in ("L1", "L2", "L3")] == [CAR_MAX_A] * 3
    power = plant.state("sensor.charger_power_active_import")
    assert power is not None and power["attributes"]["unit_of_measurement"] == "kW"
    assert float(power["state"]) == pytest.approx(3 * CAR_MAX_A * 230 / 1000)
    assert plant.value("sensor.charger_status_connector") == "Charging"
    assert plant.number("sensor.grid_current_l1") == pytest.approx(HOUSE_A + CAR_MAX_A)

    plant.set_number("input_number.solar_w", 6900)  # 10 A per phase
    wait_for(
        lambda: plant.number("sensor.grid_current_l2") == pytest.approx(HOUSE_A + CAR_MAX_A - 10.0),
        5,
        "solar to show on the grid CT",
    )
    plant.switch("switch.boiler", True)  # 2000 W on L2
    wait_for(
        lambda: (
            plant.number("sensor.grid_current_l2")
            == pytest.approx(HOUSE_A + CAR_MAX_A - 10.0 + 2000 / 230, abs=0.01)
        ),
        5,
        "the boiler to show on L2",
    )
    assert plant.number("sensor.boiler_power") == 2000.0
    plant.switch("input_boolean.grid_fault", True)
    wait_for(lambda: plant.value("sensor.grid_current_l1") == "unavailable", 5, "a CT fault")


@pytest.mark.timeout(60, func_only=True)
def test_fake_ocpp_profiles_lapse(plant: HAClient) -> None:
    """A Relative profile ends after its duration, an Absolute one at validTo; limit_amps (what
    HA OCPP sends without a custom profile) stays; extra keys are refused like the real schema."""
    relative = {
        "chargingProfileId": 8,
        "stackLevel": 5,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "duration": 3,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12}],
        },
    }
    plant.call("ocpp", "set_charge_rate", devid="charger", conn_id=1, custom_profile=relative)
    wait_for(lambda: offered(plant) == 12.0, 3, "the relative profile to apply")
    assert plant.state("sensor.charger_current_import")["attributes"]["L3"] == 12.0
    wait_for(lambda: offered(plant) == CHARGER_DEFAULT_A, 6, "the relative profile to lapse")

    now = datetime.now(UTC)
    absolute = {
        **relative,
        "chargingProfileKind": "Absolute",
        "validTo": (now + timedelta(seconds=3)).isoformat().replace("+00:00", "Z"),
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "startSchedule": now.isoformat().replace("+00:00", "Z"),
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6900}],
        },
    }
    # As a string with single quotes, which HA OCPP turns into JSON.
    plant.call("ocpp", "set_charge_rate", conn_id=1, custom_profile=str(absolute))
    wait_for(lambda: offered(plant) == 10.0, 3, "the absolute profile (6900 W / 3 / 230 V)")
    wait_for(lambda: offered(plant) == CHARGER_DEFAULT_A, 6, "validTo to pass")

    plant.call("ocpp", "set_charge_rate", devid="charger", limit_amps=7)
    wait_for(lambda: offered(plant) == 7.0, 3, "the station-wide limit")
    with pytest.raises(HAError) as refused:
        plant.call("ocpp", "set_charge_rate", devid="charger", limit_amps=9, bogus=1)
    assert refused.value.status == 400
    plant.call("ocpp", "clear_profile", devid="charger")
    wait_for(lambda: offered(plant) == CHARGER_DEFAULT_A, 3, "clear_profile")


@pytest.fixture
def smoke_appdaemon(ha: HomeAssistant) -> Iterator[AppDaemon]:
    """AppDaemon running only the trivial smoke app."""
    appdaemon = start_appdaemon(
        ha,
        "ad-smoke",
        {"lj_e2e_smoke": {"module": "lj_e2e_smoke", "class": "Smoke"}},
        {"lj_e2e_smoke.py": E2E_DIR / "smoke_app" / "lj_e2e_smoke.py"},
    )
    try:
        yield appdaemon
    finally:
        appdaemon.stop()


@pytest.mark.timeout(90, func_only=True)
def test_appdaemon_drives_the_fake_charger(plant: HAClient, smoke_appdaemon: AppDaemon) -> None:
    """AppDaemon connects with the long-lived token, its app reads an input_number, writes the
    charger through ocpp.set_charge_rate, and the car and the grid CT follow."""
    plant.set_number("input_number.house_l1_a", 11)
    smoke_appdaemon.wait_log("smoke: ready", 60)
    smoke_appdaemon.wait_log("smoke: call with an extra key -> success=False", 5)
    wait_for(
        lambda: offered(plant) == 11.0,
        10,
        "the app's profile on the charger",
        describe=lambda: str(plant.state("sensor.fake_ocpp_charger")),
    )
    wait_for(
        lambda: plant.number("sensor.grid_current_l1") == pytest.approx(11 + 11),
        5,
        "house + car on the L1 CT",
    )
    smoke = wait_for(lambda: plant.state("sensor.lj_e2e_smoke"), 5, "the app's own entity")
    assert smoke["attributes"]["wanted_a"] == 11.0
    assert smoke["attributes"]["service_ok"] == "yes"
    assert smoke_appdaemon.stop().startswith("stopped by SIGINT")
    assert smoke_appdaemon.error_lines() == []
