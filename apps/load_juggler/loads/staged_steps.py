"""Which elements of a staged load to switch on for a command, respecting each element's own
min on and min off time.

Pure (no AppDaemon import): the app's device and the simulator's plant choose the same way.

The command allows a per-phase current; a step fits when its engine current (its busiest
line's watts / V, rounded up as the engine counts it) is not above that. Among the fitting
steps (and "all off") the one with the most power wins, unless it would switch on an element
still in its min off time or switch off one still in its min on time: such a step waits, and
keeping the elements as they are counts as a choice while they fit. When what is on no longer
fits, the cut is made at once whatever the min on times say (a breaker or the surplus needs
it); elements in their min off time still stay off.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..config.kinds.staged import StagedSettings
from ..config.load_config import step_current_a

#: Float noise allowed when a step's current equals the command (A).
FIT_SLACK_A = 1e-7


def fits(settings: StagedSettings, elements: frozenset[int], allowed_a: float, v: float) -> bool:
    """Whether `elements` on draw no line above what the engine counts for `allowed_a`."""
    if not elements:
        return True
    return step_current_a(max(settings.line_w(elements)), v) <= allowed_a + FIT_SLACK_A


def choose_elements(
    settings: StagedSettings,
    allowed_a: float,
    voltage_v: float,
    on_now: frozenset[int],
    switched_s: Mapping[int, float],
    now_s: float,
) -> frozenset[int]:
    """The elements to have on; `switched_s`: when we last switched each (absent: long ago)."""

    def too_soon(index: int, hold_s: float) -> bool:
        since = switched_s.get(index)
        return since is not None and now_s - since < hold_s

    def starts_too_soon(target: frozenset[int]) -> bool:
        return any(too_soon(i, settings.min_off_s) for i in target - on_now)

    def stops_too_soon(target: frozenset[int]) -> bool:
        return any(too_soon(i, settings.min_on_s) for i in on_now - target)

    candidates = [frozenset[int]()] + [
        step for step in settings.allowed if fits(settings, step, allowed_a, voltage_v)
    ]
    if fits(settings, on_now, allowed_a, voltage_v):
        candidates.append(on_now)
        usable = [c for c in candidates if not starts_too_soon(c) and not stops_too_soon(c)]
    else:
        usable = [c for c in candidates if not starts_too_soon(c)]  # a cut: min on yields
    # Most power; on a tie the set already on (no switching), then the fewest elements.
    return max(usable, key=lambda c: (settings.power_w(c), c == on_now, -len(c)))
