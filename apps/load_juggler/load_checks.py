"""Checks the hub makes when a load app registers: wiring slips refused, odd ratings warned.

Each load app's own entry parses on its own; what only shows when the apps meet at the hub is
checked here: a `circuit` that contradicts the hub's `members` or names none of its circuits,
two apps driving one charger connector or one switch (they would fight every cycle), two names
that collapse into the same entity ids (`wärme` / `warme`), a charging profile that expires
between the hub's refreshes, a rated power written in kW, a minimum current that can never fit
under its breakers.

Pure: no AppDaemon import. Refusals are one line in the shape of `ConfigError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .config import HubConfig, LoadSettings, slugify
from .engine.errors import ConfigError
from .engine.model import LoadKind

#: A switched load's rated power below this many watts was almost certainly written in kW.
IMPLAUSIBLE_POWER_W = 50.0


@dataclass(frozen=True)
class LoadFacts:
    """What the hub compares between load apps: name, settings and the device it drives.

    `device` names the physical thing (`charger cp1 connector 1`, `switch switch.boiler`) and
    `device_key` / `device_value` the apps.yaml key and value that chose it; None when the app
    has no device the hub knows how to compare. `validity_s` / `refresh_s` are a charger's
    profile timing.
    """

    name: str
    settings: LoadSettings
    device: str | None = None
    device_key: str | None = None
    device_value: str | None = None
    validity_s: float | None = None
    refresh_s: float | None = None


def facts_of(load: Any, settings: LoadSettings) -> LoadFacts:
    """What the registration checks compare: the device an app drives and a charger's timing."""
    facts = LoadFacts(name=load.name, settings=settings)
    ocpp = getattr(load, "ocpp", None)
    if ocpp is not None:
        device = f"charger '{ocpp.charger}' connector {ocpp.conn_id}"
        timing = {"validity_s": ocpp.validity_s, "refresh_s": ocpp.refresh_s}
        return replace(
            facts, device=device, device_key="charger", device_value=ocpp.charger, **timing
        )
    switch = getattr(load, "switch_cfg", None)
    if switch is not None:
        device = f"switch {switch.switch}"
        return replace(facts, device=device, device_key="switch", device_value=switch.switch)
    staged = getattr(load, "staged_cfg", None)
    if staged is not None:  # its first element's switch: the one a copied app shares
        first = staged.stages[0].switch
        return replace(facts, device=f"switch {first}", device_key="stages", device_value=first)
    power = getattr(load, "power_cfg", None)
    if power is not None:
        device = f"entity {power.entity}"
        return replace(facts, device=device, device_key="entity", device_value=power.entity)
    return facts


def placement_refusal(
    app: str, hub: str, own: str | None, listed: str | None, known: Iterable[str]
) -> str | None:
    """Why a load app cannot hang where it says, or None.

    `own` is the app's `circuit` key, `listed` the circuit whose `members` name it and `known`
    the hub's circuit ids: the two must agree, and the one chosen must exist.
    """
    if own and listed and own != listed:
        return str(
            ConfigError(
                f"app '{app}'",
                "circuit",
                own,
                f"contradicts hub '{hub}', whose circuit '{listed}' lists it in members",
            )
        )
    circuit = own or listed
    ids = sorted(known)
    if circuit is not None and circuit not in ids:
        return str(
            ConfigError(
                f"app '{app}'",
                "circuit",
                circuit,
                f"must name a circuit of hub '{hub}': " + (", ".join(ids) or "none declared"),
            )
        )
    return None


def refusal(new: LoadFacts, others: Iterable[LoadFacts], period_s: float) -> str | None:
    """Why `new` must not be registered next to `others` (already registered), or None."""
    item = f"app '{new.name}'"
    slug = slugify(new.name)
    for other in others:
        if other.name == new.name:
            continue
        if slugify(other.name) == slug:
            return str(
                ConfigError(
                    item,
                    "name",
                    new.name,
                    f"its entities (sensor.load_juggler_{slug}_*) would be the same as those "
                    f"of app '{other.name}'; rename one of the two apps",
                )
            )
        if new.device is not None and new.device == other.device:
            return str(
                ConfigError(
                    item,
                    new.device_key or "device",
                    new.device_value,
                    f"{new.device} is already driven by app '{other.name}'; two apps must not "
                    "drive one device",
                )
            )
    if new.validity_s is not None and new.refresh_s is not None:
        need_s = max(2 * period_s, new.refresh_s + period_s)
        if new.validity_s < 2 * period_s or new.validity_s <= new.refresh_s + period_s:
            return str(
                ConfigError(
                    item,
                    "validity_s",
                    new.validity_s,
                    f"the hub refreshes the profile only every period_s ({period_s:g} s), so "
                    f"with refresh_s {new.refresh_s:g} s it would expire before the next write: "
                    f"needs >= 2 x period_s and > refresh_s + period_s (more than {need_s:g} s)",
                )
            )
    return None


def rating_warnings(facts: LoadFacts, config: HubConfig, circuit: str | None) -> list[str]:
    """Lines to log at WARNING: a power in kW written as W, a minimum that can never fit."""
    settings = facts.settings
    item = f"app '{facts.name}'"
    out: list[str] = []
    volts = config.site.voltage_v
    if settings.kind is LoadKind.PLUG:
        power = settings.power_w or 0.0
        if power < IMPLAUSIBLE_POWER_W:
            out.append(
                f"{item}: key 'power_w' = {power:g} W is implausibly small for a switched load "
                f"(kW given as W?): did you mean {power * 1000:g} W?"
            )
        min_a = power / (volts * settings.phases)
    else:  # a kind set in watts has its current range from the site voltage
        min_a = settings.engine_load(volts, None).min_a
    per_phase = Counter(settings.phase_map)
    phase, lines = max(sorted(per_phase.items()), key=lambda kv: kv[1])
    need_a = min_a * lines
    need_w = min_a * volts * len(settings.phase_map)
    what = f"{_amps(min_a)} A" if lines == 1 else f"{_amps(min_a)} A x {lines} lines"
    current_text = f"its minimum ({what} on site phase {phase} = {_amps(need_a)} A)"
    # (what is exceeded, its limit, what the load needs at its minimum), per limit on its path.
    checks: list[tuple[str, str]] = []
    if need_a > config.site.main_breaker_a + 1e-9:
        checks.append((current_text, f"the main breaker ({config.site.main_breaker_a:g} A)"))
    parents = {c.id: c for c in config.circuits}
    node, seen = circuit, set()
    while node is not None and node in parents and node not in seen:
        seen.add(node)
        c = parents[node]
        if c.limit_a is not None and need_a > c.limit_a + 1e-9:
            checks.append((current_text, f"circuit '{c.id}' ({c.limit_a:g} A)"))
        if c.max_power_w is not None and need_w > c.max_power_w + 1e-6:
            checks.append(
                (f"its minimum power ({need_w:.0f} W)", f"circuit '{c.id}' ({c.max_power_w:g} W)")
            )
        node = c.parent
    for needed, limit in checks[:1]:
        out.append(f"{item}: {needed} can never fit under {limit}: it will never be started")
    return out


def _amps(value: float) -> str:
    return f"{round(value, 1):g}"
