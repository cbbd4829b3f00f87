"""The controller's part for deadlines, prices and the capacity tariff.

`ChargePlanner` turns each load's `ChargeGoal` (from its `LoadReading`) into the mode the
load runs in this cycle (`deadline.effective_mode`), before the readings are filtered, so the
time rules and the engine see one mode and nothing else changes: a deadline that says run is a
`continuous` load. The power a plan counts on comes from the previous cycle's snapshot (one
engine run, `deadline.deliverable_power_w`). `CapacityLimit` lowers the snapshot's import cap
so the running window's average stays under `capacity_limit_w` (see `capacity`).
"""

from __future__ import annotations

import math
from contextlib import suppress
from dataclasses import replace

from .capacity import CapacityState, CapacityWindow, combined_cap_w
from .control_types import ControlSettings, LoadReading, Readings
from .deadline import (
    DONE_WH,
    AllocateFn,
    DeadlinePlan,
    deliverable_power_w,
    effective_mode,
    plan_deadline,
    price_at,
    rated_w,
)
from .model import Load, Mode, Snapshot


class ChargePlanner:
    """Per cycle: every load's plan and effective mode; remembers the live modes it replaced."""

    def __init__(self, allocate_fn: AllocateFn) -> None:
        self._allocate = allocate_fn
        self._snapshot: Snapshot | None = None
        self._live: dict[str, Mode] = {}
        # Loads whose latest start has come, by the deadline it was for: they run without a
        # break until the goal is met (the plan's slack grows while the car takes more than
        # the plan counts on, and a stop there would only cost a restart later).
        self._started: dict[str, float] = {}

    def observe(self, snapshot: Snapshot | None) -> None:
        """The snapshot of the cycle just decided; the next cycle's plans count on it."""
        if snapshot is not None:
            self._snapshot = snapshot

    def apply(
        self, now_s: float, readings: Readings, loads: tuple[Load, ...], voltage_v: float
    ) -> tuple[Readings, dict[str, DeadlinePlan], dict[str, str]]:
        """The readings with each planned load's effective mode; the plans; why each changed."""
        raw = readings.loads if isinstance(readings.loads, dict) else {}
        plans: dict[str, DeadlinePlan] = {}
        reasons: dict[str, str] = {}
        changed: dict[str, LoadReading] = {}
        for load in loads:
            reading = raw.get(load.id)
            live = self._live_mode(load, reading)
            goal = getattr(reading, "goal", None)
            if reading is None or goal is None:
                continue
            plan = self._plan(now_s, load, reading, voltage_v)
            if plan is not None:
                plans[load.id] = plan
            price = price_at(goal.prices, now_s)
            mode, why = effective_mode(live, plan, price, goal.max_price)
            if why is not None:
                reasons[load.id] = why
            if mode is not live or reading.mode is None:
                changed[load.id] = replace(reading, mode=mode)
        if changed:
            readings = replace(readings, loads={**raw, **changed})
        return readings, plans, reasons

    def _live_mode(self, load: Load, reading: LoadReading | None) -> Mode:
        """The load's own mode: its reading's (an input_select), else the last one seen."""
        if reading is not None and reading.mode is not None:
            with suppress(ValueError):
                self._live[load.id] = Mode(reading.mode)
        return self._live.get(load.id, load.mode)

    def _plan(
        self, now_s: float, load: Load, reading: LoadReading, voltage_v: float
    ) -> DeadlinePlan | None:
        goal = reading.goal
        if goal is None or goal.ready_by_s is None or goal.energy_wh is None:
            self._started.pop(load.id, None)
            return None
        if not (math.isfinite(goal.ready_by_s) and math.isfinite(goal.energy_wh)):
            return None
        if goal.energy_wh < DONE_WH or not reading.connected:
            self._started.pop(load.id, None)
            return None
        if self._snapshot is None:
            power_w = rated_w(load, voltage_v)
        else:
            power_w = deliverable_power_w(self._snapshot, load, self._allocate, voltage_v)
        plan = plan_deadline(now_s, goal.ready_by_s, goal.energy_wh, power_w, goal.prices)
        if self._started.get(load.id) == goal.ready_by_s and not plan.run_now:
            plan = replace(plan, run_now=True, planned_start_s=now_s)
        if plan.urgent:
            self._started[load.id] = goal.ready_by_s
        return plan


class CapacityLimit:
    """The controller's capacity tariff: the running window's cap into the snapshot's site."""

    def __init__(self, settings: ControlSettings) -> None:
        self._window: CapacityWindow | None = None
        self.state: CapacityState | None = None
        self.adopt(settings)

    def adopt(self, settings: ControlSettings) -> None:
        """Follow a new configuration; the running window is kept while the limit stays set."""
        limit_w = settings.capacity_limit_w
        if limit_w is None:
            self._window, self.state = None, None
            return
        window = self._window
        if window is None or window.window_s != settings.capacity_window_s:
            self._window = CapacityWindow(limit_w, settings.capacity_window_s)
        else:
            window.limit_w = float(limit_w)

    def limit(self, now_s: float, readings: Readings, snapshot: Snapshot) -> Snapshot:
        """The snapshot with its import cap lowered to what the window has left."""
        if self._window is None:
            return snapshot
        site = snapshot.site
        self.state = self._window.observe(now_s, measured_import_w(readings, site.voltage_v))
        if not site.allow_grid_charging:
            return snapshot
        cap_w = combined_cap_w(site.max_import_w, self.state.cap_w)
        if cap_w <= 0:
            site = replace(site, max_import_w=None, allow_grid_charging=False)
        else:
            site = replace(site, max_import_w=cap_w)
        return replace(snapshot, site=site)


def measured_import_w(readings: Readings, voltage_v: float) -> float | None:
    """Net import of the grid reading (export counts against it, as the meter nets phases)."""
    grid = readings.grid_a
    if not grid:
        return None
    values = [value for value in grid if value is not None and math.isfinite(value)]
    if len(values) != len(grid):
        return None
    voltage = readings.voltage_v
    if voltage is None or not math.isfinite(voltage) or voltage <= 0:
        voltage = voltage_v
    return sum(values) * voltage
