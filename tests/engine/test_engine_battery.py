"""SoC thresholds with 3 % hysteresis: min 20, target 80, full 98."""

from __future__ import annotations

import pytest

from load_juggler.engine.battery import battery_levels
from load_juggler.engine.model import BatteryConfig, BatteryLevels

CFG = BatteryConfig()
NONE_REACHED = BatteryLevels(False, False, False)
ALL_REACHED = BatteryLevels(True, True, True)


def test_no_battery_gives_none():
    assert battery_levels(50.0, None, None) is None


@pytest.mark.parametrize(
    ("soc", "expected"),
    [
        (10.0, BatteryLevels(False, False, False)),
        (20.0, BatteryLevels(True, False, False)),
        (79.9, BatteryLevels(True, False, False)),
        (80.0, BatteryLevels(True, True, False)),
        (98.0, BatteryLevels(True, True, True)),
    ],
)
def test_plain_comparison_without_previous(soc, expected):
    assert battery_levels(soc, CFG, None) == expected


def test_rising_needs_the_threshold_itself():
    # previously below all; 79.9 is still below target, 80.0 reaches it.
    assert battery_levels(79.9, CFG, BatteryLevels(True, False, False)).above_target is False
    assert battery_levels(80.0, CFG, BatteryLevels(True, False, False)).above_target is True


def test_falling_needs_threshold_minus_hysteresis():
    # target 80, hysteresis 3: 77.0 keeps "above target", 76.9 drops it.
    prev = BatteryLevels(True, True, False)
    assert battery_levels(77.0, CFG, prev).above_target is True
    assert battery_levels(76.9, CFG, prev).above_target is False


def test_min_threshold_hysteresis():
    # min 20: from above, 17.0 still counts, 16.9 does not; from below, 19.9 is still below.
    assert battery_levels(17.0, CFG, ALL_REACHED).above_min is True
    assert battery_levels(16.9, CFG, ALL_REACHED).above_min is False
    assert battery_levels(19.9, CFG, NONE_REACHED).above_min is False


def test_full_threshold_hysteresis():
    # full 98: 95.0 keeps "full", 94.9 drops it.
    assert battery_levels(95.0, CFG, ALL_REACHED).above_full is True
    assert battery_levels(94.9, CFG, ALL_REACHED).above_full is False


def test_custom_hysteresis():
    cfg = BatteryConfig(hysteresis_pct=10.0)
    assert battery_levels(71.0, cfg, ALL_REACHED).above_target is True
    assert battery_levels(69.0, cfg, ALL_REACHED).above_target is False


def test_unknown_soc_keeps_previous_or_assumes_nothing_reached():
    prev = BatteryLevels(True, True, False)
    assert battery_levels(None, CFG, prev) == prev
    assert battery_levels(float("nan"), CFG, prev) == prev
    assert battery_levels(None, CFG, None) == NONE_REACHED
