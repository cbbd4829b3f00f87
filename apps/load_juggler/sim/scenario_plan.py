"""A scenario's wall clock, price series, capacity tariff and car goals (deadlines).

Top level: `start` (ISO date and time the run begins at [1970-01-01T00:00:00Z]; a time
without an offset is UTC) and `prices` (a list of `{start, price}`: ISO or seconds from the
run's start; each slot ends where the next begins, the last lasts as long as the one before).
Site: `capacity_limit_w`, `capacity_window_s` [900] (the hub's options). Loads (chargers):
`ready_by` ("07:00": the first 07:00 after `start`, in `start`'s offset; or ISO),
`target_energy_kwh`, or the car's `soc` (%) + `battery_kwh` + `target_soc`
(+ `charge_efficiency` [0.9]), and `max_price` (plugs too); these use the charger app's own option
declarations (`config/kinds/charge_goal.py`). The keys are taken off the file before the
rest of it is read (`split_plan`), so the other parsers stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..clock_times import instant, next_time_of_day, time_of_day
from ..config.kinds.charge_goal import GOAL_OPTIONS
from ..engine.deadline import ChargeGoal, PriceSlot
from ..engine.errors import ConfigError
from .scenario_values import listed, mapping, number, pct, positive

TOP_PLAN_KEYS = ("start", "prices")
SITE_PLAN_KEYS = ("capacity_limit_w", "capacity_window_s")
LOAD_PLAN_KEYS = (
    "ready_by",
    "target_energy_kwh",
    "soc",
    "battery_kwh",
    "target_soc",
    "charge_efficiency",
    "max_price",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_WINDOW_S = 900.0


@dataclass(frozen=True)
class GoalSpec:
    """One simulated car's goal: a deadline with energy or SoC, and/or `max_price`.

    `ready_by_s` is on the run's clock (epoch seconds); `soc_pct` the car's SoC at the start.
    """

    ready_by_s: float | None = None
    target_energy_wh: float | None = None
    soc_pct: float | None = None
    battery_wh: float | None = None
    target_soc_pct: float | None = None
    efficiency: float = 0.9
    max_price: float | None = None

    def soc_after(self, delivered_wh: float) -> float | None:
        """The car's SoC after `delivered_wh` from the grid (at most 100 %)."""
        if self.soc_pct is None or not self.battery_wh:
            return None
        return min(100.0, self.soc_pct + delivered_wh * self.efficiency / self.battery_wh * 100.0)

    def needed_wh(self, delivered_wh: float) -> float | None:
        """Energy still to draw from the grid for the goal (None: no deadline goal)."""
        if self.target_energy_wh is not None:
            return max(0.0, self.target_energy_wh - delivered_wh)
        soc = self.soc_after(delivered_wh)
        if soc is None or self.target_soc_pct is None or self.battery_wh is None:
            return None
        return max(0.0, (self.target_soc_pct - soc) / 100.0 * self.battery_wh / self.efficiency)


@dataclass(frozen=True)
class ScenarioPlan:
    """What the scenario says of the clock, prices, capacity tariff and goals."""

    start_s: float = 0.0
    prices: tuple[PriceSlot, ...] = ()
    capacity_limit_w: float | None = None
    capacity_window_s: float = DEFAULT_WINDOW_S
    goals: dict[str, GoalSpec] = field(default_factory=dict)
    has_start: bool = False
    #: `start`'s offset: the zone of the scenario's wall clock ("HH:MM" times).
    zone: tzinfo = UTC

    def goal(self, load_id: str, delivered_wh: float) -> ChargeGoal | None:
        """The `ChargeGoal` a charger app would send for the load now."""
        spec = self.goals.get(load_id)
        if spec is None and not self.prices:
            return None
        if spec is None:
            return ChargeGoal(prices=self.prices)
        return ChargeGoal(
            ready_by_s=spec.ready_by_s,
            energy_wh=spec.needed_wh(delivered_wh) if spec.ready_by_s is not None else None,
            prices=self.prices,
            max_price=spec.max_price,
        )


def split_plan(top: Mapping[str, Any]) -> tuple[dict[str, Any], ScenarioPlan]:
    """The file without the plan keys, and the plan they make."""
    rest = {k: v for k, v in top.items() if k not in TOP_PLAN_KEYS}
    start = _start(top.get("start"))
    zone = start.tzinfo or UTC
    start_s = start.timestamp()
    prices = _prices(top.get("prices"), start_s, zone)
    site = top.get("site")
    capacity_limit_w, window_s = None, DEFAULT_WINDOW_S
    if isinstance(site, Mapping):
        site_rest = {k: v for k, v in site.items() if k not in SITE_PLAN_KEYS}
        if "capacity_limit_w" in site:
            capacity_limit_w = positive("site", "capacity_limit_w", site["capacity_limit_w"])
        if "capacity_window_s" in site:
            window_s = number("site", "capacity_window_s", site["capacity_window_s"], minimum=60)
        rest["site"] = site_rest
    goals: dict[str, GoalSpec] = {}
    loads = top.get("loads")
    if isinstance(loads, list):
        cleaned = []
        for i, raw in enumerate(loads):
            if not isinstance(raw, Mapping):
                cleaned.append(raw)
                continue
            load_id = raw.get("id")
            item = f"load '{load_id}'" if isinstance(load_id, str) else f"loads[{i}]"
            keys = {k: raw[k] for k in LOAD_PLAN_KEYS if k in raw}
            cleaned.append({k: v for k, v in raw.items() if k not in LOAD_PLAN_KEYS})
            if keys:
                if raw.get("type", "evse") != "evse":
                    key = next((k for k in keys if k != "max_price"), None)
                    if key is not None:
                        raise ConfigError(item, key, keys[key], "only a charger (type evse) has it")
                goals[str(load_id)] = _goal(item, keys, start, zone)
        rest["loads"] = cleaned
    plan = ScenarioPlan(
        start_s=start_s,
        prices=prices,
        capacity_limit_w=capacity_limit_w,
        capacity_window_s=window_s,
        goals=goals,
        has_start="start" in top,
        zone=zone,
    )
    return rest, plan


