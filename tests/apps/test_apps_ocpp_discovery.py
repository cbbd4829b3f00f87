"""A charger's entities found on its HA device (`ocpp_discovery`), and checked per connector.

Home Assistant answers the device template through a patched `render_template`: each test
says which entities the charger's device (and its connector's device) list.
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from appdaemon.plugins.hass.hassapi import Hass
from lj_support import HUB_ARGS, START, logs, published, set_grid, set_solar
from test_apps_ocpp_connectors import CONNECTORS, set_connector

from load_juggler.engine.control_types import LoadReading
from load_juggler.hub import Hub
from load_juggler.loads.base import CycleContext
from load_juggler.loads.ocpp import OcppCharger


class Devices:
    """HA's devices as the template sees them: device ref -> (name, entities), connectors too."""

    def __init__(self) -> None:
        self.charger: dict[str, list[str]] = {}
        self.connectors: dict[int, list[str]] = {}
        self.name = "?"
        self.templates: list[str] = []

    def render(self, template: str, *args: Any, **kwargs: Any) -> Any:
        self.templates.append(template)
        ref = re.search(r"set ref = (\"[^\"]*\")", template)
        conn = re.search(r"set conn = (\d+)", template)
        assert ref and conn, template
        listed = self.charger.get(ref.group(1).strip('"'))
        if listed is None:
            return '{"device": "", "charger": [], "connector": []}'
        # As AppDaemon returns it: HA's rendered text, turned into Python values.
        return {
            "device": self.name,
            "charger": listed,
            "connector": self.connectors.get(int(conn.group(1)), []),
        }


@pytest.fixture
def devices() -> Iterator[Devices]:
    found = Devices()
    with mock.patch.object(Hass, "render_template", found.render):
        yield found


def ctx() -> CycleContext:
    now = START.replace(tzinfo=datetime.UTC)
    return CycleContext(
        now_s=now.timestamp(), now_utc=now, voltage_v=230.0, republish_s=60.0, stale_timeout_s=60
    )


def start(ad: Any, given_that: Any, name: str = "evse1", **args: Any) -> Any:
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))
    return ad(OcppCharger, name, hub="lj_hub", circuit="garage", **args)


def test_separate_per_phase_entities_are_preferred_alfen_style(
    ad: Any, given_that: Any, hass_mocks: Any, devices: Devices
) -> None:
    # Renamed by the user, and per-phase current as three entities.
    devices.name = "Alfen Eve"
    devices.charger["sensor.alfen_status_connector"] = [
        "sensor.wallbox_status_connector",
        "sensor.wallbox_current_import",
        "sensor.wallbox_current_import_l1",
        "sensor.wallbox_current_import_l2",
        "sensor.wallbox_current_import_l3",
        "sensor.wallbox_current_offered",
        "sensor.wallbox_transaction_id",
        "switch.wallbox_charge_control",
    ]
    cp = start(ad, given_that, charger="alfen")
    e = cp.ocpp.entities
    assert e.current_import == (
        "sensor.wallbox_current_import_l1",
        "sensor.wallbox_current_import_l2",
        "sensor.wallbox_current_import_l3",
    )
    assert e.status_connector == "sensor.wallbox_status_connector"
    assert e.transaction_id == "sensor.wallbox_transaction_id"
    # Not on the device: the derived name stays.
    assert e.voltage == "sensor.alfen_voltage"
    line = logs(hass_mocks, "device 'Alfen Eve'")
    assert len(line) == 1
    assert "(separate per-phase entities)" in line[0]
    assert "not on the device (derived name kept): power_active_import, power_offered" in line[0]
    # The app reads its lines from those entities.
    given_that.state_of("sensor.wallbox_status_connector").is_set_to("Charging")
    for n, amps in enumerate((6.0, 7.0, 8.0), start=1):
        given_that.state_of(f"sensor.wallbox_current_import_l{n}").is_set_to(
            str(amps), {"unit_of_measurement": "A"}
        )
    reading: LoadReading = cp.reading(ctx())
    assert reading.draw_a == (6.0, 7.0, 8.0)


def test_a_charger_with_attributes_only_keeps_one_current_entity(
    ad: Any, given_that: Any, hass_mocks: Any, devices: Devices
) -> None:
    devices.name = "cp1"
    devices.charger["sensor.cp1_status_connector"] = [
        "sensor.cp1_status_connector",
        "sensor.cp1_current_import",
        "sensor.cp1_current_offered",
        "sensor.cp1_power_active_import",
        "sensor.cp1_power_offered",
        "sensor.cp1_voltage",
        "sensor.cp1_transaction_id",
    ]
    cp = start(ad, given_that, charger="cp1")
    assert cp.ocpp.entities.current_import == ("sensor.cp1_current_import",)
    line = logs(hass_mocks, "device 'cp1'")
    assert len(line) == 1 and "(L1/L2/L3 attributes)" in line[0]
    assert "not on the device" not in line[0]


