"""Scenario files (DESIGN.md "Scenario files and the simulator"): YAML in, checked data out.

Every problem becomes one `ConfigError` naming the item and the key, because the file is written
by hand and the message is all the author sees. Keys beyond DESIGN.md's contract, all optional:
`site.battery.capacity_wh` [10000], `site.battery.full_soc` [98], `site.battery.hysteresis` [3]
and `loads[].connected` [true] (false: no car plugged in); how devices misbehave:
`loads[].meter_interval_s`, `obeys`, `stuck_a`, `manual_on`, `draw_limit_a` (see `LoadSpec`).
The site is read by the apps' own site readers and every load key apps.yaml also has by the
apps' own option declarations (`config/`), so both files accept and refuse the same values;
an unquoted `mode: off`, which YAML reads as false, means `off`. The README's "Scenario format"
lists every key with its default. The parts: `scenario_site` (site, battery, inverter),
`scenario_loads` (loads, circuits), `scenario_timeline` (changes over time), `scenario_values`
(how one value is checked); this module reads the file and puts them together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from ..engine.errors import ConfigError
from ..engine.model import Circuit, LoadKind
from ..engine.validate import circuit_of_members
from ..engine.validate import validate as engine_validate
from .scenario_loads import (
    CIRCUIT_KEYS,
    LOAD_KEYS,
    UNIT_KEYS,
    LoadSpec,
    apply_load,
    load_as_dict,
    parse_circuit,
    parse_load,
    parse_unit,
)
from .scenario_plan import ScenarioPlan, split_plan
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
from .scenario_timeline import Event, in_file_terms, parse_timeline
from .scenario_values import known_keys, listed, mapping, plain, positive

__all__ = [
    "BATTERY_KEYS",
    "CIRCUIT_KEYS",
    "DEFAULT_CAPACITY_WH",
    "INVERTER_KEYS",
    "LOAD_KEYS",
    "SITE_KEYS",
    "UNIT_KEYS",
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

#: The longest run a scenario may ask for, and the most cycles it may make (a week at 1 s is
#: 604800; a year at 5 s would be hours of computing nobody waits for).
MAX_DURATION_S = 365 * 24 * 3600.0
MAX_STEPS = 1_000_000


class ScenarioFileError(ValueError):
    """The file itself cannot be read (missing, not YAML); the message is one line."""


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
    #: Wall clock, prices, capacity tariff and car goals (`scenario_plan`).
    plan: ScenarioPlan = field(default_factory=ScenarioPlan)


# ------------------------------------------------------------------------------- the timeline

TOP_KEYS = ("name", "step_s", "duration_s", "site", "circuits", "units", "loads", "timeline")


# --------------------------------------------------------------------------------- the file


def parse_scenario(data: Any, validate: Callable[..., None] | None = None) -> Scenario:
    """Check a loaded YAML document; `validate` is the engine's configuration check."""
    top, plan = split_plan(mapping("scenario", "(top level)", data))
    known_keys("scenario", top, (*TOP_KEYS, "start", "prices"))
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
    for i, raw in enumerate(listed("scenario", "units", top.get("units", []) or [])):
        unit, plugs = parse_unit(mapping("units", f"[{i}]", raw), i)
        for load_id in plugs:
            spec = by_id.get(load_id)
            item = f"unit '{unit.id}'"
            if spec is None:
                raise ConfigError(item, "members", load_id, "names no load")
            if spec.load.kind is not LoadKind.EVSE:
                raise ConfigError(item, "members", load_id, "a unit's plugs are chargers (evse)")
            if spec.load.unit is not None:
                raise ConfigError(
                    f"load '{load_id}'", "unit", [spec.load.unit.id, unit.id], "one unit only"
                )
            by_id[load_id] = replace(spec, load=replace(spec.load, unit=unit))
    specs = [by_id[spec.load.id] for spec in specs]

    if validate is not None:
        try:
            validate(site.site, circuits, [spec.load for spec in specs])
        except ConfigError as err:
            raise in_file_terms(err) from None

    last_step_s = (step_count - 1) * step_s
    raw_events = listed("scenario", "timeline", top.get("timeline", []) or [])
    events = parse_timeline(
        raw_events, last_step_s, duration_s, site, by_id, circuits, validate, plan
    )
    return Scenario(
        name=name,
        step_s=step_s,
        duration_s=duration_s,
        site=site,
        circuits=tuple(circuits),
        loads=tuple(specs),
        timeline=tuple(events),
        metered_circuits=frozenset(metered),
        plan=plan,
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
