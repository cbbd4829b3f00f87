"""Load apps' apps.yaml entries -> checked settings (common part, OCPP charger, switched load).

Pure: no AppDaemon import. Entity ids of an OCPP charger are derived the way the HA OCPP
integration names them (`sensor.<cpid>_current_import`, multi-connector
`sensor.<cpid>_connector_<n>_current_import`), each overridable under `entities:`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..engine.errors import ConfigError
from ..engine.model import SITE_PHASES, Load, LoadKind, Mode
from .reader import APPDAEMON_KEYS, ArgReader

#: The options a mode `input_select` must offer, in the order we set them.
MODE_WORDS: dict[Mode, str] = {
    Mode.CONTINUOUS: "Continuous",
    Mode.SOLAR_PRIORITY: "Solar Priority",
    Mode.SOLAR_ONLY: "Solar Only",
    Mode.EXCESS: "Excess",
    Mode.OFF: "Off",
}
MODE_OPTIONS: tuple[str, ...] = tuple(MODE_WORDS.values())


def parse_mode(value: Any) -> Mode | None:
    """'Solar Priority', 'solar_priority', 'solar-priority' -> Mode.SOLAR_PRIORITY; else None.

    YAML reads an unquoted `mode: off` as false: that is `off`.
    """
    if isinstance(value, Mode):
        return value
    if value is False:
        return Mode.OFF
    if not isinstance(value, str):
        return None
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    try:
        return Mode(key)
    except ValueError:
        return None


def slugify(text: str) -> str:
    """Entity-id part from a name, like HA's slugify: accents folded (`wärme` -> `warme`)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", folded.lower())).strip("_")


class LoadConfigError(Exception):
    """A load app's args have problems; `problems` holds one ConfigError per problem."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class LoadSettings:
    """What every load app declares; `min_a`/`max_a` are per phase."""

    name: str
    hub: str
    kind: LoadKind
    priority: int
    mode: Mode
    mode_select: str | None
    fix_mode_options: bool
    phases: int
    phase_map: tuple[str, ...]
    circuit: str | None
    min_a: float
    max_a: float
    power_w: float | None = None

    def engine_load(self, voltage_v: float, circuit: str | None, mode: Mode | None = None) -> Load:
        """The static engine view of this load; a plug's current is rated power / (V x phases).

        Shared by the load apps and the simulator's `--example`, so the demo balances exactly
        what the apps would.
        """
        if self.kind is LoadKind.PLUG:
            amps = (self.power_w or 0.0) / (voltage_v * self.phases)
            min_a = max_a = round(amps, 3)
        else:
            min_a, max_a = self.min_a, self.max_a
        return Load(
            id=self.name,
            kind=self.kind,
            mode=mode or self.mode,
            priority=self.priority,
            phases=self.phases,
            phase_map=self.phase_map,
            min_a=min_a,
            max_a=max_a,
            power_w=self.power_w,
            circuit=circuit,
        )


@dataclass(frozen=True)
class OcppEntities:
    """The charger's HA entities; `current_import`: one entity (L1/L2/L3 attrs) or one per phase."""

    current_import: tuple[str, ...]
    current_offered: str
    power_active_import: str
    power_offered: str
    status_connector: str
    voltage: str
    transaction_id: str


@dataclass(frozen=True)
class OcppSettings:
    """How to drive one connector of an HA OCPP charger."""

    charger: str
    devid: str
    conn_id: int
    connectors: int
    entities: OcppEntities
    rate_unit: str  # "auto" | "A" | "W"
    profile_validity: str  # "relative" | "absolute"
    validity_s: float
    refresh_s: float
    stack_level: int
    profile_id: int
    idle_power_w: float
    idle_timeout_s: float
    #: The persistent base profile's limit (A per phase) that rules when ours has expired.
    failsafe_a: float
    failsafe_profile_id: int

    @property
    def failsafe_stack_level(self) -> int:
        """Just below our expiring profile: it rules once ours lapses, never while ours runs."""
        return self.stack_level - 1