def test_a_two_connector_device_gives_each_connector_its_own_entities(
    ad: Any, given_that: Any, hass_mocks: Any, devices: Devices
) -> None:
    devices.name = "Twin garage"
    devices.charger["Twin garage"] = ["sensor.cp2_status", "sensor.cp2_heartbeat"]
    for n in (1, 2):
        devices.connectors[n] = [
            f"sensor.twin_c{n}_status_connector",
            f"sensor.twin_c{n}_current_import",
            f"sensor.twin_c{n}_current_offered",
            f"sensor.twin_c{n}_transaction_id",
        ]
    set_connector(given_that, 1)
    set_connector(given_that, 2)
    cp = start(ad, given_that, "twin", charger="cp2", device="Twin garage", connectors=CONNECTORS)
    left, right = cp.connector_loads
    assert left.ocpp.entities.status_connector == "sensor.twin_c1_status_connector"
    assert right.ocpp.entities.current_import == ("sensor.twin_c2_current_import",)
    assert right.ocpp.entities.transaction_id == "sensor.twin_c2_transaction_id"
    # Not listed on either device: the integration's multi-connector name stays.
    assert right.ocpp.entities.voltage == "sensor.cp2_connector_2_voltage"
    assert all('set ref = "Twin garage"' in t for t in devices.templates)
    assert len(logs(hass_mocks, "device 'Twin garage'")) == 2
    assert len(logs(hass_mocks, "twin_right: charger 'cp2': device 'Twin garage'")) == 1


def test_explicit_entities_win_over_the_device(
    ad: Any, given_that: Any, hass_mocks: Any, devices: Devices
) -> None:
    devices.charger["sensor.cp1_status_connector"] = [
        "sensor.cp1_status_connector",
        "sensor.cp1_current_import_l1",
        "sensor.cp1_current_import_l2",
        "sensor.cp1_current_import_l3",
        "sensor.other_transaction_id",
    ]
    cp = start(
        ad,
        given_that,
        charger="cp1",
        entities={"current_import": "sensor.my_current", "transaction_id": "sensor.my_tx"},
    )
    assert cp.ocpp.entities.current_import == ("sensor.my_current",)
    assert cp.ocpp.entities.transaction_id == "sensor.my_tx"


def test_without_an_answer_the_derived_names_stay_and_it_is_said_once(
    ad: Any, given_that: Any, hass_mocks: Any
) -> None:
    cp = start(ad, given_that, charger="cp1")  # the app tests' render_template fails
    assert cp.ocpp.entities.status_connector == "sensor.cp1_status_connector"
    line = logs(hass_mocks, "entities not looked up on its device")
    assert line == [
        "charger 'cp1': entities not looked up on its device (RuntimeError: no Home Assistant "
        "to render templates in app tests); using the entity ids derived from 'charger'"
    ]


def test_an_unknown_device_keeps_the_derived_names(
    ad: Any, given_that: Any, hass_mocks: Any, devices: Devices
) -> None:
    cp = start(ad, given_that, charger="cp1", device="Nope")
    assert cp.ocpp.entities.current_import == ("sensor.cp1_current_import",)
    assert logs(hass_mocks, "(no device 'Nope' with entities in Home Assistant)")


def test_a_connector_that_ignores_its_profile_is_detected_on_its_own(
    ad: Any, given_that: Any, hass_mocks: Any, time_travel: Any
) -> None:
    set_connector(given_that, 1)
    set_connector(given_that, 2)
    start(ad, given_that, "twin", charger="cp2", connectors=CONNECTORS, unit_max_a=16)
    time_travel.fast_forward(5).seconds()  # 12:00:05: left 6 A, right waits at 0 A
    # right's connector goes on offering 16 A although it was sent 0 A.
    given_that.state_of("sensor.cp2_connector_2_current_offered").is_set_to("16")
    given_that.state_of("sensor.cp2_connector_1_current_offered").is_set_to("6")
    time_travel.fast_forward(25).seconds()  # 12:00:30, 25 s: not yet
    assert logs(hass_mocks, "ignores our profile") == []
    time_travel.fast_forward(5).seconds()  # 12:00:35: 30 s after the 0 A limit
    warned = logs(hass_mocks, "ignores our profile", "WARNING")
    assert len(warned) == 1
    assert warned[0].startswith(
        "twin_right: charger ignores our profile: charger 'cp2' offers 16 A 30 s after we sent 0 A"
    )
    right = published(hass_mocks, "sensor.load_juggler_twin_right_state")[1]
    assert right["profile_check"].startswith("charger ignores our profile")
    assert published(hass_mocks, "sensor.load_juggler_twin_left_state")[1]["profile_check"] == "ok"
