"""Units of what Home Assistant reports: one place that turns a state and its unit into W or A.

Every entity the hub and the load apps read goes through these functions, so a power sensor in
kW, a grid meter in W or a current clamp in mA is read the same way everywhere, and a unit that
cannot be converted (a kWh counter given as a power sensor, say) is refused with one line that
names the entity and the unit, instead of being read as a number of the wrong kind.

Pure: no AppDaemon import. Unit strings compare case-insensitively and without spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .engine.smoothing import finite_or_none

#: Multipliers to watts.
POWER_UNITS: dict[str, float] = {"w": 1.0, "kw": 1000.0, "mw": 1_000_000.0}
#: Multipliers to amps.
CURRENT_UNITS: dict[str, float] = {"a": 1.0, "ma": 0.001}
#: Multipliers to volts.
VOLTAGE_UNITS: dict[str, float] = {"v": 1.0, "kv": 1000.0}


class UnitError(ValueError):
    """An entity reports a unit that cannot be read as the quantity asked for."""

    def __init__(self, entity_id: str, unit: str, quantity: str, allowed: str) -> None:
        self.entity_id = entity_id
        self.unit = unit
        super().__init__(
            f"{entity_id} reports unit '{unit}', which is not {quantity} ({allowed}); "
            "its value is ignored until the unit is fixed"
        )


def unit_of(full_state: Mapping[str, Any] | None) -> str | None:
    """The `unit_of_measurement` attribute of a full HA state dict (None when absent)."""
    if not isinstance(full_state, Mapping):
        return None
    attrs = full_state.get("attributes")
    if not isinstance(attrs, Mapping):
        return None
    unit = attrs.get("unit_of_measurement")
    if unit is None:
        return None
    text = str(unit).strip()
    return text or None


def _key(unit: str) -> str:
    return unit.replace(" ", "").lower()


def power_w(
    value: Any, unit: str | None, *, entity_id: str = "entity", default_unit: str = "W"
) -> float | None:
    """A power reading in watts; None when the value is not a finite number.

    `unit` None means the entity declares no unit: `default_unit` is assumed (W for most
    sensors, kW for the HA OCPP integration's power sensors). Raises UnitError for a unit that
    is not a power.
    """
    number = finite_or_none(value)
    chosen = unit if unit is not None else default_unit
    factor = POWER_UNITS.get(_key(chosen))
    if factor is None:
        raise UnitError(entity_id, chosen, "a power", "W, kW or MW")
    return None if number is None else number * factor


def current_a(
    value: Any,
    unit: str | None,
    voltage_v: float,
    *,
    entity_id: str = "entity",
    default_unit: str = "A",
) -> float | None:
    """A per-phase current in amps; a power per phase (W, kW, MW) is divided by `voltage_v`.

    Raises UnitError for a unit that is neither a current nor a power.
    """
    number = finite_or_none(value)
    chosen = unit if unit is not None else default_unit
    key = _key(chosen)
    if key in CURRENT_UNITS:
        return None if number is None else number * CURRENT_UNITS[key]
    if key in POWER_UNITS:
        if number is None:
            return None
        return number * POWER_UNITS[key] / voltage_v
    raise UnitError(entity_id, chosen, "a current or a power", "A, mA, W, kW or MW")


def voltage_v(
    value: Any, unit: str | None, *, entity_id: str = "entity", default_unit: str = "V"
) -> float | None:
    """A voltage in volts (V or kV); raises UnitError for any other unit."""
    number = finite_or_none(value)
    chosen = unit if unit is not None else default_unit
    factor = VOLTAGE_UNITS.get(_key(chosen))
    if factor is None:
        raise UnitError(entity_id, chosen, "a voltage", "V or kV")
    return None if number is None else number * factor


def percent(value: Any, unit: str | None, *, entity_id: str = "entity") -> float | None:
    """A state of charge in percent (`%` or no unit); raises UnitError for any other unit."""
    if unit is not None and _key(unit) != "%":
        raise UnitError(entity_id, unit, "a state of charge", "% or no unit")
    return finite_or_none(value)


#: Temperature units as HA spells them (and without the degree sign), to degrees Celsius.
TEMPERATURE_UNITS: tuple[str, ...] = ("°c", "c", "°f", "f", "k")


def temperature_c(value: Any, unit: str | None, *, entity_id: str = "entity") -> float | None:
    """A temperature in degrees Celsius (°C, °F or K; no unit reads as °C); raises UnitError
    for any other unit."""
    chosen = unit if unit is not None else "°C"
    key = _key(chosen)
    if key not in TEMPERATURE_UNITS:
        raise UnitError(entity_id, chosen, "a temperature", "°C, °F or K")
    number = finite_or_none(value)
    if number is None:
        return None
    if key in ("°f", "f"):
        return (number - 32.0) * 5.0 / 9.0
    if key == "k":
        return number - 273.15
    return number
