"""The measured-overload guard: the backstop when what the meters show exceeds a breaker.

Allocation keeps the *predicted* current under every limit, but a prediction can be wrong:
a plug switched on by hand, a charger ignoring its profile, a house step seen through a meter
that lags. The guard looks only at what the grid meter and the circuit meters measure this
cycle. Once a node phase has been above its limit for longer than the grace
(`ControlSettings.overload_grace_s`; None = it acts on the second consecutive cycle that
measures the overload, which lets a cut written last cycle reach the meter first), it cuts at
once by the measured excess, least urgent load first, whatever the timers say:

- order: the reverse of the engine's order of service (loads that do not draw first, then by
  mode urgency, priority and id, last served first);
- nothing touching an overloaded node phase rises while the overload is acted on;
- cuts already decided this cycle count toward the excess, each for no more than the load's
  own meter shows it drawing; a load that cannot go below its
  minimum goes to 0; a load commanded 0 gives nothing; a load that does not draw gives nothing
  but loses its offer, so it cannot start into the overload; a load seen drawing above its
  command lately (`trust.SUSPECT_MEMORY_S`), or that says it keeps running whatever it is
  told (`LoadReading.keeps_running`: an SG Ready hold), is cut but its cut is not counted on;
- the guard measures again next cycle, so a load that ignores its cut only delays the next one.

While a meter is blind (unavailable or glitching) during an episode, the last measured value
is assumed to last, up to `blind_timeout_s`: an overload does not end because the meter died.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .circuits import CircuitTree
from .control_types import LoadReading, Overload, SiteConfig
from .model import SITE_NODE, SITE_PHASES, Load, LoadKind
from .plausible import rated_a
from .targets import EPS_A, Target
from .timers import LoadMemory
from .trust import in_force_a

#: A node phase counts as overloaded above its limit by more than float noise.
OVER_EPS_A = 1e-6
#: A load cut by the guard may not rise above its cut value for this long: without it the
#: normal control would ramp it back into the same overload one cycle later.
GUARD_HOLD_S = 60.0
#: An overload that begins again within this long after the last one on the same node phase
#: ended is cut in its first cycle (an overload every other cycle never lasts two in a row).
RECUR_S = 60.0

NodePhase = tuple[str, str]


@dataclass
class _Episode:
    since_s: float
    seen_s: float
    measured_a: float
    cycles: int = 0
    #: Began within `RECUR_S` of the previous episode's end on the same node phase.
    recurring: bool = False


class OverloadWatch:
    """Remembers, per node phase, since when its measured current has been above the limit."""

    def __init__(self) -> None:
        self._episodes: dict[NodePhase, _Episode] = {}
        self._ended_s: dict[NodePhase, float] = {}

    def observe(
        self,
        now_s: float,
        limits_a: Mapping[NodePhase, float],
        measured_a: Mapping[NodePhase, float | None],
        blind_timeout_s: float,
    ) -> tuple[list[Overload], list[Overload]]:
        """(every node phase above its limit now, those whose episode begins this cycle)."""
        overloads: list[Overload] = []
        began: list[Overload] = []
        for key, limit_a in limits_a.items():
            value = measured_a.get(key)
            episode = self._episodes.get(key)
            if value is None:
                if episode is None or now_s - episode.seen_s >= blind_timeout_s:
                    self._episodes.pop(key, None)
                    continue
                value = episode.measured_a
            elif value <= limit_a + OVER_EPS_A:
                if self._episodes.pop(key, None) is not None:
                    self._ended_s[key] = now_s
                continue
            else:
                if episode is None:
                    ended_s = self._ended_s.get(key)
                    episode = self._episodes[key] = _Episode(now_s, now_s, value)
                    episode.recurring = ended_s is not None and now_s - ended_s <= RECUR_S
                episode.seen_s = now_s
                episode.measured_a = value
            episode.cycles += 1
            overload = Overload(
                node=key[0],
                phase=key[1],
                measured_a=value,
                limit_a=limit_a,
                over_for_s=now_s - episode.since_s,
            )
            overloads.append(overload)
            if episode.cycles == 1:
                began.append(overload)
        for key in set(self._episodes) - set(limits_a):
            del self._episodes[key]
        for key in [k for k, ended_s in self._ended_s.items() if now_s - ended_s > RECUR_S]:
            del self._ended_s[key]
        return overloads, began

    def acting(self, overloads: Sequence[Overload], grace_s: float | None) -> list[Overload]:
        """The overloads that have lasted past the grace and must be cut now."""
        result = []
        for overload in overloads:
            episode = self._episodes.get((overload.node, overload.phase))
            if episode is None:
                continue
            # None: the second consecutive cycle that measures it. An overload that comes back
            # soon after the last one ended (every other cycle, say) is the same trouble: it
            # is cut at once, or it would never be seen on two cycles in a row.
            due = episode.recurring or (
                episode.cycles >= 2 if grace_s is None else overload.over_for_s >= grace_s
            )
            if due:
                result.append(overload)
        return result


@dataclass(frozen=True)
class GuardLoad:
    """What the guard needs of one load. Currents are per load phase."""

    id: str
    service_key: tuple[int, int, int, str]  # (not drawing, urgency, priority, id)
    nodes: frozenset[str]  # its circuit path up to and including the site
    site_phases: tuple[str, ...]
    in_force_a: float  # the command on the device now
    target_a: float  # this cycle's command before the guard
    min_a: float
    plug: bool
    drawing: bool
    suspect: bool = False  # drew above its command lately: its cut is not counted on
    draw_a: tuple[float, ...] | None = None  # its meter's draw per load phase, None = unknown

    def relief_a(self, phase: str, before_a: float, after_a: float) -> float:
        """What lowering this load from `before_a` to `after_a` takes off `phase`.

        Only a drawing load that obeys gives anything, and no more than its meter shows it
        drawing: a car offered 16 A that takes 13 A gives nothing when cut to 14 A.
        """
        if not self.drawing or self.suspect:
            return 0.0
        total_a = 0.0
        for i, site_phase in enumerate(self.site_phases):
            if site_phase != phase:
                continue
            drawn_a = before_a
            if self.draw_a is not None and i < len(self.draw_a):
                drawn_a = min(before_a, self.draw_a[i])
            total_a += max(0.0, drawn_a - after_a)
        return total_a


def node_limits_a(plant: SiteConfig) -> dict[NodePhase, float]:
    """Current limit of every node phase the guard watches: the site's and each circuit's."""
    phases = SITE_PHASES[: plant.site.phases]
    limits = {(SITE_NODE, p): plant.site.main_breaker_a for p in phases}
    for circuit in plant.circuits:
        if circuit.limit_a is not None:
            for phase in phases:
                limits[(circuit.id, phase)] = circuit.limit_a
    return limits


def guard_load(
    now_s: float,
    load: Load,
    mem: LoadMemory,
    drawing: bool,
    nodes: frozenset[str],
    target_a: float,
    voltage_v: float,
) -> GuardLoad:
    """What the guard needs of `load`, from the controller's memory of it and its target."""
    return GuardLoad(
        id=load.id,
        service_key=(0 if drawing else 1, mem.mode.urgency, load.priority, load.id),
        nodes=nodes,
        site_phases=load.site_phases,
        in_force_a=in_force_a(
            mem.written_a, mem.written_on, mem.ever_written, rated_a(load, voltage_v)
        ),
        target_a=target_a,
        min_a=load.min_a,
        plug=load.kind is LoadKind.PLUG,
        drawing=drawing,
        suspect=mem.obedience.suspect(now_s),
        draw_a=mem.measured_a,
    )


