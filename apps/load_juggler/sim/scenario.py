"""Scenario files (DESIGN.md "Scenario files and the simulator"): YAML in, checked data out.

Every problem becomes one `ConfigError` naming the item and the key, because the file is written
by hand and the message is all the author sees. Keys beyond DESIGN.md's contract, all optional:
`site.battery.capacity_wh` [10000], `site.battery.full_soc` [98], `site.battery.hysteresis` [3]
and `loads[].connected` [true] (false: no car plugged in); how devices misbehave:
`loads[].meter_interval_s`, `obeys`, `stuck_a`, `manual_on`, `draw_limit_a` (see `LoadSpec`).
Values are read with the apps' own reader (`config.ArgReader`), so both parsers accept and refuse
the same spellings; an unquoted `mode: off`, which YAML reads as false, means `off`. The README's
"Scenario format" lists every key with its default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..config import ArgReader, parse_mode
from ..config.hub_config import site_voltage_problem
from ..config.load_config import _phase_map as apps_phase_map
from ..engine.errors import ConfigError
from ..engine.model import (
    SITE_PHASES,
    BatteryConfig,
    Circuit,
    InverterLimits,
    Load,
    LoadKind,
    Metering,
    Mode,
    Site,
    Strategy,
)

FAULT_SENSORS = ("grid", "solar", "battery")
#: The longest run a scenario may ask for, and the most cycles it may make (a week at 1 s is
#: 604800; a year at 5 s would be hours of computing nobody waits for).
MAX_DURATION_S = 365 * 24 * 3600.0
MAX_STEPS = 1_000_000
FAULT_STATES = ("unavailable", "ok")
DEFAULT_CAPACITY_WH = 10000.0


class ScenarioFileError(ValueError):
    """The file itself cannot be read (missing, not YAML); the message is one line."""


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


@dataclass(frozen=True)
class LoadSpec:
    """A load as configured plus how the simulated device really behaves.

    `meter_interval_s`: its draw meter refreshes only this often (0: every cycle).
    `obeys` False: the device ignores every command and draws `stuck_a` per load phase (None:
    its maximum). `manual_on`: a plug switched on by hand draws its power whatever was decided.
    `draw_limit_a`: a car takes at most this (tapering), None: what it is offered.
    """

    load: Load
    draws: bool = True
    connected: bool = True
    meter_interval_s: float = 0.0
    obeys: bool = True
    stuck_a: tuple[float, ...] | None = None
    manual_on: bool = False
    draw_limit_a: float | None = None


@dataclass(frozen=True)
class Event:
    """One timeline entry, already checked; raw maps are applied by `apply_site`/`apply_load`."""

    t_s: float
    site: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    step_s: float
    duration_s: float
    site: SiteSpec
    circuits: tuple[Circuit, ...]
    loads: tuple[LoadSpec, ...]
    timeline: tuple[Event, ...]
    #: Circuits with their own current meter: the readings carry their measured currents.
    metered_circuits: frozenset[str] = frozenset()


# ----------------------------------------------------------------------------- value checkers


def _plain(number: float) -> str:
    """A number as a person writes it: 31536000, 57.5 (not 3.1536e+07)."""
    return f"{number:.0f}" if float(number).is_integer() else f"{number:g}"


def _reader(item: str, key: str, value: Any) -> ArgReader:
    return ArgReader(item, {key: value})


def _checked(reader: ArgReader, result: Any) -> Any:
    if reader.errors:
        raise reader.errors[0]
    return result


def _number(
    item: str,
    key: str,
    value: Any,
    *,
    minimum: float | None = None,
    above: bool = False,
    maximum: float | None = None,
) -> float:
    """A number read exactly as the apps read apps.yaml (`config.ArgReader.number`): a number
    written as a string (`"25"`, `5e3`, which YAML leaves a string) counts, NaN and inf do not."""
    if value is None:
        raise ConfigError(item, key, value, "must be a number")
    r = _reader(item, key, value)
    if above:
        number = r.number(key, None, above=minimum, maximum=maximum)
    else:
        number = r.number(key, None, minimum=minimum, maximum=maximum)
    return float(_checked(r, number))


def _positive(item: str, key: str, value: Any, maximum: float | None = None) -> float:
    return _number(item, key, value, minimum=0.0, above=True, maximum=maximum)


def _non_negative(item: str, key: str, value: Any) -> float:
    return _number(item, key, value, minimum=0.0)


def _pct(item: str, key: str, value: Any) -> float:
    return _number(item, key, value, minimum=0.0, maximum=100.0)


def _integer(item: str, key: str, value: Any, **bounds: Any) -> int:
    """A whole number as the apps read one: `1.0` and `"3"` count."""
    if value is None:
        raise ConfigError(item, key, value, "must be a whole number")
    r = _reader(item, key, value)
    return int(_checked(r, r.integer(key, None, **bounds)))


def _bool(item: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(item, key, value, "must be true or false")
    return value


def _text(item: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(item, key, value, "must be a non-empty string")
    return value


def _choice(item: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(item, key, value, "must be one of: " + ", ".join(allowed))
    return str(value)


def _phases(item: str, key: str, value: Any, allowed: tuple[int, ...] = (1, 3)) -> int:
    return _integer(item, key, value, choices=allowed)


def _mode(item: str, value: Any) -> Mode:
    """As the apps read `mode` (`Solar Priority`, `solar-priority`); unquoted `off` too."""
    mode = parse_mode(value)
    if mode is None:
        raise ConfigError(item, "mode", value, "must be one of " + ", ".join(m.value for m in Mode))
    return mode


def _phase_map(item: str, value: Any, phases: int) -> tuple[str, ...]:
    """`phase_map` through the apps' own check (`config.load_config._phase_map`): any case
    (`[a, b, c]`), one site phase per load phase, so both parsers always agree."""
    r = _reader(item, "phase_map", value)
    return tuple(_checked(r, apps_phase_map(r, phases)))


def _site_voltage(value: Any) -> float:
    """`site.voltage` by the apps' own rule (phase to neutral, 230 V or 120 V grids)."""
    volts = _positive("site", "voltage", value)
    problem = site_voltage_problem(volts)
    if problem is not None:
        raise ConfigError("site", "voltage", value, problem)
    return volts


