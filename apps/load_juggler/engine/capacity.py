"""The capacity tariff: keep every metering window's average import under `capacity_limit_w`.

Belgium bills the month's highest quarter-hour average import (other grids bill similar
peaks). The meter averages over fixed windows aligned to the clock (`capacity_window_s`
[900], starting at whole multiples of it on the controller's clock, which is UTC epoch seconds
in the hub), so what matters is the energy imported inside each window, not the power at any
moment: a charger may import more than the limit while the rest of the window is quiet.

Each cycle `CapacityWindow` adds the import measured since the last cycle to the running
window and gives the import cap for the rest of it: the energy left under the limit spread
over the time left. A cycle whose command lasts into the next window is held to the limit
itself (the next window starts empty, but not fuller than that). The cap is combined
with `max_import_w` (the lower wins) and, like an import cap sensor at 0, a cap <= 0 means
no grid import for the loads at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Share of the limit the plan aims at: the engine predicts the import from smoothed readings,
#: and the house may rise between two cycles, so the window keeps a little in reserve.
TARGET_SHARE = 0.97


@dataclass(frozen=True)
class CapacityState:
    """The running window as published: its start, its import so far and the cap it leaves."""

    window_start_s: float
    energy_wh: float
    average_w: float
    cap_w: float


class CapacityWindow:
    """Tracks the running window's import; `cap_w` is the import allowed until the next cycle.

    `observe` takes one sample per cycle (the measured net import in W, None when unknown:
    the last known one is used, so a gap never makes the window look emptier than it was).
    Counting is cautious both ways a meter and a cycle may line up: a sample counts for the
    whole time since the previous sample, in the window it is taken in, and the command made
    now is taken to show only in the next sample and to last a whole cycle there, so the time
    it may spend is the cycles still to be sampled in this window (none in the last cycle of a
    window: that command is held to the limit itself, the next window must stay under too).
    """

    def __init__(self, limit_w: float, window_s: float = 900.0) -> None:
        if not (math.isfinite(limit_w) and limit_w > 0):
            raise ValueError(f"capacity_limit_w = {limit_w!r}: must be a number > 0")
        if not (math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"capacity_window_s = {window_s!r}: must be a number > 0")
        self.limit_w = float(limit_w)
        self.window_s = float(window_s)
        self._window_start_s: float | None = None
        self._energy_ws = 0.0
        self._last_s: float | None = None
        self._last_w = 0.0
        self._step_s = 0.0

    def window_start(self, now_s: float) -> float:
        return math.floor(now_s / self.window_s) * self.window_s

    def observe(self, now_s: float, import_w: float | None) -> CapacityState:
        """Add this sample to the running window; return the window and the cap it leaves."""
        start_s = self.window_start(now_s)
        if self._window_start_s != start_s:
            self._energy_ws = 0.0
        self._window_start_s = start_s
        if import_w is not None and math.isfinite(import_w):
            self._last_w = max(0.0, import_w)
        if self._last_s is not None and now_s > self._last_s:
            self._step_s = now_s - self._last_s
        self._energy_ws += self._last_w * self._step_s
        self._last_s = now_s
        return self._state(now_s, start_s)

    def _state(self, now_s: float, start_s: float) -> CapacityState:
        target_w = self.limit_w * TARGET_SHARE
        left_s = start_s + self.window_s - now_s
        if self._step_s > 0:
            # Samples still to come in this window, each lasting one cycle.
            left_s = (math.ceil(left_s / self._step_s - 1e-9) - 1) * self._step_s
        budget_ws = target_w * self.window_s - self._energy_ws
        cap_w = budget_ws / left_s if left_s > 0 else min(target_w, budget_ws)
        energy_wh = self._energy_ws / 3600.0
        return CapacityState(start_s, energy_wh, self._energy_ws / self.window_s, cap_w)


def combined_cap_w(max_import_w: float | None, capacity_cap_w: float) -> float:
    """The import cap in force: the lower of `max_import_w` (None: none) and the capacity's."""
    if max_import_w is None:
        return capacity_cap_w
    return min(max_import_w, capacity_cap_w)
