"""The thermostat of a hot water tank: which engine mode its heater asks for, each cycle.

The engine knows nothing about water: it sees a switched load in a mode. This module turns the
tank's temperature, the user's heater mode, the time of day and the thermal model into that
mode, with the reason a person reads:

- `max_c` is a safety stop: at or above it, or without a temperature to trust, the heater asks
  for nothing in any mode (engine mode `off` cuts at once, without min on time).
- Below the goal minus `hysteresis_c` the tank calls for heat, until it reaches the goal (the
  `target_c`, or the legionella temperature while a legionella run is due).
- `continuous` heats that call from any source; `solar_only` / `excess` only from green power.
- `min_c` by `min_c_by`: in every mode but `off` the planner (`thermal.latest_start_s`) finds
  the latest start at rated power that still reaches it; from then on the heater asks for
  `continuous` (grid allowed) until the tank is there, so the grid is used only in the last
  feasible window and green power before. A due legionella run raises that goal to its
  temperature, so the run is done by the same deadline.
- `boost` heats now from any source to `target_c`; then the app returns to the previous mode.

Pure: no AppDaemon import; the simulator runs the very same class.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .model import Mode
from .thermal import TankModel, latest_start_s

DAY_S = 86400.0


class HeaterMode(StrEnum):
    """What the user chose for the tank (apps.yaml `mode` or its `mode_select`)."""

    CONTINUOUS = "continuous"
    BOOST = "boost"
    SOLAR_ONLY = "solar_only"
    EXCESS = "excess"
    OFF = "off"


#: The engine mode a call for heat is served in, by heater mode (before the deadline).
_CALL_MODE = {
    HeaterMode.CONTINUOUS: Mode.CONTINUOUS,
    HeaterMode.BOOST: Mode.CONTINUOUS,
    HeaterMode.SOLAR_ONLY: Mode.SOLAR_ONLY,
    HeaterMode.EXCESS: Mode.EXCESS,
}


@dataclass(frozen=True)
class Legionella:
    """Reach `temp_c` once every `every_days` days."""

    temp_c: float = 60.0
    every_days: float = 7.0


@dataclass(frozen=True)
class TankSettings:
    """The thermostat's options (apps.yaml and scenario files read the same keys)."""

    target_c: float = 55.0
    hysteresis_c: float = 5.0
    max_c: float = 75.0
    min_c: float | None = None
    #: `min_c_by` as seconds after local midnight.
    min_c_by_s: float = 17 * 3600.0
    legionella: Legionella | None = None
    rated_w: float = 2000.0


@dataclass(frozen=True)
class TankInput:
    """One cycle's view: `temp_c` None means no temperature to trust (`fault` says why)."""

    now_s: float
    #: Seconds since local midnight at `now_s`.
    day_s: float
    temp_c: float | None
    mode: HeaterMode
    model: TankModel
    fault: str = ""


@dataclass(frozen=True)
class TankDecision:
    """What the heater asks of the engine, and what the app publishes about it."""

    mode: Mode
    state: str
    reason: str
    goal_c: float | None
    energy_needed_wh: float
    planned_start_s: float | None
    deadline_s: float | None
    boost_done: bool = False


