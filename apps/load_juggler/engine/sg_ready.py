"""SG Ready: the four operating states of a heat pump and when to go to each.

The SG Ready label (Bundesverband Waermepumpe) defines two relay contacts; the heat pump reads
them as:

| relay_1 | relay_2 | state        | the heat pump                                        |
|---------|---------|--------------|------------------------------------------------------|
| 1       | 0       | Block        | off (the utility's lock, at most 2 h at a time)      |
| 0       | 0       | Normal       | runs on its own controller                           |
| 0       | 1       | Recommend on | may raise its setpoints (uses cheap power if it can) |
| 1       | 1       | Force on     | raises its setpoints and runs                        |

The controller treats the heat pump as a switched load of `expected_power_w` in the app's mode:
its "on" (the surplus covers the expected power, after the start delay and the min off time)
is Recommend on, and Force on once the surplus also covers `force_export_w` on top. Block is
only chosen when allowed and the site is at its breaker or import cap. A compressor must not
be switched every few minutes, so every state is held for `min_state_s`, cuts included. A heat
pump held in a running state goes on drawing whatever it is told, so its reading says so
(`keeps_running`) and the controller keeps its expected power reserved until the hold ends:
a cut would otherwise hand the current it still draws to other loads for a cycle. What it draws
above that reaches the grid meter as house load (the meters are the truth).

Pure: no AppDaemon import. The app (`loads/sg_ready.py`) and the simulator use it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .site_view import SiteView


class SgState(StrEnum):
    """The SG Ready state, as published."""

    BLOCK = "block"
    NORMAL = "normal"
    RECOMMEND = "recommend_on"
    FORCE = "force_on"


#: (relay_1 on, relay_2 on) of each state, per the SG Ready table above.
RELAYS: dict[SgState, tuple[bool, bool]] = {
    SgState.BLOCK: (True, False),
    SgState.NORMAL: (False, False),
    SgState.RECOMMEND: (False, True),
    SgState.FORCE: (True, True),
}


def state_of_relays(relay_1: bool, relay_2: bool) -> SgState:
    """The state two relay contacts give."""
    for state, relays in RELAYS.items():
        if relays == (relay_1, relay_2):
            return state
    raise AssertionError("unreachable: the table covers all four combinations")


def switch_order(current: tuple[bool, bool], target: tuple[bool, bool]) -> tuple[int, ...]:
    """Which relays to switch (1, 2), in an order that never passes through Block on the way.

    Block is (1, 0): turning relay_1 on while relay_2 is still off, or relay_2 off while
    relay_1 is still on, would block the heat pump for a moment. So relay_2 goes on before
    relay_1 goes on, and relay_1 goes off before relay_2 goes off.
    """
    changes = [i for i in (1, 2) if current[i - 1] != target[i - 1]]
    if len(changes) < 2:
        return tuple(changes)
    relay_1_on = target[0]
    return (2, 1) if relay_1_on else (1, 2)


@dataclass(frozen=True)
class SgReadyRules:
    """What an SG Ready load is configured with (`config/kinds/sg_ready.py`)."""

    expected_power_w: float
    force_export_w: float = 2000.0
    min_state_s: float = 600.0
    allow_block: bool = False


def wanted_state(rules: SgReadyRules, on: bool, managed: bool, view: SiteView | None) -> SgState:
    """The state this cycle's command asks for.

    `on`: the controller has the load on (its expected power reserved). `managed`: the mode is
    not `off` and a hub decides (a heat pump left alone runs Normal). `view` None: no decision
    this cycle (nothing known of the surplus or the limits).
    """
    if not managed:
        return SgState.NORMAL
    if on:
        if view is not None and view.surplus_w >= rules.force_export_w + rules.expected_power_w:
            return SgState.FORCE
        return SgState.RECOMMEND
    if rules.allow_block and view is not None and view.at_limit:
        return SgState.BLOCK
    return SgState.NORMAL


class SgReadyStates:
    """The state in force, held at least `min_state_s` before any change."""

    def __init__(self, rules: SgReadyRules, state: SgState = SgState.NORMAL) -> None:
        self.rules = rules
        self.state = state
        self.since_s: float | None = None  # None: never switched here, so no hold yet

    def keeps_running(self, now_s: float) -> str | None:
        """Why the heat pump goes on running whatever it is told now (None: it may stop): a
        running state (Recommend or Force on) inside its `min_state_s`."""
        if self.state not in (SgState.RECOMMEND, SgState.FORCE) or self.since_s is None:
            return None
        held_s = now_s - self.since_s
        if held_s >= self.rules.min_state_s:
            return None
        return f"{self.state.value} held {held_s:.0f}/{self.rules.min_state_s:.0f} s (min_state_s)"

    def step(self, now_s: float, wanted: SgState) -> tuple[SgState, str]:
        """(the state to be in now, why); changes only after `min_state_s` in the last one."""
        if wanted is self.state:
            return self.state, f"{self.state.value}"
        if self.since_s is not None:
            held_s = now_s - self.since_s
            if held_s < self.rules.min_state_s:
                return self.state, (
                    f"{self.state.value} held {held_s:.0f}/{self.rules.min_state_s:.0f} s "
                    f"(min_state_s) before {wanted.value}"
                )
        self.state = wanted
        self.since_s = now_s
        return self.state, f"{self.state.value}"