def _mapping(item: str, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(item, key, value, "must be a mapping (key: value)")
    return value


def _list(item: str, key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(item, key, value, "must be a list")
    return value


def _known_keys(item: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                item, str(key), data[key], "unknown key; allowed: " + ", ".join(allowed)
            )


# ----------------------------------------------------------------------------------- the site

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
INVERTER_KEYS = ("max_w", "max_w_per_phase", "asymmetric")


def _battery(data: Any) -> BatterySpec | None:
    if data is None:
        return None
    item = "site.battery"
    raw = _mapping("site", "battery", data)
    _known_keys(item, raw, BATTERY_KEYS)
    defaults = BatteryConfig()
    config = BatteryConfig(
        min_soc_pct=_pct(item, "min_soc", raw.get("min_soc", defaults.min_soc_pct)),
        target_soc_pct=_pct(item, "target_soc", raw.get("target_soc", defaults.target_soc_pct)),
        full_soc_pct=_pct(item, "full_soc", raw.get("full_soc", defaults.full_soc_pct)),
        max_charge_w=_non_negative(item, "max_charge_w", raw.get("max_charge_w", 0.0)),
        max_discharge_w=_non_negative(item, "max_discharge_w", raw.get("max_discharge_w", 0.0)),
        hysteresis_pct=_number(
            item,
            "hysteresis",
            raw.get("hysteresis", defaults.hysteresis_pct),
            minimum=0,
            maximum=20,
        ),
    )
    if config.min_soc_pct > config.target_soc_pct:
        raise ConfigError(
            item,
            "min_soc",
            raw.get("min_soc", config.min_soc_pct),
            f"must be <= target_soc ({config.target_soc_pct:g})",
        )
    if config.target_soc_pct > config.full_soc_pct:
        raise ConfigError(
            item,
            "target_soc",
            raw.get("target_soc", config.target_soc_pct),
            f"must be <= full_soc ({config.full_soc_pct:g})",
        )
    return BatterySpec(
        config=config,
        soc_pct=_pct(item, "soc", raw.get("soc", 50.0)),
        capacity_wh=_positive(item, "capacity_wh", raw.get("capacity_wh", DEFAULT_CAPACITY_WH)),
    )


def _inverter(data: Any) -> InverterLimits | None:
    if data is None:
        return None
    item = "site.inverter"
    raw = _mapping("site", "inverter", data)
    _known_keys(item, raw, INVERTER_KEYS)
    max_w = raw.get("max_w")
    per_phase = raw.get("max_w_per_phase")
    return InverterLimits(
        max_w=None if max_w is None else _positive(item, "max_w", max_w),
        max_w_per_phase=None
        if per_phase is None
        else _positive(item, "max_w_per_phase", per_phase),
        asymmetric=_bool(item, "asymmetric", raw.get("asymmetric", True)),
    )


def _house(value: Any, phases: int) -> tuple[float, ...]:
    if value is None:
        return tuple(0.0 for _ in range(phases))
    if not isinstance(value, list):
        return tuple(_non_negative("site", "house_a", value) for _ in range(phases))
    values = _list("site", "house_a", value)
    if len(values) != phases:
        raise ConfigError("site", "house_a", value, f"needs {phases} values, one per phase")
    return tuple(_non_negative("site", "house_a", v) for v in values)


def parse_site(data: Mapping[str, Any]) -> SiteSpec:
    _known_keys("site", data, SITE_KEYS)
    phases = _phases("site", "phases", data.get("phases", 3))
    max_import = data.get("max_import_w")
    r = _reader("site", "distribution", data.get("distribution", Strategy.PRIORITY.value))
    distribution = _checked(
        r, r.choice("distribution", Strategy.PRIORITY.value, [s.value for s in Strategy])
    )
    battery = _battery(data.get("battery"))
    site = Site(
        phases=phases,
        voltage_v=_site_voltage(data.get("voltage", 230.0)),
        main_breaker_a=_positive(
            "site", "main_breaker_a", data.get("main_breaker_a", 25.0), maximum=1000.0
        ),
        max_import_w=None if max_import is None else _positive("site", "max_import_w", max_import),
        distribution=Strategy(distribution),
        excess_threshold_w=_non_negative(
            "site", "excess_threshold_w", data.get("excess_threshold_w", 0.0)
        ),
        allow_grid_charging=_bool(
            "site", "allow_grid_charging", data.get("allow_grid_charging", True)
        ),
        battery=battery.config if battery else None,
        inverter=_inverter(data.get("inverter")),
        metering=Metering(
            _choice("site", "metering", data.get("metering", "net"), tuple(Metering))
        ),
    )
    return SiteSpec(
        site=site,
        solar_w=_non_negative("site", "solar_w", data.get("solar_w", 0.0)),
        house_a=_house(data.get("house_a"), phases),
        battery=battery,
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


# ---------------------------------------------------------------------------------- the loads

LOAD_KEYS = (
    "id",
    "type",
    "mode",
    "priority",
    "min_a",
    "max_a",
    "phases",
    "phase_map",
    "draws",
    "circuit",
    "power_w",
    "connected",
    "meter_interval_s",
    "obeys",
    "stuck_a",
    "manual_on",
    "draw_limit_a",
)
CIRCUIT_KEYS = ("id", "limit_a", "members", "parent", "max_power_w", "metered")


def parse_load(data: Mapping[str, Any], site: Site, index: int) -> LoadSpec:
    load_id = data.get("id")
    item = f"load '{load_id}'" if isinstance(load_id, str) else f"loads[{index}]"
    _known_keys(item, data, LOAD_KEYS)
    load_id = _text(item, "id", load_id)
    kind = _choice(item, "type", data.get("type", "evse"), tuple(k.value for k in LoadKind))
    mode = _mode(item, data.get("mode", Mode.CONTINUOUS.value))
    priority = _integer(item, "priority", data.get("priority", 5), minimum=1, maximum=10)
    phases = _phases(
        item, "phases", data.get("phases", 1 if kind == "plug" else site.phases), (1, 2, 3)
    )
    phase_map = _phase_map(item, data.get("phase_map", list(SITE_PHASES[:phases])), phases)
    power_w = data.get("power_w")
    if power_w is not None:
        power_w = _positive(item, "power_w", power_w, maximum=50000.0)
    if kind == LoadKind.PLUG.value and power_w is None:
        raise ConfigError(item, "power_w", None, "a plug needs power_w > 0")
    min_a = _positive(item, "min_a", data.get("min_a", 6.0), maximum=80.0)
    max_a = _positive(item, "max_a", data.get("max_a", 16.0), maximum=80.0)
    if kind == LoadKind.PLUG.value and power_w is not None:
        # A plug's current follows from its power; min and max only have to bracket it.
        plug_a = power_w / (site.voltage_v * phases)
        min_a = max_a = plug_a
    elif min_a > max_a:
        raise ConfigError(item, "min_a", data.get("min_a"), f"must be <= max_a ({max_a:g})")
    circuit = data.get("circuit")
    if circuit is not None:
        circuit = _text(item, "circuit", circuit)
    load = Load(
        id=load_id,
        kind=LoadKind(kind),
        mode=mode,
        priority=priority,
        phases=phases,
        phase_map=phase_map,
        min_a=min_a,
        max_a=max_a,
        power_w=power_w,
        circuit=circuit,
    )
    manual_on = _bool(item, "manual_on", data.get("manual_on", False))
    if manual_on and kind != LoadKind.PLUG.value:
        raise ConfigError(item, "manual_on", manual_on, "only a plug can be switched on by hand")
    draw_limit = data.get("draw_limit_a")
    if draw_limit is not None:
        if kind == LoadKind.PLUG.value:
            raise ConfigError(
                item, "draw_limit_a", draw_limit, "only a car's draw can be limited; not a plug"
            )
        draw_limit = _non_negative(item, "draw_limit_a", draw_limit)
    return LoadSpec(
        load=load,
        draws=_bool(item, "draws", data.get("draws", True)),
        connected=_bool(item, "connected", data.get("connected", True)),
        meter_interval_s=_non_negative(item, "meter_interval_s", data.get("meter_interval_s", 0.0)),
        obeys=_bool(item, "obeys", data.get("obeys", True)),
        stuck_a=_stuck(item, data.get("stuck_a"), phases),
        manual_on=manual_on,
        draw_limit_a=draw_limit,
    )


def _stuck(item: str, value: Any, phases: int) -> tuple[float, ...] | None:
    """`stuck_a`: one number for every load phase, or one per load phase (L1..)."""
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != phases:
            raise ConfigError(item, "stuck_a", value, f"needs {phases} values, one per load phase")
        return tuple(_non_negative(item, "stuck_a", v) for v in value)
    return tuple(_non_negative(item, "stuck_a", value) for _ in range(phases))


def load_as_dict(spec: LoadSpec) -> dict[str, Any]:
    load = spec.load
    data: dict[str, Any] = {
        "id": load.id,
        "type": load.kind.value,
        "mode": load.mode.value,
        "priority": load.priority,
        "phases": load.phases,
        "phase_map": list(load.phase_map),
        "draws": spec.draws,
        "connected": spec.connected,
        "circuit": load.circuit,
        "meter_interval_s": spec.meter_interval_s,
        "obeys": spec.obeys,
        "stuck_a": None if spec.stuck_a is None else list(spec.stuck_a),
        "manual_on": spec.manual_on,
        "draw_limit_a": spec.draw_limit_a,
    }
    if load.kind is LoadKind.PLUG:
        data["power_w"] = load.power_w
    else:
        data.update(min_a=load.min_a, max_a=load.max_a, power_w=load.power_w)
    return data


def apply_load(spec: LoadSpec, change: Mapping[str, Any], site: Site) -> LoadSpec:
    if "id" in change and change["id"] != spec.load.id:
        raise ConfigError(
            f"load '{spec.load.id}'", "id", change["id"], "cannot change in a timeline"
        )
    return parse_load({**load_as_dict(spec), **change}, site, 0)


def parse_circuit(data: Mapping[str, Any], index: int) -> tuple[Circuit, list[str], bool]:
    """A circuit, its `members`, and whether it has its own current meter (`metered`)."""
    circuit_id = data.get("id")
    item = f"circuit '{circuit_id}'" if isinstance(circuit_id, str) else f"circuits[{index}]"
    _known_keys(item, data, CIRCUIT_KEYS)
    circuit_id = _text(item, "id", circuit_id)
    limit = data.get("limit_a")
    power = data.get("max_power_w")
    parent = data.get("parent")
    members = data.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ConfigError(item, "members", members, "must be a list of load ids")
    circuit = Circuit(
        id=circuit_id,
        parent=None if parent is None else _text(item, "parent", parent),
        limit_a=None if limit is None else _positive(item, "limit_a", limit),
        max_power_w=None if power is None else _positive(item, "max_power_w", power),
    )
    return circuit, list(members), _bool(item, "metered", data.get("metered", False))


# ------------------------------------------------------------------------------- the timeline

TOP_KEYS = ("name", "step_s", "duration_s", "site", "circuits", "loads", "timeline")
EVENT_KEYS = ("t", "site", "loads", "faults")


#: Internal (engine) names that a message must show as the scenario file spells them.
FILE_KEYS = {
    "voltage_v": "voltage",
    "battery.min_soc_pct": "battery.min_soc",
    "battery.target_soc_pct": "battery.target_soc",
    "battery.full_soc_pct": "battery.full_soc",
    "battery.hysteresis_pct": "battery.hysteresis",
}


def in_file_terms(err: ConfigError) -> ConfigError:
    """The same problem with the engine's names (`battery.target_soc_pct`) replaced by the
    file's keys (`site.battery` / `target_soc`), so the author can find what to fix."""
    item, key, allowed = err.item, err.key, err.allowed
    for internal, external in FILE_KEYS.items():
        allowed = allowed.replace(internal.split(".")[-1], external.split(".")[-1])
        if key == internal:
            key = external
    if item == "site" and "." in key:
        section, key = key.split(".", 1)
        item = f"site.{section}"
    return ConfigError(item, key, err.value, allowed)


def _in_entry(index: int, err: ConfigError) -> ConfigError:
    """A problem found while applying `timeline[index]`, named as that entry's key."""
    err = in_file_terms(err)
    item = err.item
    if item.startswith("load '") and item.endswith("'"):
        item = "loads." + item.removeprefix("load '").removesuffix("'")
    prefix = f"timeline[{index}]"
    if not item.startswith(prefix):
        item = f"{prefix}.{item}"
    return ConfigError(item, err.key, err.value, err.allowed)


def _event_time(data: Any, index: int, last_step_s: float, duration_s: float) -> float:
    item = f"timeline[{index}]"
    raw = _mapping("timeline", f"[{index}]", data)
    _known_keys(item, raw, EVENT_KEYS)
    if "t" not in raw:
        raise ConfigError(item, "t", None, "every timeline entry needs a time t (seconds)")
    t_s = _non_negative(item, "t", raw["t"])
    if t_s > last_step_s + 1e-9:
        raise ConfigError(
            item,
            "t",
            raw["t"],
            f"must be <= {_plain(last_step_s)}, the last step before duration_s "
            f"({_plain(duration_s)}); "
            "a later change would never happen",
        )
    return t_s


def _event(
    raw: Mapping[str, Any],
    index: int,
    t_s: float,
    loads: dict[str, LoadSpec],
    site: SiteSpec,
) -> tuple[Event, SiteSpec]:
    """Check one entry against the scenario as the entries before it in time left it; `loads`
    is updated in place, the new site returned."""
    item = f"timeline[{index}]"
    site_change = dict(_mapping(item, "site", raw.get("site", {})))
    try:
        site = apply_site(site, site_change)
    except ConfigError as err:
        raise _in_entry(index, err) from None
    load_changes: dict[str, dict[str, Any]] = {}
    for load_id, change in _mapping(item, "loads", raw.get("loads", {})).items():
        if load_id not in loads:
            raise ConfigError(item, "loads", load_id, "names no load of this scenario")
        change_map = dict(_mapping(f"{item}.loads", str(load_id), change))
        try:
            loads[load_id] = apply_load(loads[load_id], change_map, site.site)
        except ConfigError as err:
            raise _in_entry(index, err) from None
        load_changes[str(load_id)] = change_map
    faults: dict[str, str] = {}
    for sensor, state in _mapping(item, "faults", raw.get("faults", {})).items():
        _choice(f"{item}.faults", "sensor", sensor, FAULT_SENSORS)
        faults[str(sensor)] = _choice(f"{item}.faults", str(sensor), state, FAULT_STATES)
    event = Event(t_s=t_s, site=site_change, loads=load_changes, faults=faults)
    return event, site


# --------------------------------------------------------------------------------- the file


def parse_scenario(data: Any, validate: Callable[..., None] | None = None) -> Scenario:
    """Check a loaded YAML document; `validate` is the engine's configuration check."""
    top = _mapping("scenario", "(top level)", data)
    _known_keys("scenario", top, TOP_KEYS)
    name = top.get("name", "scenario")
    if not isinstance(name, str):
        raise ConfigError("scenario", "name", name, "must be a string")
    step_s = _positive("scenario", "step_s", top.get("step_s", 5.0))
    duration_s = _positive("scenario", "duration_s", top.get("duration_s", 900.0))
    if duration_s > MAX_DURATION_S:
        raise ConfigError(
            "scenario",
            "duration_s",
            top.get("duration_s"),
            f"must be <= {_plain(MAX_DURATION_S)} (one year)",
        )
    step_count = max(1, round(duration_s / step_s))
    if step_count > MAX_STEPS:
        raise ConfigError(
            "scenario",
            "step_s",
            top.get("step_s", 5.0),
            f"makes {step_count} steps over duration_s {_plain(duration_s)}; at most {MAX_STEPS} "
            "(raise step_s or shorten duration_s)",
        )
    site = parse_site(_mapping("scenario", "site", top.get("site", {})))

    circuits: list[Circuit] = []
    metered: list[str] = []
    members: dict[str, list[str]] = {}
    for i, raw in enumerate(_list("scenario", "circuits", top.get("circuits", []) or [])):
        circuit, circuit_members, has_meter = parse_circuit(_mapping("circuits", f"[{i}]", raw), i)
        circuits.append(circuit)
        if has_meter:
            metered.append(circuit.id)
        members[circuit.id] = circuit_members

    specs: list[LoadSpec] = []
    for i, raw in enumerate(_list("scenario", "loads", top.get("loads", []) or [])):
        specs.append(parse_load(_mapping("loads", f"[{i}]", raw), site.site, i))
    by_id = {spec.load.id: spec for spec in specs}
    if len(by_id) != len(specs):
        seen: set[str] = set()
        for spec in specs:
            if spec.load.id in seen:
                raise ConfigError(f"load '{spec.load.id}'", "id", spec.load.id, "must be unique")
            seen.add(spec.load.id)

    owner = _circuit_of_members(members)
    for load_id, circuit_id in owner.items():
        if load_id not in by_id:
            raise ConfigError(f"circuit '{circuit_id}'", "members", load_id, "names no load")
        spec = by_id[load_id]
        if spec.load.circuit not in (None, circuit_id):
            raise ConfigError(
                f"load '{load_id}'",
                "circuit",
                spec.load.circuit,
                f"conflicts with circuit '{circuit_id}' listing it as a member",
            )
        by_id[load_id] = replace(spec, load=replace(spec.load, circuit=circuit_id))
    specs = [by_id[spec.load.id] for spec in specs]

    if validate is not None:
        try:
            validate(site.site, circuits, [spec.load for spec in specs])
        except ConfigError as err:
            raise in_file_terms(err) from None

    # Entries apply in time order (ties in file order), each on top of the ones before it, and
    # are checked that way: a change that only conflicts with an earlier one is caught here.
    last_step_s = (step_count - 1) * step_s
    raw_events = _list("scenario", "timeline", top.get("timeline", []) or [])
    timed = sorted(
        (
            (_event_time(raw, i, last_step_s, duration_s), i, raw)
            for i, raw in enumerate(raw_events)
        ),
        key=lambda entry: (entry[0], entry[1]),
    )
    events: list[Event] = []
    now_site, now_loads = site, dict(by_id)
    for t_s, i, raw in timed:
        event, now_site = _event(raw, i, t_s, now_loads, now_site)
        if validate is not None:
            try:
                validate(now_site.site, circuits, [spec.load for spec in now_loads.values()])
            except ConfigError as err:
                raise _in_entry(i, err) from None
        events.append(event)
    return Scenario(
        name=name,
        step_s=step_s,
        duration_s=duration_s,
        site=site,
        circuits=tuple(circuits),
        loads=tuple(specs),
        timeline=tuple(events),
        metered_circuits=frozenset(metered),
    )


def _circuit_of_members(members: dict[str, list[str]]) -> dict[str, str]:
    from ..engine.validate import circuit_of_members

    return circuit_of_members(members)


def read_text(file: Path, what: str) -> str:
    """A hand-written YAML file as text; every way that fails is one `ScenarioFileError` line."""
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioFileError(f"{file}: {what} not found") from None
    except IsADirectoryError:
        raise ScenarioFileError(f"{file}: is a directory, not the {what}") from None
    except UnicodeDecodeError as err:
        byte = err.object[err.start]
        raise ScenarioFileError(
            f"{file}: not UTF-8 text (byte 0x{byte:02x} at offset {err.start}); "
            "save the file as UTF-8"
        ) from None
    except OSError as err:
        raise ScenarioFileError(f"{file}: cannot read {what}: {err.strerror}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; raises `ConfigError` or `ScenarioFileError`."""
    from ..engine.validate import validate

    file = Path(path)
    text = read_text(file, "scenario file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioFileError(f"{file}: YAML syntax error{where}: {problem}") from None
    return parse_scenario(data, validate=validate)
