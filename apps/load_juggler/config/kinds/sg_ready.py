"""An SG Ready heat pump (kind `plug` to the engine: on at `expected_power_w`): options,
settings, parser. The state logic is `engine/sg_ready.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...engine.model import LoadKind, Mode
from ...engine.sg_ready import SgReadyRules
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .common import COMMON_OPTIONS, read_common

_RELAY_DOMAINS = ("switch", "input_boolean")

SG_READY_OPTIONS = Schema(
    "sg_ready",
    (
        Option(
            "relay_1",
            OptionType.ENTITY,
            required=True,
            domains=_RELAY_DOMAINS,
            doc="switch.* or input_boolean.* wired to SG Ready contact 1",
        ),
        Option(
            "relay_2",
            OptionType.ENTITY,
            required=True,
            domains=_RELAY_DOMAINS,
            doc="switch.* or input_boolean.* wired to SG Ready contact 2",
        ),
        Option(
            "expected_power_w",
            OptionType.NUMBER,
            required=True,
            above=0,
            maximum=50000,
            doc="what the heat pump draws in Recommend on (W): reserved while it is on",
        ),
        Option(
            "force_export_w",
            OptionType.NUMBER,
            2000.0,
            minimum=0,
            maximum=100000,
            doc="Force on once the surplus covers this on top of expected_power_w (W)",
        ),
        Option(
            "min_state_s",
            OptionType.NUMBER,
            600.0,
            minimum=0,
            maximum=86400,
            doc="every state is held at least this long",
        ),
        Option(
            "allow_block",
            OptionType.BOOLEAN,
            False,
            doc="Block the heat pump while the site is at its breaker or import cap",
        ),
        Option("power_sensor", OptionType.ENTITY, domains=("sensor",), doc="actual power"),
    ),
)
#: Every option an SG Ready app reads, common ones first.
SG_READY_SCHEMA = (
    COMMON_OPTIONS.with_defaults("sg_ready", mode=Mode.SOLAR_ONLY, phases=3) + SG_READY_OPTIONS
)


@dataclass(frozen=True)
class SgReadySettings:
    """The two relays, the state rules and an optional power sensor."""

    relay_1: str
    relay_2: str
    rules: SgReadyRules
    power_sensor: str | None = None


def parse_sg_ready(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, SgReadySettings]:
    """Parse an SG Ready app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = SG_READY_SCHEMA
    common = read_common(r, name, LoadKind.PLUG, o)
    relay_1 = o["relay_1"].read(r)
    relay_2 = o["relay_2"].read(r)
    expected_w = o["expected_power_w"].read(r)
    force_w = o["force_export_w"].read(r)
    min_state_s = o["min_state_s"].read(r)
    allow_block = o["allow_block"].read(r)
    sensor = o["power_sensor"].read(r)
    if relay_1 is not None and relay_1 == relay_2:
        r.error("relay_2", relay_2, "must be another entity than relay_1")
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert relay_1 is not None and relay_2 is not None and expected_w is not None
    rules = SgReadyRules(
        expected_power_w=expected_w,
        force_export_w=force_w,
        min_state_s=min_state_s,
        allow_block=allow_block,
    )
    return replace(common, power_w=expected_w), SgReadySettings(relay_1, relay_2, rules, sensor)