def _start(value: Any) -> datetime:
    if value is None:
        return EPOCH
    parsed = instant(value)
    if parsed is None:
        raise ConfigError(
            "scenario",
            "start",
            value,
            "must be an ISO date and time, e.g. 2026-01-12T17:00:00+01:00",
        )
    return parsed


def _prices(value: Any, start_s: float, zone: tzinfo) -> tuple[PriceSlot, ...]:
    if value is None:
        return ()
    items = listed("scenario", "prices", value)
    read: list[tuple[float, float]] = []
    for n, raw in enumerate(items):
        item = f"prices[{n}]"
        entry = mapping("scenario", f"prices[{n}]", raw)
        if set(entry) - {"start", "price"} or "start" not in entry or "price" not in entry:
            raise ConfigError(item, "start", entry, "each price is {start, price}")
        at = entry["start"]
        if isinstance(at, (int, float)) and not isinstance(at, bool):
            at_s = start_s + number(item, "start", at, minimum=0)
        else:
            begins = instant(at, zone)
            if begins is None:
                raise ConfigError(
                    item, "start", at, "must be an ISO date and time or seconds from the start"
                )
            at_s = begins.timestamp()
        read.append((at_s, number(item, "price", entry["price"])))
    read.sort()
    slots: list[PriceSlot] = []
    for i, (at_s, price) in enumerate(read):
        if i + 1 < len(read):
            end_s = read[i + 1][0]
        elif slots:
            end_s = at_s + (slots[-1].end_s - slots[-1].start_s)
        else:
            end_s = at_s + 3600.0
        if end_s <= at_s:
            raise ConfigError(f"prices[{i}]", "start", at_s, "two prices start at the same time")
        slots.append(PriceSlot(at_s, end_s, price))
    return tuple(slots)


def _goal(item: str, keys: Mapping[str, Any], start: datetime, zone: tzinfo) -> GoalSpec:
    o = GOAL_OPTIONS
    ready_by_s = None
    if "ready_by" in keys:
        ready_by_s = _ready_by(item, keys["ready_by"], start, zone)
    energy = keys.get("target_energy_kwh")
    energy_wh = None if energy is None else o["target_energy_kwh"].check(item, energy) * 1000.0
    soc = None if "soc" not in keys else pct(item, "soc", keys["soc"])
    battery = keys.get("battery_kwh")
    battery_wh = None if battery is None else o["battery_kwh"].check(item, battery) * 1000.0
    target = keys.get("target_soc")
    target_soc = None if target is None else o["target_soc"].check(item, target)
    efficiency = o["charge_efficiency"].check(item, keys.get("charge_efficiency", 0.9))
    max_price = keys.get("max_price")
    max_price = None if max_price is None else o["max_price"].check(item, max_price)
    if energy_wh is not None and soc is not None:
        raise ConfigError(item, "target_energy_kwh", energy, "give either it or soc, not both")
    if soc is not None and (battery_wh is None or target_soc is None):
        missing = "battery_kwh" if battery_wh is None else "target_soc"
        raise ConfigError(item, missing, None, "required with soc")
    if ready_by_s is None and (energy_wh is not None or soc is not None):
        raise ConfigError(item, "ready_by", None, "required with target_energy_kwh or soc")
    if ready_by_s is not None and energy_wh is None and soc is None:
        raise ConfigError(item, "ready_by", keys["ready_by"], "needs target_energy_kwh or soc")
    return GoalSpec(ready_by_s, energy_wh, soc, battery_wh, target_soc, efficiency, max_price)


def _ready_by(item: str, value: Any, start: datetime, zone: tzinfo) -> float:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        value = f"{value // 60}:{value % 60:02d}"  # YAML 1.1 reads 07:00 as 420 (minutes)
    if isinstance(value, str):
        at = time_of_day(value)
        if at is not None:
            return next_time_of_day(start.astimezone(zone), at).timestamp()
    moment = instant(value, zone)
    if moment is None:
        raise ConfigError(
            item, "ready_by", value, 'must be a time of day such as "07:00" or an ISO date and time'
        )
    return moment.timestamp()
