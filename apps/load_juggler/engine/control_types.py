"""Inputs and outputs of the cycle controller (`engine.controller.Controller`).

The hub and the simulator both build a `Readings` each cycle, call `Controller.step`, and apply
the `Command`s it returns; nothing else decides. Raw readings may be missing (None) or NaN: the
controller smooths and holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from .capacity import CapacityState
from .deadline import ChargeGoal, DeadlinePlan
from .model import BatteryConfig, Circuit, Decision, InverterLimits, Load, Mode, Site, Snapshot

if TYPE_CHECKING:
    from .phase_watch import PhaseEvent


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
    # None = one cycle: the measured-overload guard cuts on the second consecutive cycle that
    # measures the same overload (one cycle lets a just-written cut reach the meter).
    overload_grace_s: float | None = None
    # Battery power, SoC and the import cap go stale like the grid after this long without a
    # valid value.
    sensor_stale_timeout_s: float = 300.0
    # Meter error allowed above a load's command before the excess counts as background.
    draw_tolerance_a: float = 1.0
    # Capacity tariff (see `capacity`): the highest average import allowed over any window of
    # `capacity_window_s`, aligned to the clock; None = no such tariff.
    capacity_limit_w: float | None = None
    capacity_window_s: float = 900.0


@dataclass(frozen=True)
class SiteConfig:
    """The static configuration of a site: what apps.yaml or a scenario declares (the
    simulated house that runs it is `sim.plant.SimulatedSite`)."""

    site: Site
    circuits: tuple[Circuit, ...]
    loads: tuple[Load, ...]
    settings: ControlSettings = ControlSettings()


@dataclass(frozen=True)
class Rest:
    """A connected device that wants no current now, as its adapter sees it, and why.

    `state` is `LoadState.FINISHED` (a car whose session ended), `LoadState.IDLE` (a connected
    charger without a session) or `LoadState.SATISFIED` (a switch on but drawing nothing). The
    controller gives such a load 0 A in the engine, so its reservation goes to the others; a
    satisfied switch stays switched on. The adapter ends the rest as soon as the device asks.
    """

    state: LoadState
    reason: str


@dataclass(frozen=True)
class LoadReading:
    """Live state of one load. `draw_a` is per load phase (L1..), None when unknown.

    `rest`, when set, says the device wants no current now (see `Rest`). `keeps_running`, when
    set, says why a running device goes on drawing whatever it is told for now (an SG Ready
    heat pump inside its `min_state_s`): the controller keeps it on, reserved, rather than give
    the current it still draws to other loads. `goal`, when set, carries the load's deadline
    and prices (see `deadline.ChargeGoal`).
    """

    connected: bool = True
    drawing: bool = True
    draw_a: tuple[float | None, ...] | None = None
    mode: Mode | None = None
    available: bool = True
    rest: Rest | None = None
    keeps_running: str | None = None
    goal: ChargeGoal | None = None


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
    # Measured per-site-phase current (A/B/C order) of circuits that have a meter; None or a
    # None entry = unavailable.
    circuit_a: dict[str, tuple[float | None, ...] | None] = field(default_factory=dict)
    # Measured power of circuits metered by power (W); None = unavailable.
    circuit_power_w: dict[str, float | None] = field(default_factory=dict)


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
    NOT_OBEYING = "not_obeying"
    FINISHED = "finished"
    IDLE = "idle"
    SATISFIED = "satisfied"
    #: A plug of a sequential charger unit while another plug holds the unit.
    WAITING_FOR_UNIT = "waiting_for_unit"


#: States a `Rest` may carry.
REST_STATES = frozenset({LoadState.FINISHED, LoadState.IDLE, LoadState.SATISFIED})


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
    """Site status; precedence when several apply: ERROR > OVERLOAD > GRID_STALE > OK."""

    OK = "ok"
    GRID_STALE = "grid_stale"
    OVERLOAD = "overload"
    ERROR = "error"


@dataclass(frozen=True)
class Overload:
    """One node phase measured above its limit this cycle.

    `node` is "site" or a circuit id, `phase` a site phase ("A".."C"), `over_for_s` how long
    the overload has been measured without a break (0 on the first cycle).
    """

    node: str
    phase: str
    measured_a: float
    limit_a: float
    over_for_s: float


@dataclass(frozen=True)
class CycleResult:
    """One cycle's outcome.

    `decision` is the engine decision whose allocations bound the commands (the second run when
    a load was held at its minimum), `snapshot` the filtered input it was made from; both are
    None in the ERROR state. `messages` carry what should be logged once (stale grid entered or
    left, engine error or recovery). `overloads` lists every node phase measured above its
    limit this cycle; `warnings` are lines to log at WARNING, each once per episode (a glitch
    reading with its raw value, a stale circuit meter, a load that stopped obeying).
    `plans` holds each deadline's plan, `mode_reasons` why a load runs in another mode than its
    own (a deadline, a price), `capacity` the capacity tariff's running window.
    """

    now_s: float
    status: SiteStatus
    commands: dict[str, Command]
    decision: Decision | None
    messages: tuple[str, ...] = ()
    snapshot: Snapshot | None = None
    overloads: tuple[Overload, ...] = ()
    warnings: tuple[str, ...] = ()
    #: What was learned of the wiring this cycle (`engine.phase_watch`): a load's real phase,
    #: a remap, a backwards grid meter, the lines a car uses.
    phase_events: tuple[PhaseEvent, ...] = ()
    plans: dict[str, DeadlinePlan] = field(default_factory=dict)
    mode_reasons: dict[str, str] = field(default_factory=dict)
    capacity: CapacityState | None = None


__all__ = [
    "REST_STATES",
    "BatteryConfig",
    "Circuit",
    "Command",
    "ControlSettings",
    "CycleResult",
    "InverterLimits",
    "LoadReading",
    "LoadState",
    "Overload",
    "Readings",
    "Rest",
    "SiteConfig",
    "SiteStatus",
]
