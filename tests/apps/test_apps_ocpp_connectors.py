"""A charger with two plugs (`connectors:` as a list) on one OcppCharger app.

Hub: 3-phase 25 A site, garage circuit 20 A, house 2 A per phase. Charger `cp2` with two
3-phase connectors 6..16 A: `left` (conn_id 1, priority 1) and `right` (conn_id 2, priority 2).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, limit_calls, logs, published, set_grid, set_solar
from test_apps_ocpp_session import use_old_integration

from load_juggler.engine.model import ChargeUnit
from load_juggler.hub import Hub
from load_juggler.loads.ocpp import OcppCharger


def set_connector(
    given_that: Any,
    n: int,
    status: str = "Charging",
    currents: tuple[float, float, float] = (0.0, 0.0, 0.0),
    cpid: str = "cp2",
) -> None:
    """Connector `n` as the integration names it with more than one connector."""
    scope = f"sensor.{cpid}_connector_{n}_"
    given_that.state_of(f"{scope}status_connector").is_set_to(status)
    given_that.state_of(f"{scope}current_import").is_set_to(
        str(sum(currents)),
        {"L1": currents[0], "L2": currents[1], "L3": currents[2], "unit_of_measurement": "A"},
    )
    given_that.state_of(f"{scope}power_active_import").is_set_to(
        str(sum(currents) * 0.23), {"unit_of_measurement": "kW"}
    )
    given_that.state_of(f"{scope}current_offered").is_set_to("unknown")
    given_that.state_of(f"{scope}transaction_id").is_set_to("unknown")


CONNECTORS = [
    {"conn_id": 1, "name": "left", "priority": 1},
    {"conn_id": 2, "name": "right", "priority": 2},
]


def build(ad: Any, given_that: Any, **charger: Any) -> tuple[Any, Any]:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    set_connector(given_that, 1)
    set_connector(given_that, 2)
    hub = ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    args = {"hub": "lj_hub", "charger": "cp2", "circuit": "garage", "connectors": CONNECTORS}
    cp = ad(OcppCharger, "twin", **{**args, **charger})
    return hub, cp


def last_limit(hass_mocks: Any, conn_id: int) -> float:
    sent = [c for c in limit_calls(hass_mocks) if c["conn_id"] == conn_id]
    assert sent, f"nothing sent to connector {conn_id}"
    return sent[-1]["custom_profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]


def state(hass_mocks: Any, load: str) -> tuple[str, str]:
    value, _ = published(hass_mocks, f"sensor.load_juggler_{load}_state")
    _, attrs = published(hass_mocks, f"sensor.load_juggler_{load}_state")
    return value, attrs.get("reason", "")


def test_each_connector_is_a_load_with_its_own_entities_and_connector(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    hub, cp = build(ad, given_that, unit_max_a=16)
    assert hub.load_names == ["twin_left", "twin_right"]
    left, right = cp.connector_loads
    assert (left.ocpp.conn_id, right.ocpp.conn_id) == (1, 2)
    e = right.ocpp.entities
    assert e.status_connector == "sensor.cp2_connector_2_status_connector"
    assert e.current_import == ("sensor.cp2_connector_2_current_import",)
    assert e.transaction_id == "sensor.cp2_connector_2_transaction_id"
    assert (left.ocpp.profile_id, right.ocpp.profile_id) == (901, 902)
    assert left.engine_load(hub.config.site, "garage").unit == ChargeUnit("twin", 16.0, False)
    assert logs(hass_mocks, "charger with 2 connectors (sequential: one car at a time")


def test_sequential_charger_feeds_one_car_and_hands_on_when_it_leaves(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    build(ad, given_that, unit_max_a=16)
    time_travel.fast_forward(5).seconds()  # first cycle: left (priority 1) starts at min
    assert last_limit(hass_mocks, 1) == 6.0
    assert state(hass_mocks, "twin_left")[0] == "charging"
    assert state(hass_mocks, "twin_right") == (
        "waiting_for_unit",
        "waiting for unit: twin_left holds it",
    )
    assert last_limit(hass_mocks, 2) == 0.0  # a 0 A profile: the car waits
    time_travel.fast_forward(5).seconds()  # left ramps to the unit's 16 A (garage 20 A)
    assert last_limit(hass_mocks, 1) == 16.0
    # left's car leaves: right takes the unit in the next cycle, left is sent 0 A.
    set_connector(given_that, 1, "Available")
    time_travel.fast_forward(5).seconds()
    assert last_limit(hass_mocks, 2) == 6.0
    assert last_limit(hass_mocks, 1) == 0.0
    assert state(hass_mocks, "twin_right")[0] == "charging"


def test_concurrent_charger_shares_the_unit_limit(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    build(ad, given_that, unit_max_a=16, concurrent=True)
    time_travel.fast_forward(10).seconds()
    # Both minimums first (6 + 6 of the unit's 16 A), the 4 A left to left by priority.
    assert last_limit(hass_mocks, 1) == 10.0
    assert last_limit(hass_mocks, 2) == 6.0
    assert state(hass_mocks, "twin_right")[0] == "charging"


@pytest.mark.parametrize(
    ("charger", "message"),
    [
        ({"connectors": [{"conn_id": 1}]}, "key 'connectors'"),
        (
            {"connectors": [{"conn_id": 1}, {"conn_id": 1, "name": "b"}]},
            "key 'connectors[1].conn_id' = 1 is invalid: already used by connectors[0]",
        ),
        (
            {"connectors": [{"conn_id": 1}, {"conn_id": 2, "validity_s": 60}]},
            "key 'connectors[1].validity_s' = 60 is invalid: not a connector key",
        ),
        (
            {"connectors": [{"conn_id": 1}, {"name": "b"}]},
            "key 'connectors[1].conn_id' = None is invalid: required",
        ),
        (
            {"connectors": [{"conn_id": 1}, {"conn_id": 2, "min_a": 20}]},
            "app 'twin' connectors[1] ('connector_2'): key 'min_a' = 20",
        ),
        ({"connectors": CONNECTORS, "unit_max_a": -3}, "key 'unit_max_a' = -3"),
    ],
)
def test_bad_connector_lists_are_refused_with_one_line_each(
    ad: Any, given_that: Any, hass_mocks: Any, charger: dict[str, Any], message: str
) -> None:
    given_that.time_is(START)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "twin", hub="lj_hub", charger="cp2", circuit="garage", **charger)
    problems = cp.problems or [p for c in cp.connector_loads for p in c.problems]
    assert any(message in p for p in problems), problems
    assert logs(hass_mocks, message, "ERROR")


def test_unit_keys_on_a_charger_without_a_list_are_refused(ad: Any, given_that: Any) -> None:
    given_that.time_is(START)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    cp = ad(OcppCharger, "evse1", hub="lj_hub", charger="cp1", circuit="garage", concurrent=True)
    assert cp.problems == [
        "app 'evse1': key 'concurrent' = True is invalid: only for a charger with a list under "
        "'connectors:'"
    ]


def test_an_old_integration_reaches_a_two_plug_charger_without_devid(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """Both connectors are one charger: without devid the integration's first charger is it."""
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    build(ad, given_that, unit_max_a=16)
    time_travel.fast_forward(15).seconds()
    without = [c for c in calls if "devid" not in c]
    assert {c["conn_id"] for c in without} == {1, 2}
    assert logs(hass_mocks, "upgrade", "ERROR") == []


