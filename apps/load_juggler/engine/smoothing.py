"""Sensor filters for the cycle controller.

Sensors in Home Assistant flicker, drop out and report "unknown"; the engine must see a calm,
continuous picture without ever being told that the grid carries less current than it does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


def finite_or_none(value: Any) -> float | None:
    """A usable number, or None for anything a sensor reports when it has nothing to say.

    HA states arrive as strings ("unavailable", "unknown", "12.5") or numbers; booleans are not
    measurements. NaN and +-inf are rejected so that one bad sample cannot poison a filter.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass
class Ema:
    """Exponential moving average that holds its last value while the input is missing.

    `alpha` is the weight of a new sample (1.0 = no smoothing). Until a first valid sample
    arrives `value` is None, so a caller can tell "never seen" from "zero".
    """

    alpha: float
    value: float | None = None

    def update(self, raw: Any) -> float | None:
        sample = finite_or_none(raw)
        if sample is None:
            return self.value
        if self.value is None:
            self.value = sample
        else:
            self.value = self.alpha * sample + (1.0 - self.alpha) * self.value
        return self.value


@dataclass
class RiseFirstEma(Ema):
    """EMA that follows a rise at once and smooths only a fall.

    Used for grid import: a smoothed value that lags a rise would let the engine hand out current
    the breaker does not have, so a higher raw sample replaces the average immediately, while a
    drop (a kettle switching off) is believed only gradually.
    """

    def update(self, raw: Any) -> float | None:
        sample = finite_or_none(raw)
        if sample is not None and self.value is not None and sample > self.value:
            self.value = sample
            return self.value
        return super().update(sample)


@dataclass
class CautiousEma:
    """An EMA whose missing sample counts as a repeat of the last valid one, if that is more
    cautious than holding the average.

    Holding a smoothed solar value while the sun is going would keep handing out a surplus the
    last real samples no longer showed; so a missing sample moves the average toward the last
    valid sample when that lowers what may be given (`permissive_higher`: solar, True; battery
    charging power, False), and holds it otherwise. A glitch can therefore never give more
    than the last good sample repeated would.
    """

    alpha: float
    permissive_higher: bool
    value: float | None = None
    last_sample: float | None = None

    def update(self, sample: float | None) -> float | None:
        if sample is not None:
            self.last_sample = sample
            if self.value is None:
                self.value = sample
            else:
                self.value = self.alpha * sample + (1.0 - self.alpha) * self.value
            return self.value
        if self.value is None or self.last_sample is None:
            return self.value
        repeated = self.alpha * self.last_sample + (1.0 - self.alpha) * self.value
        if self.permissive_higher:
            self.value = min(self.value, repeated)
        else:
            self.value = max(self.value, repeated)
        return self.value
