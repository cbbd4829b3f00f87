"""The timer building blocks on their own."""

from __future__ import annotations

from load_juggler.engine.timers import StartDelay, StopWindow


def test_start_delay_counts_uninterrupted_surplus_and_restarts_on_a_dip() -> None:
    delay = StartDelay()
    assert delay.update(0.0, True) == 0.0
    assert delay.update(30.0, True) == 30.0
    assert delay.update(35.0, False) == 0.0
    assert delay.update(40.0, True) == 0.0
    assert delay.update(100.0, True) == 60.0


def _feed(window: StopWindow, pattern: str, start_s: float = 0.0, dt_s: float = 5.0) -> float:
    """Feed 's' (short) / 'o' (ok) samples; return the time the stop fell due, or -1."""
    t = start_s
    for char in pattern:
        window.update(t, dt_s, short=char == "s")
        if window.due(t, 180.0):
            return t
        t += dt_s
    return -1.0


def test_stop_window_fires_after_the_delay_under_steady_shortfall() -> None:
    assert _feed(StopWindow(), "s" * 40) == 180.0


def test_stop_window_is_not_reset_by_brief_recoveries() -> None:
    # Two short samples, one good, repeated: a reset-on-every-recovery timer never fires.
    assert _feed(StopWindow(), "sso" * 40) == 180.0


def test_stop_window_forgets_a_shortfall_once_good_time_outweighs_it() -> None:
    window = StopWindow()
    assert _feed(window, "s" * 12 + "o" * 11) == -1.0
    assert window.since_s == 0.0
    window.update(115.0, 5.0, short=False)
    assert window.since_s is None


def test_stop_window_never_fires_when_good_time_is_the_majority() -> None:
    assert _feed(StopWindow(), "soo" * 60) == -1.0
