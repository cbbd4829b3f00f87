"""A climate boost (kind `plug` to the engine: on at `expected_power_w`): options, settings,
parser. The boost logic is `engine/climate_boost.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...engine.climate_boost import BoostRules
from ...engine.model import LoadKind, Mode
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .common import COMMON_OPTIONS, read_common

CLIMATE_BOOST_OPTIONS = Schema(
    "climate_boost",
    (
        Option(
            "climate",
            OptionType.ENTITY,
            required=True,
            domains=("climate",),
            doc="the climate.* entity whose setpoint is boosted",
        ),
        Option(
            "expected_power_w",
            OptionType.NUMBER,
            required=True,
            above=0,
            maximum=50000,
            doc="what the heat pump or air conditioner draws while boosting (W): reserved",
        ),
        Option(
            "boost_c",
            OptionType.NUMBER,
            1.5,
            above=0,
            maximum=10,
            doc="raise (heat) or lower (cool) the setpoint by this (C)",
        ),
        Option(
            "comfort_min_c",
            OptionType.NUMBER,
            19.0,
            minimum=5,
            maximum=35,
            doc="a cooling boost never goes below (C)",
        ),
        Option(
            "comfort_max_c",
            OptionType.NUMBER,
            24.0,
            minimum=5,
            maximum=35,
            doc="a heating boost never goes above (C)",
        ),
        Option(
            "max_boost_s",
            OptionType.NUMBER,
            7200.0,
            above=0,
            maximum=86400,
            doc="a boost ends after this long; the next one waits until the surplus has gone",
        ),
        Option("power_sensor", OptionType.ENTITY, domains=("sensor",), doc="actual power"),
    ),
)
#: Every option a climate boost app reads, common ones first.
CLIMATE_BOOST_SCHEMA = (
    COMMON_OPTIONS.with_defaults("climate_boost", mode=Mode.SOLAR_ONLY, phases=1)
    + CLIMATE_BOOST_OPTIONS
)


@dataclass(frozen=True)
class ClimateBoostSettings:
    """The climate entity, the boost rules and an optional power sensor."""

    climate: str
    rules: BoostRules
    power_sensor: str | None = None


def parse_climate_boost(
    name: str, args: Mapping[str, Any]
) -> tuple[LoadSettings, ClimateBoostSettings]:
    """Parse a climate boost app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = CLIMATE_BOOST_SCHEMA
    common = read_common(r, name, LoadKind.PLUG, o)
    climate = o["climate"].read(r)
    expected_w = o["expected_power_w"].read(r)
    boost_c = o["boost_c"].read(r)
    low_c = o["comfort_min_c"].read(r)
    high_c = o["comfort_max_c"].read(r)
    max_boost_s = o["max_boost_s"].read(r)
    sensor = o["power_sensor"].read(r)
    if low_c is not None and high_c is not None and low_c >= high_c:
        r.error("comfort_max_c", high_c, f"must be above comfort_min_c ({low_c:g})")
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert climate is not None and expected_w is not None
    rules = BoostRules(
        expected_power_w=expected_w,
        boost_c=boost_c,
        comfort_min_c=low_c,
        comfort_max_c=high_c,
        max_boost_s=max_boost_s,
    )
    return replace(common, power_w=expected_w), ClimateBoostSettings(climate, rules, sensor)
