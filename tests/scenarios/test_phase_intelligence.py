"""Phase intelligence through the simulator (issue 11's "done when"): a mis-wired charger is
remapped, a noisy house with a right map is left alone, a backwards grid meter is reported, a
1-phase car on a 3-phase charger frees two phases; plus the scenario keys that make them."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from load_juggler.engine import phase_watch
from load_juggler.engine.errors import ConfigError
from load_juggler.sim.runner import RunResult, run
from load_juggler.sim.scenario import load_scenario, parse_scenario

from .noisy_house import noisy_house
from .running import DATA, series, total_overload_s

MISWIRED = DATA / "phase-miswired-charger.yaml"


def miswired(**car: Any) -> RunResult:
    """The mis-wired day with the car's entry changed by `car`."""
    import yaml

    data = yaml.safe_load(MISWIRED.read_text(encoding="utf-8"))
    data["loads"][0].update(car)
    data["loads"][0] = {k: v for k, v in data["loads"][0].items() if v is not None}
    return run(parse_scenario(data))


def without_phase_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The controller as it was before: it believes the configuration, learns nothing."""
    monkeypatch.setattr(phase_watch.PhaseWatch, "effective", lambda self, plant: plant)
    monkeypatch.setattr(phase_watch.PhaseWatch, "observe", lambda self, r, m: [])
    monkeypatch.setattr(phase_watch.PhaseWatch, "observe_lines", lambda self, r: [])


def test_a_miswired_charger_is_remapped_and_the_heater_stops_pausing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = run(load_scenario(MISWIRED))
    metrics = result.metrics
    remaps = metrics["phase_remaps"]["car"]
    assert len(remaps) == 1
    t_remap, before, after = remaps[0]
    assert (before, after) == (["A"], ["C"]) and t_remap <= 3600
    told = [(t, text) for t, text in metrics["notifications"]]
    # Told at score 6 first (what it seems and that it moves by itself at 15), then the remap.
    assert len(told) == 2 and told[0][0] < t_remap == told[1][0]
    assert "seems to draw on site phase C, not A" in told[0][1]
    assert "now allocated on C" in told[1][1]
    # From its first minutes on it decides exactly as on a site configured right
    # (phase_map: [C]): its first step showed on C, and from then on it had to fit on C too.
    right = miswired(phase_map=["C"], wired_phase_map=None)
    assert right.metrics["phase_remaps"]["car"] == [] and right.metrics["notifications"] == []
    late = [step for step in result.steps if step["t"] >= 120.0]
    assert late == [step for step in right.steps if step["t"] >= 120.0]
    assert metrics["overload_s"] == right.metrics["overload_s"]
    assert metrics["start_stops"] == right.metrics["start_stops"] == {"car": 1, "heater": 1}
    # Believing the configuration instead, the heater on C is cut by the guard again and
    # again, and C runs overloaded for far longer.
    without_phase_watch(monkeypatch)
    blind = run(load_scenario(MISWIRED))
    assert blind.metrics["start_stops"]["heater"] >= 10
    assert total_overload_s(blind.metrics) > 3 * total_overload_s(metrics)


def test_without_auto_the_miswired_charger_is_only_reported() -> None:
    result = miswired(phase_map=["A"])
    assert result.metrics["phase_remaps"]["car"] == []
    (told,) = result.metrics["notifications"]
    assert "set phase_map: [C] (or phase_map: auto)" in told[1]


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
@example(seed=3)
def test_a_right_map_in_a_noisy_house_is_never_remapped_nor_reported(seed: int) -> None:
    # A property over random seeds: two hours of 5 s cycles per seed here (about 2 s each);
    # tests/bench/bench_phase_noise.py runs a week per seed.
    result = run(parse_scenario(noisy_house(seed, 2 * 3600)), keep_steps=False, keep_series=False)
    assert result.metrics["notifications"] == []
    assert all(remaps == [] for remaps in result.metrics["phase_remaps"].values())
    assert result.metrics["start_stops"]["one"] >= 1  # the cars did charge


def test_an_inverted_grid_meter_is_reported_within_15_significant_changes() -> None:
    # The car ramps from 6 to 16 A in 1 A steps (3 A over three lines: significant) while the
    # backwards meter shows the grid falling by as much.
    result = run(
        parse_scenario(
            {
                "name": "backwards-ct",
                "duration_s": 600,
                "site": {"main_breaker_a": 25, "house_a": [2, 2, 2]},
                "loads": [{"id": "car", "min_a": 6, "max_a": 16}],
                "timeline": [{"t": 0, "faults": {"grid": "inverted"}}],
            }
        )
    )
    (told,) = result.metrics["notifications"]
    assert "reads backwards" in told[1] and "sensors.grid_invert" in told[1]
    # The car draws nothing at t=0, 6 A per line from t=5 (change 1), then 1 A more every
    # cycle (7 A at t=10 is change 2, ...): the 10th change of 10 is seen at t=50.
    assert told[0] == 50.0


def test_a_one_phase_car_on_a_three_phase_charger_lets_a_second_car_use_the_freed_phases() -> None:
    result = run(load_scenario(DATA / "phase-one-phase-car.yaml"))
    drive = series(result, "drive")
    # While the 1-phase car is on the garage charger, B carries only the house (2 A) and the
    # drive's car gets its max; with a 3-phase car from t=1200 it is 25 - 2 - 16 = 7 A.
    assert drive[600.0] == 16.0
    assert drive[1700.0] == 7.0
    assert total_overload_s(result.metrics) == 0.0
    steps = {step["t"]: step["grid_a"] for step in result.steps}
    assert steps[600.0] == [18.0, 18.0, 2.0]  # the garage car on L1 = A only


def test_the_plant_puts_a_miswired_load_and_a_partial_car_where_they_really_are() -> None:
    result = run(
        parse_scenario(
            {
                "name": "wiring",
                "duration_s": 300,
                "site": {"main_breaker_a": 32, "house_a": [0, 0, 0]},
                "loads": [
                    {
                        "id": "one",
                        "phases": 1,
                        "phase_map": ["A"],
                        "wired_phase_map": ["C"],
                        "min_a": 6,
                        "max_a": 6,
                    },
                    {"id": "two", "phases": 3, "car_lines": ["L2", "L3"], "min_a": 6, "max_a": 6},
                ],
            }
        )
    )
    # "one" draws 6 A on C; "two"'s car draws on L2 (B) and L3 (C) only.
    assert result.steps[-1]["grid_a"] == [0.0, 6.0, 12.0]


@pytest.mark.parametrize(
    ("load", "message"),
    [
        (
            {"phases": 1, "wired_phase_map": ["D"]},
            "key 'wired_phase_map' = ['D'] is invalid: must list 1 site phase(s) of A, B, C",
        ),
        (
            {"phases": 3, "car_phases": 4},
            "key 'car_phases' = 4 is invalid",
        ),
        (
            {"phases": 3, "car_phases": 2, "car_lines": ["L1"]},
            "key 'car_lines' = ['L1'] is invalid: must list 2 distinct lines of L1, L2, L3",
        ),
        (
            {"type": "plug", "power_w": 1000, "car_phases": 1},
            "key 'car_phases' = 1 is invalid: only a charger's car has phases; not a plug",
        ),
    ],
)
def test_bad_wiring_keys_are_refused_with_the_key(load: dict[str, Any], message: str) -> None:
    data = {"name": "bad", "site": {}, "loads": [{"id": "x", **load}]}
    with pytest.raises(ConfigError) as caught:
        parse_scenario(data)
    assert message in str(caught.value)


def test_grid_noise_is_seeded_and_only_an_inverted_grid_fault_is_allowed() -> None:
    def grid_of(seed: int) -> list[list[float]]:
        data = {
            "name": "noise",
            "duration_s": 60,
            "site": {"house_a": [5, 5, 5], "grid_noise_a": 0.5, "grid_noise_seed": seed},
            "loads": [],
        }
        return [step["grid_a"] for step in run(parse_scenario(data)).steps]

    assert grid_of(1) == grid_of(1) != grid_of(2)
    assert any(a != 5.0 for step in grid_of(1) for a in step)
    with pytest.raises(ConfigError, match="only the grid meter can read inverted"):
        parse_scenario(
            {
                "name": "x",
                "site": {},
                "loads": [],
                "timeline": [{"t": 0, "faults": {"solar": "inverted"}}],
            }
        )
