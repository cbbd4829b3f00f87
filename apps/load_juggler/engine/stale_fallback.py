"""The stale-grid fallback: while the grid sensor is stale, charging cars hold their minimum
where the last known headroom allows it, and everything else is off.

Without a grid reading nothing measured says a raise or a start is safe, and stopping a car
that charges costs it a pause; so only what already charges under our command keeps going,
and only at its minimum (DESIGN.md "Faults"). The controller asks the engine whether each
minimum fits; this module says who is held and what each load is commanded.
"""

from __future__ import annotations

from collections.abc import Mapping

from .control_types import LoadReading, LoadState
from .model import Decision, Load, LoadKind, Mode
from .targets import EPS_A, Target
from .timers import LoadMemory

#: Reason of every command, and of every allocation the fallback switched off.
REASON_STALE = "grid stale"


def charging_loads(
    loads: tuple[Load, ...],
    readings: Mapping[str, LoadReading | None],
    memory: Mapping[str, LoadMemory],
) -> set[str]:
    """Cars that charge now under our command: the only loads held while the grid is stale."""
    charging = set()
    for load in loads:
        mem = memory[load.id]
        reading = readings[load.id]
        if (
            reading is not None
            and reading.available
            and reading.connected
            and reading.drawing
            and load.kind is LoadKind.EVSE
            and mem.on
            and mem.mode is not Mode.OFF
        ):
            charging.add(load.id)
    return charging


def stale_targets(
    loads: tuple[Load, ...], charging: set[str], decision: Decision
) -> dict[str, Target]:
    """Each charging car at its minimum where `decision` (min-capped) fits it; others at 0."""
    targets = {}
    for load in loads:
        alloc = decision.loads.get(load.id)
        target_a = 0.0
        if (
            load.id in charging
            and alloc is not None
            and alloc.on
            and alloc.current_a >= load.min_a - EPS_A
        ):
            target_a = load.min_a
        targets[load.id] = Target(target_a, target_a, LoadState.STALE_FALLBACK, REASON_STALE)
    return targets
