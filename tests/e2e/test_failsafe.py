"""The fail-safe users rely on: when AppDaemon stops, nothing keeps refreshing the charger's
profile, it expires on the charger, and the car falls back to the charger's own default."""

from __future__ import annotations

import time

import pytest

from .conftest import start_load_juggler
from .ha_client import HAClient, wait_for
from .lj_apps import (
    CHARGER_DEFAULT_A,
    MAX_A,
    VALIDITY_S,
    charger_debug,
    offered,
    set_baseline,
    wait_steady,
)
from .processes import HomeAssistant

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(150, func_only=True)
def test_stopping_appdaemon_lets_the_profile_lapse(ha: HomeAssistant, ha_client: HAClient) -> None:
    """Stop AppDaemon with the car at max: within one validity period the charger's profile
    lapses and the car drops to the charger's default, with no write from anyone."""
    appdaemon = start_load_juggler(ha, "ad-failsafe")
    try:
        set_baseline(ha_client)
        wait_steady(ha_client)
        assert ha_client.state("sensor.charger_current_import")["attributes"]["L2"] == MAX_A
    finally:
        outcome = appdaemon.stop()
    assert outcome.startswith("stopped by SIGINT"), f"AppDaemon {outcome}\n{appdaemon.logs()}"
    stopped = time.monotonic()
    calls_at_stop = ha_client.state("sensor.fake_ocpp_charger")["attributes"]["calls"]

    wait_for(
        lambda: offered(ha_client) == CHARGER_DEFAULT_A,
        VALIDITY_S + 3,
        f"the profile to lapse to the charger's default {CHARGER_DEFAULT_A:g} A",
        describe=lambda: charger_debug(ha_client),
    )
    lapsed_after = time.monotonic() - stopped
    print(
        f"profile lapsed {lapsed_after:.1f} s after AppDaemon stopped (validity {VALIDITY_S:g} s)"
    )
    fake = ha_client.state("sensor.fake_ocpp_charger")
    assert fake["attributes"]["calls"] == calls_at_stop, "something wrote the charger after stop"
    assert fake["attributes"]["limit_source"] == "default"
    current = ha_client.state("sensor.charger_current_import")
    assert [current["attributes"][p] for p in ("L1", "L2", "L3")] == [CHARGER_DEFAULT_A] * 3
    assert appdaemon.error_lines() == [], "\n".join(appdaemon.error_lines())
