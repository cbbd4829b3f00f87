"""A scenario's `type: water_heater` load: the tank's keys, read as the WaterHeater app reads them.

The thermostat's keys (`target_c`, `hysteresis_c`, `max_c`, `min_c`, `min_c_by`,
`legionella`, `volume_l`) go through the app's own reader (`config/kinds/water_heater.py`), so
a scenario refuses what apps.yaml refuses; the water's keys exist only here: `start_c` [45]
(the temperature at t = 0), `inlet_c` [12] (cold water), `loss_c_per_h` [0.25] (the true
standing loss, which the app's model has to learn) and `draw_offs: [{t, litres}]`. The tank's
`mode` takes the heater's words, `boost` included (it returns to the mode before it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import ArgReader
from ..config.kinds.water_heater import (
    ENGINE_MODE,
    HEATER_MODE_ALLOWED,
    TANK_OPTIONS,
    parse_heater_mode,
    read_tank,
)
from ..engine.errors import ConfigError
from ..engine.model import Mode
from ..engine.tank_thermostat import HeaterMode, hhmm
from .scenario_values import first_problem, known_keys, mapping, non_negative, number
from .tank import DrawOff, TankSpec

WATER_HEATER = "water_heater"
#: Keys of the app's reader (the thermostat) and of the simulated water only.
APP_TANK_KEYS = ("target_c", "hysteresis_c", "max_c", "min_c", "min_c_by", "legionella", "volume_l")
WATER_KEYS = ("start_c", "inlet_c", "loss_c_per_h", "draw_offs")
TANK_KEYS = APP_TANK_KEYS + WATER_KEYS
DRAW_OFF_KEYS = ("t", "litres")


@dataclass(frozen=True)
class ParsedTank:
    spec: TankSpec
    engine_mode: Mode


def parse_tank(item: str, data: Mapping[str, Any]) -> ParsedTank:
    """The tank of load `item`; raises the first problem as a `ConfigError`."""
    raw_mode = data.get("mode", HeaterMode.CONTINUOUS.value)
    mode = parse_heater_mode(raw_mode)
    if mode is None:
        raise ConfigError(item, "mode", raw_mode, HEATER_MODE_ALLOWED)
    app_keys = {k: data[k] for k in APP_TANK_KEYS if k in data}
    if "volume_l" not in app_keys:
        app_keys["volume_l"] = 200.0
    reader = ArgReader(item, app_keys)
    settings, volume_l, _, _ = read_tank(reader, sensor=False)
    first_problem(reader)
    start_c = number(item, "start_c", data.get("start_c", 45.0), minimum=0.0, maximum=100.0)
    inlet_c = number(item, "inlet_c", data.get("inlet_c", 12.0), minimum=0.0, maximum=40.0)
    loss = non_negative(item, "loss_c_per_h", data.get("loss_c_per_h", 0.25))
    return ParsedTank(
        spec=TankSpec(
            settings=settings,
            mode=mode,
            volume_l=volume_l,
            start_c=start_c,
            inlet_c=inlet_c,
            loss_c_per_h=loss,
            draw_offs=_draw_offs(item, data.get("draw_offs", []) or []),
        ),
        engine_mode=ENGINE_MODE[mode],
    )


def _draw_offs(item: str, value: Any) -> tuple[DrawOff, ...]:
    if not isinstance(value, list):
        raise ConfigError(item, "draw_offs", value, "must be a list of {t, litres}")
    draws = []
    for i, raw in enumerate(value):
        entry = mapping(item, f"draw_offs[{i}]", raw)
        where = f"{item} draw_offs[{i}]"
        known_keys(where, entry, DRAW_OFF_KEYS)
        if "t" not in entry or "litres" not in entry:
            raise ConfigError(where, "t" if "t" not in entry else "litres", None, "required")
        draws.append(
            DrawOff(
                t_s=non_negative(where, "t", entry["t"]),
                litres=number(where, "litres", entry["litres"], above=0.0),
            )
        )
    return tuple(sorted(draws, key=lambda d: d.t_s))


def tank_as_dict(spec: TankSpec) -> dict[str, Any]:
    """The tank's keys as a scenario writes them (a timeline change is parsed on top)."""
    s = spec.settings
    data: dict[str, Any] = {
        "type": WATER_HEATER,
        "mode": spec.mode.value,
        "target_c": s.target_c,
        "hysteresis_c": s.hysteresis_c,
        "max_c": s.max_c,
        "min_c_by": hhmm(s.min_c_by_s),
        "volume_l": spec.volume_l,
        "start_c": spec.start_c,
        "inlet_c": spec.inlet_c,
        "loss_c_per_h": spec.loss_c_per_h,
        "draw_offs": [{"t": d.t_s, "litres": d.litres} for d in spec.draw_offs],
    }
    if s.min_c is not None:
        data["min_c"] = s.min_c
    if s.legionella is not None:
        data["legionella"] = {
            "temp_c": s.legionella.temp_c,
            "every_days": s.legionella.every_days,
        }
    return data


__all__ = ["TANK_KEYS", "TANK_OPTIONS", "WATER_HEATER", "parse_tank", "tank_as_dict"]
