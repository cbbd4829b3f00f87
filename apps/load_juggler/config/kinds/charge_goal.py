"""A charger's deadline and tariff options (`ready_by`, `target_energy_kwh` or `soc_sensor`
+ `battery_kwh` + `target_soc`, `charge_efficiency`, `price_sensor`, `price_attribute`,
`max_price`), read the same way in apps.yaml and (the keys a scenario shares) scenario files.

A deadline needs `ready_by` and what is needed by then: either `target_energy_kwh` (the energy
to deliver in the session) or the car's SoC sensor with its battery size and target. A price
sensor makes the deadline charge in the cheapest slots; `max_price` (which needs it) lets
`solar_priority` and `excess` run from the grid while the price is at or below it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from ...clock_times import time_of_day
from ..reader import ArgReader
from ..schema import Option, OptionType, Schema

_N = OptionType.NUMBER
READY_BY_ALLOWED = 'must be a time of day such as "07:00" or an input_datetime entity'
ATTRIBUTE_ALLOWED = "must be an attribute name or a list of them (e.g. [raw_today, raw_tomorrow])"


def _read_ready_by(r: ArgReader, option: Option, default: Any) -> time | str | None:
    """ "07:00" (the next 07:00, local time) or `input_datetime.*` (its date and time, or its
    time when it has no date)."""
    if not r.has(option.key):
        return default
    raw = r.raw(option.key)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 24 * 60:
        # YAML 1.1 reads an unquoted 07:00 as sexagesimal 420 (minutes): 7 h 0 min.
        return time(raw // 60, raw % 60)
    if isinstance(raw, str):
        at = time_of_day(raw)
        if at is not None:
            return at
        value = raw.strip()
        if value.startswith("input_datetime.") and len(value) > len("input_datetime."):
            return value
    r.error(option.key, raw, READY_BY_ALLOWED)
    return default


def _read_names(r: ArgReader, option: Option, default: Any) -> tuple[str, ...] | None:
    if not r.has(option.key):
        return default
    raw = r.raw(option.key)
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names:
        r.error(option.key, raw, ATTRIBUTE_ALLOWED)
        return default
    if not all(isinstance(n, str) and n.strip() for n in names):
        r.error(option.key, raw, ATTRIBUTE_ALLOWED)
        return default
    return tuple(n.strip() for n in names)


GOAL_OPTIONS = Schema(
    "charge goal",
    (
        Option(
            "ready_by",
            OptionType.CUSTOM,
            parse=_read_ready_by,
            doc='deadline: "07:00" or an input_datetime',
        ),
        Option("target_energy_kwh", _N, above=0, maximum=500, doc="energy needed by ready_by"),
        Option("soc_sensor", OptionType.ENTITY, doc="the car's state of charge (%)"),
        Option("battery_kwh", _N, above=0, maximum=500, doc="the car's usable battery"),
        Option("target_soc", _N, above=0, maximum=100, doc="SoC wanted by ready_by (%)"),
        Option("charge_efficiency", _N, 0.9, above=0, maximum=1, doc="grid to battery"),
        Option("price_sensor", OptionType.ENTITY, doc="a price integration's sensor"),
        Option(
            "price_attribute",
            OptionType.CUSTOM,
            parse=_read_names,
            default_doc="`raw_today` + `raw_tomorrow`, `prices`, `forecast`",
            doc="attribute(s) holding the price list",
        ),
        Option("max_price", _N, doc="grid allowed at or below this price"),
    ),
)


#: The price options a switched load has too (`max_price` for an `excess` boiler).
PRICE_OPTIONS = Schema(
    "price",
    tuple(GOAL_OPTIONS[name] for name in ("price_sensor", "price_attribute", "max_price")),
)


@dataclass(frozen=True)
class ChargeGoalSettings:
    """A charger's deadline and tariff options, checked; None where not configured."""

    ready_by: time | str | None = None
    target_energy_kwh: float | None = None
    soc_sensor: str | None = None
    battery_kwh: float | None = None
    target_soc: float | None = None
    charge_efficiency: float = 0.9
    price_sensor: str | None = None
    price_attribute: tuple[str, ...] | None = None
    max_price: float | None = None

    @property
    def has_deadline(self) -> bool:
        return self.ready_by is not None


def read_goal(r: ArgReader) -> ChargeGoalSettings | None:
    """The goal options of a charger app (problems recorded on `r`); None when none is set."""
    o = GOAL_OPTIONS
    ready_by = o["ready_by"].read(r)
    energy = o["target_energy_kwh"].read(r)
    soc_sensor = o["soc_sensor"].read(r)
    battery = o["battery_kwh"].read(r)
    target_soc = o["target_soc"].read(r)
    efficiency = o["charge_efficiency"].read(r)
    price_sensor = o["price_sensor"].read(r)
    attribute = o["price_attribute"].read(r)
    max_price = o["max_price"].read(r)
    _check_combination(r)
    settings = ChargeGoalSettings(
        ready_by=ready_by,
        target_energy_kwh=energy,
        soc_sensor=soc_sensor,
        battery_kwh=battery,
        target_soc=target_soc,
        charge_efficiency=efficiency if efficiency is not None else o.default("charge_efficiency"),
        price_sensor=price_sensor,
        price_attribute=attribute,
        max_price=max_price,
    )
    if settings == ChargeGoalSettings():
        return None
    return settings


def read_price_goal(r: ArgReader) -> ChargeGoalSettings | None:
    """A switched load's price options (problems recorded on `r`); None when none is set."""
    o = PRICE_OPTIONS
    settings = ChargeGoalSettings(
        price_sensor=o["price_sensor"].read(r),
        price_attribute=o["price_attribute"].read(r),
        max_price=o["max_price"].read(r),
    )
    _check_combination(r, o)
    return None if settings == ChargeGoalSettings() else settings


def _check_combination(r: ArgReader, schema: Schema = GOAL_OPTIONS) -> None:
    """Which goal options go together; one line each, naming the key that is out of place.

    Only `schema`'s keys are looked at (a switched load has the price options only)."""
    has = {o.key: r.has(o.key) for o in schema}
    for o in GOAL_OPTIONS:
        has.setdefault(o.key, False)
    if has["target_energy_kwh"] and has["soc_sensor"]:
        r.error(
            "target_energy_kwh",
            r.raw("target_energy_kwh"),
            "give either target_energy_kwh or soc_sensor (+ battery_kwh, target_soc), not both",
        )
    if has["soc_sensor"]:
        for key in ("battery_kwh", "target_soc"):
            if not has[key]:
                r.error(key, None, "required with soc_sensor")
    elif has["battery_kwh"] or has["target_soc"]:
        key = "battery_kwh" if has["battery_kwh"] else "target_soc"
        r.error(key, r.raw(key), "only with soc_sensor")
    wants = has["target_energy_kwh"] or has["soc_sensor"]
    if has["ready_by"] and not wants:
        r.error(
            "ready_by", r.raw("ready_by"), "needs target_energy_kwh or soc_sensor (what by then)"
        )
    if wants and not has["ready_by"]:
        key = "target_energy_kwh" if has["target_energy_kwh"] else "soc_sensor"
        r.error(key, r.raw(key), "needs ready_by (the deadline)")
    if has["max_price"] and not has["price_sensor"]:
        r.error("max_price", r.raw("max_price"), "needs price_sensor")
    if has["price_attribute"] and not has["price_sensor"]:
        r.error("price_attribute", r.raw("price_attribute"), "needs price_sensor")
