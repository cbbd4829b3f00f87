"""Sending commands to the hub the way Home Assistant does (event `load_juggler_command`)."""

from __future__ import annotations

from typing import Any

from lj_support import limit_calls, set_charger, set_grid

from load_juggler.command_schema import COMMAND_EVENT, RESULT_EVENT

HOUSE_A = 2.0


def send(hass_mocks: Any, **data: Any) -> dict[str, Any] | None:
    """Fire one command at every hub listening; the last answer fired (None: no answer)."""
    before = len(answers(hass_mocks))
    fired = 0
    for c in hass_mocks.hass_functions["listen_event"].call_args_list:
        if len(c.args) > 1 and c.args[1] == COMMAND_EVENT:
            c.args[0](COMMAND_EVENT, data, {})
            fired += 1
    assert fired, "no hub listens to load_juggler_command"
    found = answers(hass_mocks)
    return found[-1] if len(found) > before else None


def answers(hass_mocks: Any) -> list[dict[str, Any]]:
    """The data of every load_juggler_command_result event so far."""
    return [
        dict(c.kwargs)
        for c in hass_mocks.hass_functions["fire_event"].call_args_list
        if c.args and c.args[0] == RESULT_EVENT
    ]


def last_limit(hass_mocks: Any, devid: str = "cp1") -> float | None:
    sent = [c for c in limit_calls(hass_mocks) if c["devid"] == devid]
    if not sent:
        return None
    return sent[-1]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]


def car_follows(given_that: Any, hass_mocks: Any, cpid: str = "cp1") -> float:
    """The car draws the last limit on all three lines, and the grid meter shows it on top
    of the house; the limit drawn."""
    amps = last_limit(hass_mocks, cpid) or 0.0
    set_charger(given_that, cpid, "Charging", (amps, amps, amps))
    total = HOUSE_A + amps
    set_grid(given_that, total, total, total)
    return amps


def run_cycles(given_that: Any, hass_mocks: Any, time_travel: Any, cycles: int) -> float:
    """`cycles` hub cycles of 5 s with the car following; the last limit."""
    for _ in range(cycles):
        car_follows(given_that, hass_mocks)
        time_travel.fast_forward(5).seconds()
    return last_limit(hass_mocks) or 0.0
