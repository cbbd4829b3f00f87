"""A scenario's `site:` (with `battery:` and `inverter:`): read by the apps' own site readers.

`read_site`, `read_battery` and `read_inverter` (config/site_config.py) read apps.yaml's hub; a
scenario hands them its `site:` mapping and raises their first problem. On top come the keys
only the simulated plant has: `solar_w`, `house_a`, `grid_noise_a`, `grid_noise_seed`,
`battery.soc` and `battery.capacity_wh`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config import ArgReader
from ..config.schema import Option, OptionType, Schema
from ..config.site_config import (
    BATTERY_OPTIONS,
    INVERTER_OPTIONS,
    SITE_OPTIONS,
    read_battery,
    read_inverter,
    read_site,
)
from ..engine.errors import ConfigError
from ..engine.model import BatteryConfig, InverterLimits, Metering, Site
from .scenario_values import (
    choice,
    first_problem,
    known_keys,
    listed,
    mapping,
    non_negative,
    refuse_empty,
)

DEFAULT_CAPACITY_WH = 10000.0
#: The main breaker when a scenario leaves it out (apps.yaml requires it).
DEFAULT_BREAKER_A = 25.0

#: Battery keys only the plant has, and apps.yaml's `hysteresis_pct` as a scenario spells it.
PLANT_BATTERY_OPTIONS = Schema(
    "battery (plant)",
    (
        Option("soc", OptionType.NUMBER, 50.0, minimum=0, maximum=100, doc="start SoC (%)"),
        Option("capacity_wh", OptionType.NUMBER, DEFAULT_CAPACITY_WH, above=0),
    ),
)
SCENARIO_BATTERY_OPTIONS = (
    Schema(
        "battery",
        tuple(
            replace(o, name="hysteresis") if o.name == "hysteresis_pct" else o
            for o in BATTERY_OPTIONS
        ),
    )
    + PLANT_BATTERY_OPTIONS
)

SITE_KEYS = (
    "phases",
    "voltage",
    "main_breaker_a",
    "max_import_w",
    "distribution",
    "solar_w",
    "excess_threshold_w",
    "allow_grid_charging",
    "house_a",
    "battery",
    "inverter",
    "metering",
    "grid_noise_a",
    "grid_noise_seed",
)
BATTERY_KEYS = (
    "soc",
    "min_soc",
    "target_soc",
    "max_charge_w",
    "max_discharge_w",
    "capacity_wh",
    "full_soc",
    "hysteresis",
)
INVERTER_KEYS = INVERTER_OPTIONS.names


@dataclass(frozen=True)
class BatterySpec:
    config: BatteryConfig
    soc_pct: float
    capacity_wh: float = DEFAULT_CAPACITY_WH


@dataclass(frozen=True)
class SiteSpec:
    """The site as the plant needs it: engine `Site` plus what only the physics knows."""

    site: Site
    solar_w: float
    house_a: tuple[float, ...]
    battery: BatterySpec | None
    #: Step of the house's random walk per phase and cycle (A; 0: a steady house), and its
    #: seed: the same seed gives the same noise.
    grid_noise_a: float = 0.0
    grid_noise_seed: int = 0


def _section(name: str, data: Any, keys: tuple[str, ...], schema: Schema) -> ArgReader:
    """A reader for `site.<name>` once its keys are known and none is left empty."""
    item = f"site.{name}"
    raw = mapping("site", name, data)
    known_keys(item, raw, keys)
    refuse_empty(item, raw, schema)
    return ArgReader(item, raw)


def _battery(data: Any) -> BatterySpec | None:
    if data is None:
        return None
    b = _section("battery", data, BATTERY_KEYS, SCENARIO_BATTERY_OPTIONS)
    config = read_battery(b, hysteresis_key="hysteresis", as_written=True)
    first_problem(b)
    plant = PLANT_BATTERY_OPTIONS
    return BatterySpec(
        config=config,
        soc_pct=plant["soc"].check(b.item, b.args.get("soc", plant.default("soc"))),
        capacity_wh=plant["capacity_wh"].check(
            b.item, b.args.get("capacity_wh", plant.default("capacity_wh"))
        ),
    )


def _inverter(data: Any) -> InverterLimits | None:
    if data is None:
        return None
    i = _section("inverter", data, INVERTER_KEYS, INVERTER_OPTIONS)
    limits = read_inverter(i)
    first_problem(i)
    return limits


def _house(value: Any, phases: int) -> tuple[float, ...]:
    if value is None:
        return tuple(0.0 for _ in range(phases))
    if not isinstance(value, list):
        return tuple(non_negative("site", "house_a", value) for _ in range(phases))
    values = listed("site", "house_a", value)
    if len(values) != phases:
        raise ConfigError("site", "house_a", value, f"needs {phases} values, one per phase")
    return tuple(non_negative("site", "house_a", v) for v in values)


def parse_site(data: Mapping[str, Any]) -> SiteSpec:
    known_keys("site", data, SITE_KEYS)
    refuse_empty("site", data, SITE_OPTIONS)
    if "metering" in data:  # a scenario spells it exactly (apps.yaml: any case)
        choice("site", "metering", data["metering"], tuple(m.value for m in Metering))
    battery = _battery(data.get("battery"))
    inverter = _inverter(data.get("inverter"))
    s = ArgReader("site", data)
    site = read_site(
        s, battery.config if battery else None, inverter, breaker_default=DEFAULT_BREAKER_A
    )
    first_problem(s)
    return SiteSpec(
        site=site,
        solar_w=non_negative("site", "solar_w", data.get("solar_w", 0.0)),
        house_a=_house(data.get("house_a"), site.phases),
        battery=battery,
        grid_noise_a=non_negative("site", "grid_noise_a", data.get("grid_noise_a", 0.0)),
        grid_noise_seed=Option("grid_noise_seed", OptionType.INTEGER, 0, minimum=0).check(
            "site", data.get("grid_noise_seed", 0)
        ),
    )


def site_as_dict(spec: SiteSpec) -> dict[str, Any]:
    """The inverse of `parse_site`, so a timeline change can be merged and parsed again."""
    site = spec.site
    data: dict[str, Any] = {
        "phases": site.phases,
        "voltage": site.voltage_v,
        "main_breaker_a": site.main_breaker_a,
        "max_import_w": site.max_import_w,
        "distribution": site.distribution.value,
        "solar_w": spec.solar_w,
        "excess_threshold_w": site.excess_threshold_w,
        "allow_grid_charging": site.allow_grid_charging,
        "metering": site.metering.value,
        "house_a": list(spec.house_a),
        "grid_noise_a": spec.grid_noise_a,
        "grid_noise_seed": spec.grid_noise_seed,
    }
    if spec.battery is not None:
        cfg = spec.battery.config
        data["battery"] = {
            "soc": spec.battery.soc_pct,
            "min_soc": cfg.min_soc_pct,
            "target_soc": cfg.target_soc_pct,
            "max_charge_w": cfg.max_charge_w,
            "max_discharge_w": cfg.max_discharge_w,
            "capacity_wh": spec.battery.capacity_wh,
            "full_soc": cfg.full_soc_pct,
            "hysteresis": cfg.hysteresis_pct,
        }
    if site.inverter is not None:
        data["inverter"] = {
            "max_w": site.inverter.max_w,
            "max_w_per_phase": site.inverter.max_w_per_phase,
            "asymmetric": site.inverter.asymmetric,
        }
    return data


def apply_site(spec: SiteSpec, change: Mapping[str, Any]) -> SiteSpec:
    """A timeline `site:` entry; nested maps (battery, inverter) merge key by key."""
    data = site_as_dict(spec)
    for key, value in change.items():
        if key in ("battery", "inverter") and isinstance(value, Mapping) and data.get(key):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_site(data)
