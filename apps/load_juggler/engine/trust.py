"""Trust only what a load was allowed: the feedback rule and the "not obeying" state.

The grid meter measures the house plus the managed loads; the engine subtracts each load's own
draw to find the background (everything it does not control). If a load draws more than it was
told to (switched on by hand, a stuck relay, a charger ignoring its profile, a meter still
showing the value before a cut) subtracting all of it would hide real current from the engine
and let the other loads fill the breaker past its rating. So per load and per phase, at most
the command in force on the device plus `ControlSettings.draw_tolerance_a` (meter error) is
subtracted; the rest stays in the background like any unmanaged load. A load commanded 0 has
no tolerance: all its draw is background. This rule applies in the cycle the excess appears.

Whether the load is reported `not_obeying` is a slower question: a meter that refreshes once
a minute still shows the old current for up to a minute after a cut, and that is not
disobedience. The state is set only once the excess has lasted `NOT_OBEYING_AFTER_S`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: Longer than a once-a-minute meter refresh plus a charger's ramp down and one cycle.
NOT_OBEYING_AFTER_S = 90.0
#: A load seen drawing above its command this recently is a suspect: the overload guard does
#: not count on its cut to relieve a breaker (it may ignore that one too).
SUSPECT_MEMORY_S = 300.0


def in_force_a(written_a: float, written_on: bool, ever_written: bool, rated_a: float) -> float:
    """Per-phase current the device was last told (its rated/max current before any write).

    Before the first command the device's setting is unknown; its configured maximum is what
    it could legitimately be drawing, so that much is trusted until the first write.
    """
    if not ever_written:
        return rated_a
    return written_a if written_on else 0.0


def trusted_draw(
    measured_a: Sequence[float], allowed_a: float, tolerance_a: float
) -> tuple[float, ...]:
    """The part of each phase's measured draw that may be subtracted from the grid reading.

    `measured_a` is already clamped at 0 by the controller (a negative draw is no draw).
    """
    if allowed_a <= 0:
        return tuple(0.0 for _ in measured_a)
    # Within the tolerance the meter's own value counts (meter error); above it only the
    # command does. Counting command + tolerance for a meter still showing the current before
    # a cut would hand the tolerance to the loads every cycle until the meter catches up.
    return tuple(amps if amps <= allowed_a + tolerance_a else allowed_a for amps in measured_a)


def excess_a(measured_a: Sequence[float], allowed_a: float, tolerance_a: float) -> float:
    """Largest amount by which a phase draws more than allowed plus the tolerance (0 if none)."""
    return max((amps - allowed_a - tolerance_a for amps in measured_a), default=0.0)


@dataclass
class Obedience:
    """Tracks one load's excess draw over time; `update` says when it counts as not obeying."""

    excess_since_s: float | None = None
    flagged: bool = False
    last_excess_s: float | None = None
    trust_cap_a: float | None = None

    def update(
        self, now_s: float, measured_a: Sequence[float] | None, allowed_a: float, tol_a: float
    ) -> tuple[str | None, bool]:
        """(reason while not obeying else None, True on the cycle the episode is flagged).

        An unknown draw neither starts nor ends an episode: it says nothing either way.
        """
        if measured_a is None:
            return self._reason(measured_a, allowed_a), False
        if excess_a(measured_a, allowed_a, tol_a) <= 0:
            self.excess_since_s = None
            self.flagged = False
            return None, False
        self.last_excess_s = now_s
        if self.excess_since_s is None:
            self.excess_since_s = now_s
        began = False
        if not self.flagged and now_s - self.excess_since_s >= NOT_OBEYING_AFTER_S:
            self.flagged = True
            began = True
        return self._reason(measured_a, allowed_a), began

    def _reason(self, measured_a: Sequence[float] | None, allowed_a: float) -> str | None:
        if not self.flagged:
            return None
        if measured_a is None:
            return f"draw unknown, allowed {allowed_a:.1f} A"
        return f"draws {max(measured_a):.1f} A, allowed {allowed_a:.1f} A"

    def trusted_allowance_a(self, allowed_a: float) -> float:
        """How much of the draw may count as the load's own, given the command in force.

        During an excess episode, never more than the lowest command since it began: a load
        that ignored a cut (a charger ignoring its profile, a relay stuck on) earns no trust
        back by being offered current again, so its excess keeps counting as house load on
        its circuit and the site until it draws within its command. Call after `update`.
        """
        if self.excess_since_s is None:
            self.trust_cap_a = None
            return allowed_a
        if self.trust_cap_a is None or allowed_a < self.trust_cap_a:
            self.trust_cap_a = allowed_a
        return self.trust_cap_a

    def suspect(self, now_s: float) -> bool:
        """True when the load drew above its command within `SUSPECT_MEMORY_S`."""
        return self.last_excess_s is not None and now_s - self.last_excess_s < SUSPECT_MEMORY_S

    def reset(self) -> None:
        self.excess_since_s = None
        self.flagged = False
        self.last_excess_s = None
        self.trust_cap_a = None
