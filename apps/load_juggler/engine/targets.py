"""One load's command-to-be as it passes through a cycle of the controller.

The time rules (`time_rules`) turn the engine's allocation into a `Plan` and then a `Target`;
the safety caps (blind meter, measured-overload guard) may only lower a target; the command
writer (`command_writer`) turns what is left into the command. Keeping these values in one
place lets every step say in its type what it may change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, auto

from .control_types import LoadState

#: Currents closer than this are equal (float noise of the allocation and the ramps).
EPS_A = 1e-6


class Action(Enum):
    """What the time rules want done with a load this cycle."""

    #: Take the engine's value (ramped on a raise).
    FOLLOW = auto()
    #: Stay at the minimum if the limits allow it: a stop delayed by a timer or the budget.
    HOLD = auto()
    #: Command 0.
    OFF = auto()
    #: Leave the device as it is, nothing reserved (a satisfied switch).
    KEEP = auto()


@dataclass(frozen=True)
class Target:
    """One load's command before the deadband: `ceiling_a` is what the limits allow now."""

    target_a: float
    ceiling_a: float
    state: LoadState
    reason: str
    pause: bool = False

    def capped(self, cap_a: float, reason: str) -> Target:
        """This target lowered to `cap_a` for `reason`; a cap to 0 pauses the load."""
        return replace(
            self,
            target_a=cap_a,
            ceiling_a=min(self.ceiling_a, cap_a),
            state=self.state if cap_a > EPS_A else LoadState.PAUSED,
            reason=reason,
        )


@dataclass(frozen=True)
class Plan:
    """What the time rules want for one load before the ceiling and the ramp are applied.

    `pause` marks a stop by us for lack of surplus: it counts against the pause budget.
    """

    action: Action
    state: LoadState
    reason: str
    pause: bool = False
