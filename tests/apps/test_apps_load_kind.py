"""A load kind is a device with capabilities: the base app needs nothing else from it.

A toy kind (a lamp, read and driven in memory) shows the contract a new kind relies on: the
three required capabilities are enough to be read, commanded and published by the hub; the
optional ones (`ChecksEntities`, `NeedsUpkeep`, `KeepsChargingAlone`) are used when present and
only then.
"""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

import pytest
from lj_support import HUB_ARGS, START, published, set_grid, set_solar

from load_juggler.config import LoadSettings, parse_switch
from load_juggler.engine.control_types import Command, LoadReading, LoadState
from load_juggler.engine.model import Mode
from load_juggler.hub import Hub
from load_juggler.loads.base import LoadApp
from load_juggler.loads.capabilities import CycleContext, DeviceHost, ExtraEntity


class Lamp:
    """Only ReadsState, AppliesCommand and PublishesState: always on the line, drawing."""

    def __init__(self, host: DeviceHost) -> None:
        self.host = host
        self.reads: list[float] = []
        self.applied: list[Command] = []

    def read(self, ctx: CycleContext) -> LoadReading:
        self.reads.append(ctx.now_s)
        return LoadReading(connected=True, drawing=True, draw_a=None)

    def apply(self, command: Command, ctx: CycleContext) -> None:
        self.applied.append(command)

    def attributes(self) -> dict[str, Any]:
        return {"room": "living"}

    def extra_entities(self, command: Command) -> tuple[ExtraEntity, ...]:
        return (ExtraEntity("binary_sensor", "lit", command.on, {"friendly_name": "lit"}),)


class ChargingLamp(Lamp):
    """The optional capabilities too."""

    def __init__(self, host: DeviceHost) -> None:
        super().__init__(host)
        self.checked = 0
        self.upkeeps: list[float] = []
        self.safe_readings: list[LoadReading] = []

    def check_entities(self) -> None:
        self.checked += 1

    def upkeep(self, ctx: CycleContext) -> None:
        self.upkeeps.append(ctx.now_s)

    def safe_current_a(self, reading: LoadReading) -> float:
        self.safe_readings.append(reading)
        return 7.0 if reading.drawing else 0.0


class LampLoad(LoadApp):
    KIND = "lamp"
    device_class: type[Lamp] = Lamp

    def build_device(self, args: dict[str, Any]) -> tuple[LoadSettings, Lamp]:
        common, _ = parse_switch(self.name, args)
        self.lamp = self.device_class(self.host)
        return common, self.lamp


class ChargingLampLoad(LampLoad):
    device_class = ChargingLamp


LAMP_ARGS = {"hub": "lj_hub", "switch": "switch.lamp", "power_w": 460, "mode": "continuous"}


@pytest.fixture
def hub(ad: Any, given_that: Any) -> Hub:
    """A hub on a quiet site: 2 A of house per phase, no sun."""
    given_that.time_is(START)
    set_grid(given_that, 2, 2, 2)
    set_solar(given_that, 0)
    return ad(Hub, "lj_hub", **copy.deepcopy(HUB_ARGS))


def test_three_capabilities_are_enough_to_be_read_commanded_and_published(
    hub: Hub, ad: Any, time_travel: Any, hass_mocks: Any
) -> None:
    lamp = ad(LampLoad, "lamp", **LAMP_ARGS).lamp

    time_travel.fast_forward(5).seconds()  # one hub cycle
    assert lamp.reads  # the hub read it...
    command = lamp.applied[-1]  # ...and told it: 460 W continuous fits easily, 460 / 230 = 2 A
    assert command.on is True
    assert command.current_a == 2.0
    state, attrs = published(hass_mocks, "sensor.load_juggler_lamp_state")
    assert state == command.state.value
    assert attrs["room"] == "living"
    assert attrs["mode"] == "continuous"
    assert published(hass_mocks, "binary_sensor.load_juggler_lamp_lit") == (
        "on",
        {"friendly_name": "lit"},
    )


def test_without_keeps_charging_alone_a_kind_goes_off_when_no_hub_decides(
    ad: Any, given_that: Any, time_travel: Any, hass_mocks: Any
) -> None:
    given_that.time_is(START)
    app = ad(LampLoad, "lamp", **LAMP_ARGS)  # no hub app at all

    time_travel.fast_forward(55).seconds()
    assert app.lamp.applied == []
    time_travel.fast_forward(5).seconds()  # 60 s without a command: the default stale timeout
    (command,) = app.lamp.applied
    assert (command.on, command.current_a, command.state) == (
        False,
        0.0,
        LoadState.STALE_FALLBACK,
    )
    assert app.lamp.reads == []  # off needs no reading
    assert published(hass_mocks, "sensor.load_juggler_lamp_state")[0] == "no_hub"
    assert published(hass_mocks, "binary_sensor.load_juggler_lamp_lit")[0] == "off"


def test_optional_capabilities_are_used_when_a_kind_has_them(
    ad: Any, given_that: Any, time_travel: Any, hass_mocks: Any
) -> None:
    given_that.time_is(START)
    app = ad(ChargingLampLoad, "lamp", **LAMP_ARGS)
    lamp = app.lamp
    assert lamp.checked == 1

    time_travel.fast_forward(60).seconds()
    # Upkeep once at start, then every 5 s: at 5, 10, ... 60 s.
    start_s = START.replace(tzinfo=UTC).timestamp()
    assert lamp.upkeeps == [start_s + 5 * tick for tick in range(13)]
    (reading,) = lamp.safe_readings  # the app's reading: the mode is filled in
    assert reading.mode is Mode.CONTINUOUS
    (command,) = lamp.applied
    assert (command.on, command.current_a) == (True, 7.0)
    assert published(hass_mocks, "sensor.load_juggler_lamp_allocated_current")[0] == "7.0"
    assert app.on_own is True
