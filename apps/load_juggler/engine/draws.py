"""A load's own meter as the controller believes it, and the managed draw behind each node.

The grid meter sees the house and the managed loads together; the managed loads' own meters
say how much of it is theirs. Those meters drop out, report nonsense or show a negative value
from a reversed clamp, so one function turns a raw draw into the value the rest of the cycle
uses (see `trust` for how much of it counts as the load's own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from .circuits import CircuitTree
from .model import Circuit, Load
from .node_totals import line_terms, node_totals
from .sample_memory import WarnOnce
from .smoothing import finite_or_none
from .timers import LoadMemory


def measured_draw(
    now_s: float,
    cfg: Load,
    raw: Any,
    mem: LoadMemory,
    max_a: float,
    hold_s: float,
    glitches: WarnOnce,
    warnings: list[str],
) -> tuple[float, ...] | None:
    """The load meter's draw per load phase: plausible, or the last valid one, or None.

    A negative sample (a meter's noise, a reversed clamp) is no draw: 0. A sample above `max_a`
    or below `-max_a` (`plausible.load_draw_max_a`) is a glitch, held like an unknown one,
    with one warning line per episode. An unknown draw keeps the last valid value for `hold_s`
    rather than counting as 0: a car whose meter drops out for a cycle still draws.
    """
    key = f"load '{cfg.id}' draw"
    draw: tuple[float, ...] | None = None
    if isinstance(raw, list | tuple) and len(raw) >= cfg.phases:
        samples = [finite_or_none(v) for v in raw[: cfg.phases]]
        if all(v is not None for v in samples):
            clamped = tuple(max(0.0, float(v)) for v in samples)  # type: ignore[arg-type]
            # A reversed clamp reads at most minus what the load can draw; beyond that the
            # number is garbage, and taking it as "no draw" would make the load's own current
            # look like house load and move capacity between loads on a bad reading.
            if max(clamped) > max_a or min(samples) < -max_a:  # type: ignore[type-var]
                glitches.begin(
                    key,
                    f"{key} reading {list(raw)!r} A is implausible (allowed -{max_a:.1f}.."
                    f"{max_a:.1f} A per phase): held like an unknown draw",
                    warnings,
                )
            else:
                glitches.end(key)
                draw = clamped
    if draw is not None:
        mem.draw_held_a = draw
        mem.draw_seen_s = now_s
        return draw
    if (
        mem.draw_held_a is not None
        and mem.draw_seen_s is not None
        and now_s - mem.draw_seen_s < hold_s
        and len(mem.draw_held_a) == cfg.phases
    ):
        return mem.draw_held_a
    return None


def draw_by_node(
    loads: Sequence[Load], tree: CircuitTree, phases: Sequence[str], voltage_v: float
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Managed draw (`Load.draw_a`, already trusted) behind the site and every circuit, per
    site phase and in watts; a load counts in its circuit and in every ancestor."""
    totals = node_totals(
        (
            (load.circuit, line_terms(load, load.draw_a), sum(load.draw_a) * voltage_v)
            for load in loads
            if load.draw_a is not None
        ),
        tree,
        phases,
    )
    return totals.amps, totals.watts


@dataclass(frozen=True)
class LoadMeterView:
    """What the loads' own meters say about circuits that have no meter of their own.

    Without a circuit meter the engine checks a circuit against its loads' allocations only, so
    a member drawing more than it was allowed (a plug switched on by hand, a charger ignoring
    its profile) would overload the circuit unseen: the trust rule moves that excess into the
    site's background, which protects the main breaker but not the sub-panel. The members'
    meters are a lower bound of what the circuit carries (unmanaged loads on it are unknown),
    so their excess becomes the circuit's background and their total its measured current.
    """

    background_a: dict[str, tuple[float, ...]]
    background_w: dict[str, float]
    measured_a: dict[tuple[str, str], float]


def unmetered_circuits(
    circuits: Sequence[Circuit],
    trusted_a: Mapping[str, Mapping[str, float]],
    measured_a: Mapping[str, Mapping[str, float]],
    metered: Set[str],
    phases: Sequence[str],
    voltage_v: float,
) -> LoadMeterView:
    """Background (members' draw above what they were allowed) and measured current (members'
    metered draw) of every circuit that is not in `metered`.

    `trusted_a` and `measured_a` are `draw_by_node` of the trusted and of the measured draws.
    """
    background_a: dict[str, tuple[float, ...]] = {}
    background_w: dict[str, float] = {}
    node_a: dict[tuple[str, str], float] = {}
    for circuit in circuits:
        cid = circuit.id
        if cid in metered:
            continue
        measured = measured_a.get(cid, {})
        trusted = trusted_a.get(cid, {})
        excess = tuple(max(0.0, measured.get(p, 0.0) - trusted.get(p, 0.0)) for p in phases)
        if any(amps > 0.0 for amps in excess):
            background_a[cid] = excess
            background_w[cid] = sum(excess) * voltage_v
        if circuit.limit_a is not None:
            for phase in phases:
                node_a[(cid, phase)] = measured.get(phase, 0.0)
    return LoadMeterView(background_a, background_w, node_a)
