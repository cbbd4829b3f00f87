"""A scenario's SG Ready heat pumps (`type: sg_ready`) and climate boosts (`type: climate`).

Both are switched loads of `expected_power_w` to the controller, as in the apps. Their own
options (`relay`-free: the simulated device has no entities) are checked by the apps'
`Option`s (`config/kinds/sg_ready.py`, `config/kinds/climate_boost.py`); on top come the keys
of the simulated device:

- SG Ready: `state_power_w`, the heat pump's electric draw in each state
  (`{block, normal, recommend_on, force_on}`, W);
- climate: the house as one thermal mass (`indoor_c`, `outdoor_c`, `heat_loss_w_per_k`,
  `heat_capacity_wh_per_k`) and its heat pump or air conditioner (`hvac_mode`, `setpoint_c`,
  `heat_pump_w`, `cop`, `hysteresis_c`). A timeline change of `setpoint_c` is the user setting
  the thermostat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config.kinds.climate_boost import CLIMATE_BOOST_OPTIONS, CLIMATE_BOOST_SCHEMA
from ..config.kinds.common import COMMON_OPTIONS
from ..config.kinds.sg_ready import SG_READY_OPTIONS, SG_READY_SCHEMA
from ..config.load_config import parse_mode
from ..config.schema import Option, OptionType, Schema
from ..engine.climate_boost import BoostRules, Side
from ..engine.errors import ConfigError
from ..engine.model import SITE_PHASES, Load, LoadKind, Mode, Site
from ..engine.sg_ready import SgReadyRules, SgState
from .scenario_values import choice, known_keys, text

#: The scenario `type`s of this module.
SG_READY_TYPE = "sg_ready"
CLIMATE_TYPE = "climate"
HEAT_PUMP_TYPES = (SG_READY_TYPE, CLIMATE_TYPE)

_N = OptionType.NUMBER

#: The simulated house and its thermostat (`type: climate`); none of these exist in apps.yaml.
HOUSE_OPTIONS = Schema(
    "climate (plant)",
    (
        Option("hvac_mode", OptionType.CHOICE, "heat", choices=("heat", "cool"), doc="which way"),
        Option("setpoint_c", _N, 21.0, minimum=5, maximum=35, doc="the user's setpoint (C)"),
        Option("indoor_c", _N, minimum=-30, maximum=50, default_doc="setpoint_c", doc="start"),
        Option("outdoor_c", _N, 5.0, minimum=-40, maximum=50, doc="outdoor temperature (C)"),
        Option("heat_loss_w_per_k", _N, 150.0, above=0, doc="heat lost per K inside-outside"),
        Option("heat_capacity_wh_per_k", _N, 3000.0, above=0, doc="the house's thermal mass"),
        Option("heat_pump_w", _N, above=0, maximum=50000, default_doc="expected_power_w"),
        Option("cop", _N, 3.0, above=0, maximum=10, doc="heat moved per electric W"),
        Option("hysteresis_c", _N, 0.5, minimum=0, maximum=5, doc="thermostat band (C)"),
    ),
)

_COMMON_KEYS = ("id", "type", "mode", "priority", "phases", "phase_map", "circuit")
SG_READY_KEYS = (*_COMMON_KEYS, *SG_READY_OPTIONS.names, "state_power_w")
CLIMATE_KEYS = (*_COMMON_KEYS, *CLIMATE_BOOST_OPTIONS.names, *HOUSE_OPTIONS.names)
#: Keys of the apps that a simulated device has nothing to do with.
_APP_ONLY = frozenset({"relay_1", "relay_2", "climate", "power_sensor"})


@dataclass(frozen=True)
class SgReadySpec:
    """An SG Ready heat pump: its rules, and what it draws in each state (W)."""

    rules: SgReadyRules
    state_power_w: tuple[tuple[SgState, float], ...]

    def power_w(self, state: SgState) -> float:
        return dict(self.state_power_w)[state]


@dataclass(frozen=True)
class ClimateSpec:
    """A climate boost on a simulated house (one thermal mass) with an on/off heat pump."""

    rules: BoostRules
    side: Side
    setpoint_c: float
    indoor_c: float
    outdoor_c: float
    heat_loss_w_per_k: float
    heat_capacity_wh_per_k: float
    heat_pump_w: float
    cop: float
    hysteresis_c: float


HeatPumpSpec = SgReadySpec | ClimateSpec


def _common(item: str, data: Mapping[str, Any], site: Site, phases_default: int) -> Load:
    """The load the controller sees: a switched load of `expected_power_w`."""
    mode = parse_mode(data.get("mode", Mode.SOLAR_ONLY.value))
    if mode is None:
        raise ConfigError(item, "mode", data.get("mode"), "must be one of " + ", ".join(Mode))
    common = COMMON_OPTIONS
    priority = common["priority"].check(item, data.get("priority", common.default("priority")))
    phases = common["phases"].check(item, data.get("phases", phases_default))
    phase_map = common["phase_map"].check(item, data.get("phase_map"), SITE_PHASES[:phases])
    circuit = data.get("circuit")
    if circuit is not None:
        circuit = text(item, "circuit", circuit)
    power_w = SG_READY_OPTIONS["expected_power_w"].check(item, data.get("expected_power_w"))
    amps = power_w / (site.voltage_v * phases)
    return Load(
        id=text(item, "id", data.get("id")),
        kind=LoadKind.PLUG,
        mode=mode,
        priority=priority,
        phases=phases,
        phase_map=phase_map,
        min_a=amps,
        max_a=amps,
        power_w=power_w,
        circuit=circuit,
    )


def _own(item: str, data: Mapping[str, Any], schema: Schema, key: str) -> Any:
    option = schema[key]
    if key in data:
        return option.check(item, data[key])
    return option.default


def parse_heat_pump(item: str, data: Mapping[str, Any], site: Site) -> tuple[Load, HeatPumpSpec]:
    """A `type: sg_ready` or `type: climate` entry: the controller's load and the device."""
    kind = choice(item, "type", data.get("type"), HEAT_PUMP_TYPES)
    allowed = SG_READY_KEYS if kind == SG_READY_TYPE else CLIMATE_KEYS
    known_keys(item, data, tuple(k for k in allowed if k not in _APP_ONLY))
    if kind == SG_READY_TYPE:
        load = _common(item, data, site, SG_READY_SCHEMA.default("phases"))
        return load, _sg_ready(item, data, load)
    load = _common(item, data, site, CLIMATE_BOOST_SCHEMA.default("phases"))
    return load, _climate(item, data, load)


