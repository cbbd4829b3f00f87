"""What a load that picks its own device state needs to know of this cycle's decision.

An SG Ready heat pump chooses between Recommend on and Force on from how much green power there
is, and may be blocked only while the site is at its limit; a climate boost ends its rest when
the surplus is gone. Both read one `SiteView`, made by the hub after each controller step and
by the simulator the same way, so the two decide alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from .control_types import CycleResult
from .model import SITE_NODE

#: A site phase within this of the main breaker after allocation counts as at the breaker.
AT_BREAKER_A = 0.5
#: Import within this of the import cap after allocation counts as at the cap.
AT_CAP_W = 50.0


@dataclass(frozen=True)
class SiteView:
    """`surplus_w`: what loads could take with no grid exchange and the battery idle (the
    engine's `Decision.surplus_w`; negative while importing). `at_limit`: after this cycle's
    allocation a site phase is within `AT_BREAKER_A` of the main breaker, the import within
    `AT_CAP_W` of the cap, or a site phase measured an overload."""

    surplus_w: float
    at_limit: bool


def site_view(result: CycleResult) -> SiteView | None:
    """The view of one controller step; None when no decision was made (error state)."""
    decision = result.decision
    if decision is None:
        return None
    node = decision.nodes.get(SITE_NODE)
    at_limit = any(o.node == SITE_NODE for o in result.overloads)
    if node is not None:
        if node.limit_a is not None and any(
            room <= AT_BREAKER_A for room in node.headroom_a.values()
        ):
            at_limit = True
        if node.max_power_w is not None and node.power_w >= node.max_power_w - AT_CAP_W:
            at_limit = True
    return SiteView(surplus_w=decision.surplus_w, at_limit=at_limit)
