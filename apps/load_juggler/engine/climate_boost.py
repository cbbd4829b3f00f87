"""Climate boost: store green power as heat (or cold) in the house by moving a setpoint.

On green power (the controller has the load on: the surplus covers `expected_power_w` in the
app's mode) the setpoint the user chose, the *base*, is raised by `boost_c` (lowered when the
thermostat cools), never beyond `comfort_max_c` (`comfort_min_c` when cooling). The base comes
back when the controller turns the load off (the surplus ended) or after `max_boost_s`. The user
always wins: a setpoint changed while boosting becomes the new base and the boost ends there,
with nothing written. After a boost ended by `max_boost_s` or by the user, the load rests until
the surplus has gone (below `expected_power_w`), so one sunny spell gives one boost.

The boost in progress is `Boost` (JSON-able: the app keeps it in the hub's state file, so a
restart mid-boost still restores the base).

Pure: no AppDaemon import. The app (`loads/climate_boost.py`) and the simulator use it alike.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from .site_view import SiteView

#: Setpoints closer than this are the same (thermostats round to 0.1 or 0.5 C).
SAME_C = 0.05


class Side(StrEnum):
    """Which way the thermostat works: a boost raises a heating setpoint, lowers a cooling one."""

    HEAT = "heat"
    COOL = "cool"


def side_of(hvac_mode: Any) -> Side | None:
    """The side of a `climate` entity's state (its hvac_mode); None for off, auto, heat_cool,
    fan_only, dry, unknown: no single setpoint to move."""
    text = str(hvac_mode).strip().lower() if hvac_mode is not None else ""
    return Side(text) if text in (Side.HEAT, Side.COOL) else None


@dataclass(frozen=True)
class BoostRules:
    """What a climate boost load is configured with (`config/kinds/climate_boost.py`)."""

    expected_power_w: float
    boost_c: float = 1.5
    comfort_min_c: float = 19.0
    comfort_max_c: float = 24.0
    max_boost_s: float = 7200.0


def boosted_setpoint(rules: BoostRules, base_c: float, side: Side) -> float | None:
    """The boosted setpoint, or None when the comfort limit leaves no room for a boost."""
    if side is Side.HEAT:
        target = min(base_c + rules.boost_c, rules.comfort_max_c)
        return target if target > base_c + SAME_C else None
    target = max(base_c - rules.boost_c, rules.comfort_min_c)
    return target if target < base_c - SAME_C else None


@dataclass(frozen=True)
class Boost:
    """A boost in progress: the user's setpoint, ours, since when, which way."""

    base_c: float
    boosted_c: float
    since_s: float
    side: Side

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "side": self.side.value}

    @classmethod
    def from_dict(cls, data: Any) -> Boost | None:
        """A stored boost; None when `data` is not one (an old or hand-edited file)."""
        if not isinstance(data, dict):
            return None
        try:
            values = [float(data[k]) for k in ("base_c", "boosted_c", "since_s")]
            side = Side(data["side"])
        except (KeyError, TypeError, ValueError):
            return None
        if not all(math.isfinite(v) for v in values):
            return None
        return cls(values[0], values[1], values[2], side)


@dataclass(frozen=True)
class BoostStep:
    """One cycle's outcome: the setpoint to write (None: leave it), whether we boost now, the
    reason, and `rest` (a reason) while the load wants no power."""

    write_c: float | None
    boosting: bool
    reason: str
    rest: str | None = None


def _same(a: float, b: float) -> bool:
    return abs(a - b) < SAME_C


class ClimateBoostLogic:
    """The boost of one climate entity across cycles."""

    def __init__(self, rules: BoostRules, boost: Boost | None = None) -> None:
        self.rules = rules
        self.boost = boost
        # The boosted setpoint has shown on the entity (before that the entity may still show
        # the base: our write has not arrived yet, which is not a user's change).
        self._confirmed = False
        self._resting: str | None = None  # why, while resting until the surplus has gone
        self.pending_c: float | None = None  # a setpoint to write until `written`

    def written(self) -> None:
        """The pending setpoint reached the device (its service call worked)."""
        self.pending_c = None

    def rest(
        self, side: Side | None, setpoint_c: float | None, view: SiteView | None
    ) -> str | None:
        """Why the load wants no power before the controller decides (None: it may boost).

        A boost in progress never rests here: only its command ends it, so the base comes back.
        """
        if self.boost is not None:
            return None
        if self._resting is not None:
            if view is not None and view.surplus_w < self.rules.expected_power_w:
                self._resting = None
            else:
                return self._resting
        if side is None:
            return "hvac mode is neither heat nor cool: no setpoint to move"
        if setpoint_c is None:
            return "setpoint unknown"
        if boosted_setpoint(self.rules, setpoint_c, side) is None:
            limit = "comfort_max_c" if side is Side.HEAT else "comfort_min_c"
            return f"setpoint {setpoint_c:g} C leaves no room within {limit}"
        return None

    def step(
        self, now_s: float, on: bool, side: Side | None, setpoint_c: float | None
    ) -> BoostStep:
        """Follow the controller's `on` with the entity's hvac side and setpoint."""
        boost = self.boost
        if boost is None and self.pending_c is not None:
            # The base has not reached the entity yet (a failed call): a boost now would take
            # our own boosted setpoint for the user's.
            return BoostStep(self.pending_c, False, f"restoring {self.pending_c:g} C")
        if boost is None:
            if not on or side is None or setpoint_c is None or self._resting is not None:
                return BoostStep(None, False, "no boost", self._resting)
            target = boosted_setpoint(self.rules, setpoint_c, side)
            if target is None:
                return BoostStep(None, False, "no room for a boost")
            self.boost = Boost(setpoint_c, target, now_s, side)
            self._confirmed = False
            self.pending_c = target
            return BoostStep(target, True, f"boost {setpoint_c:g} -> {target:g} C")
        if setpoint_c is not None:
            if _same(setpoint_c, boost.boosted_c):
                self._confirmed = True
            elif self._confirmed or not _same(setpoint_c, boost.base_c):
                return self._end_by_user(setpoint_c)
        why = None
        if not on:
            why = "surplus ended"
        elif side is not boost.side:
            why = f"hvac mode now {side.value if side else 'neither heat nor cool'}"
        elif now_s - boost.since_s >= self.rules.max_boost_s:
            why = f"boosted for max_boost_s ({self.rules.max_boost_s:g} s)"
            self._resting = f"{why}: no new boost until the surplus has gone"
        if why is not None:
            self.boost = None
            self.pending_c = boost.base_c
            return BoostStep(boost.base_c, False, f"restore {boost.base_c:g} C ({why})")
        held_s = now_s - boost.since_s
        return BoostStep(
            self.pending_c,
            True,
            f"boost {boost.base_c:g} -> {boost.boosted_c:g} C for {held_s:.0f} s",
        )

    def _end_by_user(self, setpoint_c: float) -> BoostStep:
        """The user set `setpoint_c` during the boost: it is the base now; nothing to write."""
        self.boost = None
        self.pending_c = None
        self._resting = (
            f"setpoint changed to {setpoint_c:g} C by the user while boosting: the new base; "
            "no new boost until the surplus has gone"
        )
        return BoostStep(None, False, self._resting, self._resting)
