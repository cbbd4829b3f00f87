"""A switched load (kind `plug`: smart plug, relay or input_boolean): options, settings, parser."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ...engine.model import LoadKind, Mode
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .charge_goal import PRICE_OPTIONS, ChargeGoalSettings, read_price_goal
from .common import COMMON_OPTIONS, read_common

SWITCH_OPTIONS = Schema(
    "switch",
    (
        Option(
            "power_w",
            OptionType.NUMBER,
            required=True,
            above=0,
            maximum=50000,
            doc="rated power (W)",
        ),
        Option(
            "switch",
            OptionType.ENTITY,
            required=True,
            domains=("switch", "input_boolean"),
            doc="switch.* or input_boolean.*",
        ),
        Option("power_sensor", OptionType.ENTITY, domains=("sensor",), doc="actual power"),
        Option(
            "idle_timeout_s",
            OptionType.NUMBER,
            300.0,
            minimum=0,
            doc="on but drawing under 10 % of power_w for this long = satisfied",
        ),
    ),
)
#: Every option a switched load app reads, common ones first.
SWITCH_SCHEMA = (
    COMMON_OPTIONS.with_defaults("switch", mode=Mode.EXCESS, phases=1)
    + SWITCH_OPTIONS
    + PRICE_OPTIONS
)


@dataclass(frozen=True)
class SwitchSettings:
    """A switch or input_boolean with a rated power and an optional power sensor."""

    switch: str
    power_sensor: str | None
    # On but drawing < `SATISFIED_FRACTION` of its rating for this long (needs `power_sensor`):
    # its reservation is released while it stays switched on (a boiler at temperature).
    idle_timeout_s: float = SWITCH_OPTIONS.default("idle_timeout_s")
    #: `price_sensor`, `price_attribute`, `max_price` (`charge_goal`); None when not set.
    goal: ChargeGoalSettings | None = None


def parse_switch(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, SwitchSettings]:
    """Parse a switched load app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = SWITCH_SCHEMA
    common = read_common(r, name, LoadKind.PLUG, o)
    switch = o["switch"].read(r)
    sensor = o["power_sensor"].read(r)
    idle_s = o["idle_timeout_s"].read(r)
    goal = read_price_goal(r)
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert switch is not None
    return common, SwitchSettings(
        switch=switch,
        power_sensor=sensor,
        idle_timeout_s=idle_s if idle_s is not None else o.default("idle_timeout_s"),
        goal=goal,
    )
