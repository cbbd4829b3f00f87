"""A variable-power load (kind `power`): options, settings, apps.yaml parser and the watt steps.

A solar diverter, a heat pump's power limit, a battery charger: a `number.*` or
`input_number.*` entity takes a power (in W, kW, per-phase A or % of `max_power_w`). The engine
sees it as a charger whose current range follows from `min_power_w` / `max_power_w`, the load's
phases and the voltage (`LoadSettings.power_range_w`); the command's current is turned back
into watts and rounded DOWN to `min_power_w` plus a whole number of `step_w`
(`PowerSettings.command_w`), so the device never gets more than the engine allowed.

Pure: no AppDaemon import (the simulator uses the same rounding as the app).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...engine.model import LoadKind, Mode
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .common import COMMON_OPTIONS, read_common

#: What `unit` allows: the entity's value in watts, kilowatts, amps per phase or % of max.
POWER_UNITS: tuple[str, ...] = ("W", "kW", "A", "%")
#: Float noise allowed when a command lands exactly on a step (W).
STEP_EPS_W = 1e-6

POWER_OPTIONS = Schema(
    "power",
    (
        Option(
            "entity",
            OptionType.ENTITY,
            required=True,
            domains=("number", "input_number"),
            doc="the `number.*` or `input_number.*` that sets the power",
        ),
        Option(
            "unit",
            OptionType.CHOICE,
            "W",
            choices=POWER_UNITS,
            doc="what the entity's value means: `W`, `kW`, `A` (per phase) or `%` of max_power_w",
        ),
        Option(
            "max_power_w",
            OptionType.NUMBER,
            required=True,
            above=0,
            maximum=50000,
            doc="highest power (W, all phases together)",
        ),
        Option(
            "min_power_w",
            OptionType.NUMBER,
            above=0,
            maximum=50000,
            default_doc="`step_w`",
            doc="lowest power when on (W); below it the load is off",
        ),
        Option(
            "step_w",
            OptionType.NUMBER,
            100.0,
            above=0,
            maximum=50000,
            doc="commands are rounded down to min_power_w + a whole number of steps",
        ),
        Option(
            "enable_switch",
            OptionType.ENTITY,
            domains=("switch", "input_boolean"),
            doc="turned off at 0 W, on with a power; without it off is the value 0",
        ),
        Option(
            "power_sensor",
            OptionType.ENTITY,
            domains=("sensor",),
            doc="measured draw (W when it declares no unit; W, kW, MW); else the set value counts",
        ),
    ),
)
#: Every option a variable-power load app reads, common ones first.
POWER_SCHEMA = COMMON_OPTIONS.with_defaults("power", mode=Mode.EXCESS, phases=1) + POWER_OPTIONS


@dataclass(frozen=True)
class PowerSettings:
    """How a power in watts becomes the entity's value, and back."""

    entity: str
    unit: str
    min_power_w: float
    max_power_w: float
    step_w: float
    enable_switch: str | None = None
    power_sensor: str | None = None

    def command_w(self, current_a: float, voltage_v: float, phases: int) -> float:
        """The power for a per-phase current: 0 below `min_power_w`, else rounded DOWN to
        `min_power_w` + k x `step_w` and never above `max_power_w` (nor above the current)."""
        wanted_w = min(current_a * voltage_v * phases, self.max_power_w)
        if current_a <= 0 or wanted_w < self.min_power_w - STEP_EPS_W:
            return 0.0
        steps = math.floor((wanted_w - self.min_power_w) / self.step_w + 1e-9)
        return self.min_power_w + max(0, steps) * self.step_w

    def to_entity(self, power_w: float, voltage_v: float, phases: int) -> float:
        """The entity's value for `power_w` in its `unit`."""
        if self.unit == "kW":
            return power_w / 1000.0
        if self.unit == "A":
            return power_w / (voltage_v * phases)
        if self.unit == "%":
            return power_w / self.max_power_w * 100.0
        return power_w

    def from_entity(self, value: float, voltage_v: float, phases: int) -> float:
        """Watts for a value of the entity in its `unit` (the inverse of `to_entity`)."""
        if self.unit == "kW":
            return value * 1000.0
        if self.unit == "A":
            return value * voltage_v * phases
        if self.unit == "%":
            return value * self.max_power_w / 100.0
        return value


def read_power_range(r: ArgReader, o: Schema) -> tuple[float, float, float]:
    """(min_power_w, max_power_w, step_w); min defaults to one step and may not exceed max."""
    max_w = o["max_power_w"].read(r)
    step_w = o["step_w"].read(r) or o.default("step_w")
    min_w = o["min_power_w"].read(r, step_w)
    if min_w is None:
        min_w = step_w
    if max_w is not None and min_w > max_w:
        given = r.raw("min_power_w") if r.has("min_power_w") else min_w
        r.error("min_power_w", given, f"must be <= max_power_w ({max_w:g})")
    return min_w, max_w if max_w is not None else min_w, step_w


def parse_power(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, PowerSettings]:
    """Parse a variable-power load app's `self.args`; raises LoadConfigError with every
    problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = POWER_SCHEMA
    common = read_common(r, name, LoadKind.EVSE, o)
    entity = o["entity"].read(r)
    unit = o["unit"].read(r)
    min_w, max_w, step_w = read_power_range(r, o)
    enable = o["enable_switch"].read(r)
    sensor = o["power_sensor"].read(r)
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert entity is not None
    settings = PowerSettings(
        entity=entity,
        unit=unit,
        min_power_w=min_w,
        max_power_w=max_w,
        step_w=step_w,
        enable_switch=enable,
        power_sensor=sensor,
    )
    return replace(common, power_range_w=(min_w, max_w)), settings
