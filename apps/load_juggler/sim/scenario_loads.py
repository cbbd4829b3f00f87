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

from ..config import parse_mode
from ..config.kinds import COMMON_OPTIONS, EVSE_OPTIONS, SWITCH_OPTIONS
from ..config.kinds.common import MODE_ALLOWED, is_auto_phase_map
from ..config.schema import Option, OptionType, Schema
from ..config.site_config import CIRCUIT_OPTIONS
from ..engine.errors import ConfigError
from ..engine.model import LOAD_PHASES, SITE_PHASES, Circuit, Load, LoadKind, Mode, Site
from .scenario_values import choice, known_keys, non_negative, text

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
    "auto_remap",
    "wired_phase_map",
    "car_phases",
    "car_lines",
)
CIRCUIT_KEYS = ("id", "limit_a", "members", "parent", "max_power_w", "metered")
#: A scenario's circuit takes any positive `limit_a` (apps.yaml: at most 1000 A).
_SCENARIO_LIMIT_A = replace(CIRCUIT_OPTIONS["limit_a"], maximum=None)


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
    wired_phase_map: tuple[str, ...] | None = None
    car_lines: tuple[int, ...] | None = None

    @property
    def wired(self) -> Load:
        """The load as the electrician connected it (the plant's physics uses this)."""
        if self.wired_phase_map is None:
            return self.load
        return replace(self.load, phase_map=self.wired_phase_map)


def _mode(item: str, value: Any) -> Mode:
    """As the apps read `mode` (`Solar Priority`, `solar-priority`); unquoted `off` too."""
    mode = parse_mode(value)
    if mode is None:
        raise ConfigError(item, "mode", value, MODE_ALLOWED)
    return mode


def parse_load(data: Mapping[str, Any], site: Site, index: int) -> LoadSpec:
    load_id = data.get("id")
    item = f"load '{load_id}'" if isinstance(load_id, str) else f"loads[{index}]"
    known_keys(item, data, LOAD_KEYS)
    load_id = text(item, "id", load_id)
    kind = choice(item, "type", data.get("type", "evse"), tuple(k.value for k in LoadKind))
    plug = kind == LoadKind.PLUG.value
    common, evse, plant = COMMON_OPTIONS, EVSE_OPTIONS, PLANT_LOAD_OPTIONS
    mode = _mode(item, data.get("mode", Mode.CONTINUOUS.value))
    priority = common["priority"].check(item, data.get("priority", common.default("priority")))
    phases = common["phases"].check(item, data.get("phases", 1 if plug else site.phases))
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
    circuit = data.get("circuit")
    if circuit is not None:
        circuit = text(item, "circuit", circuit)
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
        wired_phase_map=wired,
        car_lines=_car_lines(item, data, phases, plug),
    )


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
        "auto_remap": load.auto_remap,
    }
    if spec.wired_phase_map is not None:
        data["wired_phase_map"] = list(spec.wired_phase_map)
    if spec.car_lines is not None:
        data["car_lines"] = [LOAD_PHASES[i] for i in spec.car_lines]
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
    base = load_as_dict(spec)
    if "car_phases" in change and "car_lines" not in change:
        base.pop("car_lines", None)  # a new count of lines: its first lines unless listed
    return parse_load({**base, **change}, site, 0)


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
