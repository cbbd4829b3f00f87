"""Commands on the real stack: an HA event `load_juggler_command` (as an automation's `event:`
action fires it) reaches the hub in a real AppDaemon, with the metadata HA adds, and changes
what the fake charger offers; a bad command is refused with a line naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import start_load_juggler
from .ha_client import HAClient, _request, wait_for
from .lj_apps import MAX_A, charger_debug, offered, set_baseline, wait_steady
from .processes import AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e


@pytest.fixture
def load_juggler(ha: HomeAssistant, ha_client: HAClient) -> Iterator[AppDaemon]:
    appdaemon = start_load_juggler(ha, "ad-commands")
    try:
        set_baseline(ha_client)
        wait_steady(ha_client)
        yield appdaemon
    finally:
        appdaemon.stop()


def fire(client: HAClient, **data: Any) -> None:
    """Fire the event through HA's REST API, as an automation would."""
    _request(
        "POST",
        f"{client.base_url}/api/events/load_juggler_command",
        token=client.token,
        json_body=data,
    )


def override(client: HAClient) -> Any:
    state = client.state("sensor.load_juggler_evse_state") or {}
    return state.get("attributes", {}).get("override")


@pytest.mark.timeout(120, func_only=True)
def test_pause_and_resume_by_event_and_a_refused_command(
    ha_client: HAClient, load_juggler: AppDaemon
) -> None:
    assert offered(ha_client) == MAX_A
    fire(ha_client, command="set_mode", load="evse", mode="turbo")
    load_juggler.wait_log(
        "command refused: command set_mode: key 'mode' = 'turbo' is invalid: must be one of",
        20,
    )
    assert offered(ha_client) == MAX_A

    fire(ha_client, command="pause", load="evse", id="e2e")
    load_juggler.wait_log("command pause: evse: paused until resume", 20)
    wait_for(
        lambda: offered(ha_client) == 0.0,
        20,
        "the paused car offered 0 A",
        describe=lambda: charger_debug(ha_client),
    )
    wait_for(lambda: override(ha_client) == "paused", 20, "override attribute 'paused'")

    fire(ha_client, command="resume", load="evse")
    load_juggler.wait_log("command resume: evse: resumed", 20)
    # Not left at "paused": AppDaemon keeps attributes a write leaves out.
    wait_for(lambda: override(ha_client) == "none", 20, "override attribute 'none'")
    wait_for(
        lambda: offered(ha_client) == MAX_A,
        30,
        "the resumed car back at its max",
        describe=lambda: charger_debug(ha_client),
    )
