"""Shared pieces for the app tests: HA states in, published entities and service calls out."""

from __future__ import annotations

import datetime
from typing import Any

START = datetime.datetime(2026, 6, 1, 12, 0, 0)

HUB_ARGS: dict[str, Any] = {
    "period_s": 5,
    "site": {"phases": 3, "voltage": 230, "main_breaker_a": 25},
    "sensors": {
        "grid_current": ["sensor.grid_l1", "sensor.grid_l2", "sensor.grid_l3"],
        "solar_power": "sensor.solar_power",
    },
    "circuits": {"garage": {"limit_a": 20}},
    "control": {
        "smoothing_alpha": 1.0,
        "grid_stale_timeout_s": 60,
        "ramp_up_a_per_s": 100,
        "start_delay_s": 0,
        "stop_delay_s": 0,
        "min_on_s": 0,
        "min_off_s": 0,
        "deadband_a": 0.5,
    },
}


def set_grid(given_that: Any, l1: Any, l2: Any, l3: Any) -> None:
    for entity, value in (("sensor.grid_l1", l1), ("sensor.grid_l2", l2), ("sensor.grid_l3", l3)):
        given_that.state_of(entity).is_set_to(str(value), {"unit_of_measurement": "A"})


def set_solar(given_that: Any, watts: float) -> None:
    given_that.state_of("sensor.solar_power").is_set_to(str(watts), {"unit_of_measurement": "W"})


def quiet_site_with_charger(given_that: Any, cpid: str = "cp1") -> None:
    """The common start: the clock at START, 2 A of house per phase, no sun, a car plugged in."""
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    set_charger(given_that, cpid, "Charging")


def set_charger(
    given_that: Any,
    cpid: str = "cp1",
    status: str = "Charging",
    currents: tuple[float, float, float] = (0.0, 0.0, 0.0),
    power_kw: float | None = None,
    offered: float | None = None,
    transaction_id: str = "unknown",
) -> None:
    given_that.state_of(f"sensor.{cpid}_status_connector").is_set_to(status)
    # As the integration publishes it: the state is the sum of the lines.
    given_that.state_of(f"sensor.{cpid}_current_import").is_set_to(
        str(sum(currents)),
        {"L1": currents[0], "L2": currents[1], "L3": currents[2], "unit_of_measurement": "A"},
    )
    kw = power_kw if power_kw is not None else sum(currents) * 230 / 1000
    given_that.state_of(f"sensor.{cpid}_power_active_import").is_set_to(
        str(kw), {"unit_of_measurement": "kW"}
    )
    given_that.state_of(f"sensor.{cpid}_current_offered").is_set_to(
        "unknown" if offered is None else str(offered)
    )
    given_that.state_of(f"sensor.{cpid}_transaction_id").is_set_to(transaction_id)


def calls(hass_mocks: Any, service: str) -> list[dict[str, Any]]:
    """kwargs of every call_service(service, ...) so far, in order."""
    return [
        dict(c.kwargs)
        for c in hass_mocks.hass_functions["call_service"].call_args_list
        if c.args and c.args[0] == service
    ]


def is_failsafe(call: dict[str, Any]) -> bool:
    """A fail-safe base profile: the persistent one, without a schedule duration."""
    profile = call.get("custom_profile") or {}
    return "duration" not in (profile.get("chargingSchedule") or {})


def limit_calls(hass_mocks: Any) -> list[dict[str, Any]]:
    """ocpp/set_charge_rate calls carrying our expiring limit profile (fail-safe ones left out)."""
    return [c for c in calls(hass_mocks, "ocpp/set_charge_rate") if not is_failsafe(c)]


def failsafe_calls(hass_mocks: Any) -> list[dict[str, Any]]:
    """ocpp/set_charge_rate calls that install the persistent fail-safe base profile."""
    return [c for c in calls(hass_mocks, "ocpp/set_charge_rate") if is_failsafe(c)]


def published(hass_mocks: Any, entity_id: str) -> tuple[Any, dict[str, Any]]:
    """(state, attributes) of the last set_state of `entity_id`; AssertionError if never set."""
    for c in reversed(hass_mocks.hass_functions["set_state"].call_args_list):
        if c.args and c.args[0] == entity_id:
            assert c.kwargs.get("check_existence") is False
            return c.kwargs["state"], c.kwargs["attributes"]
    raise AssertionError(f"{entity_id} was never published")


def logs(hass_mocks: Any, text: str, level: str | None = None) -> list[str]:
    """Log lines (of any app) containing `text`, optionally of one level."""
    found = []
    for c in hass_mocks.hass_functions["log"].call_args_list:
        msg = str(c.args[0]) if c.args else ""
        lvl = c.kwargs.get("level", "INFO")
        if text in msg and (level is None or lvl == level):
            found.append(msg)
    return found


def fire_state(hass_mocks: Any, entity_id: str, new: Any, old: Any = None) -> int:
    """Call every listen_state callback registered on `entity_id`, as AppDaemon would."""
    fired = 0
    for c in hass_mocks.hass_functions["listen_state"].call_args_list:
        callback = c.args[0]
        target = c.args[1] if len(c.args) > 1 else c.kwargs.get("entity_id")
        if target == entity_id:
            callback(entity_id, "state", old, new, {})
            fired += 1
    return fired
