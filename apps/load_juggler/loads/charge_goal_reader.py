"""A charger's deadline and tariff, read from HA each cycle into the `ChargeGoal` the
controller plans with (`engine.deadline`).

`ready_by` is a time of day (the next one, in AppDaemon's local time zone) or an
`input_datetime` (its `timestamp` attribute when it has a date, else its time of day). What is
still needed comes from the car's SoC sensor (`(target_soc - soc) x battery_kwh /
charge_efficiency`) or from `target_energy_kwh` minus what the charger has delivered in this
session (its measured draw, summed here; a new session starts over). That count is kept in the
hub's state file (section `charge_goals`, by load name, with the session it belongs to: the
charger's transaction id, else when the connection began) so an AppDaemon restart in the middle
of a session goes on from it; a different session starts from 0. Prices come from the
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
from ..state_file import StateFile

StateFn = Callable[[str, str | None], Any]
#: The hub state file's section: each load's session and energy delivered in it.
STATE_SECTION = "charge_goals"
#: The kept count moves in steps of this much (a restart loses less; no write every cycle).
SAVE_STEP_WH = 100.0


class GoalReader:
    """Builds one charger's `ChargeGoal` per cycle; keeps the session's delivered energy."""

    def __init__(
        self,
        settings: ChargeGoalSettings,
        state: StateFn,
        warn: Callable[[str], None],
        keep: tuple[str, Callable[[], StateFile | None], Callable[[], str | None]] | None = None,
    ):
        """`keep`: (load name, the hub's state file, the running session's id such as the
        charger's transaction id, None when unknown) to keep the count across restarts."""
        self.settings = settings
        self._state = state
        self._warn = warn
        self._warned: set[str] = set()
        self.delivered_wh = 0.0
        self._last_s: float | None = None
        self._connected = False
        self.plan: DeadlinePlan | None = None
        self.mode_reason: str | None = None
        self._keep = keep
        self._session: str | None = None
        self._restored = False
        self._saved: tuple[str | None, float] | None = None

    def observe(self, now_s: float, reading: LoadReading, phases: int, voltage_v: float) -> None:
        """Add the draw since the last cycle to the session; a new connection starts over."""
        session_id = self._keep[2]() if self._keep is not None else None
        if not self._restored:
            self._restored = True
            self._restore(bool(reading.connected), session_id)
        if reading.connected and not self._connected:
            self.delivered_wh = 0.0
            self._session = session_id or f"since {_iso(now_s)}"
        elif reading.connected and session_id is not None and self._session != session_id:
            if self._session is not None and not self._session.startswith("since "):
                self.delivered_wh = 0.0  # another transaction on the same connection
            self._session = session_id
        self._connected = bool(reading.connected)
        if not self._connected:
            self._session = None
        if self._last_s is not None and reading.draw_a:
            amps = [a for a in reading.draw_a[:phases] if a is not None and math.isfinite(a)]
            dt_s = max(0.0, now_s - self._last_s)
            self.delivered_wh += sum(max(0.0, a) for a in amps) * voltage_v * dt_s / 3600.0
        self._last_s = now_s
        self._save()

    def _restore(self, connected: bool, session_id: str | None) -> None:
        """At start: the count of the session still running, kept before the restart. The
        same transaction id, or (no id known) a connection that was still on then and is now."""
        store = self._store()
        if store is None or not connected or self._keep is None:
            return
        kept = store.get(STATE_SECTION).get(self._keep[0])
        if not isinstance(kept, dict) or not isinstance(kept.get("session"), str):
            return
        session = kept["session"]
        same = session == session_id if session_id is not None else session.startswith("since ")
        delivered = kept.get("delivered_wh")
        if not same or not isinstance(delivered, int | float) or not math.isfinite(delivered):
            return
        self.delivered_wh = max(0.0, float(delivered))
        self._session = session
        self._connected = True
        self._saved = (session, self.delivered_wh)

    def _store(self) -> StateFile | None:
        """The hub's state file, only for a goal counted in delivered energy."""
        if self._keep is None or self.settings.target_energy_kwh is None:
            return None
        return self._keep[1]()

    def _save(self) -> None:
        """Keep this session's count in the hub state file (none while unplugged)."""
        store = self._store()
        if store is None or self._keep is None:
            return
        saved = self._saved
        if (
            saved is not None
            and saved[0] == self._session
            and abs(saved[1] - self.delivered_wh) < SAVE_STEP_WH
        ):
            return
        section = store.get(STATE_SECTION)
        if self._session is None:
            section.pop(self._keep[0], None)
        else:
            section[self._keep[0]] = {
                "session": self._session,
                "delivered_wh": round(self.delivered_wh, 1),
            }
        store.put(STATE_SECTION, section)
        self._saved = (self._session, self.delivered_wh)

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
