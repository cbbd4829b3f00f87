"""The capacity tariff's running window: energy so far, the cap for the rest, new windows.

Numbers: limit 2500 W over 900 s, aimed at 97 %: a budget of 2425 W x 900 s = 2182500 Ws.
"""

from __future__ import annotations

import pytest

from load_juggler.engine.capacity import CapacityWindow, combined_cap_w


def test_the_cap_spreads_what_is_left_of_the_window_over_the_cycles_left():
    window = CapacityWindow(2500.0, 900.0)
    assert window.observe(0.0, 0.0).cap_w == pytest.approx(2425.0)
    # The 1000 W sample counts for the 100 s since the last one: 100000 Ws. The command made
    # now shows from the next sample on: 7 samples of 100 s are left, (2182500 - 100000) / 700.
    state = window.observe(100.0, 1000.0)
    assert state.energy_wh == pytest.approx(100000.0 / 3600.0)
    assert state.cap_w == pytest.approx(2975.0)
    # 4000 W for the next 100 s: 500000 Ws used, 6 samples left: 1682500 / 600.
    assert window.observe(200.0, 4000.0).cap_w == pytest.approx(1682500.0 / 600.0)


def test_a_cycle_that_lasts_into_the_next_window_is_held_to_the_limit():
    window = CapacityWindow(2500.0, 900.0)
    window.observe(0.0, 0.0)
    window.observe(450.0, 0.0)
    # Nothing used: 2182500 / 5 s would be 436500 W, but the command lasts about 445 s.
    assert window.observe(895.0, 0.0).cap_w == pytest.approx(2425.0)


def test_a_new_window_starts_empty_and_counts_the_whole_sample_that_opens_it():
    window = CapacityWindow(2500.0, 900.0)
    window.observe(850.0, 2000.0)
    # 2000 W over the 100 s since 850 counts here (cautious): 200000 Ws; 8 samples left.
    state = window.observe(950.0, 2000.0)
    assert state.window_start_s == 900.0
    assert state.energy_wh == pytest.approx(200000.0 / 3600.0)
    assert state.cap_w == pytest.approx((2182500.0 - 200000.0) / 800.0)


def test_export_counts_as_no_import_and_an_unknown_sample_as_the_last_known():
    window = CapacityWindow(2500.0, 900.0)
    window.observe(0.0, -3000.0)
    assert window.observe(100.0, None).energy_wh == 0.0
    window = CapacityWindow(2500.0, 900.0)
    window.observe(0.0, 1800.0)
    window.observe(100.0, None)
    assert window.observe(200.0, None).energy_wh == pytest.approx(1800.0 * 200.0 / 3600.0)


def test_an_overspent_window_leaves_no_grid_import():
    window = CapacityWindow(2500.0, 900.0)
    window.observe(0.0, 9000.0)
    assert window.observe(300.0, 9000.0).cap_w < 0  # 2700000 Ws > the whole budget


def test_the_lower_of_max_import_and_the_capacity_cap_wins():
    assert combined_cap_w(None, 3000.0) == 3000.0
    assert combined_cap_w(2000.0, 3000.0) == 2000.0
    assert combined_cap_w(5000.0, 3000.0) == 3000.0


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bad_limit_is_refused(bad):
    with pytest.raises(ValueError, match="capacity_limit_w"):
        CapacityWindow(bad)