def _sg_ready(item: str, data: Mapping[str, Any], load: Load) -> SgReadySpec:
    o = SG_READY_OPTIONS
    rules = SgReadyRules(
        expected_power_w=float(load.power_w or 0.0),
        force_export_w=_own(item, data, o, "force_export_w"),
        min_state_s=_own(item, data, o, "min_state_s"),
        allow_block=_own(item, data, o, "allow_block"),
    )
    expected = rules.expected_power_w
    power = {SgState.BLOCK: 0.0, SgState.NORMAL: 0.0, SgState.RECOMMEND: expected}
    power[SgState.FORCE] = expected
    raw = data.get("state_power_w", {})
    if not isinstance(raw, Mapping):
        raise ConfigError(item, "state_power_w", raw, "must be a mapping of state: W")
    watts = Option("state_power_w", _N, minimum=0, maximum=50000)
    for state_name, value in raw.items():
        try:
            state = SgState(state_name)
        except ValueError:
            allowed = ", ".join(s.value for s in SgState)
            raise ConfigError(item, "state_power_w", state_name, f"states are {allowed}") from None
        power[state] = float(watts.check(item, value))
    return SgReadySpec(rules, tuple((s, power[s]) for s in SgState))


def _climate(item: str, data: Mapping[str, Any], load: Load) -> ClimateSpec:
    o, h = CLIMATE_BOOST_OPTIONS, HOUSE_OPTIONS
    rules = BoostRules(
        expected_power_w=float(load.power_w or 0.0),
        boost_c=_own(item, data, o, "boost_c"),
        comfort_min_c=_own(item, data, o, "comfort_min_c"),
        comfort_max_c=_own(item, data, o, "comfort_max_c"),
        max_boost_s=_own(item, data, o, "max_boost_s"),
    )
    if rules.comfort_min_c >= rules.comfort_max_c:
        raise ConfigError(
            item,
            "comfort_max_c",
            rules.comfort_max_c,
            f"must be above comfort_min_c ({rules.comfort_min_c:g})",
        )
    setpoint = _own(item, data, h, "setpoint_c")
    indoor = _own(item, data, h, "indoor_c")
    heat_pump_w = _own(item, data, h, "heat_pump_w")
    return ClimateSpec(
        rules=rules,
        side=Side(_own(item, data, h, "hvac_mode")),
        setpoint_c=setpoint,
        indoor_c=setpoint if indoor is None else indoor,
        outdoor_c=_own(item, data, h, "outdoor_c"),
        heat_loss_w_per_k=_own(item, data, h, "heat_loss_w_per_k"),
        heat_capacity_wh_per_k=_own(item, data, h, "heat_capacity_wh_per_k"),
        heat_pump_w=rules.expected_power_w if heat_pump_w is None else heat_pump_w,
        cop=_own(item, data, h, "cop"),
        hysteresis_c=_own(item, data, h, "hysteresis_c"),
    )


def heat_pump_as_dict(load: Load, spec: HeatPumpSpec) -> dict[str, Any]:
    """The entry as a scenario writes it (a timeline change is applied on top of this)."""
    data: dict[str, Any] = {
        "id": load.id,
        "mode": load.mode.value,
        "priority": load.priority,
        "phases": load.phases,
        "phase_map": list(load.phase_map),
        "circuit": load.circuit,
        "expected_power_w": load.power_w,
    }
    if isinstance(spec, SgReadySpec):
        r = spec.rules
        data.update(
            type=SG_READY_TYPE,
            force_export_w=r.force_export_w,
            min_state_s=r.min_state_s,
            allow_block=r.allow_block,
            state_power_w={s.value: w for s, w in spec.state_power_w},
        )
        return data
    b = spec.rules
    data.update(
        type=CLIMATE_TYPE,
        boost_c=b.boost_c,
        comfort_min_c=b.comfort_min_c,
        comfort_max_c=b.comfort_max_c,
        max_boost_s=b.max_boost_s,
        hvac_mode=spec.side.value,
        setpoint_c=spec.setpoint_c,
        indoor_c=spec.indoor_c,
        outdoor_c=spec.outdoor_c,
        heat_loss_w_per_k=spec.heat_loss_w_per_k,
        heat_capacity_wh_per_k=spec.heat_capacity_wh_per_k,
        heat_pump_w=spec.heat_pump_w,
        cop=spec.cop,
        hysteresis_c=spec.hysteresis_c,
    )
    return data
