"""`--example APPS_YAML`: a sunny day for the site an apps.yaml describes (`./run.sh demo`).

The hub and load entries are parsed by the same `config` functions the AppDaemon apps use, so the
demo shows what the user's own configuration would do. The day is made up and documented here:
06:00 to 20:00, clear sky with one 5-minute cloud at 13:00, solar peaking at the inverter's
`max_w` (8 kW without one), a house drawing 1 A per phase with a 3 A morning and a 6 A evening
peak on phase A, every car plugged in all day, and the battery (if any) starting at 40 %.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from ..config import (
    HubConfig,
    HubConfigError,
    LoadConfigError,
    parse_hub,
    parse_ocpp,
    parse_switch,
)
from ..config.kinds.climate_boost import parse_climate_boost
from ..config.kinds.evse_connectors import load_entries
from ..config.kinds.power import parse_power
from ..config.kinds.sg_ready import parse_sg_ready
from ..config.kinds.staged import parse_staged
from ..engine.control_types import ControlSettings
from ..engine.errors import ConfigError
from ..engine.model import ChargeUnit, Load
from ..engine.validate import validate
from .scenario import (
    BatterySpec,
    Event,
    LoadSpec,
    Scenario,
    ScenarioFileError,
    SiteSpec,
    read_text,
)

HUB_MODULE = "load_juggler.hub"
#: A heat pump kind is simulated here as the switched load of `expected_power_w` the controller
#: sees (the made-up day has no house temperatures); scenario files model them fully.
LOAD_PARSERS = {
    "load_juggler.loads.ocpp": parse_ocpp,
    "load_juggler.loads.switch": parse_switch,
    "load_juggler.loads.sg_ready": parse_sg_ready,
    "load_juggler.loads.climate_boost": parse_climate_boost,
    "load_juggler.loads.power": parse_power,
    "load_juggler.loads.staged": parse_staged,
}
#: The class each of our modules defines; AppDaemon refuses an app naming another one.
CLASSES = {
    HUB_MODULE: "Hub",
    "load_juggler.loads.ocpp": "OcppCharger",
    "load_juggler.loads.switch": "SwitchLoad",
    "load_juggler.loads.sg_ready": "SgReadyLoad",
    "load_juggler.loads.climate_boost": "ClimateBoostLoad",
    "load_juggler.loads.power": "PowerLoad",
    "load_juggler.loads.staged": "StagedLoad",
    # Known, but left out of the demo and the replay: its thermostat needs the tank's
    # temperature, which neither has.
    "load_juggler.loads.water_heater": "WaterHeater",
}
DAY_START_H = 6.0
DAY_HOURS = 14.0
EVENT_EVERY_S = 300.0
DEFAULT_PEAK_W = 8000.0


def _solar_w(hour: float, peak_w: float) -> float:
    """A clear-sky bell from sunrise at 6:30 to sunset at 19:30, with a cloud at 13:00."""
    if not 6.5 <= hour <= 19.5:
        return 0.0
    if 13.0 <= hour < 13.0 + 5 / 60:
        return 0.25 * peak_w
    return peak_w * math.sin(math.pi * (hour - 6.5) / 13.0) ** 1.5


def _house_a(hour: float, phases: int) -> tuple[float, ...]:
    house = [1.0] * phases
    if 7.0 <= hour < 8.0:
        house = [a + 3.0 for a in house]
    if 18.0 <= hour < 20.0:
        house[0] += 6.0
    return tuple(house)


@dataclass(frozen=True)
class AppsFile:
    """An apps.yaml's Load Juggler apps, refused for what the hub would refuse (also read by
    the replay, `history.setup`): every entry by name, the hub, and its loads."""

    entries: dict[str, Mapping[str, Any]]
    hub: HubConfig
    loads: list[Load]


def read_apps(path: str | Path) -> AppsFile:
    """Read and check an apps.yaml; every problem is one `ScenarioFileError` naming the file."""
    file = Path(path)
    text = read_text(file, "apps.yaml file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ScenarioFileError(f"{file}: YAML syntax error: {err}".splitlines()[0]) from None
    if not isinstance(data, Mapping):
        raise ScenarioFileError(f"{file}: expected app entries (name: settings)")
    entries = {
        str(name): args
        for name, args in data.items()
        if isinstance(args, Mapping) and args.get("disable") is not True
    }
    try:
        check_modules(entries)
        hubs = [name for name, args in entries.items() if args.get("module") == HUB_MODULE]
        if len(hubs) != 1:
            raise ScenarioFileError(
                f"{file}: needs exactly one {HUB_MODULE} app, found {len(hubs)}"
            )
        hub = parse_hub(hubs[0], entries[hubs[0]])
        loads = hub_loads(entries, hubs[0], hub)
    except (HubConfigError, LoadConfigError, ConfigError) as err:
        raise ScenarioFileError(f"{file}: {err}") from None
    return AppsFile(entries=entries, hub=hub, loads=loads)


def example_scenario(path: str | Path) -> tuple[Scenario, ControlSettings]:
    """The day's scenario and the hub's own controller settings."""
    file = Path(path)
    apps = read_apps(file)
    hub, loads = apps.hub, apps.loads

    site = hub.site
    battery = None
    if site.battery is not None:
        battery = BatterySpec(config=site.battery, soc_pct=40.0, capacity_wh=10000.0)
    peak_w = site.inverter.max_w if site.inverter and site.inverter.max_w else DEFAULT_PEAK_W
    events = []
    t_s = 0.0
    while t_s < DAY_HOURS * 3600:
        hour = DAY_START_H + t_s / 3600
        events.append(
            Event(
                t_s=t_s,
                site={
                    "solar_w": round(_solar_w(hour, peak_w), 1),
                    "house_a": list(_house_a(hour, site.phases)),
                },
            )
        )
        step = 60.0 if 12.9 <= hour <= 13.2 else EVENT_EVERY_S
        t_s += step
    # Each load's app entry; a charger's plugs share theirs (`app_loads`).
    entries = {name: args for name, args, _unit in app_loads(apps.entries)}
    scenario = Scenario(
        name=f"{file.name}: a sunny day (06:00-20:00)",
        step_s=hub.period_s,
        duration_s=DAY_HOURS * 3600,
        site=SiteSpec(
            site=site, solar_w=0.0, house_a=_house_a(DAY_START_H, site.phases), battery=battery
        ),
        circuits=hub.circuits,
        loads=tuple(_spec(load, entries[load.id]) for load in loads),
        timeline=tuple(events),
    )
    return scenario, hub.control


def _spec(load: Load, args: Mapping[str, Any]) -> LoadSpec:
    """A load as the plant simulates it: a variable-power load rounds its command down to its
    watt steps, a staged load switches its elements, as their apps do."""
    module = args.get("module")
    if module == "load_juggler.loads.power":
        return LoadSpec(load=load, power=parse_power(load.id, args)[1])
    if module == "load_juggler.loads.staged":
        return LoadSpec(load=load, staged=parse_staged(load.id, args)[1])
    return LoadSpec(load=load)


def check_modules(entries: Mapping[str, Mapping[str, Any]]) -> None:
    """An entry meant for Load Juggler whose `module` or `class` AppDaemon would not find is
    named, not silently left out of the demo (other apps in the same file are left alone)."""
    for name, args in entries.items():
        module = args.get("module")
        if not isinstance(module, str):
            continue
        close = difflib.get_close_matches(module, list(CLASSES), n=1, cutoff=0.8)
        if module not in CLASSES and (module.startswith("load_juggler") or close):
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise ConfigError(
                f"app '{name}'",
                "module",
                module,
                f"no such Load Juggler module; {hint}modules: {', '.join(CLASSES)}",
            )
        wanted = CLASSES.get(module)
        if wanted is not None and args.get("class") != wanted:
            raise ConfigError(
                f"app '{name}'", "class", args.get("class"), f"{module} defines class {wanted}"
            )


def hub_loads(
    entries: Mapping[str, Mapping[str, Any]], hub_name: str, hub: HubConfig
) -> list[Load]:
    """The load apps the hub would register, refused for the same reasons the hub refuses
    them (`Hub.register_load`): a contradicting or unknown circuit, a load the site cannot take."""
    owner = {load_id: circuit for circuit, ids in hub.members.items() for load_id in ids}
    known = sorted(c.id for c in hub.circuits)
    loads = []
    for name, args, unit in app_loads(entries):
        parser = LOAD_PARSERS.get(str(args.get("module")))
        if parser is None:
            continue
        settings, _ = parser(name, args)
        item = f"app '{name}'"
        if settings.hub != hub_name:
            raise ConfigError(
                item, "hub", settings.hub, f"names no hub app; the hub of this file is '{hub_name}'"
            )
        listed = owner.get(settings.name)
        circuit = settings.circuit or listed
        if settings.circuit and listed and settings.circuit != listed:
            raise ConfigError(
                item,
                "circuit",
                settings.circuit,
                f"contradicts hub '{hub_name}', whose circuit '{listed}' lists it in members",
            )
        if circuit is not None and circuit not in known:
            raise ConfigError(
                item,
                "circuit",
                circuit,
                f"must name a circuit of hub '{hub_name}': "
                + (", ".join(known) or "none declared"),
            )
        load = replace(settings.engine_load(hub.site.voltage_v, circuit), unit=unit)
        try:
            validate(hub.site, hub.circuits, (load,))
        except ConfigError as err:
            raise ConfigError(item, err.key, err.value, err.allowed) from None
        loads.append(load)
    return loads


def app_loads(
    entries: Mapping[str, Mapping[str, Any]],
) -> list[tuple[str, Mapping[str, Any], ChargeUnit | None]]:
    """Every app entry as the loads it makes: an OCPP charger with a `connectors:` list makes
    one per connector, sharing its unit (`evse_connectors`)."""
    out: list[tuple[str, Mapping[str, Any], ChargeUnit | None]] = []
    for name, args in entries.items():
        if args.get("module") == "load_juggler.loads.ocpp":
            out.extend(load_entries(name, args))
        else:
            out.append((name, args, None))
    return out
