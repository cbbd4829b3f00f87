"""A scenario's `loads:` and `circuits:` entries, read through the apps' option declarations.

Every key a load app also has (`mode`, `priority`, `phases`, `phase_map`, `min_a`, `max_a`,
`power_w`) is checked by the very `Option` its apps.yaml parser uses (`config/kinds/`), so both
files accept and refuse the same values with the same words. On top come the keys that say how
the simulated device behaves (`PLANT_LOAD_OPTIONS`: obeys, stuck_a, draw_limit_a, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config import ArgReader, parse_mode
from ..config.kinds import COMMON_OPTIONS, EVSE_OPTIONS, SWITCH_OPTIONS
from ..config.kinds.common import MODE_ALLOWED, is_auto_phase_map
from ..config.kinds.power import POWER_SCHEMA, PowerSettings, read_power_range
from ..config.kinds.staged import STAGED_OPTIONS, StagedSettings, read_stages
from ..config.load_config import watts_as_current
from ..config.schema import Option, OptionType, Schema
from ..config.site_config import CIRCUIT_OPTIONS
from ..engine.errors import ConfigError
from ..engine.model import LOAD_PHASES, SITE_PHASES, ChargeUnit, Circuit, Load, LoadKind, Mode, Site
from .heat_pumps import (
    CLIMATE_TYPE,
    HEAT_PUMP_TYPES,
    SG_READY_TYPE,
    HeatPumpSpec,
    SgReadySpec,
    heat_pump_as_dict,
    parse_heat_pump,
)
from .scenario_tank import TANK_KEYS, WATER_HEATER, parse_tank, tank_as_dict
from .scenario_values import choice, known_keys, non_negative, text
from .tank import TankSpec

_B = OptionType.BOOLEAN

#: How the simulated device behaves; none of these exist in apps.yaml.
PLANT_LOAD_OPTIONS = Schema(
    "load (plant)",
    (
        Option("draws", _B, True, doc="a car takes what it is offered"),
        Option("connected", _B, True, doc="a car is plugged in"),
        Option("meter_interval_s", OptionType.NUMBER, 0.0, minimum=0, doc="meter refresh"),
        Option("obeys", _B, True, doc="false: ignores every command, draws stuck_a"),
        Option("manual_on", _B, False, doc="plugs only: switched on by hand"),
        Option("draw_limit_a", OptionType.NUMBER, minimum=0, doc="cars only: takes at most"),
    ),
)

#: `type: power` (a variable-power load) and `type: staged` (switched elements), as in apps.yaml.
POWER_TYPE = "power"
STAGED_TYPE = "staged"
LOAD_TYPES = (*(k.value for k in LoadKind), POWER_TYPE, STAGED_TYPE)
POWER_KEYS = ("min_power_w", "max_power_w", "step_w")
STAGED_KEYS = ("stages", "steps", "min_on_s", "min_off_s")

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
    *POWER_KEYS,
    *STAGED_KEYS,
    "auto_remap",
    "wired_phase_map",
    "car_phases",
    "car_lines",
)
CIRCUIT_KEYS = ("id", "limit_a", "members", "parent", "max_power_w", "metered")
#: A charger with several plugs: its plugs are loads (`members`), the unit their shared limit.
UNIT_KEYS = ("id", "unit_max_a", "concurrent", "members")
#: A scenario's circuit takes any positive `limit_a` (apps.yaml: at most 1000 A).
_SCENARIO_LIMIT_A = replace(CIRCUIT_OPTIONS["limit_a"], maximum=None)
_SCENARIO_UNIT_MAX_A = replace(EVSE_OPTIONS["unit_max_a"], maximum=None)


@dataclass(frozen=True)
class LoadSpec:
    """A load as configured plus how the simulated device really behaves.

    `meter_interval_s`: its draw meter refreshes only this often (0: every cycle).
    `obeys` False: the device ignores every command and draws `stuck_a` per load phase (None:
    its maximum). `manual_on`: a plug switched on by hand draws its power whatever was decided.
    `draw_limit_a`: a car takes at most this (tapering), None: what it is offered.
    `wired_phase_map`: the site phase each line is really wired to (None: as configured).
    `car_lines`: the charger lines the car draws on (indices, 0 = L1; None: all of them).
    """

    load: Load
    draws: bool = True
    connected: bool = True
    meter_interval_s: float = 0.0
    obeys: bool = True
    stuck_a: tuple[float, ...] | None = None
    manual_on: bool = False
    draw_limit_a: float | None = None
    #: A `type: water_heater` load's tank (`sim/tank.py`); None for every other load.
    tank: TankSpec | None = None
    #: `type: sg_ready` / `climate`: the simulated heat pump (`sim/heat_pumps.py`).
    heat_pump: HeatPumpSpec | None = None
    #: `type: power`: how its command becomes watts (rounded down to its steps).
    power: PowerSettings | None = None
    #: `type: staged`: its elements and steps.
    staged: StagedSettings | None = None
    wired_phase_map: tuple[str, ...] | None = None
    car_lines: tuple[int, ...] | None = None

    @property
    def wired(self) -> Load:
        """The load as the electrician connected it (the plant's physics uses this)."""
        if self.wired_phase_map is None:
            return self.load
        return replace(self.load, phase_map=self.wired_phase_map)

    @property
    def type(self) -> str:
        """The scenario's `type` of this load."""
        if self.tank is not None:
            return WATER_HEATER
        if self.heat_pump is not None:
            return SG_READY_TYPE if isinstance(self.heat_pump, SgReadySpec) else CLIMATE_TYPE
        if self.power is not None:
            return POWER_TYPE
        if self.staged is not None:
            return STAGED_TYPE
        return self.load.kind.value


def _watts_kind(
    item: str, data: Mapping[str, Any], kind: str, phases: int
) -> tuple[PowerSettings | None, StagedSettings | None]:
    """The watts of a `power` or `staged` load, read by the apps' own readers; the keys of
    the other types are refused."""
    own = {POWER_TYPE: POWER_KEYS, STAGED_TYPE: STAGED_KEYS}.get(kind, ())
    for key in (*POWER_KEYS, *STAGED_KEYS):
        if key in data and key not in own:
            raise ConfigError(item, key, data[key], f"not a key of a load of type {kind}")
    for key in ("min_a", "max_a", "power_w"):
        if own and key in data:
            raise ConfigError(item, key, data[key], f"not a key of a load of type {kind}")
    r = ArgReader(item, {k: data[k] for k in own if k in data})
    power = staged = None
    if kind == POWER_TYPE:
        min_w, max_w, step_w = read_power_range(r, POWER_SCHEMA)
        power = PowerSettings("", "W", min_w, max_w, step_w)
    elif kind == STAGED_TYPE:
        stages, steps = read_stages(r, phases, switches=False)
        o = STAGED_OPTIONS
        staged = StagedSettings(
            stages, steps, phases, o["min_on_s"].read(r), o["min_off_s"].read(r)
        )
    if r.errors:
        raise r.errors[0]
    return power, staged


def _mode(item: str, value: Any) -> Mode:
    """As the apps read `mode` (`Solar Priority`, `solar-priority`); unquoted `off` too."""
    mode = parse_mode(value)
    if mode is None:
        raise ConfigError(item, "mode", value, MODE_ALLOWED)
    return mode


def parse_load(data: Mapping[str, Any], site: Site, index: int) -> LoadSpec:
    load_id = data.get("id")
    item = f"load '{load_id}'" if isinstance(load_id, str) else f"loads[{index}]"
    if data.get("type") in HEAT_PUMP_TYPES:
        load, heat_pump = parse_heat_pump(item, data, site)
        return LoadSpec(load=load, heat_pump=heat_pump)
    tank_keys = TANK_KEYS if data.get("type") == WATER_HEATER else ()
    known_keys(item, data, LOAD_KEYS + tank_keys)
    load_id = text(item, "id", load_id)
    kinds = (*LOAD_TYPES, *HEAT_PUMP_TYPES, WATER_HEATER)
    kind = choice(item, "type", data.get("type", "evse"), kinds)
    tank = parse_tank(item, data) if kind == WATER_HEATER else None
    if tank is not None:
        kind = _tank_heater_type(item, data)
    plug = kind == LoadKind.PLUG.value
    watts_kind = kind in (POWER_TYPE, STAGED_TYPE)
    common, evse, plant = COMMON_OPTIONS, EVSE_OPTIONS, PLANT_LOAD_OPTIONS
    mode = tank.engine_mode if tank else _mode(item, data.get("mode", Mode.CONTINUOUS.value))
    priority = common["priority"].check(item, data.get("priority", common.default("priority")))
    one_phase = plug or watts_kind  # as in apps.yaml: a switch's default
    phases = common["phases"].check(item, data.get("phases", 1 if one_phase else site.phases))
    phase_map = common["phase_map"].check(item, data.get("phase_map"), SITE_PHASES[:phases])
    auto_remap = common["auto_remap"].check(item, data.get("auto_remap", False))
    auto_remap = bool(auto_remap) or is_auto_phase_map(data.get("phase_map"))
    wired = data.get("wired_phase_map")
    if wired is not None:
        if is_auto_phase_map(wired):
            raise ConfigError(item, "wired_phase_map", wired, "must list the wired site phases")
        wired = replace(common["phase_map"], name="wired_phase_map").check(
            item, wired, SITE_PHASES[:phases]
        )
    power_w = data.get("power_w")
    if power_w is not None:
        power_w = SWITCH_OPTIONS["power_w"].check(item, power_w)
    if plug and power_w is None:
        raise ConfigError(item, "power_w", None, "a plug needs power_w > 0")
    min_a = evse["min_a"].check(item, data.get("min_a", evse.default("min_a")))
    max_a = evse["max_a"].check(item, data.get("max_a", evse.default("max_a")))
    if plug and power_w is not None:
        # A plug's current follows from its power; min and max only have to bracket it.
        plug_a = power_w / (site.voltage_v * phases)
        min_a = max_a = plug_a
    elif min_a > max_a:
        raise ConfigError(item, "min_a", data.get("min_a"), f"must be <= max_a ({max_a:g})")
    power, staged = _watts_kind(item, data, kind, phases)
    steps_a: tuple[float, ...] = ()
    if watts_kind:
        min_a, max_a, steps_a = watts_as_current(
            None if power is None else (power.min_power_w, power.max_power_w),
            () if staged is None else staged.step_line_w,
            site.voltage_v,
            phases,
        )
    circuit = data.get("circuit")
    if circuit is not None:
        circuit = text(item, "circuit", circuit)
    load = Load(
        id=load_id,
        kind=LoadKind.EVSE if watts_kind else LoadKind(kind),
        mode=mode,
        priority=priority,
        phases=phases,
        phase_map=phase_map,
        min_a=min_a,
        max_a=max_a,
        power_w=power_w,
        circuit=circuit,
        steps_a=steps_a,
        auto_remap=auto_remap,
    )
    manual_on = plant["manual_on"].check(item, data.get("manual_on", False))
    if manual_on and not plug:
        raise ConfigError(item, "manual_on", manual_on, "only a plug can be switched on by hand")
    draw_limit = data.get("draw_limit_a")
    if draw_limit is not None:
        if plug:
            raise ConfigError(
                item, "draw_limit_a", draw_limit, "only a car's draw can be limited; not a plug"
            )
        draw_limit = plant["draw_limit_a"].check(item, draw_limit)

    def flag(key: str) -> Any:
        return plant[key].check(item, data.get(key, plant.default(key)))

    return LoadSpec(
        load=load,
        draws=flag("draws"),
        connected=flag("connected"),
        meter_interval_s=flag("meter_interval_s"),
        obeys=flag("obeys"),
        stuck_a=_stuck(item, data.get("stuck_a"), phases),
        manual_on=manual_on,
        draw_limit_a=draw_limit,
        power=power,
        staged=staged,
        tank=_rated(tank.spec, _max_power_w(power_w, power, staged)) if tank else None,
        wired_phase_map=wired,
        car_lines=_car_lines(item, data, phases, plug),
    )


def _tank_heater_type(item: str, data: Mapping[str, Any]) -> str:
    """A tank's heater to the engine, as the WaterHeater app's: a plug of `power_w` (a
    switch), a variable-power load (`max_power_w`, `min_power_w`, `step_w`) or a staged load
    (`stages`); keys of two of them are refused."""
    group = {"power_w": "switch"} | dict.fromkeys(POWER_KEYS, POWER_TYPE) | {"stages": STAGED_TYPE}
    given = [k for k in group if k in data]
    kinds = {group[k] for k in given}
    if len(kinds) > 1:
        raise ConfigError(
            item,
            " / ".join(given),
            [data[k] for k in given],
            "a tank's heater is one of: power_w (a switch), max_power_w [min_power_w, step_w] "
            "(a variable-power element) or stages (staged elements)",
        )
    return kinds.pop() if kinds and kinds != {"switch"} else LoadKind.PLUG.value


def _max_power_w(
    power_w: float | None, power: PowerSettings | None, staged: StagedSettings | None
) -> float | None:
    """The heater's max power, which the tank's planner heats at."""
    if power is not None:
        return power.max_power_w
    if staged is not None:
        return max(staged.power_w(step) for step in staged.allowed)
    return power_w


def _rated(tank: TankSpec, power_w: float | None) -> TankSpec:
    """The thermostat plans with the heater's rated power."""
    return replace(tank, settings=replace(tank.settings, rated_w=float(power_w or 0.0)))


def _car_lines(
    item: str, data: Mapping[str, Any], phases: int, plug: bool
) -> tuple[int, ...] | None:
    """`car_phases` (how many lines the car uses) and `car_lines` (which: [L1], [L1, L2]);
    without `car_lines` the car uses the first `car_phases` lines."""
    count, lines = data.get("car_phases"), data.get("car_lines")
    if count is None and lines is None:
        return None
    if plug:
        key = "car_phases" if count is not None else "car_lines"
        raise ConfigError(item, key, data.get(key), "only a charger's car has phases; not a plug")
    if count is not None:
        count = Option("car_phases", OptionType.INTEGER, minimum=1, maximum=phases).check(
            item, count
        )
    if lines is None:
        return tuple(range(count))
    allowed = LOAD_PHASES[:phases]
    names = lines if isinstance(lines, list) else [lines]
    if (
        not names
        or any(not isinstance(n, str) or n.upper() not in allowed for n in names)
        or len({str(n).upper() for n in names}) != len(names)
        or (count is not None and len(names) != count)
    ):
        need = f"{count} " if count is not None else ""
        raise ConfigError(
            item, "car_lines", lines, f"must list {need}distinct lines of {', '.join(allowed)}"
        )
    return tuple(sorted(allowed.index(n.upper()) for n in names))


def _stuck(item: str, value: Any, phases: int) -> tuple[float, ...] | None:
    """`stuck_a`: one number for every load phase, or one per load phase (L1..)."""
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != phases:
            raise ConfigError(item, "stuck_a", value, f"needs {phases} values, one per load phase")
        return tuple(non_negative(item, "stuck_a", v) for v in value)
    return tuple(non_negative(item, "stuck_a", value) for _ in range(phases))


def load_as_dict(spec: LoadSpec) -> dict[str, Any]:
    load = spec.load
    if spec.heat_pump is not None:
        return heat_pump_as_dict(load, spec.heat_pump)
    data: dict[str, Any] = {
        "id": load.id,
        "type": spec.type,
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
        "auto_remap": load.auto_remap,
    }
    if spec.wired_phase_map is not None:
        data["wired_phase_map"] = list(spec.wired_phase_map)
    if spec.car_lines is not None:
        data["car_lines"] = [LOAD_PHASES[i] for i in spec.car_lines]
    if spec.tank is not None:
        data.update(tank_as_dict(spec.tank))
    if spec.tank is not None and spec.power is None and spec.staged is None:
        data["power_w"] = load.power_w
    elif spec.power is not None:
        p = spec.power
        data.update(min_power_w=p.min_power_w, max_power_w=p.max_power_w, step_w=p.step_w)
    elif spec.staged is not None:
        data.update(_staged_as_dict(spec.staged))
    elif load.kind is LoadKind.PLUG:
        data["power_w"] = load.power_w
    else:
        data.update(min_a=load.min_a, max_a=load.max_a, power_w=load.power_w)
    return data


def _staged_as_dict(staged: StagedSettings) -> dict[str, Any]:
    return {
        "stages": [{"power_w": st.power_w, "phase": f"L{st.line + 1}"} for st in staged.stages],
        "steps": [sorted(n + 1 for n in step) for step in staged.steps],
        "min_on_s": staged.min_on_s,
        "min_off_s": staged.min_off_s,
    }


def apply_load(spec: LoadSpec, change: Mapping[str, Any], site: Site) -> LoadSpec:
    if "id" in change and change["id"] != spec.load.id:
        raise ConfigError(
            f"load '{spec.load.id}'", "id", change["id"], "cannot change in a timeline"
        )
    base = load_as_dict(spec)
    if "car_phases" in change and "car_lines" not in change:
        base.pop("car_lines", None)  # a new count of lines: its first lines unless listed
    changed = parse_load({**base, **change}, site, 0)
    # The unit comes from `units:`, not from the load's own keys.
    return replace(changed, load=replace(changed.load, unit=spec.load.unit))


def parse_unit(data: Mapping[str, Any], index: int) -> tuple[ChargeUnit, list[str]]:
    """A charger unit of several plugs and the load ids of its plugs (`members`)."""
    unit_id = data.get("id")
    item = f"unit '{unit_id}'" if isinstance(unit_id, str) else f"units[{index}]"
    known_keys(item, data, UNIT_KEYS)
    unit_id = text(item, "id", unit_id)
    limit = data.get("unit_max_a")
    members = data.get("members")
    if (
        not isinstance(members, list)
        or len(members) < 2
        or not all(isinstance(m, str) for m in members)
    ):
        raise ConfigError(item, "members", members, "must be a list of two or more load ids")
    concurrent = EVSE_OPTIONS["concurrent"].check(item, data.get("concurrent", False))
    unit = ChargeUnit(
        id=unit_id,
        max_a=None if limit is None else _SCENARIO_UNIT_MAX_A.check(item, limit),
        concurrent=concurrent,
    )
    return unit, list(members)


def parse_circuit(data: Mapping[str, Any], index: int) -> tuple[Circuit, list[str], bool]:
    """A circuit, its `members`, and whether it has its own current meter (`metered`)."""
    circuit_id = data.get("id")
    item = f"circuit '{circuit_id}'" if isinstance(circuit_id, str) else f"circuits[{index}]"
    known_keys(item, data, CIRCUIT_KEYS)
    circuit_id = text(item, "id", circuit_id)
    limit = data.get("limit_a")
    power = data.get("max_power_w")
    parent = data.get("parent")
    members = data.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ConfigError(item, "members", members, "must be a list of load ids")
    circuit = Circuit(
        id=circuit_id,
        parent=None if parent is None else text(item, "parent", parent),
        limit_a=None if limit is None else _SCENARIO_LIMIT_A.check(item, limit),
        max_power_w=None if power is None else CIRCUIT_OPTIONS["max_power_w"].check(item, power),
    )
    metered = Option("metered", OptionType.BOOLEAN, False).check(item, data.get("metered", False))
    return circuit, list(members), metered
