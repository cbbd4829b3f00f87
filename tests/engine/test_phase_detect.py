"""Phase detection, grid CT inversion and lines in use, sample by sample (`engine.phase_detect`,
`engine.phases_in_use`): the issue's numbers worked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from load_juggler.engine.phase_detect import (
    CtInversion,
    PhaseScores,
    matching_phase,
    sample_weight,
)
from load_juggler.engine.phases_in_use import LinesInUse

PHASES = ("A", "B", "C")


def grid(a: float, b: float, c: float) -> dict[str, float]:
    return {"A": a, "B": b, "C": c}


def test_sample_weight_is_the_step_capped_at_15_over_5() -> None:
    assert sample_weight(20.0) == 3.0  # capped at 15 A
    assert sample_weight(-2.5) == 0.5
    assert sample_weight(15.0) == 3.0


def test_the_phase_that_moved_alone_with_the_load_matches() -> None:
    # 10 A step: tolerance 2 A (20 %); C moved 9.5, the others within 2 A of nothing.
    assert matching_phase(10.0, {"A": 1.5, "B": -0.5, "C": 9.5}) == "C"
    # B moved 3 A too: the house was not quiet enough to tell.
    assert matching_phase(10.0, {"A": 0.0, "B": 3.0, "C": 10.0}) is None
    # Two phases moved like the load: no single answer.
    assert matching_phase(10.0, {"A": 10.0, "B": 0.0, "C": 10.0}) is None
    # Small step: the tolerance is 0.3 A, C moved 0.5 A too many.
    assert matching_phase(1.0, {"A": 0.0, "B": 0.0, "C": 1.5}) is None


def swing(scores: PhaseScores, phase: str, steps: int, house: float = 5.0) -> None:
    """`steps` swings of 20 A seen on `phase` only (0 -> 20 -> 0 ...)."""
    draw = 0.0
    scores.observe(draw, grid(house, house, house))
    for _ in range(steps):
        draw = 20.0 - draw
        amps = {p: house + (draw if p == phase else 0.0) for p in PHASES}
        scores.observe(draw, amps)


def test_five_20_a_swings_reach_the_remap_score_four_do_not() -> None:
    scores = PhaseScores(PHASES)
    swing(scores, "C", 4)
    assert scores.scores == {"A": 0.0, "B": 0.0, "C": 12.0}
    swing(scores, "C", 1)
    verdict = scores.verdict()
    assert (verdict.phase, verdict.score_a) == ("C", 15.0)


def test_inconclusive_samples_halve_the_scores_only_above_10() -> None:
    scores = PhaseScores(PHASES)
    swing(scores, "C", 3)  # 9 points, the load at 20 A on C
    # -10 A while B rose 5 and C fell 5: inconclusive, but 9 <= 10: no decay.
    assert scores.observe(10.0, grid(5, 10, 20)) is None
    assert scores.scores["C"] == 9.0
    swing(scores, "C", 1)  # 12 points, at 20 A again
    assert scores.observe(10.0, grid(5, 10, 20)) is None
    assert scores.scores["C"] == 6.0


def test_a_candidate_needs_70_percent_of_the_score() -> None:
    scores = PhaseScores(PHASES, {"A": 3.0, "C": 6.0})  # C has 66.7 %
    assert scores.verdict().phase is None
    scores = PhaseScores(PHASES, {"A": 3.0, "C": 7.0})  # C has 70 %
    assert scores.verdict().phase == "C"


def test_a_missing_sample_breaks_the_chain() -> None:
    scores = PhaseScores(PHASES)
    scores.observe(0.0, grid(5, 5, 5))
    scores.observe(None, grid(5, 5, 25))
    assert scores.observe(20.0, grid(5, 5, 25)) is None  # compared with nothing
    assert scores.total == 0.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=32.0),
            st.tuples(*(st.floats(min_value=-0.29, max_value=0.29) for _ in range(3))),
        ),
        min_size=2,
        max_size=200,
    )
)
def test_a_correct_map_is_never_credited_elsewhere_under_house_noise(
    samples: list[tuple[float, tuple[float, float, float]]],
) -> None:
    # The load is on A; the house moves by less than the 0.3 A tolerance per cycle on every
    # phase. A always matches the load's change, so a sample either credits A or is
    # inconclusive: nothing can ever build up for B or C.
    scores = PhaseScores(PHASES)
    house = [8.0, 8.0, 8.0]
    for draw, noise in samples:
        house = [h + n for h, n in zip(house, noise, strict=True)]
        scores.observe(draw, grid(house[0] + draw, house[1], house[2]))
    assert scores.scores["B"] == 0.0 and scores.scores["C"] == 0.0


def test_ct_inversion_needs_10_of_the_last_15_significant_changes() -> None:
    ct = CtInversion()
    ct.observe(0.0, 10.0)
    loads, grid_total = 0.0, 10.0
    for n in range(9):
        loads += 6.0 if n % 2 == 0 else -6.0
        grid_total -= 6.0 if n % 2 == 0 else -6.0  # the grid moves the other way
        ct.observe(loads, grid_total)
    ct.observe(loads + 0.5, grid_total)  # not significant (< 1 A): no vote
    assert ct.votes == (9, 9) and not ct.inverted
    ct.observe(loads + 6.0, grid_total - 6.0)
    assert ct.votes == (10, 10) and ct.inverted


def test_ct_the_right_way_round_never_votes() -> None:
    ct = CtInversion()
    for n in range(30):
        amps = 16.0 * (n % 2)
        ct.observe(amps, 5.0 + amps)
    assert ct.votes == (0, 15) and not ct.inverted


def test_a_line_is_unused_after_3_low_readings_while_another_carries_4_a() -> None:
    lines = LinesInUse(3)
    assert lines.observe((0.0, 0.0, 0.0)) is False  # nothing carries: nothing learned
    assert lines.observe((3.9, 0.0, 0.0)) is False  # below 4 A: not yet
    assert lines.observe((16.0, 0.2, 0.1)) is False
    assert lines.observe((16.0, 0.2, 0.1)) is False
    assert lines.observe((16.0, 0.4, 0.6)) is True  # L2 low 3 times, L3 was at 0.6
    assert lines.in_use == (0, 2) and lines.label() == "L1 L3"
    lines.observe((16.0, 0.0, 0.0))
    lines.observe((16.0, 0.0, 0.0))
    assert lines.label() == "L1 L3"  # L3 low twice since its 0.6 A
    lines.observe((16.0, 0.0, 0.0))
    assert lines.label() == "L1"


def test_a_line_that_carries_again_is_in_use_from_that_reading() -> None:
    lines = LinesInUse(3, unused=(1, 2))
    assert lines.label() == "L1"
    assert lines.observe((16.0, 0.5, 0.0)) is True
    assert lines.label() == "L1 L2"
    assert lines.end_session() is True
    assert lines.label() == "L1 L2 L3"


def test_an_unknown_line_learns_nothing() -> None:
    lines = LinesInUse(3)
    for _ in range(5):
        lines.observe((16.0, None, 0.0))
    assert lines.label() == "L1 L2 L3"


@pytest.mark.parametrize("unused", [(0, 1, 2), (5,)])
def test_saved_lines_that_cannot_be_are_ignored(unused: tuple[int, ...]) -> None:
    assert LinesInUse(3, unused=unused).label() == "L1 L2 L3"
