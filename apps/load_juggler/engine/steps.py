"""Loads that take only some currents: a staged heater's steps (`Load.steps_a`).

A staged load (several switched elements) cannot draw any current between its min and max,
only the per-phase currents of its steps. The allocation hands out current in the usual way
and rounds a stepped load's share DOWN to its largest step that fits (`floor_to_step`), where
it would round any other load down to 0.1 A; so a stepped load never holds more than the rows
allowed and never a current it cannot draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

#: Float noise tolerated when a value lands exactly on a step (A).
STEP_SLACK_A = 1e-7


def floor_to_step(steps_a: Sequence[float], value_a: float) -> float:
    """The largest of `steps_a` (ascending) not above `value_a`; 0.0 when none is."""
    best = 0.0
    for step in steps_a:
        if step > value_a + STEP_SLACK_A:
            break
        best = step
    return best


def steps_problem(steps_a: Sequence[float], min_a: float, max_a: float) -> str | None:
    """What is wrong with a load's steps (None when nothing): ascending, positive, from
    `min_a` to `max_a`."""
    if not steps_a:
        return None
    if any(step <= 0 for step in steps_a) or any(
        later <= earlier for earlier, later in pairwise(steps_a)
    ):
        return "must be positive and strictly ascending"
    if abs(steps_a[0] - min_a) > STEP_SLACK_A or abs(steps_a[-1] - max_a) > STEP_SLACK_A:
        return f"must run from min_a ({min_a:g}) to max_a ({max_a:g})"
    return None
