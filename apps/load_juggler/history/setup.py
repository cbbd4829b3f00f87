"""The site a replay runs: apps.yaml parsed by the apps' own config code, and the entities the
history must hold for it.

The hub and every load app are read by `parse_hub`, `parse_ocpp` and `parse_switch`, and the
loads refused for the reasons the hub refuses them (`sim.example`), so a replay balances the
same loads, limits and timers as the apps would. `needed_entities` lists, with what each is
for, every entity without which the recorded day cannot be reconstructed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import HubConfig, LoadSettings, OcppSettings, SwitchSettings, parse_ocpp, parse_switch
from ..engine.model import Load
from ..sim.example import app_loads, read_apps
from .sources import HistoryError


@dataclass(frozen=True)
class ReplayLoad:
    """One load app: its engine view and where its recorded draw and status come from."""

    load: Load
    settings: LoadSettings
    ocpp: OcppSettings | None = None
    switch: SwitchSettings | None = None


@dataclass(frozen=True)
class ReplaySite:
    """The hub and its loads as apps.yaml declares them."""

    source: str
    hub: HubConfig
    loads: tuple[ReplayLoad, ...]


#: The load kinds a replay follows; a variable-power or staged load's draw stays in the
#: recorded grid as house load.
REPLAYED_MODULES = frozenset({"load_juggler.loads.ocpp", "load_juggler.loads.switch"})


def load_site(path: str | Path) -> ReplaySite:
    """Read apps.yaml (`sim.example.read_apps`); every problem is one `ScenarioFileError`."""
    apps = read_apps(path)
    engine_loads = {load.id: load for load in apps.loads}
    loads = tuple(
        _load(name, args, engine_loads)
        for name, args, _unit in app_loads(apps.entries)
        if str(args.get("module")) in REPLAYED_MODULES
    )
    return ReplaySite(source=str(path), hub=apps.hub, loads=loads)


def _load(name: str, args: Mapping[str, Any], engine_loads: Mapping[str, Load]) -> ReplayLoad:
    if args.get("module") == "load_juggler.loads.ocpp":
        settings, ocpp = parse_ocpp(name, args)
        return ReplayLoad(load=engine_loads[settings.name], settings=settings, ocpp=ocpp)
    settings, switch = parse_switch(name, args)
    return ReplayLoad(load=engine_loads[settings.name], settings=settings, switch=switch)


def needed_entities(site: ReplaySite) -> dict[str, str]:
    """Entity id -> what it is needed for; the history must hold every one of them."""
    sensors = site.hub.sensors
    needed: dict[str, str] = {}
    for entity in sensors.grid.entities:
        needed[entity] = "sensors." + ("grid_current" if sensors.grid.unit == "A" else "grid_power")
    for key in ("solar_power", "battery_soc", "battery_power"):
        entity = getattr(sensors, key)
        if entity is not None:
            needed[entity] = f"sensors.{key}"
    for item in site.loads:
        name = item.settings.name
        if item.ocpp is not None:
            for entity in item.ocpp.entities.current_import:
                needed[entity] = f"{name}: entities.current_import"
            needed[item.ocpp.entities.status_connector] = f"{name}: entities.status_connector"
        elif item.switch is not None:
            needed[item.switch.switch] = f"{name}: switch"
            if item.switch.power_sensor is not None:
                needed[item.switch.power_sensor] = f"{name}: power_sensor"
    return needed


def optional_entities(site: ReplaySite) -> dict[str, str]:
    """Entities used when the history has them: voltage, offered currents, mode selects."""
    optional: dict[str, str] = {}
    if site.hub.sensors.voltage is not None:
        optional[site.hub.sensors.voltage] = "sensors.voltage"
    for item in site.loads:
        name = item.settings.name
        if item.ocpp is not None:
            optional[item.ocpp.entities.current_offered] = f"{name}: entities.current_offered"
        if item.settings.mode_select is not None:
            optional[item.settings.mode_select] = f"{name}: mode_select"
    return optional


def check_present(needed: Mapping[str, str], present: set[str], source: str) -> None:
    """Stop at the first needed entity the history lacks, in apps.yaml's order."""
    for entity, why in needed.items():
        if entity not in present:
            raise HistoryError(f"{source}: no history of {entity} ({why})")
