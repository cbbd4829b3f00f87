"""The fail-safe users rely on: when AppDaemon stops, nothing keeps refreshing the charger's
expiring profile, it lapses on the charger, and the car falls back to the persistent fail-safe
base profile Load Juggler installed below it (failsafe_a), not to the charger's maximum."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .conftest import start_load_juggler
from .ha_client import HAClient, wait_for
from .lj_apps import (
    CAR_MAX_A,
    CHARGER_DEFAULT_A,
    FAILSAFE_A,
    MAX_A,
    VALIDITY_S,
    charger_debug,
    offered,
    set_baseline,
    wait_steady,
)
from .processes import HomeAssistant

pytestmark = pytest.mark.e2e


def installed(client: HAClient) -> list[dict[str, Any]]:
    """The profiles the fake charger holds, as its diagnostic entity lists them."""
    return client.state("sensor.fake_ocpp_charger")["attributes"]["profiles"]


@pytest.mark.timeout(150, func_only=True)
def test_stopping_appdaemon_lets_the_profile_lapse_to_the_failsafe(
    ha: HomeAssistant, ha_client: HAClient
) -> None:
    """Stop AppDaemon with the car at max: within one validity period our profile lapses and the
    car drops to failsafe_a, with no write from anyone; without the base profile it would get
    the charger's own default, its 32 A maximum (all the car can take)."""
    assert FAILSAFE_A < CAR_MAX_A <= CHARGER_DEFAULT_A  # else the test could not tell them apart
    appdaemon = start_load_juggler(ha, "ad-failsafe")
    try:
        set_baseline(ha_client)
        wait_steady(ha_client)
        assert ha_client.state("sensor.charger_current_import")["attributes"]["L2"] == MAX_A
        profiles = installed(ha_client)
        [base] = [p for p in profiles if p["ends"] is None]  # the one without an end
        [ours] = [p for p in profiles if p["purpose"] == "TxProfile"]  # the car's transaction
        assert (base["purpose"], base["limit"], base["unit"]) == (
            "TxDefaultProfile",
            FAILSAFE_A,
            "A",
        )
        assert base["stack_level"] == ours["stack_level"] - 1
        assert base["id"] != ours["id"]
        assert ours["active"] and ours["limit"] == MAX_A
    finally:
        outcome = appdaemon.stop()
    assert outcome.startswith("stopped by SIGINT"), f"AppDaemon {outcome}\n{appdaemon.logs()}"
    stopped = time.monotonic()
    calls_at_stop = ha_client.state("sensor.fake_ocpp_charger")["attributes"]["calls"]

    wait_for(
        lambda: offered(ha_client) == FAILSAFE_A,
        VALIDITY_S + 3,
        f"the profile to lapse to the fail-safe {FAILSAFE_A:g} A",
        describe=lambda: charger_debug(ha_client),
    )
    lapsed_after = time.monotonic() - stopped
    print(
        f"profile lapsed {lapsed_after:.1f} s after AppDaemon stopped (validity {VALIDITY_S:g} s)"
    )
    time.sleep(3)  # the base profile has no end: it keeps ruling
    fake = ha_client.state("sensor.fake_ocpp_charger")
    assert fake["attributes"]["calls"] == calls_at_stop, "something wrote the charger after stop"
    assert fake["attributes"]["limit_source"] == "TxDefaultProfile"
    assert offered(ha_client) == FAILSAFE_A
    current = ha_client.state("sensor.charger_current_import")
    assert [current["attributes"][p] for p in ("L1", "L2", "L3")] == [FAILSAFE_A] * 3
    assert appdaemon.error_lines() == [], "\n".join(appdaemon.error_lines())