@dataclass(frozen=True)
class SwitchSettings:
    """A switch or input_boolean with a rated power and an optional power sensor."""

    switch: str
    power_sensor: str | None
    # On but drawing < `SATISFIED_FRACTION` of its rating for this long (needs `power_sensor`):
    # its reservation is released while it stays switched on (a boiler at temperature).
    idle_timeout_s: float = 300.0


OCPP_DEFAULTS: dict[str, Any] = {
    "mode": Mode.CONTINUOUS,
    "priority": 5,
    "min_a": 6.0,
    "max_a": 16.0,
    "phases": 3,
    "conn_id": 1,
    "connectors": 1,
    "rate_unit": "auto",
    "profile_validity": "absolute",
    "validity_s": 120.0,
    "stack_level": 5,
    "idle_power_w": 100.0,
    "idle_timeout_s": 60.0,
}
SWITCH_DEFAULTS: dict[str, Any] = {
    "mode": Mode.EXCESS,
    "priority": 5,
    "phases": 1,
    "idle_timeout_s": 300.0,
}


def _common(
    r: ArgReader, name: str, kind: LoadKind, default_mode: Mode, default_phases: int
) -> LoadSettings:
    hub = r.string("hub", None, required=True) or ""
    priority = r.integer("priority", 5, minimum=1, maximum=10) or 5
    mode: Mode = default_mode
    if r.has("mode"):
        parsed = parse_mode(r.raw("mode"))
        if parsed is None:
            r.error(
                "mode",
                r.raw("mode"),
                "must be one of " + ", ".join(m.value for m in Mode),
            )
        else:
            mode = parsed
    mode_select = r.entity("mode_select", ("input_select",))
    fix = r.boolean("fix_mode_options", False)
    phases = r.integer("phases", default_phases, choices=(1, 2, 3)) or default_phases
    phase_map = _phase_map(r, phases)
    circuit = r.string("circuit", None)
    min_a, max_a = 6.0, 16.0
    power_w: float | None = None
    if kind is LoadKind.EVSE:
        min_a = r.number("min_a", 6.0, above=0, maximum=80) or 6.0
        max_a = r.number("max_a", 16.0, above=0, maximum=80) or 16.0
        if min_a > max_a:
            r.error("min_a", min_a, f"must be <= max_a ({max_a:g})")
    else:
        power_w = r.number("power_w", None, above=0, maximum=50000, required=True)
    return LoadSettings(
        name=name,
        hub=hub,
        kind=kind,
        priority=priority,
        mode=mode,
        mode_select=mode_select,
        fix_mode_options=fix,
        phases=phases,
        phase_map=phase_map,
        circuit=circuit,
        min_a=min_a,
        max_a=max_a,
        power_w=power_w,
    )


def _phase_map(r: ArgReader, phases: int) -> tuple[str, ...]:
    default = SITE_PHASES[:phases]
    names = r.names("phase_map")
    if names is None:
        return default
    upper = tuple(n.upper() for n in names)
    # A phase may repeat: a 3-phase charger on a 1-phase supply is [A, A, A].
    if len(upper) != phases or any(p not in SITE_PHASES for p in upper):
        r.error(
            "phase_map",
            list(names),
            f"must list {phases} site phase(s) of A, B, C (the site phase of L1, L2, L3)",
        )
        return default
    return upper


