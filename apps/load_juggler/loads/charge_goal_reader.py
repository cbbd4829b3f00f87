"""A charger's deadline and tariff, read from HA each cycle into the `ChargeGoal` the
controller plans with (`engine.deadline`).

`ready_by` is a time of day (the next one, in AppDaemon's local time zone) or an
`input_datetime` (its `timestamp` attribute when it has a date, else its time of day). What is
still needed comes from the car's SoC sensor (`(target_soc - soc) x battery_kwh /
charge_efficiency`) or from `target_energy_kwh` minus what the charger has delivered in this
session (its measured draw, summed here; a new session starts over). Prices come from the
price sensor (`prices.read_prices`). Anything unreadable leaves that part out: no deadline
is better than a wrong one, and the load then simply follows its mode.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Any

from ..clock_times import instant, next_time_of_day, time_of_day
from ..config.kinds.charge_goal import ChargeGoalSettings
from ..engine.control_types import LoadReading
from ..engine.deadline import ChargeGoal, DeadlinePlan
from ..prices import read_prices

StateFn = Callable[[str, str | None], Any]


class GoalReader:
    """Builds one charger's `ChargeGoal` per cycle; keeps the session's delivered energy."""

    def __init__(self, settings: ChargeGoalSettings, state: StateFn, warn: Callable[[str], None]):
        self.settings = settings
        self._state = state
        self._warn = warn
        self._warned: set[str] = set()
        self.delivered_wh = 0.0
        self._last_s: float | None = None
        self._connected = False
        self.plan: DeadlinePlan | None = None
        self.mode_reason: str | None = None

    def observe(self, now_s: float, reading: LoadReading, phases: int, voltage_v: float) -> None:
        """Add the draw since the last cycle to the session; a new connection starts over."""
        if reading.connected and not self._connected:
            self.delivered_wh = 0.0
        self._connected = bool(reading.connected)
        if self._last_s is not None and reading.draw_a:
            amps = [a for a in reading.draw_a[:phases] if a is not None and math.isfinite(a)]
            dt_s = max(0.0, now_s - self._last_s)
            self.delivered_wh += sum(max(0.0, a) for a in amps) * voltage_v * dt_s / 3600.0
        self._last_s = now_s

    def goal(self, now: datetime, zone: tzinfo) -> ChargeGoal:
        """This cycle's goal; `now` aware, `zone` the local time zone."""
        s = self.settings
        prices: tuple = ()
        if s.price_sensor:
            full = self._state(s.price_sensor, "all")
            attributes = full.get("attributes") if isinstance(full, dict) else None
            read = read_prices(s.price_sensor, attributes, s.price_attribute, zone)
            for problem in read.problems:
                self._warn_once(problem)
            prices = read.slots
        ready_by_s = self._ready_by_s(now, zone) if s.ready_by is not None else None
        energy_wh = self._needed_wh() if ready_by_s is not None else None
        return ChargeGoal(ready_by_s, energy_wh, prices, s.max_price)

    def note(self, plan: DeadlinePlan | None, mode_reason: str | None) -> str | None:
        """Keep this cycle's plan; a line to log when a predicted miss begins."""
        missed_before = self.plan is not None and self.plan.miss_s > 0
        self.plan, self.mode_reason = plan, mode_reason
        if plan is not None and plan.miss_s > 0 and not missed_before:
            return f"{plan.reason} (ready by {_iso(plan.ready_by_s)})"
        return None

    def attributes(self) -> dict[str, Any]:
        """The plan as the load's state entity shows it (None where there is none)."""
        plan = self.plan
        # Only while the plan or a price moves the load into another mode does its reason
        # replace the mode rules' `mode_reason` (the select, a schedule, a command).
        reason = {"mode_reason": self.mode_reason} if self.mode_reason else {}
        if plan is None:
            return {
                "energy_needed_kwh": None,
                "planned_start": None,
                "ready_by": None,
                "deadline": None,
                **reason,
            }
        return {
            "energy_needed_kwh": round(plan.energy_wh / 1000.0, 2),
            "planned_start": _iso(plan.planned_start_s),
            "ready_by": _iso(plan.ready_by_s),
            "deadline": plan.reason,
            **reason,
        }

    def _ready_by_s(self, now: datetime, zone: tzinfo) -> float | None:
        ready_by = self.settings.ready_by
        local_now = now.astimezone(zone)
        if not isinstance(ready_by, str):
            return next_time_of_day(local_now, ready_by).timestamp() if ready_by else None
        full = self._state(ready_by, "all")
        if not isinstance(full, dict):
            self._warn_once(f"ready_by entity '{ready_by}' cannot be read: no deadline")
            return None
        attributes = full.get("attributes") or {}
        state = full.get("state")
        if attributes.get("has_date") and attributes.get("timestamp") is not None:
            try:
                return float(attributes["timestamp"])
            except (TypeError, ValueError):
                pass
        moment = instant(state, zone) if isinstance(state, str) and "-" in state else None
        if moment is not None:
            return moment.timestamp()
        at = time_of_day(state) if isinstance(state, str) else None
        if at is None:
            self._warn_once(f"ready_by entity '{ready_by}' = {state!r}: not a date or time")
            return None
        return next_time_of_day(local_now, at).timestamp()

    def _needed_wh(self) -> float | None:
        s = self.settings
        if s.target_energy_kwh is not None:
            return max(0.0, s.target_energy_kwh * 1000.0 - self.delivered_wh)
        if s.soc_sensor is None or s.battery_kwh is None or s.target_soc is None:
            return None
        raw = self._state(s.soc_sensor, None)
        try:
            soc = float(raw)
        except (TypeError, ValueError):
            self._warn_once(f"soc_sensor '{s.soc_sensor}' = {raw!r}: not a number, no deadline")
            return None
        if not (math.isfinite(soc) and 0.0 <= soc <= 100.0):
            self._warn_once(f"soc_sensor '{s.soc_sensor}' = {raw!r}: not 0..100 %, no deadline")
            return None
        needed_kwh = (s.target_soc - soc) / 100.0 * s.battery_kwh / s.charge_efficiency
        return max(0.0, needed_kwh * 1000.0)

    def _warn_once(self, line: str) -> None:
        if line not in self._warned:
            self._warned.add(line)
            self._warn(line)


def _iso(epoch_s: float) -> str | None:
    if not math.isfinite(epoch_s):
        return None
    return datetime.fromtimestamp(epoch_s, UTC).isoformat()
