"""A scenario's `timeline:`: entries checked in time order, each on top of those before it.

An entry changes site keys (`site:`, nested maps merged key by key), load keys (`loads:`),
sensor faults (`faults:`) or sends the hub commands (`commands:`, see `sim_commands`); every
change is parsed again by the same site and load readers as
the file's own sections, and a problem is named as the entry's key in the file
(`timeline[3].site.battery`), in the file's words rather than the engine's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..command_schema import CommandRequest
from ..engine.errors import ConfigError
from ..engine.model import Circuit
from .scenario_loads import LoadSpec, apply_load
from .scenario_plan import ScenarioPlan
from .scenario_site import SiteSpec, apply_site
from .scenario_values import choice, known_keys, mapping, non_negative, plain
from .sim_commands import parse_commands

FAULT_SENSORS = ("grid", "solar", "battery")
FAULT_STATES = ("unavailable", "ok", "inverted")
EVENT_KEYS = ("t", "site", "loads", "faults", "commands")


@dataclass(frozen=True)
class Event:
    """One timeline entry, already checked; raw maps are applied by `apply_site`/`apply_load`."""

    t_s: float
    site: dict[str, Any] = field(default_factory=dict)
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    commands: tuple[CommandRequest, ...] = ()


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
    plan: ScenarioPlan,
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
        if state == "inverted" and sensor != "grid":
            raise ConfigError(
                f"{item}.faults", str(sensor), state, "only the grid meter can read inverted"
            )
    commands = parse_commands(
        item,
        raw.get("commands", []),
        t_s,
        [spec.load for spec in loads.values()],
        plan.start_s,
        plan.zone,
    )
    event = Event(t_s=t_s, site=site_change, loads=load_changes, faults=faults, commands=commands)
    return event, site


def parse_timeline(
    raw_events: Sequence[Any],
    last_step_s: float,
    duration_s: float,
    site: SiteSpec,
    loads: Mapping[str, LoadSpec],
    circuits: Sequence[Circuit],
    validate: Callable[..., None] | None,
    plan: ScenarioPlan | None = None,
) -> list[Event]:
    """Entries apply in time order (ties in file order), each on top of the ones before it, and
    are checked that way: a change that only conflicts with an earlier one is caught here.
    Commands' "HH:MM" times count on `plan`'s wall clock (`start` + t)."""
    plan = plan or ScenarioPlan()
    timed = sorted(
        (
            (_event_time(raw, i, last_step_s, duration_s), i, raw)
            for i, raw in enumerate(raw_events)
        ),
        key=lambda entry: (entry[0], entry[1]),
    )
    events: list[Event] = []
    now_site, now_loads = site, dict(loads)
    for t_s, i, raw in timed:
        event, now_site = _event(raw, i, t_s, now_loads, now_site, plan)
        if validate is not None:
            try:
                validate(now_site.site, circuits, [spec.load for spec in now_loads.values()])
            except ConfigError as err:
                raise _in_entry(i, err) from None
        events.append(event)
    return events