def parse_ocpp(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, OcppSettings]:
    """Parse an OCPP charger app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    common = _common(r, name, LoadKind.EVSE, Mode.CONTINUOUS, 3)
    d = OCPP_DEFAULTS
    charger = r.string("charger", None, required=True) or "charger"
    devid = r.string("devid", charger) or charger
    conn_id = r.integer("conn_id", d["conn_id"], minimum=1, maximum=16) or 1
    connectors = r.integer("connectors", d["connectors"], minimum=1, maximum=16) or 1
    if conn_id > connectors and r.has("connectors"):
        r.error("conn_id", conn_id, f"must be <= connectors ({connectors})")
    rate_unit = r.choice("rate_unit", d["rate_unit"], ["auto", "A", "W"])
    validity = r.choice("profile_validity", d["profile_validity"], ["relative", "absolute"])
    validity_s = r.number("validity_s", d["validity_s"], minimum=30, maximum=3600) or 120.0
    refresh_s = r.number("refresh_s", validity_s * 2 / 3, above=0) or validity_s * 2 / 3
    if refresh_s >= validity_s:
        r.error("refresh_s", refresh_s, f"must be < validity_s ({validity_s:g})")
        refresh_s = validity_s * 2 / 3
    # Stack level 0 is left for the fail-safe base profile, which sits one level below ours.
    stack = r.integer("stack_level", d["stack_level"], minimum=1, maximum=99)
    profile_id = r.integer("profile_id", 900 + conn_id, minimum=1) or 900 + conn_id
    failsafe_id = r.integer("failsafe_profile_id", 950 + conn_id, minimum=1) or 950 + conn_id
    if failsafe_id == profile_id:
        r.error(
            "failsafe_profile_id",
            failsafe_id,
            f"must differ from profile_id ({profile_id}): one profile would replace the other",
        )
    failsafe_a = _failsafe_a(r, common)
    idle_w = r.number("idle_power_w", d["idle_power_w"], minimum=0)
    idle_s = r.number("idle_timeout_s", d["idle_timeout_s"], minimum=0)
    entities = _ocpp_entities(r.section("entities"), charger, conn_id, connectors, common.phases)
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    settings = OcppSettings(
        charger=charger,
        devid=devid,
        conn_id=conn_id,
        connectors=connectors,
        entities=entities,
        rate_unit=rate_unit,
        profile_validity=validity,
        validity_s=validity_s,
        refresh_s=refresh_s,
        stack_level=stack if stack is not None else 5,
        profile_id=profile_id,
        idle_power_w=idle_w if idle_w is not None else 100.0,
        idle_timeout_s=idle_s if idle_s is not None else 60.0,
        failsafe_a=failsafe_a,
        failsafe_profile_id=failsafe_id,
    )
    return common, settings


def _failsafe_a(r: ArgReader, common: LoadSettings) -> float:
    """`failsafe_a`: 0 .. max_a, default the load's min_a."""
    if not r.has("failsafe_a"):
        return common.min_a
    value = r.number("failsafe_a", None)
    if value is None:  # not a number: already reported
        return common.min_a
    if not 0.0 <= value <= common.max_a:
        r.error(
            "failsafe_a",
            r.raw("failsafe_a"),
            f"must be a number from 0 to max_a ({common.max_a:g}): the current per phase the "
            "charger keeps when Load Juggler stops refreshing its profile",
        )
        return common.min_a
    return value


def _ocpp_entities(
    e: ArgReader, charger: str, conn_id: int, connectors: int, phases: int
) -> OcppEntities:
    cpid = slugify(charger)
    scope = f"{cpid}_connector_{conn_id}_" if connectors > 1 else f"{cpid}_"

    def one(key: str) -> str:
        return e.entity(key) or f"sensor.{scope}{key}"

    current = e.entities("current_import", lengths=(1, phases)) or (
        f"sensor.{scope}current_import",
    )
    entities = OcppEntities(
        current_import=current,
        current_offered=one("current_offered"),
        power_active_import=one("power_active_import"),
        power_offered=one("power_offered"),
        status_connector=one("status_connector"),
        voltage=one("voltage"),
        transaction_id=one("transaction_id"),
    )
    e.finish()
    return entities


def parse_switch(name: str, args: Mapping[str, Any]) -> tuple[LoadSettings, SwitchSettings]:
    """Parse a switched load app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    common = _common(r, name, LoadKind.PLUG, Mode.EXCESS, 1)
    switch = r.entity("switch", ("switch", "input_boolean"), required=True)
    sensor = r.entity("power_sensor", ("sensor",))
    idle_s = r.number("idle_timeout_s", SWITCH_DEFAULTS["idle_timeout_s"], minimum=0)
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert switch is not None
    return common, SwitchSettings(
        switch=switch,
        power_sensor=sensor,
        idle_timeout_s=idle_s if idle_s is not None else SWITCH_DEFAULTS["idle_timeout_s"],
    )
