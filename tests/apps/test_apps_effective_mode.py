"""The order of the mode rules: pause > boost > set_mode > select changed in a window >
schedule > select > configured, each one tried with everything below it present."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

from load_juggler.config.schedule import ScheduleWindow
from load_juggler.engine.model import Mode
from load_juggler.loads.effective_mode import ModeInputs, effective_mode
from load_juggler.loads.overrides import LoadOverride
from load_juggler.loads.schedule import ActiveWindow

NIGHT = ActiveWindow(
    window=ScheduleWindow(frozenset(range(7)), time(22), time(6), Mode.SOLAR_PRIORITY),
    start_s=1000.0,
    end_s=30000.0,
)
EVERYTHING = LoadOverride(
    mode=Mode.EXCESS,
    mode_since_s=500.0,
    boost_since_s=400.0,
    boost_energy_wh=5000.0,
    paused_since_s=300.0,
)


def inputs(override: LoadOverride | None, changed_s: float | None = 800.0) -> ModeInputs:
    return ModeInputs(
        now_s=2000.0,
        configured=Mode.CONTINUOUS,
        select_entity="input_select.car",
        select_mode=Mode.SOLAR_ONLY,
        select_changed_s=changed_s,
        window=NIGHT,
        override=override,
    )


def test_each_rule_wins_over_those_below_it() -> None:
    choice = effective_mode(inputs(EVERYTHING))
    assert (choice.mode, choice.source) == (Mode.OFF, "pause")
    choice = effective_mode(inputs(replace(EVERYTHING, paused_since_s=None)))
    assert (choice.mode, choice.source) == (Mode.CONTINUOUS, "boost")
    assert choice.reason == "boost: continuous until 5 kWh delivered"
    mode_only = LoadOverride(mode=Mode.EXCESS, mode_since_s=500.0)
    choice = effective_mode(inputs(mode_only, changed_s=400.0))
    assert (choice.mode, choice.source) == (Mode.EXCESS, "command")
    # The select changed at 800, before the window began at 1000: the window rules.
    choice = effective_mode(inputs(None, changed_s=800.0))
    assert (choice.mode, choice.source) == (Mode.SOLAR_PRIORITY, "schedule")
    # Changed at 1500, after it began: the select rules, and says why.
    choice = effective_mode(inputs(None, changed_s=1500.0))
    assert (choice.mode, choice.source) == (Mode.SOLAR_ONLY, "select")
    assert "changed by hand at 1970-01-01T00:25:00+00:00 after schedule window" in choice.reason


def test_outside_windows_the_select_then_the_configured_mode() -> None:
    bare = ModeInputs(now_s=2000.0, configured=Mode.CONTINUOUS, select_mode=Mode.EXCESS)
    assert effective_mode(bare).mode is Mode.EXCESS
    none = ModeInputs(now_s=2000.0, configured=Mode.CONTINUOUS)
    choice = effective_mode(none)
    assert (choice.mode, choice.source, choice.reason) == (
        Mode.CONTINUOUS,
        "config",
        "mode continuous as configured",
    )


def test_a_set_mode_ends_at_its_time_and_when_the_select_is_changed_after_it() -> None:
    timed = LoadOverride(mode=Mode.OFF, mode_since_s=500.0, mode_until_s=2000.0)
    assert effective_mode(inputs(timed, changed_s=None)).source == "schedule"  # until: over
    still = replace(timed, mode_until_s=2001.0)
    assert effective_mode(inputs(still, changed_s=None)).source == "command"
    command = LoadOverride(mode=Mode.OFF, mode_since_s=1200.0)
    # Changed at 1500, after the command came at 1200 (and after the window began at 1000).
    assert effective_mode(inputs(command, changed_s=1500.0)).source == "select"
    # Changed at 1100: in the window, but before the command.
    assert effective_mode(inputs(command, changed_s=1100.0)).source == "command"
