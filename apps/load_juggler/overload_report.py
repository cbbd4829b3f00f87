"""Telling the user about measured overloads: one episode, one WARNING, one HA event.

The controller lists every node phase measured above its limit each cycle
(`CycleResult.overloads`) and cuts loads itself; what the hub adds is the report. An episode
begins on the first cycle with an overload and ends on the first cycle without one: the log gets
one WARNING when it begins and one line when it ends, and HA gets one `load_juggler_overload`
event when it begins (for a notification automation), not one every cycle.

Pure: no AppDaemon import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .engine.control_types import Overload

#: The HA event fired when an overload episode begins.
OVERLOAD_EVENT = "load_juggler_overload"


def overload_attrs(overloads: tuple[Overload, ...]) -> list[dict[str, Any]]:
    """The overloads as entity attributes / event data: node, phase, measured and limit amps."""
    return [
        {
            "node": o.node,
            "phase": o.phase,
            "measured_a": round(o.measured_a, 2),
            "limit_a": round(o.limit_a, 2),
            "over_for_s": round(o.over_for_s, 1),
        }
        for o in overloads
    ]


def describe(overloads: tuple[Overload, ...]) -> str:
    """`site phase A 27.5 A > 25 A, garage phase B 21 A > 20 A`."""
    return ", ".join(
        f"{o.node} phase {o.phase} {o.measured_a:.1f} A > {o.limit_a:g} A" for o in overloads
    )


@dataclass(frozen=True)
class OverloadNews:
    """What one cycle's overloads change: a line to log (and its level) and an event to fire."""

    line: str | None = None
    level: str = "WARNING"
    event: dict[str, Any] | None = None


class OverloadEpisodes:
    """Remembers whether an overload episode is under way and when it started."""

    def __init__(self, hub_name: str) -> None:
        self.hub_name = hub_name
        self.since_s: float | None = None
        self.peak: dict[tuple[str, str], float] = {}

    @property
    def active(self) -> bool:
        return self.since_s is not None

    def update(self, now_s: float, overloads: tuple[Overload, ...]) -> OverloadNews:
        if overloads:
            for o in overloads:
                key = (o.node, o.phase)
                self.peak[key] = max(self.peak.get(key, 0.0), o.measured_a)
            if self.since_s is not None:
                return OverloadNews()
            self.since_s = now_s
            return OverloadNews(
                line=(
                    f"overload measured: {describe(overloads)}; cutting managed loads until it "
                    "is gone"
                ),
                event={"hub": self.hub_name, "overloads": overload_attrs(overloads)},
            )
        if self.since_s is None:
            return OverloadNews()
        lasted_s = now_s - self.since_s
        peaks = ", ".join(
            f"{node} phase {phase} {amps:.1f} A"
            for (node, phase), amps in sorted(self.peak.items())
        )
        self.since_s = None
        self.peak = {}
        return OverloadNews(line=f"overload over after {lasted_s:g} s (peak {peaks})", level="INFO")
