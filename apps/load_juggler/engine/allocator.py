"""The capacity rows of one decision and the steps that hand current out of them.

The order of service these steps implement is described in `allocate`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .alloc_item import (
    EPS,
    GREEN_RULES,
    REASON_MAX,
    REASON_OFFERED,
    REASON_PLUG_ON,
    RESOLUTION_A,
    ROUNDING_SLACK_A,
    EnergyRule,
    Item,
    refused,
)
from .circuits import Capacity, LoadTerms
from .model import Strategy
from .water_fill import water_fill


class Allocator:
    """Holds the capacity rows and applies the strategies; one instance per decision."""

    def __init__(self, capacity: Capacity) -> None:
        self.capacity = capacity
        #: How many times a `strict` tier gave capacity back in step 2.
        self.released = 0

    # -- primitives -------------------------------------------------------------------------

    def ceiling(self, item: Item) -> tuple[float, str]:
        """Highest current `item` could have now, and the name of the row that stops it."""
        headroom = self.capacity.headroom
        value, name = headroom(item.terms.hard, item.current_a)
        green, green_name = math.inf, ""
        if item.rule in (EnergyRule.GREEN, EnergyRule.GREEN_ABOVE_MIN):
            green, green_name = headroom(item.terms.green, item.current_a)
            if item.rule == EnergyRule.GREEN_ABOVE_MIN and green < item.min_a:
                green = item.min_a
        elif item.rule == EnergyRule.EXCESS:
            # Export above the threshold must exist at all; then the load may run at its min
            # (fed by export below the threshold), never by battery or grid.
            green, green_name = headroom(item.terms.solar, item.current_a)
            above, above_name = headroom(item.terms.excess, item.current_a)
            if above <= EPS:
                green, green_name = 0.0, above_name
            elif max(above, item.min_a) < green:
                green, green_name = max(above, item.min_a), above_name
        if green < value:
            value, name = green, green_name
        if item.max_a <= value + EPS:
            value, name = item.max_a, REASON_PLUG_ON if item.plug else REASON_MAX
        return value, name

    def grant(self, item: Item, current_a: float) -> None:
        self.capacity.take(item.terms, current_a - item.current_a)
        item.current_a = current_a

    def try_min(self, item: Item) -> bool:
        """Give `item` its min (a plug: its whole current) if every row allows it."""
        value, name = self.ceiling(item)
        if value + EPS >= item.min_a:
            self.grant(item, item.min_a)
            item.running = True
            item.reason = name if item.plug else (REASON_MAX if item.min_a >= item.max_a else name)
            return True
        self.grant(item, 0.0)
        item.running = False
        item.reason = refused(item, name)
        return False

    def raise_to_ceiling(self, item: Item) -> None:
        """Raise an item that holds its min as far as the rows allow, at 0.1 A resolution."""
        if item.plug or item.frozen or not item.running:
            return
        value, name = self.ceiling(item)
        target = max(item.min_a, item.floor(value))
        if target > item.current_a + EPS and target <= value + ROUNDING_SLACK_A:
            self.grant(item, target)
            item.reason = name
        elif not item.raised:
            item.reason = name
        item.raised = True

    def release_to_min(self, item: Item) -> None:
        if item.current_a > item.min_a + EPS:
            self.grant(item, item.min_a)

    # -- step 1: minimums -------------------------------------------------------------------

    def start_tier(self, items: Sequence[Item], strategy: Strategy) -> None:
        """Give the tier's loads that run under `strategy` their min, in rank order.

        `optimized` and `strict` decide who runs by filling the tier in order as if it had
        everything left; the extras are then handed back so that less urgent loads' minimums
        come before them.
        """
        if strategy is Strategy.OPTIMIZED:
            for item in items:
                if self.try_min(item):
                    self.raise_to_ceiling(item)
        elif strategy is Strategy.STRICT:
            self.strict_pass(items)
        else:
            for item in items:
                self.try_min(item)
        for item in items:
            self.release_to_min(item)
            item.raised = False  # step 2 names the row that binds it there

    # -- step 2: the remainder --------------------------------------------------------------

    def raise_tier(self, items: Sequence[Item], strategy: Strategy) -> Item | None:
        """Raise the running loads of one tier; under `strict`, return the load others wait for."""
        if strategy is Strategy.STRICT:
            return self.strict_pass(items, defer=True)
        if strategy is Strategy.SHARED:
            self.water_fill(items)
        for item in items:
            self.raise_to_ceiling(item)
        return None

    def strict_pass(self, items: Sequence[Item], *, defer: bool = False) -> Item | None:
        """In order: each load to its ceiling; the first one short of its max blocks the rest.

        A load that cannot reach its max takes back what the loads after it hold; if it still
        falls short it is the blocker, and every load after it waits at 0. With `defer` (step
        2) the capacity taken back is not used at once: `released` counts up so that the
        caller lets the more urgent tiers have it first and then runs this tier again.
        """
        blocker: Item | None = None
        for n, item in enumerate(items):
            if blocker is not None:
                if item.running:
                    self.grant(item, 0.0)
                    item.running = False
                item.reason = f"strict: waiting for {blocker.load.id}"
                continue
            if self.strict_serve(item):
                continue
            later_running = [later for later in items[n + 1 :] if later.running]
            for later in later_running:
                self.grant(later, 0.0)
                later.running = False
            if later_running and defer:
                self.released += 1
                blocker = item
            elif not self.strict_serve(item):
                blocker = item
        return blocker

    def strict_serve(self, item: Item) -> bool:
        """Start (if needed) and raise one load under `strict`; True when it is at its max."""
        if not item.running and (item.frozen or not self.try_min(item)):
            return False
        self.raise_to_ceiling(item)
        return item.plug or item.current_a >= item.max_a - EPS

    def water_fill(self, items: Sequence[Item]) -> None:
        water_fill(self, items)

    # -- step 3: green power is owed in rank order ------------------------------------------

    def settle_green(self, ranked: Sequence[Item]) -> bool:
        """Lower the green-restricted loads that hold power no longer green, least urgent first.

        Loads ranked before them (a continuous car raised after the minimums) may have drawn
        the green power they were given in step 1; each keeps only what its rows still allow,
        or stops below its min. Going from the least urgent up, a lowered load gives its green
        power back before a more urgent one is checked. Returns whether any load was lowered.
        """
        lowered = False
        held_after: list[Item] = []  # held loads ranked after the one being checked
        for item in reversed(ranked):
            if item.load.held and item.current_a > 0:
                held_after.append(item)
            if item.rule not in GREEN_RULES or item.current_a <= 0:
                continue
            value, name = self.ceiling(item)
            if value >= item.current_a - ROUNDING_SLACK_A:
                continue
            if value < item.min_a - EPS and self.min_before_held(item, held_after):
                value = item.min_a
            floored = item.floor(value)
            if floored > value + ROUNDING_SLACK_A:
                floored -= RESOLUTION_A  # never for steps: a step is not above `value`
            if item.rule == EnergyRule.GREEN_ABOVE_MIN:
                target = max(item.min_a, floored)  # its min may come from anywhere
            elif item.plug or floored < item.min_a - EPS:
                target = 0.0
            else:
                target = max(item.min_a, floored)
            self.grant(item, target)
            item.running = target > 0
            item.reason = name if target > 0 else refused(item, name)
            item.frozen = True
            item.raised = False
            lowered = True
        return lowered

    def min_before_held(self, item: Item, held_after: Sequence[Item]) -> bool:
        """Whether `item`'s min fits in green power if the held loads ranked after it took
        their min from other sources.

        A held load keeps its rank: its min comes after the minimums of the loads ranked
        before it, from any source, so it must not stop a more urgent green load. Only the
        energy rows are given back for the check; the breaker rows stay taken.
        """
        if not held_after:
            return False
        lent = [(LoadTerms(energy=held.terms.energy), held.current_a) for held in held_after]
        for terms, current_a in lent:
            self.capacity.take(terms, -current_a)
        value, _ = self.ceiling(item)
        for terms, current_a in lent:
            self.capacity.take(terms, current_a)
        return value + EPS >= item.min_a

    # -- not drawing --------------------------------------------------------------------------

    def offer_min(self, item: Item) -> None:
        if self.try_min(item):
            item.reason = REASON_OFFERED
        else:
            item.reason = f"not drawing: {item.reason}"
