"""Edges of the timer rules that the scenario-level tests do not reach (found by mutation)."""

from __future__ import annotations

from load_juggler.engine.model import Mode
from load_juggler.engine.timers import LoadMemory, StopWindow


def test_a_first_sample_without_elapsed_time_weighs_almost_nothing() -> None:
    # The first cycle has dt 0: one more second short, then 1.5 s good, and good time outweighs.
    window = StopWindow()
    window.update(0.0, 0.0, short=True)
    window.update(1.0, 1.0, short=True)
    window.update(2.5, 1.5, short=False)
    assert window.since_s is None


def test_a_closed_window_has_been_open_for_zero_seconds() -> None:
    assert StopWindow().open_s(50.0) == 0.0


def test_a_stop_needs_short_time_to_be_the_strict_majority() -> None:
    half = StopWindow(since_s=0.0, short_s=50.0, total_s=100.0)
    assert not half.due(200.0, 180.0)
    majority = StopWindow(since_s=0.0, short_s=50.5, total_s=100.0)
    assert majority.due(200.0, 180.0)
    assert not majority.due(179.0, 180.0)


def test_a_new_session_gives_the_next_car_its_whole_pause_budget() -> None:
    memory = LoadMemory(mode=Mode.SOLAR_ONLY, pauses=3, off_since_s=10.0)
    memory.stop.update(0.0, 5.0, short=True)
    memory.start.update(0.0, True)
    memory.new_session()
    assert memory.pauses == 0
    assert memory.off_since_s is None
    assert memory.stop.since_s is None
    assert memory.start.ok_since_s is None
