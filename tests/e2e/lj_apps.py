"""The apps.yaml the Load Juggler e2e tests run: one hub, the fake charger, the boiler plug.

Timers are seconds instead of minutes so every behaviour shows within a test's time, and the hub's
cycle is short. Keys are those of README.md / apps.yaml.example.
"""

from __future__ import annotations

from typing import Any

from .ha_client import HAClient, wait_for

PERIOD_S = 2.0
GRID_STALE_TIMEOUT_S = 6.0
VALIDITY_S = 30.0
MAIN_BREAKER_A = 25.0
MIN_A = 6.0
MAX_A = 16.0
FAILSAFE_A = 8.0  # the charger's fail-safe base profile: what the car gets once ours lapses
VERIFY_S = 6.0  # the charger must follow a limit within this long
BOILER_W = 2000.0


def apps_config() -> dict[str, Any]:
    """apps.yaml content as a dict."""
    return {
        "lj_hub": {
            "module": "load_juggler.hub",
            "class": "Hub",
            "priority": 10,
            "log_level": "DEBUG",
            "period_s": PERIOD_S,
            "republish_s": 10,
            "site": {
                "phases": 3,
                "voltage": 230,
                "main_breaker_a": MAIN_BREAKER_A,
                "distribution": "priority",
                "excess_threshold_w": 0,
            },
            "sensors": {
                "grid_current": [
                    "sensor.grid_current_l1",
                    "sensor.grid_current_l2",
                    "sensor.grid_current_l3",
                ],
                "solar_power": "sensor.solar_power",
            },
            "control": {
                "grid_stale_timeout_s": GRID_STALE_TIMEOUT_S,
                "start_delay_s": 2,
                "stop_delay_s": 2,
                "min_on_s": 2,
                "min_off_s": 2,
                "pause_budget": 100,
                "deadband_a": 0.5,
                "ramp_up_a_per_s": 100,
                "smoothing_alpha": 1,
            },
        },
        "evse": {
            "module": "load_juggler.loads.ocpp",
            "class": "OcppCharger",
            "dependencies": ["lj_hub"],
            "hub": "lj_hub",
            "charger": "charger",
            "priority": 1,
            "mode": "continuous",
            "mode_select": "input_select.evse_mode",
            "min_a": MIN_A,
            "max_a": MAX_A,
            "phases": 3,
            "validity_s": VALIDITY_S,
            "refresh_s": 10,
            "failsafe_a": FAILSAFE_A,
            "verify_s": VERIFY_S,
        },
        "boiler": {
            "module": "load_juggler.loads.switch",
            "class": "SwitchLoad",
            "dependencies": ["lj_hub"],
            "hub": "lj_hub",
            "switch": "switch.boiler",
            "power_sensor": "sensor.boiler_power",
            "power_w": BOILER_W,
            "phases": 1,
            "phase_map": ["B"],
            "mode": "excess",
            "mode_select": "input_select.boiler_mode",
            "priority": 5,
        },
    }


CHARGER_DEFAULT_A = 32.0  # fake_ocpp's offer without any profile: its max_current_a
CAR_MAX_A = 16.0  # the fake car's car_max_a: at the charger's default it draws this
HOUSE_A = 2.0  # baseline house load per phase


def offered(client: HAClient) -> float | None:
    """What the fake charger offers the car now."""
    return client.number("sensor.charger_current_offered")


def charger_debug(client: HAClient) -> str:
    """The fake charger's view (offer, profiles, last call) and the hub's status, for messages."""
    fake = client.state("sensor.fake_ocpp_charger") or {}
    status = client.state("sensor.load_juggler_status") or {}
    return (
        f"charger offers {fake.get('state')} ({fake.get('attributes', {}).get('limit_source')}), "
        f"grid {[client.value(f'sensor.grid_current_l{n}') for n in (1, 2, 3)]}, "
        f"hub status {status.get('state')}, evse state "
        f"{client.value('sensor.load_juggler_evse_state')}, boiler "
        f"{client.value('switch.boiler')}; last call "
        f"{fake.get('attributes', {}).get('last_call')}"
    )


def set_baseline(client: HAClient) -> None:
    """The site every Load Juggler test starts from: 2 A house load per phase, no sun, CTs fine,
    car plugged in, charger Continuous, boiler Excess. Profiles are left alone: the running hub
    owns them."""
    for phase in (1, 2, 3):
        client.set_number(f"input_number.house_l{phase}_a", HOUSE_A)
    client.set_number("input_number.solar_w", 0)
    client.switch("input_boolean.grid_fault", False)
    client.call("fake_ocpp", "set_car", devid="charger", connected=True)
    client.select("input_select.evse_mode", "Continuous")
    client.select("input_select.boiler_mode", "Excess")


def wait_steady(client: HAClient, timeout_s: float = 30.0) -> None:
    """Wait until the hub has the car at max and the boiler off, the baseline's steady state."""
    wait_for(
        lambda: (
            offered(client) == MAX_A
            and client.value("switch.boiler") == "off"
            and client.value("sensor.load_juggler_status") == "ok"
            and client.value("sensor.load_juggler_evse_state") == "charging"
            and client.number("sensor.load_juggler_evse_allocated_current") == MAX_A
        ),
        timeout_s,
        f"the baseline steady state (car at {MAX_A:g} A, boiler off, hub ok)",
        describe=lambda: charger_debug(client),
    )
