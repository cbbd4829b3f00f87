"""A hot water tank: its options, settings and apps.yaml parser.

The heater is exactly one of three: a switch with the switched load's own options (`switch`,
`power_w`, `power_sensor`, `idle_timeout_s`; kind `plug` to the engine), a variable-power entity
with PowerLoad's options (`heater_entity`, `unit`, `min_power_w`, `max_power_w`, `step_w`,
`enable_switch`; kind `evse` with its power range) or switched elements with StagedLoad's
(`stages`, `steps`, `min_on_s`, `min_off_s`; kind `evse` with its steps). The tank adds a
temperature, the thermostat's temperatures, the deadline for `min_c`, an optional legionella
run and the volume the thermal model starts from; the planner heats at the heater's max power.
Its `mode` has the tank's words (`boost` instead of `solar_priority`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ...engine.model import LoadKind, Mode
from ...engine.tank_thermostat import HeaterMode, Legionella, TankSettings
from ..load_config import LoadConfigError, LoadSettings
from ..reader import APPDAEMON_KEYS, ArgReader
from ..schema import Option, OptionType, Schema
from .common import COMMON_OPTIONS, read_common
from .power import POWER_OPTIONS, PowerSettings, read_power_range
from .staged import STAGED_OPTIONS, StagedSettings, read_stages
from .switch import SWITCH_OPTIONS, SwitchSettings

_N = OptionType.NUMBER
#: What a water heater's `mode` allows, in every message about it.
HEATER_MODE_ALLOWED = "must be one of " + ", ".join(m.value for m in HeaterMode)
#: The engine mode a heater mode starts in (the thermostat picks the live one every cycle).
ENGINE_MODE = {
    HeaterMode.CONTINUOUS: Mode.CONTINUOUS,
    HeaterMode.BOOST: Mode.CONTINUOUS,
    HeaterMode.SOLAR_ONLY: Mode.SOLAR_ONLY,
    HeaterMode.EXCESS: Mode.EXCESS,
    HeaterMode.OFF: Mode.OFF,
}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_heater_mode(value: Any) -> HeaterMode | None:
    """`Solar Only`, `solar_only`, `solar-only`, `Boost`; an unquoted `off` (false) is off."""
    if isinstance(value, HeaterMode):
        return value
    if value is False:
        return HeaterMode.OFF
    if not isinstance(value, str):
        return None
    try:
        return HeaterMode(re.sub(r"[\s\-]+", "_", value.strip().lower()))
    except ValueError:
        return None


def _read_heater_mode(r: ArgReader, option: Option, default: Any) -> HeaterMode:
    if not r.has(option.key):
        return default
    raw = r.raw(option.key)
    mode = parse_heater_mode(raw)
    if mode is None:
        r.error(option.key, raw, HEATER_MODE_ALLOWED)
        return default
    if mode is HeaterMode.BOOST:
        r.error(
            option.key,
            raw,
            "boost is a one-off: choose it on mode_select (the app returns to the previous "
            "option once the tank reaches target_c); configure continuous, solar_only, "
            "excess or off",
        )
        return default
    return mode


def clock_s(value: Any) -> float | None:
    """`"17:00"` -> seconds after midnight; None when it is no HH:MM time."""
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    return int(match.group(1)) * 3600.0 + int(match.group(2)) * 60.0


def _read_clock(r: ArgReader, option: Option, default: Any) -> float:
    if not r.has(option.key):
        return default
    raw = r.raw(option.key)
    seconds = clock_s(raw)
    if seconds is None:
        r.error(option.key, raw, 'must be a time of day "HH:MM" (quoted), e.g. "17:00"')
        return default
    return seconds


TANK_OPTIONS = Schema(
    "tank",
    (
        Option(
            "temperature_sensor",
            OptionType.ENTITY,
            required=True,
            domains=("sensor", "water_heater", "climate", "input_number"),
            doc="the tank's temperature: a sensor's state, or a water_heater / climate "
            "entity's current_temperature",
        ),
        Option("volume_l", _N, required=True, above=0, maximum=10000, doc="tank volume (l)"),
        Option("target_c", _N, 55.0, minimum=20, maximum=95, doc="heat up to this"),
        Option("hysteresis_c", _N, 5.0, above=0, maximum=30, doc="heat again below target - it"),
        Option("max_c", _N, 75.0, minimum=30, maximum=100, doc="safety stop: never heat at/above"),
        Option("min_c", _N, minimum=5, maximum=95, doc="reach at least this by min_c_by"),
        Option(
            "min_c_by",
            OptionType.CUSTOM,
            17 * 3600.0,
            parse=_read_clock,
            default_doc='`"17:00"`',
            doc="local time of day for min_c",
        ),
        Option("legionella.temp_c", _N, 60.0, minimum=50, maximum=95, doc="legionella run"),
        Option("legionella.every_days", _N, 7.0, above=0, maximum=60, doc="legionella period"),
        Option(
            "temp_stale_s",
            _N,
            1800.0,
            minimum=60,
            doc="a temperature not updated for this long is stale: not heating",
        ),
    ),
)
_HEATER_MODE = Option(
    "mode",
    OptionType.CUSTOM,
    HeaterMode.CONTINUOUS,
    parse=_read_heater_mode,
    doc="continuous, solar_only, excess, off (boost: on mode_select)",
)
#: The keys that choose the heater; exactly one of them is given.
HEATER_KEYS = ("switch", "heater_entity", "stages")
_ONE_HEATER = "one of switch, heater_entity or stages"
_SWITCH_ONLY = ("switch", "power_w", "idle_timeout_s")
_POWER_ONLY = ("unit", "min_power_w", "max_power_w", "step_w", "enable_switch")
_STAGED_ONLY = ("stages", "steps", "min_on_s", "min_off_s")


def _heater_option(option: Option, needed_with: str) -> Option:
    """A heater kind's option as the tank lists it: required only with its own heater."""
    if not option.required:
        return option
    return replace(option, required=False, default_doc=f"required with `{needed_with}`")


