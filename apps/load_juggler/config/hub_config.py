"""The hub's apps.yaml entry -> engine objects (Site, Circuit, ControlSettings) and sensor settings.

Pure: no AppDaemon import, so it is unit-tested directly and reusable by other front ends. The
sections live next to it: `site_config` (site, battery, inverter; also read by scenario files),
`circuits_config` (the breaker tree); here are the sensors, the control settings and the whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine.control_types import ControlSettings
from ..engine.errors import ConfigError
from ..engine.model import BatteryConfig, Circuit, InverterLimits, Site
from .circuits_config import CircuitMeter, parse_circuits, phase_entities
from .reader import APPDAEMON_KEYS, ArgReader
from .site_config import read_battery, read_inverter, read_site

__all__ = [
    "CircuitMeter",
    "GridSensors",
    "HubConfig",
    "HubConfigError",
    "SensorConfig",
    "parse_hub",
]


@dataclass(frozen=True)
class GridSensors:
    """Where the per-phase grid reading comes from.

    `entities` holds one entity per site phase, or one entity whose `attributes` carry the phases.
    `unit` is what an entity without `unit_of_measurement` is read in: "A" (`grid_current`) or
    "W" (`grid_power`); an entity's own unit wins (A, mA, or W/kW/MW per phase, converted with
    the phase voltage). Positive means import unless `invert`.
    """

    entities: tuple[str, ...]
    attributes: tuple[str, ...] | None
    unit: str
    invert: bool = False


@dataclass(frozen=True)
class SensorConfig:
    """HA entities the hub reads each cycle; None means "not available at this site"."""

    grid: GridSensors
    voltage: str | None = None
    solar_power: str | None = None
    battery_soc: str | None = None
    battery_power: str | None = None
    battery_power_invert: bool = False
    max_import: str | None = None


@dataclass(frozen=True)
class HubConfig:
    """Everything the hub needs, already checked."""

    name: str
    period_s: float
    site: Site
    circuits: tuple[Circuit, ...]
    members: dict[str, tuple[str, ...]]
    control: ControlSettings
    sensors: SensorConfig
    entity_prefix: str = "load_juggler"
    republish_s: float = 60.0
    meters: dict[str, CircuitMeter] = field(default_factory=dict)
    #: Values that parse but are probably a mistake (kW given as W...): logged at WARNING.
    warnings: tuple[str, ...] = ()
    #: Decide and publish as usual, but send nothing to any device (`LoadApp.set_dry_run`).
    dry_run: bool = False
    #: Where learned state and live overrides are kept (`state_file.state_path`); None: default.
    state_file: str | None = None


class HubConfigError(Exception):
    """The hub's args have problems; `problems` holds one ConfigError per problem."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


#: A site import cap below this many watts was almost certainly written in kW.
IMPLAUSIBLE_IMPORT_W = 100.0

HUB_DEFAULTS: dict[str, Any] = {
    "period_s": 5.0,
    "republish_s": 60.0,
    "entity_prefix": "load_juggler",
    "dry_run": False,
}


