"""A charger with two plugs on the real stack: the stand-in's `twin` (two connectors, named as
the integration names them) driven by one OcppCharger app with a `connectors:` list, in both
unit modes; and the stand-in's meter values, which come every `meter_interval_s` (60 s by
default, as the integration's), not at every plant update.

The `charger` car takes nothing during these tests (its draw would only narrow the headroom)
and every test ends with `fake_ocpp.reset`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import pytest

from load_juggler.loads.ocpp_discovery import device_template, parse_answer

from .conftest import start_appdaemon
from .ha_client import HAClient, _request, wait_for
from .lj_apps import HOUSE_A, apps_config
from .processes import REPO, AppDaemon, HomeAssistant

pytestmark = pytest.mark.e2e

LEFT, RIGHT = 1, 2


def twin_apps(concurrent: bool, unit_max_a: float) -> dict[str, Any]:
    """The e2e hub and one two-plug charger app (`twin_left` conn 1, `twin_right` conn 2)."""
    base = apps_config()
    return {
        "lj_hub": copy.deepcopy(base["lj_hub"]),
        "twin": {
            "module": "load_juggler.loads.ocpp",
            "class": "OcppCharger",
            "dependencies": ["lj_hub"],
            "hub": "lj_hub",
            "charger": "twin",
            "mode": "continuous",
            "min_a": 6,
            "max_a": 16,
            "validity_s": 30,
            "refresh_s": 10,
            "unit_max_a": unit_max_a,
            "concurrent": concurrent,
            "connectors": [
                {"conn_id": LEFT, "name": "left", "priority": 1},
                {"conn_id": RIGHT, "name": "right", "priority": 2},
            ],
        },
    }


def offered(client: HAClient, conn_id: int) -> float | None:
    """What connector `conn_id` offers its car now (the stand-in's own view, not the meter)."""
    return client.number(f"sensor.fake_ocpp_twin_connector_{conn_id}")


def state(client: HAClient, plug: str) -> str | None:
    return client.value(f"sensor.load_juggler_twin_{plug}_state")


def debug(client: HAClient) -> str:
    fakes = [client.state(f"sensor.fake_ocpp_twin_connector_{n}") or {} for n in (LEFT, RIGHT)]
    return (
        f"offers {[offered(client, n) for n in (LEFT, RIGHT)]}, states "
        f"{[state(client, p) for p in ('left', 'right')]}, grid "
        f"{[client.value(f'sensor.grid_current_l{n}') for n in (1, 2, 3)]}, stand-in "
        + "; ".join(
            str(
                {
                    k: f.get("attributes", {}).get(k)
                    for k in ("limit_source", "last_call", "last_error", "calls")
                }
            )
            for f in fakes
        )
    )


def plug_in(client: HAClient, conn_id: int, connected: bool = True) -> None:
    client.call("fake_ocpp", "set_car", devid="twin", conn_id=conn_id, connected=connected)


@pytest.fixture
def plant(ha_client: HAClient) -> Iterator[HAClient]:
    ha_client.call("fake_ocpp", "reset")
    for phase in ("l1", "l2", "l3"):
        ha_client.set_number(f"input_number.house_{phase}_a", HOUSE_A)
    # The `charger` car stays plugged in (its session, and transaction id, untouched for the
    # tests after these) but takes nothing.
    ha_client.call("fake_ocpp", "set_car", devid="charger", max_a=0)
    yield ha_client
    ha_client.call("fake_ocpp", "reset")


@pytest.fixture
def quick_meter(plant: HAClient) -> HAClient:
    """Meter values every 2 s on both connectors (60 s by default) so each step shows within
    a test's time; the hub's own readings lag them as they would lag the integration's."""
    plant.call("fake_ocpp", "set_charger", devid="twin", meter_interval_s=2)
    return plant


def start_twin(ha: HomeAssistant, name: str, concurrent: bool, unit_max_a: float) -> AppDaemon:
    appdaemon = start_appdaemon(
        ha,
        name,
        twin_apps(concurrent, unit_max_a),
        {"load_juggler": REPO / "apps" / "load_juggler"},
    )
    try:
        for plug in ("left", "right"):
            appdaemon.wait_log(f"twin_{plug}: registered with hub 'lj_hub'", 60)
    except BaseException:
        print(appdaemon.logs())
        appdaemon.stop()
        raise
    return appdaemon


@pytest.mark.timeout(150, func_only=True)
def test_sequential_twin_feeds_one_car_at_a_time(ha: HomeAssistant, quick_meter: HAClient) -> None:
    plant = quick_meter
    appdaemon = start_twin(ha, "ad-twin-sequential", concurrent=False, unit_max_a=16)
    try:
        plug_in(plant, RIGHT)  # right's car comes first and takes the unit
        wait_for(
            lambda: offered(plant, RIGHT) == 16.0,
            30,
            "right at 16 A",
            describe=lambda: debug(plant),
        )
        plug_in(plant, LEFT)  # left (better priority) waits: right keeps the unit
        wait_for(
            lambda: state(plant, "left") == "waiting_for_unit",
            20,
            "left waiting for the unit",
            describe=lambda: debug(plant),
        )
        for _ in range(12):  # 6 s: three hub cycles
            assert offered(plant, LEFT) == 0.0, debug(plant)
            assert offered(plant, RIGHT) == 16.0, debug(plant)
            time.sleep(0.5)
        plug_in(plant, RIGHT, connected=False)  # right leaves: left's turn
        wait_for(
            lambda: offered(plant, LEFT) == 16.0, 30, "left at 16 A", describe=lambda: debug(plant)
        )
        assert state(plant, "left") == "charging"
        assert state(plant, "right") in ("disconnected", "idle"), debug(plant)
        assert appdaemon.error_lines() == []
    except BaseException:
        print(appdaemon.logs()[-6000:])
        raise
    finally:
        appdaemon.stop()


@pytest.mark.timeout(150, func_only=True)
def test_concurrent_twin_shares_the_unit_limit(ha: HomeAssistant, quick_meter: HAClient) -> None:
    plant = quick_meter
    appdaemon = start_twin(ha, "ad-twin-concurrent", concurrent=True, unit_max_a=20)
    try:
        plug_in(plant, LEFT)
        plug_in(plant, RIGHT)
        # Minimums first (6 + 6 of the unit's 20 A), the 8 A left to left by priority.
        wait_for(
            lambda: (offered(plant, LEFT), offered(plant, RIGHT)) == (14.0, 6.0),
            40,
            "left 14 A and right 6 A",
            describe=lambda: debug(plant),
        )
        assert (state(plant, "left"), state(plant, "right")) == ("charging", "charging")
        plug_in(plant, LEFT, connected=False)
        wait_for(
            lambda: offered(plant, RIGHT) == 16.0,
            30,
            "right alone at 16 A",
            describe=lambda: debug(plant),
        )
        assert appdaemon.error_lines() == []
    except BaseException:
        print(appdaemon.logs()[-6000:])
        raise
    finally:
        appdaemon.stop()


@pytest.mark.timeout(60, func_only=True)
def test_stand_in_meter_values_come_every_meter_interval(plant: HAClient) -> None:
    """The twin keeps the integration's 60 s: a car plugged in draws at once (grid CT), its
    connector's current_import still shows the last meter values; 2 s makes them come."""
    current = "sensor.twin_connector_1_current_import"
    wait_for(lambda: plant.value(current) is not None, 5, "the twin's entities")
    plant.call("fake_ocpp", "set_car", devid="twin", conn_id=LEFT, connected=True)
    # StartTransaction carries a meter value: the car drawing 16 A x 3 is reported once...
    wait_for(lambda: plant.number(current) == 48.0, 5, "the first meter value")
    plant.call("fake_ocpp", "set_car", devid="twin", conn_id=LEFT, max_a=10)
    wait_for(lambda: plant.number("sensor.grid_current_l1") == HOUSE_A + 10, 5, "the car at 10 A")
    # ...then nothing until the next meter values, 60 s later.
    for _ in range(8):
        assert plant.number(current) == 48.0
        time.sleep(0.5)
    assert plant.value("sensor.twin_connector_1_status_connector") == "Charging"
    plant.call("fake_ocpp", "set_charger", devid="twin", conn_id=LEFT, meter_interval_s=2)
    wait_for(lambda: plant.number(current) == 30.0, 5, "meter values every 2 s")
    assert plant.number("sensor.twin_connector_2_current_import") == 0.0


@pytest.mark.timeout(30, func_only=True)
def test_the_device_template_renders_on_the_real_home_assistant(ha_client: HAClient) -> None:
    """The apps' device lookup (`ocpp_discovery`) is one template: this Home Assistant renders
    it without error. The stand-in has no devices, so both lists are empty and the app keeps
    the derived names, as it does here."""
    for ref in ("sensor.twin_connector_2_status_connector", "Some charger"):
        answer = _request(
            "POST",
            f"{ha_client.base_url}/api/template",
            token=ha_client.token,
            json_body={"template": device_template(ref, 2)},
        )
        assert answer == {"device": "", "charger": [], "connector": []}
        assert parse_answer(answer) is None