#: The heater's options: the switched load's, PowerLoad's (its `entity` named
#: `heater_entity`) and StagedLoad's; `power_sensor` is shared by all three.
HEATER_OPTIONS = Schema(
    "heater",
    (
        replace(SWITCH_OPTIONS["switch"], required=False, default_doc=_ONE_HEATER),
        _heater_option(SWITCH_OPTIONS["power_w"], "switch"),
        replace(
            SWITCH_OPTIONS["power_sensor"],
            doc="the heater's actual power (W, kW, MW); else its set or rated power counts",
        ),
        SWITCH_OPTIONS["idle_timeout_s"],
        replace(
            POWER_OPTIONS["entity"],
            name="heater_entity",
            required=False,
            default_doc=_ONE_HEATER,
            doc="a variable-power heater: the `number.*` / `input_number.*` that sets its power",
        ),
        *(_heater_option(POWER_OPTIONS[n], "heater_entity") for n in _POWER_ONLY),
        replace(STAGED_OPTIONS["stages"], required=False, default_doc=_ONE_HEATER),
        *(STAGED_OPTIONS[n] for n in _STAGED_ONLY[1:]),
    ),
)
#: Every option a water heater app reads: the common ones (its own `mode`), the heater's,
#: the tank's.
WATER_HEATER_SCHEMA = (
    Schema(
        "water_heater",
        tuple(
            _HEATER_MODE if o.name == "mode" else o
            for o in COMMON_OPTIONS.with_defaults("water_heater", phases=1)
        ),
    )
    + HEATER_OPTIONS
    + TANK_OPTIONS
)

HeaterSettings = SwitchSettings | PowerSettings | StagedSettings


@dataclass(frozen=True)
class WaterHeaterSettings:
    """A tank: its heater (a switch, a variable-power entity or staged elements), its
    temperature, its thermostat, its volume."""

    heater: HeaterSettings
    temperature_sensor: str
    volume_l: float
    tank: TankSettings
    mode: HeaterMode
    temp_stale_s: float = 1800.0


def parse_water_heater(
    name: str, args: Mapping[str, Any]
) -> tuple[LoadSettings, WaterHeaterSettings]:
    """Parse a water heater app's `self.args`; raises LoadConfigError listing every problem."""
    r = ArgReader(f"app '{name}'", args, ignore=APPDAEMON_KEYS)
    o = WATER_HEATER_SCHEMA
    given = [k for k in HEATER_KEYS if r.has(k)]
    kind = LoadKind.PLUG if given in ([], ["switch"]) else LoadKind.EVSE
    common = read_common(r, name, kind, o)
    heater_mode: HeaterMode = common.mode  # type: ignore[assignment]  # our own `mode` parser
    common = replace(common, mode=ENGINE_MODE[heater_mode])
    heater = _read_heater(r, o, given, common.phases)
    tank, volume_l, temp_entity, stale_s = read_tank(r)
    r.finish()
    if r.errors:
        raise LoadConfigError(r.errors)
    assert heater is not None and temp_entity is not None
    if isinstance(heater, PowerSettings):
        common = replace(common, power_range_w=(heater.min_power_w, heater.max_power_w))
        rated_w = heater.max_power_w
    elif isinstance(heater, StagedSettings):
        common = replace(common, step_line_w=heater.step_line_w)
        rated_w = max(heater.power_w(step) for step in heater.allowed)
    else:
        rated_w = float(common.power_w or 0.0)
    return common, WaterHeaterSettings(
        heater=heater,
        temperature_sensor=temp_entity,
        volume_l=volume_l,
        tank=replace(tank, rated_w=rated_w),
        mode=heater_mode,
        temp_stale_s=stale_s,
    )