def parse_hub(name: str, args: Mapping[str, Any]) -> HubConfig:
    """Parse the hub's `self.args`; raises HubConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    period_s = r.number("period_s", HUB_DEFAULTS["period_s"], minimum=1, maximum=300)
    republish_s = r.number("republish_s", HUB_DEFAULTS["republish_s"], minimum=0)
    prefix = r.slug("entity_prefix", HUB_DEFAULTS["entity_prefix"])
    dry_run = r.boolean("dry_run", HUB_DEFAULTS["dry_run"])
    state_file = r.string("state_file")
    battery = _parse_battery(r)
    inverter = _parse_inverter(r)
    site = _parse_site(r, battery, inverter)
    circuits, members, meters = parse_circuits(r, site.phases)
    control = _parse_control(r, period_s or HUB_DEFAULTS["period_s"])
    control = _parse_capacity(r, control)
    sensors = _parse_sensors(r, site.phases, has_battery=battery is not None)
    r.finish()
    if r.errors:
        raise HubConfigError(r.errors)
    warnings: list[str] = []
    if site.max_import_w is not None and site.max_import_w < IMPLAUSIBLE_IMPORT_W:
        warnings.append(
            f"app '{name}': key 'site.max_import_w' = {site.max_import_w:g} W is implausibly "
            f"small (kW given as W?): did you mean {site.max_import_w * 1000:g} W?"
        )
    return HubConfig(
        name=name,
        period_s=float(period_s or 5.0),
        site=site,
        circuits=circuits,
        members=members,
        control=control,
        sensors=sensors,
        entity_prefix=prefix or "load_juggler",
        republish_s=float(republish_s if republish_s is not None else 60.0),
        meters=meters,
        warnings=tuple(warnings),
        dry_run=dry_run,
        state_file=state_file,
    )


def _parse_site(
    r: ArgReader, battery: BatteryConfig | None, inverter: InverterLimits | None
) -> Site:
    s = r.section("site")
    site = read_site(s, battery, inverter)
    s.finish()
    return site


def _parse_battery(r: ArgReader) -> BatteryConfig | None:
    if not r.has("battery"):
        return None
    return read_battery(r.section("battery"))


def _parse_inverter(r: ArgReader) -> InverterLimits | None:
    if not r.has("inverter"):
        return None
    i = r.section("inverter")
    limits = read_inverter(i)
    i.finish()
    return limits


def _parse_control(r: ArgReader, period_s: float) -> ControlSettings:
    c = r.section("control")
    d = ControlSettings()
    grace = c.number("overload_grace_s", d.overload_grace_s, minimum=0)
    settings = ControlSettings(
        smoothing_alpha=_num(c.number("smoothing_alpha", d.smoothing_alpha, above=0, maximum=1)),
        grid_stale_timeout_s=_stale(c, "grid_stale_timeout_s", d.grid_stale_timeout_s, period_s),
        ramp_up_a_per_s=_num(c.number("ramp_up_a_per_s", d.ramp_up_a_per_s, above=0)),
        start_delay_s=_num(c.number("start_delay_s", d.start_delay_s, minimum=0)),
        stop_delay_s=_num(c.number("stop_delay_s", d.stop_delay_s, minimum=0)),
        min_on_s=_num(c.number("min_on_s", d.min_on_s, minimum=0)),
        min_off_s=_num(c.number("min_off_s", d.min_off_s, minimum=0)),
        pause_budget=int(c.integer("pause_budget", d.pause_budget, minimum=0) or 0),
        deadband_a=_num(c.number("deadband_a", d.deadband_a, minimum=0)),
        overload_grace_s=grace,
        sensor_stale_timeout_s=_stale(
            c, "sensor_stale_timeout_s", d.sensor_stale_timeout_s, period_s
        ),
        draw_tolerance_a=_num(c.number("draw_tolerance_a", d.draw_tolerance_a, minimum=0)),
    )
    c.finish()
    return settings


def _parse_capacity(r: ArgReader, control: ControlSettings) -> ControlSettings:
    """`capacity_limit_w` (the capacity tariff's limit on any window's average import) and
    `capacity_window_s` [900] (the meter's averaging window, aligned to the clock)."""
    limit_w = r.number("capacity_limit_w", None, above=0)
    window_s = r.number("capacity_window_s", control.capacity_window_s, minimum=60, maximum=3600)
    if r.has("capacity_window_s") and not r.has("capacity_limit_w"):
        r.error("capacity_window_s", r.raw("capacity_window_s"), "needs capacity_limit_w")
    if limit_w is None:
        return control
    return replace(
        control,
        capacity_limit_w=float(limit_w),
        capacity_window_s=float(window_s or control.capacity_window_s),
    )


def _stale(c: ArgReader, key: str, default: float, period_s: float) -> float:
    """A staleness timeout: shorter than one cycle, every reading would count as stale.

    Left out, it is the default or, with a long `period_s`, two cycles (one missed reading).
    """
    if not c.has(key):
        return max(default, 2 * period_s)
    value = _num(c.number(key, default, minimum=0))
    if value < period_s:
        c.error(key, c.raw(key), f"must be >= period_s ({period_s:g} s): one cycle at least")
        return default
    return value


def _num(value: float | None) -> float:
    return float(value or 0.0)


def _parse_sensors(r: ArgReader, phases: int, *, has_battery: bool) -> SensorConfig:
    s = r.section("sensors")
    both = s.has("grid_current") and s.has("grid_power")
    key = "grid_power" if s.has("grid_power") and not both else "grid_current"
    entities, attributes = phase_entities(s, key, "grid_phase_attributes", phases)
    invert = s.boolean("grid_invert", False)
    if both:
        power = s.entities("grid_power", lengths=(1, phases), domains=None) or ()
        s.error("grid_power", list(power), "give grid_current or grid_power, not both")
    elif not entities and not s.errors_for("grid_current", "grid_power"):
        s.error(
            "grid_current",
            None,
            f"required: {phases} entity ids (one per phase, A) or one entity with "
            "L1/L2/L3 attributes; or use grid_power (W)",
        )
    entities = entities or ()
    current = key == "grid_current"
    grid = GridSensors(
        entities=entities, attributes=attributes, unit="A" if current else "W", invert=invert
    )
    soc = s.entity("battery_soc")
    bpower = s.entity("battery_power")
    sensors = SensorConfig(
        grid=grid,
        voltage=s.entity("voltage"),
        solar_power=s.entity("solar_power"),
        battery_soc=soc,
        battery_power=bpower,
        battery_power_invert=s.boolean("battery_power_invert", False),
        max_import=s.entity("max_import"),
    )
    s.finish()
    if has_battery and soc is None:
        s.error("battery_soc", None, "is required when a battery: section is given")
    if not has_battery and (soc or bpower):
        s.error("battery_soc", soc or bpower, "needs a battery: section with its limits")
    return sensors
