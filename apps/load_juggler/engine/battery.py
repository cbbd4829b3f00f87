"""Which battery state-of-charge thresholds count as reached, with hysteresis.

Without hysteresis a SoC hovering around a threshold would flip a mode's rule every cycle and
start/stop a car; so rising through a threshold needs soc >= threshold, while falling back needs
soc < threshold - hysteresis.
"""

from __future__ import annotations

import math

from .model import BatteryConfig, BatteryLevels


def _level(
    soc_pct: float, threshold_pct: float, hysteresis_pct: float, was_above: bool | None
) -> bool:
    if was_above is None or not was_above:
        return soc_pct >= threshold_pct
    return not soc_pct < threshold_pct - hysteresis_pct


def battery_levels(
    soc_pct: float | None, cfg: BatteryConfig | None, previous: BatteryLevels | None
) -> BatteryLevels | None:
    """Levels for this cycle; None when the site has no battery.

    An unknown SoC keeps the previous levels; with no previous levels either, every threshold
    counts as not reached, which stops battery discharge and keeps the battery's charge share
    out of the solar pool (the cautious side).
    """
    if cfg is None:
        return None
    if soc_pct is None or not math.isfinite(float(soc_pct)):
        return previous if previous is not None else BatteryLevels(False, False, False)
    soc = float(soc_pct)
    hyst = max(0.0, cfg.hysteresis_pct)
    prev = previous
    return BatteryLevels(
        above_min=_level(soc, cfg.min_soc_pct, hyst, prev.above_min if prev else None),
        above_target=_level(soc, cfg.target_soc_pct, hyst, prev.above_target if prev else None),
        above_full=_level(soc, cfg.full_soc_pct, hyst, prev.above_full if prev else None),
    )