def _floor_tenth(amps: float) -> float:
    return math.floor(amps * 10.0 + 1e-9) / 10.0


def plan_cuts(
    overloads: Sequence[Overload], loads: Sequence[GuardLoad]
) -> dict[str, tuple[float, str]]:
    """New command (and reason) of every load the guard lowers, bounded by its own target.

    Loads not in the result keep their target. Worked example: site phase A measured 35 A on a
    25 A breaker, a priority-1 car at 15 A and a priority-2 car at 16 A, both continuous on
    A: the 10 A excess comes off the priority-2 car first: 16 - 10 = 6 A, its min.
    """
    new = {ld.id: ld.target_a for ld in loads}
    reasons: dict[str, str] = {}
    for overload in sorted(overloads, key=lambda o: o.limit_a - o.measured_a):
        members = [
            (ld, ld.site_phases.count(overload.phase))
            for ld in loads
            if overload.node in ld.nodes and overload.phase in ld.site_phases
        ]
        reason = (
            f"measured overload {overload.node} phase {overload.phase}: "
            f"{overload.measured_a:.1f}/{overload.limit_a:.1f} A"
        )
        planned_a = 0.0
        for ld, _count in members:
            if new[ld.id] > ld.in_force_a:
                new[ld.id] = ld.in_force_a
                reasons[ld.id] = reason
            planned_a += ld.relief_a(overload.phase, ld.in_force_a, new[ld.id])
        remaining_a = overload.measured_a - overload.limit_a - planned_a
        for ld, count in sorted(members, key=lambda m: m[0].service_key, reverse=True):
            if remaining_a <= OVER_EPS_A:
                break
            current_a = new[ld.id]
            if current_a <= OVER_EPS_A:
                continue
            cut_a = 0.0
            if ld.drawing and not ld.plug:
                wanted_a = current_a - remaining_a / count
                if wanted_a >= ld.min_a - OVER_EPS_A:
                    cut_a = max(ld.min_a, _floor_tenth(wanted_a))
            remaining_a -= ld.relief_a(overload.phase, current_a, cut_a)
            new[ld.id] = cut_a
            reasons[ld.id] = reason
    return {load_id: (new[load_id], reason) for load_id, reason in reasons.items()}


