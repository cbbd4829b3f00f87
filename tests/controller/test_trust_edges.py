"""Edges of the trust rule that the cycle-level tests do not reach (found by mutation)."""

from __future__ import annotations

from load_juggler.engine.trust import (
    NOT_OBEYING_AFTER_S,
    SUSPECT_MEMORY_S,
    Obedience,
    trusted_draw,
)


def test_a_small_plug_below_one_amp_is_trusted_within_its_rating_plus_tolerance() -> None:
    # A 200 W plug on 230 V is allowed 0.87 A: its measured 0.9 A is its own, not house load;
    # 3 A is beyond 0.87 + 1 A, so only its rating counts.
    assert trusted_draw((0.9,), 200 / 230, 1.0) == (0.9,)
    assert trusted_draw((1.8,), 200 / 230, 1.0) == (1.8,)
    assert trusted_draw((3.0,), 200 / 230, 1.0) == (200 / 230,)


def test_a_draw_exactly_at_command_plus_tolerance_is_no_excess() -> None:
    obedience = Obedience()
    for now_s in (0.0, NOT_OBEYING_AFTER_S, 2 * NOT_OBEYING_AFTER_S):
        assert obedience.update(now_s, (11.0,), 10.0, 1.0) == (None, False)
    assert obedience.excess_since_s is None
    assert not obedience.suspect(2 * NOT_OBEYING_AFTER_S)


def test_an_unknown_draw_keeps_a_flagged_load_flagged_and_says_so() -> None:
    obedience = Obedience()
    obedience.update(0.0, (10.0,), 0.0, 1.0)
    assert obedience.update(NOT_OBEYING_AFTER_S, (10.0,), 0.0, 1.0) == (
        "draws 10.0 A, allowed 0.0 A",
        True,
    )
    assert obedience.update(NOT_OBEYING_AFTER_S + 5, None, 6.0, 1.0) == (
        "draw unknown, allowed 6.0 A",
        False,
    )
    assert obedience.flagged is True


def test_suspicion_ends_exactly_after_its_memory() -> None:
    obedience = Obedience()
    obedience.update(0.0, (10.0,), 0.0, 1.0)
    assert obedience.suspect(SUSPECT_MEMORY_S - 1)
    assert not obedience.suspect(SUSPECT_MEMORY_S)


def test_a_load_in_an_excess_episode_earns_no_trust_by_being_offered_more() -> None:
    obedience = Obedience()
    assert obedience.trusted_allowance_a(6.0) == 6.0  # no episode: the command in force
    obedience.update(0.0, (10.0,), 6.0, 1.0)
    assert obedience.trusted_allowance_a(6.0) == 6.0
    obedience.update(5.0, (10.0,), 0.0, 1.0)  # cut to 0, still drawing
    assert obedience.trusted_allowance_a(0.0) == 0.0
    obedience.update(10.0, (10.0,), 6.0, 1.0)  # offered 6 A again, still drawing 10 A
    assert obedience.trusted_allowance_a(6.0) == 0.0
    obedience.update(15.0, (6.0,), 6.0, 1.0)  # within its command: the episode is over
    assert obedience.trusted_allowance_a(6.0) == 6.0
