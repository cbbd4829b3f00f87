"""Data the engine takes in and gives back.

Everything here is plain, immutable data so that one snapshot can be replayed in tests, in the
simulator and in the hub with the same result. Currents are amps per phase, powers watts,
phases at the site are "A", "B", "C" and at a load "L1", "L2", "L3" (mapped by `phase_map`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SITE_PHASES: tuple[str, ...] = ("A", "B", "C")
LOAD_PHASES: tuple[str, ...] = ("L1", "L2", "L3")
SITE_NODE = "site"


class Mode(StrEnum):
    """How a load may be fed; see DESIGN.md "Control rules"."""

    CONTINUOUS = "continuous"
    SOLAR_PRIORITY = "solar_priority"
    SOLAR_ONLY = "solar_only"
    EXCESS = "excess"
    OFF = "off"

    @property
    def urgency(self) -> int:
        """Lower is served first; `off` is never served."""
        return _URGENCY[self]


_URGENCY = {
    Mode.CONTINUOUS: 0,
    Mode.SOLAR_PRIORITY: 1,
    Mode.SOLAR_ONLY: 2,
    Mode.EXCESS: 3,
    Mode.OFF: 99,
}


class Strategy(StrEnum):
    """How capacity is shared between loads of one urgency tier."""

    PRIORITY = "priority"
    SHARED = "shared"
    OPTIMIZED = "optimized"
    STRICT = "strict"


class Metering(StrEnum):
    """How the grid meter settles the phases, which decides where green power may be used.

    `net`: one meter sums the phases (most of Europe): export on one phase pays for import on
    another, so a one-phase load may use surplus exported on the other phases. `per_phase`:
    every phase is settled on its own, so green power is counted per phase (the inverter's
    output split evenly, minus that phase's house load).
    """

    NET = "net"
    PER_PHASE = "per_phase"


class LoadKind(StrEnum):
    """`evse` takes any current in [min_a, max_a]; `plug` is on/off at a fixed power."""

    EVSE = "evse"
    PLUG = "plug"


@dataclass(frozen=True)
class BatteryConfig:
    """The home battery's static limits; thresholds are state of charge in percent."""

    min_soc_pct: float = 20.0
    target_soc_pct: float = 80.0
    full_soc_pct: float = 98.0
    max_charge_w: float = 0.0
    max_discharge_w: float = 0.0
    hysteresis_pct: float = 3.0


@dataclass(frozen=True)
class BatteryLevels:
    """Which SoC thresholds count as reached; carried between cycles for hysteresis."""

    above_min: bool
    above_target: bool
    above_full: bool


@dataclass(frozen=True)
class InverterLimits:
    """AC output cap of the solar/battery inverter.

    `asymmetric: False` means the inverter feeds every phase equally, so a one-phase load can use
    at most 1/phases of its output.
    """

    max_w: float | None = None
    max_w_per_phase: float | None = None
    asymmetric: bool = True


@dataclass(frozen=True)
class Site:
    phases: int = 3
    voltage_v: float = 230.0
    main_breaker_a: float = 25.0
    max_import_w: float | None = None
    distribution: Strategy = Strategy.PRIORITY
    excess_threshold_w: float = 0.0
    allow_grid_charging: bool = True
    battery: BatteryConfig | None = None
    inverter: InverterLimits | None = None
    metering: Metering = Metering.NET


@dataclass(frozen=True)
class Circuit:
    """A breaker or sub-panel. `parent` None means directly under the site's main breaker."""

    id: str
    parent: str | None = None
    limit_a: float | None = None
    max_power_w: float | None = None


@dataclass(frozen=True)
class ChargeUnit:
    """A charger with several plugs (connectors) on one supply; every plug is a load of its own.

    `max_a` is the unit's limit per phase, shared by its plugs (None: only the plugs' own
    maxima). `concurrent`: the plugs may charge together and share `max_a` like a circuit;
    otherwise (sequential, most household units) at most one plug draws at a time. See
    `charge_units` for how the engine applies both.
    """

    id: str
    max_a: float | None = None
    concurrent: bool = False


@dataclass(frozen=True)
class Load:
    """One controllable load as the engine sees it in this cycle (config + live state)."""

    id: str
    kind: LoadKind = LoadKind.EVSE
    mode: Mode = Mode.CONTINUOUS
    priority: int = 5
    phases: int = 3
    phase_map: tuple[str, ...] = SITE_PHASES
    min_a: float = 6.0
    max_a: float = 16.0
    power_w: float | None = None
    circuit: str | None = None
    connected: bool = True
    drawing: bool = True
    draw_a: tuple[float, ...] | None = None
    #: Held at its min by a time rule (stop delay, min on time, pause budget): it keeps its
    #: place in the ranking and its min may come from any source, but it gets nothing more.
    held: bool = False
    #: The charger unit this load is one plug of (several loads share it), None for most loads.
    unit: ChargeUnit | None = None
    #: A staged load: the only per-phase currents (ascending, the first `min_a`, the last
    #: `max_a`) it may be given besides 0 (`steps.floor_to_step`); empty: any in [min, max].
    steps_a: tuple[float, ...] = ()
    #: `phase_map: auto` / `auto_remap: true`: the controller may move this one-line load to
    #: the site phase its draw shows on (`engine.phase_watch`); otherwise it only tells.
    auto_remap: bool = False

    @property
    def site_phases(self) -> tuple[str, ...]:
        """Site phase of each line of this load, in L1, L2, L3 order; may repeat a phase.

        A 2-phase load has two lines; a 3-phase charger on a 1-phase supply has three lines on
        phase A, so one line's current counts three times there.
        """
        return tuple(self.phase_map[: self.phases])

    @property
    def lines_per_phase(self) -> dict[str, int]:
        """How many of this load's lines land on each site phase it uses (repeats summed)."""
        counts: dict[str, int] = {}
        for phase in self.site_phases:
            counts[phase] = counts.get(phase, 0) + 1
        return counts


@dataclass(frozen=True)
class Snapshot:
    """One cycle's view of the site.

    `grid_a` is the signed per-phase grid current (export negative) and includes the managed
    loads' own draw (`Load.draw_a`), which the engine removes. Instead of `grid_a` a caller may
    give `house_a`, the consumption of everything that is not a managed load, and the engine nets
    solar and battery out of it. With neither, the engine assumes the worst (breaker fully used).
    `circuit_background_a` / `_w` come from circuit meters (see `circuits.build_rows`).
    """

    site: Site
    loads: tuple[Load, ...]
    circuits: tuple[Circuit, ...] = ()
    grid_a: tuple[float, ...] | None = None
    house_a: tuple[float, ...] | None = None
    solar_w: float = 0.0
    battery_soc_pct: float | None = None
    battery_power_w: float = 0.0
    battery_levels: BatteryLevels | None = None
    # Measured background of metered circuits: meter minus the managed draw behind it, per site
    # phase (A/B/C) and in watts. A circuit listed here is limited by its limit minus this
    # background; one not listed only by the loads configured on it.
    circuit_background_a: dict[str, tuple[float, ...]] = field(default_factory=dict)
    circuit_background_w: dict[str, float] = field(default_factory=dict)
    # Which plug holds each sequential charger unit this cycle (unit id -> load id), as the
    # controller chose it; a unit not listed goes to its first eligible plug by rank.
    unit_holders: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadAllocation:
    """What one load may use now, and the constraint that decided it."""

    id: str
    current_a: float
    on: bool
    reason: str
    phases_a: dict[str, float] = field(default_factory=dict)
    power_w: float = 0.0


@dataclass(frozen=True)
class NodeReport:
    """Per-phase use and headroom of the site or one circuit after allocation."""

    id: str
    limit_a: float | None
    used_a: dict[str, float]
    allocated_a: dict[str, float]
    headroom_a: dict[str, float]
    power_w: float = 0.0
    max_power_w: float | None = None


@dataclass(frozen=True)
class Decision:
    """The allocation plus the energy frame it was made in.

    `surplus_w`: what loads could take with no grid exchange and the battery idle;
    `solar_pool_w`: the part of it not owed to the battery; `green_w`: what green-only loads
    could share before any load took some (the pool, plus the battery's discharge potential
    while SoC is at or above target).
    """

    loads: dict[str, LoadAllocation]
    nodes: dict[str, NodeReport]
    background_a: tuple[float, ...]
    surplus_w: float
    solar_pool_w: float
    import_w: float
    battery_levels: BatteryLevels | None = None
    green_w: float = 0.0