def test_an_old_integration_with_another_charger_next_to_the_plugs_gets_nothing(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    """A single-connector charger app next to a two-plug one: a call without devid could
    reach either, so none is made (the plugs have no app of their own to ask)."""
    calls: list[dict[str, Any]] = []
    use_old_integration(hass_mocks, calls)
    build(ad, given_that, unit_max_a=16)
    set_connector(given_that, 1, cpid="cp3")  # not read: cp3 has one connector
    ad(OcppCharger, "evse3", hub="lj_hub", charger="cp3", circuit="garage")
    n = len(calls)
    time_travel.fast_forward(15).seconds()
    assert len(calls) > n and all("devid" in c for c in calls[n:])
    errors = logs(hass_mocks, "Upgrade the HA OCPP integration to 0.8.0", "ERROR")
    assert any(e.startswith("twin_left: ") for e in errors), errors
    assert any("charger 'cp3'" in e for e in errors), errors


def test_a_circuit_listing_the_charger_app_places_its_plugs_in_it(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    # The garage (20 A) lists the charger app `twin`, not its plugs `twin_left` / `twin_right`:
    # both plugs hang in the garage, and no member is reported missing. Concurrent, 16 A each
    # and no unit limit: the garage's 20 A is shared, 10 A each (house 2 A, site 25 A).
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    set_connector(given_that, 1)
    set_connector(given_that, 2)
    args = copy.deepcopy(HUB_ARGS)
    args["circuits"]["garage"]["members"] = ["twin"]
    hub = ad(Hub, "lj_hub", **args)
    ad(OcppCharger, "twin", hub="lj_hub", charger="cp2", connectors=CONNECTORS, concurrent=True)
    time_travel.fast_forward(60).seconds()
    specs = hub._registry.specs_copy()
    assert {name: spec.circuit for name, spec in specs.items()} == {
        "twin_left": "garage",
        "twin_right": "garage",
    }
    assert last_limit(hass_mocks, 1) + last_limit(hass_mocks, 2) == 20.0
    assert not logs(hass_mocks, "member", "ERROR")
