"""One load's working state while a decision is made, and the energy rule its mode gives it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from .circuits import LoadTerms
from .model import BatteryLevels, Load, Mode
from .steps import floor_to_step

EPS = 1e-9
RESOLUTION_A = 0.1
ROUNDING_SLACK_A = 1e-7

REASON_MAX = "max current"
REASON_OFFERED = "not drawing: min offered"
REASON_PLUG_ON = "fits"


class EnergyRule(Enum):
    """How a mode lets a load use energy: any source; only green power; at least its min from
    anywhere and green power on top (solar_priority, and a load held at its min); only the
    solar pool above the excess threshold, at least its min once it runs (excess below full
    SoC)."""

    ANY = "any"
    GREEN = "green"
    GREEN_ABOVE_MIN = "green_above_min"
    EXCESS = "excess"


GREEN_RULES = frozenset({EnergyRule.GREEN, EnergyRule.GREEN_ABOVE_MIN, EnergyRule.EXCESS})


def floor_to_resolution(current_a: float) -> float:
    """Round down to 0.1 A.

    The tiny epsilon keeps 15.99999999 (float noise for 16) from becoming 15.9; the result
    may then exceed the input by at most ROUNDING_SLACK_A, far below any meter's precision.
    """
    return math.floor(current_a / RESOLUTION_A + 1e-7) * RESOLUTION_A


@dataclass
class Item:
    """Working state of one eligible load during allocation."""

    load: Load
    mode: Mode
    plug: bool
    rule: EnergyRule
    min_a: float
    max_a: float
    terms: LoadTerms
    order: int
    current_a: float = 0.0
    reason: str = ""
    #: Lowered because a load ranked before it took its green power: not raised again.
    frozen: bool = False
    #: Holds its min (which may be 0 A): the remainder may raise it.
    running: bool = False
    #: Set once step 2 looked at it: later passes keep the reason of the row that bound it.
    raised: bool = False

    def floor(self, current_a: float) -> float:
        """`current_a` rounded down to what this load can be given: its largest step not
        above it (a staged load), its max when it reaches it, else 0.1 A resolution."""
        if self.load.steps_a:
            return floor_to_step(self.load.steps_a, current_a)
        if current_a >= self.max_a - ROUNDING_SLACK_A:
            return self.max_a  # a max off the 0.1 A grid (watts / V) is still reached
        return floor_to_resolution(current_a)

    @property
    def limit_terms(self) -> list[tuple[int, float]]:
        """Rows that stop this item from rising above its min."""
        if self.rule == EnergyRule.ANY:
            return self.terms.hard
        if self.rule == EnergyRule.EXCESS:
            return self.terms.hard + self.terms.solar + self.terms.excess
        return self.terms.hard + self.terms.green

    @property
    def touched_terms(self) -> list[tuple[int, float]]:
        return self.terms.hard + self.terms.energy


def refused(item: Item, name: str) -> str:
    return f"does not fit ({name})" if item.plug else f"below min current ({name})"


def by_tier(items: Sequence[Item]) -> list[list[Item]]:
    """Ranked items grouped by mode urgency, most urgent first."""
    tiers: list[list[Item]] = []
    for item in items:
        if tiers and tiers[-1][0].mode.urgency == item.mode.urgency:
            tiers[-1].append(item)
        else:
            tiers.append([item])
    return tiers


def energy_rule(mode: Mode, levels: BatteryLevels | None, *, held: bool) -> EnergyRule | None:
    """How `mode` may use energy given the battery levels; None for `off`.

    A held load (its time rules keep it at its min) takes its min from any source in its own
    place in the ranking, so it never goes before a more urgent load's minimum.

    The battery enters through the energy rows (its due charge below target, its discharge
    potential at or above target), so only `excess` depends on the levels here: at or above
    `full_soc` it behaves like solar_only.
    """
    if mode is Mode.OFF:
        return None
    if mode is Mode.CONTINUOUS:
        return EnergyRule.ANY
    if mode is Mode.SOLAR_PRIORITY or held:
        return EnergyRule.GREEN_ABOVE_MIN
    if mode is Mode.SOLAR_ONLY:
        return EnergyRule.GREEN
    if levels is not None and levels.above_full:
        return EnergyRule.GREEN
    return EnergyRule.EXCESS