def node_name(node: str) -> str:
    """A node as a log line names it: the site or a circuit by id."""
    return "site" if node == SITE_NODE else f"circuit '{node}'"


def overload_line(overload: Overload) -> str:
    """The warning logged when a measured overload begins."""
    return (
        f"measured overload: {node_name(overload.node)} phase {overload.phase} carries "
        f"{overload.measured_a:.1f} A, limit {overload.limit_a:.1f} A"
    )


def guard_targets(
    now_s: float,
    loads: tuple[Load, ...],
    readings: Mapping[str, LoadReading | None],
    targets: dict[str, Target],
    acting: Sequence[Overload],
    memory: Mapping[str, LoadMemory],
    tree: CircuitTree,
    voltage_v: float,
) -> dict[str, Target]:
    """The targets after the hold that follows an earlier cut and this cycle's cuts.

    A load cut lately stays at or below its cut value until its hold ends (`GUARD_HOLD_S`);
    the overloads `acting` now are cut by `plan_cuts`, and each cut starts a new hold.
    """
    targets = dict(targets)
    for load in loads:
        mem = memory[load.id]
        if mem.guard_until_s is None or now_s >= mem.guard_until_s:
            mem.guard_until_s = None
            continue
        if targets[load.id].target_a > mem.guard_cap_a + EPS_A:
            left_s = mem.guard_until_s - now_s
            reason = f"held after a measured overload ({left_s:.0f} s left)"
            targets[load.id] = targets[load.id].capped(mem.guard_cap_a, reason)
    if not acting:
        return targets
    guard_loads = []
    for load in loads:
        reading = readings[load.id]
        drawing = reading is not None and bool(reading.available) and bool(reading.drawing)
        nodes = frozenset(tree.path(load.circuit))
        target_a = targets[load.id].target_a
        entry = guard_load(now_s, load, memory[load.id], drawing, nodes, target_a, voltage_v)
        if reading is not None and reading.keeps_running is not None:
            entry = replace(entry, suspect=True)  # it runs on after a cut: not counted on
        guard_loads.append(entry)
    for load_id, (value_a, reason) in plan_cuts(acting, guard_loads).items():
        mem = memory[load_id]
        mem.guard_cap_a = value_a
        mem.guard_until_s = now_s + GUARD_HOLD_S
        targets[load_id] = replace(targets[load_id].capped(value_a, reason), pause=False)
    return targets