def _read_heater(r: ArgReader, o: Schema, given: list[str], phases: int) -> HeaterSettings | None:
    """The one heater the keys describe; an error naming the keys when there is not exactly
    one, or when a key of another heater kind is given with it."""
    for key in HEATER_OPTIONS.names:
        r.has(key)  # known keys, whichever heater: an error lists them all as allowed
    if len(given) != 1:
        r.error(
            " / ".join(HEATER_KEYS),
            given or None,
            "exactly one is required (the heater): a `switch`, a variable-power "
            "`heater_entity` or staged elements `stages`",
        )
        return None
    chosen = given[0]
    own = {"switch": _SWITCH_ONLY, "heater_entity": _POWER_ONLY, "stages": _STAGED_ONLY}
    for other, keys in own.items():
        for key in keys if other != chosen else ():
            if key not in own[chosen] and r.has(key):
                r.error(key, r.raw(key), f"belongs to a `{other}` heater, not with `{chosen}`")
    sensor = o["power_sensor"].read(r)
    if chosen == "switch":
        switch = o["switch"].read(r)
        if not r.has("power_w"):  # its value is read (and checked) by read_common
            r.error("power_w", None, "required with `switch`: the element's rated power (W)")
        idle_s = o["idle_timeout_s"].read(r)
        if switch is None:
            return None
        return SwitchSettings(switch=switch, power_sensor=sensor, idle_timeout_s=idle_s)
    if chosen == "heater_entity":
        entity = o["heater_entity"].read(r)
        unit = o["unit"].read(r)
        if not r.has("max_power_w"):
            r.error("max_power_w", None, "required with `heater_entity`: its highest power (W)")
        min_w, max_w, step_w = read_power_range(r, o)
        enable = o["enable_switch"].read(r)
        if entity is None:
            return None
        return PowerSettings(
            entity=entity,
            unit=unit,
            min_power_w=min_w,
            max_power_w=max_w,
            step_w=step_w,
            enable_switch=enable,
            power_sensor=sensor,
        )
    stages, steps = read_stages(r, phases)
    min_on_s = o["min_on_s"].read(r)
    min_off_s = o["min_off_s"].read(r)
    switches = [s.switch for s in stages]
    if len(set(switches)) != len(switches):
        r.error("stages", switches, "each element needs its own switch")
    if not stages:
        return None
    return StagedSettings(
        stages=stages,
        steps=steps,
        phases=phases,
        min_on_s=min_on_s,
        min_off_s=min_off_s,
        power_sensor=sensor,
    )


def read_tank(
    r: ArgReader, *, sensor: bool = True
) -> tuple[TankSettings, float, str | None, float]:
    """The tank's keys and how they must relate: min_c <= target_c < max_c, the
    legionella temperature below max_c, and target_c - hysteresis_c >= 5. A scenario's tank
    (`sensor` False) has no `temperature_sensor`: the simulator knows the water."""
    o = TANK_OPTIONS
    temp_entity = o["temperature_sensor"].read(r) if sensor else None
    volume_l = o["volume_l"].read(r) or 200.0
    target = o["target_c"].read(r)
    hysteresis = o["hysteresis_c"].read(r)
    max_c = o["max_c"].read(r)
    min_c = o["min_c"].read(r)
    by_s = o["min_c_by"].read(r)
    stale_s = o["temp_stale_s"].read(r)
    legionella = None
    if r.has("legionella"):
        raw = r.raw("legionella")
        if raw is True:
            legionella = Legionella()
        elif raw not in (None, False):
            section = r.section("legionella")
            legionella = Legionella(
                temp_c=o["legionella.temp_c"].read(section),
                every_days=o["legionella.every_days"].read(section),
            )
            section.finish()
    if target >= max_c:
        r.error("target_c", target, f"must be < max_c ({max_c:g}): max_c is the safety stop")
    if min_c is not None and min_c > target:
        r.error("min_c", min_c, f"must be <= target_c ({target:g})")
    if target - hysteresis < 5:
        r.error(
            "hysteresis_c",
            hysteresis,
            f"must be <= target_c - 5 ({target - 5:g}): the tank calls for heat below "
            "target_c - hysteresis_c",
        )
    if legionella is not None and legionella.temp_c >= max_c:
        r.error(
            "legionella.temp_c",
            legionella.temp_c,
            f"must be < max_c ({max_c:g}): max_c is the safety stop",
        )
    tank = TankSettings(
        target_c=target,
        hysteresis_c=hysteresis,
        max_c=max_c,
        min_c=min_c,
        min_c_by_s=by_s,
        legionella=legionella,
    )
    return tank, volume_l, temp_entity, stale_s
