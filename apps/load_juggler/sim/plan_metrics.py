"""Metrics of a scenario with a clock: `cost`, `capacity_peak_w`, and per load
`deadline_missed_s` and `energy_at_deadline_wh` (see `scenario_plan`).

Each cycle's reading lasts one step, as in `metrics.Metrics`: the import measured at a step
is paid at the price in force at that step's start and counts in the capacity window that
step starts in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..engine.deadline import price_at
from .scenario_plan import ScenarioPlan


@dataclass
class PlanMetrics:
    """Accumulates the plan's metrics; `as_dict` gives only those the scenario asks for."""

    plan: ScenarioPlan
    cost: float = 0.0
    _window_start_s: float | None = None
    _window_wh: float = 0.0
    capacity_peak_w: float = 0.0
    energy_at_deadline_wh: dict[str, float] = field(default_factory=dict)
    met_at_s: dict[str, float] = field(default_factory=dict)
    end_s: float = 0.0

    def add_step(self, clock_s: float, import_w: float, step_s: float) -> None:
        """One step's net import (W, export negative) starting at `clock_s`."""
        self.end_s = clock_s + step_s
        import_wh = max(0.0, import_w) * step_s / 3600.0
        price = price_at(self.plan.prices, clock_s)
        if price is not None:
            self.cost += import_wh / 1000.0 * price
        window_s = self.plan.capacity_window_s
        start_s = math.floor(clock_s / window_s) * window_s
        if start_s != self._window_start_s:
            self._window_start_s, self._window_wh = start_s, 0.0
        self._window_wh += import_wh
        self.capacity_peak_w = max(self.capacity_peak_w, self._window_wh * 3600.0 / window_s)

    def add_load(self, load_id: str, clock_s: float, delivered_wh: float) -> None:
        """The energy the load has drawn by `clock_s` (the start of a step)."""
        spec = self.plan.goals.get(load_id)
        if spec is None or spec.ready_by_s is None:
            return
        if clock_s <= spec.ready_by_s + 1e-9:
            self.energy_at_deadline_wh[load_id] = delivered_wh
        needed = spec.needed_wh(delivered_wh)
        if needed is not None and needed <= 0.0 and load_id not in self.met_at_s:
            self.met_at_s[load_id] = clock_s

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.plan.prices:
            out["cost"] = round(self.cost, 4)
        if self.plan.has_start or self.plan.capacity_limit_w is not None:
            out["capacity_peak_w"] = round(self.capacity_peak_w, 1)
        deadlines = {load_id: spec for load_id, spec in self.plan.goals.items() if spec.ready_by_s}
        if deadlines:
            out["deadline_missed_s"] = {
                load_id: round(self._missed_s(load_id, spec.ready_by_s or 0.0), 1)
                for load_id, spec in deadlines.items()
            }
            out["energy_at_deadline_wh"] = {
                load_id: round(self.energy_at_deadline_wh.get(load_id, 0.0), 1)
                for load_id in deadlines
            }
        return out

    def _missed_s(self, load_id: str, ready_by_s: float) -> float:
        met_s = self.met_at_s.get(load_id)
        if met_s is None:
            return max(0.0, self.end_s - ready_by_s)
        return max(0.0, met_s - ready_by_s)
