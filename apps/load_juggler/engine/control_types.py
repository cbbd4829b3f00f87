"""Inputs and outputs of the cycle controller (`engine.controller.Controller`).

The hub and the simulator both build a `Readings` each cycle, call `Controller.step`, and apply
the `Command`s it returns; nothing else decides. Raw readings may be missing (None) or NaN: the
controller smooths and holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from .model import BatteryConfig, Circuit, Decision, InverterLimits, Load, Mode, Site, Snapshot


@dataclass(frozen=True)
class ControlSettings:
    """Timers and filters of the controller; defaults are DESIGN.md's."""

    smoothing_alpha: float = 0.5
    grid_stale_timeout_s: float = 60.0
    ramp_up_a_per_s: float = 0.2
    start_delay_s: float = 60.0
    stop_delay_s: float = 180.0
    min_on_s: float = 300.0
    min_off_s: float = 180.0
    pause_budget: int = 3
    deadband_a: float = 0.5


@dataclass(frozen=True)
class Plant:
    """The static part of a site: what apps.yaml or a scenario declares."""

    site: Site
    circuits: tuple[Circuit, ...]
    loads: tuple[Load, ...]
    settings: ControlSettings = ControlSettings()


@dataclass(frozen=True)
class LoadReading:
    """Live state of one load. `draw_a` is per load phase (L1..), None when unknown."""

    connected: bool = True
    drawing: bool = True
    draw_a: tuple[float | None, ...] | None = None
    mode: Mode | None = None
    available: bool = True


@dataclass(frozen=True)
class Readings:
    """One cycle's raw sensor values; any value may be None or NaN (unavailable)."""

    grid_a: tuple[float | None, ...] | None = None
    solar_w: float | None = None
    battery_soc_pct: float | None = None
    battery_power_w: float | None = None
    voltage_v: float | None = None
    max_import_w: float | None = None
    loads: dict[str, LoadReading] = field(default_factory=dict)


class LoadState(StrEnum):
    """What a load is doing, as a user reads it on its entity."""

    CHARGING = "charging"
    ON = "on"
    PAUSED = "paused_by_us"
    WAITING = "waiting_for_surplus"
    HOLDING_MIN = "holding_at_min"
    STALE_FALLBACK = "stale_fallback"
    OFF = "off"
    DISCONNECTED = "disconnected"
    UNAVAILABLE = "unavailable"
    ERROR = "error"


@dataclass(frozen=True)
class Command:
    """What a load adapter applies. `write` is False inside the deadband: leave the device be."""

    load_id: str
    current_a: float
    on: bool
    write: bool
    state: LoadState
    reason: str


class SiteStatus(StrEnum):
    OK = "ok"
    GRID_STALE = "grid_stale"
    ERROR = "error"


@dataclass(frozen=True)
class CycleResult:
    """One cycle's outcome.

    `decision` is the engine decision whose allocations bound the commands (the second run when
    a load was held at its minimum), `snapshot` the filtered input it was made from; both are
    None in the ERROR state. `messages` carry what should be logged once (stale grid entered or
    left, engine error or recovery).
    """

    now_s: float
    status: SiteStatus
    commands: dict[str, Command]
    decision: Decision | None
    messages: tuple[str, ...] = ()
    snapshot: Snapshot | None = None


__all__ = [
    "BatteryConfig",
    "Circuit",
    "Command",
    "ControlSettings",
    "CycleResult",
    "InverterLimits",
    "LoadReading",
    "LoadState",
    "Plant",
    "Readings",
    "SiteStatus",
]
