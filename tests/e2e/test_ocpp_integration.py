"""The charger as the HA OCPP integration really behaves, on the real stack.

First the stand-in itself (it must behave like the integration where Load Juggler depends on
it): the transaction sensor keeps the old id after StopTransaction, the current's state is the
sum of the lines and drops to 0 with the L1/L2/L3 attributes left stale, a TxProfile without a
running transaction is rejected, and an "old version" refuses `devid`. Then Load Juggler against
it: an unplugged car with stale attributes, a new session, an integration without `devid`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import start_load_juggler
from .ha_client import HAClient, HAError, wait_for
from .lj_apps import CAR_MAX_A, HOUSE_A, MAIN_BREAKER_A, charger_debug, offered, set_baseline
from .lj_apps import wait_steady as wait_steady_site
from .processes import AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e

FAKE = "sensor.fake_ocpp_charger"
FIRST_TX = 1001  # fake_ocpp's first transaction id


def fake(client: HAClient) -> dict[str, Any]:
    state = client.state(FAKE)
    assert state is not None
    return state["attributes"]


def tx_profile(transaction_id: int, limit: float = 10.0) -> dict[str, Any]:
    return {
        "chargingProfileId": 77,
        "stackLevel": 5,
        "chargingProfileKind": "Relative",
        "chargingProfilePurpose": "TxProfile",
        "transactionId": transaction_id,
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "duration": 60,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        },
    }


@pytest.fixture
def plant(ha_client: HAClient) -> Iterator[HAClient]:
    """The stand-in at its configured start, house at 2 A a phase; back to a new integration."""
    ha_client.call("fake_ocpp", "reset")
    for phase in ("l1", "l2", "l3"):
        ha_client.set_number(f"input_number.house_{phase}_a", HOUSE_A)
    yield ha_client
    ha_client.call("fake_ocpp", "reset")


@pytest.mark.timeout(60, func_only=True)
def test_stand_in_keeps_the_old_transaction_id_and_stale_lines(plant: HAClient) -> None:
    wait_for(lambda: offered(plant) == 32.0, 5, "the default offer")
    current = plant.state("sensor.charger_current_import")
    assert current is not None
    assert float(current["state"]) == 3 * CAR_MAX_A  # the sum of the lines: 48
    assert plant.value("sensor.charger_transaction_id") == str(FIRST_TX)

    plant.call("fake_ocpp", "set_car", devid="charger", connected=False)  # StopTransaction
    wait_for(lambda: plant.value("sensor.charger_status_connector") == "Available", 5, "unplug")
    current = plant.state("sensor.charger_current_import")
    assert current is not None
    assert float(current["state"]) == 0.0
    assert [current["attributes"][p] for p in ("L1", "L2", "L3")] == [CAR_MAX_A] * 3  # stale
    assert plant.value("sensor.charger_transaction_id") == str(FIRST_TX)  # kept

    rejected = fake(plant)["rejected"]
    with pytest.raises(HAError):
        plant.call(
            "ocpp",
            "set_charge_rate",
            devid="charger",
            conn_id=1,
            custom_profile=tx_profile(FIRST_TX),
        )
    assert fake(plant)["rejected"] == rejected + 1
    assert "without a running transaction" in fake(plant)["last_error"]

    plant.call("fake_ocpp", "set_car", devid="charger", connected=True)  # a new session
    wait_for(lambda: plant.value("sensor.charger_transaction_id") == str(FIRST_TX + 1), 5, "new id")
    plant.call(
        "ocpp",
        "set_charge_rate",
        devid="charger",
        conn_id=1,
        custom_profile=tx_profile(FIRST_TX + 1),
    )
    wait_for(lambda: offered(plant) == 10.0, 5, "the TxProfile of the new transaction")


@pytest.mark.timeout(60, func_only=True)
def test_stand_in_as_an_old_integration_refuses_devid(plant: HAClient) -> None:
    running = fake(plant)["transaction_id"]
    profile = tx_profile(running, 9.0)
    plant.call("fake_ocpp", "set_integration", accepts_devid=False)
    with pytest.raises(HAError) as refused:
        plant.call("ocpp", "set_charge_rate", devid="charger", conn_id=1, custom_profile=profile)
    assert refused.value.status == 400  # the schema refuses it (REST gives no detail)
    plant.call("ocpp", "set_charge_rate", conn_id=1, custom_profile=profile)  # the first charger
    wait_for(lambda: offered(plant) == 9.0, 5, "the limit sent without devid")
    plant.call("fake_ocpp", "set_integration", accepts_devid=True)
    plant.call(
        "ocpp",
        "set_charge_rate",
        devid="charger",
        conn_id=1,
        custom_profile=tx_profile(running, 8),
    )
    wait_for(lambda: offered(plant) == 8.0, 5, "devid accepted again")


# -- Load Juggler against it


@pytest.fixture(scope="module")
def load_juggler(ha: HomeAssistant) -> Iterator[AppDaemon]:
    appdaemon = start_load_juggler(ha, "ad-ocpp-integration")
    try:
        yield appdaemon
    finally:
        appdaemon.stop()
        assert ha.client is not None
        ha.client.call("fake_ocpp", "reset")


@pytest.fixture
def site(ha_client: HAClient, load_juggler: AppDaemon) -> HAClient:
    ha_client.call("fake_ocpp", "set_integration", accepts_devid=True)
    ha_client.call("fake_ocpp", "set_charger", devid="charger", ignores_profiles=False)
    set_baseline(ha_client)
    wait_steady_site(ha_client)
    return ha_client


def available_a(client: HAClient) -> float | None:
    return client.number("sensor.load_juggler_available_current_phase_a")


@pytest.mark.timeout(90, func_only=True)
def test_an_unplugged_car_counts_nothing_and_a_new_session_gets_its_profile(
    site: HAClient, load_juggler: AppDaemon
) -> None:
    rejected = fake(site)["rejected"]
    site.call("fake_ocpp", "set_car", devid="charger", connected=False)
    # House 2 A under a 25 A breaker: 23 A available. Counting the stale 16 A lines as the
    # car's would make the house -14 A and the available current 39 A.
    wait_for(
        lambda: available_a(site) == MAIN_BREAKER_A - HOUSE_A,
        10,
        "23 A available once the car left",
        describe=lambda: f"available {available_a(site)}; {charger_debug(site)}",
    )
    wait_for(
        lambda: site.value("sensor.load_juggler_evse_state") == "disconnected",
        6,
        "the charger app to say the car left",
        describe=lambda: charger_debug(site),
    )
    site.call("fake_ocpp", "set_car", devid="charger", connected=True)
    wait_for(
        lambda: (
            fake(site)["limit_source"] == "TxProfile"
            and (fake(site)["last_call"] or {}).get("custom_profile", {}).get("transactionId")
            == fake(site)["transaction_id"]
        ),
        10,
        "a TxProfile for the new transaction",
        describe=lambda: charger_debug(site),
    )
    # Never a TxProfile for the finished transaction: the charger rejected nothing.
    assert fake(site)["rejected"] == rejected, charger_debug(site)
    assert load_juggler.error_lines() == [], "\n".join(load_juggler.error_lines())


@pytest.mark.timeout(90, func_only=True)
def test_a_paused_car_is_not_counted_by_its_stale_lines(site: HAClient) -> None:
    """House 22 A: 3 A left, under the 6 A minimum, so the car is paused (SuspendedEVSE). The
    integration's state drops to 0 while L1..L3 keep 16 A: counted as the car's, they would make
    the house 6 A and the available current 19 A. End to end the car stays paused and the
    breaker within its limit (the app reads 0 A; the controller would also count a draw above
    the 0 A command as house load, so this shows the whole chain, the app tests the reading)."""
    for phase in (1, 2, 3):
        site.set_number(f"input_number.house_l{phase}_a", 22.0)
    wait_for(
        lambda: site.value("sensor.charger_status_connector") == "SuspendedEVSE",
        15,
        "the car paused",
        describe=lambda: charger_debug(site),
    )
    stale = site.state("sensor.charger_current_import")
    assert stale is not None and float(stale["state"]) == 0.0
    assert stale["attributes"]["L1"] > 0  # the stale line the integration keeps
    wait_for(
        lambda: available_a(site) == MAIN_BREAKER_A - 22.0,
        15,
        "3 A available: the house's 22 A, nothing of the stale lines subtracted",
        describe=lambda: f"available {available_a(site)}; {charger_debug(site)}",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert offered(site) == 0.0, charger_debug(site)  # stays paused: nothing fits
        assert max(site.number(f"sensor.grid_current_l{n}") or 0 for n in (1, 2, 3)) <= (
            MAIN_BREAKER_A
        ), charger_debug(site)
        time.sleep(0.5)


def profile_check(client: HAClient) -> str:
    state = client.state("sensor.load_juggler_evse_state") or {}
    return str(state.get("attributes", {}).get("profile_check"))


@pytest.mark.timeout(180, func_only=True)
def test_a_charger_that_ignores_our_profile_is_reported(
    site: HAClient, load_juggler: AppDaemon
) -> None:
    """The charger accepts every profile and offers its own 32 A: reported once `verify_s`
    (6 s) after its offer changed, the other unit tried once and dropped, and the report ends
    once it follows again."""
    site.call("fake_ocpp", "set_charger", devid="charger", ignores_profiles=True)
    wait_for(lambda: offered(site) == 32.0, 5, "the charger's own 32 A")
    load_juggler.wait_log("charger ignores our profile: charger 'charger' offers 32 A", 15)
    wait_for(
        lambda: profile_check(site).startswith("charger ignores our profile"),
        15,
        "profile_check to say so",
        describe=lambda: profile_check(site),
    )
    load_juggler.wait_log("trying charging rate unit W once", 5)
    # The offer stays 32 A, so HA's last_updated stays from before the W limit: judged a meter
    # interval (60 s) after verify_s.
    load_juggler.wait_log("the other unit did not help; charging rate unit A again", 85)
    site.call("fake_ocpp", "set_charger", devid="charger", ignores_profiles=False)
    wait_for(lambda: profile_check(site) == "ok", 20, "profile_check ok once it follows")
    load_juggler.wait_log("follows our profile again", 5)


@pytest.mark.timeout(90, func_only=True)
def test_an_old_integration_beside_another_ocpp_charger_gets_no_call_without_devid(
    site: HAClient, load_juggler: AppDaemon
) -> None:
    """This Home Assistant shows two OCPP chargers (`charger` and `twin`). An integration that
    refuses `devid` sends a call without it to its first charger, which may be the other one:
    nothing goes out without `devid`, and one ERROR says to upgrade. (With a single charger the
    call goes out without `devid`: `tests/apps/test_apps_ocpp_session.py`.) Last in this module:
    the app remembers the refusal for the rest of its run."""
    site.call("fake_ocpp", "set_integration", accepts_devid=False)
    for phase in (1, 2, 3):  # 12 A of house: a new limit (13 A) is due
        site.set_number(f"input_number.house_l{phase}_a", 12.0)
    load_juggler.wait_log("Upgrade the HA OCPP integration", 20)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        last = fake(site)["last_call"] or {}
        assert "devid" in last or not last, charger_debug(site)
        time.sleep(1)