def hhmm(day_s: float) -> str:
    minutes = round(day_s / 60.0) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class TankThermostat:
    """Keeps what spans cycles: the call for heat (hysteresis), the grid window latched for a
    deadline, the boost, and when the legionella temperature was last reached."""

    def __init__(self, settings: TankSettings, legionella_at_s: float | None = None) -> None:
        self.settings = settings
        self.calling = False
        self.legionella_at_s = legionella_at_s
        self._grid_for_deadline_s: float | None = None
        self._boosting = False

    def legionella_due(self, now_s: float) -> bool:
        leg = self.settings.legionella
        if leg is None:
            return False
        last = self.legionella_at_s
        return last is None or now_s - last >= leg.every_days * DAY_S

    def decide(self, inp: TankInput) -> TankDecision:
        s = self.settings
        deadline_s = inp.now_s + _until_s(inp.day_s, s.min_c_by_s)
        if inp.mode is not HeaterMode.BOOST:
            self._boosting = False
        if inp.mode is HeaterMode.OFF:
            self.calling = False
            self._grid_for_deadline_s = None
            return TankDecision(Mode.OFF, "off", "heater mode off", None, 0.0, None, None)
        temp = inp.temp_c
        if temp is None:
            self.calling = False
            reason = f"no temperature to trust ({inp.fault or 'unavailable'}): not heating"
            return TankDecision(Mode.OFF, "sensor_fault", reason, None, 0.0, None, None)
        leg = s.legionella
        if leg is not None and temp >= leg.temp_c:
            self.legionella_at_s = inp.now_s
        if temp >= s.max_c:
            self.calling = False
            self._boosting = False
            reason = f"safety stop: {temp:.1f} C >= max_c {s.max_c:g} C"
            return TankDecision(Mode.OFF, "safety_stop", reason, None, 0.0, None, None)

        due = self.legionella_due(inp.now_s)
        goal = max(s.target_c, leg.temp_c) if due and leg is not None else s.target_c
        model = inp.model
        if inp.mode is HeaterMode.BOOST:
            return self._boost(temp, goal, model)

        if temp >= goal:
            self.calling = False
        elif temp < goal - s.hysteresis_c:
            self.calling = True

        deadline = self._deadline(inp, temp, due, deadline_s)
        if deadline is not None:
            return deadline
        plan_goal = self._deadline_goal(due)
        planned = None
        if plan_goal is not None:
            planned = latest_start_s(inp.now_s, deadline_s, temp, plan_goal, s.rated_w, model)
        if not self.calling:
            reason = (
                f"at {temp:.1f} C, goal {goal:g} C: heats again below {goal - s.hysteresis_c:g} C"
            )
            return TankDecision(
                Mode.OFF, "satisfied", reason, goal, 0.0, planned, deadline_s if planned else None
            )
        call_mode = _CALL_MODE[inp.mode]
        needed = model.energy_wh(temp, goal)
        why = "legionella run due: " if due and leg is not None and goal > s.target_c else ""
        if call_mode is Mode.CONTINUOUS:
            reason = f"{why}{temp:.1f} C, heating to {goal:g} C from any source"
            return TankDecision(call_mode, "heating", reason, goal, needed, planned, None)
        source = "green power" if call_mode is Mode.SOLAR_ONLY else "excess export"
        reason = f"{why}{temp:.1f} C, heating to {goal:g} C from {source} only"
        if planned is not None:
            reason += f"; grid from {hhmm(inp.day_s + planned - inp.now_s)} if still short"
        return TankDecision(
            call_mode, "waiting_for_green", reason, goal, needed, planned, deadline_s
        )

    def _boost(self, temp: float, goal: float, model: TankModel) -> TankDecision:
        if temp >= goal and self._boosting:
            self._boosting = False
            reason = f"boost done at {temp:.1f} C (goal {goal:g} C): back to the previous mode"
            return TankDecision(Mode.OFF, "satisfied", reason, goal, 0.0, None, None, True)
        if temp >= goal:
            reason = f"boost: already at {temp:.1f} C (goal {goal:g} C)"
            return TankDecision(Mode.OFF, "satisfied", reason, goal, 0.0, None, None, True)
        self._boosting = True
        self.calling = True
        reason = f"boost: {temp:.1f} C, heating to {goal:g} C now from any source"
        needed = model.energy_wh(temp, goal)
        return TankDecision(Mode.CONTINUOUS, "boost", reason, goal, needed, None, None)

    def _deadline_goal(self, due: bool) -> float | None:
        s = self.settings
        goals = [g for g in (s.min_c, s.legionella.temp_c if due and s.legionella else None) if g]
        return max(goals) if goals else None

    def _deadline(
        self, inp: TankInput, temp: float, due: bool, deadline_s: float
    ) -> TankDecision | None:
        """The grid window before `min_c_by`: latched from the planned start until the goal is
        reached or the deadline has passed (a re-plan after some heating would otherwise find
        a later start and stop the element halfway, cycle after cycle)."""
        goal = self._deadline_goal(due)
        s = self.settings
        latched = self._grid_for_deadline_s
        if latched is not None and (goal is None or temp >= goal or inp.now_s >= latched):
            self._grid_for_deadline_s = latched = None
        if goal is None or temp >= goal:
            return None
        planned = latest_start_s(inp.now_s, deadline_s, temp, goal, s.rated_w, inp.model)
        if latched is None and (planned is None or planned > inp.now_s):
            return None
        if latched is None:
            self._grid_for_deadline_s = latched = deadline_s
        needed = inp.model.energy_wh(temp, goal)
        what = "legionella " if due and s.legionella and goal > (s.min_c or 0) else ""
        start = hhmm(inp.day_s + (planned or inp.now_s) - inp.now_s)
        reason = (
            f"{temp:.1f} C, must reach {what}{goal:g} C by {hhmm(s.min_c_by_s)}: "
            f"heating from any source (planned start {start})"
        )
        return TankDecision(
            Mode.CONTINUOUS, "heating_for_deadline", reason, goal, needed, planned, latched
        )


def _until_s(day_s: float, by_s: float) -> float:
    """Seconds from `day_s` to the next `by_s` (a deadline just reached is the next day's)."""
    until = (by_s - day_s) % DAY_S
    return until if until > 0 else DAY_S
