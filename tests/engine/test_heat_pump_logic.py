"""The SG Ready state rules and the climate boost logic, cycle by cycle (pure engine code)."""

from __future__ import annotations

import itertools

import pytest

from load_juggler.engine.climate_boost import (
    Boost,
    BoostRules,
    ClimateBoostLogic,
    Side,
    boosted_setpoint,
    side_of,
)
from load_juggler.engine.sg_ready import (
    RELAYS,
    SgReadyRules,
    SgReadyStates,
    SgState,
    state_of_relays,
    switch_order,
    wanted_state,
)
from load_juggler.engine.site_view import SiteView

RULES = SgReadyRules(expected_power_w=3000, force_export_w=2000, min_state_s=600)


def test_the_relay_table_is_the_sg_ready_labels() -> None:
    assert RELAYS == {
        SgState.BLOCK: (True, False),
        SgState.NORMAL: (False, False),
        SgState.RECOMMEND: (False, True),
        SgState.FORCE: (True, True),
    }
    assert state_of_relays(True, False) is SgState.BLOCK


@pytest.mark.parametrize(("start", "end"), list(itertools.permutations(SgState, 2)))
def test_no_switching_order_passes_through_block(start: SgState, end: SgState) -> None:
    relays = list(RELAYS[start])
    seen = []
    for relay in switch_order(RELAYS[start], RELAYS[end]):
        relays[relay - 1] = RELAYS[end][relay - 1]
        seen.append(state_of_relays(*relays))
    assert seen[-1] is end
    assert SgState.BLOCK not in seen[:-1]


@pytest.mark.parametrize(
    ("on", "managed", "view", "allow_block", "expected"),
    [
        (True, True, SiteView(4999, False), False, SgState.RECOMMEND),
        (True, True, SiteView(5000, False), False, SgState.FORCE),
        (True, True, None, False, SgState.RECOMMEND),
        (False, True, SiteView(0, True), True, SgState.BLOCK),
        (False, True, SiteView(0, True), False, SgState.NORMAL),
        (False, True, SiteView(0, False), True, SgState.NORMAL),
        (True, False, SiteView(9000, True), True, SgState.NORMAL),
        (False, False, SiteView(0, True), True, SgState.NORMAL),
    ],
)
def test_the_wanted_state(
    on: bool, managed: bool, view: SiteView | None, allow_block: bool, expected: SgState
) -> None:
    rules = SgReadyRules(3000, 2000, 600, allow_block)
    assert wanted_state(rules, on, managed, view) is expected


def test_every_state_is_held_min_state_s_but_the_first_change_is_free() -> None:
    states = SgReadyStates(RULES)
    assert states.step(0, SgState.RECOMMEND)[0] is SgState.RECOMMEND  # no hold before
    state, reason = states.step(599, SgState.NORMAL)
    assert state is SgState.RECOMMEND
    assert reason == "recommend_on held 599/600 s (min_state_s) before normal"
    assert states.step(600, SgState.NORMAL)[0] is SgState.NORMAL
    assert states.step(1000, SgState.FORCE)[0] is SgState.NORMAL


RULES_C = BoostRules(expected_power_w=1500, boost_c=1.5, comfort_min_c=19, comfort_max_c=24)


def test_the_boosted_setpoint_stays_within_comfort() -> None:
    assert boosted_setpoint(RULES_C, 21, Side.HEAT) == 22.5
    assert boosted_setpoint(RULES_C, 23, Side.HEAT) == 24
    assert boosted_setpoint(RULES_C, 24, Side.HEAT) is None
    assert boosted_setpoint(RULES_C, 25, Side.COOL) == 23.5
    assert boosted_setpoint(RULES_C, 19.5, Side.COOL) == 19
    assert boosted_setpoint(RULES_C, 19, Side.COOL) is None
    assert (side_of("heat"), side_of("Cool"), side_of("heat_cool"), side_of(None)) == (
        Side.HEAT,
        Side.COOL,
        None,
        None,
    )


def test_a_boost_until_the_command_ends_then_the_base_comes_back() -> None:
    logic = ClimateBoostLogic(RULES_C)
    assert logic.step(0, True, Side.HEAT, 21).write_c == 22.5
    logic.written()
    # Our write has not reached the entity yet: still 21 is no user's change.
    assert logic.step(5, True, Side.HEAT, 21).boosting
    assert logic.step(10, True, Side.HEAT, 22.5).write_c is None
    end = logic.step(15, False, Side.HEAT, 22.5)
    assert (end.write_c, end.boosting) == (21, False)
    assert "surplus ended" in end.reason


def test_the_user_wins_and_the_next_boost_waits_for_the_surplus_to_go() -> None:
    logic = ClimateBoostLogic(RULES_C)
    logic.step(0, True, Side.HEAT, 21)
    logic.written()
    logic.step(5, True, Side.HEAT, 22.5)
    step = logic.step(10, True, Side.HEAT, 23)
    assert (step.write_c, step.boosting, logic.boost) == (None, False, None)
    assert logic.rest(Side.HEAT, 23, SiteView(2000, False)) is not None
    assert logic.rest(Side.HEAT, 23, SiteView(1499, False)) is None


def test_max_boost_s_restores_and_rests() -> None:
    rules = BoostRules(1500, max_boost_s=600)
    logic = ClimateBoostLogic(rules)
    logic.step(0, True, Side.HEAT, 21)
    logic.written()
    assert logic.step(599, True, Side.HEAT, 22.5).boosting
    assert logic.step(600, True, Side.HEAT, 22.5).write_c == 21
    logic.written()
    assert "max_boost_s" in (logic.rest(Side.HEAT, 21, SiteView(3000, False)) or "")
    assert logic.step(605, True, Side.HEAT, 21).write_c is None


def test_a_stored_boost_reads_back_and_garbage_is_none() -> None:
    boost = Boost(21.0, 22.5, 100.0, Side.HEAT)
    assert Boost.from_dict(boost.as_dict()) == boost
    assert Boost.from_dict({"base_c": "x"}) is None
    assert Boost.from_dict({**boost.as_dict(), "side": "auto"}) is None
    assert Boost.from_dict([1, 2]) is None


def test_no_new_boost_while_the_base_has_not_been_written_back() -> None:
    logic = ClimateBoostLogic(RULES_C)
    logic.step(0, True, Side.HEAT, 21)
    logic.written()
    logic.step(5, True, Side.HEAT, 22.5)
    assert logic.step(10, False, Side.HEAT, 22.5).write_c == 21  # the call fails: not written
    again = logic.step(15, True, Side.HEAT, 22.5)  # sun again, the entity still shows 22.5
    assert (again.write_c, again.boosting, logic.boost) == (21, False, None)
    logic.written()
    assert logic.step(20, True, Side.HEAT, 21).write_c == 22.5  # from the user's 21 again
