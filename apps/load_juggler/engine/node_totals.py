"""Current per site phase behind the site and every circuit: the one sum of loads over the tree.

A load's current counts on the site phase each of its lines lands on (a 3-phase charger on a
1-phase supply puts its current three times on phase A, `Load.lines_per_phase`), and in its own
circuit and in every ancestor up to the site. The allocation's node reports, the managed draw the
controller takes out of the meters, the hub's per-circuit entities and the simulator's breaker
currents are all this one sum, so the four cannot drift apart; what differs between them is only
which current a load contributes (allocated, metered, commanded, simulated).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from .circuits import CircuitTree
from .model import SITE_NODE, Load

#: A load's current as (site phase, amps) terms, one per phase or one per line.
PhaseTerms = Collection[tuple[str, float]]

#: One load's contribution: its circuit (None: directly under the site), its current on the
#: site phases, and its power in watts.
Share = tuple[str | None, PhaseTerms, float]


@dataclass(frozen=True)
class NodeTotals:
    """Per node (`SITE_NODE` and every circuit id): amps per site phase and watts."""

    amps: dict[str, dict[str, float]]
    watts: dict[str, float]


def uniform_terms(load: Load, current_a: float) -> PhaseTerms:
    """Every line carrying `current_a`: a phase with n of the load's lines carries n times it."""
    return tuple((phase, current_a * count) for phase, count in load.lines_per_phase.items())


def line_terms(load: Load, line_a: Sequence[float]) -> PhaseTerms:
    """Per-line currents (L1, L2, L3 order), each on the site phase its line lands on."""
    return tuple(zip(load.site_phases, line_a, strict=False))


def node_totals(shares: Iterable[Share], tree: CircuitTree, phases: Sequence[str]) -> NodeTotals:
    """Sum every share into its circuit and each ancestor, per site phase in `phases`.

    A term on a phase the site does not have is left out (a 1-phase site reports phase A only).
    Every node of `tree` is in the result, zero where no load contributes.
    """
    nodes = [SITE_NODE, *tree.circuits]
    amps = {node: dict.fromkeys(phases, 0.0) for node in nodes}
    watts = dict.fromkeys(nodes, 0.0)
    for circuit, terms, power_w in shares:
        for node in tree.path(circuit):
            per_phase = amps[node]
            for phase, current_a in terms:
                if phase in per_phase:
                    per_phase[phase] += current_a
            watts[node] += power_w
    return NodeTotals(amps, watts)
