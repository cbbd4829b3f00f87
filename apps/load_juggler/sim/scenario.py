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

from ..engine.errors import ConfigError
from ..engine.model import Circuit
from ..engine.validate import circuit_of_members
from ..engine.validate import validate as engine_validate
from .scenario_loads import (
    CIRCUIT_KEYS,
    LOAD_KEYS,
    LoadSpec,
    apply_load,
    load_as_dict,
    parse_circuit,
    parse_load,
)
from .scenario_site import (
    BATTERY_KEYS,
    DEFAULT_CAPACITY_WH,
    INVERTER_KEYS,
    SITE_KEYS,
    BatterySpec,
    SiteSpec,
    apply_site,
    parse_site,
    site_as_dict,
)
from .scenario_values import choice, known_keys, listed, mapping, non_negative, plain, positive

__all__ = [
    "BATTERY_KEYS",
    "CIRCUIT_KEYS",
    "DEFAULT_CAPACITY_WH",
    "INVERTER_KEYS",
    "LOAD_KEYS",
    "SITE_KEYS",
    "BatterySpec",
    "Event",
    "LoadSpec",
    "Scenario",
    "ScenarioFileError",
    "SiteSpec",
    "apply_load",
    "apply_site",
    "in_file_terms",
    "load_as_dict",
    "load_scenario",
    "parse_circuit",
    "parse_load",
    "parse_scenario",
    "parse_site",
    "read_text",
    "site_as_dict",
]

FAULT_SENSORS = ("grid", "solar", "battery")
#: The longest run a scenario may ask for, and the most cycles it may make (a week at 1 s is
#: 604800; a year at 5 s would be hours of computing nobody waits for).
MAX_DURATION_S = 365 * 24 * 3600.0
MAX_STEPS = 1_000_000
FAULT_STATES = ("unavailable", "ok")


class ScenarioFileError(ValueError):
    """The file itself cannot be read (missing, not YAML); the message is one line."""


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
    raw = mapping("timeline", f"[{index}]", data)
    known_keys(item, raw, EVENT_KEYS)
    if "t" not in raw:
        raise ConfigError(item, "t", None, "every timeline entry needs a time t (seconds)")
    t_s = non_negative(item, "t", raw["t"])
    if t_s > last_step_s + 1e-9:
        raise ConfigError(
            item,
            "t",
            raw["t"],
            f"must be <= {plain(last_step_s)}, the last step before duration_s "
            f"({plain(duration_s)}); "
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
    site_change = dict(mapping(item, "site", raw.get("site", {})))
    try:
        site = apply_site(site, site_change)
    except ConfigError as err:
        raise _in_entry(index, err) from None
    load_changes: dict[str, dict[str, Any]] = {}
    for load_id, change in mapping(item, "loads", raw.get("loads", {})).items():
        if load_id not in loads:
            raise ConfigError(item, "loads", load_id, "names no load of this scenario")
        change_map = dict(mapping(f"{item}.loads", str(load_id), change))
        try:
            loads[load_id] = apply_load(loads[load_id], change_map, site.site)
        except ConfigError as err:
            raise _in_entry(index, err) from None
        load_changes[str(load_id)] = change_map
    faults: dict[str, str] = {}
    for sensor, state in mapping(item, "faults", raw.get("faults", {})).items():
        choice(f"{item}.faults", "sensor", sensor, FAULT_SENSORS)
        faults[str(sensor)] = choice(f"{item}.faults", str(sensor), state, FAULT_STATES)
    event = Event(t_s=t_s, site=site_change, loads=load_changes, faults=faults)
    return event, site


# --------------------------------------------------------------------------------- the file


def parse_scenario(data: Any, validate: Callable[..., None] | None = None) -> Scenario:
    """Check a loaded YAML document; `validate` is the engine's configuration check."""
    top = mapping("scenario", "(top level)", data)
    known_keys("scenario", top, TOP_KEYS)
    name = top.get("name", "scenario")
    if not isinstance(name, str):
        raise ConfigError("scenario", "name", name, "must be a string")
    step_s = positive("scenario", "step_s", top.get("step_s", 5.0))
    duration_s = positive("scenario", "duration_s", top.get("duration_s", 900.0))
    if duration_s > MAX_DURATION_S:
        raise ConfigError(
            "scenario",
            "duration_s",
            top.get("duration_s"),
            f"must be <= {plain(MAX_DURATION_S)} (one year)",
        )
    step_count = max(1, round(duration_s / step_s))
    if step_count > MAX_STEPS:
        raise ConfigError(
            "scenario",
            "step_s",
            top.get("step_s", 5.0),
            f"makes {step_count} steps over duration_s {plain(duration_s)}; at most {MAX_STEPS} "
            "(raise step_s or shorten duration_s)",
        )
    site = parse_site(mapping("scenario", "site", top.get("site", {})))

    circuits: list[Circuit] = []
    metered: list[str] = []
    members: dict[str, list[str]] = {}
    for i, raw in enumerate(listed("scenario", "circuits", top.get("circuits", []) or [])):
        circuit, circuit_members, has_meter = parse_circuit(mapping("circuits", f"[{i}]", raw), i)
        circuits.append(circuit)
        if has_meter:
            metered.append(circuit.id)
        members[circuit.id] = circuit_members

    specs: list[LoadSpec] = []
    for i, raw in enumerate(listed("scenario", "loads", top.get("loads", []) or [])):
        specs.append(parse_load(mapping("loads", f"[{i}]", raw), site.site, i))
    by_id = {spec.load.id: spec for spec in specs}
    if len(by_id) != len(specs):
        seen: set[str] = set()
        for spec in specs:
            if spec.load.id in seen:
                raise ConfigError(f"load '{spec.load.id}'", "id", spec.load.id, "must be unique")
            seen.add(spec.load.id)

    owner = circuit_of_members(members)
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
    raw_events = listed("scenario", "timeline", top.get("timeline", []) or [])
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
    file = Path(path)
    text = read_text(file, "scenario file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioFileError(f"{file}: YAML syntax error{where}: {problem}") from None
    return parse_scenario(data, validate=engine_validate)
