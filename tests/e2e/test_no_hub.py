"""Loads without a working hub, on the real stack: a hub stuck on a configuration error sends
no decisions, and each load puts its device in the stale-grid safe state itself after 60 s."""

from __future__ import annotations

import time

import pytest

from .conftest import start_appdaemon
from .ha_client import HAClient, wait_for
from .lj_apps import FAILSAFE_A, MIN_A, apps_config, charger_debug, offered, set_baseline
from .processes import REPO, HomeAssistant

pytestmark = pytest.mark.e2e

NO_COMMAND_TIMEOUT_S = 60.0  # a load that never had a command waits this long


@pytest.mark.timeout(150, func_only=True)
def test_loads_go_safe_when_the_hub_has_a_configuration_error(
    ha: HomeAssistant, ha_client: HAClient
) -> None:
    """The car, left at the charger's 32 A, first gets the fail-safe profile (installed at start,
    hub or not) and after 60 s without a command min(min_a, failsafe_a) = 6 A; the boiler, left
    on by hand, is turned off. Both say `no_hub`."""
    assert MIN_A < FAILSAFE_A
    ha_client.call("fake_ocpp", "reset")
    set_baseline(ha_client)
    ha_client.switch("switch.boiler", True)
    apps = apps_config()
    del apps["lj_hub"]["site"]["main_breaker_a"]  # the hub refuses to balance anything
    appdaemon = start_appdaemon(
        ha, "ad-no-hub", apps, {"load_juggler": REPO / "apps" / "load_juggler"}
    )
    try:
        appdaemon.wait_log("evse: hub 'lj_hub' refused this load", 30)
        refused = time.monotonic()
        wait_for(
            lambda: offered(ha_client) == FAILSAFE_A,
            10,
            f"the fail-safe profile ({FAILSAFE_A:g} A) installed at start",
            describe=lambda: charger_debug(ha_client),
        )
        assert ha_client.value("switch.boiler") == "on"
        wait_for(
            lambda: (
                offered(ha_client) == MIN_A
                and ha_client.value("switch.boiler") == "off"
                and ha_client.value("sensor.load_juggler_evse_state") == "no_hub"
                and ha_client.value("sensor.load_juggler_boiler_state") == "no_hub"
            ),
            NO_COMMAND_TIMEOUT_S + 15,
            f"the loads' own safe state (car at {MIN_A:g} A, boiler off)",
            describe=lambda: charger_debug(ha_client),
        )
        acted_after = time.monotonic() - refused
        print(f"loads acted alone {acted_after:.1f} s after the hub refused them")
        # The timer runs from each load's start, a little before the refusal was polled.
        assert acted_after > NO_COMMAND_TIMEOUT_S - 10
        reason = ha_client.state("sensor.load_juggler_evse_state")["attributes"]["reason"]
        assert reason.startswith("no command from hub 'lj_hub'")
        assert "has configuration errors" in reason
        current = ha_client.state("sensor.charger_current_import")
        assert [current["attributes"][p] for p in ("L1", "L2", "L3")] == [MIN_A] * 3
        for load in ("evse", "boiler"):
            appdaemon.wait_log(f"{load}: no command from hub 'lj_hub'", 5)
    finally:
        appdaemon.stop()
    assert appdaemon.error_lines() == [], "\n".join(appdaemon.error_lines())
