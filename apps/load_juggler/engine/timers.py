"""Time rules that keep a car from endless start/stop.

The engine decides from one snapshot; these small state holders remember what happened over
the last minutes so that a passing cloud does not stop a car and a single sunny sample does not
start it.
All times are seconds on the caller's clock (`now_s`); nothing here reads a wall clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .model import Load, Mode
from .trust import Obedience


@dataclass
class StartDelay:
    """Counts how long the surplus has covered a load's minimum without a break.

    A start is a costly event for a car (contactor, negotiation), so it must be earned by a
    continuous run of good samples; any shortfall restarts the count.
    """

    ok_since_s: float | None = None

    def update(self, now_s: float, ok: bool) -> float:
        """Seconds of uninterrupted surplus up to now (0 when the current sample is short)."""
        if not ok:
            self.ok_since_s = None
            return 0.0
        if self.ok_since_s is None:
            self.ok_since_s = now_s
        return now_s - self.ok_since_s

    def reset(self) -> None:
        self.ok_since_s = None


@dataclass
class StopWindow:
    """Judges a shortfall on its share of time, not on an unbroken run.

    A timer that restarts whenever the surplus flickers back for one sample would never stop a
    car under broken clouds. Instead the window opens at the first short sample, accumulates
    short and total time, and closes (forgets) only once good time outweighs short time.
    The stop is due when the window has been open `delay_s` and short time is the majority.
    """

    since_s: float | None = None
    short_s: float = 0.0
    total_s: float = 0.0

    def update(self, now_s: float, dt_s: float, short: bool) -> None:
        weight_s = max(dt_s, 1e-3)
        if self.since_s is None:
            if short:
                self.since_s = now_s
                self.short_s = weight_s
                self.total_s = weight_s
            return
        self.total_s += weight_s
        if short:
            self.short_s += weight_s
        elif self.short_s * 2.0 <= self.total_s:
            self.reset()

    def open_s(self, now_s: float) -> float:
        """Seconds since the window opened (0 when closed)."""
        return 0.0 if self.since_s is None else now_s - self.since_s

    def due(self, now_s: float, delay_s: float) -> bool:
        return (
            self.since_s is not None
            and now_s - self.since_s >= delay_s
            and self.short_s * 2.0 > self.total_s
        )

    def reset(self) -> None:
        self.since_s = None
        self.short_s = 0.0
        self.total_s = 0.0


@dataclass
class LoadMemory:
    """Everything the controller carries for one load between cycles.

    `written_*` is what the device was last told (and so what it does now); `target_a` is the
    rate-limited value before the write deadband, kept so that slow ramps still add up when each
    step alone is smaller than the deadband. A session is one connected period of a car: the pause
    budget belongs to it. The draw, obedience and guard fields belong to `trust` and `guard`.
    """

    mode: Mode
    on: bool = False
    target_a: float = 0.0
    written_a: float = 0.0
    written_on: bool = False
    ever_written: bool = False
    on_since_s: float | None = None
    off_since_s: float | None = None
    pauses: int = 0
    connected: bool | None = None
    start: StartDelay = field(default_factory=StartDelay)
    stop: StopWindow = field(default_factory=StopWindow)
    # Last valid draw of the load's own meter and when it was read: an unknown sample keeps it
    # (within the grid stale timeout) rather than counting as 0.
    draw_held_a: tuple[float, ...] | None = None
    draw_seen_s: float | None = None
    measured_a: tuple[float, ...] | None = None  # this cycle's draw as believed (held or None)
    obedience: Obedience = field(default_factory=Obedience)
    # After a measured-overload cut the load stays at or below `guard_cap_a` until this time.
    guard_cap_a: float = 0.0
    guard_until_s: float | None = None

    def new_session(self) -> None:
        """A car arrived or left: its history no longer says anything about the next car."""
        self.pauses = 0
        self.off_since_s = None
        self.start.reset()
        self.stop.reset()


def carried_memory(
    memory: Mapping[str, LoadMemory], old_loads: Sequence[Load], new_loads: Sequence[Load]
) -> dict[str, LoadMemory]:
    """The memory a reload keeps: a load that keeps its id keeps its timers and live mode.

    A load whose configured mode changed takes the new configured mode; a new load starts
    fresh in its configured mode; a removed load's memory is dropped.
    """
    old_cfg = {ld.id: ld for ld in old_loads}
    carried: dict[str, LoadMemory] = {}
    for load in new_loads:
        mem = memory.get(load.id)
        if mem is None:
            mem = LoadMemory(mode=load.mode)
        elif old_cfg[load.id].mode != load.mode:
            mem.mode = load.mode
        carried[load.id] = mem
    return carried
